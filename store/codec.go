package store

import (
	"fmt"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// A codec turns one collection's objects into bytes and back, applies
// write bodies to them, and reads their fields by JSON name. The engine
// handles every object as an opaque value (a flow.Flow, a stage.Stage,
// ...) through its collection's codec.
type codec interface {
	// blank returns a new object of kind (the stage model for a kinded
	// collection, "" otherwise) holding its defaults.
	blank(kind string) (any, error)
	// decode applies body to cur as op and runs the field rules.
	decode(cur any, body []byte, op validate.Op) (any, error)
	// encode is the persisted JSON; load reads it back.
	encode(obj any) ([]byte, error)
	load(raw []byte) (any, error)
	// ids reads and withIDs sets the pk and the policy-binding-model id.
	ids(obj any) (pk, pbm uuid.UUID)
	withIDs(obj any, pk, pbm uuid.UUID) any
	// kind is the object's kind, "" for a collection without kinds.
	kind(obj any) string
	// schema is the field schema of kind: where its references are
	// declared.
	schema(kind string) (*validate.Schema, error)
	// value reads a field by JSON name (see validate.Schema.Value).
	value(obj any, field string) (any, bool)
	// refs are the object's reference fields with their values.
	refs(obj any) []validate.Ref
	// checkObject runs the object rules (validate.CheckObject).
	checkObject(obj any) *validate.Error
	// str is authentik's str(), used by used_by.
	str(obj any) string
	// defaultJSON is the JSON of field's default in kind: what
	// on_delete=set_default writes.
	defaultJSON(kind, field string) ([]byte, bool)
	// without removes id from the many-to-many field of obj.
	without(obj any, field string, id uuid.UUID) (any, error)
}

// plain is the codec of a collection of one Go struct type T, stored as
// its JSON encoding.
type plain[T any] struct {
	defaults func() T
	apply    func(cur T, body []byte, op validate.Op) (T, error)
	getIDs   func(T) (uuid.UUID, uuid.UUID)
	setIDs   func(*T, uuid.UUID, uuid.UUID)
	strOf    func(T) string
	sc       *validate.Schema // T's, looked up once (see withSchema)
}

// withSchema returns p with T's schema looked up.
func (p plain[T]) withSchema() plain[T] {
	s, err := validate.SchemaOf(new(T))
	if err != nil {
		panic(err) // the domain packages' types are checked by their tests
	}
	p.sc = s
	return p
}

func (p plain[T]) sch() *validate.Schema { return p.sc }

func (p plain[T]) blank(string) (any, error) { return p.defaults(), nil }

func (p plain[T]) decode(cur any, body []byte, op validate.Op) (any, error) {
	return p.apply(cur.(T), body, op)
}

// encode is the JSON of every field, by the schema (as json.Marshal would
// write it, faster).
func (p plain[T]) encode(obj any) ([]byte, error) {
	b := make([]byte, 0, 512)
	b = append(b, '{')
	b, err := p.sc.AppendJSON(b, obj, true)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

func (p plain[T]) load(raw []byte) (any, error) {
	var v T
	if err := p.sc.Load(&v, raw); err != nil {
		return nil, err
	}
	return v, nil
}

func (p plain[T]) ids(obj any) (uuid.UUID, uuid.UUID) { return p.getIDs(obj.(T)) }

func (p plain[T]) withIDs(obj any, pk, pbm uuid.UUID) any {
	v := obj.(T)
	p.setIDs(&v, pk, pbm)
	return v
}

func (p plain[T]) kind(any) string                         { return "" }
func (p plain[T]) schema(string) (*validate.Schema, error) { return p.sch(), nil }
func (p plain[T]) value(obj any, f string) (any, bool)     { return p.sch().Value(obj, f) }
func (p plain[T]) refs(obj any) []validate.Ref             { return p.sch().Refs(obj) }
func (p plain[T]) checkObject(obj any) *validate.Error     { return validate.CheckObject(obj) }
func (p plain[T]) str(obj any) string                      { return p.strOf(obj.(T)) }

func (p plain[T]) without(obj any, field string, id uuid.UUID) (any, error) {
	return p.sch().Without(obj, field, id)
}

func (p plain[T]) defaultJSON(_, field string) ([]byte, bool) {
	return p.sch().FieldJSON(p.defaults(), field)
}

var flowCodec = plain[flow.Flow]{
	defaults: flow.Defaults,
	apply:    flow.Decode,
	getIDs:   func(f flow.Flow) (uuid.UUID, uuid.UUID) { return f.PK, f.PolicyBindingModelPtrID },
	setIDs:   func(f *flow.Flow, pk, pbm uuid.UUID) { f.PK, f.PolicyBindingModelPtrID = pk, pbm },
	strOf:    flow.Flow.String,
}.withSchema()

var bindingCodec = plain[binding.Binding]{
	defaults: binding.Defaults,
	apply:    binding.Decode,
	getIDs:   func(b binding.Binding) (uuid.UUID, uuid.UUID) { return b.PK, b.PolicyBindingModelPtrID },
	setIDs:   func(b *binding.Binding, pk, pbm uuid.UUID) { b.PK, b.PolicyBindingModelPtrID = pk, pbm },
	strOf:    binding.Binding.String,
}.withSchema()

// kinds is the codec of a collection whose objects have a kind from a
// registry: stages. Its common field is name; every other field belongs
// to the kind's config.
type kinds struct{ reg *stage.Registry }

// stageKindField is the pseudo-field holding a stage's kind, for indexes.
const stageKindField = "meta_model_name"

func (k kinds) blank(kind string) (any, error) { return k.reg.New(stage.ModelName(kind)) }

func (k kinds) decode(cur any, body []byte, op validate.Op) (any, error) {
	return k.reg.Decode(cur.(stage.Stage), body, op)
}

func (k kinds) encode(obj any) ([]byte, error) { return k.reg.Encode(obj.(stage.Stage)) }
func (k kinds) load(raw []byte) (any, error)   { return k.reg.DecodeStored(raw) }

func (k kinds) ids(obj any) (uuid.UUID, uuid.UUID) { return obj.(stage.Stage).PK, uuid.Nil }

func (k kinds) withIDs(obj any, pk, _ uuid.UUID) any {
	st := obj.(stage.Stage)
	st.PK = pk
	return st
}

func (k kinds) kind(obj any) string { return string(obj.(stage.Stage).Model()) }

func (k kinds) schema(kind string) (*validate.Schema, error) {
	kd, ok := k.reg.Lookup(stage.ModelName(kind))
	if !ok {
		return nil, fmt.Errorf("%w: %q", stage.ErrUnknownKind, kind)
	}
	return kd.Schema(), nil
}

func (k kinds) value(obj any, f string) (any, bool) {
	st := obj.(stage.Stage)
	switch f {
	case "name":
		return st.Name, true
	case stageKindField:
		return string(st.Model()), true
	case "pk":
		return st.PK, true
	}
	s, err := k.schema(string(st.Model()))
	if err != nil {
		return nil, false
	}
	return s.Value(st.Config, f)
}

func (k kinds) refs(obj any) []validate.Ref {
	st := obj.(stage.Stage)
	s, err := k.schema(string(st.Model()))
	if err != nil {
		return nil
	}
	return s.Refs(st.Config)
}

func (k kinds) checkObject(obj any) *validate.Error {
	return validate.CheckObject(obj.(stage.Stage).Config)
}

func (k kinds) str(obj any) string {
	st := obj.(stage.Stage)
	if kd, ok := k.reg.Lookup(st.Model()); ok && kd.StrPrefix != "" {
		return kd.StrPrefix + st.Name
	}
	return "Stage " + st.Name
}

func (k kinds) defaultJSON(kind, field string) ([]byte, bool) {
	st, err := k.reg.New(stage.ModelName(kind))
	if err != nil {
		return nil, false
	}
	s, err := k.schema(kind)
	if err != nil {
		return nil, false
	}
	return s.FieldJSON(st.Config, field)
}

func (k kinds) without(obj any, field string, id uuid.UUID) (any, error) {
	st := obj.(stage.Stage)
	s, err := k.schema(string(st.Model()))
	if err != nil {
		return nil, err
	}
	cfg, err := s.Without(st.Config, field, id)
	if err != nil {
		return nil, err
	}
	st.Config = cfg.(stage.Config)
	return st, nil
}
