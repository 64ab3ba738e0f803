package expression_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
)

// TestPlanTimeout: the binding's timeout stops a runaway expression
// through the planner's context, and failure_result applies, not
// negated.
func TestPlanTimeout(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "a.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	doc := `version: 1
entries:
- {model: authentik_flows.flow, id: flow, identifiers: {slug: f}, attrs: {name: F, title: F, designation: authentication}}
- {model: authentik_stages_deny.denystage, id: st, identifiers: {name: st}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf flow, stage: !KeyOf st, order: 0}}
- model: authentik_policies_expression.expressionpolicy
  id: loop
  identifiers: {name: loop}
  attrs:
    expression: |
      while True:
          pass
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf flow, policy: !KeyOf loop, order: 0}, attrs: {timeout: 1, failure_result: true, negate: true}}
`
	if _, err := blueprint.Load(ctx, s, strings.NewReader(doc), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	evs := plan.Builtin(nil)
	evs[policy.ModelExpression] = expression.Evaluator(&expression.Options{Limits: expression.Limits{MaxSteps: 1 << 62}})
	err = s.View(ctx, func(tx *store.Tx) error {
		p, err := plan.Make(ctx, tx, "f", plan.Request{}, plan.Options{Evaluators: evs})
		if err != nil {
			return err
		}
		if !p.Applicable {
			t.Errorf("not applicable: failure_result true, not negated, should pass")
		}
		for _, step := range p.Trace {
			if step.Policy == "loop" && (len(step.Messages) != 1 || !strings.Contains(step.Messages[0], "deadline exceeded")) {
				t.Errorf("messages %q, want the deadline", step.Messages)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
