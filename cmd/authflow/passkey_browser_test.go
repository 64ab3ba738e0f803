package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/browsertest"
)

// passwordlessDoc adds a passwordless flow (WebAuthn validation without
// a user, then the login) and links it from the default authentication
// flow's identification stage ("Use a security key").
const passwordlessDoc = `version: 1
entries:
- {model: authentik_flows.flow, id: pwl, identifiers: {slug: passwordless}, attrs: {name: passwordless, title: Passkey login, designation: authentication}}
- {model: authentik_stages_authenticator_validate.authenticatorvalidatestage, id: pwl-validate, identifiers: {name: pwl-validate},
   attrs: {device_classes: [webauthn], not_configured_action: deny}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf pwl, stage: !KeyOf pwl-validate, order: 0}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf pwl, stage: !Find [authentik_stages_user_login.userloginstage, [name, default-authentication-login]], order: 10}}
- {model: authentik_stages_identification.identificationstage, identifiers: {name: default-authentication-identification},
   attrs: {passwordless_flow: !KeyOf pwl}}
`

// Passkeys through serve, on the store's devices, in Chromium with its
// virtual authenticator (issue 23): akadmin logs in with a password,
// registers a passkey through the shipped
// default-authenticator-webauthn-setup flow, logs out, logs in through
// default-authentication-flow (password, then the passkey that its
// validation stage asks for), logs out, and logs in without a password
// through a passwordless flow linked from the identification page. The
// pages are opened at http://localhost:PORT, serve's relying party for
// its loopback address.
func TestBrowserPasskey(t *testing.T) {
	srv := startFlows(t, "correct horse battery")
	doc := filepath.Join(t.TempDir(), "passwordless.yaml")
	if err := os.WriteFile(doc, []byte(passwordlessDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	importFile(t, srv, doc)
	host := strings.Replace(srv.host(), "127.0.0.1", "localhost", 1)
	p := browse(t, browsertest.Options{})
	p.AddAuthenticator()
	landed := func(what string) {
		t.Helper()
		p.WaitURL(host + "/")
		if got := p.Text("main"); !strings.Contains(got, "You are logged in as akadmin.") {
			t.Fatalf("after %s: %q", what, got)
		}
	}
	passwordLogin := func() {
		t.Helper()
		p.Navigate(host + "/")
		p.Type(p.Field("Email or Username"), "akadmin")
		p.Click(p.Button("Log in"))
		p.Type(p.Field("Password"), "correct horse battery")
		p.Click(p.Button("Continue"))
	}
	logout := func() {
		t.Helper()
		p.Click(p.Button("Log out"))
		p.Navigate(host + "/")
		if !strings.Contains(p.URL(), "/if/flow/default-authentication-flow/") {
			t.Fatalf("after the logout, / is %s", p.URL())
		}
	}

	passwordLogin()
	landed("the password login")
	p.Navigate(host + "/if/flow/default-authenticator-webauthn-setup/")
	landed("the passkey's setup")
	devs := srv.call(t, 200, "GET", "authenticators/admin/webauthn/", "")["results"].([]any)
	if len(devs) != 1 || devs[0].(map[string]any)["name"] != "WebAuthn Device" {
		t.Fatalf("WebAuthn devices %v", devs)
	}
	logout()

	passwordLogin()
	landed("the password and the passkey")
	// The validation stage asked for it: it is marked used.
	status, body := srv.send(t, "GET", "authenticators/admin/all/?user=1", nil, http.Header{})
	var all []map[string]any
	if err := json.Unmarshal(body, &all); err != nil || status != http.StatusOK || len(all) != 1 ||
		!strings.Contains(fmt.Sprint(all[0]["meta_model_name"]), "webauthn") || all[0]["last_used"] == nil {
		t.Errorf("the passkey is not marked used: %d %s", status, body)
	}
	logout()

	p.Navigate(host + "/")
	p.Click(p.Button("Use a security key"))
	landed("the passwordless login")
}
