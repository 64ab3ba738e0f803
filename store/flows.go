package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// loadFlow reads a flow by id; ok is false when there is none.
func (tx *Tx) loadFlow(id uuid.UUID) (flow.Flow, bool, error) {
	raw := tx.bucket(bucketFlows).Get(id[:])
	if raw == nil {
		return flow.Flow{}, false, nil
	}
	if f, ok := tx.s.cache.get(id, raw); ok {
		return f, true, nil
	}
	var f flow.Flow
	if err := json.Unmarshal(raw, &f); err != nil {
		return flow.Flow{}, false, fmt.Errorf("store: decoding flow %s: %w", id, err)
	}
	tx.s.cache.put(id, raw, f)
	return f, true, nil
}

func (tx *Tx) flowIDBySlug(slug string) (uuid.UUID, bool) {
	v := tx.bucket(bucketFlowSlugs).Get([]byte(slug))
	if v == nil {
		return uuid.Nil, false
	}
	return idFrom(v), true
}

func (tx *Tx) flowBySlug(slug string) (flow.Flow, error) {
	id, ok := tx.flowIDBySlug(slug)
	if !ok {
		return flow.Flow{}, fmt.Errorf("store: flow %q: %w", slug, ErrNotFound)
	}
	f, ok, err := tx.loadFlow(id)
	if err != nil {
		return flow.Flow{}, err
	}
	if !ok {
		return flow.Flow{}, fmt.Errorf("store: flow %q: index points at missing %s: %w", slug, id, ErrNotFound)
	}
	return f, nil
}

// flowView adds the computed fields.
func (tx *Tx) flowView(f flow.Flow) flow.View {
	v := flow.View{Flow: f, Stages: []uuid.UUID{}, Policies: []uuid.UUID{}}
	c := tx.bucket(bucketByFlow).Cursor()
	for k, sid := c.Seek(f.PK[:]); len(k) == 36 && string(k[:16]) == string(f.PK[:]); k, sid = c.Next() {
		v.Stages = append(v.Stages, idFrom(sid))
	}
	return v
}

// GetFlow returns the flow with pk id, or an error wrapping [ErrNotFound].
func (tx *Tx) GetFlow(id uuid.UUID) (flow.View, error) {
	f, ok, err := tx.loadFlow(id)
	if err != nil {
		return flow.View{}, err
	}
	if !ok {
		return flow.View{}, fmt.Errorf("store: flow %s: %w", id, ErrNotFound)
	}
	return tx.flowView(f), nil
}

// GetFlowBySlug returns the flow with the slug (case-sensitive), or an
// error wrapping [ErrNotFound].
func (tx *Tx) GetFlowBySlug(slug string) (flow.View, error) {
	f, err := tx.flowBySlug(slug)
	if err != nil {
		return flow.View{}, err
	}
	return tx.flowView(f), nil
}

// CreateFlow stores a new flow built in Go; start from [flow.New] so the
// optional fields hold their defaults. It is validated exactly as
// [Tx.CreateFlowJSON] validates a body.
func (tx *Tx) CreateFlow(f flow.Flow) (flow.View, error) {
	body, err := writable(f)
	if err != nil {
		return flow.View{}, err
	}
	return tx.CreateFlowJSON(body)
}

// CreateFlowJSON creates a flow from a POST body. A rejected body gives a
// [*validate.Error] and writes nothing.
func (tx *Tx) CreateFlowJSON(body []byte) (flow.View, error) {
	if err := tx.writable(); err != nil {
		return flow.View{}, err
	}
	f, err := flow.Decode(flow.Defaults(), body, validate.Create)
	return tx.saveFlow(flow.Flow{}, f, err, true)
}

// ReplaceFlow applies a PUT body to the flow with the slug: required
// fields must be present; omitted optional fields keep their values.
func (tx *Tx) ReplaceFlow(slug string, body []byte) (flow.View, error) {
	return tx.writeFlow(slug, body, validate.Replace)
}

