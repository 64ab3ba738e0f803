package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// The generic form of the operations: any collection, or one kind of
// stage, named by its model (ModelFlow, ModelBinding, a stage kind's
// model name such as "authentik_stages_user_write.userwritestage"), with
// JSON bodies. Adapters and importers use it; Go programs mostly use the
// typed methods, which do the same.

// Create creates an object of model from a POST body and returns its new
// pk. It builds no view, so it is the fast path for loading many objects
// in one transaction. ModelStage names no kind and is refused: name the
// stage's kind.
func (tx *Tx) Create(model string, body []byte, o *WriteOptions) (uuid.UUID, error) {
	obj, err := tx.create(model, body, uuid.Nil, o)
	if err != nil {
		return uuid.Nil, err
	}
	c, _, _ := tx.s.schema.target(model)
	pk, _ := c.codec.ids(obj)
	return pk, nil
}

// CreateWithPK is Create giving the object pk, as a blueprint entry's pk
// identifier does. A pk that is uuid.Nil, or that any object holds (of
// any collection or kind, or as its policy-binding-model id), is a field
// error on "pk" wrapping [ErrConflict] (for uuid.Nil, no cause), checked
// with the other fields; nothing is written.
func (tx *Tx) CreateWithPK(model string, pk uuid.UUID, body []byte, o *WriteOptions) error {
	if pk == uuid.Nil {
		return &validate.Error{Fields: map[string][]string{"pk": {validate.MsgNilPK}}}
	}
	_, err := tx.create(model, body, pk, o)
	return err
}

// create writes a new object of model (a collection without kinds, or a
// kind) from body, with pk unless it is uuid.Nil, and returns it.
func (tx *Tx) create(model string, body []byte, pk uuid.UUID, o *WriteOptions) (any, error) {
	c, kind, err := tx.s.schema.writeTarget(model)
	if err != nil {
		return nil, err
	}
	if c.kindIndex != "" && kind == "" {
		return nil, fmt.Errorf("store: create %s: name the kind (a stage or policy model), not the collection", model)
	}
	return tx.write(c, nil, kind, body, validate.Create, pk, o)
}

// Get returns the view of the object of model with pk: a flow.View,
// stage.View or binding.View, which marshals to authentik's
// representation.
func (tx *Tx) Get(model string, pk uuid.UUID) (any, error) {
	c, obj, err := tx.byModel(model, pk)
	if err != nil {
		return nil, err
	}
	return tx.viewOf(c, obj)
}

// Replace applies a PUT body to the object of model with pk.
func (tx *Tx) Replace(model string, pk uuid.UUID, body []byte, o *WriteOptions) error {
	_, err := tx.updateKey(model, PK(pk), body, o, validate.Replace)
	return err
}

// Patch applies an RFC 7396 merge patch to the object of model with pk.
func (tx *Tx) Patch(model string, pk uuid.UUID, patch []byte, o *WriteOptions) error {
	_, err := tx.updateKey(model, PK(pk), patch, o, validate.Patch)
	return err
}

// updateKey applies body to the object of model that k names and returns
// the stored result.
func (tx *Tx) updateKey(model string, k Key, body []byte, o *WriteOptions, op validate.Op) (any, error) {
	if err := tx.canWrite(); err != nil {
		return nil, err
	}
	c, cur, err := tx.byKey(model, k)
	if err != nil {
		return nil, err
	}
	if err := tx.precondition(c, cur, o); err != nil {
		return nil, err
	}
	return tx.write(c, cur, "", body, op, uuid.Nil, o)
}

// Delete deletes the object of model with pk, with everything its
// references' on-delete actions imply; a protected reference refuses it
// with a *ProtectedError and nothing is deleted.
func (tx *Tx) Delete(model string, pk uuid.UUID, o *WriteOptions) error {
	return tx.deleteKey(model, PK(pk), o)
}

func (tx *Tx) deleteKey(model string, k Key, o *WriteOptions) error {
	if err := tx.canWrite(); err != nil {
		return err
	}
	c, obj, err := tx.byKey(model, k)
	if err != nil {
		return err
	}
	if err := tx.precondition(c, obj, o); err != nil {
		return err
	}
	return tx.del(c, obj)
}

// viewOf renders obj as its collection's view.
func (tx *Tx) viewOf(c *collection, obj any) (any, error) {
	return c.view(tx, obj)
}

