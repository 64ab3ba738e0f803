package flowui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flowui"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"golang.org/x/net/html"
)

// component is the component the page renders (its form's hidden
// component field), "" for none.
func (p *page) component() string {
	if p.doc == nil {
		return ""
	}
	if in := p.input("component"); in != nil {
		return attrOf(in, "value")
	}
	return ""
}

// want checks the page's status and path.
func (p *page) want(t testing.TB, status int, path string) {
	t.Helper()
	if p.status != status || p.url.Path != path {
		t.Fatalf("got %d %s, want %d %s:\n%s", p.status, p.url, status, path, p.body)
	}
}

// wantComponent checks the page's component.
func (p *page) wantComponent(t testing.TB, c string) {
	t.Helper()
	if got := p.component(); got != c {
		t.Fatalf("%s: component %q, want %q:\n%s", p.url, got, c, p.body)
	}
}

// load applies a blueprint to the server's store.
func (sv *server) load(doc string) {
	sv.t.Helper()
	if res, err := blueprint.Load(context.Background(), sv.s, strings.NewReader(doc), blueprint.Options{}); err != nil || !res.Success {
		sv.t.Fatalf("%v %+v", err, res.Logs)
	}
}

// session is the browser's session cookie.
func (b *browser) session() string {
	u, _ := url.Parse(b.sv.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == executor.DefaultCookie {
			return c.Value
		}
	}
	return ""
}

// setup sets akadmin's password through initial-setup.
func setup(t testing.TB, b *browser, pw string) {
	t.Helper()
	p := b.get("/if/flow/initial-setup/")
	p.want(t, 200, "/if/flow/initial-setup/")
	p.wantComponent(t, executor.ComponentPrompt)
	p = b.submit(map[string]string{"email": "root@example.org", "password": pw, "password_repeat": pw})
	p.want(t, 200, "/")
}

// Set akadmin's password through initial-setup, log out from the
// landing page, fail a password (the error tied to its field), log in
// through the default authentication flow, see the landing page; the
// API sees the pages' session.
func TestLoginThroughPages(t *testing.T) {
	sv := newServer(t)
	b := sv.browser()
	setup(t, b, "admin Passw0rd")
	if !strings.Contains(text(byID(b.last.doc, "af-title")), "authentik") || !strings.Contains(b.last.body, "You are logged in as <strong>akadmin</strong>") {
		t.Fatalf("landing: %s", b.last.body)
	}
	logout := ""
	for _, a := range all(b.last.doc, "a") {
		if text(a) == "Log out" {
			logout = attrOf(a, "href")
		}
	}
	p := b.get(logout)
	p.want(t, 200, "/if/flow/default-authentication-flow/")
	p.wantComponent(t, executor.ComponentIdentification)
	if attrOf(p.input("uid_field"), "autocomplete") != "username" {
		t.Errorf("uid_field: %s", p.body)
	}
	p = b.submit(map[string]string{"uid_field": "akadmin"})
	p.want(t, 200, "/if/flow/default-authentication-flow/")
	p.wantComponent(t, executor.ComponentPassword)
	if in := p.input("password"); attrOf(in, "autocomplete") != "current-password" {
		t.Errorf("password: %s", p.body)
	}
	// The pending user's avatar, an SVG data: URI, is shown (html/template
	// would replace it as an unsafe URL).
	if imgs := all(p.doc, "img"); len(imgs) != 1 || !strings.HasPrefix(attrOf(imgs[0], "src"), "data:image/svg+xml;base64,") {
		t.Errorf("avatar: %s", p.body)
	}
	p = b.submit(map[string]string{"password": "wrong"})
	p.wantComponent(t, executor.ComponentPassword)
	in := p.input("password")
	errEl := byID(p.doc, attrOf(in, "aria-describedby"))
	if errEl == nil || text(errEl) != "Invalid password" || attrOf(errEl, "role") != "alert" {
		t.Fatalf("the error is not tied to the field: %s", p.body)
	}
	if _, ok := attr(in, "autofocus"); !ok {
		t.Errorf("the field with the error has no focus: %s", p.body)
	}
	p = b.submit(map[string]string{"password": "admin Passw0rd"})
	p.want(t, 200, "/")
	if !strings.Contains(p.body, "You are logged in as <strong>akadmin</strong>") {
		t.Fatalf("landing: %s", p.body)
	}
	// The executor's API sees the same session: the user is logged in.
	api := b.get(executor.ExecutorPath + "default-authentication-flow/")
	var ch map[string]any
	if err := json.Unmarshal([]byte(api.body), &ch); err != nil {
		t.Fatal(err)
	}
	if u, ok, _ := sv.e.SessionStore().User(context.Background(), b.session()); !ok || u.Username != "akadmin" {
		t.Errorf("the session is not akadmin's: %+v %v", u, ok)
	}
}

