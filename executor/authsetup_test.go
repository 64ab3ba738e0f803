package executor

import (
	"context"
	"encoding/base32"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/otp"
	"github.com/authflow/authflow/plan"
)

// totpSecret reads the key of a config_url.
func totpSecret(t *testing.T, configURL string) []byte {
	t.Helper()
	u, err := url.Parse(configURL)
	if err != nil {
		t.Fatal(err)
	}
	key, err := base32.StdEncoding.DecodeString(u.Query().Get("secret"))
	if err != nil || len(key) != otp.KeySize {
		t.Fatalf("secret of %s: %v", configURL, err)
	}
	return key
}

// TOTP setup: the otpauth URI with the brand title, the user and the
// stage's digits, the same key on every render; a wrong code and a code
// that is not a number refused; the right one saves a confirmed device
// whose last step is the code's, and forgets the key.
func TestSetupTOTP(t *testing.T) {
	h := newMFAHarness(t, identFlow("authentication", "", stageEntry(totpModel, "f", "setup", 10, "digits: 8", "")),
		func(o *Options) { o.Brand.Title = "Acme: Corp" })
	h.identify(t)
	r := h.get("f", "")
	r.want(t, ComponentAuthenticatorTOTP, "pending_user", "alice")
	cu := r.body["config_url"].(string)
	if !strings.HasPrefix(cu, "otpauth://totp/Acme%3A%20Corp%3Aalice?secret=") || !strings.HasSuffix(cu, "&algorithm=SHA1&digits=8&period=30&issuer=Acme%3A%20Corp") {
		t.Fatalf("config_url %s", cu)
	}
	key := totpSecret(t, cu)
	if again := h.get("f", "").body["config_url"]; again != cu {
		t.Fatalf("a new key on a second render: %v", again)
	}
	g := otp.TOTP{Key: key, Digits: 8}
	errOf := func(body string) string {
		r := h.post("f", "", body)
		r.want(t, ComponentAuthenticatorTOTP, "config_url", cu)
		return string(mustJSON(t, r.body["response_errors"]))
	}
	if got := errOf(`{"code": 1}`); got != `{"code":[{"code":"invalid","string":"Code does not match"}]}` {
		t.Errorf("wrong code: %s", got)
	}
	if got := errOf(`{"code": "abc"}`); got != `{"code":[{"code":"invalid","string":"A valid integer is required."}]}` {
		t.Errorf("not a number: %s", got)
	}
	if got := errOf(`{}`); got != `{"code":[{"code":"required","string":"This field is required."}]}` {
		t.Errorf("no code: %s", got)
	}
	if x := h.execution("f"); x.Context[ContextTOTPDevice] == nil {
		t.Fatal("the device being set up is not in the context")
	}
	h.post("f", "", `{"code": "`+g.Code(h.e.now())+`"}`).want(t, ComponentRedirect)
	devs, _ := h.devs.UserDevices(context.Background(), h.alice.PK)
	if len(devs) != 1 || devs[0].Class != directory.DeviceTOTP || !devs[0].Confirmed || devs[0].Name != "TOTP Authenticator" ||
		string(devs[0].TOTP.Key) != string(key) || devs[0].TOTP.Digits != 8 || devs[0].TOTP.LastT != g.T(h.e.now()) || devs[0].TOTP.Tolerance != 1 || devs[0].TOTP.Step != 30 {
		t.Fatalf("devices %+v %+v", devs, devs[0].TOTP)
	}
}

// The setup stages pass for a request without a user, and deny (with a
// configuration_error) on an executor that keeps no devices.
func TestSetupWithoutUserOrDevices(t *testing.T) {
	for _, model := range []string{totpModel, staticModel} {
		h := newMFAHarness(t, designatedDoc("g", "stage_configuration", stageEntry(model, "g", "setup", 0, "digits: 6", "")))
		h.get("g", "").want(t, ComponentRedirect)
		h2 := newHarness(t, identFlow("authentication", "", stageEntry(model, "f", "setup", 10, "digits: 6", "")))
		h2.e.devices = nil // a directory without devices
		h2.userWith("alice", "alice@example.com", nil, true)
		h2.identify(t)
		h2.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoDevices)
		if ev := h2.lastEvent(t, EventConfigurationError); ev.Message != MsgNoDevices {
			t.Errorf("event %+v", ev)
		}
	}
}

