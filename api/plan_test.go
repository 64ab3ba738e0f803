package api_test

import (
	"strings"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/store"
)

// POST /flows/instances/{slug}/plan/ simulates a plan and writes
// nothing: the stages in order with their markers, a denial with its
// action and messages, a policy without an evaluator as a 400.
func TestPlanRoute(t *testing.T) {
	c := userClient(t, nil)
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
	// The user is read from the directory by pk.
	c.do("POST", "/api/v3/flows/instances/login/plan/", `{"user":{"pk":99}}`).
		expect(t, 400, `{"non_field_errors":["plan: the directory holds no user with this pk: 99"]}`)
	c.do("POST", "/api/v3/flows/instances/login/plan/", `{"user":{"is_superuser":true}}`).
		expect(t, 400, `{"non_field_errors":["plan: groups, is_superuser, attributes and password_change_date are read from the directory: name the user by pk"]}`)
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

// The plan cache over HTTP: a plan through POST .../plan/ is cached, the
// flow's cache_count and cache_info count it, a write to the flow drops
// it, and cache_clear empties the cache.
func TestPlanCacheRoutes(t *testing.T) {
	c := userClient(t, nil)
	f := c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"Login","slug":"login","title":"Hi","designation":"authentication"}`)
	st := c.must(201, "POST", "/api/v3/stages/deny/", `{"name":"deny"}`)
	c.must(201, "POST", "/api/v3/flows/bindings/", `{"target":"`+f["pk"].(string)+`","stage":"`+st["pk"].(string)+`","order":1}`)
	c.do("GET", "/api/v3/flows/instances/cache_info/", "").expect(t, 200, `{"count":0}`)
	c.must(200, "POST", "/api/v3/flows/instances/login/plan/", `{"user":{"pk":1,"is_authenticated":true}}`)
	c.must(200, "POST", "/api/v3/flows/instances/login/plan/", `{"user":{"pk":2,"is_authenticated":true}}`)
	c.do("GET", "/api/v3/flows/instances/cache_info/", "").expect(t, 200, `{"count":2}`)
	if got := c.must(200, "GET", "/api/v3/flows/instances/login/", "")["cache_count"]; got != 2.0 {
		t.Errorf("cache_count = %v", got)
	}
	c.must(200, "PATCH", "/api/v3/flows/instances/login/", `{"title":"New"}`)
	c.do("GET", "/api/v3/flows/instances/cache_info/", "").expect(t, 200, `{"count":0}`)
	c.must(200, "POST", "/api/v3/flows/instances/login/plan/", `{}`)
	c.do("GET", "/api/v3/flows/instances/cache_info/", "").expect(t, 200, `{"count":1}`)
	c.do("POST", "/api/v3/flows/instances/cache_clear/", "").status(t, 204)
	c.do("GET", "/api/v3/flows/instances/cache_info/", "").expect(t, 200, `{"count":0}`)
	c.do("POST", "/api/v3/flows/instances/cache_info/", "").status(t, 405)
	c.do("GET", "/api/v3/flows/instances/cache_clear/", "").status(t, 405)

	d := newClient(t, &api.Options{Authorize: denying("authentik_flows.view_flow_cache", "authentik_flows.clear_flow_cache").authorize})
	d.do("GET", "/api/v3/flows/instances/cache_info/", "").status(t, 403)
	d.do("POST", "/api/v3/flows/instances/cache_clear/", "").status(t, 403)
}

// userClient is a client on a store holding users 1 and 2.
func userClient(t *testing.T, opts *api.Options) *client {
	t.Helper()
	s := newStore(t, nil)
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		for _, name := range []string{"one", "two"} {
			if _, err := store.Users.CreateJSON(tx, []byte(`{"username":"`+name+`","name":"`+name+`"}`), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, h: api.NewHandler(s, opts)}
}