// The fifth wrong password ends the flow with authentik's message.
func TestPasswordAttempts(t *testing.T) {
	sv := newServer(t)
	b := sv.browser()
	setup(t, b, "admin Passw0rd")
	b.get(executor.InvalidationURL)
	b.submit(map[string]string{"uid_field": "akadmin"})
	for range 4 {
		b.submit(map[string]string{"password": "wrong"}).wantComponent(t, executor.ComponentPassword)
	}
	p := b.submit(map[string]string{"password": "wrong"})
	if p.doc == nil || !strings.Contains(text(p.doc), "Invalid password") || p.input("password") != nil {
		t.Fatalf("after the fifth: %s", p.body)
	}
}

// Enroll through authentik's two-stage enrollment example, log out, and
// log in as the new user.
func TestEnrollmentThroughPages(t *testing.T) {
	sv := newServer(t, "flows-enrollment-2-stage.yaml")
	b := sv.browser()
	p := b.get("/if/flow/default-enrollment-flow/")
	p.wantComponent(t, executor.ComponentPrompt)
	p = b.submit(map[string]string{"username": "alice", "password": "a", "password_repeat": "b"})
	p.wantComponent(t, executor.ComponentPrompt)
	if !strings.Contains(text(p.doc), executor.MsgPasswordsMismatch) || attrOf(p.input("username"), "value") != "alice" || attrOf(p.input("password"), "value") != "" {
		t.Fatalf("mismatch: %s", p.body)
	}
	p = b.submit(map[string]string{"password": "alice pw", "password_repeat": "alice pw"})
	p.wantComponent(t, executor.ComponentPrompt)
	if p.input("email") == nil || attrOf(p.input("email"), "autocomplete") != "email" {
		t.Fatalf("second page: %s", p.body)
	}
	p = b.submit(map[string]string{"name": "Alice", "email": "alice@example.org"})
	p.want(t, 200, "/")
	if !strings.Contains(p.body, "<strong>alice</strong>") {
		t.Fatalf("landing: %s", p.body)
	}
	b.get(executor.InvalidationURL).wantComponent(t, executor.ComponentIdentification)
	b.submit(map[string]string{"uid_field": "alice@example.org"}).wantComponent(t, executor.ComponentPassword)
	p = b.submit(map[string]string{"password": "alice pw"})
	p.want(t, 200, "/")
	if !strings.Contains(p.body, "<strong>alice</strong>") {
		t.Fatalf("landing: %s", p.body)
	}
}

// everyField is a flow with a prompt of every type on one page, then a
// dummy stage.
func everyField(title, label string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `version: 1
entries:
  - model: authentik_flows.flow
    id: flow
    identifiers: {slug: every-field}
    attrs: {name: Every field, title: %q, designation: enrollment, layout: content_left}
`, title)
	var keys []string
	for i, t := range stage.PromptTypes {
		key := "f_" + strings.ReplaceAll(string(t), "-", "_")
		keys = append(keys, key)
		extra := ""
		switch t {
		case "dropdown", "radio-button-group":
			extra = `, placeholder: "return ['red', 'green']", placeholder_expression: true`
		case "hidden", "static", "text_read_only", "text_area_read_only":
			extra = `, initial_value: "fixed ` + string(t) + `"`
		}
		l := "Label " + string(t)
		if t == "text" {
			l = label
		}
		fmt.Fprintf(&b, `  - model: authentik_stages_prompt.prompt
    id: %s
    identifiers: {name: every-%s}
    attrs: {field_key: %s, label: %q, type: %s, required: false, order: %d, sub_text: "<b>help</b> %s"%s}
`, key, t, key, l, t, i, t, extra)
	}
	b.WriteString("  - model: authentik_stages_prompt.promptstage\n    id: prompt\n    identifiers: {name: every-prompt}\n    attrs:\n      fields:\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "        - !KeyOf %s\n", k)
	}
	b.WriteString(`  - model: authentik_stages_dummy.dummystage
    id: dummy
    identifiers: {name: every-dummy}
  - model: authentik_flows.flowstagebinding
    identifiers: {target: !KeyOf flow, stage: !KeyOf prompt, order: 10}
  - model: authentik_flows.flowstagebinding
    identifiers: {target: !KeyOf flow, stage: !KeyOf dummy, order: 20}
`)
	return b.String()
}

