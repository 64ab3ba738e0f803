package plan

import (
	"context"

	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// EvaluatePolicies evaluates the policies with pks policyPKs for req,
// each under a binding with authentik's defaults (enabled, not negated,
// a 30-second timeout, failure_result false), all of which must pass:
// authentik's ListPolicyEngine in mode all, as a prompt stage runs its
// validation_policies. It is the planner's engine (the same evaluators,
// panics and errors, ak_call_policy, directory); the user is resolved
// from the directory as Make resolves it, and policies see no flow_plan.
// No policies pass. A pk that names no policy is an error wrapping
// store.ErrCorrupt (a stage's list names only stored policies). Nothing
// is written: Updates are returned.
func EvaluatePolicies(ctx context.Context, tx *store.Tx, policyPKs []uuid.UUID, req Request, opts Options) (Evaluation, error) {
	e, err := engineFor(ctx, tx, req, opts)
	if err != nil {
		return Evaluation{}, err
	}
	out := Evaluation{Passing: true, Messages: []string{}}
	for i, pk := range policyPKs {
		b := policy.DefaultBinding()
		b.Policy, b.Order = &pk, int32(i)
		res, step, err := e.one(ctx, b, nil)
		if err != nil {
			return Evaluation{}, err
		}
		if !opts.NoTrace {
			step.PK = nil // the binding is not stored
			out.Trace = append(out.Trace, step)
		}
		out.Messages = append(out.Messages, res.Messages...)
		out.Passing = out.Passing && res.Passing
	}
	out.Updates = e.own.updates
	return out, nil
}
