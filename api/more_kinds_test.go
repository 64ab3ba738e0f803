package api_test

import (
	"strings"
	"testing"
)

// The kinds of authentik 2025.6 beyond the seed ones go through every
// route of a stage kind, each response checked against authentik's
// schema. Write-only secrets (captcha's private_key, the email stage's
// password) carry secretMarker, which no response may contain.
func TestMoreKinds(t *testing.T) {
	c := newClient(t, nil)
	const src = "af6a7b8c-9d0e-4f1a-8b2c-4d5e6f7a8b9c"
	for _, k := range []struct{ path, body, patch, bad, badKey, msg string }{
		{"identification", `{"name":"id","user_fields":["email","username"],"sources":["` + src + `"]}`, `{"show_matched_user":false}`,
			`{"user_fields":["phone"]}`, "user_fields", `{"0":["\"phone\" is not a valid choice."]}`},
		{"captcha", `{"name":"captcha","public_key":"pub","private_key":"SECRET-captcha"}`, `{"score_min_threshold":"0.25","interactive":true}`,
			`{"score_max_threshold":"high"}`, "score_max_threshold", `["A valid number is required."]`},
		{"email", `{"name":"mail","password":"SECRET-mail","from_address":"auth@example.com"}`, `{"template":"email/account_confirmation.html"}`,
			`{"template":"foobar"}`, "template", `["Invalid template 'foobar' specified."]`},
		{"authenticator/webauthn", `{"name":"webauthn","authenticator_attachment":"platform","device_type_restrictions":["` + src + `"]}`, `{"authenticator_attachment":null}`,
			`{"resident_key_requirement":"always"}`, "resident_key_requirement", `["\"always\" is not a valid choice."]`},
		{"authenticator/sms", `{"name":"sms","provider":"twilio","from_number":"+15550100","account_sid":"AC1","auth":"token"}`, `{"verify_only":true}`,
			`{"auth":""}`, "auth", `["This field may not be blank."]`},
		{"authenticator/email", `{"name":"otp-mail","password":"pw"}`, `{"friendly_name":"Email code"}`,
			`{"from_address":"nobody"}`, "from_address", `["Enter a valid email address."]`},
		{"authenticator/validate", `{"name":"mfa","device_classes":["totp","webauthn"]}`, `{"not_configured_action":"deny"}`,
			`{"device_classes":[]}`, "device_classes", `["This list may not be empty."]`},
		{"authenticator/endpoint_gdtc", `{"name":"gdtc","credentials":{"type":"service_account"}}`, `{"credentials":{"project_id":"p"}}`,
			`{"credentials":null}`, "credentials", `["This field may not be null."]`},
		{"source", `{"name":"src","source":"` + src + `"}`, `{"resume_timeout":"hours=1"}`,
			`{"resume_timeout":"1h"}`, "resume_timeout", `["1h is not in the correct format of 'hours=3;minutes=1'."]`},
		{"mtls", `{"name":"mtls","mode":"required","cert_attribute":"subject","user_attribute":"email"}`, `{"certificate_authorities":["` + src + `"]}`,
			`{"mode":"never"}`, "mode", `["\"never\" is not a valid choice."]`},
	} {
		kindRoutes(t, c, k.path, k.body, k.patch, k.bad, `{"`+k.badKey+`":`+k.msg+`}`)
	}

	// Defaults as authentik's, and the values kept as given.
	captcha := c.must(201, "POST", "/api/v3/stages/captcha/", `{"name":"c2","public_key":"pub","private_key":"SECRET-2"}`)
	if captcha["score_min_threshold"] != 0.5 || captcha["score_max_threshold"] != 1.0 || captcha["error_on_invalid_score"] != true ||
		captcha["js_url"] != "https://www.recaptcha.net/recaptcha/api.js" {
		t.Errorf("captcha defaults: %v", captcha)
	}
	c.do("PUT", "/api/v3/stages/captcha/"+captcha["pk"].(string)+"/", `{"name":"c2","public_key":"pub"}`).
		expect(t, 400, `{"private_key":["This field is required."]}`)
	sms := c.must(201, "POST", "/api/v3/stages/authenticator/sms/", `{"name":"sms2","provider":"generic","from_number":"1","account_sid":"https://x","auth":"user","auth_password":"pass"}`)
	if sms["auth"] != "user" || sms["auth_password"] != "pass" || sms["auth_type"] != "basic" {
		t.Errorf("sms shows its credentials as authentik does: %v", sms)
	}
	email := c.must(201, "POST", "/api/v3/stages/email/", `{"name":"mail2"}`)
	if email["host"] != "localhost" || email["port"] != 25.0 || email["token_expiry"] != "minutes=30" || email["template"] != "email/password_reset.html" {
		t.Errorf("email defaults: %v", email)
	}
	if list := c.must(200, "GET", "/api/v3/stages/email/?template=email/password_reset.html", ""); list["pagination"].(map[string]any)["count"] != 1.0 {
		t.Errorf("template filter: %v", list)
	}
	c.do("POST", "/api/v3/stages/identification/", `{"name":"id2"}`).
		expect(t, 400, `{"non_field_errors":["When no user fields are selected, at least one source must be selected"]}`)
	c.do("POST", "/api/v3/stages/authenticator/validate/", `{"name":"mfa2","not_configured_action":"configure"}`).
		expect(t, 400, `{"not_configured_action":["When \"Not configured action\" is set to \"Configure\", you must set a configuration stage."]}`)
	if list := c.must(200, "GET", "/api/v3/stages/authenticator/sms/?provider=generic", ""); list["pagination"].(map[string]any)["count"] != 1.0 {
		t.Errorf("provider filter: %v", list)
	}
	c.do("GET", "/api/v3/stages/mtls/?mode=sometimes", "").
		expect(t, 400, `{"mode":["Select a valid choice. sometimes is not one of the available choices."]}`)
}

