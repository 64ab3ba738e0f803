package plan_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
)

const flowPolicies = `version: 1
entries:
- {model: authentik_flows.flow, id: f, identifiers: {slug: f}, attrs: {name: f, title: f, designation: authentication, authentication: require_authenticated}}
- {model: authentik_policies_dummy.dummypolicy, id: yes, identifiers: {name: yes}, attrs: {result: true}}
- {model: authentik_policies_dummy.dummypolicy, id: no, identifiers: {name: no}, attrs: {result: false}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf f, policy: !KeyOf yes, order: 0}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf f, policy: !KeyOf no, order: 1}}
- {model: authentik_stages_dummy.dummystage, id: d, identifiers: {name: d}}
- {model: authentik_flows.flowstagebinding, id: b, identifiers: {target: !KeyOf f, stage: !KeyOf d, order: 0}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf b, policy: !KeyOf no, order: 0}}
`

// EvaluateFlow evaluates the flow's own policies under its mode, not its
// stage bindings' nor its authentication requirement.
func TestEvaluateFlow(t *testing.T) {
	s := load(t, flowPolicies)
	ctx := context.Background()
	eval := func(mode flow.PolicyEngineMode) plan.Evaluation {
		t.Helper()
		var ev plan.Evaluation
		err := s.View(ctx, func(tx *store.Tx) error {
			f, err := store.Flows.Get(tx, store.By("slug", "f"))
			if err != nil {
				return err
			}
			f.PolicyEngineMode = mode
			ev, err = plan.EvaluateFlow(ctx, tx, f, plan.Request{Context: map[string]any{}}, plan.Options{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	if ev := eval(flow.PolicyEngineModeAll); ev.Passing || len(ev.Trace) != 3 || ev.Trace[2].What != "flow" {
		t.Errorf("mode all: %+v", ev)
	}
	if ev := eval(flow.PolicyEngineModeAny); !ev.Passing || !reflect.DeepEqual(ev.Messages, []string{"dummy", "dummy"}) {
		t.Errorf("mode any: %+v", ev)
	}
}
