package executor

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/store"
)

// The cases of authentik 2025.6's flows/tests/test_executor.py that use
// the dummy and deny stages and dummy policies. authentik's tests mock
// to_stage_response and see redirects as 302s; here they are what a
// client sees, xak-flow-redirect challenges. Policies authentik patches
// to pass while planning are "toggle" policies here (harness.toggle).

// test_invalid_non_applicable_flow: a flow whose policy fails is denied
// with the policy's message (message_continue, no next).
func TestUpstreamInvalidNonApplicableFlow(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", policyOn("f", "no", false)))
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", "dummy", "pending_user", "",
		"pending_user_avatar", DefaultAvatar)
}

// test_invalid_non_applicable_flow_continue: denied_action continue
// redirects to /.
func TestUpstreamInvalidNonApplicableFlowContinue(t *testing.T) {
	h := newHarness(t, flowDoc("f", ", denied_action: continue", policyOn("f", "no", false)))
	r := h.get("f", "")
	r.want(t, ComponentRedirect, "to", "/")
	if _, ok := r.body["flow_info"]; ok {
		t.Errorf("a redirect made from a plain redirect has no flow_info: %s", r.raw)
	}
}

// test_invalid_flow_redirect, test_valid_flow_redirect: a flow without
// stages ends at once, at a relative next.
func TestUpstreamFlowRedirect(t *testing.T) {
	h := newHarness(t, flowDoc("f", ""))
	h.get("f", "next=%2Funique-string").want(t, ComponentRedirect, "to", "/unique-string")
}

// test_invalid_flow_invalid_redirect, test_valid_flow_invalid_redirect:
// an absolute next is refused.
func TestUpstreamFlowInvalidRedirect(t *testing.T) {
	h := newHarness(t, flowDoc("f", ""))
	r := h.get("f", "next=http%3A%2F%2Fsomething.example.com%2Funique-string")
	r.want(t, ComponentAccessDenied, "error_message", MsgInvalidNext)
	if fi, _ := r.body["flow_info"].(map[string]any); fi["title"] != "Welcome f" || fi["cancel_url"] != CancelURL || fi["layout"] != "stacked" {
		t.Errorf("flow_info %v", fi)
	}
}

// test_invalid_empty_flow: a flow without stages ends at /.
func TestUpstreamInvalidEmptyFlow(t *testing.T) {
	h := newHarness(t, flowDoc("f", ""))
	h.get("f", "").want(t, ComponentRedirect, "to", "/")
	if x := h.execution("f"); x != nil {
		t.Errorf("an ended flow keeps no execution: %+v", x)
	}
}

// test_multi_stage_flow: a passed stage with one left is a 302 to the
// identical URL, and the plan loses it.
func TestUpstreamMultiStageFlow(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "d1", 0, ""), dummy("f", "d2", 1, "")))
	h.get("f", "").want(t, ComponentDummy, "name", "d1")
	if got := stageNames(h.execution("f")); !slices.Equal(got, []string{"d1", "d2"}) {
		t.Fatalf("stages %v", got)
	}
	h.post("f", "", "").wantReload(t, h.url("f", ""))
	if got := stageNames(h.execution("f")); !slices.Equal(got, []string{"d2"}) {
		t.Fatalf("stages %v", got)
	}
	h.get("f", "").want(t, ComponentDummy, "name", "d2")
	h.post("f", "", `{"component":"ak-stage-dummy"}`).want(t, ComponentRedirect, "to", "/")
}

// test_reevaluate_remove_last: a re-evaluated last stage whose policy
// now fails is removed, and the flow ends.
func TestUpstreamReevaluateRemoveLast(t *testing.T) {
	h := newHarness(t, flowDoc("f", "",
		dummy("f", "d1", 0, "evaluate_on_plan: true, re_evaluate_policies: false"),
		dummy("f", "d2", 1, "re_evaluate_policies: true"), policyOn("b-d2", "toggle", false)))
	h.get("f", "").want(t, ComponentDummy, "name", "d1")
	x := h.execution("f")
	if got := stageNames(x); !slices.Equal(got, []string{"d1", "d2"}) || x.Stages[0].Marker != "stage" || x.Stages[1].Marker != "reevaluate" {
		t.Fatalf("stages %+v", x.Stages)
	}
	h.post("f", "", "").wantReload(t, h.url("f", ""))
	h.toggle.Store(false)
	h.post("f", "", "").want(t, ComponentRedirect, "to", "/")
}

