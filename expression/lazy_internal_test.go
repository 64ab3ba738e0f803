package expression

import (
	"context"
	"strings"
	"testing"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"go.starlark.net/starlark"
)

// TestPendingUserLazy: the plan context's pending_user is converted at
// the first use of one of its fields, not before; a field it lacks
// converts nothing, and a written field reaches the plan context.
func TestPendingUserLazy(t *testing.T) {
	pu := map[string]any{"pk": 1.0, "attributes": map[string]any{}}
	ctx, err := planContext(map[string]any{"pending_user": pu}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := ctx.Get(starlark.String("pending_user"))
	u := v.(*userValue)
	if x, err := u.Attr("backend"); x != nil || err != nil || u.converted() {
		t.Fatalf("backend: %v %v, converted %v", x, err, u.converted())
	}
	if !unchanged(ctx, map[string]any{"pending_user": pu}, 0) {
		t.Error("an unconverted pending_user is not unchanged")
	}
	if x, err := u.Attr("pk"); x != starlark.Float(1) || err != nil || !u.converted() {
		t.Fatalf("pk: %v %v, converted %v", x, err, u.converted())
	}

	ev := Evaluator(nil)
	for _, c := range []struct {
		src       string
		converted bool
	}{
		{`return not hasattr(context["pending_user"], "backend")`, false},
		{`context["pending_user"].attributes["seen"] = True
return True`, true},
	} {
		m := map[string]any{"pending_user": map[string]any{"pk": 1.0, "attributes": map[string]any{}}}
		res, err := ev.Evaluate(context.Background(), policy.Policy{Name: "p", Config: policy.Expression{Expression: c.src}}, plan.PolicyRequest{Context: m})
		if err != nil || !res.Passing {
			t.Fatalf("%s: %+v %v", c.src, res, err)
		}
		seen := m["pending_user"].(map[string]any)["attributes"].(map[string]any)["seen"] == true
		if seen != c.converted {
			t.Errorf("%s: written %v, context %v", c.src, seen, m)
		}
	}

	// A value that cannot be passed fails the use of the fields, not
	// the evaluation.
	bad := map[string]any{"pending_user": map[string]any{"pk": 1.0, "when": struct{}{}}}
	p := func(src string) policy.Policy {
		return policy.Policy{Name: "p", Config: policy.Expression{Expression: src}}
	}
	if res, err := ev.Evaluate(context.Background(), p(`return not hasattr(context["pending_user"], "backend")`), plan.PolicyRequest{Context: bad}); err != nil || !res.Passing {
		t.Errorf("hasattr: %+v %v", res, err)
	}
	if _, err := ev.Evaluate(context.Background(), p(`return context["pending_user"].pk == 1`), plan.PolicyRequest{Context: bad}); err == nil || !strings.Contains(err.Error(), "cannot pass a struct {}") {
		t.Errorf("pk: %v", err)
	}
}
