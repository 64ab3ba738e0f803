package store

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Key names one object of a collection: by its pk ([PK]) or by the value
// of a unique field ([By], such as a flow's slug).
type Key struct {
	field string // "" for the pk
	pk    uuid.UUID
	value string
}

// PK is the key of the object whose pk is id.
func PK(id uuid.UUID) Key { return Key{pk: id} }

// By is the key of the object whose unique field has value, such as
// By("slug", "default-authentication-flow"). The field must be unique in
// the collection; values compare as stored (a flow's slug is
// case-sensitive). By("pk", text) is PK of the UUID that text spells.
func By(field, value string) Key { return Key{field: field, value: value} }

// String is the key as errors name it: the pk, or field=value.
func (k Key) String() string {
	if k.field == "" {
		return k.pk.String()
	}
	return fmt.Sprintf("%s=%q", k.field, k.value)
}

// WriteOptions are the parameters of one write besides its body. A nil
// *WriteOptions means none.
type WriteOptions struct {
	// UnchangedSince, when set, makes the write conditional: it fails
	// with an error wrapping ErrRevision, writing nothing, when the
	// object changed after that revision (an HTTP If-Match). The check
	// and the write commit together, so no other writer comes between
	// them.
	UnchangedSince *int64
	// Actor is the pk of the user who acts: the creator (created_by) of
	// an invitation the write creates, which refers to that user (and is
	// deleted with it). The host says who it is, for example from the
	// request's authentication. A pk that names no user is an error
	// wrapping ErrUnknownActor, and the write writes nothing; nil makes
	// the creator [stage.Anonymous], referring to no user.
	Actor *int64
}

// Since returns options that make a write conditional on its object being
// unchanged since revision rev (see WriteOptions.UnchangedSince).
func Since(rev int64) *WriteOptions { return &WriteOptions{UnchangedSince: &rev} }

// Coll is the typed handle of one collection, or of one kind of a
// collection with kinds (see [Coll.Kind]): T is the stored record (such
// as flow.Flow) and V its API representation, with computed fields (such
// as flow.View). A handle holds only a model name; it is resolved in each
// transaction against that store's schema, so one handle serves every
// store. A handle whose T or V cannot hold its collection's records or
// representations (any can) is an error on every method, before anything
// is read or written.
//
// Get reads a record and nothing else: it is the cheap read, for a
// planner or an executor. View renders the representation that the API
// shows. Writes go through the same validation as a JSON body, whatever
// their form, and a rejected write returns a *validate.Error and writes
// nothing.
type Coll[T, V any] struct {
	model string
	// parent is the collection a kind's handle narrows (see Kind).
	parent string
}

// NewColl returns the handle of the collection (or kind) named model. It
// is checked on use: an unknown model is an error wrapping ErrNotFound.
func NewColl[T, V any](model string) Coll[T, V] { return Coll[T, V]{model: model} }

// Model is the model name the handle resolves.
func (c Coll[T, V]) Model() string { return c.model }

// Kind returns the handle of one kind of the collection (a stage or
// policy kind's model name): its reads do not find, and its writes do not
// touch, objects of another kind, and its lists list that kind's.
func (c Coll[T, V]) Kind(model string) Coll[T, V] { return Coll[T, V]{model: model, parent: c.model} }

// known checks the handle against the transaction's store: its model is
// a collection or a kind, a kind's handle names a registered kind of its
// collection (another name is an error wrapping the family's
// ErrUnknownKind: stage.ErrUnknownKind, policy.ErrUnknownKind), and T and
// V take the collection's records and representations. Every method
// checks it first, so that a handle of the wrong types is an error
// before anything is read or written.
func (c Coll[T, V]) known(tx *Tx) error {
	if c.parent != "" {
		p := tx.s.schema.byName[c.parent]
		if p == nil {
			return fmt.Errorf("store: %w: unknown model %q", ErrNotFound, c.parent)
		}
		if !p.codec.hasKind(c.model) {
			if p.unknownKind != nil {
				return fmt.Errorf("store: %w: %q", p.unknownKind, c.model)
			}
			return fmt.Errorf("store: %w: %q is no kind of %s", ErrNotFound, c.model, c.parent)
		}
	}
	coll, _, ok := tx.s.schema.target(c.model)
	if !ok || coll == nil {
		return fmt.Errorf("store: %w: unknown model %q", ErrNotFound, c.model)
	}
	// typedView is a func(*Tx, record) (representation, error).
	f := reflect.TypeOf(coll.typedView)
	if rec, rep := f.In(1), f.Out(0); !rec.AssignableTo(reflect.TypeFor[T]()) || !rep.AssignableTo(reflect.TypeFor[V]()) {
		return fmt.Errorf("store: the handle of %s has types %v and %v, but its records are %v and its representations %v", c.model, reflect.TypeFor[T](), reflect.TypeFor[V](), rec, rep)
	}
	return nil
}