// test_reevaluate_remove_middle: a re-evaluated middle stage whose policy
// now fails is removed; the POST goes to the next stage.
func TestUpstreamReevaluateRemoveMiddle(t *testing.T) {
	h := newHarness(t, flowDoc("f", "",
		dummy("f", "d1", 0, "evaluate_on_plan: true, re_evaluate_policies: false"),
		dummy("f", "d2", 1, "re_evaluate_policies: true"),
		dummy("f", "d3", 2, "evaluate_on_plan: true, re_evaluate_policies: false"), policyOn("b-d2", "toggle", false)))
	h.get("f", "").want(t, ComponentDummy, "name", "d1")
	h.post("f", "", "").wantReload(t, h.url("f", ""))
	if got := stageNames(h.execution("f")); !slices.Equal(got, []string{"d2", "d3"}) {
		t.Fatalf("stages %v", got)
	}
	h.toggle.Store(false)
	h.post("f", "", "").want(t, ComponentRedirect, "to", "/")
}

// test_reevaluate_keep: a re-evaluated stage whose policy passes stays.
func TestUpstreamReevaluateKeep(t *testing.T) {
	h := newHarness(t, flowDoc("f", "",
		dummy("f", "d1", 0, "evaluate_on_plan: true, re_evaluate_policies: false"),
		dummy("f", "d2", 1, "re_evaluate_policies: true"),
		dummy("f", "d3", 2, "evaluate_on_plan: true, re_evaluate_policies: false"), policyOn("b-d2", "yes", true)))
	h.get("f", "").want(t, ComponentDummy, "name", "d1")
	h.post("f", "", "").wantReload(t, h.url("f", ""))
	h.post("f", "", "").wantReload(t, h.url("f", ""))
	if got := stageNames(h.execution("f")); !slices.Equal(got, []string{"d3"}) {
		t.Fatalf("stages %v", got)
	}
	h.post("f", "", "").want(t, ComponentRedirect, "to", "/")
}

// test_reevaluate_remove_consecutive: two re-evaluated stages in a row
// whose policies now fail are both removed; the GET shows the fourth.
func TestUpstreamReevaluateRemoveConsecutive(t *testing.T) {
	h := newHarness(t, flowDoc("f", "",
		dummy("f", "d1", 0, "evaluate_on_plan: true, re_evaluate_policies: false"),
		dummy("f", "d2", 1, "re_evaluate_policies: true"),
		dummy("f", "d3", 2, "re_evaluate_policies: true"),
		dummy("f", "d4", 3, "evaluate_on_plan: true, re_evaluate_policies: false"),
		policyOn("b-d2", "toggle2", false), policyOn("b-d3", "toggle3", false)))
	h.get("f", "").want(t, ComponentDummy, "name", "d1")
	if got := stageNames(h.execution("f")); !slices.Equal(got, []string{"d1", "d2", "d3", "d4"}) {
		t.Fatalf("stages %v", got)
	}
	h.toggle.Store(false)
	h.post("f", "", "").wantReload(t, h.url("f", ""))
	h.get("f", "").want(t, ComponentDummy, "name", "d4")
	// The removal is saved with the step (authentik's comment says the
	// GET does not save it; its session does).
	if got := stageNames(h.execution("f")); !slices.Equal(got, []string{"d4"}) {
		t.Fatalf("stages %v", got)
	}
	h.post("f", "", "").want(t, ComponentRedirect, "to", "/")
}

// test_stageview_user_identifier: the display user is the context's
// pending_user_identifier, else the request's user.
func TestUpstreamUserIdentifier(t *testing.T) {
	if got := userInfo(map[string]any{"pending_user_identifier": "test-identifier"}, Request{Username: "test-user"}); got.PendingUser != "test-identifier" {
		t.Errorf("pending_user %q", got.PendingUser)
	}
	if got := userInfo(nil, Request{Username: "test-user"}); got.PendingUser != "test-user" {
		t.Errorf("pending_user %q", got.PendingUser)
	}
}