// A prompt of every type on one page: each has a labelled field, and
// the form sends each as its type.
func TestEveryPromptType(t *testing.T) {
	sv := newServer(t)
	sv.load(everyField("Every field", "Text"))
	b := sv.browser()
	p := b.get("/if/flow/every-field/")
	p.wantComponent(t, executor.ComponentPrompt)
	if !strings.Contains(attrOf(all(p.doc, "body")[0], "class"), "layout-content_left") {
		t.Errorf("layout: %s", p.body)
	}
	p = b.submit(map[string]string{
		"f_text": "  spaced ", "f_text_area": "line 1\nline 2", "f_username": "bob", "f_email": "bob@example.org",
		"f_password": "pw", "f_number": "42", "f_checkbox": "on", "f_radio_button_group": "green", "f_dropdown": "red",
		"f_date": "2026-02-03", "f_date_time": "2026-02-03T04:05", "file:f_file": "\x89PNG", "f_ak_locale": "de",
	})
	p.wantComponent(t, executor.ComponentDummy)
	got, err := sv.e.Inspect(context.Background(), "every-field", b.session())
	if err != nil || got.CurrentPlan == nil {
		t.Fatalf("inspect: %+v %v", got, err)
	}
	data, _ := json.Marshal(got.CurrentPlan.PlanContext["prompt_data"])
	var pd map[string]any
	_ = json.Unmarshal(data, &pd)
	want := map[string]any{
		"f_text": "  spaced ", "f_text_area": "line 1\nline 2", "f_username": "bob", "f_email": "bob@example.org",
		"f_number": 42.0, "f_checkbox": true, "f_radio_button_group": "green", "f_dropdown": "red",
		"f_date": "2026-02-03", "f_date_time": "2026-02-03T04:05:00Z", "f_file": "data:image/png;base64,iVBORw==",
		"f_ak_locale": "de", "f_hidden": "fixed hidden", "f_static": "fixed static",
		"f_text_read_only": "fixed text_read_only", "f_text_area_read_only": "fixed text_area_read_only",
	}
	for k, v := range want {
		if fmt.Sprint(pd[k]) != fmt.Sprint(v) {
			t.Errorf("%s: %#v, want %#v", k, pd[k], v)
		}
	}
}

// A flow title and a prompt label holding <script> render as text.
func TestEscaping(t *testing.T) {
	sv := newServer(t)
	sv.load(everyField("<script>alert('title')</script>", "<script>alert('label')</script>"))
	p := sv.browser().get("/if/flow/every-field/")
	if strings.Contains(p.body, "<script>alert") || len(all(p.doc, "script")) != 0 {
		t.Fatalf("a script in the page: %s", p.body)
	}
	if text(byID(p.doc, "af-title")) != "<script>alert('title')</script>" {
		t.Errorf("title: %q", text(byID(p.doc, "af-title")))
	}
	found := false
	for _, l := range all(p.doc, "label") {
		found = found || text(l) == "<script>alert('label')</script>"
	}
	if !found {
		t.Errorf("the label is not shown as text: %s", p.body)
	}
	// sub_text is text too.
	if !strings.Contains(p.body, "&lt;b&gt;help&lt;/b&gt; text") {
		t.Errorf("sub_text: %s", p.body)
	}
}