// Get returns the stored record that k names, without computed fields, or
// an error wrapping ErrNotFound.
func (c Coll[T, V]) Get(tx *Tx, k Key) (T, error) {
	if err := c.known(tx); err != nil {
		var zero T
		return zero, err
	}
	_, obj, err := tx.byKey(c.model, k)
	if err != nil {
		var zero T
		return zero, err
	}
	return typed[T](c.model, obj)
}

// View returns the representation of the object that k names, as the
// API shows it, or an error wrapping ErrNotFound.
func (c Coll[T, V]) View(tx *Tx, k Key) (V, error) {
	if err := c.known(tx); err != nil {
		var zero V
		return zero, err
	}
	coll, obj, err := tx.byKey(c.model, k)
	if err != nil {
		var zero V
		return zero, err
	}
	return viewAs[T, V](tx, coll, obj)
}

// Create stores a new object built in Go. Start from the domain
// package's defaults (flow.New, stage.DefaultPrompt(), a kind's default
// config): v is validated exactly as a POST body with its fields is. Its
// pk is chosen by the store; read-only fields are ignored.
func (c Coll[T, V]) Create(tx *Tx, v T, o *WriteOptions) (T, error) {
	if err := c.known(tx); err != nil {
		var zero T
		return zero, err
	}
	coll, kind, err := tx.s.schema.writeTarget(c.model)
	if err != nil {
		var zero T
		return zero, err
	}
	k, body, err := coll.codec.body(v)
	if err != nil {
		var zero T
		return zero, err
	}
	if kind != "" && k != kind {
		var zero T
		return zero, fmt.Errorf("store: create %s: the object is a %s", kind, k)
	}
	obj, err := tx.write(coll, nil, k, body, validate.Create, uuid.Nil, o)
	if err != nil {
		var zero T
		return zero, err
	}
	return typed[T](c.model, obj)
}

// CreateJSON creates an object from a POST body. A collection with kinds
// needs a kind's handle (see [Coll.Kind]).
func (c Coll[T, V]) CreateJSON(tx *Tx, body []byte, o *WriteOptions) (T, error) {
	if err := c.known(tx); err != nil {
		var zero T
		return zero, err
	}
	obj, err := tx.create(c.model, body, uuid.Nil, o)
	if err != nil {
		var zero T
		return zero, err
	}
	return typed[T](c.model, obj)
}

// Replace applies a PUT body to the object that k names: required fields
// must be present, write-only ones (secrets) included; omitted optional
// fields keep their values.
func (c Coll[T, V]) Replace(tx *Tx, k Key, body []byte, o *WriteOptions) (T, error) {
	return c.update(tx, k, body, o, validate.Replace)
}

// Patch applies an RFC 7396 merge patch to the object that k names;
// object rules are checked on the result, not on the patch.
func (c Coll[T, V]) Patch(tx *Tx, k Key, patch []byte, o *WriteOptions) (T, error) {
	return c.update(tx, k, patch, o, validate.Patch)
}

func (c Coll[T, V]) update(tx *Tx, k Key, body []byte, o *WriteOptions, op validate.Op) (T, error) {
	if err := c.known(tx); err != nil {
		var zero T
		return zero, err
	}
	obj, err := tx.updateKey(c.model, k, body, o, op)
	if err != nil {
		var zero T
		return zero, err
	}
	return typed[T](c.model, obj)
}

// Delete deletes the object that k names, with everything its
// references' on-delete actions imply, in the same transaction; a
// protected reference refuses it with a *ProtectedError and nothing is
// deleted.
func (c Coll[T, V]) Delete(tx *Tx, k Key, o *WriteOptions) error {
	if err := c.known(tx); err != nil {
		return err
	}
	return tx.deleteKey(c.model, k, o)
}