// List answers a list query on the objects of model: a collection, or one
// kind of stage or policy (ModelStage and ModelPolicy list every kind).
// The results are the views that Get returns.
func (tx *Tx) List(model string, q Query) (Page[any], error) {
	c, p, err := tx.listRecords(model, q)
	if err != nil {
		return Page[any]{}, err
	}
	return mapPage(p, func(obj any) (any, error) { return tx.viewOf(c, obj) })
}

// Stream answers a list query as List does, but yields the results one
// at a time, rendering each only when the caller reaches it: memory stays
// that of one result's representation however large the page's (a
// binding's stage_obj carries the stage's whole flow_set). The page's
// records are read, and checked, before Stream returns; a result that
// fails to render yields its error, and the sequence ends. The sequence
// is valid only inside the transaction.
func (tx *Tx) Stream(model string, q Query) (Pagination, iter.Seq2[any, error], error) {
	c, p, err := tx.listRecords(model, q)
	if err != nil {
		return Pagination{}, nil, err
	}
	return p.Pagination, func(yield func(any, error) bool) {
		for _, obj := range p.Results {
			v, err := tx.viewOf(c, obj)
			if !yield(v, err) || err != nil {
				return
			}
		}
	}, nil
}

// listRecords answers a list query with the page's records.
func (tx *Tx) listRecords(model string, q Query) (*collection, Page[any], error) {
	c, kind, ok := tx.s.schema.target(model)
	if !ok || c == nil || c.list == nil {
		return nil, Page[any]{}, fmt.Errorf("store: list: %w: unknown model %q", ErrNotFound, model)
	}
	p, err := c.list(tx, kind, q)
	return c, p, err
}

// Find returns the pk of the first object of model (a collection, or one
// kind), in pk order, whose fields have the given values: what a
// blueprint's identifiers and !Find match. Values compare as list rows
// hold them (UUIDs as text, integers as int64); "pk" and a unique field
// are looked up directly, anything else is a scan of the collection (or
// the kind). A field the model does not have matches nothing.
func (tx *Tx) Find(model string, fields map[string]any) (uuid.UUID, bool, error) {
	c, kind, ok := tx.s.schema.target(model)
	if !ok || c == nil {
		return uuid.Nil, false, fmt.Errorf("store: find: %w: unknown model %q", ErrNotFound, model)
	}
	want := make(map[string]any, len(fields))
	for f, v := range fields {
		want[f] = findValue(v)
	}
	matches := func(obj any) bool {
		if kind != "" && c.codec.kind(obj) != kind {
			return false
		}
		for f, w := range want {
			v, ok := c.codec.value(obj, f)
			if !ok {
				return false
			}
			if wm, isMap := w.(map[string]any); isMap {
				if !contains(v, wm) {
					return false
				}
				continue
			}
			if cell(v) != w {
				return false
			}
		}
		return true
	}
	// A pk or a unique field narrows the search to one candidate.
	var cand *uuid.UUID
	if s, ok := want["pk"].(string); ok {
		id, err := uuid.Parse(s)
		if err != nil {
			return uuid.Nil, false, nil
		}
		cand = &id
	} else {
		for _, u := range c.unique {
			if s, ok := want[u.field].(string); ok {
				id, found, err := tx.lookup(c, u.field, s)
				if err != nil || !found {
					return uuid.Nil, false, err
				}
				cand = &id
				break
			}
		}
	}
	if cand != nil {
		obj, found, err := tx.get(c, *cand)
		if err != nil || !found || !matches(obj) {
			return uuid.Nil, false, err
		}
		return *cand, true, nil
	}
	var out uuid.UUID
	found := false
	errStop := errors.New("found")
	yield := func(obj any) error {
		if matches(obj) {
			out, _ = c.codec.ids(obj)
			found = true
			return errStop
		}
		return nil
	}
	// A reference that leads an ordered index (a binding's target) narrows
	// the scan to that target's objects.
	var err error
	if bucket, prefix, ok := c.refIndex(kind, want); ok {
		err = tx.scanIndexed(c, bucket, prefix, -16, nil, yield)
	} else {
		err = tx.scanRecords(c, func([]byte) bool { return true }, yield)
	}
	if err != nil && !errors.Is(err, errStop) {
		return uuid.Nil, false, err
	}
	return out, found, nil
}

