package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// browser is one client of a running serve: a cookie jar, redirects not
// followed.
type browser struct {
	t    *testing.T
	host string // http://127.0.0.1:port
	c    *http.Client
	// token is serve's API token, for execute.
	token string
}

// api GETs path under /api/v3/ with the API token and no cookie.
func (b *browser) api(path string) map[string]any {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.host+"/api/v3/"+path, nil)
	req.Header.Set("Authorization", "Bearer "+b.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil || res.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
	}
	return m
}

// execute calls execute for slug with the session's cookie and the API
// token, and returns the status and the link.
func (b *browser) execute(slug string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.host+"/api/v3/flows/instances/"+slug+"/execute/", nil)
	req.Header.Set("Authorization", "Bearer "+b.token)
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]string
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m["link"]
}

func newBrowser(t *testing.T, srv *server) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, host: strings.TrimSuffix(srv.base, "/api/v3/"), c: &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// step sends one request to the executor of slug and returns the status,
// the Location and the decoded challenge.
func (b *browser) step(method, slug, body string) (int, string, map[string]any) {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.host+"/api/v3/flows/executor/"+slug+"/?query=", rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &m); err != nil {
			b.t.Fatalf("%s %s: %v: %s", method, slug, err, raw)
		}
	}
	return res.StatusCode, res.Header.Get("Location"), m
}

// challenge answers the current challenge of slug with body ("" for a
// GET), following reloads, and returns the next challenge.
func (b *browser) challenge(slug, body string) map[string]any {
	b.t.Helper()
	method := "GET"
	if body != "" {
		method = "POST"
	}
	for range 10 {
		code, _, ch := b.step(method, slug, body)
		switch code {
		case http.StatusOK:
			return ch
		case http.StatusFound:
			method, body = "GET", ""
		default:
			b.t.Fatalf("%s %s: status %d", method, slug, code)
		}
	}
	b.t.Fatalf("%s: more than 10 reloads", slug)
	return nil
}

// want checks a challenge's component and string fields.
func want(t *testing.T, ch map[string]any, component string, kv ...string) {
	t.Helper()
	if ch["component"] != component {
		t.Fatalf("component %v, want %s: %v", ch["component"], component, ch)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if got, _ := ch[kv[i]].(string); got != kv[i+1] {
			t.Errorf("%s = %q, want %q: %v", kv[i], got, kv[i+1], ch)
		}
	}
}

