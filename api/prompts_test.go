package api_test

import (
	"encoding/json"
	"testing"

	"github.com/authflow/authflow/store/storetest"
)

// Prompts and prompt stages: required fields and choices with authentik's
// messages, names unique among prompts ("Prompt with this name already
// exists.") and among prompt stages ("This field must be unique."),
// promptstage_set, the fields and validation_policies filters, bound_to,
// and deletes that take a prompt or a policy out of the stage's lists.
func TestPrompts(t *testing.T) {
	c := newClient(t, nil)
	c.do("POST", "/api/v3/stages/prompt/prompts/", `{"name":"p"}`).expect(t, 400,
		`{"field_key":["This field is required."],"label":["This field is required."],"type":["This field is required."]}`)
	c.do("POST", "/api/v3/stages/prompt/prompts/", `{"name":"p","field_key":" ","label":"L","type":"alert_info"}`).expect(t, 400,
		`{"field_key":["This field may not be blank."],"type":["\"alert_info\" is not a valid choice."]}`)
	user := c.must(201, "POST", "/api/v3/stages/prompt/prompts/", `{"name":"user","field_key":"attributes.hubspot-email","label":"Username","type":"username"}`)
	if user["required"] != true || user["order"] != 0.0 || user["placeholder"] != "" {
		t.Errorf("defaults: %v", user)
	}
	pass := c.must(201, "POST", "/api/v3/stages/prompt/prompts/", `{"name":"pass","field_key":"password","label":"Password","type":"password","order":1}`)
	c.do("POST", "/api/v3/stages/prompt/prompts/", `{"name":"user","field_key":"x","label":"x","type":"text"}`).
		expect(t, 400, `{"name":["Prompt with this name already exists."]}`)
	upk, ppk := user["pk"].(string), pass["pk"].(string)

	c.do("POST", "/api/v3/stages/prompt/stages/", `{"name":"ask"}`).expect(t, 400, `{"fields":["This field is required."]}`)
	c.do("POST", "/api/v3/stages/prompt/stages/", `{"name":"ask","fields":[]}`).expect(t, 400, `{"fields":["This list may not be empty."]}`)
	missing := storetest.MissingPK(0).String()
	c.do("POST", "/api/v3/stages/prompt/stages/", `{"name":"ask","fields":["`+missing+`"]}`).
		expect(t, 400, `{"fields":["Invalid pk \"`+missing+`\" - object does not exist."]}`)
	pol := c.must(201, "POST", "/api/v3/policies/password/", `{"name":"strong"}`)["pk"].(string)
	st := c.must(201, "POST", "/api/v3/stages/prompt/stages/", `{"name":"ask","fields":["`+upk+`","`+ppk+`"],"validation_policies":["`+pol+`"]}`)
	spk := st["pk"].(string)
	c.must(201, "POST", "/api/v3/stages/prompt/stages/", `{"name":"ask-2","fields":["`+upk+`"]}`)
	c.do("POST", "/api/v3/stages/prompt/stages/", `{"name":"ask","fields":["`+upk+`"]}`).expect(t, 400, `{"name":["This field must be unique."]}`)

	got := c.must(200, "GET", "/api/v3/stages/prompt/prompts/"+ppk+"/", "")
	if set := got["promptstage_set"].([]any); len(set) != 1 || set[0].(map[string]any)["pk"] != spk {
		t.Errorf("promptstage_set = %v", got["promptstage_set"])
	}
	if n := c.must(200, "GET", "/api/v3/stages/prompt/stages/?fields="+upk, "")["pagination"].(map[string]any)["count"]; n != 2.0 {
		t.Errorf("?fields= count %v", n)
	}
	if n := c.must(200, "GET", "/api/v3/stages/prompt/stages/?validation_policies="+pol, "")["pagination"].(map[string]any)["count"]; n != 1.0 {
		t.Errorf("?validation_policies= count %v", n)
	}
	if n := c.must(200, "GET", "/api/v3/policies/all/"+pol+"/", "")["bound_to"]; n != 1.0 {
		t.Errorf("bound_to = %v", n)
	}
	if n := c.must(200, "GET", "/api/v3/policies/all/?promptstage__isnull=false", "")["pagination"].(map[string]any)["count"]; n != 1.0 {
		t.Errorf("?promptstage__isnull=false count %v", n)
	}
	list := c.must(200, "GET", "/api/v3/stages/prompt/prompts/?search=pass", "")
	if r := list["results"].([]any); len(r) != 1 || r[0].(map[string]any)["name"] != "pass" {
		t.Errorf("search: %v", r)
	}
	// Default order: field_key.
	list = c.must(200, "GET", "/api/v3/stages/prompt/prompts/", "")
	if r := list["results"].([]any); r[0].(map[string]any)["field_key"] != "attributes.hubspot-email" {
		t.Errorf("order: %v", r)
	}
	c.do("GET", "/api/v3/stages/prompt/prompts/"+ppk+"/used_by/", "").expect(t, 200,
		`[{"app":"authentik_stages_prompt","model_name":"promptstage","pk":"`+spk+`","name":"Stage ask","action":"cascade_many"}]`)

	c.must(204, "DELETE", "/api/v3/stages/prompt/prompts/"+ppk+"/", "")
	c.must(204, "DELETE", "/api/v3/policies/all/"+pol+"/", "")
	after := c.must(200, "GET", "/api/v3/stages/prompt/stages/"+spk+"/", "")
	if b, _ := json.Marshal([]any{after["fields"], after["validation_policies"]}); string(b) != `[["`+upk+`"],[]]` {
		t.Errorf("lists after the deletes: %s", b)
	}
	c.must(200, "PATCH", "/api/v3/stages/prompt/prompts/"+upk+"/", `{"label":"User name","promptstage_set":[{"name":"ignored"}]}`)
}

// A validation stage's own used_by lists its configuration stages
// (cascade_many), while theirs does not list it: the reverse accessor is
// hidden (related_name "+"), the forward list is not.
func TestValidateStageUsedBy(t *testing.T) {
	c := newClient(t, nil)
	totp := c.must(201, "POST", "/api/v3/stages/authenticator/totp/", `{"name":"totp","digits":"6"}`)["pk"].(string)
	v := c.must(201, "POST", "/api/v3/stages/authenticator/validate/", `{"name":"mfa","not_configured_action":"configure","configuration_stages":["`+totp+`"]}`)["pk"].(string)
	c.do("GET", "/api/v3/stages/authenticator/validate/"+v+"/used_by/", "").expect(t, 200,
		`[{"app":"authentik_flows","model_name":"stage","pk":"`+totp+`","name":"Stage totp","action":"cascade_many"}]`)
	c.do("GET", "/api/v3/stages/authenticator/totp/"+totp+"/used_by/", "").expect(t, 200, `[]`)
}
