package api_test

import (
	"testing"

	"github.com/authflow/authflow/store/storetest"
)

// A redirect stage's target_flow is a reference to a flow: it must exist,
// the flow's used_by names the stage with set_null, and deleting the flow
// nulls it, after which the stage's object rule asks for a new target.
func TestRedirectTargetFlow(t *testing.T) {
	c := newClient(t, nil)
	flow := c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"Next","slug":"next","title":"Next","designation":"authentication"}`)
	fpk := flow["pk"].(string)
	missing := storetest.MissingPK(0).String()
	c.do("POST", "/api/v3/stages/redirect/", `{"name":"go","mode":"flow","target_flow":"`+missing+`"}`).
		expect(t, 400, `{"target_flow":["Invalid pk \"`+missing+`\" - object does not exist."]}`)
	c.do("POST", "/api/v3/stages/redirect/", `{"name":"go","mode":"flow"}`).
		expect(t, 400, `{"non_field_errors":["Target Flow should be present when mode is Flow."]}`)
	st := c.must(201, "POST", "/api/v3/stages/redirect/", `{"name":"go","mode":"flow","target_flow":"`+fpk+`"}`)
	spk := st["pk"].(string)
	if st["keep_context"] != true || st["target_static"] != "" {
		t.Errorf("defaults: %v", st)
	}
	c.do("GET", "/api/v3/flows/instances/next/used_by/", "").expect(t, 200,
		`[{"app":"authentik_stages_redirect","model_name":"redirectstage","pk":"`+spk+`","name":"Stage go","action":"set_null"}]`)
	c.do("PATCH", "/api/v3/stages/redirect/"+spk+"/", `{"mode":"static"}`).
		expect(t, 400, `{"non_field_errors":["Target URL should be present when mode is Static."]}`)
	if r := c.do("DELETE", "/api/v3/flows/instances/next/", ""); r.Code != 204 {
		t.Fatalf("delete flow: %d %s", r.Code, r.Body)
	}
	after := c.must(200, "GET", "/api/v3/stages/redirect/"+spk+"/", "")
	if after["target_flow"] != nil {
		t.Errorf("target_flow after the flow's delete: %v", after["target_flow"])
	}
	c.must(200, "PATCH", "/api/v3/stages/redirect/"+spk+"/", `{"mode":"static","target_static":"https://example.com/"}`)
}

// A password stage's backends are a list of choices: an empty list, and
// each bad item, get authentik's messages, the item's under its index.
func TestPasswordBackends(t *testing.T) {
	c := newClient(t, nil)
	c.do("POST", "/api/v3/stages/password/", `{"name":"pw","backends":[]}`).expect(t, 400, `{"backends":["This list may not be empty."]}`)
	c.do("POST", "/api/v3/stages/password/", `{"name":"pw","backends":["authentik.core.auth.InbuiltBackend","x"]}`).
		expect(t, 400, `{"backends":{"1":["\"x\" is not a valid choice."]}}`)
	st := c.must(201, "POST", "/api/v3/stages/password/", `{"name":"pw","backends":["authentik.core.auth.InbuiltBackend"]}`)
	if st["failed_attempts_before_cancel"] != 5.0 || st["allow_show_password"] != false {
		t.Errorf("defaults: %v", st)
	}
	if list := c.must(200, "GET", "/api/v3/stages/password/?failed_attempts_before_cancel=5", ""); list["pagination"].(map[string]any)["count"] != 1.0 {
		t.Errorf("filter: %v", list)
	}
}
