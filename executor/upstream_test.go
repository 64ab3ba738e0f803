package executor

import (
	"slices"
	"testing"
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
