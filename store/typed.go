package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// The typed operations. Each is a thin layer over the engine (write, del,
// get), which does the same for every collection; what is left here is
// the Go types and the computed view fields (stages, flow_set, stage_obj),
// read from the engine's indexes.

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
// a stored reference or index names is damage, not a 404.
func render[T, V any](view func(T) (V, error), t T) (V, error) {
	v, err := view(t)
	if errors.Is(err, ErrNotFound) {
		return v, fmt.Errorf("store: %w: %v", ErrCorrupt, err)
	}
	return v, err
}

// Flows.

// flowPK is the pk of the flow with the slug.
func (tx *Tx) flowPK(slug string) (uuid.UUID, error) {
	f, err := tx.flowBySlug(slug)
	return f.PK, err
}

// flowBySlug loads the flow that the slug index names for slug, which
// must exist and have that slug: a damaged entry is ErrCorrupt, never
// another flow read or written in its place.
func (tx *Tx) flowBySlug(slug string) (flow.Flow, error) {
	pk, ok, err := tx.lookup(tx.s.schema.flows, "slug", slug)
	if err != nil {
		return flow.Flow{}, err
	}
	if !ok {
		return flow.Flow{}, fmt.Errorf("store: flow %q: %w", slug, ErrNotFound)
	}
	f, err := as[flow.Flow](tx.must(tx.s.schema.flows, pk))
	if errors.Is(err, ErrNotFound) {
		return flow.Flow{}, fmt.Errorf("store: flow %q: %w: the slug index points at missing %s", slug, ErrCorrupt, pk)
	}
	if err == nil && f.Slug != slug {
		return flow.Flow{}, fmt.Errorf("store: flow %q: %w: the flows_by_slug entry names flow %s, whose slug is %q", slug, ErrCorrupt, pk, f.Slug)
	}
	return f, err
}

// flowView adds the computed fields: stages from the bindings index, in
// binding order.
func (tx *Tx) flowView(f flow.Flow) (flow.View, error) {
	v := flow.View{Flow: f, Stages: []uuid.UUID{}}
	err := tx.scanCounted("bindings_by_flow", f.PK[:], func(k, val []byte) (bool, error) {
		id, _, err := indexedID("bindings_by_flow", k, val)
		v.Stages = append(v.Stages, id)
		return err == nil, err
	})
	if err != nil {
		return v, err
	}
	v.Policies, err = tx.boundPolicies(f.PK)
	return v, err
}

// GetFlow returns the flow with pk id, or an error wrapping [ErrNotFound].
func (tx *Tx) GetFlow(id uuid.UUID) (flow.View, error) {
	return viewed(tx.flowView)(tx.must(tx.s.schema.flows, id))
}

// GetFlowBySlug returns the flow with the slug (case-sensitive), or an
// error wrapping [ErrNotFound].
func (tx *Tx) GetFlowBySlug(slug string) (flow.View, error) {
	f, err := tx.flowBySlug(slug)
	return viewed(tx.flowView)(any(f), err)
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
	return viewed(tx.flowView)(tx.write(tx.s.schema.flows, nil, "", body, validate.Create, uuid.Nil))
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
	pk, err := tx.flowPK(slug)
	if err != nil {
		return flow.View{}, err
	}
	return viewed(tx.flowView)(tx.update(ModelFlow, pk, body, op))
}

// SetFlowBackgroundURL stores url verbatim as the background of the flow
// with the slug ("" restores the default), as authentik's
// set_background_url action does. Like a replace, it takes a revision
// when it changes the flow and honours [WithUnchangedSince]. A url longer
// than flow.MaxBackgroundLength is a *validate.Error on "url".
func (tx *Tx) SetFlowBackgroundURL(slug, url string) (flow.View, error) {
	if err := tx.writable(); err != nil {
		return flow.View{}, err
	}
	cur, err := tx.flowBySlug(slug)
	if err != nil {
		return flow.View{}, err
	}
	if err := tx.precondition(tx.s.schema.flows, cur); err != nil {
		return flow.View{}, err
	}
	next := cur
	if err := next.SetBackgroundURL(url); err != nil {
		return flow.View{}, err
	}
	if err := tx.put(tx.s.schema.flows, cur, next); err != nil {
		return flow.View{}, err
	}
	return tx.flowView(next)
}

