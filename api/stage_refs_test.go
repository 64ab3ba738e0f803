package api_test

import (
	"testing"

	"github.com/authflow/authflow/store/storetest"
)

// An identification stage's password_stage and captcha_stage are
// references to those kinds: they must exist as that kind, the target's
// used_by names the identification stage with set_null, and deleting the
// target nulls them. Its flow links are set to their default, null, when
// the flow goes, and are hidden from the flow's used_by (authentik's
// related_name "+").
func TestIdentificationReferences(t *testing.T) {
	c := newClient(t, nil)
	pw := c.must(201, "POST", "/api/v3/stages/password/", `{"name":"pw","backends":["authentik.core.auth.InbuiltBackend"]}`)["pk"].(string)
	captcha := c.must(201, "POST", "/api/v3/stages/captcha/", `{"name":"captcha","public_key":"p","private_key":"SECRET-k"}`)["pk"].(string)
	deny := c.must(201, "POST", "/api/v3/stages/deny/", `{"name":"deny"}`)["pk"].(string)
	c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"Enroll","slug":"enroll","title":"Enroll","designation":"enrollment"}`)
	enroll := c.must(200, "GET", "/api/v3/flows/instances/enroll/", "")["pk"].(string)

	c.do("POST", "/api/v3/stages/identification/", `{"name":"id","user_fields":["email"],"password_stage":"`+deny+`"}`).
		expect(t, 400, `{"password_stage":["Invalid pk \"`+deny+`\" - object does not exist."]}`)
	c.do("POST", "/api/v3/stages/identification/", `{"name":"id","user_fields":["email"],"captcha_stage":"`+pw+`"}`).
		expect(t, 400, `{"captcha_stage":["Invalid pk \"`+pw+`\" - object does not exist."]}`)
	id := c.must(201, "POST", "/api/v3/stages/identification/", `{"name":"id","user_fields":["email"],"password_stage":"`+pw+
		`","captcha_stage":"`+captcha+`","enrollment_flow":"`+enroll+`"}`)["pk"].(string)

	used := `[{"app":"authentik_stages_identification","model_name":"identificationstage","pk":"` + id + `","name":"Stage id","action":"set_null"}]`
	c.do("GET", "/api/v3/stages/password/"+pw+"/used_by/", "").expect(t, 200, used)
	c.do("GET", "/api/v3/stages/captcha/"+captcha+"/used_by/", "").expect(t, 200, used)
	c.do("GET", "/api/v3/flows/instances/enroll/used_by/", "").expect(t, 200, `[]`)
	if list := c.must(200, "GET", "/api/v3/stages/identification/?password_stage="+pw, ""); list["pagination"].(map[string]any)["count"] != 1.0 {
		t.Errorf("password_stage filter: %v", list)
	}

	for _, del := range []string{"/api/v3/stages/password/" + pw + "/", "/api/v3/stages/all/" + captcha + "/", "/api/v3/flows/instances/enroll/"} {
		if r := c.do("DELETE", del, ""); r.Code != 204 {
			t.Fatalf("DELETE %s: %d %s", del, r.Code, r.Body)
		}
	}
	after := c.must(200, "GET", "/api/v3/stages/identification/"+id+"/", "")
	if after["password_stage"] != nil || after["captcha_stage"] != nil || after["enrollment_flow"] != nil {
		t.Errorf("after the deletes: %v", after)
	}
}

