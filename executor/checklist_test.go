package executor

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/stage"
)

// EXECUTOR.md §8, the conformance checklist, where no other test checks
// an item: each test names its item. The others: 2 and 3 also in
// upstream_test.go (TestUpstreamMultiStageFlow, TestUpstreamFlowRedirect,
// TestUpstreamFlowInvalidRedirect) and stages_test.go
// (TestInsertedRedirect); 5 in TestDeny and TestRestart; 6 in
// TestDeniedAction; 8 in TestFlowError; 9, a documented difference, in
// TestUpstreamExistingPlanDiffFlow and TestTwoFlowsOneSession; 11 in
// upstream_test.go's TestUpstreamReevaluate*; 12 in upstream_test.go,
// inspector_upstream_test.go, stages_upstream_test.go and the stages'
// own tests.

// Item 1: JSON bodies only, the component not used to route. A
// form-encoded body is authentik's UnsupportedMediaType, an
// ak-stage-flow-error; nothing is submitted and the execution stays. A
// JSON body without a component, or with the current one, is the
// current stage's.
func TestChecklistJSONBodiesOnly(t *testing.T) {
	h := newHarness(t, identFlow("authentication", ""))
	h.userWith("alice", "alice@example.com", nil, true)
	h.get("f", "").want(t, ComponentIdentification)
	req, err := http.NewRequest("POST", h.url("f", ""), strings.NewReader("uid_field=alice%40example.com"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil || resp.StatusCode != http.StatusOK || body["component"] != ComponentFlowError {
		t.Fatalf("form-encoded POST: %d %s", resp.StatusCode, raw)
	}
	checkChallenge(t, raw)
	if got := stageNames(h.execution("f")); !slices.Equal(got, []string{"ident"}) {
		t.Fatalf("stages after a form-encoded POST: %v", got)
	}
	h.post("f", "", `{"uid_field":"alice@example.com"}`).want(t, ComponentRedirect, "to", "/")

	h.client = h.newClient()
	h.get("f", "")
	h.post("f", "", `{"component":"ak-stage-identification","uid_field":"alice@example.com"}`).want(t, ComponentRedirect, "to", "/")
}

// Item 2: the 302 goes to the identical URL, the query's encoding as the
// client sent it (lower-case escapes, '+'), not re-encoded; next is read
// from it as a form's query ('+' a space).
func TestChecklistReloadKeepsEncoding(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "d1", 0, ""), dummy("f", "d2", 1, "")))
	const uri = ExecutorPath + "f/?query=next%3d%2fa%2bb+c&extra=%7e"
	h.do(h.client, "GET", h.srv.URL+uri, "").want(t, ComponentDummy, "name", "d1")
	r := h.do(h.client, "POST", h.srv.URL+uri, `{"component":"ak-stage-dummy"}`)
	if r.status != http.StatusFound || r.location != uri {
		t.Fatalf("%d Location %q, want %q", r.status, r.location, uri)
	}
	h.do(h.client, "POST", h.srv.URL+uri, `{"component":"ak-stage-dummy"}`).want(t, ComponentRedirect, "to", "/a b c")
}

// Item 3: the end of a flow goes to the context's redirect before the
// query's next (an absolute one too: the context is the configuration's
// and the stages', as an OAuth authorization's URL), else to a relative
// next, else to /.
func TestChecklistEndRedirect(t *testing.T) {
	for _, c := range []struct{ ctx, query, to string }{
		{"/from-context", "next=%2Fnext", "/from-context"},
		{"https://app.example/cb?code=1", "next=%2Fnext", "https://app.example/cb?code=1"},
		{"", "next=%2Fnext", "/next"},
		{"", "", "/"},
	} {
		set := contextSetter{mu: &sync.Mutex{}, vals: map[string]any{}}
		if c.ctx != "" {
			set.vals["redirect"] = c.ctx
		}
		h := newHarness(t, flowDoc("f", "", dummy("f", "set", 0, "")), withHandler(stage.ModelDummy, set))
		h.get("f", c.query).want(t, ComponentRedirect, "to", c.to)
	}
}

