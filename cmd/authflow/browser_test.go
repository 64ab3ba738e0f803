package main_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/internal/browsertest"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The flow pages of "authflow serve" in a real browser (issue 22): each
// test starts serve on a new file with authentik's default blueprints and
// drives its pages with headless Chromium, as a person would, through
// internal/browsertest. Each kind of page a test meets gets look: a
// screenshot (kept with go test -artifacts -outputdir DIR), the
// accessibility rules, and the checks of its cost; every document any
// page loads must carry the Content-Security-Policy (browse).

// host is the address of serve's pages: http://127.0.0.1:port.
func (s *server) host() string { return strings.TrimSuffix(s.base, "/api/v3/") }

// startFlows starts serve with the default blueprints and, unless
// password is "", sets akadmin's password through the API. (Not with
// AUTHENTIK_BOOTSTRAP_PASSWORD: serve's first start then fails, "a user
// entry's password is hashed outside the import's transaction".)
func startFlows(t *testing.T, password string, flags ...string) *server {
	t.Helper()
	srv := start(t, buildBinary(t), filepath.Join(t.TempDir(), "x.db"), flags...)
	if password != "" {
		users := srv.call(t, http.StatusOK, "GET", "core/users/?username=akadmin", "")["results"].([]any)
		pk := users[0].(map[string]any)["pk"].(float64)
		srv.call(t, http.StatusNoContent, "POST", "core/users/"+strconv.Itoa(int(pk))+"/set_password/", `{"password":"`+password+`"}`)
	}
	return srv
}

// importFile imports a blueprint file through serve's API, as authentik's
// flow import does.
func importFile(t *testing.T, srv *server, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", filepath.Base(path))
	_, _ = fw.Write(raw)
	_ = mw.Close()
	status, out := srv.send(t, "POST", "flows/instances/import/", &body, http.Header{"Content-Type": {mw.FormDataContentType()}})
	if status != http.StatusOK || !bytes.Contains(out, []byte(`"success":true`)) {
		t.Fatalf("import %s: %d %s", path, status, out)
	}
}

// browse opens a page in a browser of its own; when the test ends, every
// document it loaded is checked for the security headers.
func browse(t *testing.T, o browsertest.Options) *browsertest.Page {
	t.Helper()
	p := browsertest.Shared(t).NewPage(t, o)
	t.Cleanup(func() {
		for _, d := range p.Documents() {
			checkHeaders(t, d)
		}
	})
	return p
}

// checkHeaders checks a document of the flow interface for its
// Content-Security-Policy (no inline script but by a nonce, no framing)
// and the headers beside it.
func checkHeaders(t *testing.T, d browsertest.Document) {
	t.Helper()
	csp := d.Header.Get("Content-Security-Policy")
	switch {
	case csp == "":
		t.Errorf("%s: no Content-Security-Policy", d.URL)
	case !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "'unsafe-inline'") || strings.Contains(csp, "'unsafe-eval'"):
		t.Errorf("%s: Content-Security-Policy %q", d.URL, csp)
	}
	if d.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", d.URL, d.Header.Get("X-Content-Type-Options"))
	}
}

// pageCost is what the browser measured of a page's load.
type pageCost struct {
	HTML  int      `json:"html"`  // the document's decoded size, its inlined CSS included
	Other []string `json:"other"` // requests other than images
}

// look is what every page of the flow interface gets: a screenshot, the
// accessibility rules, and the cost the issue allows: one request for
// the page (images aside: the background, an avatar; and the favicon the
// browser asks for by itself), its HTML and CSS at most 30 KB. An image
// whose URL is the page's own (an unsafe URL that html/template replaced
// with "#ZgotmplZ") counts as a request: it loads the page again, which
// renders the challenge again.
func look(t *testing.T, p *browsertest.Page, name string) {
	t.Helper()
	p.Screenshot(name)
	p.Accessible()
	c := browsertest.Run(p, chromedp.Evaluate[pageCost](`(() => {
		const nav = performance.getEntriesByType("navigation")[0];
		const page = location.href.split("#")[0];
		const image = (r) => (r.initiatorType === "img" || r.initiatorType === "css") && r.name.split("#")[0] !== page;
		return {html: nav.decodedBodySize, other: performance.getEntriesByType("resource").filter((r) => !image(r) && !r.name.endsWith("/favicon.ico")).map((r) => r.name)};
	})()`))
	if c.HTML > 30*1024 || len(c.Other) > 0 {
		t.Errorf("%s: %d bytes of HTML and CSS, other requests %q", name, c.HTML, c.Other)
	}
}