// List answers a list query with authentik's filters, search, ordering
// and pagination, in the representation View returns.
func (c Coll[T, V]) List(tx *Tx, q Query) (Page[V], error) {
	if err := c.known(tx); err != nil {
		return Page[V]{}, err
	}
	p, err := tx.List(c.model, q)
	if err != nil {
		return Page[V]{}, err
	}
	return mapPage(p, func(a any) (V, error) { return typed[V](c.model, a) })
}

// ByRef returns the records whose reference field refers to the object
// with pk id, in the order of the ordered index that leads with field (a
// flow's bindings by order, a target's policy bindings by order), reading
// only those records. A field that is no reference to one object, or
// that leads no ordered index, is an error.
func (c Coll[T, V]) ByRef(tx *Tx, field string, id uuid.UUID) ([]T, error) {
	if err := c.known(tx); err != nil {
		return nil, err
	}
	coll, kind, ok := tx.s.schema.target(c.model)
	if !ok || coll == nil {
		return nil, fmt.Errorf("store: %w: unknown model %q", ErrNotFound, c.model)
	}
	if !coll.isRef(kind, field) {
		return nil, fmt.Errorf("store: %s: %q is no reference field", c.model, field)
	}
	ix, ok := coll.indexLedBy(field)
	if !ok {
		return nil, fmt.Errorf("store: %s: no ordered index leads with %q", c.model, field)
	}
	ids, err := tx.scanIDs(ix.bucket, id[:], -16)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(ids))
	for _, pk := range ids {
		obj, err := tx.must(coll, pk)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w: it lists %s %s: %v", ix.bucket, ErrCorrupt, coll.alias, pk, err)
		}
		if kind != "" && coll.codec.kind(obj) != kind {
			continue
		}
		t, err := typed[T](c.model, obj)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// typed is obj as T, or an error naming the handle whose type parameter
// does not match its model's objects.
func typed[T any](model string, obj any) (T, error) {
	t, ok := obj.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("store: the handle of %s has type %T, but its objects are %T", model, zero, obj)
	}
	return t, nil
}

// viewAs renders obj as c's representation, typed: through the
// collection's typed view function when T and V are its types (no boxing
// of the representation), through its view hook otherwise.
func viewAs[T, V any](tx *Tx, c *collection, obj any) (V, error) {
	if f, ok := c.typedView.(func(*Tx, T) (V, error)); ok {
		if t, ok := obj.(T); ok {
			return render(func(t T) (V, error) { return f(tx, t) }, t)
		}
	}
	v, err := tx.viewOf(c, obj)
	if err != nil {
		var zero V
		return zero, err
	}
	return typed[V](c.model, v)
}

// isRef reports whether field is a reference to one object in kind's
// schema ("" for a collection without kinds).
func (c *collection) isRef(kind, field string) bool {
	sc, err := c.codec.schema(kind)
	if err != nil {
		return false
	}
	for _, r := range sc.RefFields() {
		if r.Field == field && !r.Many {
			return true
		}
	}
	return false
}

// indexLedBy is the ordered index whose first field is field.
func (c *collection) indexLedBy(field string) (index, bool) {
	for _, ix := range c.indexes {
		if ix.fields[0] == field {
			return ix, true
		}
	}
	return index{}, false
}

// Lookup returns the pk of the object of model (a collection, or one
// kind) that k names, or an error wrapping ErrNotFound: what the dynamic
// form's operations, which take a pk, need for a key such as a flow's
// slug.
func (tx *Tx) Lookup(model string, k Key) (uuid.UUID, error) {
	c, obj, err := tx.byKey(model, k)
	if err != nil {
		return uuid.Nil, err
	}
	pk, _ := c.codec.ids(obj)
	return pk, nil
}