// A POST without the CSRF token, with a wrong one, or with another
// session's is refused before anything is submitted; so is one from
// another origin.
func TestCSRF(t *testing.T) {
	sv := newServer(t)
	other := sv.browser()
	const login = "/if/flow/default-authentication-flow/"
	other.get(login)
	otherToken := attrOf(other.last.input("csrf_token"), "value")
	for _, tc := range []struct {
		name, token, origin string
		status              int
	}{
		{"none", "\x00", "", http.StatusForbidden},
		{"wrong", "AAAA", "", http.StatusForbidden},
		{"another session's", otherToken, "", http.StatusForbidden},
		{"another origin", "", "https://evil.example", http.StatusForbidden},
		{"right", "", "", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := sv.browser()
			p := b.get(login)
			set := map[string]string{"uid_field": "akadmin"}
			vals, _, _, _ := p.form(t, set)
			q := url.Values{}
			for _, kv := range vals {
				switch {
				case kv[0] == "csrf_token" && tc.token == "\x00":
				case kv[0] == "csrf_token" && tc.token != "":
					q.Add(kv[0], tc.token)
				default:
					q.Add(kv[0], kv[1])
				}
			}
			req, _ := http.NewRequest("POST", sv.srv.URL+login, strings.NewReader(q.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
				req.Header.Set("Sec-Fetch-Site", "cross-site")
			}
			p = b.do(req)
			if p.status != tc.status {
				t.Fatalf("%d, want %d: %s", p.status, tc.status, p.body)
			}
			if tc.status == http.StatusOK {
				p.wantComponent(t, executor.ComponentPassword)
				return
			}
			// Nothing was submitted: the flow still asks.
			b.get(login).wantComponent(t, executor.ComponentIdentification)
		})
	}
}

// Forms the UI cannot read get a clean 400 page.
func TestBadForms(t *testing.T) {
	sv := newServer(t)
	b := sv.browser()
	p := b.get("/if/flow/default-authentication-flow/")
	token := attrOf(p.input("csrf_token"), "value")
	many := url.Values{"csrf_token": {token}, "component": {executor.ComponentIdentification}}
	for i := range 300 {
		many.Add(fmt.Sprint("k", i), "v")
	}
	for _, tc := range []struct {
		name, ctype, body, want string
	}{
		{"too large", "application/x-www-form-urlencoded", "csrf_token=" + token + "&x=" + strings.Repeat("a", 70<<10), "too large"},
		{"too large with files", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n" + strings.Repeat("a", flowui.DefaultMaxUpload+1) + "\r\n--x--\r\n", "too large"},
		{"too many fields", "application/x-www-form-urlencoded", many.Encode(), "too many fields"},
		{"unknown component", "application/x-www-form-urlencoded", "csrf_token=" + token + "&component=ak-stage-nope", "does not answer"},
		{"not a form", "application/json", `{"component":"ak-stage-identification"}`, "could not be read"},
		{"bad multipart", "multipart/form-data; boundary=x", "--x\r\nbroken", "could not be read"},
		{"bad challenge choice", "application/x-www-form-urlencoded", url.Values{"csrf_token": {token}, "component": {executor.ComponentAuthenticatorValidate}, "selected_challenge": {"[1"}}.Encode(), "could not be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", sv.srv.URL+"/if/flow/default-authentication-flow/", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			p := b.do(req)
			status := http.StatusBadRequest
			if tc.want == "too large" {
				status = http.StatusRequestEntityTooLarge
			}
			if p.status != status || !strings.Contains(p.body, tc.want) || p.header.Get("Content-Security-Policy") == "" {
				t.Fatalf("%d %s", p.status, p.body)
			}
		})
	}
}