// heading returns the page's heading, the flow's title.
func heading(p *browsertest.Page) string { return p.Text("h1") }

// focused returns the name attribute of the element that has the focus.
func focused(p *browsertest.Page) string {
	if p.Focused() == "body" {
		return ""
	}
	return browsertest.Run(p, chromedp.Evaluate[string](`document.activeElement.getAttribute("name") || ""`))
}

// login logs in through default-authentication-flow from serve's start
// page: the username on the identification page, the password on the
// password page; it ends on the landing page.
func login(t *testing.T, p *browsertest.Page, srv *server, username, password string, shots bool) {
	t.Helper()
	d := p.Navigate(srv.host() + "/")
	if !strings.HasPrefix(d.URL, srv.host()+"/if/flow/default-authentication-flow/") {
		t.Fatalf("an anonymous visitor at / lands on %s, want the authentication flow", d.URL)
	}
	if got := focused(p); got != "uid_field" {
		t.Errorf("focus on %q, want the username field", got)
	}
	if shots {
		look(t, p, "identification")
	}
	p.Type(p.Field("Email or Username"), username)
	p.Click(p.Button("Log in"))
	if got := focused(p); got != "password" {
		t.Errorf("focus on %q, want the password field; the page: %q", got, p.Text("main"))
	}
	if shots {
		look(t, p, "password")
	}
	p.Type(p.Field("Password"), password)
	continueToLanding(t, p, srv, username, "the login")
}

// continueToLanding sends the page's form with its Continue button and
// checks that the flow (what) ends on the landing page of username.
func continueToLanding(t *testing.T, p *browsertest.Page, srv *server, username, what string) {
	t.Helper()
	if d := p.Click(p.Button("Continue")); d.URL != srv.host()+"/" {
		t.Fatalf("%s ends at %s, want /", what, d.URL)
	}
	if got := p.Text("main"); !strings.Contains(got, "You are logged in as "+username+".") {
		t.Fatalf("the landing page after %s says %q", what, got)
	}
}

// logout logs out from the landing page, and checks that / then sends
// the browser to log in again.
func logout(t *testing.T, p *browsertest.Page, srv *server) {
	t.Helper()
	p.Click(p.Button("Log out"))
	d := p.Navigate(srv.host() + "/")
	if !strings.HasPrefix(d.URL, srv.host()+"/if/flow/default-authentication-flow/") {
		t.Errorf("after the logout, / leads to %s, want the authentication flow", d.URL)
	}
}