// byKey loads the object of model that k names: by pk, or through the
// unique index of k's field. A damaged index entry (one naming a missing
// object, or an object without that value) is ErrCorrupt, never another
// object read or written in its place.
func (tx *Tx) byKey(model string, k Key) (*collection, any, error) {
	if k.field == "" {
		return tx.byModel(model, k.pk)
	}
	c, kind, ok := tx.s.schema.target(model)
	if !ok || c == nil {
		return nil, nil, fmt.Errorf("store: %w: unknown model %q", ErrNotFound, model)
	}
	if k.field == "pk" && c.seq == "pk" {
		// A number, whose record id is derived from it.
		n, err := strconv.ParseInt(k.value, 10, 32)
		if err != nil || n < 1 {
			return nil, nil, fmt.Errorf("store: %s pk %q: %w", c.alias, k.value, ErrNotFound)
		}
		return tx.byModel(model, seqID(c.bucket, n))
	}
	if k.field == "pk" {
		// The record's own pk, given as text.
		id, err := uuid.Parse(k.value)
		if err != nil {
			return nil, nil, fmt.Errorf("store: %s pk %q: %w", model, k.value, ErrNotFound)
		}
		return tx.byModel(model, id)
	}
	var want any = k.value
	if c.seq != "" && k.field == c.seq {
		// A sequence number, given as text: what a path names a user by.
		n, err := strconv.ParseInt(k.value, 10, 32)
		if err != nil || n < 1 {
			return nil, nil, fmt.Errorf("store: %s %s %q: %w", c.alias, k.field, k.value, ErrNotFound)
		}
		want = n
	}
	pk, found, err := tx.lookup(c, k.field, want)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, fmt.Errorf("store: %s %q: %w", c.alias, k.value, ErrNotFound)
	}
	obj, err := tx.must(c, pk)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, fmt.Errorf("store: %s %q: %w: the %s index points at missing %s", c.alias, k.value, ErrCorrupt, k.field, pk)
	}
	if err != nil {
		return nil, nil, err
	}
	if v, _ := c.codec.value(obj, k.field); v != want {
		return nil, nil, fmt.Errorf("store: %s %q: %w: the %s entry names %s %s, whose %s is %q", c.alias, k.value, ErrCorrupt, c.uniqueOn(k.field).bucket, c.alias, pk, k.field, v)
	}
	if kind != "" && c.codec.kind(obj) != kind {
		return nil, nil, fmt.Errorf("store: %s %q: %w", kind, k.value, ErrNotFound)
	}
	return c, obj, nil
}

// The handles of the built-in collections. Stages and Policies are
// collections with kinds: Kind narrows them to one.
var (
	Flows          = Coll[flow.Flow, flow.View]{model: ModelFlow}
	Stages         = Coll[stage.Stage, stage.View]{model: ModelStage}
	Bindings       = Coll[binding.Binding, binding.View]{model: ModelBinding}
	Policies       = Coll[policy.Policy, policy.View]{model: ModelPolicy}
	PolicyBindings = Coll[policy.Binding, policy.BindingView]{model: ModelPolicyBinding}
	Prompts        = Coll[stage.Prompt, stage.PromptView]{model: ModelPrompt}
	Invites        = Coll[stage.Invite, stage.InviteView]{model: ModelInvite}
	Users          = Coll[directory.User, directory.UserView]{model: ModelUser}
	Groups         = Coll[directory.Group, directory.GroupView]{model: ModelGroup}
)

// as converts an engine result to T, or passes its error on.
func as[T any](obj any, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	return obj.(T), nil
}

// viewed returns a function that applies view to an engine result:
// viewed(view)(tx.get(...)).
func viewed[T, V any](view func(T) (V, error)) func(any, error) (V, error) {
	return func(obj any, err error) (V, error) {
		t, err := as[T](obj, err)
		if err != nil {
			var zero V
			return zero, err
		}
		return render(view, t)
	}
}

// render is view(t), but for what the view finds missing: an object that
// a stored reference or index names is damage, not a 404 (see Dangling).
func render[T, V any](view func(T) (V, error), t T) (V, error) {
	v, err := view(t)
	return v, Dangling(err)
}

// Dangling is err from reading an object that a stored reference names
// (a binding's stage, a policy binding's policy): the store checks a
// reference when it is written and follows its target's delete, so such
// an object missing is damage, and an error wrapping ErrNotFound becomes
// one wrapping ErrCorrupt (and no longer ErrNotFound); any other error
// passes as it is. The views apply it to what they follow; a caller that
// reads records and follows their references itself applies it too.
func Dangling(err error) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: %w: %v", ErrCorrupt, err)
	}
	return err
}

// viewBy is a collection's view hook from its typed view function (which
// the collection also keeps as typedView, see viewAs).
func viewBy[T, V any](view func(*Tx, T) (V, error)) func(*Tx, any) (any, error) {
	return func(tx *Tx, obj any) (any, error) {
		return render(func(t T) (V, error) { return view(tx, t) }, obj.(T))
	}
}

// listRecords is a collection's list hook from its list function, for a
// collection without kinds.
func listRecords(list func(*Tx, Query) (Page[any], error)) func(*Tx, string, Query) (Page[any], error) {
	return func(tx *Tx, _ string, q Query) (Page[any], error) { return list(tx, q) }
}