// Every answer carries the CSP and the other headers, and every page's
// HTML and CSS are at most 30 KB.
func TestHeadersEverywhere(t *testing.T) {
	sv := newServer(t)
	sv.load(everyField("Every field", "Text"))
	b := sv.browser()
	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, path := range []string{"/", "/if/flow/nope", "/if/flow/default-authentication-flow/", "/if/flow/initial-setup/", "/if/flow/every-field/",
		"/if/flow/nope/", "/nope", "/if/flow/", flowui.BackgroundPath, executor.DefaultAvatar} {
		p := b.get(path)
		csp := p.header.Get("Content-Security-Policy")
		if !strings.HasPrefix(csp, "default-src 'none'") || p.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %v", path, p.status, p.header)
		}
		if p.doc != nil && p.status/100 != 3 {
			if !strings.Contains(csp, "frame-ancestors 'none'") || p.header.Get("Cache-Control") != "no-store" || p.header.Get("Referrer-Policy") == "" {
				t.Errorf("%s: %v", path, p.header)
			}
			if len(p.body) > 30<<10 {
				t.Errorf("%s: %d bytes", path, len(p.body))
			}
			if attrOf(all(p.doc, "html")[0], "lang") == "" {
				t.Errorf("%s: no lang", path)
			}
			for _, s := range all(p.doc, "style") {
				if n := attrOf(s, "nonce"); n == "" || !strings.Contains(csp, "'nonce-"+n+"'") {
					t.Errorf("%s: style without the CSP's nonce", path)
				}
			}
		}
	}
	var _ = html.ElementNode
}

// Recover a password with the emailed link, opened in another browser.
func TestRecoveryThroughPages(t *testing.T) {
	sv := newServer(t, "flows-recovery-email-verification.yaml")
	setup(t, sv.browser(), "old Passw0rd")
	a := sv.browser()
	p := a.get("/if/flow/default-recovery-flow/?next=%2Fdone%2F")
	p.wantComponent(t, executor.ComponentIdentification)
	p = a.submit(map[string]string{"uid_field": "akadmin"})
	p.wantComponent(t, executor.ComponentEmail)
	link := regexp.MustCompile(`/if/flow/[^\s"<>]+`).FindString(sv.firstMail(t))
	if !strings.Contains(link, "flow_token=") || !strings.Contains(link, "next=%2Fdone%2F") {
		t.Fatalf("link: %q", link)
	}
	// "Send again" answers with the page and authentik's message, as a
	// status, not the executor's error code "email-sent" as an alert.
	p = a.submit(nil)
	p.wantComponent(t, executor.ComponentEmail)
	if s := text(all(p.doc, "main")[0]); !strings.Contains(s, executor.MsgEmailResent) || strings.Contains(s, executor.MsgEmailSentError) || strings.Contains(p.body, `role="alert"`) {
		t.Fatalf("after sending again: %s", p.body)
	}
	// A browser without the session cookie continues by a button
	// (TestLinkScannerKeepsOneTimeLinks).
	b := sv.browser()
	b.get(link).wantComponent(t, "af-continue")
	p = b.submit(nil)
	for range 3 {
		if p.component() != executor.ComponentConsent {
			break
		}
		p = b.submit(nil)
	}
	p.wantComponent(t, executor.ComponentPrompt)
	p = b.submit(map[string]string{"password": "new Passw0rd", "password_repeat": "new Passw0rd"})
	if p.url.Path != "/done/" {
		t.Fatalf("after recovery: %d %s %s", p.status, p.url, p.body)
	}
	c := sv.browser()
	c.get("/").wantComponent(t, executor.ComponentIdentification)
	c.submit(map[string]string{"uid_field": "akadmin"})
	c.submit(map[string]string{"password": "new Passw0rd"}).want(t, 200, "/")
}

// "Remember me" keeps the username for the next visit to the page, and
// unchecking it forgets it.
func TestRememberMe(t *testing.T) {
	sv := newServer(t)
	sv.load(`version: 1
entries:
  - model: authentik_stages_identification.identificationstage
    identifiers: {name: default-authentication-identification}
    attrs: {enable_remember_me: true}
`)
	b := sv.browser()
	p := b.get("/if/flow/default-authentication-flow/")
	if p.input("remember_me") == nil {
		t.Fatalf("no remember me: %s", p.body)
	}
	b.submit(map[string]string{"uid_field": "carol", "remember_me": "on"}).wantComponent(t, executor.ComponentPassword)
	b.get(executor.CancelURL)
	p = b.get("/if/flow/default-authentication-flow/")
	if attrOf(p.input("uid_field"), "value") != "carol" {
		t.Fatalf("not remembered: %s", p.body)
	}
	if _, ok := attr(p.input("remember_me"), "checked"); !ok {
		t.Errorf("the box is not checked")
	}
	b.submit(map[string]string{"uid_field": "carol", "remember_me": ""})
	b.get(executor.CancelURL)
	if p = b.get("/if/flow/default-authentication-flow/"); attrOf(p.input("uid_field"), "value") != "" {
		t.Fatalf("not forgotten: %s", p.body)
	}
}