// On a fresh serve, akadmin's password is set through initial-setup
// (which logs akadmin in and ends on the landing page); akadmin logs
// out, logs in through default-authentication-flow, sees the landing
// page, and logs out.
func TestBrowserInitialSetupAndLogin(t *testing.T) {
	srv := startFlows(t, "")
	p := browse(t, browsertest.Options{})
	p.Navigate(srv.host() + "/if/flow/initial-setup/")
	if got := heading(p); got != "Welcome to authentik!" {
		t.Errorf("initial-setup's heading %q", got)
	}
	look(t, p, "initial-setup")
	p.Type(p.Field("Email"), "admin@example.org")
	p.Type(p.Field("Password"), "correct horse battery staple")
	p.Type(p.Field("Password (repeat)"), "correct horse battery")
	p.Click(p.Button("Continue"))
	// The mismatch is the form's error, announced; the passwords are not
	// sent back, the email is.
	if got := p.Text(`[role=alert]`); got != "Passwords don't match." {
		t.Errorf("mismatched passwords: %q", got)
	}
	if v := browsertest.Run(p, chromedp.Value(chromedp.CSS(p.Field("Email")))); v != "admin@example.org" {
		t.Errorf("the email after an error: %q", v)
	}
	if v := browsertest.Run(p, chromedp.Value(chromedp.CSS(p.Field("Password")))); v != "" {
		t.Errorf("a password sent back: %q", v)
	}
	look(t, p, "initial-setup-error")
	p.Type(p.Field("Password"), "correct horse battery staple")
	p.Type(p.Field("Password (repeat)"), "correct horse battery staple")
	continueToLanding(t, p, srv, "akadmin", "initial-setup")
	look(t, p, "landing")

	// The landing page's links: the user settings (a prompt with the
	// user's values, saved), the password change (a weak password refused with
	// zxcvbn's advice, a strong one taken); initial-setup is used up.
	p.Click(p.Button("Your settings"))
	if v := browsertest.Run(p, chromedp.Value(chromedp.CSS(p.Field("Username")))); v != "akadmin" {
		t.Errorf("the settings' username %q", v)
	}
	look(t, p, "user-settings")
	p.Type(p.Field("Name"), "Ada Admin")
	if d := p.Click(p.Button("Continue")); d.URL != srv.host()+"/" {
		t.Errorf("the user settings end at %s: %q", d.URL, p.Text("main"))
	}
	if got := p.Text(`[role=status]`); got != "Successfully updated details" {
		t.Errorf("the landing page after saving the settings says %q", got)
	}
	look(t, p, "landing-settings-saved")
	p.Click(p.Button("Your settings"))
	if v := browsertest.Run(p, chromedp.Value(chromedp.CSS(p.Field("Name")))); v != "Ada Admin" {
		t.Errorf("the settings saved the name %q", v)
	}
	p.Navigate(srv.host() + "/")
	p.Click(p.Button("Change your password"))
	look(t, p, "password-change")
	p.Type(p.Field("Password"), "password")
	p.Type(p.Field("Password (repeat)"), "password")
	p.Click(p.Button("Continue"))
	if got := p.Text(`[role=alert]`); !strings.Contains(got, "Password is too weak.") {
		t.Errorf("a weak new password: %q", got)
	}
	look(t, p, "password-change-weak")
	p.Type(p.Field("Password"), "a stronger horse battery staple")
	p.Type(p.Field("Password (repeat)"), "a stronger horse battery staple")
	if d := p.Click(p.Button("Continue")); d.URL != srv.host()+"/" {
		t.Errorf("the password change ends at %s", d.URL)
	}
	p.Navigate(srv.host() + "/if/flow/initial-setup/")
	if got := strings.Join(strings.Fields(p.Text(`[role=alert]`)), " "); got != "Request has been denied. Flow does not apply to current user." {
		t.Errorf("initial-setup again: %q", got)
	}
	look(t, p, "initial-setup-used")

	p.Navigate(srv.host() + "/")
	logout(t, p, srv)
	login(t, p, srv, "akadmin", "a stronger horse battery staple", true)
	logout(t, p, srv)
}

// A wrong password shows authentik's error under the field, tied to it
// and focused; the fifth ends the flow with authentik's message.
func TestBrowserWrongPassword(t *testing.T) {
	srv := startFlows(t, "right password 1")
	p := browse(t, browsertest.Options{})
	p.Navigate(srv.host() + "/")
	p.Type(p.Field("Email or Username"), "akadmin")
	p.Click(p.Button("Log in"))
	for i := 1; i <= 4; i++ {
		p.Type(p.Field("Password"), "wrong password "+strconv.Itoa(i))
		p.Click(p.Button("Continue"))
		field := p.Field("Password")
		if got := p.Description(field); got != "Invalid password" {
			t.Errorf("wrong password %d: the field's error %q", i, got)
		}
		// Next to the field (right under it), and announced (role=alert).
		type errorPlace struct {
			Gap  float64 `json:"gap"`
			Role string  `json:"role"`
		}
		e := browsertest.Run(p, chromedp.Evaluate[errorPlace](`(() => {
			const f = document.querySelector(`+strconv.Quote(field)+`);
			const e = document.getElementById(f.getAttribute("aria-describedby").split(" ")[0]);
			return {gap: e.getBoundingClientRect().top - f.getBoundingClientRect().bottom, role: e.getAttribute("role") || ""};
		})()`))
		if e.Gap < 0 || e.Gap > 24 || e.Role != "alert" {
			t.Errorf("wrong password %d: the error is %vpx under the field, role %q", i, e.Gap, e.Role)
		}
		if v, _ := p.Attr(field, "aria-invalid"); v != "true" {
			t.Errorf("wrong password %d: aria-invalid %q", i, v)
		}
		if got := focused(p); got != "password" {
			t.Errorf("wrong password %d: focus on %q", i, got)
		}
		if i == 1 {
			look(t, p, "wrong-password")
		}
	}
	p.Type(p.Field("Password"), "wrong password 5")
	p.Click(p.Button("Continue"))
	if got := strings.Join(strings.Fields(p.Text(`[role=alert]`)), " "); got != "Request has been denied. Invalid password" {
		t.Errorf("the fifth wrong password: %q", got)
	}
	if n := p.Count(`input[type=password]`); n != 0 {
		t.Errorf("the denied page has %d password fields", n)
	}
	look(t, p, "access-denied")
}

