package reputation

import (
	"context"
	"fmt"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
)

// Evaluator returns the evaluator of reputation policies over s (see the
// package comment). Its results are never cached by a plan.Cache.
func Evaluator(s Scores) plan.Evaluator {
	return plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		c, ok := p.Config.(policy.Reputation)
		if !ok {
			return plan.Result{}, fmt.Errorf("reputation: policy %s is not a reputation policy", p.Name)
		}
		q := Query{CheckIP: c.CheckIP, CheckIdentifier: c.CheckUsername}
		if req.HTTP != nil {
			q.IP = req.HTTP.ClientIP
		}
		if c.CheckUsername {
			var err error
			if q.Identifier, err = Username(ctx, req); err != nil {
				return plan.Result{}, fmt.Errorf("reputation: policy %s: %w", p.Name, err)
			}
		}
		score, err := s.Sum(ctx, q)
		if err != nil {
			return plan.Result{}, fmt.Errorf("reputation: policy %s: %w", p.Name, err)
		}
		return plan.Result{Passing: score <= int64(c.Threshold), Messages: []string{}}, nil
	})
}

// Username returns the username a policy request is for, as authentik's
// policy engine sees request.user: the context's pending_user (a
// stand-in for an unknown identifier included), else the request's user
// read from req.Directory, else "" (the anonymous user).
func Username(ctx context.Context, req plan.PolicyRequest) (string, error) {
	if m, ok := req.Context[directory.ContextPendingUser].(map[string]any); ok {
		if s, ok := m["username"].(string); ok {
			return s, nil
		}
	}
	if req.User.PK == 0 || req.Directory == nil {
		return "", nil
	}
	u, err := req.Directory.User(ctx, req.User.PK)
	if err != nil {
		return "", fmt.Errorf("reading user %d: %w", req.User.PK, err)
	}
	return u.Username, nil
}