// An unexpected error is the flow error page with the request id of
// the system_exception event that holds it, never the error's text.
func TestFlowErrorPage(t *testing.T) {
	sv := newServer(t)
	ui, err := flowui.New(sv.e, flowui.Options{HTTP: executor.HTTPOptions{Session: func(*http.Request) string { return "" }}})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	ui.ServeHTTP(w, httptest.NewRequest("GET", "/if/flow/default-authentication-flow/", nil))
	id := w.Header().Get("X-authentik-id")
	if w.Code != http.StatusInternalServerError || id == "" || !strings.Contains(w.Body.String(), id) || strings.Contains(w.Body.String(), "session id") {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for _, ev := range sv.events {
		if ev.RequestID == id && ev.Action == executor.EventSystemException && strings.Contains(ev.Message, "session") {
			return
		}
	}
	t.Errorf("no system_exception event for %s: %+v", id, sv.events)
}

// The landing page links to the user's settings, a password change and
// logging out. The settings and password change links start their flow
// for the user (StartPath, as authentik's user interface starts its
// settings flow): the settings page then saves the user's own values,
// where the flow's page without its start has no pending user and takes
// the unchanged username for a new user's ("Username is already
// taken."); the settings flow's page opened directly is started too.
func TestLandingLinks(t *testing.T) {
	sv := newServer(t)
	b := sv.browser()
	setup(t, b, "admin Passw0rd")
	links := map[string]string{}
	for _, a := range all(b.last.doc, "a") {
		links[text(a)] = attrOf(a, "href")
	}
	want := map[string]string{"Your settings": flowui.StartPath + "default-user-settings-flow/", "Change your password": flowui.StartPath + "default-password-change/", "Log out": executor.InvalidationURL}
	for k, v := range want {
		if links[k] != v {
			t.Errorf("%s: %q, want %q", k, links[k], v)
		}
	}
	p := b.get(links["Your settings"])
	p.wantComponent(t, executor.ComponentPrompt)
	if p.url.Path != flowui.FlowPath+"default-user-settings-flow/" {
		t.Fatalf("the settings link ends at %s", p.url)
	}
	b.submit(map[string]string{"name": "Ada Admin"}).want(t, 200, "/")
	u, err := sv.s.Directory().FindUser(context.Background(), directory.Find{Identifier: "akadmin", Fields: []directory.Field{directory.FieldUsername}})
	if err != nil || u.Name != "Ada Admin" {
		t.Fatalf("the settings were not saved: %+v %v", u, err)
	}
	// Opened directly (a bookmark), the flow is started for the visitor
	// too: in authentik it would have no pending user, and would take
	// the visitor's own username for a new user's ("Username is already
	// taken.").
	b.get(flowui.FlowPath+"default-user-settings-flow/").wantComponent(t, executor.ComponentPrompt)
	b.submit(map[string]string{"name": "Ada"}).want(t, 200, "/")
	if u, err := sv.s.Directory().FindUser(context.Background(), directory.Find{Identifier: "akadmin", Fields: []directory.Field{directory.FieldUsername}}); err != nil || u.Name != "Ada" {
		t.Fatalf("the flow opened directly did not save: %+v %v", u, err)
	}
	b.get(links["Change your password"]).wantComponent(t, executor.ComponentPrompt)
	if b.last.url.Path != flowui.FlowPath+"default-password-change/" {
		t.Fatalf("the password change link ends at %s", b.last.url)
	}
}

// StartPath answers only a logged-in visitor's own navigation: an
// anonymous one goes to "/", a link on another site gets a page to
// continue from, an unknown flow 404, another method 405.
func TestStartPath(t *testing.T) {
	sv := newServer(t)
	anon := sv.browser()
	anon.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if p := anon.get(flowui.StartPath + "default-user-settings-flow/"); p.status != http.StatusFound || p.header.Get("Location") != "/" {
		t.Fatalf("anonymous: %d %q", p.status, p.header.Get("Location"))
	}
	b := sv.browser()
	setup(t, b, "admin Passw0rd")
	req, _ := http.NewRequest("GET", sv.srv.URL+flowui.StartPath+"default-user-settings-flow/", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.status != http.StatusOK || !strings.Contains(p.body, "Another site sent you to this page.") {
		t.Fatalf("from another site: %d %s", p.status, p.body)
	}
	if p := b.get(flowui.StartPath + "no-such-flow/"); p.status != http.StatusNotFound {
		t.Fatalf("unknown flow: %d", p.status)
	}
	for _, path := range []string{flowui.StartPath, flowui.StartPath + "a/b/"} {
		if p := b.get(path); p.status != http.StatusNotFound {
			t.Errorf("%s: %d", path, p.status)
		}
	}
	req, _ = http.NewRequest("POST", sv.srv.URL+flowui.StartPath+"default-user-settings-flow/", nil)
	if p := b.do(req); p.status != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", p.status)
	}
}

// A captcha page loads the provider's widget with the page's nonce (the
// one script a page runs besides showing a password), and sends the
// token the widget puts in the form.
func TestCaptchaPage(t *testing.T) {
	sv := newServer(t)
	sv.load(stageThenDummy("captcha-flow", "authentik_stages_captcha.captchastage",
		`{public_key: site-key, private_key: secret, js_url: "https://www.google.com/recaptcha/api.js", api_url: "https://www.google.com/recaptcha/api/siteverify", interactive: true}`))
	b := sv.browser()
	p := b.get("/if/flow/captcha-flow/")
	p.wantComponent(t, executor.ComponentCaptcha)
	scripts := all(p.doc, "script")
	csp := p.header.Get("Content-Security-Policy")
	if len(scripts) != 1 || attrOf(scripts[0], "src") != "https://www.google.com/recaptcha/api.js" ||
		!strings.Contains(csp, "script-src 'nonce-"+attrOf(scripts[0], "nonce")+"' 'strict-dynamic'") {
		t.Fatalf("widget: %s\n%s", csp, p.body)
	}
	widget := false
	for _, d := range all(p.doc, "div") {
		widget = widget || (attrOf(d, "class") == "g-recaptcha" && attrOf(d, "data-sitekey") == "site-key")
	}
	if !widget {
		t.Errorf("no widget: %s", p.body)
	}
	p = b.submit(map[string]string{"+g-recaptcha-response": "bad"})
	p.wantComponent(t, executor.ComponentCaptcha)
	if !strings.Contains(text(p.doc), "Invalid captcha response") {
		t.Errorf("refused token: %s", p.body)
	}
	b.submit(map[string]string{"+g-recaptcha-response": "good"}).wantComponent(t, executor.ComponentDummy)
}

// The page's query is the executor's: an invitation's itoken lets the
// visitor in, and the forms post back with it.
func TestInvitationQuery(t *testing.T) {
	sv := newServer(t)
	sv.load(stageThenDummy("invited", "authentik_stages_invitation.invitationstage", "{}"))
	var inv stage.Invite
	err := sv.s.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		inv, err = store.Invites.Create(tx, stage.Invite{Name: "welcome", FixedData: map[string]any{}}, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	p := sv.browser().get("/if/flow/invited/")
	if p.input("component") != nil || !strings.Contains(text(p.doc), executor.MsgInvalidInvite) {
		t.Fatalf("without an invitation: %s", p.body)
	}
	q := "?itoken=" + inv.PK.String()
	b := sv.browser()
	b.get("/if/flow/invited/"+q).wantComponent(t, "af-continue")
	p = b.submit(nil)
	p.wantComponent(t, executor.ComponentDummy)
	// The form posts to the page's own URL, its query included: it names
	// none, and the page is at that URL.
	if action, named := attr(all(p.doc, "form")[0], "action"); named || p.url.RequestURI() != "/if/flow/invited/"+q {
		t.Errorf("the form posts to %q (named %v) from %s", action, named, p.url.RequestURI())
	}
}

// stageThenDummy is flow slug: a stage of model with attrs (YAML), then
// a dummy stage.
func stageThenDummy(slug, model, attrs string) string {
	return fmt.Sprintf(`version: 1
entries:
  - model: authentik_flows.flow
    id: flow
    identifiers: {slug: %[1]s}
    attrs: {name: %[1]s, title: %[1]s, designation: authentication}
  - model: %[2]s
    id: stage
    identifiers: {name: %[1]s-stage}
    attrs: %[3]s
  - model: authentik_stages_dummy.dummystage
    id: dummy
    identifiers: {name: %[1]s-dummy}
  - model: authentik_flows.flowstagebinding
    identifiers: {target: !KeyOf flow, stage: !KeyOf stage, order: 10}
  - model: authentik_flows.flowstagebinding
    identifiers: {target: !KeyOf flow, stage: !KeyOf dummy, order: 20}
`, slug, model, attrs)
}

// Without a flow to log in with, / says so.
func TestLandingWithoutLogin(t *testing.T) {
	sv := newServer(t)
	if err := sv.s.Update(context.Background(), func(tx *store.Tx) error {
		return store.Flows.Delete(tx, store.By("slug", "default-authentication-flow"), nil)
	}); err != nil {
		t.Fatal(err)
	}
	p := sv.browser().get("/")
	if p.status != http.StatusNotFound || !strings.Contains(p.body, "No login flow applies here.") {
		t.Fatalf("%d %s", p.status, p.body)
	}
}

// Routes: HEAD answers without a body, other methods are 405, a flow's
// page without its slash is redirected with its query, deeper paths
// are 404.
func TestRoutes(t *testing.T) {
	sv := newServer(t)
	for _, tc := range []struct {
		method, path string
		status       int
		header       string
	}{
		{"HEAD", "/if/flow/default-authentication-flow/", 200, ""},
		{"PUT", "/if/flow/default-authentication-flow/", 405, "GET, HEAD, POST"},
		{"DELETE", "/", 405, "GET, HEAD"},
		{"GET", "/if/flow/default-authentication-flow?next=%2Fa", 301, "/if/flow/default-authentication-flow/?next=%2Fa"},
		{"GET", "/if/flow/a/b/", 404, ""},
		{"GET", "/if/flow//", 404, ""},
		{"POST", flowui.BackgroundPath, 405, "GET, HEAD"},
	} {
		w := httptest.NewRecorder()
		sv.ui.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		got := w.Header().Get("Allow") + w.Header().Get("Location")
		if w.Code != tc.status || got != tc.header || (tc.method == "HEAD" && w.Body.Len() != 0) {
			t.Errorf("%s %s: %d %q %d bytes", tc.method, tc.path, w.Code, got, w.Body.Len())
		}
	}
}

// The landing page offers the setup stages that have a configure flow
// (the shipped TOTP, static and WebAuthn setup flows), and lists the
// user's devices once one is set up through its link.
func TestLandingAuthenticators(t *testing.T) {
	sv := newServer(t)
	b := sv.browser()
	setup(t, b, "admin Passw0rd")
	links := map[string]string{}
	for _, a := range all(b.last.doc, "a") {
		links[text(a)] = attrOf(a, "href")
	}
	static := links["Set up: Static tokens"]
	if !strings.HasPrefix(static, executor.ConfigurePath) || !strings.HasPrefix(links["Set up: TOTP Device"], executor.ConfigurePath) {
		t.Fatalf("setup links: %v", links)
	}
	if strings.Contains(text(b.last.doc), "Your authenticators") {
		t.Errorf("devices listed before any: %s", b.last.body)
	}
	b.get(static).wantComponent(t, executor.ComponentAuthenticatorStatic)
	p := b.submit(nil)
	p.want(t, 200, "/")
	if s := text(p.doc); !strings.Contains(s, "Your authenticators") || !strings.Contains(s, "Static Token (") {
		t.Errorf("devices after setup: %s", p.body)
	}
}