// DeleteFlow deletes the flow with the slug, and with it, in the same
// transaction, whatever its references' on-delete actions say: its
// bindings go, and stage fields that point at it (such as Duo's
// configure_flow) are set to null.
func (tx *Tx) DeleteFlow(slug string) error {
	if err := tx.writable(); err != nil {
		return err
	}
	pk, err := tx.flowPK(slug)
	if err != nil {
		return err
	}
	return tx.Delete(ModelFlow, pk)
}

// Stages.

func (tx *Tx) mustStage(id uuid.UUID) (stage.Stage, error) {
	return as[stage.Stage](tx.must(tx.s.schema.stages, id))
}

// flowSet lists the flows that bind the stage, one entry per binding, in
// binding pk order.
func (tx *Tx) flowSet(id uuid.UUID) ([]flow.Set, error) {
	out := []flow.Set{}
	var flows []uuid.UUID
	err := tx.scanCounted("bindings_by_stage", id[:], func(k, v []byte) (bool, error) {
		fid, _, err := indexedID("bindings_by_stage", k, v)
		flows = append(flows, fid)
		return err == nil, err
	})
	if err != nil {
		return nil, err
	}
	for _, fid := range flows {
		f, err := as[flow.Flow](tx.must(tx.s.schema.flows, fid))
		if err != nil {
			return nil, err
		}
		out = append(out, flow.Set{Flow: f})
	}
	return out, nil
}

func (tx *Tx) stageView(st stage.Stage) (stage.View, error) {
	k, ok := tx.s.reg.Lookup(st.Model())
	if !ok {
		return stage.View{}, fmt.Errorf("store: stage %s: %w: %q", st.PK, stage.ErrUnknownKind, st.Model())
	}
	fs, err := tx.flowSet(st.PK)
	if err != nil {
		return stage.View{}, err
	}
	return stage.View{Stage: st, Kind: k, FlowSet: fs}, nil
}

// GetStage returns the stage with pk id, of any kind, or an error wrapping
// [ErrNotFound].
func (tx *Tx) GetStage(id uuid.UUID) (stage.View, error) {
	return viewed(tx.stageView)(tx.must(tx.s.schema.stages, id))
}

// CreateStage stores a new stage built in Go. Start its Config from the
// kind's defaults (for example stage.DefaultUserWrite()). It is validated
// exactly as [Tx.CreateStageJSON] validates a body.
func (tx *Tx) CreateStage(st stage.Stage) (stage.View, error) {
	if st.Config == nil {
		return stage.View{}, validate.FieldError("meta_model_name", validate.MsgRequired)
	}
	body, err := tx.s.reg.Body(st)
	if err != nil {
		return stage.View{}, fmt.Errorf("store: %w", err)
	}
	return tx.CreateStageJSON(st.Model(), body)
}

// CreateStageJSON creates a stage of kind model from a POST body. A
// rejected body gives a [*validate.Error] and writes nothing; an unknown
// model gives an error wrapping [stage.ErrUnknownKind].
func (tx *Tx) CreateStageJSON(model stage.ModelName, body []byte) (stage.View, error) {
	if err := tx.writable(); err != nil {
		return stage.View{}, err
	}
	return viewed(tx.stageView)(tx.write(tx.s.schema.stages, nil, string(model), body, validate.Create, uuid.Nil))
}

// ReplaceStage applies a PUT body to the stage with pk id. Required fields
// must be present, write-only ones (secrets) included; omitted optional
// fields keep their values.
func (tx *Tx) ReplaceStage(id uuid.UUID, body []byte) (stage.View, error) {
	return tx.writeStage(id, body, validate.Replace)
}

