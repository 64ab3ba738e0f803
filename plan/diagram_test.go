package plan_test

import (
	"context"
	"testing"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
)

func diagram(t *testing.T, s *store.Store, slug string) string {
	t.Helper()
	var d string
	err := s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		d, err = plan.Diagram(tx, slug)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// authentik's test_api_diagram and test_api_diagram_no_stages, and the
// two derived examples of POLICIES.md §8, character for character.
func TestDiagram(t *testing.T) {
	const flowDoc = `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: test-default-context}
  attrs: {name: test-default-context, title: T, designation: authentication}
`
	s := load(t, flowDoc)
	if got, want := diagram(t, s, "test-default-context"), "graph TD\nflow_start[[\"Flow\ntest-default-context\"]]\nflow_start --> done[[\"End of the flow\"]]"; got != want {
		t.Errorf("no stages:\n%s\nwant:\n%s", got, want)
	}
	s = load(t, flowDoc+`- model: authentik_stages_dummy.dummystage
  id: d1
  identifiers: {name: dummy1}
- model: authentik_stages_dummy.dummystage
  id: d2
  identifiers: {name: dummy2}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf d1, order: 0}
- model: authentik_flows.flowstagebinding
  id: b2
  identifiers: {target: !KeyOf flow, stage: !KeyOf d2, order: 1}
  attrs: {re_evaluate_policies: true}
- model: authentik_policies_dummy.dummypolicy
  id: p
  identifiers: {name: dummy2-policy}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf b2, policy: !KeyOf p, order: 0}
`)
	want := "graph TD\nflow_start[[\"Flow\ntest-default-context\"]]\n--> stage_0([\"Stage (Dummy Stage)\ndummy1\"])\n" +
		"stage_1_policy_0 --Policy passed--> stage_1([\"Stage (Dummy Stage)\ndummy2\"])\n" +
		"stage_0 --> stage_1_policy_0{{\"Policy (Dummy Policy)\ndummy2-policy\"}}\nstage_1 --> done[[\"End of the flow\"]]"
	if got := diagram(t, s, "test-default-context"); got != want {
		t.Errorf("two stages:\n%s\nwant:\n%s", got, want)
	}
	s = load(t, `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: enrollment}
  attrs: {name: Enrollment, title: T, designation: enrollment}
- model: authentik_policies_expression.expressionpolicy
  id: allow
  identifiers: {name: allow-signup}
  attrs: {expression: return True}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf flow, policy: !KeyOf allow, order: 10}
- model: authentik_stages_prompt.prompt
  id: q
  identifiers: {name: q}
  attrs: {field_key: q, label: Q, type: text}
- model: authentik_stages_prompt.promptstage
  id: ask
  identifiers: {name: enroll-prompt}
  attrs: {fields: [!KeyOf q]}
- model: authentik_stages_user_write.userwritestage
  id: write
  identifiers: {name: enroll-write}
- model: authentik_flows.flowstagebinding
  id: b0
  identifiers: {target: !KeyOf flow, stage: !KeyOf ask, order: 0}
- model: authentik_flows.flowstagebinding
  id: b1
  identifiers: {target: !KeyOf flow, stage: !KeyOf write, order: 1}
- model: authentik_policies_password.passwordpolicy
  id: pw
  identifiers: {name: pw-rules}
- model: authentik_policies_expression.expressionpolicy
  id: new
  identifiers: {name: is-new-user}
  attrs: {expression: return True}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf b0, policy: !KeyOf pw, order: 0}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf b1, policy: !KeyOf new, order: 0}
`)
	want = `graph TD
flow_pre[["Pre-flow policies"]]
flow_pre --Binding 10--> flow_policy_0{{"Policy (Expression Policy)
allow-signup"}}
flow_policy_0 --Policy denied--> done[["End of the flow"]]
flow_policy_0 --> flow_start[["Flow
Enrollment"]]
stage_0_policy_0 --Policy passed--> stage_0(["Stage (Prompt Stage)
enroll-prompt"])
stage_1_policy_0 --Policy passed--> stage_1(["Stage (User Write Stage)
enroll-write"])
flow_start --> stage_0_policy_0{{"Policy (Password Policy)
pw-rules"}}
stage_0 --> stage_1_policy_0{{"Policy (Expression Policy)
is-new-user"}}
stage_0_policy_0 --Policy denied--> stage_1(["Stage (User Write Stage)
enroll-write"])
stage_1 --> done[["End of the flow"]]`
	if got := diagram(t, s, "enrollment"); got != want {
		t.Errorf("enrollment:\n%s\nwant:\n%s", got, want)
	}
	s = load(t, `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: T, designation: authentication, authentication: require_unauthenticated}
- model: authentik_stages_identification.identificationstage
  id: i
  identifiers: {name: ident}
  attrs: {user_fields: [username]}
- model: authentik_stages_password.passwordstage
  id: p
  identifiers: {name: pw}
  attrs: {backends: [authentik.core.auth.InbuiltBackend]}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf i, order: 0}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf p, order: 1}
`)
	want = `graph TD
flow_auth_requirement["Flow authentication requirement
require_unauthenticated"]
flow_auth_requirement --Requirement not fulfilled--> done[["End of the flow"]]
flow_auth_requirement --Requirement fulfilled--> flow_start["placeholder"]
flow_start[["Flow
Login"]]
--> stage_0(["Stage (Identification Stage)
ident"])
--> stage_1(["Stage (Password Stage)
pw"])
stage_1 --> done[["End of the flow"]]`
	if got := diagram(t, s, "login"); got != want {
		t.Errorf("login:\n%s\nwant:\n%s", got, want)
	}
}

// The planner's drawing: the authentication check and the flow's
// policies lead to the denied action; a binding's policies are checked
// when planned or when reached (group bindings and negation shown), and a
// failing check skips to the next stage.
func TestPlannerDiagram(t *testing.T) {
	s := openStore(t)
	d := newDirectory(t, s)
	loadInto(t, s, d.replace(doc("require_authenticated")+`- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf flow, group: GROUP_eng, order: 0, negate: true}
`))
	var got string
	_ = s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		got, err = plan.PlannerDiagram(tx, "login")
		if err != nil {
			t.Fatal(err)
		}
		return nil
	})
	want := `graph TD
flow_start[["Flow
Login"]]
flow_start --> auth{"Authentication
require_authenticated"}
auth --fails--> denied[["Denied: continue"]]
auth --passes--> flow_policies{{"Flow policies, any of:
Group ` + d.groups["eng"].String() + `, negated"}}
flow_policies --fail--> denied[["Denied: continue"]]
stage_0(["Stage (Identification Stage)
ident"])
stage_1_plan{{"When planned, any of:
Policy (Dummy Policy) no"}} --pass--> stage_1(["Stage (Password Stage)
pw"])
stage_2(["Stage (User Login Stage)
done"])
flow_policies --passes--> stage_0
stage_0 --> stage_1_plan
stage_1 --> stage_2
stage_1_plan --fail: skipped--> stage_2
stage_2 --> done
done[["End of the flow"]]`
	if got != want {
		t.Errorf("planner diagram:\n%s\nwant:\n%s", got, want)
	}
}
