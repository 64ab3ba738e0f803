package store

import (
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

// SetBackgroundURL stores url verbatim as the background of the flow that
// k names ("" restores the default), as authentik's set_background_url
// action does, and returns the flow. Like a replace, it takes a revision
// when it changes the flow and honours o's UnchangedSince. A url longer
// than flow.MaxBackgroundLength is a *validate.Error on "url".
func SetBackgroundURL(tx *Tx, k Key, url string, o *WriteOptions) (flow.Flow, error) {
	if err := tx.canWrite(); err != nil {
		return flow.Flow{}, err
	}
	c, obj, err := tx.byKey(ModelFlow, k)
	if err != nil {
		return flow.Flow{}, err
	}
	if err := tx.precondition(c, obj, o); err != nil {
		return flow.Flow{}, err
	}
	cur := obj.(flow.Flow)
	next := cur
	if err := next.SetBackgroundURL(url); err != nil {
		return flow.Flow{}, err
	}
	if err := tx.put(c, cur, next); err != nil {
		return flow.Flow{}, err
	}
	return next, nil
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
