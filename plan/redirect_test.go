package plan_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/google/uuid"
)

const redirectFlow = `version: 1
entries:
- {model: authentik_flows.flow, id: flow, identifiers: {slug: login}, attrs: {name: L, title: L, designation: authentication}}
- {model: authentik_stages_dummy.dummystage, id: s1, identifiers: {name: s1}}
- {model: authentik_stages_dummy.dummystage, id: s2, identifiers: {name: s2}}
- {model: authentik_stages_dummy.dummystage, id: s3, identifiers: {name: s3}}
- {model: authentik_flows.flowstagebinding, id: b1, identifiers: {target: !KeyOf flow, stage: !KeyOf s1, order: 10}, attrs: {evaluate_on_plan: true}}
- {model: authentik_flows.flowstagebinding, id: b2, identifiers: {target: !KeyOf flow, stage: !KeyOf s2, order: 20}, attrs: {evaluate_on_plan: true}}
- {model: authentik_flows.flowstagebinding, id: b3, identifiers: {target: !KeyOf flow, stage: !KeyOf s3, order: 30}, attrs: {evaluate_on_plan: true}}
- {model: authentik_policies_dummy.dummypolicy, id: flowpol, identifiers: {name: flowpol}}
- {model: authentik_policies_dummy.dummypolicy, id: first, identifiers: {name: first}}
- {model: authentik_policies_dummy.dummypolicy, id: third, identifiers: {name: third}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf flow, policy: !KeyOf flowpol, order: 0}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf b1, policy: !KeyOf first, order: 0}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf b3, policy: !KeyOf third, order: 0}}
`

// TestPlanRedirect: the planner gives the policies of the bindings it
// evaluates a FlowPlan whose Redirect inserts a redirect stage at index
// 1 of the stages planned so far (at 0 when there are none), as
// authentik's insert_stage does, and kept when the binding's policies
// then fail; a flow's own policies get none. Every policy sees the
// request's HTTP request.
func TestPlanRedirect(t *testing.T) {
	s := load(t, redirectFlow)
	httpReq := &plan.HTTPRequest{Method: "GET", Path: "/if/flow/login/", Query: url.Values{"next": {"/x"}}, Header: http.Header{}}
	seen := map[string]bool{} // policy name: it had a plan
	evs := plan.Builtin(nil)
	evs[policy.ModelDummy] = plan.EvaluatorFunc(func(_ context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		seen[p.Name] = req.Plan != nil
		if req.HTTP != httpReq {
			t.Errorf("%s: HTTP %v, want the request's", p.Name, req.HTTP)
		}
		switch p.Name {
		case "first":
			req.Plan.Redirect("/a")
		case "third":
			req.Plan.Redirect("/c")
			return plan.Result{Passing: false, Messages: []string{}}, nil
		}
		return plan.Result{Passing: true, Messages: []string{}}, nil
	})
	p, err := makePlan(t, s, plan.Request{HTTP: httpReq}, plan.Options{Evaluators: evs})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{"flowpol": false, "first": true, "third": true}; !reflect.DeepEqual(seen, want) {
		t.Errorf("had a plan: %v, want %v", seen, want)
	}
	var got []string
	for _, st := range p.Stages {
		got = append(got, st.Name+" "+st.Redirect)
		if st.Name == "redirect" && (st.Binding != uuid.Nil || st.Stage != uuid.Nil || st.Marker != plan.MarkerStage) {
			t.Errorf("redirect stage %+v", st)
		}
	}
	// first: [] -> [R/a], then s1; s2; third: R/c at 1, s3 dropped.
	if want := []string{"redirect /a", "redirect /c", "s1 ", "s2 "}; !reflect.DeepEqual(got, want) {
		t.Errorf("stages %q, want %q", got, want)
	}
}