// The same login with JavaScript off: the forms are plain HTML.
func TestBrowserLoginWithoutJavaScript(t *testing.T) {
	srv := startFlows(t, "right password 1")
	p := browse(t, browsertest.Options{NoScript: true})
	login(t, p, srv, "akadmin", "right password 1", true)
	look(t, p, "landing-no-js")
	logout(t, p, srv)
}

// At 320 CSS pixels wide, in the dark colour scheme, the login pages
// need no sideways scrolling and pass the rules (contrast included).
func TestBrowserNarrowDark(t *testing.T) {
	srv := startFlows(t, "right password 1")
	p := browse(t, browsertest.Options{Width: 320, Height: 640, Dark: true})
	login(t, p, srv, "akadmin", "right password 1", true)
	look(t, p, "landing-320-dark")
}

// A login with the keyboard alone: the focus starts in the username
// field, Enter sends each form, Tab reaches the logout link.
func TestBrowserKeyboardOnly(t *testing.T) {
	srv := startFlows(t, "right password 1")
	p := browse(t, browsertest.Options{})
	p.Navigate(srv.host() + "/")
	if got := focused(p); got != "uid_field" {
		t.Fatalf("focus on %q", got)
	}
	p.Do(chromedp.KeyEvent("akadmin"))
	p.Press("\r")
	if got := focused(p); got != "password" {
		t.Fatalf("focus on %q on the password page", got)
	}
	p.Do(chromedp.KeyEvent("right password 1"))
	if d := p.Press("\r"); d.URL != srv.host()+"/" {
		t.Fatalf("the login ends at %s", d.URL)
	}
	for range 10 {
		if p.Focused() == `a "Log out"` {
			break
		}
		p.Do(chromedp.KeyEvent(kb.Tab))
	}
	p.Press("\r")
	if d := p.Documents(); !strings.HasPrefix(d[len(d)-1].URL, srv.host()+"/if/flow/default-authentication-flow/") {
		t.Errorf("after Enter on the logout link: %s", d[len(d)-1].URL)
	}
}

// With allow_show_password, the password page's one script (by the
// page's nonce, under its CSP) shows a "Show password" box that flips the
// field; without JavaScript the box is not there.
func TestBrowserShowPassword(t *testing.T) {
	srv := startFlows(t, "right password 1")
	stages := srv.call(t, http.StatusOK, "GET", "stages/password/?name=default-authentication-password", "")["results"].([]any)
	pk := stages[0].(map[string]any)["pk"].(string)
	srv.call(t, http.StatusOK, "PATCH", "stages/password/"+pk+"/", `{"allow_show_password":true}`)
	for _, noScript := range []bool{false, true} {
		p := browse(t, browsertest.Options{NoScript: noScript})
		p.Navigate(srv.host() + "/")
		p.Type(p.Field("Email or Username"), "akadmin")
		p.Click(p.Button("Log in"))
		p.Type(p.Field("Password"), "right password 1")
		if noScript {
			if n := browsertest.Run(p, chromedp.Evaluate[int](`[...document.querySelectorAll("input[type=checkbox]")].filter((e) => e.getClientRects().length > 0).length`)); n != 0 {
				t.Errorf("without JavaScript, %d visible checkboxes", n)
			}
			continue
		}
		look(t, p, "password-show")
		p.Do(chromedp.Click(chromedp.CSS(p.Field("Show password"))))
		if typ, _ := p.Attr(p.Field("Password"), "type"); typ != "text" {
			t.Errorf("after Show password, the field's type is %q", typ)
		}
		continueToLanding(t, p, srv, "akadmin", "the login")
	}
}