// Static setup: token_count codes of token_length letters and digits,
// the same on every render, saved as hashes when answered; each then
// opens a validation once.
func TestSetupStatic(t *testing.T) {
	h := newMFAHarness(t, identFlow("authentication", "", stageEntry(staticModel, "f", "setup", 10, "token_count: 3, token_length: 16", "")))
	h.identify(t)
	// A response before the codes were shown shows them.
	r := h.post("f", "", `{}`)
	r.want(t, ComponentAuthenticatorStatic, "pending_user", "alice")
	var codes []string
	for _, c := range r.body["codes"].([]any) {
		codes = append(codes, c.(string))
	}
	if len(codes) != 3 || len(codes[0]) != 16 || strings.Trim(codes[0], otp.StaticAlphabet) != "" {
		t.Fatalf("codes %v", codes)
	}
	if again := h.get("f", "").body["codes"]; string(mustJSON(t, again)) != string(mustJSON(t, codes)) {
		t.Fatalf("other codes on a second render: %v", again)
	}
	h.post("f", "", `{"component": "ak-stage-authenticator-static"}`).want(t, ComponentRedirect)
	devs, _ := h.devs.UserDevices(context.Background(), h.alice.PK)
	if len(devs) != 1 || devs[0].Class != directory.DeviceStatic || !devs[0].Confirmed || devs[0].Name != "Static Token" || len(devs[0].Static.TokenHashes) != 3 ||
		devs[0].Static.TokenHashes[2] != directory.HashStaticToken(codes[2]) {
		t.Fatalf("devices %+v", devs)
	}
}

// The inspector never shows a key or codes being set up.
func TestSetupRedacted(t *testing.T) {
	got := sanitizeContext(map[string]any{ContextTOTPDevice: map[string]any{"key": "00"}, ContextStaticTokens: []any{"abc"}})
	if got[ContextTOTPDevice] != redacted || got[ContextStaticTokens] != redacted {
		t.Fatalf("%v", got)
	}
}

// /flows/-/configure/{stage}/: a logged-in user is sent to the stage's
// configure flow, planned for them; an anonymous one to log in; a stage
// without a configure flow, or an unknown one, is 404.
func TestConfigureHandler(t *testing.T) {
	doc := designatedDoc("setup-flow", "stage_configuration", stageEntry(totpModel, "setup-flow", "setup", 0, "digits: 6, configure_flow: !KeyOf setup-flow", "")) +
		unbound("authentik_stages_dummy.dummystage", "plain", "")
	h := newMFAHarness(t, doc)
	var user plan.User
	srv := httptest.NewServer(h.e.ConfigureHandler(HTTPOptions{User: func(*http.Request) (plan.User, string) { return user, "alice" }}))
	defer srv.Close()
	c := h.newClient()
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	setup := ConfigurePath + h.stagePK("setup") + "/"
	if resp := get(setup + "?x=1"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/flows/-/default/authentication/?next="+url.QueryEscape(setup+"?x=1") {
		t.Fatalf("anonymous: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	user = plan.User{PK: h.alice.PK, Authenticated: true}
	if resp := get(setup + "?x=1"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/if/flow/setup-flow/?x=1" {
		t.Fatalf("logged in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, p := range []string{ConfigurePath + h.stagePK("plain") + "/", ConfigurePath + "00000000-0000-0000-0000-000000000000/", ConfigurePath + "x/"} {
		if resp := get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	// The flow was planned for alice: its TOTP stage shows her URI.
	u, _ := url.Parse(srv.URL)
	h.client.Jar.SetCookies(u, c.Jar.Cookies(u))
	h.get("setup-flow", "").want(t, ComponentAuthenticatorTOTP, "pending_user", "alice")
}