// contains reports whether the JSON object v holds every member of want,
// recursively: PostgreSQL's @> on a JSON field, which authentik's
// blueprints use for an identifier that is a mapping.
func contains(v any, want map[string]any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	var have map[string]any
	if json.Unmarshal(b, &have) != nil || have == nil {
		return false
	}
	for k, w := range want {
		h, ok := have[k]
		if !ok {
			return false
		}
		if wm, isMap := w.(map[string]any); isMap {
			if !contains(h, wm) {
				return false
			}
			continue
		}
		hj, _ := json.Marshal(h)
		wj, _ := json.Marshal(w)
		if string(hj) != string(wj) {
			return false
		}
	}
	return true
}

// findValue is a Find value as a row holds it (a mapping stays one: it
// matches by containment).
func findValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return x
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case uuid.UUID:
		return x.String()
	case string:
		if id, err := uuid.Parse(x); err == nil && id.String() != x && len(x) >= 32 {
			return id.String() // any spelling of a UUID
		}
	}
	return cell(v)
}

// Stored returns the stored JSON of the object of model with pk, secrets
// included and in the clear (as the object is in memory, not as a store
// with a key keeps it at rest): for comparing an object before and after
// a write (a blueprint's "unchanged"), never for showing it.
func (tx *Tx) Stored(model string, pk uuid.UUID) ([]byte, error) {
	c, obj, err := tx.byModel(model, pk)
	if err != nil {
		return nil, err
	}
	return c.codec.encode(obj)
}

// refIndex finds an ordered index of c whose first field is a reference
// that want gives a UUID for: its bucket and the key prefix of that value.
func (c *collection) refIndex(kind string, want map[string]any) (string, []byte, bool) {
	if c.kindIndex != "" {
		return "", nil, false
	}
	for _, ix := range c.indexes {
		v, ok := want[ix.fields[0]].(string)
		if !ok || !c.isRef(kind, ix.fields[0]) {
			continue
		}
		if id, err := uuid.Parse(v); err == nil {
			return ix.bucket, appendValue(nil, id), true
		}
	}
	return "", nil, false
}

// Attrs returns the fields of the object of model with pk that a write
// may set and a response shows (neither read-only nor write-only), with
// their values as the API shows them: what a blueprint export writes as
// an entry's attrs.
func (tx *Tx) Attrs(model string, pk uuid.UUID) (map[string]any, error) {
	c, obj, err := tx.byModel(model, pk)
	if err != nil {
		return nil, err
	}
	v, err := tx.viewOf(c, obj)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, f := range c.codec.attrs(c.codec.kind(obj)) {
		if val, ok := all[f]; ok {
			out[f] = val
		}
	}
	return out, nil
}

// KindOf returns the model of the object with pk in the collection that
// model names: its kind's model for a collection with kinds, such as a
// stage's "authentik_stages_user_write.userwritestage", and the
// collection's own model otherwise.
func (tx *Tx) KindOf(model string, pk uuid.UUID) (string, error) {
	c, obj, err := tx.byModel(model, pk)
	if err != nil {
		return "", err
	}
	return c.modelOf(obj), nil
}

// Secrets returns the secrets of model (a collection's, or a kind's): its
// validate.Secret fields, every write-only field among them and those a
// response shows (an SMS stage's auth), in declaration order. A store
// with a key seals them at rest; exports leave them out (package
// blueprint writes them as !Env placeholders in a portable export).
func (s *Store) Secrets(model string) []string {
	c, kind, ok := s.schema.target(model)
	if !ok || c == nil {
		return nil
	}
	sc, err := c.codec.schema(kind)
	if err != nil {
		return nil
	}
	return sc.Secrets()
}

// Required reports whether field of model (a collection's, or a kind's)
// is required: a create or a replace must send it, even when its value is
// empty (a GeoIP policy's countries).
func (s *Store) Required(model, field string) bool {
	c, kind, found := s.schema.target(model)
	if !found || c == nil {
		return false
	}
	sc, err := c.codec.schema(kind)
	return err == nil && slices.Contains(sc.Required(), field)
}

// Default returns the default value of field in model (a collection's,
// or a kind's) as its JSON decodes: what a create without the field
// gives it. ok is false for a field without one, a required field
// included.
func (s *Store) Default(model, field string) (v any, ok bool) {
	c, kind, found := s.schema.target(model)
	if !found || c == nil {
		return nil, false
	}
	if s.Required(model, field) {
		return nil, false
	}
	if _, err := c.codec.schema(kind); err != nil {
		return nil, false
	}
	raw, ok := c.codec.defaultJSON(kind, field)
	if !ok {
		return nil, false
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, false
	}
	return v, true
}
