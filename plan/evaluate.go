package plan

import (
	"context"
	"slices"

	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// Evaluation is the outcome of a binding's policies evaluated when its
// stage is reached (a MarkerReevaluate stage).
type Evaluation struct {
	// Passing says whether the stage runs; a failing one is removed from
	// the plan.
	Passing bool
	// Messages are the policies' messages, in order.
	Messages []string
	// Trace holds a step per policy binding evaluated, then one for the
	// binding.
	Trace []Step
	// Updates are the writes the policies asked for (see Update), for the
	// caller to apply once its step has committed.
	Updates []Update
}

// EvaluateBinding evaluates the policies bound to the flow-stage binding
// with bindingPK for req, under the binding's policy engine mode, with
// the planner's engine and semantics (enabled, order, negate, timeout,
// failure_result, group and user bindings): authentik's ReevaluateMarker.
// fp is the plan being run, which policies see as flow_plan. The user is
// resolved from the directory as Make resolves it, when there is a
// policy binding to evaluate: a binding without an enabled one passes
// without reading the user (as authentik's engine of no bindings does;
// most of authentik's bindings re-evaluate, few have policies). A
// binding that no longer exists has no policies left and passes, as
// authentik's snapshot of it would. Nothing is written: Updates are
// returned.
func EvaluateBinding(ctx context.Context, tx *store.Tx, bindingPK uuid.UUID, req Request, fp FlowPlan, opts Options) (Evaluation, error) {
	mode, bindings, err := opts.Decoded.bindingPolicies(tx, bindingPK)
	if err != nil {
		return Evaluation{}, err
	}
	var (
		res     Result
		steps   []Step
		updates []Update
		pk      *uuid.UUID
	)
	if !slices.ContainsFunc(bindings, func(b policy.Binding) bool { return b.Enabled }) {
		// No enabled policy binding: nothing reads the user.
		if err := checkUser(req.User); err != nil {
			return Evaluation{}, err
		}
		res = Result{Passing: true, Messages: []string{}} // engine.evaluate of none
		if opts.NoTrace {
			return Evaluation{Passing: true, Messages: res.Messages}, nil
		}
		// The binding's step and its pk, allocated together.
		own := new(struct {
			steps [1]Step
			pk    uuid.UUID
		})
		own.pk = bindingPK
		steps, pk = own.steps[:0], &own.pk
	} else {
		e, err := engineFor(ctx, tx, req, opts)
		if err != nil {
			return Evaluation{}, err
		}
		if res, steps, err = e.evaluateBindings(ctx, bindings, mode, fp); err != nil {
			return Evaluation{}, err
		}
		if opts.NoTrace {
			return Evaluation{Passing: res.Passing, Messages: res.Messages, Updates: e.own.updates}, nil
		}
		updates, pk = e.own.updates, e.pk(bindingPK)
	}
	why := "kept: its policies passed when the stage was reached"
	if !res.Passing {
		why = "removed: its policies failed when the stage was reached"
	}
	steps = append(steps, Step{What: "binding", PK: pk, Evaluated: true, Passing: res.Passing, Messages: res.Messages, Why: why})
	return Evaluation{Passing: res.Passing, Messages: res.Messages, Trace: steps, Updates: updates}, nil
}

// Options returns the planner options the cache plans with, for
// evaluations that must agree with its plans (EvaluateBinding).
func (c *Cache) Options() Options { return c.opts }
