package api_test

import (
	"strings"
	"testing"
)

// POST /flows/instances/{slug}/plan/ simulates a plan and writes
// nothing: the stages in order with their markers, a denial with its
// action and messages, a policy without an evaluator as a 400.
func TestPlanRoute(t *testing.T) {
	c := newClient(t, nil)
	f := c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"Login","slug":"login","title":"Hi","designation":"authentication","authentication":"require_unauthenticated","denied_action":"continue"}`)
	st := c.must(201, "POST", "/api/v3/stages/deny/", `{"name":"deny"}`)
	c.must(201, "POST", "/api/v3/flows/bindings/", `{"target":"`+f["pk"].(string)+`","stage":"`+st["pk"].(string)+`","order":1}`)
	p := c.must(200, "POST", "/api/v3/flows/instances/login/plan/", `{}`)
	stages := p["stages"].([]any)
	if p["applicable"] != true || len(stages) != 1 || stages[0].(map[string]any)["name"] != "deny" || stages[0].(map[string]any)["marker"] != "reevaluate" {
		t.Errorf("plan = %v", p)
	}
	p = c.must(200, "POST", "/api/v3/flows/instances/login/plan/", `{"user":{"pk":1,"is_authenticated":true}}`)
	if p["applicable"] != false || p["denied_action"] != "continue" {
		t.Errorf("denied plan = %v", p)
	}
	c.do("POST", "/api/v3/flows/instances/login/plan/", `{"usr":{}}`).status(t, 400)
	rep := c.must(201, "POST", "/api/v3/policies/reputation/", `{"name":"rep"}`)
	c.must(201, "POST", "/api/v3/policies/bindings/", `{"target":"`+f["pk"].(string)+`","policy":"`+rep["pk"].(string)+`","order":0}`)
	body := string(c.do("POST", "/api/v3/flows/instances/login/plan/", `{}`).status(t, 400))
	if !strings.Contains(body, `policy \"rep\" is a authentik_policies_reputation.reputationpolicy`) {
		t.Errorf("no evaluator: %s", body)
	}
	c.do("POST", "/api/v3/flows/instances/nope/plan/", `{}`).status(t, 404)
	c.do("GET", "/api/v3/flows/instances/login/plan/", "").status(t, 405)
}

// GET /flows/instances/{slug}/diagram/ is authentik's drawing.
func TestDiagramRoute(t *testing.T) {
	c := newClient(t, nil)
	c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"test-default-context","slug":"test-default-context","title":"Hi","designation":"authentication"}`)
	c.do("GET", "/api/v3/flows/instances/test-default-context/diagram/", "").expect(t, 200,
		`{"diagram":"graph TD\nflow_start[[\"Flow\ntest-default-context\"]]\nflow_start --> done[[\"End of the flow\"]]"}`)
	c.do("GET", "/api/v3/flows/instances/test-default-context/diagram/?semantics=planner", "").expect(t, 200,
		`{"diagram":"graph TD\nflow_start[[\"Flow\ntest-default-context\"]]\nflow_start --> done\ndone[[\"End of the flow\"]]"}`)
	c.do("GET", "/api/v3/flows/instances/nope/diagram/", "").status(t, 404)
}
