package reputation_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/reputation"
)

// Five failed logins from one address bring its score to -5, where a
// reputation policy with authentik's defaults (threshold -5) passes: a
// captcha stage bound to it is shown.
func ExampleEvaluator() {
	ctx := context.Background()
	scores, err := reputation.NewMem(reputation.Options{})
	if err != nil {
		panic(err)
	}
	client := netip.MustParseAddr("203.0.113.9")
	p := policy.Policy{Name: "conditional-captcha", Config: policy.DefaultReputation()}
	req := plan.PolicyRequest{HTTP: &plan.HTTPRequest{ClientIP: client}}
	ev := reputation.Evaluator(scores)
	for i := range 6 {
		r, err := ev.Evaluate(ctx, p, req)
		if err != nil {
			panic(err)
		}
		fmt.Printf("after %d failures: passing %v\n", i, r.Passing)
		_ = scores.Add(ctx, client, "alice", reputation.LoginFailed)
	}
	// Output:
	// after 0 failures: passing false
	// after 1 failures: passing false
	// after 2 failures: passing false
	// after 3 failures: passing false
	// after 4 failures: passing false
	// after 5 failures: passing true
}