// PatchFlow applies an RFC 7396 merge patch to the flow with the slug.
func (tx *Tx) PatchFlow(slug string, patch []byte) (flow.View, error) {
	return tx.writeFlow(slug, patch, validate.Patch)
}

func (tx *Tx) writeFlow(slug string, body []byte, op validate.Op) (flow.View, error) {
	if err := tx.writable(); err != nil {
		return flow.View{}, err
	}
	cur, err := tx.flowBySlug(slug)
	if err != nil {
		return flow.View{}, err
	}
	next, err := flow.Decode(cur, body, op)
	return tx.saveFlow(cur, next, err, false)
}

// SetFlowBackgroundURL stores url verbatim as the background of the flow
// with the slug ("" restores the default), as authentik's
// set_background_url action does.
func (tx *Tx) SetFlowBackgroundURL(slug, url string) (flow.View, error) {
	if err := tx.writable(); err != nil {
		return flow.View{}, err
	}
	cur, err := tx.flowBySlug(slug)
	if err != nil {
		return flow.View{}, err
	}
	next := cur
	next.SetBackgroundURL(url)
	if err := tx.putFlow(next); err != nil {
		return flow.View{}, err
	}
	return tx.flowView(next), nil
}

// saveFlow finishes a write: decodeErr is what the domain decode returned.
// The store's own field checks are added to it, and nothing is written
// unless every check passes.
func (tx *Tx) saveFlow(cur, next flow.Flow, decodeErr error, create bool) (flow.View, error) {
	errs, err := asValidation(decodeErr)
	if err != nil {
		return flow.View{}, err
	}
	if !errs.Has("slug") && next.Slug != cur.Slug {
		if _, taken := tx.flowIDBySlug(next.Slug); taken {
			errs.Add("slug", validate.Unique("Flow", "slug"))
			errs.Err = ErrConflict
		}
	}
	if !errs.Empty() {
		return flow.View{}, errs
	}
	if create {
		if next.PK, err = tx.id(bucketFlows); err != nil {
			return flow.View{}, err
		}
		if next.PolicyBindingModelPtrID, err = tx.id(noBucket); err != nil {
			return flow.View{}, err
		}
	}
	if !create && next.Slug != cur.Slug {
		if err := tx.bucket(bucketFlowSlugs).Delete([]byte(cur.Slug)); err != nil {
			return flow.View{}, err
		}
	}
	if err := tx.putFlow(next); err != nil {
		return flow.View{}, err
	}
	return tx.flowView(next), nil
}

func (tx *Tx) putFlow(f flow.Flow) error {
	raw, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("store: encoding flow %s: %w", f.PK, err)
	}
	if err := tx.bucket(bucketFlows).Put(f.PK[:], raw); err != nil {
		return fmt.Errorf("store: writing flow %s: %w", f.PK, err)
	}
	if err := tx.bucket(bucketFlowSlugs).Put([]byte(f.Slug), f.PK[:]); err != nil {
		return fmt.Errorf("store: indexing flow %s: %w", f.PK, err)
	}
	return nil
}

// DeleteFlow deletes the flow with the slug, and with it, in the same
// transaction, its bindings; stage fields that point at it (such as Duo's
// configure_flow) are set to null.
func (tx *Tx) DeleteFlow(slug string) error {
	if err := tx.writable(); err != nil {
		return err
	}
	f, err := tx.flowBySlug(slug)
	if err != nil {
		return err
	}
	// Bindings: collect first, then delete (never delete under a cursor).
	var bindings []uuid.UUID
	c := tx.bucket(bucketByFlow).Cursor()
	for k, _ := c.Seek(f.PK[:]); len(k) == 36 && string(k[:16]) == string(f.PK[:]); k, _ = c.Next() {
		bindings = append(bindings, idFrom(k[20:]))
	}
	for _, id := range bindings {
		if err := tx.deleteBinding(id); err != nil {
			return err
		}
	}
	// Stages that refer to the flow.
	var stages []uuid.UUID
	c = tx.bucket(bucketStageRefs).Cursor()
	for k, _ := c.Seek(f.PK[:]); len(k) == 32 && string(k[:16]) == string(f.PK[:]); k, _ = c.Next() {
		stages = append(stages, idFrom(k[16:]))
	}
	for _, id := range stages {
		if err := tx.clearFlowRefs(id, f.PK); err != nil {
			return err
		}
	}
	if err := tx.bucket(bucketFlowSlugs).Delete([]byte(f.Slug)); err != nil {
		return err
	}
	return tx.bucket(bucketFlows).Delete(f.PK[:])
}