// PatchStage applies an RFC 7396 merge patch to the stage with pk id.
func (tx *Tx) PatchStage(id uuid.UUID, patch []byte) (stage.View, error) {
	return tx.writeStage(id, patch, validate.Patch)
}

func (tx *Tx) writeStage(id uuid.UUID, body []byte, op validate.Op) (stage.View, error) {
	return viewed(tx.stageView)(tx.update(ModelStage, id, body, op))
}

// DeleteStage deletes the stage with pk id, and its bindings in the same
// transaction.
func (tx *Tx) DeleteStage(id uuid.UUID) error { return tx.Delete(ModelStage, id) }

// Bindings.

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
	return viewed(tx.bindingView)(tx.must(tx.s.schema.bindings, id))
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
	return viewed(tx.bindingView)(tx.write(tx.s.schema.bindings, nil, "", body, validate.Create, uuid.Nil))
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
	return viewed(tx.bindingView)(tx.update(ModelBinding, id, body, op))
}

// DeleteBinding deletes the binding with pk id, or returns an error
// wrapping [ErrNotFound].
func (tx *Tx) DeleteBinding(id uuid.UUID) error { return tx.Delete(ModelBinding, id) }

// FlowBindings returns the bindings of the flow with pk id in order (ties
// broken by pk), reading only those bindings.
func (tx *Tx) FlowBindings(id uuid.UUID) ([]binding.View, error) {
	ids, err := tx.scanIDs("bindings_by_flow", id[:], -16)
	if err != nil {
		return nil, err
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

// GetStage returns a stage; see [Tx.GetStage].
func (s *Store) GetStage(ctx context.Context, id uuid.UUID) (stage.View, error) {
	return view(s, ctx, func(tx *Tx) (stage.View, error) { return tx.GetStage(id) })
}

// CreateStage creates a stage built in Go; see [Tx.CreateStage].
func (s *Store) CreateStage(ctx context.Context, st stage.Stage) (stage.View, error) {
	return update(s, ctx, func(tx *Tx) (stage.View, error) { return tx.CreateStage(st) })
}

// CreateStageJSON creates a stage from a POST body; see [Tx.CreateStageJSON].
func (s *Store) CreateStageJSON(ctx context.Context, model stage.ModelName, body []byte) (stage.View, error) {
	return update(s, ctx, func(tx *Tx) (stage.View, error) { return tx.CreateStageJSON(model, body) })
}

// ReplaceStage applies a PUT body; see [Tx.ReplaceStage].
func (s *Store) ReplaceStage(ctx context.Context, id uuid.UUID, body []byte) (stage.View, error) {
	return update(s, ctx, func(tx *Tx) (stage.View, error) { return tx.ReplaceStage(id, body) })
}

// PatchStage applies a merge patch; see [Tx.PatchStage].
func (s *Store) PatchStage(ctx context.Context, id uuid.UUID, patch []byte) (stage.View, error) {
	return update(s, ctx, func(tx *Tx) (stage.View, error) { return tx.PatchStage(id, patch) })
}

// DeleteStage deletes a stage and its bindings; see [Tx.DeleteStage].
func (s *Store) DeleteStage(ctx context.Context, id uuid.UUID) error {
	return s.Update(ctx, func(tx *Tx) error { return tx.DeleteStage(id) })
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

// UsedBy lists what refers to an object; see [Tx.UsedBy].
func (s *Store) UsedBy(ctx context.Context, model string, pk uuid.UUID) ([]UsedBy, error) {
	return view(s, ctx, func(tx *Tx) ([]UsedBy, error) { return tx.UsedBy(model, pk) })
}

// DeleteImpact previews a delete; see [Tx.DeleteImpact].
func (s *Store) DeleteImpact(ctx context.Context, model string, pk uuid.UUID) (Impact, error) {
	return view(s, ctx, func(tx *Tx) (Impact, error) { return tx.DeleteImpact(model, pk) })
}