// test_invalid_restart: a deny stage on a re-evaluated binding behind a
// reputation policy (threshold -1, the identifier only), then an
// identification stage whose binding restarts with context. The first
// GET removes the deny stage (the score is 0); an unknown identifier
// lowers its score to -1 and restarts the flow with the stand-in
// pending user in the context, so that the policy now passes and the
// deny stage denies.
func TestUpstreamInvalidRestart(t *testing.T) {
	m := newScores(t)
	h := newHarness(t, flowDoc("f", "",
		stageEntry("authentik_stages_deny.denystage", "f", "deny", 0, "", "evaluate_on_plan: false, re_evaluate_policies: true"),
		"- model: authentik_policies_reputation.reputationpolicy\n  id: rep\n  identifiers: {name: rep}\n  attrs: {threshold: -1, check_ip: false}\n"+
			"- model: authentik_policies.policybinding\n  identifiers: {target: !KeyOf b-deny, policy: !KeyOf rep, order: 0}\n",
		stageEntry("authentik_stages_identification.identificationstage", "f", "ident", 1, "user_fields: [email], pretend_user_exists: false",
			"invalid_response_action: restart_with_context")), withReputation(m))
	h.get("f", "").want(t, ComponentIdentification, "password_fields", false, "primary_action", "Log in",
		"sources", "[]", "show_source_labels", false, "user_fields", "[email]")
	r := h.post("f", "", postJSON(map[string]any{"component": ComponentIdentification, "uid_field": "invalid-string"}))
	if r.status == http.StatusFound {
		r = h.finish("f", "")
	}
	r.want(t, ComponentAccessDenied)
	if got := score(t, m, byIdentifier("invalid-string")); got != -1 {
		t.Errorf("score %d, want -1", got)
	}
}

// test_re_evaluate_group_binding: a re-evaluated dummy stage bound to a
// group and to a user is shown to the group's member and to that user,
// after identification; another user skips it and reaches the deny stage.
func TestUpstreamReEvaluateGroupBinding(t *testing.T) {
	h := newHarness(t, flowDoc("f", "",
		stageEntry("authentik_stages_identification.identificationstage", "f", "ident", 0, "user_fields: [username], pretend_user_exists: false", ""),
		dummy("f", "gated", 1, ""),
		stageEntry("authentik_stages_deny.denystage", "f", "deny", 2, "", ""),
		"- model: authentik_core.group\n  id: group-a\n  identifiers: {name: group-a}\n"))
	member := h.userWith("member", "member@example.com", nil, true)
	direct := h.userWith("direct", "direct@example.com", nil, true)
	h.userWith("other", "other@example.com", nil, true)
	ctx := context.Background()
	if err := h.s.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.SetMember(store.By("name", "group-a"), member.PK, true, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf("version: 1\nentries:\n"+
		"- model: authentik_policies.policybinding\n  identifiers: {target: !Find [authentik_flows.flowstagebinding, [order, 1]], group: !Find [authentik_core.group, [name, group-a]], order: 0}\n"+
		"- model: authentik_policies.policybinding\n  identifiers: {target: !Find [authentik_flows.flowstagebinding, [order, 1]], user: %d, order: 0}\n", direct.PK)
	if res, err := blueprint.Load(ctx, h.s, strings.NewReader(doc), blueprint.Options{}); err != nil || !res.Success {
		t.Fatalf("%v %+v", err, res.Logs)
	}
	for _, c := range []struct{ user, component string }{
		{"member", ComponentDummy}, {"direct", ComponentDummy}, {"other", ComponentAccessDenied},
	} {
		t.Run(c.user, func(t *testing.T) {
			h.client = h.newClient()
			h.get("f", "").want(t, ComponentIdentification)
			r := h.post("f", "", postJSON(map[string]any{"component": ComponentIdentification, "uid_field": c.user}))
			r.wantReload(t, h.url("f", ""))
			h.finish("f", "").want(t, c.component)
		})
	}
}

// test_existing_plan_diff_flow: authentik keeps one plan per session, so
// a request for flow B while the session holds a plan of flow A cancels
// A (the test counts the cancel calls) and plans B. authflow keeps
// executions per session and flow, on purpose (see the package doc): B
// is planned beside A, and A goes on where it was.
func TestUpstreamExistingPlanDiffFlow(t *testing.T) {
	doc := flowDoc("a", "", dummy("a", "a1", 0, ""), dummy("a", "a2", 1, "")) +
		strings.TrimPrefix(flowDoc("b", "", dummy("b", "b1", 0, "")), "version: 1\nentries:\n")
	h := newHarness(t, doc)
	h.get("a", "").want(t, ComponentDummy, "name", "a1")
	h.post("a", "", `{"component":"ak-stage-dummy"}`).wantReload(t, h.url("a", ""))
	h.get("b", "").want(t, ComponentDummy, "name", "b1")
	if got := stageNames(h.execution("a")); !slices.Equal(got, []string{"a2"}) {
		t.Fatalf("flow a's stages after b was planned: %v", got)
	}
	h.get("a", "").want(t, ComponentDummy, "name", "a2")
	h.post("b", "", `{"component":"ak-stage-dummy"}`).want(t, ComponentRedirect, "to", "/")
	h.post("a", "", `{"component":"ak-stage-dummy"}`).want(t, ComponentRedirect, "to", "/")
}