// The login page keeps its query: a relative next is where the flow
// ends; an absolute one (here a loopback address nothing listens on) is
// not followed: the flow ends with authentik's "Invalid next URL".
func TestBrowserNext(t *testing.T) {
	srv := startFlows(t, "right password 1")
	for _, next := range []string{"/if/flow/default-password-change/", "http://127.0.0.2:9/"} {
		p := browse(t, browsertest.Options{})
		page := srv.host() + "/if/flow/default-authentication-flow/?next=" + url.QueryEscape(next)
		p.Navigate(page)
		p.Type(p.Field("Email or Username"), "akadmin")
		p.Click(p.Button("Log in"))
		p.Type(p.Field("Password"), "right password 1")
		d := p.Click(p.Button("Continue"))
		if strings.HasPrefix(next, "/") {
			if d.URL != srv.host()+next {
				t.Errorf("next %s: the login ends at %s", next, d.URL)
			}
			continue
		}
		if got := strings.Join(strings.Fields(p.Text(`[role=alert]`)), " "); d.URL != page || got != "Request has been denied. Invalid next URL" {
			t.Errorf("next %s: the login ends at %s: %q", next, d.URL, got)
		}
		look(t, p, "invalid-next")
	}
}

// With the identification stage's "Remember me", the box checked at a
// login keeps the username in that browser: after the logout the login
// page has it filled in, the box checked; another browser does not.
func TestBrowserRememberMe(t *testing.T) {
	srv := startFlows(t, "right password 1")
	stages := srv.call(t, http.StatusOK, "GET", "stages/identification/?name=default-authentication-identification", "")["results"].([]any)
	pk := stages[0].(map[string]any)["pk"].(string)
	srv.call(t, http.StatusOK, "PATCH", "stages/identification/"+pk+"/", `{"enable_remember_me":true}`)
	p := browse(t, browsertest.Options{})
	p.Navigate(srv.host() + "/")
	look(t, p, "identification-remember-me")
	p.Type(p.Field("Email or Username"), "akadmin")
	p.Do(chromedp.Click(chromedp.CSS(p.Field("Remember me on this device"))))
	p.Click(p.Button("Log in"))
	p.Type(p.Field("Password"), "right password 1")
	continueToLanding(t, p, srv, "akadmin", "the login")
	logout(t, p, srv)
	if v := browsertest.Run(p, chromedp.Value(chromedp.CSS(p.Field("Email or Username")))); v != "akadmin" {
		t.Errorf("after the logout, the username field holds %q", v)
	}
	if on := browsertest.Run(p, chromedp.Evaluate[bool](`document.querySelector("input[name=remember_me]").checked`)); !on {
		t.Error("after the logout, Remember me is not checked")
	}
	other := browse(t, browsertest.Options{})
	other.Navigate(srv.host() + "/")
	if v := browsertest.Run(other, chromedp.Value(chromedp.CSS(other.Field("Email or Username")))); v != "" {
		t.Errorf("another browser's username field holds %q", v)
	}
}

// The five layouts of flow_info, each checked and screenshotted.
func TestBrowserLayouts(t *testing.T) {
	srv := startFlows(t, "")
	p := browse(t, browsertest.Options{})
	for _, layout := range []string{"stacked", "content_left", "content_right", "sidebar_left", "sidebar_right"} {
		srv.call(t, http.StatusOK, "PATCH", "flows/instances/default-authentication-flow/", `{"layout":"`+layout+`"}`)
		p.Navigate(srv.host() + "/if/flow/default-authentication-flow/")
		if c, _ := p.Attr("body", "class"); c != "layout-"+layout {
			t.Errorf("layout %s: body class %q", layout, c)
		}
		look(t, p, "layout-"+layout)
	}
}

