package store

import (
	"fmt"

	"github.com/authflow/authflow/internal/kind"
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
	// kindNames are the registered kinds of a collection with kinds,
	// nil otherwise; hasKind reports whether name is one of them.
	kindNames() []string
	hasKind(name string) bool
	// attrs are the fields of kind a write may set that a response
	// shows: neither read-only nor write-only, in declaration order.
	attrs(kind string) []string
	// baseStr is authentik's str() of obj as an object of the
	// collection's base model (a stage's "Stage x"), which a reference to
	// the collection rather than a kind yields; str for a collection
	// without kinds.
	baseStr(obj any) string
	// uniqueMessage is the message of a unique field of obj that is
	// taken, when obj's kind has its own; "" otherwise.
	uniqueMessage(obj any) string
	// withSeq returns obj with its sequence field set to n, or nil for a
	// codec that has no sequence.
	withSeq(obj any, n int64) any
	// mapSecrets returns obj with each of its secrets (the Secret
	// fields of its kind) replaced by fn's result: what sealing and
	// opening them at rest is (see sealing.go).
	mapSecrets(obj any, fn func(field string, v validate.Secret) (validate.Secret, error)) (any, error)
	// body renders an object built in Go as a create body of its kind,
	// so that it is validated exactly as a body is.
	body(obj any) (kind string, body []byte, err error)
}

// plain is the codec of a collection of one Go struct type T, stored as
// its JSON encoding.
type plain[T any] struct {
	defaults func() T
	apply    func(cur T, body []byte, op validate.Op) (T, error)
	getIDs   func(T) (uuid.UUID, uuid.UUID)
	setIDs   func(*T, uuid.UUID, uuid.UUID)
	strOf    func(T) string
	// setSeq, when set, sets the sequence field (see collection.seq).
	setSeq func(*T, int64)
	sc     *validate.Schema // T's, looked up once (see withSchema)
}

func (p plain[T]) withSeq(obj any, n int64) any {
	if p.setSeq == nil {
		return nil
	}
	v := obj.(T)
	p.setSeq(&v, n)
	return v
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

func (p plain[T]) body(obj any) (string, []byte, error) {
	if _, ok := obj.(T); !ok {
		return "", nil, fmt.Errorf("store: %T is not a %T", obj, *new(T))
	}
	b, err := p.encode(obj)
	return "", b, err
}

func (p plain[T]) kind(any) string { return "" }

func (p plain[T]) mapSecrets(obj any, fn func(string, validate.Secret) (validate.Secret, error)) (any, error) {
	return p.sch().MapSecrets(obj, fn)
}

func (p plain[T]) kindNames() []string { return nil }

func (p plain[T]) hasKind(string) bool { return false }

func (p plain[T]) uniqueMessage(any) string { return "" }

func (p plain[T]) baseStr(obj any) string { return p.str(obj) }

func (p plain[T]) attrs(string) []string { return shownWritable(p.sc) }

// shownWritable are the names of s that are neither read-only nor
// write-only.
func shownWritable(s *validate.Schema) []string {
	var out []string
	for _, n := range s.Names() {
		if !s.ReadOnly(n) && !s.WriteOnly(n) {
			out = append(out, n)
		}
	}
	return out
}

func (p plain[T]) schema(string) (*validate.Schema, error) { return p.sch(), nil }

func (p plain[T]) value(obj any, f string) (any, bool) { return p.sch().Value(obj, f) }

func (p plain[T]) refs(obj any) []validate.Ref { return p.sch().Refs(obj) }

func (p plain[T]) checkObject(obj any) *validate.Error { return validate.CheckObject(obj) }

func (p plain[T]) str(obj any) string { return p.strOf(obj.(T)) }

func (p plain[T]) without(obj any, field string, id uuid.UUID) (any, error) {
	return p.sch().Without(obj, field, id)
}

func (p plain[T]) defaultJSON(_, field string) ([]byte, bool) {
	return p.sch().FieldJSON(p.defaults(), field)
}

// registry is what the store needs of a kind family's registry
// (stage.Registry, policy.Registry): both are facades over internal/kind.
type registry[O any] interface {
	Kinds() []kind.Kind[kind.Config]
	Lookup(kind.ModelName) (kind.Kind[kind.Config], bool)
	New(kind.ModelName) (O, error)
	Decode(cur O, body []byte, op validate.Op) (O, error)
	Encode(O) ([]byte, error)
	DecodeStored([]byte) (O, error)
	Body(O) ([]byte, error)
}

// kinded is an object of a kind family: it names its kind.
type kinded interface{ Model() kind.ModelName }

// family is the codec of a collection whose objects have a kind from a
// registry (stages, policies): the common fields (name, ...) are the
// family's, every other field belongs to the kind's config. What differs
// between families is how to reach the parts of an object.
type family[O kinded] struct {
	reg    registry[O]
	pk     func(O) uuid.UUID
	setPK  func(*O, uuid.UUID)
	config func(O) any
	setCfg func(*O, any)
	// common reads a common field (pk and the kind pseudo-field are the
	// engine's).
	common func(O, string) (any, bool)
	strOf  func(O) string
	// baseOf is str() of the base model's object (stage: "Stage x").
	baseOf func(O) string
	// commonNames are the writable common fields (name, ...).
	commonNames []string
}

func (f family[O]) attrs(kind string) []string {
	out := append([]string(nil), f.commonNames...)
	if s, ok := f.schemaOf(kind); ok {
		out = append(out, shownWritable(s)...)
	}
	return out
}

func (f family[O]) body(obj any) (string, []byte, error) {
	o, ok := obj.(O)
	if !ok {
		return "", nil, fmt.Errorf("store: %T is not a %T", obj, *new(O))
	}
	if f.config(o) == nil {
		return "", nil, validate.FieldError(kindField, validate.MsgRequired)
	}
	b, err := f.reg.Body(o)
	if err != nil {
		return "", nil, fmt.Errorf("store: %w", err)
	}
	return f.kindOf(o), b, nil
}

func (f family[O]) withSeq(any, int64) any { return nil }

func (f family[O]) baseStr(obj any) string { return f.baseOf(obj.(O)) }

// kindField is the pseudo-field holding an object's kind, for indexes.
const kindField = "meta_model_name"

func (f family[O]) kindNames() []string {
	var out []string
	for _, k := range f.reg.Kinds() {
		out = append(out, string(k.Model))
	}
	return out
}

func (f family[O]) hasKind(name string) bool { _, ok := f.schemaOf(name); return ok }

// schemaOf is the schema of a kind's config.
func (f family[O]) schemaOf(name string) (*validate.Schema, bool) {
	k, ok := f.reg.Lookup(kind.ModelName(name))
	return k.Schema(), ok
}

func (f family[O]) uniqueMessage(obj any) string {
	k, _ := f.reg.Lookup(obj.(O).Model())
	return k.UniqueMessage
}

// kindOf is the kind of o.
func (f family[O]) kindOf(o O) string { return string(o.Model()) }

func (f family[O]) blank(name string) (any, error) { return f.reg.New(kind.ModelName(name)) }

func (f family[O]) decode(cur any, body []byte, op validate.Op) (any, error) {
	return f.reg.Decode(cur.(O), body, op)
}

func (f family[O]) encode(obj any) ([]byte, error) { return f.reg.Encode(obj.(O)) }

func (f family[O]) load(raw []byte) (any, error) { return f.reg.DecodeStored(raw) }

func (f family[O]) ids(obj any) (uuid.UUID, uuid.UUID) { return f.pk(obj.(O)), uuid.Nil }

func (f family[O]) withIDs(obj any, pk, _ uuid.UUID) any {
	o := obj.(O)
	f.setPK(&o, pk)
	return o
}

func (f family[O]) kind(obj any) string { return f.kindOf(obj.(O)) }

func (f family[O]) schema(kind string) (*validate.Schema, error) {
	s, ok := f.schemaOf(kind)
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", kind)
	}
	return s, nil
}

