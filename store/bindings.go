package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

func (tx *Tx) loadBinding(id uuid.UUID) (binding.Binding, bool, error) {
	raw := tx.bucket(bucketBindings).Get(id[:])
	if raw == nil {
		return binding.Binding{}, false, nil
	}
	var b binding.Binding
	if err := json.Unmarshal(raw, &b); err != nil {
		return binding.Binding{}, false, fmt.Errorf("store: decoding binding %s: %w", id, err)
	}
	return b, true, nil
}

func (tx *Tx) mustBinding(id uuid.UUID) (binding.Binding, error) {
	b, ok, err := tx.loadBinding(id)
	if err != nil {
		return binding.Binding{}, err
	}
	if !ok {
		return binding.Binding{}, fmt.Errorf("store: binding %s: %w", id, ErrNotFound)
	}
	return b, nil
}

func (tx *Tx) bindingView(b binding.Binding) (binding.View, error) {
	st, err := tx.mustStage(b.Stage)
	if err != nil {
		return binding.View{}, fmt.Errorf("store: binding %s: %w", b.PK, err)
	}
	sv, err := tx.stageView(st)
	if err != nil {
		return binding.View{}, err
	}
	return binding.View{Binding: b, StageObj: stage.Summary{View: sv}}, nil
}

// GetBinding returns the binding with pk id, or an error wrapping
// [ErrNotFound].
func (tx *Tx) GetBinding(id uuid.UUID) (binding.View, error) {
	b, err := tx.mustBinding(id)
	if err != nil {
		return binding.View{}, err
	}
	return tx.bindingView(b)
}

// CreateBinding stores a new binding built in Go; start from
// [binding.New] so the optional fields hold their defaults.
func (tx *Tx) CreateBinding(b binding.Binding) (binding.View, error) {
	body, err := writable(b)
	if err != nil {
		return binding.View{}, err
	}
	return tx.CreateBindingJSON(body)
}

// CreateBindingJSON creates a binding from a POST body. The target flow
// and the stage must exist. A rejected body gives a [*validate.Error] and
// writes nothing.
func (tx *Tx) CreateBindingJSON(body []byte) (binding.View, error) {
	if err := tx.writable(); err != nil {
		return binding.View{}, err
	}
	b, err := binding.Decode(binding.Defaults(), body, validate.Create)
	return tx.saveBinding(binding.Binding{}, b, err, true, body)
}

// ReplaceBinding applies a PUT body to the binding with pk id.
func (tx *Tx) ReplaceBinding(id uuid.UUID, body []byte) (binding.View, error) {
	return tx.writeBinding(id, body, validate.Replace)
}

// PatchBinding applies an RFC 7396 merge patch to the binding with pk id.
// The cross-field rule is checked on the result, not on the patch.
func (tx *Tx) PatchBinding(id uuid.UUID, patch []byte) (binding.View, error) {
	return tx.writeBinding(id, patch, validate.Patch)
}

func (tx *Tx) writeBinding(id uuid.UUID, body []byte, op validate.Op) (binding.View, error) {
	if err := tx.writable(); err != nil {
		return binding.View{}, err
	}
	cur, err := tx.mustBinding(id)
	if err != nil {
		return binding.View{}, err
	}
	next, err := binding.Decode(cur, body, op)
	return tx.saveBinding(cur, next, err, false, body)
}

func (tx *Tx) saveBinding(cur, next binding.Binding, decodeErr error, create bool, body []byte) (binding.View, error) {
	errs, err := asValidation(decodeErr)
	if err != nil {
		return binding.View{}, err
	}
	if len(errs.NonField) > 0 {
		// The body was not an object: there are no fields to check.
		return binding.View{}, errs
	}
	if !errs.Has("target") {
		if _, ok, err := tx.loadFlow(next.Target); err != nil {
			return binding.View{}, err
		} else if !ok {
			errs.Add("target", validate.DoesNotExist(refText(body, "target", next.Target)))
		}
	}
	if !errs.Has("stage") && tx.bucket(bucketStages).Get(next.Stage[:]) == nil {
		errs.Add("stage", validate.DoesNotExist(refText(body, "stage", next.Stage)))
	}
	if !errs.Empty() {
		return binding.View{}, errs
	}
	// unique together (target, stage, order), then the cross-field rule.
	prefix := byFlowKey(next.Target, next.Order, uuid.Nil)[:20]
	c := tx.bucket(bucketByFlow).Cursor()
	for k, sid := c.Seek(prefix); len(k) == 36 && string(k[:20]) == string(prefix); k, sid = c.Next() {
		if idFrom(sid) == next.Stage && idFrom(k[20:]) != cur.PK {
			e := validate.NonFieldError(validate.UniqueTogether("target", "stage", "order"))
			e.Err = ErrConflict
			return binding.View{}, e
		}
	}
	if oe := validate.CheckObject(next); oe != nil {
		return binding.View{}, oe
	}
	if create {
		if next.PK, err = tx.id(bucketBindings); err != nil {
			return binding.View{}, err
		}
		if next.PolicyBindingModelPtrID, err = tx.id(noBucket); err != nil {
			return binding.View{}, err
		}
	} else if err := tx.unindexBinding(cur); err != nil {
		return binding.View{}, err
	}
	raw, err := json.Marshal(next)
	if err != nil {
		return binding.View{}, fmt.Errorf("store: encoding binding %s: %w", next.PK, err)
	}
	if err := tx.bucket(bucketBindings).Put(next.PK[:], raw); err != nil {
		return binding.View{}, fmt.Errorf("store: writing binding %s: %w", next.PK, err)
	}
	if err := tx.bucket(bucketByFlow).Put(byFlowKey(next.Target, next.Order, next.PK), next.Stage[:]); err != nil {
		return binding.View{}, err
	}
	if err := tx.bucket(bucketByStage).Put(pairKey(next.Stage, next.PK), next.Target[:]); err != nil {
		return binding.View{}, err
	}
	return tx.bindingView(next)
}

