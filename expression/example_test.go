package expression_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
)

// A host adds the expression evaluator to the planner's evaluators. The
// second stage is kept only when the login did not use an app password;
// the flow's policy raises, so its binding's failure_result (true)
// applies, with the exception's text as the message.
func ExampleEvaluator() {
	dir, _ := os.MkdirTemp("", "expression-example")
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "a.db"), &store.Options{NoSync: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	ctx := context.Background()
	doc := `version: 1
entries:
- {model: authentik_flows.flow, id: flow, identifiers: {slug: login}, attrs: {name: Login, title: Login, designation: authentication}}
- {model: authentik_stages_user_login.userloginstage, id: login, identifiers: {name: login}}
- {model: authentik_stages_deny.denystage, id: mfa, identifiers: {name: mfa}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf flow, stage: !KeyOf login, order: 0}}
- {model: authentik_flows.flowstagebinding, id: b, identifiers: {target: !KeyOf flow, stage: !KeyOf mfa, order: 10}, attrs: {evaluate_on_plan: true, re_evaluate_policies: false}}
- model: authentik_policies_expression.expressionpolicy
  id: not-app-password
  identifiers: {name: not-app-password}
  attrs:
    expression: |
      return context.get("auth_method") != "app_password"
- model: authentik_policies_expression.expressionpolicy
  id: raises
  identifiers: {name: raises}
  attrs:
    expression: |
      ak_message("lost: an exception replaces the messages")
      return context["email"]
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf b, policy: !KeyOf not-app-password, order: 0}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf flow, policy: !KeyOf raises, order: 0}, attrs: {failure_result: true}}
`
	if _, err := blueprint.Load(ctx, s, strings.NewReader(doc), blueprint.Options{}); err != nil {
		fmt.Println(err)
		return
	}
	evs := plan.Builtin(nil)
	evs[policy.ModelExpression] = expression.Evaluator(nil)
	for _, method := range []string{"password", "app_password"} {
		err := s.View(ctx, func(tx *store.Tx) error {
			req := plan.Request{Context: map[string]any{"auth_method": method}}
			p, err := plan.Make(ctx, tx, "login", req, plan.Options{Evaluators: evs})
			var names []string
			for _, st := range p.Stages {
				names = append(names, st.Name)
			}
			fmt.Printf("%s: %v\n", method, names)
			for _, step := range p.Trace {
				if step.Policy == "raises" && method == "password" {
					fmt.Printf("raises: passing %v %q\n", step.Passing, step.Messages)
				}
			}
			return err
		})
		if err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// password: [login mfa]
	// raises: passing true ["key \"email\" not in dict"]
	// app_password: [login]
}
