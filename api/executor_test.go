package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/executor"
)

// execDoc is a flow of two dummy stages and a flow denied by a policy.
const execDoc = `version: 1
entries:
- {model: authentik_flows.flow, id: f, identifiers: {slug: two}, attrs: {name: two, title: Two, designation: authentication}}
- {model: authentik_stages_dummy.dummystage, id: d1, identifiers: {name: d1}}
- {model: authentik_stages_dummy.dummystage, id: d2, identifiers: {name: d2}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf f, stage: !KeyOf d1, order: 10}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf f, stage: !KeyOf d2, order: 20}}
- {model: authentik_flows.flow, id: g, identifiers: {slug: closed}, attrs: {name: closed, title: Closed, designation: authentication}}
- {model: authentik_policies_dummy.dummypolicy, id: no, identifiers: {name: no}, attrs: {result: false}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf g, policy: !KeyOf no, order: 0}}
`

// execClient is a client of a handler with an executor, on a store
// holding execDoc, whose requests share one session (fixed, through
// HTTPOptions.Session).
func execClient(t *testing.T, p *perms) *client {
	t.Helper()
	s := newStore(t, nil)
	if _, err := blueprint.Load(context.Background(), s, strings.NewReader(execDoc), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	ex, err := executor.New(s, executor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ex.Close)
	opts := &api.Options{Executor: ex, ExecutorHTTP: executor.HTTPOptions{Session: func(*http.Request) string { return "session-1" }}}
	if p != nil {
		opts.Authorize = p.authorize
	}
	return &client{t: t, h: api.NewHandler(s, opts)}
}

// The handler serves the executor without asking for a permission,
// execute with view_flow and the inspector with inspect_flow (404
// without, as authentik); every answer matches authentik's schema.
func TestExecutorEndpoints(t *testing.T) {
	p := denying()
	c := execClient(t, p)

	// The inspector before any plan: 400, empty.
	if r := c.do("GET", "/api/v3/flows/inspector/two/", ""); r.Code != http.StatusBadRequest || len(r.Body) != 0 {
		t.Fatalf("inspector without a plan: %d %s", r.Code, r.Body)
	}
	ch := c.must(200, "GET", "/api/v3/flows/executor/two/", "")
	if ch["component"] != "ak-stage-dummy" || ch["name"] != "d1" {
		t.Fatalf("first challenge %v", ch)
	}
	if got := p.take(); len(got) != 1 || got[0] != "authentik_flows.inspect_flow" {
		t.Errorf("permissions asked %v, want only the inspector's", got)
	}
	ins := c.must(200, "GET", "/api/v3/flows/inspector/two/", "")
	cur := ins["current_plan"].(map[string]any)
	if ins["is_completed"] != false || len(ins["plans"].([]any)) != 0 ||
		cur["current_stage"].(map[string]any)["stage_obj"].(map[string]any)["name"] != "d1" ||
		cur["next_planned_stage"].(map[string]any)["order"] != 20.0 || len(cur["session_id"].(string)) != 64 {
		t.Errorf("inspection %v", ins)
	}
	// Passing d1 (a 302 the document does not list, so sent around the
	// checking client) adds it to the history.
	if r := serveRaw(c, "POST", "/api/v3/flows/executor/two/", `{"component":"ak-stage-dummy"}`); r.Code != http.StatusFound {
		t.Fatalf("POST d1: %d %s", r.Code, r.Body)
	}
	// From here the current plan has one stage left, whose
	// next_planned_stage is authentik's empty binding, which its own
	// schema does not allow (no pk, null order): checked by hand.
	ins = rawObject(t, c, "/api/v3/flows/inspector/two/")
	if plans := ins["plans"].([]any); len(plans) != 1 ||
		plans[0].(map[string]any)["current_stage"].(map[string]any)["stage_obj"].(map[string]any)["name"] != "d1" {
		t.Errorf("history after d1: %v", ins)
	}
	cur = ins["current_plan"].(map[string]any)
	if cur["current_stage"].(map[string]any)["stage_obj"].(map[string]any)["name"] != "d2" ||
		!strings.Contains(string(mustJSON(t, cur["next_planned_stage"])), `"target":null`) {
		t.Errorf("current plan after d1: %v", cur)
	}
	// The end of the flow: the last of the history, completed.
	c.must(200, "GET", "/api/v3/flows/executor/two/", "")
	if r := c.do("POST", "/api/v3/flows/executor/two/", `{"component":"ak-stage-dummy"}`); r.Code != 200 || !strings.Contains(string(r.Body), `"to":"/"`) {
		t.Fatalf("POST d2: %d %s", r.Code, r.Body)
	}
	ins = rawObject(t, c, "/api/v3/flows/inspector/two/")
	if ins["is_completed"] != true || len(ins["plans"].([]any)) != 2 {
		t.Errorf("after the end: %v", ins)
	}

	// Without inspect_flow, the inspector is 404.
	p.set("authentik_flows.inspect_flow")
	c.do("GET", "/api/v3/flows/inspector/two/", "").expect(t, http.StatusNotFound, `{"detail":"Not found."}`)
	p.set()

	// execute plans the flow for the session, clears its history, and
	// links to the flow interface; the next GET answers its first stage.
	link := c.must(200, "GET", "/api/v3/flows/instances/two/execute/", "")
	if link["link"] != "http://example.com/if/flow/two/" {
		t.Errorf("execute: %v", link)
	}
	ins = c.must(200, "GET", "/api/v3/flows/inspector/two/", "")
	if ins["is_completed"] != false || len(ins["plans"].([]any)) != 0 {
		t.Errorf("inspection after execute: %v", ins)
	}
	if ch := c.must(200, "GET", "/api/v3/flows/executor/two/", ""); ch["name"] != "d1" {
		t.Errorf("after execute: %v", ch)
	}
	if r := c.do("GET", "/api/v3/flows/instances/closed/execute/", ""); r.Code != http.StatusBadRequest ||
		!strings.Contains(string(r.Body), "Flow not applicable to current user/request: dummy") {
		t.Errorf("execute of a denied flow: %d %s", r.Code, r.Body)
	}
	p.set("authentik_flows.view_flow")
	c.do("GET", "/api/v3/flows/instances/two/execute/", "").expect(t, http.StatusForbidden, `{"detail":"You do not have permission to perform this action."}`)
	p.set()
	c.do("GET", "/api/v3/flows/instances/nope/execute/", "").expect(t, http.StatusNotFound, `{"detail":"Not found."}`)
	c.do("GET", "/api/v3/flows/executor/nope/", "").expect(t, http.StatusNotFound, `{"detail":"Not found."}`)
}

// Without an executor, its endpoints are not served.
func TestNoExecutor(t *testing.T) {
	c := newClient(t, nil)
	for _, path := range []string{"/api/v3/flows/executor/x/", "/api/v3/flows/inspector/x/", "/api/v3/flows/instances/x/execute/"} {
		if r := serveRaw(c, "GET", path, ""); r.Code != http.StatusNotFound {
			t.Errorf("%s: %d %s", path, r.Code, r.Body)
		}
	}
}

// rawObject GETs path without checking the response's schema, and
// decodes its 200 body.
func rawObject(t *testing.T, c *client, path string) map[string]any {
	t.Helper()
	r := serveRaw(c, "GET", path, "")
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); r.Code != http.StatusOK || err != nil {
		t.Fatalf("GET %s: %d %s", path, r.Code, r.Body)
	}
	return m
}

// serveRaw serves a request without checking the response's schema.
func serveRaw(c *client, method, path, body string) *response {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	return &response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}
