package stage

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Stage is a stored stage of any kind: the fields every stage has, and the
// kind's [Config].
type Stage struct {
	PK uuid.UUID
	// Name is unique across every kind of stage.
	Name   string
	Config Config
}

// Model returns the kind's model name, or "" when Config is nil.
func (s Stage) Model() ModelName {
	if s.Config == nil {
		return ""
	}
	return s.Config.ModelName()
}

// String is authentik's str(), e.g. "Stage my-stage" or
// "Duo Authenticator Setup Stage my-duo". It never shows secrets.
func (s Stage) String() string {
	if k, ok := Default.Lookup(s.Model()); ok && k.StrPrefix != "" {
		return k.StrPrefix + s.Name
	}
	return "Stage " + s.Name
}

// The keys every stage representation has. name is writable; the others
// are read-only and ignored on input.
var commonKeys = validate.Keys("pk", "name", "component", "verbose_name", "verbose_name_plural", "meta_model_name", "flow_set")

type nameField struct {
	Name string `json:"name" af:"required"`
}

// Decode applies body to cur as op (see [validate.Apply]), for the kind
// registered in r under cur's model; cur.Config must be set (for a create,
// to the kind's defaults: see [Registry.New]). The name and the kind's
// fields are decoded and the kind's field rules run. The store adds name
// uniqueness and reference checks.
func (r *Registry) Decode(cur Stage, body []byte, op validate.Op) (Stage, error) {
	in, err := validate.Object(body)
	if err != nil {
		return cur, err
	}
	k, ok := r.Lookup(cur.Model())
	if !ok {
		return cur, fmt.Errorf("stage: %w: %q", ErrUnknownKind, cur.Model())
	}
	next := cur
	errs := &validate.Error{}
	nameIn := map[string]json.RawMessage{}
	if raw, ok := in["name"]; ok {
		nameIn["name"] = raw
		delete(in, "name")
	}
	n, err := validate.ApplyMap(nameField{cur.Name}, nameIn, op, nil)
	next.Name = n.Name
	if !collect(errs, err) {
		return cur, err
	}
	// Decode onto a copy of the current config, through a pointer of the
	// kind's own type.
	ptr := k.New()
	if err := copyConfig(ptr, cur.Config); err != nil {
		return cur, err
	}
	cfg, err := applyConfig(ptr, in, op)
	if !collect(errs, err) {
		return cur, err
	}
	next.Config = cfg
	if !errs.Empty() {
		return next, errs
	}
	return next, nil
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

// New returns a Stage of kind m with the kind's defaults, or an error
// wrapping [ErrUnknownKind].
func (r *Registry) New(m ModelName) (Stage, error) {
	k, ok := r.Lookup(m)
	if !ok {
		return Stage{}, fmt.Errorf("stage: %w: %q", ErrUnknownKind, m)
	}
	return Stage{Config: deref(k.New())}, nil
}

// ApplyPatch applies an RFC 7396 merge patch to the writable
// representation of cur (a kind registered in [Default]) and validates the
// result. Read-only keys are ignored and unknown keys are errors.
func ApplyPatch(cur Stage, patch []byte) (Stage, error) {
	next, err := Default.Decode(cur, patch, validate.Patch)
	if err != nil {
		return next, err
	}
	if oe := validate.CheckObject(next.Config); oe != nil {
		return next, oe
	}
	return next, nil
}

// Encode returns the persisted JSON of s: its pk, name, model and every
// config field, secrets included. It is for storage only.
func (r *Registry) Encode(s Stage) ([]byte, error) {
	k, ok := r.Lookup(s.Model())
	if !ok {
		return nil, fmt.Errorf("stage: %w: %q", ErrUnknownKind, s.Model())
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"pk":"`...)
	b = append(b, s.PK.String()...)
	b = append(b, `","name":`...)
	name, err := json.Marshal(s.Name) // JSON escapes, not Go's
	if err != nil {
		return nil, err
	}
	b = append(b, name...)
	b = append(b, `,"model":"`...)
	b = append(b, s.Model()...) // a valid model name needs no escaping
	b = append(b, `","config":{`...)
	b, err = k.schema.AppendJSON(b, s.Config, true)
	if err != nil {
		return nil, err
	}
	return append(b, "}}"...), nil
}

// DecodeStored reads what [Registry.Encode] wrote.
func (r *Registry) DecodeStored(b []byte) (Stage, error) {
	var (
		st     Stage
		model  string
		config []byte
	)
	err := validate.Members(b, func(key string, val []byte) error {
		var err error
		switch key {
		case "pk":
			err = json.Unmarshal(val, &st.PK)
		case "name":
			err = json.Unmarshal(val, &st.Name)
		case "model":
			err = json.Unmarshal(val, &model)
		case "config":
			config = val
		}
		return err
	})
	if err != nil {
		return Stage{}, fmt.Errorf("stage: decoding stored stage: %w", err)
	}
	k, ok := r.Lookup(ModelName(model))
	if !ok {
		return Stage{}, fmt.Errorf("stage %s: %w: %q", st.PK, ErrUnknownKind, model)
	}
	ptr := k.New()
	if config == nil {
		config = []byte("{}")
	}
	if err := k.schema.Load(ptr, config); err != nil {
		return Stage{}, fmt.Errorf("stage %s: decoding %s config: %w", st.PK, model, err)
	}
	st.Config = deref(ptr)
	return st, nil
}

// View is a stage as the API shows it: its fields, the kind's component
// and names, and flow_set, the flows it is bound into.
type View struct {
	Stage
	Kind    Kind
	FlowSet []flow.Set
}

// Summary is a stage as a binding's stage_obj shows it: only the common
// fields (authentik's StageSerializer).
type Summary struct{ View }

// MarshalJSON renders the flat representation: the common fields, then the
// kind's fields in declaration order, without write-only ones.
func (v View) MarshalJSON() ([]byte, error) { return v.marshal(true) }

// MarshalJSON renders the common fields only.
func (s Summary) MarshalJSON() ([]byte, error) { return s.View.marshal(false) }

func (v View) marshal(withConfig bool) ([]byte, error) {
	fs := v.FlowSet
	if fs == nil {
		fs = []flow.Set{}
	}
	var buf bytes.Buffer
	head := struct {
		PK                uuid.UUID  `json:"pk"`
		Name              string     `json:"name"`
		Component         string     `json:"component"`
		VerboseName       string     `json:"verbose_name"`
		VerboseNamePlural string     `json:"verbose_name_plural"`
		MetaModelName     ModelName  `json:"meta_model_name"`
		FlowSet           []flow.Set `json:"flow_set"`
	}{v.PK, v.Name, v.Kind.Component, v.Kind.VerboseName, v.Kind.Plural(), v.Kind.Model, fs}
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(head); err != nil {
		return nil, err
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	if !withConfig || v.Kind.schema == nil || len(v.Kind.schema.Names()) == 0 {
		return b, nil
	}
	b = b[:len(b)-1] // drop the closing brace
	tail, err := v.Kind.schema.AppendJSON(nil, v.Config, false)
	if err != nil {
		return nil, err
	}
	if len(tail) > 0 {
		b = append(b, ',')
		b = append(b, tail...)
	}
	return append(b, '}'), nil
}