// asValidation splits a domain error into the validation errors to add to
// (never nil) and any other error, which aborts the write.
func asValidation(err error) (*validate.Error, error) {
	if err == nil {
		return &validate.Error{}, nil
	}
	var ve *validate.Error
	if errors.As(err, &ve) {
		return ve, nil
	}
	return nil, err
}

// writable renders a Go value as a write body for the JSON path, so that
// values built in Go are validated exactly as bodies are.
func writable(v any) ([]byte, error) {
	s, err := validate.SchemaOf(v)
	if err != nil {
		return nil, err
	}
	b, err := s.AppendJSON([]byte{'{'}, v, true)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// Store-level wrappers, each one transaction.

// GetFlow returns the flow with pk id; see [Tx.GetFlow].
func (s *Store) GetFlow(ctx context.Context, id uuid.UUID) (flow.View, error) {
	return view(s, ctx, func(tx *Tx) (flow.View, error) { return tx.GetFlow(id) })
}

// GetFlowBySlug returns the flow with the slug; see [Tx.GetFlowBySlug].
func (s *Store) GetFlowBySlug(ctx context.Context, slug string) (flow.View, error) {
	return view(s, ctx, func(tx *Tx) (flow.View, error) { return tx.GetFlowBySlug(slug) })
}

// CreateFlow creates a flow built in Go; see [Tx.CreateFlow].
func (s *Store) CreateFlow(ctx context.Context, f flow.Flow) (flow.View, error) {
	return update(s, ctx, func(tx *Tx) (flow.View, error) { return tx.CreateFlow(f) })
}

// CreateFlowJSON creates a flow from a POST body; see [Tx.CreateFlowJSON].
func (s *Store) CreateFlowJSON(ctx context.Context, body []byte) (flow.View, error) {
	return update(s, ctx, func(tx *Tx) (flow.View, error) { return tx.CreateFlowJSON(body) })
}

// ReplaceFlow applies a PUT body; see [Tx.ReplaceFlow].
func (s *Store) ReplaceFlow(ctx context.Context, slug string, body []byte) (flow.View, error) {
	return update(s, ctx, func(tx *Tx) (flow.View, error) { return tx.ReplaceFlow(slug, body) })
}

// PatchFlow applies a merge patch; see [Tx.PatchFlow].
func (s *Store) PatchFlow(ctx context.Context, slug string, patch []byte) (flow.View, error) {
	return update(s, ctx, func(tx *Tx) (flow.View, error) { return tx.PatchFlow(slug, patch) })
}

// SetFlowBackgroundURL sets the background; see [Tx.SetFlowBackgroundURL].
func (s *Store) SetFlowBackgroundURL(ctx context.Context, slug, url string) (flow.View, error) {
	return update(s, ctx, func(tx *Tx) (flow.View, error) { return tx.SetFlowBackgroundURL(slug, url) })
}

// DeleteFlow deletes a flow and its bindings; see [Tx.DeleteFlow].
func (s *Store) DeleteFlow(ctx context.Context, slug string) error {
	return s.Update(ctx, func(tx *Tx) error { return tx.DeleteFlow(slug) })
}