// Every configurable authenticator's configure_flow is a flow reference:
// the flow's used_by lists each with set_null, and deleting the flow
// nulls them.
func TestConfigureFlowReferences(t *testing.T) {
	c := newClient(t, nil)
	c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"Setup","slug":"setup","title":"Setup","designation":"stage_configuration"}`)
	fpk := c.must(200, "GET", "/api/v3/flows/instances/setup/", "")["pk"].(string)
	cf := `"configure_flow":"` + fpk + `"`
	kinds := []struct{ path, body, model string }{
		{"authenticator/webauthn", `{"name":"webauthn",` + cf + `}`, "authenticatorwebauthnstage"},
		{"authenticator/sms", `{"name":"sms","provider":"twilio","from_number":"1","account_sid":"a","auth":"t",` + cf + `}`, "authenticatorsmsstage"},
		{"authenticator/email", `{"name":"otp",` + cf + `}`, "authenticatoremailstage"},
		{"authenticator/endpoint_gdtc", `{"name":"gdtc","credentials":{},` + cf + `}`, "authenticatorendpointgdtcstage"},
	}
	missing := storetest.MissingPK(0).String()
	c.do("POST", "/api/v3/stages/authenticator/webauthn/", `{"name":"w","configure_flow":"`+missing+`"}`).
		expect(t, 400, `{"configure_flow":["Invalid pk \"`+missing+`\" - object does not exist."]}`)
	pks := map[string]string{}
	for _, k := range kinds {
		pks[k.model] = c.must(201, "POST", "/api/v3/stages/"+k.path+"/", k.body)["pk"].(string)
	}
	got := usedByList(t, c.do("GET", "/api/v3/flows/instances/setup/used_by/", ""))
	if len(got) != len(kinds) {
		t.Fatalf("used_by = %+v", got)
	}
	for _, u := range got {
		if pks[u.ModelName] != u.PK || u.Action != "set_null" {
			t.Errorf("used_by entry %+v", u)
		}
	}
	if r := c.do("DELETE", "/api/v3/flows/instances/setup/", ""); r.Code != 204 {
		t.Fatalf("delete flow: %d %s", r.Code, r.Body)
	}
	for _, k := range kinds {
		if after := c.must(200, "GET", "/api/v3/stages/"+k.path+"/"+pks[k.model]+"/", ""); after["configure_flow"] != nil {
			t.Errorf("%s: configure_flow after the flow's delete: %v", k.path, after["configure_flow"])
		}
	}
}

// An authenticator validation stage's configuration_stages are a
// many-to-many reference to stages of any kind: each must exist,
// deleting one removes it from the list, and the configured stage's
// used_by does not show the link (authentik's related_name "+"). When
// the last one goes, a "configure" stage fails its rule until it is
// given another.
func TestValidateConfigurationStages(t *testing.T) {
	c := newClient(t, nil)
	totp := c.must(201, "POST", "/api/v3/stages/authenticator/totp/", `{"name":"totp","digits":6}`)["pk"].(string)
	webauthn := c.must(201, "POST", "/api/v3/stages/authenticator/webauthn/", `{"name":"webauthn"}`)["pk"].(string)
	missing := storetest.MissingPK(0).String()
	c.do("POST", "/api/v3/stages/authenticator/validate/", `{"name":"mfa","not_configured_action":"configure","configuration_stages":["`+missing+`"]}`).
		expect(t, 400, `{"configuration_stages":["Invalid pk \"`+missing+`\" - object does not exist."]}`)
	mfa := c.must(201, "POST", "/api/v3/stages/authenticator/validate/", `{"name":"mfa","not_configured_action":"configure","configuration_stages":["`+totp+`","`+webauthn+`"]}`)["pk"].(string)
	c.do("GET", "/api/v3/stages/authenticator/totp/"+totp+"/used_by/", "").expect(t, 200, `[]`)

	// A patch that leaves a stage passes (authentik wants the list resent).
	c.must(200, "PATCH", "/api/v3/stages/authenticator/validate/"+mfa+"/", `{"not_configured_action":"configure"}`)
	if r := c.do("DELETE", "/api/v3/stages/all/"+totp+"/", ""); r.Code != 204 {
		t.Fatalf("delete totp: %d %s", r.Code, r.Body)
	}
	after := c.must(200, "GET", "/api/v3/stages/authenticator/validate/"+mfa+"/", "")
	if !jsonValueEqual(after["configuration_stages"], []string{webauthn}) {
		t.Errorf("configuration_stages after the delete: %v", after["configuration_stages"])
	}
	if r := c.do("DELETE", "/api/v3/stages/authenticator/webauthn/"+webauthn+"/", ""); r.Code != 204 {
		t.Fatalf("delete webauthn: %d %s", r.Code, r.Body)
	}
	c.do("PATCH", "/api/v3/stages/authenticator/validate/"+mfa+"/", `{"name":"mfa-2"}`).
		expect(t, 400, `{"not_configured_action":["When \"Not configured action\" is set to \"Configure\", you must set a configuration stage."]}`)
	c.must(200, "PATCH", "/api/v3/stages/authenticator/validate/"+mfa+"/", `{"not_configured_action":"skip"}`)
}
