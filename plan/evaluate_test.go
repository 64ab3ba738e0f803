package plan_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

const reevaluated = `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication}
- model: authentik_stages_dummy.dummystage
  id: d
  identifiers: {name: d}
- model: authentik_flows.flowstagebinding
  id: b
  identifiers: {target: !KeyOf flow, stage: !KeyOf d, order: 0}
  attrs: {re_evaluate_policies: true, policy_engine_mode: all}
- model: authentik_policies_dummy.dummypolicy
  id: yes
  identifiers: {name: yes}
  attrs: {result: true}
- model: authentik_policies_dummy.dummypolicy
  id: no
  identifiers: {name: no}
  attrs: {result: false}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf b, policy: !KeyOf yes, order: 0}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf b, policy: !KeyOf no, order: 1, negate: true}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf b, policy: !KeyOf no, order: 2, enabled: false}
`

// recorder is a FlowPlan that records redirects.
type recorder struct{ to []string }

func (r *recorder) Redirect(to string) { r.to = append(r.to, to) }

// EvaluateBinding applies the engine's semantics (mode all, negate,
// enabled) to a binding's policies, gives the policies the plan, and
// returns the trace and the updates they asked for.
func TestEvaluateBinding(t *testing.T) {
	s := load(t, reevaluated)
	ctx := context.Background()
	var bpk uuid.UUID
	fp := &recorder{}
	evs := plan.Builtin(nil)
	evs[policy.ModelDummy] = plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		req.Plan.Redirect("/" + p.Name)
		req.Update(plan.Update{Model: "authentik_flows.flow"})
		return plan.Result{Passing: p.Config.(policy.Dummy).Result, Messages: []string{p.Name}}, nil
	})
	var ev plan.Evaluation
	err := s.View(ctx, func(tx *store.Tx) error {
		p, err := plan.Make(ctx, tx, "login", plan.Request{}, plan.Options{})
		if err != nil {
			return err
		}
		bpk = p.Stages[0].Binding
		if p.Stages[0].Marker != plan.MarkerReevaluate {
			t.Fatalf("marker %s", p.Stages[0].Marker)
		}
		ev, err = plan.EvaluateBinding(ctx, tx, bpk, plan.Request{}, fp, plan.Options{Evaluators: evs})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Passing || !reflect.DeepEqual(ev.Messages, []string{"yes", "no"}) || len(ev.Trace) != 3 || ev.Trace[2].What != "binding" {
		t.Errorf("evaluation %+v", ev)
	}
	if !reflect.DeepEqual(fp.to, []string{"/yes", "/no"}) || len(ev.Updates) != 2 || ev.Updates[1].Policy != "no" {
		t.Errorf("redirects %v, updates %+v", fp.to, ev.Updates)
	}
	// With the builtin dummy evaluator, "no" negated passes and "yes"
	// passes: all pass.
	err = s.View(ctx, func(tx *store.Tx) error {
		ev, err = plan.EvaluateBinding(ctx, tx, bpk, plan.Request{}, nil, plan.Options{})
		return err
	})
	if err != nil || !ev.Passing {
		t.Errorf("builtin: %+v %v", ev, err)
	}
	// A binding deleted since planning has no policies left: it passes.
	err = s.View(ctx, func(tx *store.Tx) error {
		ev, err = plan.EvaluateBinding(ctx, tx, uuid.New(), plan.Request{}, nil, plan.Options{})
		return err
	})
	if err != nil || !ev.Passing || len(ev.Trace) != 1 {
		t.Errorf("deleted binding: %+v %v", ev, err)
	}
	// An unknown user is an error, as for Make.
	err = s.View(ctx, func(tx *store.Tx) error {
		_, err := plan.EvaluateBinding(ctx, tx, bpk, plan.Request{User: plan.User{PK: 99}}, nil, plan.Options{})
		return err
	})
	if err == nil {
		t.Error("an unknown user evaluates")
	}
}
