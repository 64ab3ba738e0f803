package cli

import (
	"context"
	"testing"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/reputation"
)

// serve's and run's planner evaluates reputation policies over the scores
// their executor changes; plan's over none.
func TestPlanOptionsReputation(t *testing.T) {
	ctx := context.Background()
	rep, err := reputation.NewMem(reputation.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Add(ctx, reputation.UnknownIP, "alice", -5); err != nil {
		t.Fatal(err)
	}
	p := policy.Policy{Name: "r", Config: policy.DefaultReputation()}
	for _, c := range []struct {
		rep  reputation.Scores
		want bool
	}{{rep, true}, {nil, false}} {
		ev := planOptions(c.rep).Evaluators[policy.ModelReputation]
		if ev == nil {
			t.Fatal("no reputation evaluator")
		}
		r, err := ev.Evaluate(ctx, p, plan.PolicyRequest{})
		if err != nil || r.Passing != c.want {
			t.Errorf("scores %v: passing %v, %v; want %v", c.rep != nil, r.Passing, err, c.want)
		}
	}
}
