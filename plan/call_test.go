package plan_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
)

// calling returns evaluators under which the dummy policy "yes" (bound to
// the flow of cached) calls the policy named by *target through
// req.Call and returns its result; other dummy policies answer as
// usual, and "unbound" adds the message "from unbound". errs collects
// the errors Call returned; n counts the evaluations.
func calling(target *string, n *int, errs *[]error) map[policy.ModelName]plan.Evaluator {
	evs := plan.Builtin(nil)
	dummy := evs[policy.ModelDummy]
	evs[policy.ModelDummy] = plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		*n++
		switch p.Name {
		case "yes":
			if req.Call == nil {
				return plan.Result{}, errors.New("no Call")
			}
			r, err := req.Call(ctx, *target, req)
			if err != nil {
				*errs = append(*errs, err)
				return plan.Result{}, err
			}
			return r, nil
		case "unbound":
			r, err := dummy.Evaluate(ctx, p, req)
			r.Messages = append(r.Messages, "from unbound", "context x="+req.Context["x"].(string))
			return r, err
		case "boom":
			var m map[string]int
			m["boom"]++
		}
		return dummy.Evaluate(ctx, p, req)
	})
	return evs
}

// callPlan plans "login" of cached under evs.
func callPlan(t *testing.T, s *store.Store, evs map[policy.ModelName]plan.Evaluator) (plan.Plan, error) {
	t.Helper()
	return makePlan(t, s, plan.Request{Context: map[string]any{"x": "y"}}, plan.Options{Evaluators: evs})
}

func TestCallPolicy(t *testing.T) {
	s := load(t, cached+`- model: authentik_policies_dummy.dummypolicy
  identifiers: {name: boom}
  attrs: {result: true}
`)
	var (
		target string
		n      int
		errs   []error
	)
	evs := calling(&target, &n, &errs)

	// Found: the called policy's result, with the caller's context.
	target = "unbound"
	p, err := callPlan(t, s, evs)
	if err != nil || !p.Applicable || !reflect.DeepEqual(p.Messages, []string{}) {
		t.Fatalf("found: %+v %v", p, err)
	}
	if st := p.Trace[1]; !st.Passing || !reflect.DeepEqual(st.Messages, []string{"dummy", "from unbound", "context x=y"}) {
		t.Errorf("found: the flow's policy step %+v", st)
	}

	// Unknown: an error wrapping ErrUnknownPolicy, naming it.
	target, errs = "nope", nil
	p, err = callPlan(t, s, evs)
	if err != nil || p.Applicable || len(errs) != 1 || !errors.Is(errs[0], plan.ErrUnknownPolicy) || !strings.Contains(errs[0].Error(), `"nope"`) {
		t.Errorf("unknown: %+v %v %v", p, err, errs)
	}

	// Depth: a policy that calls itself ends after MaxCallDepth calls
	// with ErrCallDepth, which the level above turns into a failing
	// result (as any error of a called policy), and so on up.
	target, errs, n = "yes", nil, 0
	p, err = callPlan(t, s, evs)
	if err != nil || p.Applicable {
		t.Fatalf("depth: %+v %v", p, err)
	}
	if n != plan.MaxCallDepth+1 || len(errs) != 1 || !errors.Is(errs[0], plan.ErrCallDepth) {
		t.Errorf("depth: %d evaluations, errors %v; want %d and one ErrCallDepth", n, errs, plan.MaxCallDepth+1)
	}
	if len(p.Messages) != 1 || !strings.Contains(p.Messages[0], plan.ErrCallDepth.Error()) {
		t.Errorf("depth: messages %q", p.Messages)
	}

	// A panic in the called policy fails the plan, naming it.
	target = "boom"
	if _, err := callPlan(t, s, evs); !errors.Is(err, plan.ErrEvaluatorPanic) || !strings.Contains(err.Error(), `"boom"`) {
		t.Errorf("panic: %v", err)
	}

	// A called policy whose evaluator fails is a failing result with the
	// error's text, not an error, and not negated.
	evs[policy.ModelPassword] = plan.EvaluatorFunc(func(context.Context, policy.Policy, plan.PolicyRequest) (plan.Result, error) {
		return plan.Result{}, errors.New("it broke")
	})
	loadInto(t, s, `version: 1
entries:
- model: authentik_policies_password.passwordpolicy
  identifiers: {name: pw}
  attrs: {length_min: 1, error_message: x}
`)
	target, errs = "pw", nil
	p, err = callPlan(t, s, evs)
	if err != nil || p.Applicable || !reflect.DeepEqual(p.Messages, []string{"it broke"}) || len(errs) != 0 {
		t.Errorf("evaluator error: %+v %v %v", p, err, errs)
	}
	// No evaluator for the called policy's kind: an error wrapping
	// ErrNoEvaluator.
	delete(evs, policy.ModelPassword)
	errs = nil
	if _, err := callPlan(t, s, evs); len(errs) != 1 || !errors.Is(errs[0], plan.ErrNoEvaluator) {
		t.Errorf("no evaluator: %v %v", err, errs)
	}
}

// A cached plan that called a policy is dropped when that policy
// changes; a plan that called an unknown name is not cached, as the
// policy may be made later.
func TestCallPolicyCache(t *testing.T) {
	s := load(t, cached)
	var (
		target = "unbound"
		n      int
		errs   []error
	)
	c := plan.NewCache(s, plan.CacheOptions{Options: plan.Options{Evaluators: calling(&target, &n, &errs)}})
	defer c.Close()
	req := plan.Request{Context: map[string]any{"x": "y"}}
	mk := func() plan.Plan {
		t.Helper()
		p, err := c.Make(context.Background(), "login", req)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := mk(); !p.Applicable || c.Len() != 1 {
		t.Fatalf("first plan: %+v, %d cached", p, c.Len())
	}
	before := n
	mk()
	if n != before {
		t.Fatalf("the second plan evaluated policies: %d", n-before)
	}
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		pk, _, err := tx.Find(store.ModelPolicy, map[string]any{"name": "unbound"})
		if err != nil {
			return err
		}
		return tx.Patch(store.ModelPolicy, pk, []byte(`{"result":false}`), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := mk(); p.Applicable {
		t.Errorf("the called policy changed, the plan came from the cache: %+v", p)
	}

	c.Clear()
	target = "later"
	if p := mk(); p.Applicable || c.Len() != 0 {
		t.Errorf("unknown name: %+v, %d cached", p, c.Len())
	}
	loadInto(t, s, `version: 1
entries:
- model: authentik_policies_dummy.dummypolicy
  identifiers: {name: later}
  attrs: {result: true}
`)
	if p := mk(); !p.Applicable {
		t.Errorf("the policy made later: %+v", p)
	}
}
