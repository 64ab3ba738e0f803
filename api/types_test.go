package api_test

import (
	"net/http"
	"testing"

	"github.com/authflow/authflow/api"
)

// /stages/all/types/ lists the served kinds by verbose name, with
// authentik 2025.6's descriptions (line breaks included).
func TestStageTypes(t *testing.T) {
	c := newClient(t, nil)
	c.do("GET", "/api/v3/stages/all/types/", "").expect(t, 200, `[
		{"name":"Authenticator Validation Stage","description":"Validate user's configured OTP Device.","component":"ak-stage-authenticator-validate-form","model_name":"authenticatorvalidatestage","icon_url":null,"requires_enterprise":false},
		{"name":"Captcha Stage","description":"Verify the user is human using Google's reCaptcha/other compatible CAPTCHA solutions.","component":"ak-stage-captcha-form","model_name":"captchastage","icon_url":null,"requires_enterprise":false},
		{"name":"Consent Stage","description":"Prompt the user for confirmation.","component":"ak-stage-consent-form","model_name":"consentstage","icon_url":null,"requires_enterprise":false},
		{"name":"Deny Stage","description":"Cancels the current flow.","component":"ak-stage-deny-form","model_name":"denystage","icon_url":null,"requires_enterprise":false},
		{"name":"Duo Authenticator Setup Stage","description":"Setup Duo authenticator devices","component":"ak-stage-authenticator-duo-form","model_name":"authenticatorduostage","icon_url":null,"requires_enterprise":false},
		{"name":"Email Authenticator Setup Stage","description":"Use Email-based authentication instead of authenticator-based.","component":"ak-stage-authenticator-email-form","model_name":"authenticatoremailstage","icon_url":null,"requires_enterprise":false},
		{"name":"Email Stage","description":"Sends an Email to the user with a token to confirm their Email address.","component":"ak-stage-email-form","model_name":"emailstage","icon_url":null,"requires_enterprise":false},
		{"name":"Endpoint Authenticator Google Device Trust Connector Stage","description":"Setup Google Chrome Device-trust connection","component":"ak-stage-authenticator-endpoint-gdtc-form","model_name":"authenticatorendpointgdtcstage","icon_url":null,"requires_enterprise":true},
		{"name":"Identification Stage","description":"Allows the user to identify themselves for authentication.","component":"ak-stage-identification-form","model_name":"identificationstage","icon_url":null,"requires_enterprise":false},
		{"name":"Invitation Stage","description":"Simplify enrollment; allow users to use a single\nlink to create their user with pre-defined parameters.","component":"ak-stage-invitation-form","model_name":"invitationstage","icon_url":null,"requires_enterprise":false},
		{"name":"Mutual TLS Stage","description":"Authenticate/enroll users using a client-certificate.","component":"ak-stage-mtls-form","model_name":"mutualtlsstage","icon_url":null,"requires_enterprise":true},
		{"name":"Password Stage","description":"Prompts the user for their password, and validates it against the configured backends.","component":"ak-stage-password-form","model_name":"passwordstage","icon_url":null,"requires_enterprise":false},
		{"name":"Prompt Stage","description":"Define arbitrary prompts for the user.","component":"ak-stage-prompt-form","model_name":"promptstage","icon_url":null,"requires_enterprise":false},
		{"name":"Redirect Stage","description":"Redirect the user to another flow, potentially with all gathered context","component":"ak-stage-redirect-form","model_name":"redirectstage","icon_url":null,"requires_enterprise":false},
		{"name":"SMS Authenticator Setup Stage","description":"Use SMS-based TOTP instead of authenticator-based.","component":"ak-stage-authenticator-sms-form","model_name":"authenticatorsmsstage","icon_url":null,"requires_enterprise":false},
		{"name":"Source Stage","description":"Suspend the current flow execution and send the user to a source,\nafter which this flow execution is resumed.","component":"ak-stage-source-form","model_name":"sourcestage","icon_url":null,"requires_enterprise":true},
		{"name":"Static Authenticator Setup Stage","description":"Generate static tokens for the user as a backup.","component":"ak-stage-authenticator-static-form","model_name":"authenticatorstaticstage","icon_url":null,"requires_enterprise":false},
		{"name":"TOTP Authenticator Setup Stage","description":"Enroll a user's device into Time-based OTP.","component":"ak-stage-authenticator-totp-form","model_name":"authenticatortotpstage","icon_url":null,"requires_enterprise":false},
		{"name":"User Delete Stage","description":"Deletes the currently pending user without confirmation.\nUse with caution.","component":"ak-stage-user-delete-form","model_name":"userdeletestage","icon_url":null,"requires_enterprise":false},
		{"name":"User Login Stage","description":"Attaches the currently pending user to the current session.","component":"ak-stage-user-login-form","model_name":"userloginstage","icon_url":null,"requires_enterprise":false},
		{"name":"User Logout Stage","description":"Resets the users current session.","component":"ak-stage-user-logout-form","model_name":"userlogoutstage","icon_url":null,"requires_enterprise":false},
		{"name":"User Write Stage","description":"Writes currently pending data into the pending user, or if no user exists,\ncreates a new user with the data.","component":"ak-stage-user-write-form","model_name":"userwritestage","icon_url":null,"requires_enterprise":false},
		{"name":"WebAuthn Authenticator Setup Stage","description":"WebAuthn stage","component":"ak-stage-authenticator-webauthn-form","model_name":"authenticatorwebauthnstage","icon_url":null,"requires_enterprise":false}
	]`)
	// The dummy kind is left out of the list, as authentik leaves it out
	// without DEBUG, but served.
	c.must(201, "POST", "/api/v3/stages/dummy/", `{"name":"dbg","throw_error":true}`)
	if r := c.do("POST", "/api/v3/stages/all/types/", "{}"); r.Code != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", r.Code, r.Header.Get("Allow"))
	}

	// Authentication only: a permission denial still lists the types.
	denied := newClient(t, &api.Options{Authorize: func(*http.Request, string) error { return errDenied }})
	if r := denied.do("GET", "/api/v3/stages/all/types/", ""); r.Code != 200 {
		t.Errorf("without permissions: %d %s", r.Code, r.Body)
	}
	anon := newClient(t, &api.Options{Authorize: func(*http.Request, string) error { return api.ErrNotAuthenticated }})
	anon.do("GET", "/api/v3/stages/all/types/", "").expect(t, 403, `{"detail":"Authentication credentials were not provided."}`)
}