// Item 4: an invalid response is the same stage's challenge, built again,
// with response_errors, unless the binding restarts: restart re-plans
// with an empty context, restart_with_context keeps it; both answer 302
// to the identical URL.
func TestChecklistInvalidResponseAction(t *testing.T) {
	for _, action := range []string{"retry", "restart", "restart_with_context"} {
		t.Run(action, func(t *testing.T) {
			h := newHarness(t, flowDoc("f", "", policyOn("f", "pending", true), dummy("f", "d1", 0, ""),
				stageEntry("authentik_stages_password.passwordstage", "f", "pw", 1, "backends: [authentik.core.auth.InbuiltBackend]",
					"invalid_response_action: "+action)),
				withHandler(stage.ModelDummy, marking{}))
			h.userWith("one", "one@example.com", ptr("right"), true)
			h.get("f", "").want(t, ComponentDummy)
			h.post("f", "", `{}`).wantReload(t, h.url("f", ""))
			h.get("f", "").want(t, ComponentPassword, "pending_user", "one")
			r := h.post("f", "", `{"component":"ak-stage-password","password":"wrong"}`)
			x := h.execution("f")
			if action == "retry" {
				r.want(t, ComponentPassword, "pending_user", "one")
				if got := mustString(t, r.body["response_errors"]); got != `{"password":[{"code":"invalid","string":"Invalid password"}]}` {
					t.Errorf("response_errors %s", got)
				}
				if got := stageNames(x); !slices.Equal(got, []string{"pw"}) {
					t.Errorf("stages %v", got)
				}
				return
			}
			r.wantReload(t, h.url("f", ""))
			if got := stageNames(x); !slices.Equal(got, []string{"d1", "pw"}) {
				t.Fatalf("stages after %s: %v", action, got)
			}
			if _, kept := x.Context["mark"]; kept != (action == "restart_with_context") {
				t.Errorf("context after %s: %v", action, x.Context)
			}
			h.get("f", "").want(t, ComponentDummy)
		})
	}
}

// Item 7: every stage's challenge carries flow_info (title, background,
// cancel_url, layout); the challenges with user info carry pending_user
// and pending_user_avatar, which ChallengeTypes requires (checkChallenge
// checks every challenge of these tests). The flow error, as
// authentik's, has none.
func TestChecklistFlowInfo(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, name string, ch Challenge) {
		t.Helper()
		b, err := json.Marshal(ch)
		if err != nil {
			t.Fatal(err)
		}
		checkChallenge(t, b)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		fi, _ := m["flow_info"].(map[string]any)
		if fi["title"] != "Welcome f" && fi["title"] != "Welcome" || fi["background"] != "/static/dist/assets/images/flow_background.jpg" ||
			fi["cancel_url"] != CancelURL || fi["layout"] != "stacked" || len(fi) != 4 {
			t.Errorf("%s: flow_info %v", name, m["flow_info"])
		}
	}
	seen := map[string]bool{}
	for _, s := range fuzzStages(t) {
		req := Request{Session: "flow-info"}
		s.prep(t, s.h, req)
		resp, err := s.h.e.Get(ctx, "f", req)
		if err != nil {
			t.Fatal(err)
		}
		check(t, s.name, resp.Challenge)
		seen[resp.Challenge.envelope().Component] = true
	}
	others := []struct{ name, doc string }{
		{"dummy", flowDoc("f", "", dummy("f", "d", 0, ""))},
		{"deny", flowDoc("f", "", stageEntry("authentik_stages_deny.denystage", "f", "deny", 0, "", ""))},
		{"prompt", flowDoc("f", "", promptEntry("username", "username", "", "", ""), promptStage([]string{"username"}, ""))},
		{"denied plan", flowDoc("f", "", policyOn("f", "no", false))},
	}
	for _, o := range others {
		h := newHarness(t, o.doc)
		resp, err := h.e.Get(ctx, "f", Request{Session: "flow-info"})
		if err != nil {
			t.Fatal(err)
		}
		check(t, o.name, resp.Challenge)
		seen[resp.Challenge.envelope().Component] = true
	}
	for _, c := range []string{ComponentIdentification, ComponentPassword, ComponentUserLogin, ComponentConsent, ComponentAuthenticatorValidate,
		ComponentCaptcha, ComponentEmail, ComponentDummy, ComponentAccessDenied, ComponentPrompt} {
		if !seen[c] {
			t.Errorf("%s not checked", c)
		}
	}
	h := newHarness(t, flowDoc("f", "", stageEntry("authentik_stages_dummy.dummystage", "f", "d", 0, "throw_error: true", "")))
	r := h.get("f", "")
	r.want(t, ComponentFlowError)
	if _, ok := r.body["flow_info"]; ok {
		t.Errorf("flow error with flow_info: %s", r.raw)
	}
}

// Item 10: a flow_token in the query restores the token's plan before
// anything else: before the session's own execution of the flow, and
// before planning, so a flow whose policies now deny the request still
// runs the restored plan, with is_restored set.
func TestChecklistFlowTokenFirst(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", policyOn("f", "toggle", false), dummy("f", "one", 1, ""), dummy("f", "two", 2, "")))
	ctx := context.Background()
	h.get("f", "").want(t, ComponentDummy, "name", "one")
	h.post("f", "", `{"component":"ak-stage-dummy"}`).wantReload(t, h.url("f", ""))
	key, err := h.e.Suspend(ctx, "f", h.sessionID(), FlowToken{Identifier: "t", Expires: time.Unix(0, h.clock.Load()).Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	h.toggle.Store(false)
	other := h.newClient()
	h.do(other, "GET", h.url("f", ""), "").want(t, ComponentAccessDenied, "error_message", "toggled")
	h.do(other, "GET", h.url("f", "flow_token="+key), "").want(t, ComponentDummy, "name", "two")
	h.client = other
	if x := h.execution("f"); x == nil || x.Context[ContextIsRestored] == nil {
		t.Fatalf("no is_restored: %+v", x)
	}
}
