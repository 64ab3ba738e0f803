package plan

import (
	"context"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/store"
)

// EvaluateFlow evaluates the policies bound to flow f itself (not its
// stage bindings') for req, under the flow's policy engine mode, with the
// planner's engine and semantics, as Make does before it plans: the
// engine authentik's default-flow views run on each candidate flow
// (ToDefaultFlow.flow_by_policy). The flow's authentication requirement
// is not checked, as those views do not check it. Policies see no
// flow_plan. The user is resolved from the directory as Make resolves
// it. Nothing is written: Updates are returned.
func EvaluateFlow(ctx context.Context, tx *store.Tx, f flow.Flow, req Request, opts Options) (Evaluation, error) {
	e, err := engineFor(ctx, tx, req, opts)
	if err != nil {
		return Evaluation{}, err
	}
	res, steps, err := e.evaluate(ctx, f.PK, f.PolicyEngineMode, nil)
	if err != nil {
		return Evaluation{}, err
	}
	if opts.NoTrace {
		return Evaluation{Passing: res.Passing, Messages: res.Messages, Updates: e.own.updates}, nil
	}
	steps = append(steps, Step{What: "flow", Evaluated: true, Passing: res.Passing, Messages: res.Messages,
		Why: "the flow's policies, mode " + string(f.PolicyEngineMode)})
	return Evaluation{Passing: res.Passing, Messages: res.Messages, Trace: steps, Updates: e.own.updates}, nil
}

// engineFor is the planner's engine for an evaluation outside Make
// (EvaluateBinding, EvaluatePolicies, EvaluateFlow): the evaluators
// defaulted as Make defaults them, the user resolved from the directory
// as Make resolves it, and Updates collected in its own.
func engineFor(ctx context.Context, tx *store.Tx, req Request, opts Options) (*engine, error) {
	if opts.Evaluators == nil {
		opts.Evaluators = Builtin(opts.Now)
	}
	e := newEngine(tx, opts)
	e.own.reads = reads{until: Forever, unkept: true}
	e.reads, e.updates = &e.own.reads, &e.own.updates
	var err error
	if req.User, err = resolveUser(ctx, tx, req.User, opts, e.reads, &e.own.changed); err != nil {
		return nil, err
	}
	e.req = req
	return e, nil
}