func (tx *Tx) unindexBinding(b binding.Binding) error {
	if err := tx.bucket(bucketByFlow).Delete(byFlowKey(b.Target, b.Order, b.PK)); err != nil {
		return err
	}
	return tx.bucket(bucketByStage).Delete(pairKey(b.Stage, b.PK))
}

// deleteBinding removes a binding and its index entries; a missing one is
// not an error (cascades may reach it twice).
func (tx *Tx) deleteBinding(id uuid.UUID) error {
	b, ok, err := tx.loadBinding(id)
	if err != nil || !ok {
		return err
	}
	if err := tx.unindexBinding(b); err != nil {
		return err
	}
	return tx.bucket(bucketBindings).Delete(id[:])
}

// DeleteBinding deletes the binding with pk id, or returns an error
// wrapping [ErrNotFound].
func (tx *Tx) DeleteBinding(id uuid.UUID) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if _, err := tx.mustBinding(id); err != nil {
		return err
	}
	return tx.deleteBinding(id)
}

// FlowBindings returns the bindings of the flow with pk id in order (ties
// broken by pk), reading only those bindings.
func (tx *Tx) FlowBindings(id uuid.UUID) ([]binding.View, error) {
	var ids []uuid.UUID
	c := tx.bucket(bucketByFlow).Cursor()
	for k, _ := c.Seek(id[:]); len(k) == 36 && string(k[:16]) == string(id[:]); k, _ = c.Next() {
		ids = append(ids, idFrom(k[20:]))
	}
	out := make([]binding.View, 0, len(ids))
	for _, bid := range ids {
		v, err := tx.GetBinding(bid)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// GetBinding returns a binding; see [Tx.GetBinding].
func (s *Store) GetBinding(ctx context.Context, id uuid.UUID) (binding.View, error) {
	return view(s, ctx, func(tx *Tx) (binding.View, error) { return tx.GetBinding(id) })
}

// FlowBindings returns a flow's bindings in order; see [Tx.FlowBindings].
func (s *Store) FlowBindings(ctx context.Context, flowID uuid.UUID) ([]binding.View, error) {
	return view(s, ctx, func(tx *Tx) ([]binding.View, error) { return tx.FlowBindings(flowID) })
}

// CreateBinding creates a binding built in Go; see [Tx.CreateBinding].
func (s *Store) CreateBinding(ctx context.Context, b binding.Binding) (binding.View, error) {
	return update(s, ctx, func(tx *Tx) (binding.View, error) { return tx.CreateBinding(b) })
}

// CreateBindingJSON creates a binding from a POST body; see
// [Tx.CreateBindingJSON].
func (s *Store) CreateBindingJSON(ctx context.Context, body []byte) (binding.View, error) {
	return update(s, ctx, func(tx *Tx) (binding.View, error) { return tx.CreateBindingJSON(body) })
}

// ReplaceBinding applies a PUT body; see [Tx.ReplaceBinding].
func (s *Store) ReplaceBinding(ctx context.Context, id uuid.UUID, body []byte) (binding.View, error) {
	return update(s, ctx, func(tx *Tx) (binding.View, error) { return tx.ReplaceBinding(id, body) })
}

// PatchBinding applies a merge patch; see [Tx.PatchBinding].
func (s *Store) PatchBinding(ctx context.Context, id uuid.UUID, patch []byte) (binding.View, error) {
	return update(s, ctx, func(tx *Tx) (binding.View, error) { return tx.PatchBinding(id, patch) })
}

// DeleteBinding deletes a binding; see [Tx.DeleteBinding].
func (s *Store) DeleteBinding(ctx context.Context, id uuid.UUID) error {
	return s.Update(ctx, func(tx *Tx) error { return tx.DeleteBinding(id) })
}