// objSchema is the schema of obj's kind.
func (f family[O]) objSchema(obj any) (O, *validate.Schema, bool) {
	o := obj.(O)
	s, ok := f.schemaOf(f.kindOf(o))
	return o, s, ok
}

func (f family[O]) value(obj any, field string) (any, bool) {
	o := obj.(O)
	switch field {
	case kindField:
		return f.kindOf(o), true
	case "pk":
		return f.pk(o), true
	}
	if v, ok := f.common(o, field); ok {
		return v, true
	}
	_, s, ok := f.objSchema(obj)
	if !ok {
		return nil, false
	}
	return s.Value(f.config(o), field)
}

func (f family[O]) refs(obj any) []validate.Ref {
	o, s, ok := f.objSchema(obj)
	if !ok {
		return nil
	}
	return s.Refs(f.config(o))
}

func (f family[O]) checkObject(obj any) *validate.Error {
	return validate.CheckObject(f.config(obj.(O)))
}

func (f family[O]) str(obj any) string { return f.strOf(obj.(O)) }

func (f family[O]) mapSecrets(obj any, fn func(string, validate.Secret) (validate.Secret, error)) (any, error) {
	o, s, ok := f.objSchema(obj)
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", f.kindOf(o))
	}
	cfg, err := s.MapSecrets(f.config(o), fn)
	if err != nil {
		return nil, err
	}
	f.setCfg(&o, cfg)
	return o, nil
}

func (f family[O]) defaultJSON(name, field string) ([]byte, bool) {
	o, err := f.reg.New(kind.ModelName(name))
	if err != nil {
		return nil, false
	}
	s, ok := f.schemaOf(name)
	if !ok {
		return nil, false
	}
	return s.FieldJSON(f.config(o), field)
}

func (f family[O]) without(obj any, field string, id uuid.UUID) (any, error) {
	o, s, ok := f.objSchema(obj)
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", f.kindOf(o))
	}
	cfg, err := s.Without(f.config(o), field, id)
	if err != nil {
		return nil, err
	}
	f.setCfg(&o, cfg)
	return o, nil
}
