package kind

import (
	"encoding/json"
	"fmt"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Decode applies body to an object of family f as op: the keys of the
// common struct B (name, ...) to base, every other key to cfg, whose model
// picks the kind (for a create, cfg holds the kind's defaults: see
// [Registry.Defaults]). The field types and field rules of both are
// checked and every problem is collected into one *validate.Error. The
// object rules are not run: see [validate.CheckObject].
func Decode[B any, C Config](r *Registry[C], f Family, base B, cfg C, body []byte, op validate.Op) (B, C, error) {
	in, err := validate.Object(body)
	if err != nil {
		return base, cfg, err
	}
	k, ok := r.Lookup(cfg.ModelName())
	if !ok {
		return base, cfg, f.unknown(cfg.ModelName())
	}
	bs, err := validate.SchemaOf(base)
	if err != nil {
		return base, cfg, err
	}
	errs := &validate.Error{}
	baseIn := map[string]json.RawMessage{}
	for _, n := range bs.Names() {
		if raw, ok := in[n]; ok {
			baseIn[n] = raw
			delete(in, n)
		}
	}
	nextBase, err := validate.ApplyMap(base, baseIn, op, nil)
	if !collect(errs, err) {
		return base, cfg, err
	}
	// Decode onto a copy of the current config, through a pointer of the
	// kind's own type.
	ptr := k.New()
	if err := copyInto(ptr, cfg); err != nil {
		return base, cfg, fmt.Errorf("%s: %w", f.Name, err)
	}
	if de := k.schema.Decode(ptr, in, op, f.Common); de != nil {
		if de.Err != nil {
			return base, cfg, de.Err
		}
		errs.Merge(de)
	}
	next := deref(ptr)
	if err := validate.Check(next, errs); err != nil {
		return base, cfg, err
	}
	return nextBase, next, errs.OrNil()
}

// collect merges a validation error into errs and reports whether err was
// nil or such an error; any other error is the caller's to return.
func collect(errs *validate.Error, err error) bool {
	if err == nil {
		return true
	}
	if ve, ok := err.(*validate.Error); ok {
		errs.Merge(ve)
		return true
	}
	return false
}

// Encode returns the stored form of an object of family f: its pk, its
// common fields, its model and every config field, secrets included:
// {"pk": …, <common fields>, "model": …, "config": {…}}. It is for
// storage only.
func Encode[B any, C Config](r *Registry[C], f Family, pk uuid.UUID, base B, cfg C) ([]byte, error) {
	k, ok := r.Lookup(cfg.ModelName())
	if !ok {
		return nil, f.unknown(cfg.ModelName())
	}
	bs, err := validate.SchemaOf(base)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"pk":"`...)
	b = append(b, pk.String()...)
	b = append(b, `",`...)
	if b, err = bs.AppendJSON(b, base, true); err != nil {
		return nil, err
	}
	b = append(b, `,"model":"`...)
	b = append(b, k.Model...) // a valid model name needs no escaping
	b = append(b, `","config":{`...)
	if b, err = k.schema.AppendJSON(b, cfg, true); err != nil {
		return nil, err
	}
	return append(b, "}}"...), nil
}

// Body returns a write body (a POST) holding every field of an object of
// family f built in Go: its common fields and its config's, secrets
// included, so that a Go caller's object is validated exactly as a JSON
// body is.
func Body[B any, C Config](r *Registry[C], f Family, base B, cfg C) ([]byte, error) {
	k, ok := r.Lookup(cfg.ModelName())
	if !ok {
		return nil, f.unknown(cfg.ModelName())
	}
	bs, err := validate.SchemaOf(base)
	if err != nil {
		return nil, err
	}
	b, err := bs.AppendJSON([]byte{'{'}, base, true)
	if err != nil {
		return nil, err
	}
	if len(k.schema.Names()) > 0 {
		if b, err = k.schema.AppendJSON(append(b, ','), cfg, true); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// Load reads what [Encode] wrote. The input need not be trusted: a
// malformed record is an error, never a panic.
func Load[B any, C Config](r *Registry[C], f Family, raw []byte) (uuid.UUID, B, C, error) {
	var (
		pk     uuid.UUID
		base   B
		cfg    C
		model  string
		config []byte
	)
	bs, err := validate.SchemaOf(base)
	if err != nil {
		return pk, base, cfg, err
	}
	// One pass over the record: the envelope's own members, and the
	// common fields into base.
	err = validate.Members(raw, func(key string, val []byte) error {
		var err error
		switch key {
		case "pk":
			err = json.Unmarshal(val, &pk)
		case "model":
			err = json.Unmarshal(val, &model)
		case "config":
			config = val
		default:
			_, err = bs.LoadMember(&base, key, val)
		}
		return err
	})
	if err != nil {
		return pk, base, cfg, fmt.Errorf("%s: decoding a stored %s: %w", f.Name, f.Name, err)
	}
	k, ok := r.Lookup(ModelName(model))
	if !ok {
		return pk, base, cfg, fmt.Errorf("%s %s: %w", f.Name, pk, f.unknown(ModelName(model)))
	}
	ptr := k.New()
	if config == nil {
		config = []byte("{}")
	}
	if err := k.schema.Load(ptr, config); err != nil {
		return pk, base, cfg, fmt.Errorf("%s %s: decoding %s config: %w", f.Name, pk, model, err)
	}
	return pk, base, deref(ptr), nil
}

// AppendConfig appends the representation of cfg's fields (without
// write-only ones, in declaration order) to obj, a JSON object, before
// its closing brace.
func AppendConfig[C Config](k Kind[C], obj []byte, cfg C) ([]byte, error) {
	if k.schema == nil || len(k.schema.Names()) == 0 || len(obj) < 2 {
		return obj, nil
	}
	tail, err := k.schema.AppendJSON(nil, cfg, false)
	if err != nil || len(tail) == 0 {
		return obj, err
	}
	b := obj[:len(obj)-1] // drop the closing brace
	if len(b) > 1 {
		b = append(b, ',')
	}
	b = append(b, tail...)
	return append(b, '}'), nil
}
