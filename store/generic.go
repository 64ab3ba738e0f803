package store

import (
	"fmt"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// The generic form of the operations: any collection, or one kind of
// stage, named by its model (ModelFlow, ModelBinding, a stage kind's
// model name such as "authentik_stages_user_write.userwritestage"), with
// JSON bodies. Adapters and importers use it; Go programs mostly use the
// typed methods, which do the same.

// Create creates an object of model from a POST body and returns its pk.
// It builds no view, so it is the fast path for loading many objects in
// one transaction. ModelStage names no kind and is refused: name the
// stage's kind.
func (tx *Tx) Create(model string, body []byte) (uuid.UUID, error) {
	c, kind, ok := tx.s.schema.target(model)
	if !ok || c == nil {
		return uuid.Nil, fmt.Errorf("store: create: %w: unknown model %q", ErrNotFound, model)
	}
	if c.kindIndex != "" && kind == "" {
		return uuid.Nil, fmt.Errorf("store: create %s: name the kind (a stage or policy model), not the collection", model)
	}
	obj, err := tx.write(c, nil, kind, body, validate.Create)
	if err != nil {
		return uuid.Nil, err
	}
	pk, _ := c.codec.ids(obj)
	return pk, nil
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
func (tx *Tx) Replace(model string, pk uuid.UUID, body []byte) error {
	_, err := tx.update(model, pk, body, validate.Replace)
	return err
}

// Patch applies an RFC 7396 merge patch to the object of model with pk.
func (tx *Tx) Patch(model string, pk uuid.UUID, patch []byte) error {
	_, err := tx.update(model, pk, patch, validate.Patch)
	return err
}

// update applies body to the object of model with pk and returns the
// stored result.
func (tx *Tx) update(model string, pk uuid.UUID, body []byte, op validate.Op) (any, error) {
	if err := tx.writable(); err != nil {
		return nil, err
	}
	c, cur, err := tx.byModel(model, pk)
	if err != nil {
		return nil, err
	}
	return tx.write(c, cur, "", body, op)
}

// Delete deletes the object of model with pk, with everything its
// references' on-delete actions imply; a protected reference refuses it
// with a *ProtectedError and nothing is deleted.
func (tx *Tx) Delete(model string, pk uuid.UUID) error {
	if err := tx.writable(); err != nil {
		return err
	}
	c, obj, err := tx.byModel(model, pk)
	if err != nil {
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
	c, kind, ok := tx.s.schema.target(model)
	if !ok || c == nil || c.list == nil {
		return Page[any]{}, fmt.Errorf("store: list: %w: unknown model %q", ErrNotFound, model)
	}
	return c.list(tx, kind, q)
}

// anyPage is p with its results as any.
func anyPage[V any](p Page[V], err error) (Page[any], error) {
	if err != nil {
		return Page[any]{}, err
	}
	return mapPage(p, func(v V) (any, error) { return v, nil })
}