// GET /stages/email/templates/ lists the built-in templates as authentik
// does: TypeCreate entries with empty component and model_name.
func TestEmailTemplates(t *testing.T) {
	c := newClient(t, nil)
	c.do("GET", "/api/v3/stages/email/templates/", "").expect(t, 200, `[
		{"name":"email/password_reset.html","description":"Password Reset","component":"","model_name":"","requires_enterprise":false},
		{"name":"email/account_confirmation.html","description":"Account Confirmation","component":"","model_name":"","requires_enterprise":false},
		{"name":"email/email_otp.html","description":"Email OTP","component":"","model_name":"","requires_enterprise":false},
		{"name":"email/event_notification.html","description":"Event Notification","component":"","model_name":"","requires_enterprise":false}
	]`)
	if r := c.do("DELETE", "/api/v3/stages/email/templates/", ""); r.Code != 405 || r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("DELETE: %d, Allow %q", r.Code, r.Header.Get("Allow"))
	}
	// Every template the list names is one an email stage accepts.
	for _, tpl := range []string{"email/password_reset.html", "email/account_confirmation.html", "email/email_otp.html", "email/event_notification.html"} {
		c.must(201, "POST", "/api/v3/stages/email/", `{"name":"`+tpl+`","template":"`+tpl+`"}`)
	}
}

// A float column orders by number, not by its text.
func TestCaptchaOrdersByScore(t *testing.T) {
	c := newClient(t, nil)
	for _, s := range []struct{ name, score string }{{"a", "10"}, {"b", "9.5"}, {"c", "-1"}} {
		c.must(201, "POST", "/api/v3/stages/captcha/", `{"name":"`+s.name+`","public_key":"p","private_key":"SECRET-k","score_min_threshold":`+s.score+`}`)
	}
	list := c.must(200, "GET", "/api/v3/stages/captcha/?ordering=-score_min_threshold", "")
	var names []string
	for _, r := range list["results"].([]any) {
		names = append(names, r.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Errorf("ordered by -score_min_threshold: %v", names)
	}
}