// Enrollment through authentik's two-stage example, with a prompt of
// each of the 18 types on its first page; the new user logs in.
func TestBrowserEnrollment(t *testing.T) {
	srv := startFlows(t, "")
	importFile(t, srv, filepath.Join("..", "..", "blueprint", "testdata", "authentik", "example", "flows-enrollment-2-stage.yaml"))
	importFile(t, srv, filepath.Join("testdata", "enrollment-every-prompt-type.yaml"))
	picture := filepath.Join(t.TempDir(), "me.png")
	if err := os.WriteFile(picture, []byte("\x89PNG\r\n\x1a\nnot really"), 0o600); err != nil {
		t.Fatal(err)
	}

	p := browse(t, browsertest.Options{})
	p.Navigate(srv.host() + "/if/flow/default-enrollment-flow/")
	look(t, p, "enrollment-every-type")
	if got := p.Text("main"); !strings.Contains(got, "Almost done: tell us about yourself.") || !strings.Contains(got, "Preferences") || !strings.Contains(got, "Shown to other users.") {
		t.Errorf("static, separator or sub_text missing: %q", got)
	}
	if n := p.Count(`hr`); n != 1 {
		t.Errorf("%d separators", n)
	}
	for label, want := range map[string]string{"Plan": "free", "Terms": "Be kind.\nNo spam."} {
		f := p.Field(label)
		if _, ro := p.Attr(f, "readonly"); !ro || browsertest.Run(p, chromedp.Value(chromedp.CSS(f))) != want {
			t.Errorf("read-only %s: %v %q", label, ro, browsertest.Run(p, chromedp.Value(chromedp.CSS(f))))
		}
	}
	for label, ac := range map[string]string{"Username": "username", "Password": "new-password", "Password (repeat)": "new-password", "Backup email": "email"} {
		if v, _ := p.Attr(p.Field(label), "autocomplete"); v != ac {
			t.Errorf("%s: autocomplete %q, want %q", label, v, ac)
		}
	}
	p.Type(p.Field("Username"), "newcomer")
	p.Type(p.Field("Password"), "a long new password 42")
	p.Type(p.Field("Password (repeat)"), "a long new password 42")
	p.Type(p.Field("Nickname"), "Newt")
	p.Type(p.Field("Backup email"), "newt@example.net")
	p.Type(p.Field("About you"), "Likes <b>bold</b> text.")
	p.Type(p.Field("Age"), "42")
	p.Do(
		chromedp.Click(chromedp.CSS(p.Field("Send me the newsletter"))),
		chromedp.Click(chromedp.CSS(p.Field("green"))),
		chromedp.SetValue(chromedp.CSS(p.Field("Team")), "blue"),
		chromedp.SetValue(chromedp.CSS(p.Field("Birthday")), "1990-02-03"),
		chromedp.SetValue(chromedp.CSS(p.Field("First meeting")), "2026-12-07T10:30"),
		chromedp.SetUploadFiles(chromedp.CSS(p.Field("Picture")), []string{picture}),
		chromedp.SetValue(chromedp.CSS(p.Field("Language")), "de"),
	)
	p.Click(p.Button("Continue"))
	// The example's second page.
	look(t, p, "enrollment-second")
	p.Type(p.Field("Name"), "Newt Comer")
	p.Type(p.Field("Email"), "newt@example.org")
	continueToLanding(t, p, srv, "newcomer", "enrollment")

	users := srv.call(t, http.StatusOK, "GET", "core/users/?username=newcomer", "")["results"].([]any)
	if len(users) != 1 {
		t.Fatalf("users named newcomer: %v", users)
	}
	u := users[0].(map[string]any)
	attrs, _ := u["attributes"].(map[string]any)
	for k, want := range map[string]any{
		"nickname": "Newt", "backup": "newt@example.net", "bio": "Likes <b>bold</b> text.",
		"plan": "free", "terms": "Be kind.\nNo spam.", "age": float64(42), "newsletter": true,
		"colour": "green", "team": "blue", "birthday": "1990-02-03", "source": "browser-test",
	} {
		if attrs[k] != want {
			t.Errorf("attribute %s = %#v, want %#v", k, attrs[k], want)
		}
	}
	if s, _ := attrs["avatar"].(string); !strings.HasPrefix(s, "data:image/png;base64,") {
		t.Errorf("attribute avatar = %.40q", s)
	}
	if m, _ := attrs["meeting"].(string); !strings.HasPrefix(m, "2026-12-07T10:30") {
		t.Errorf("attribute meeting = %q", m)
	}
	if s, _ := attrs["settings"].(map[string]any); s["locale"] != "de" {
		t.Errorf("attribute settings = %v", attrs["settings"])
	}
	if u["name"] != "Newt Comer" || u["email"] != "newt@example.org" {
		t.Errorf("user %v", u)
	}

	logout(t, p, srv)
	login(t, p, srv, "newcomer", "a long new password 42", false)
}

var pageLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+/if/flow/default-recovery-flow/\?flow_token=[A-Za-z0-9_-]+`)

// Recovery through authentik's example: the email's link, opened in a
// second browser, restores the flow there; the new password is set and
// the user is logged in, in that browser.
func TestBrowserRecovery(t *testing.T) {
	tcp, mail := testutil.SMTPServer(t)
	srv := startFlows(t, "", "-smtp-host", "127.0.0.1", "-smtp-port", strconv.Itoa(tcp.Port), "-smtp-from", "auth@example.test")
	importFile(t, srv, filepath.Join("..", "..", "blueprint", "testdata", "authentik", "example", "flows-recovery-email-verification.yaml"))
	srv.call(t, http.StatusCreated, "POST", "core/users/", `{"username":"forgetful","name":"Forgetful","email":"forgetful@example.com"}`)

	first := browse(t, browsertest.Options{})
	first.Navigate(srv.host() + "/if/flow/default-recovery-flow/")
	look(t, first, "recovery-identification")
	first.Type(first.Field("Email or Username"), "forgetful@example.com")
	first.Click(first.Button("Continue"))
	if got := first.Text("main"); !strings.Contains(got, "Check your inbox") {
		t.Errorf("after the identification: %q", got)
	}
	look(t, first, "email-sent")

	var sess testutil.SMTPSession
	select {
	case sess = <-mail:
	case <-time.After(browsertest.ActionTimeout):
		t.Fatal("no email")
	}
	body, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(sess.Data)))
	if err != nil {
		t.Fatal(err)
	}
	link := pageLink.FindString(string(body))
	if link == "" {
		t.Fatalf("no link to the flow page in the email:\n%s", body)
	}

	second := browse(t, browsertest.Options{})
	second.Navigate(link)
	look(t, second, "recovery-link-scanner")
	// A browser without the session opening a one-time link is asked
	// to continue first (a mail scanner's GET does not use the link).
	if got := second.Text("main"); !strings.Contains(got, "This link can be used once.") {
		t.Errorf("the link's first page: %q", got)
	}
	second.Click(second.Button("Continue"))
	look(t, second, "recovery-link")
	// authentik's example asks for consent (for the pending user the
	// link restored), then the new password.
	if got := second.Text("main"); !strings.Contains(got, "forgetful") || !strings.Contains(got, "Continue to confirm this email address.") {
		t.Errorf("the link's page: %q", got)
	}
	second.Click(second.Button("Continue"))
	look(t, second, "recovery-password")
	second.Type(second.Field("Password"), "a brand new password 7")
	second.Type(second.Field("Password (repeat)"), "a brand new password 7")
	continueToLanding(t, second, srv, "forgetful", "recovery")
	logout(t, second, srv)
	login(t, browse(t, browsertest.Options{}), srv, "forgetful", "a brand new password 7", false)
}

// A flow title, a prompt's label, placeholder and sub_text, and a static
// prompt's text that hold markup show as text: no script of theirs runs
// and no element of theirs is made. Every page sends the CSP (browse
// checks it).
func TestBrowserMarkupIsText(t *testing.T) {
	srv := startFlows(t, "")
	importFile(t, srv, filepath.Join("testdata", "xss.yaml"))
	for _, noScript := range []bool{false, true} {
		p := browse(t, browsertest.Options{NoScript: noScript})
		p.Navigate(srv.host() + "/if/flow/markup/")
		if got := heading(p); got != `<script>document.title="pwned"</script>Markup <b>test</b>` {
			t.Errorf("heading %q", got)
		}
		if got := browsertest.Run(p, chromedp.Title()); got == "pwned" {
			t.Error("the title's script ran")
		}
		field := p.Field(`<script>document.body.dataset.pwned="label"</script>Your <i>answer</i>`)
		if v, _ := p.Attr(field, "placeholder"); v != `"><img src=x onerror="document.body.dataset.pwned=1">` {
			t.Errorf("placeholder %q", v)
		}
		if got := p.Text("main"); !strings.Contains(got, `<img src=x onerror="document.body.dataset.pwned=2">Say <em>anything</em>.`) ||
			!strings.Contains(got, `<script>document.body.dataset.pwned="static"</script><p>static text</p>`) {
			t.Errorf("sub_text or static text not shown as text: %q", got)
		}
		if n := p.Count(`main script, main img, main b, main i, main em, main p p`); n != 0 {
			t.Errorf("%d elements made from the configuration:\n%s", n, p.HTML())
		}
		if got := browsertest.Run(p, chromedp.Evaluate[string](`document.body.dataset.pwned || ""`)); got != "" {
			t.Errorf("a script from the configuration ran: %q", got)
		}
		if !noScript {
			look(t, p, "markup")
		}
	}
}