// The shipped initial-setup flow on a fresh serve, over HTTP: the prompt
// sets akadmin's email and password, user_write writes them onto akadmin
// (the pending user the binding's policy finds with ak_user_by),
// user_login logs the browser in, and the flow ends at /. It is then used
// up (its plan-time policy set authentication to require_superuser, and
// akadmin's password is usable): a second browser is denied.
func TestInitialSetup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("tok"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := start(t, bin, filepath.Join(dir, "x.db"), "-token-file", tokenFile)
	admin := newBrowser(t, srv)
	admin.token = "tok"
	ch := admin.challenge("initial-setup", "")
	want(t, ch, "ak-stage-prompt", "flow_info.title")
	if fi, _ := ch["flow_info"].(map[string]any); fi["title"] != "Welcome to authentik!" {
		t.Errorf("flow_info: %v", ch["flow_info"])
	}
	ch = admin.challenge("initial-setup", `{"component":"ak-stage-prompt","email":"admin@example.org","password":"correct horse","password_repeat":"battery staple"}`)
	want(t, ch, "ak-stage-prompt")
	if errs, _ := json.Marshal(ch["response_errors"]); !strings.Contains(string(errs), "Passwords don't match.") {
		t.Errorf("mismatched passwords: %s", errs)
	}
	ch = admin.challenge("initial-setup", `{"component":"ak-stage-prompt","email":"admin@example.org","password":"correct horse","password_repeat":"correct horse"}`)
	want(t, ch, "xak-flow-redirect", "to", "/")
	if f := admin.api("flows/instances/initial-setup/"); f["authentication"] != "require_superuser" {
		t.Errorf("initial-setup's authentication after the run: %v", f["authentication"])
	}
	users := admin.api("core/users/?username=akadmin")["results"].([]any)
	if u := users[0].(map[string]any); u["email"] != "admin@example.org" || u["password_change_date"] == nil {
		t.Errorf("akadmin after initial-setup: %v", u)
	}
	// Used up: another browser, and the logged-in admin, are denied.
	for _, b := range []*browser{newBrowser(t, srv), admin} {
		want(t, b.challenge("initial-setup", ""), "ak-stage-access-denied", "error_message", "Flow does not apply to current user.")
	}

	// The admin's session is logged in. The user settings flow is
	// started as authentik's user interface starts it, through execute
	// (planned with pending_user = the session's user, so that the
	// username prompt accepts the user's own name); serve's API needs its
	// token for that, the cookie says who the user is.
	if code, link := admin.execute("default-user-settings-flow"); code != http.StatusOK || link != admin.host+"/if/flow/default-user-settings-flow/" {
		t.Fatalf("execute: %d %q", code, link)
	}
	ch = admin.challenge("default-user-settings-flow", "")
	want(t, ch, "ak-stage-prompt")
	initial := map[string]any{}
	for _, f := range ch["fields"].([]any) {
		f := f.(map[string]any)
		initial[f["field_key"].(string)] = f["initial_value"]
	}
	if initial["username"] != "akadmin" || initial["name"] != "authentik Default Admin" || initial["email"] != "admin@example.org" {
		t.Errorf("user settings' initial values: %v", initial)
	}
	// The tenant's defaults allow a new name and refuse a new email.
	ch = admin.challenge("default-user-settings-flow", `{"component":"ak-stage-prompt","username":"akadmin","name":"Ada Admin","email":"other@example.org","attributes.settings.locale":""}`)
	want(t, ch, "ak-stage-prompt")
	if errs, _ := json.Marshal(ch["response_errors"]); string(errs) != `{"non_field_errors":[{"code":"invalid","string":"Not allowed to change email address."}]}` {
		t.Errorf("email change: %s", errs)
	}
	ch = admin.challenge("default-user-settings-flow", `{"component":"ak-stage-prompt","username":"akadmin","name":"Ada Admin","email":"admin@example.org","attributes.settings.locale":"de"}`)
	want(t, ch, "xak-flow-redirect", "to", "/")
	u := admin.api("core/users/?username=akadmin")["results"].([]any)[0].(map[string]any)
	if u["name"] != "Ada Admin" || u["email"] != "admin@example.org" || u["attributes"].(map[string]any)["settings"].(map[string]any)["locale"] != "de" {
		t.Errorf("akadmin after user settings: %v", u)
	}

	// A POST from another origin is refused.
	req, _ := http.NewRequest("POST", admin.host+"/api/v3/flows/executor/default-user-settings-flow/?query=", strings.NewReader(`{"component":"ak-stage-prompt"}`))
	req.Header.Set("Origin", "https://evil.example")
	res, err := admin.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || string(raw) != `{"detail":"CSRF Failed: Origin checking failed - https://evil.example does not match any trusted origins."}` {
		t.Errorf("cross-origin POST on serve: %d %s", res.StatusCode, raw)
	}

	// The password change flow: its password policy's zxcvbn check
	// refuses a weak password with authentik's message and zxcvbn's
	// suggestion, and lets a strong one through to user_write.
	want(t, admin.challenge("default-password-change", ""), "ak-stage-prompt")
	ch = admin.challenge("default-password-change", `{"component":"ak-stage-prompt","password":"password","password_repeat":"password"}`)
	want(t, ch, "ak-stage-prompt")
	if errs, _ := json.Marshal(ch["response_errors"]); !strings.Contains(string(errs), `"Password is too weak."`) || !strings.Contains(string(errs), `"Add another word or two. Uncommon words are better."`) {
		t.Errorf("weak password change on serve: %s", errs)
	}
	ch = admin.challenge("default-password-change", `{"component":"ak-stage-prompt","password":"correct horse battery staple","password_repeat":"correct horse battery staple"}`)
	want(t, ch, "xak-flow-redirect", "to", "/")

	// Log in as akadmin with the password the change set: a wrong one
	// is "Invalid password"; the right one passes the password stage,
	// default-authentication-mfa-validation (no devices, skip) and
	// user_login, and the flow ends.
	for pw, msg := range map[string]string{"correct horse": "", "correct horse battery staple": "/"} {
		b := newBrowser(t, srv)
		want(t, b.challenge("default-authentication-flow", ""), "ak-stage-identification")
		want(t, b.challenge("default-authentication-flow", `{"component":"ak-stage-identification","uid_field":"akadmin"}`), "ak-stage-password", "pending_user", "akadmin")
		ch = b.challenge("default-authentication-flow", `{"component":"ak-stage-password","password":"`+pw+`"}`)
		if msg == "" {
			want(t, ch, "ak-stage-password")
			if errs, _ := json.Marshal(ch["response_errors"]); string(errs) != `{"password":[{"code":"invalid","string":"Invalid password"}]}` {
				t.Errorf("wrong password: %s", errs)
			}
			continue
		}
		want(t, ch, "xak-flow-redirect", "to", msg)
	}

	// default-invalidation-flow logs the admin out: the user settings
	// flow (require_authenticated) no longer applies.
	want(t, admin.challenge("default-invalidation-flow", ""), "xak-flow-redirect", "to", "/")
	want(t, admin.challenge("default-user-settings-flow", ""), "ak-stage-access-denied", "error_message", "Flow does not apply to current user.")
}
