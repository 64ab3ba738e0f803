package plan_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

const listed = `version: 1
entries:
- model: authentik_policies_dummy.dummypolicy
  identifiers: {name: yes}
  attrs: {result: true}
- model: authentik_policies_dummy.dummypolicy
  identifiers: {name: no}
  attrs: {result: false}
- model: authentik_policies_dummy.dummypolicy
  identifiers: {name: boom}
  attrs: {result: true}
`

// EvaluatePolicies is authentik's ListPolicyEngine: every policy must
// pass (mode all), the messages of all are kept in order, an error is
// failure_result false with its text, the user is resolved from the
// directory, policies see the context and no flow_plan, and updates are
// returned.
func TestEvaluatePolicies(t *testing.T) {
	s := load(t, listed)
	ctx := context.Background()
	pks := map[string]uuid.UUID{}
	err := s.View(ctx, func(tx *store.Tx) error {
		for _, n := range []string{"yes", "no", "boom"} {
			p, err := store.Policies.Get(tx, store.By("name", n))
			if err != nil {
				return err
			}
			pks[n] = p.PK
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	evs := plan.Builtin(nil)
	evs[policy.ModelDummy] = plan.EvaluatorFunc(func(_ context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		if p.Name == "boom" {
			return plan.Result{}, errors.New("boom failed")
		}
		if req.Plan != nil {
			t.Errorf("a listed policy sees a flow_plan")
		}
		req.Update(plan.Update{Model: "authentik_flows.flow"})
		msg, _ := req.Context["prompt_data"].(map[string]any)["m"].(string)
		return plan.Result{Passing: p.Config.(policy.Dummy).Result, Messages: []string{p.Name + msg}}, nil
	})
	opts := plan.Options{Evaluators: evs}
	req := plan.Request{Context: map[string]any{"prompt_data": map[string]any{"m": "!"}}}
	eval := func(names ...string) plan.Evaluation {
		t.Helper()
		var list []uuid.UUID
		for _, n := range names {
			list = append(list, pks[n])
		}
		var ev plan.Evaluation
		err := s.View(ctx, func(tx *store.Tx) error {
			var err error
			ev, err = plan.EvaluatePolicies(ctx, tx, list, req, opts)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	if ev := eval(); !ev.Passing || len(ev.Messages) != 0 {
		t.Errorf("no policies: %+v", ev)
	}
	ev := eval("yes", "no")
	if ev.Passing || !reflect.DeepEqual(ev.Messages, []string{"yes!", "no!"}) || len(ev.Updates) != 2 || len(ev.Trace) != 2 {
		t.Errorf("yes, no: %+v", ev)
	}
	if ev.Updates[0].Policy != "yes" {
		t.Errorf("updates %+v", ev.Updates)
	}
	if ev := eval("yes"); !ev.Passing {
		t.Errorf("yes: %+v", ev)
	}
	if ev := eval("yes", "boom"); ev.Passing || !reflect.DeepEqual(ev.Messages, []string{"yes!", "boom failed"}) {
		t.Errorf("yes, boom: %+v", ev)
	}
	// A user the directory does not hold is refused, as by Make.
	err = s.View(ctx, func(tx *store.Tx) error {
		_, err := plan.EvaluatePolicies(ctx, tx, []uuid.UUID{pks["yes"]}, plan.Request{User: plan.User{PK: 99}}, opts)
		return err
	})
	if !errors.Is(err, plan.ErrUnknownUser) {
		t.Errorf("unknown user: %v", err)
	}
	// A pk that names no policy is damage.
	err = s.View(ctx, func(tx *store.Tx) error {
		_, err := plan.EvaluatePolicies(ctx, tx, []uuid.UUID{uuid.New()}, req, opts)
		return err
	})
	if !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("unknown policy: %v", err)
	}
}
