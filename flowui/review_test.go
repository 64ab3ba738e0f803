package flowui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flowui"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"golang.org/x/net/html"
)

// crossSite loads path as a navigation from another site: a link on
// another site's page, which carries the SameSite=Lax session cookie.
func (b *browser) crossSite(path string) *page {
	b.sv.t.Helper()
	req, _ := http.NewRequest("GET", b.sv.srv.URL+path, nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	return b.do(req)
}

// A link on another site cannot run a logged-in visitor's flow: not
// the logout, not the account's deletion. The page asks to continue,
// and the visitor's click (a navigation from the page itself) does.
func TestCrossSiteGetLoggedIn(t *testing.T) {
	sv := newServer(t, "flows-unenrollment.yaml")
	b := sv.browser()
	setup(t, b, "admin Passw0rd")
	session := b.session()
	loggedIn := func() bool {
		_, ok, _ := sv.e.SessionStore().User(context.Background(), b.session())
		return ok
	}
	for _, path := range []string{"/if/flow/default-unenrollment-flow/", "/if/flow/default-invalidation-flow/"} {
		p := b.crossSite(path)
		if !loggedIn() || b.session() != session {
			t.Fatalf("%s: a link on another site ran the flow: %d %s", path, p.status, p.body)
		}
		if p.status != http.StatusOK || p.header.Get("Content-Security-Policy") == "" {
			t.Fatalf("%s: %d %v", path, p.status, p.header)
		}
		var next string
		for _, a := range all(p.doc, "a") {
			if text(a) == "Continue" {
				next = attrOf(a, "href")
			}
		}
		if next != path {
			t.Fatalf("%s: no link to continue: %s", path, p.body)
		}
	}
	// The visitor's own click runs it.
	b.get("/if/flow/default-invalidation-flow/")
	if loggedIn() {
		t.Fatalf("the logout did not run on the visitor's own navigation")
	}
	// An anonymous visitor sent to log in by another site sees the
	// login page at once.
	b.crossSite("/if/flow/default-authentication-flow/?next=%2F").wantComponent(t, executor.ComponentIdentification)
	if strings.Contains(b.last.body, ">Continue<") {
		t.Errorf("an anonymous visitor was asked to continue")
	}
}

// The page cache is bounded in bytes, not only in pages: a visitor
// who sends long query strings (up to net/http's megabyte of headers,
// which the page's form action repeats, escaped) cannot make it hold
// hundreds of megabytes.
func TestPageCacheBytes(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch := flowui.Samples()[0]
	long := strings.Repeat("%22", 20<<10) // 60 KB of query, 120 KB in the page, escaped
	for i := range 100 {
		r := httptest.NewRequest("GET", flowui.FlowPath+"sample/?x="+long+strconv.Itoa(i), nil)
		u.Render(httptest.NewRecorder(), r, "n", ch, "t", nil)
	}
	if n := u.CachedBytes(); n > flowui.MaxCacheBytes {
		t.Fatalf("%d bytes kept, bound %d", n, flowui.MaxCacheBytes)
	}
	// An ordinary page is still kept.
	u.Render(httptest.NewRecorder(), httptest.NewRequest("GET", flowui.FlowPath+"sample/?next=%2F", nil), "n", ch, "t", nil)
	if u.CachedPages() == 0 {
		t.Fatalf("an ordinary page was not kept")
	}
}

// The remember-me cookie is Secure behind a proxy that terminates TLS
// (X-Forwarded-Proto: https), as the session cookie is, and HttpOnly,
// on the flow pages only.
func TestRememberCookieBehindProxy(t *testing.T) {
	sv := newServer(t)
	sv.load(`version: 1
entries:
  - model: authentik_stages_identification.identificationstage
    identifiers: {name: default-authentication-identification}
    attrs: {enable_remember_me: true}
`)
	b := sv.browser()
	p := b.get("/if/flow/default-authentication-flow/")
	vals, _, _, _ := p.form(t, map[string]string{"uid_field": "carol", "remember_me": "on"})
	q := url.Values{}
	for _, kv := range vals {
		q.Add(kv[0], kv[1])
	}
	req := httptest.NewRequest("POST", "/if/flow/default-authentication-flow/", strings.NewReader(q.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	for _, c := range b.c.Jar.Cookies(p.url) {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	sv.ui.ServeHTTP(w, req)
	var got *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == flowui.RememberCookie {
			got = c
		}
	}
	if got == nil || !got.Secure || !got.HttpOnly || got.Path != flowui.FlowPath || got.SameSite != http.SameSiteLaxMode {
		t.Fatalf("%d %+v", w.Code, got)
	}
}

// A remembered username is shown only by an identification stage that
// offers "Remember me": a stage without it (or one whose administrator
// turned it off) does not show the name a previous user of the
// browser left.
func TestRememberOnlyWhenOffered(t *testing.T) {
	sv := newServer(t)
	b := sv.browser()
	u, _ := url.Parse(sv.srv.URL + flowui.FlowPath)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: flowui.RememberCookie, Value: "carol", Path: flowui.FlowPath}})
	p := b.get("/if/flow/default-authentication-flow/")
	if p.input("remember_me") != nil || attrOf(p.input("uid_field"), "value") != "" {
		t.Fatalf("a stage without remember me shows the remembered name: %s", p.body)
	}
}

// The redirect at a flow's end never leaves the site, whatever next
// holds.
func TestNextStaysOnSite(t *testing.T) {
	sv := newServer(t)
	sv.load(stageThenDummy("two-dummies", "authentik_stages_dummy.dummystage", "{}"))
	for _, next := range []string{"//evil.example/", "/\\evil.example/", "https:evil.example", "https://evil.example/", "/%2F/evil.example/",
		"%2F%2Fevil.example", "\\\\evil.example", "/\t/evil.example", " //evil.example", "javascript:alert(1)", "/%5Cevil.example", "http:/evil.example"} {
		b := sv.browser()
		b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		path := "/if/flow/two-dummies/?next=" + url.QueryEscape(next)
		b.get(path).wantComponent(t, executor.ComponentDummy)
		for range 2 {
			p := b.submit(nil)
			for p.status/100 == 3 {
				loc := p.header.Get("Location")
				to, err := p.url.Parse(loc)
				if err != nil || to.Host != p.url.Host || strings.HasPrefix(loc, "//") || strings.Contains(loc, "\\") {
					t.Fatalf("next %q: redirected to %q", next, loc)
				}
				p = b.get(to.RequestURI())
			}
		}
		if b.last.url.Host != strings.TrimPrefix(sv.srv.URL, "http://") {
			t.Errorf("next %q: ended at %s", next, b.last.url)
		}
	}
	// A relative next is followed.
	b := sv.browser()
	b.get("/if/flow/two-dummies/?next=%2Fsomewhere%3Fa%3D1").wantComponent(t, executor.ComponentDummy)
	b.submit(nil).wantComponent(t, executor.ComponentDummy)
	if p := b.submit(nil); p.url.RequestURI() != "/somewhere?a=1" {
		t.Fatalf("a relative next: %d %s", p.status, p.url)
	}
}

// Hostile values in every context a page has: text, attributes, URLs
// (links, the avatar, the background in the style sheet), the script's
// string, and the background's origin in the CSP.
func TestHostileValues(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const x = `"'><script>alert(1)</script><img src=x onerror=alert(1)>`
	fi := func(bg string) *executor.FlowInfo {
		return &executor.FlowInfo{Title: x, Background: bg, CancelURL: "javascript:alert(1)", Layout: `x" onload="alert(1)`}
	}
	env := func(c, bg string) executor.Envelope {
		return executor.Envelope{FlowInfo: fi(bg), Component: c, ResponseErrors: map[string][]executor.ErrorDetail{
			"non_field_errors": {{String: x}}, "password": {{String: x}}, x: {{String: x}}}}
	}
	for _, bg := range []string{`javascript:alert(1)`, `x");}body{background:url(https://evil.example/`, `data:text/html,<script>alert(1)</script>`,
		`https://a.example;script-src 'unsafe-inline'/bg.jpg`, "https://a.example;script-src:*/bg.jpg", "https://x;script-src/bg.jpg", "https://x,y'/bg.jpg", `https://evil.example/bg.jpg?"x`} {
		for _, avatar := range []string{`javascript:alert(1)`, `data:text/html;base64,PHNjcmlwdD4=`, `data:image/svg+xml,<svg onload=alert(1)>`, `" onerror="alert(1)`} {
			user := executor.UserInfo{PendingUser: x, PendingUserAvatar: avatar}
			for _, ch := range []executor.Challenge{
				&executor.PasswordChallenge{Envelope: env(executor.ComponentPassword, bg), UserInfo: user, RecoveryURL: "javascript:alert(1)", AllowShowPassword: true},
				&executor.AccessDenied{Envelope: env(executor.ComponentAccessDenied, bg), UserInfo: user, ErrorMessage: x},
				&executor.IdentificationChallenge{Envelope: env(executor.ComponentIdentification, bg), UserFields: []string{x}, ApplicationPre: x, PrimaryAction: x,
					EnrollURL: "javascript:alert(1)", RecoveryURL: " javascript:alert(1)", PasswordlessURL: "JaVaScRiPt:alert(1)"},
				&executor.PromptChallenge{Envelope: env(executor.ComponentPrompt, bg), Fields: []executor.StagePrompt{
					{FieldKey: x, Label: x, Type: "text", Placeholder: x, InitialValue: x, SubText: x},
					{FieldKey: "s", Label: x, Type: "static", InitialValue: x},
					{FieldKey: "sep", Type: "separator", Placeholder: x},
					{FieldKey: "d", Label: x, Type: "dropdown", Choices: []string{x}, InitialValue: x},
					{FieldKey: "r", Label: x, Type: "radio-button-group", Choices: []string{x}},
					{FieldKey: "h", Type: "hidden", InitialValue: x},
					{FieldKey: "ta", Type: "text_area_read_only", InitialValue: "</textarea>" + x},
				}},
			} {
				w := httptest.NewRecorder()
				u.Render(w, httptest.NewRequest("GET", flowui.FlowPath+"f/?next="+url.QueryEscape(x), nil), "n", ch, "t", nil)
				body, csp := w.Body.String(), w.Header().Get("Content-Security-Policy")
				if bad := hostile(t, body); bad != "" {
					t.Errorf("%T (background %q, avatar %q): %s:\n%s", ch, bg, avatar, bad, body)
				}
				if strings.Count(csp, "script-src") > 1 || strings.Contains(csp, "unsafe-inline") || !cspImg.MatchString(csp) {
					t.Errorf("%T (background %q): CSP %q", ch, bg, csp)
				}
			}
		}
	}
}

// cspImg is a CSP whose img-src is the UI's own, data: and at most a
// background's and an avatar's origins, host names.
var cspImg = regexp.MustCompile(`; img-src 'self' data:( https?://[a-z0-9.-]+(:[0-9]+)?){0,2}; `)

// hostile is what runs or leaves the site in a page, "" for nothing:
// a script without the page's nonce, an event handler attribute, a
// link or source of a script scheme or a data: URI other than an
// image, and a style that leaves its url() string.
func hostile(t *testing.T, body string) string {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var bad string
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode || bad != "" {
			return
		}
		switch n.Data {
		case "script":
			if attrOf(n, "nonce") != "n" {
				bad = "a script without the nonce"
			}
		case "svg", "iframe", "object", "embed", "base", "meta", "link":
			if n.Data != "meta" || attrOf(n, "http-equiv") != "" {
				bad = "a <" + n.Data + "> element"
			}
		case "style":
			if strings.Count(text(n), `url("`) != 1 || strings.Contains(text(n), `");}b`) {
				bad = "a style that leaves its url(): " + text(n)
			}
		}
		for _, a := range n.Attr {
			v := strings.ToLower(strings.TrimSpace(a.Val))
			switch {
			case strings.HasPrefix(a.Key, "on"):
				bad = "an event handler " + a.Key
			case (a.Key == "href" || a.Key == "src" || a.Key == "action" || a.Key == "formaction") &&
				(strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || (strings.HasPrefix(v, "data:") && !strings.HasPrefix(v, "data:image/"))):
				bad = a.Key + "=" + a.Val
			case a.Key == "class" && n.Data == "body" && !strings.HasPrefix(a.Val, "layout-stacked"):
				bad = "layout " + a.Val
			}
		}
	})
	return bad
}

// Every answer, error or not, whatever its method, has the CSP, no
// sniffing, and no framing.
func TestHeadersEveryAnswer(t *testing.T) {
	sv := newServer(t)
	for _, tc := range []struct{ method, path, ctype, body string }{
		{"PUT", "/if/flow/default-authentication-flow/", "", ""},
		{"POST", flowui.BackgroundPath, "", ""},
		{"DELETE", executor.DefaultAvatar, "", ""},
		{"POST", "/", "", ""},
		{"HEAD", flowui.BackgroundPath, "", ""},
		{"POST", "/if/flow/default-authentication-flow/", "text/plain", "x"},
		{"POST", "/if/flow/default-authentication-flow/", "application/x-www-form-urlencoded", strings.Repeat("a", flowui.DefaultMaxBody+1)},
		{"POST", "/if/flow/nope/", "application/x-www-form-urlencoded", "component=ak-stage-dummy"},
		{"GET", "/if/flow/nope", "", ""},
	} {
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		if tc.ctype != "" {
			r.Header.Set("Content-Type", tc.ctype)
		}
		w := httptest.NewRecorder()
		sv.ui.ServeHTTP(w, r)
		h := w.Header()
		if !strings.HasPrefix(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("X-Content-Type-Options") != "nosniff" ||
			(h.Get("X-Frame-Options") != "DENY" && !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'")) {
			t.Errorf("%s %s: %d %v", tc.method, tc.path, w.Code, h)
		}
	}
}

// A page whose query holds a semicolon (next=/app;jsessionid=1, which
// browsers send as typed) takes its forms: the query is the
// executor's, not the form's.
func TestSemicolonInQuery(t *testing.T) {
	sv := newServer(t)
	b := sv.browser()
	b.get("/if/flow/default-authentication-flow/?next=/app;x=1").wantComponent(t, executor.ComponentIdentification)
	p := b.submit(map[string]string{"uid_field": "akadmin"})
	p.wantComponent(t, executor.ComponentPassword)
	if p.url.RawQuery != "next=/app;x=1" {
		t.Errorf("query %q", p.url.RawQuery)
	}
}

// The page cache holds no one's page: a page that shows a pending
// user is kept for every visitor with holes where the user is shown,
// filled for each visitor, and a page that shows the name a browser
// remembers is not kept; two visitors' pages never mix.
func TestPageCacheUserHoles(t *testing.T) {
	u, fresh := cachedAndFresh(t)
	pw := func(name string) *executor.PasswordChallenge {
		return &executor.PasswordChallenge{Envelope: executor.Envelope{Component: executor.ComponentPassword, FlowInfo: &executor.FlowInfo{Title: "T", CancelURL: executor.CancelURL}},
			UserInfo: executor.UserInfo{PendingUser: name, PendingUserAvatar: "data:image/svg+xml;base64," + name}, AllowShowPassword: true}
	}
	names := []string{"alice", "<b>bob</b>", "alice", `"carol"`}
	for _, name := range names {
		var pages [2]string
		for i, ui := range []*flowui.UI{u, fresh} {
			w := httptest.NewRecorder()
			ui.Render(w, httptest.NewRequest("GET", flowui.FlowPath+"f/", nil), "n", pw(name), "t", nil)
			pages[i] = w.Body.String()
		}
		if pages[0] != pages[1] {
			t.Fatalf("%s's page from the cache differs from its rendering:\n%s\n%s", name, pages[0], pages[1])
		}
		esc := html.EscapeString(name)
		if !strings.Contains(pages[0], "<span>"+esc+"</span>") || !strings.Contains(pages[0], `name="username" value="`+esc+`"`) {
			t.Fatalf("%s's page: %s", name, pages[0])
		}
		for _, other := range names {
			if other != name && strings.Contains(pages[0], html.EscapeString(other)) {
				t.Errorf("%s's page shows %s", name, other)
			}
		}
	}
	if n := u.CachedPages(); n != 1 {
		t.Errorf("%d pages kept, want the password page once", n)
	}
	for _, name := range names {
		if u.CacheHolds(html.EscapeString(name)) {
			t.Errorf("the cache holds %s", name)
		}
	}
	id := &executor.IdentificationChallenge{Envelope: executor.Envelope{Component: executor.ComponentIdentification}, UserFields: []string{"username"}, EnableRememberMe: true}
	r := httptest.NewRequest("GET", flowui.FlowPath+"f/", nil)
	r.AddCookie(&http.Cookie{Name: flowui.RememberCookie, Value: "carol"})
	w := httptest.NewRecorder()
	u.Render(w, r, "n", id, "t", nil)
	if !strings.Contains(w.Body.String(), `value="carol"`) {
		t.Fatalf("remembered: %s", w.Body)
	}
	if n := u.CachedPages(); n != 1 {
		t.Fatalf("%d pages kept: a remembered name's was", n)
	}
	u.Render(httptest.NewRecorder(), httptest.NewRequest("GET", flowui.FlowPath+"f/", nil), "n", id, "t", nil)
	if n := u.CachedPages(); n != 2 {
		t.Fatalf("the anonymous login page was not kept")
	}
}

// A host's templates may show the pending user anywhere: their pages
// of a user are rendered for each visitor and never kept.
func TestPageCacheHostTemplatesKeepNoUser(t *testing.T) {
	for _, file := range []string{"ak-stage-password.html", "parts.html"} {
		src := `{{define "user"}}{{end}}{{define "who"}}{{end}}{{define "username"}}{{end}}<p id="who">{{.User.PendingUser}}</p>{{.Hidden}}`
		if file == "parts.html" {
			src = `{{define "hidden"}}{{.Hidden}}{{end}}{{define "nonfield"}}{{end}}{{define "errors"}}{{end}}{{define "captcha"}}{{end}}{{define "webauthn"}}{{end}}{{define "code"}}{{end}}` +
				`{{define "who"}}{{end}}{{define "username"}}{{end}}{{define "user"}}<p id="who">{{.User.PendingUser}}</p>{{end}}`
		}
		u, err := newTestUI(t, flowui.Options{Templates: fstest.MapFS{file: {Data: []byte(src)}}})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, name := range []string{"alice", "bob"} {
			w := httptest.NewRecorder()
			u.Render(w, httptest.NewRequest("GET", flowui.FlowPath+"f/", nil), "n", &executor.PasswordChallenge{Envelope: executor.Envelope{Component: executor.ComponentPassword},
				UserInfo: executor.UserInfo{PendingUser: name}}, "t", nil)
			if !strings.Contains(w.Body.String(), `<p id="who">`+name+`</p>`) {
				t.Fatalf("%s: %s's page: %s", file, name, w.Body)
			}
		}
		if n := u.CachedPages(); n != 0 {
			t.Errorf("%s: %d pages of a user kept", file, n)
		}
	}
}

// A password sent is never in a page (a failed password field is
// empty), nor in the cache, nor in an event.
func TestPasswordNeverEchoed(t *testing.T) {
	sv := newServer(t)
	sv.load(everyField("Every field", "Text"))
	b := sv.browser()
	const secret = "S3cret-never-shown"
	setup(t, b, "admin Passw0rd")
	b.get(executor.InvalidationURL)
	p := b.get("/if/flow/default-authentication-flow/")
	p = b.submit(map[string]string{"uid_field": "akadmin"})
	p.wantComponent(t, executor.ComponentPassword)
	p = b.submit(map[string]string{"password": secret})
	if strings.Contains(p.body, secret) || attrOf(p.input("password"), "value") != "" {
		t.Fatalf("the password is in the page: %s", p.body)
	}
	// A prompt page with an error shows the values sent again, never a
	// password.
	b2 := sv.browser()
	p = b2.get("/if/flow/every-field/")
	set := map[string]string{}
	for _, in := range all(p.doc, "input") {
		if attrOf(in, "type") == "password" {
			set[attrOf(in, "name")] = secret
		}
	}
	if len(set) == 0 {
		t.Fatalf("no password field: %s", p.body)
	}
	set["f_number"], set["@novalidate"] = "not a number", "" // sent as a script would
	p = b2.submit(set)
	if !strings.Contains(p.body, `role="alert"`) || !strings.Contains(p.body, "not a number") {
		t.Fatalf("no error, or the values sent are not shown again: %s", p.body)
	}
	if strings.Contains(p.body, secret) {
		t.Fatalf("a prompt page shows the password: %s", p.body)
	}
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for _, ev := range sv.events {
		if strings.Contains(fmt.Sprintf("%+v", ev), secret) {
			t.Errorf("an event holds the password: %+v", ev)
		}
	}
}

// A form's token expires with its session: a page loaded before a
// login (or a token an attacker learnt by planting the session cookie)
// cannot post after it.
func TestCSRFRotatesAtLogin(t *testing.T) {
	sv := newServer(t)
	b := sv.browser()
	before := b.get("/if/flow/default-authentication-flow/")
	setup(t, b, "admin Passw0rd")
	p := b.get("/if/flow/default-user-settings-flow/")
	p.wantComponent(t, executor.ComponentPrompt)
	old := attrOf(before.input("csrf_token"), "value")
	if old == "" || old == attrOf(p.input("csrf_token"), "value") {
		t.Fatalf("the token did not change at login: %q", old)
	}
	vals, _, _, _ := p.form(t, nil)
	q := url.Values{}
	for _, kv := range vals {
		if kv[0] == "csrf_token" {
			kv[1] = old
		}
		q.Add(kv[0], kv[1])
	}
	req, _ := http.NewRequest("POST", sv.srv.URL+"/if/flow/default-user-settings-flow/", strings.NewReader(q.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p := b.do(req); p.status != http.StatusForbidden {
		t.Fatalf("the token of before the login: %d", p.status)
	}
}

// A flow page asked for without its slash is sent to the same path
// with it, its escapes kept: an escaped "?" stays in the slug.
func TestSlashRedirectKeepsEscapes(t *testing.T) {
	sv := newServer(t)
	for path, want := range map[string]string{
		"/if/flow/a%3Fnext=%2F%2Fevil.example": "/if/flow/a%3Fnext=%2F%2Fevil.example/",
		"/if/flow/a%20b?x=1":                   "/if/flow/a%20b/?x=1",
		"/if/flow/a%3Fb":                       "/if/flow/a%3Fb/",
	} {
		w := httptest.NewRecorder()
		sv.ui.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if loc := w.Header().Get("Location"); w.Code == http.StatusMovedPermanently && loc != want {
			t.Errorf("%s: %d to %q, want %q", path, w.Code, loc, want)
		}
	}
}

// A page shown again after the configuration changed shows the change:
// the cache's key is the challenge, which holds it.
func TestPageCacheAfterChange(t *testing.T) {
	sv := newServer(t)
	sv.load(stageThenDummy("changing", "authentik_stages_dummy.dummystage", "{}"))
	b := sv.browser()
	b.get("/if/flow/changing/")
	b.get("/if/flow/changing/")
	sv.load(`version: 1
entries:
  - model: authentik_flows.flow
    identifiers: {slug: changing}
    attrs: {title: "New title"}
`)
	if p := sv.browser().get("/if/flow/changing/"); text(byID(p.doc, "af-title")) != "New title" {
		t.Fatalf("an old page: %s", p.body)
	}
}

// A host's avatars on another origin (Options.Avatar, as gravatar's)
// are shown: the CSP allows the avatar's origin, as the background's.
func TestRemoteAvatarAllowed(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch := &executor.PasswordChallenge{Envelope: executor.Envelope{Component: executor.ComponentPassword,
		FlowInfo: &executor.FlowInfo{Background: "https://bg.example/bg.jpg"}},
		UserInfo: executor.UserInfo{PendingUser: "alice", PendingUserAvatar: "https://avatars.example/u/1.png"}}
	w := httptest.NewRecorder()
	u.Render(w, httptest.NewRequest("GET", flowui.FlowPath+"f/", nil), "n", ch, "t", nil)
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "img-src 'self' data: https://bg.example https://avatars.example;") {
		t.Fatalf("CSP %q", csp)
	}
}

// A mail system's link scanner (a GET without cookies or JavaScript)
// that opens an emailed link first does not use up its one-time key: a
// recovery link's flow_token and a single-use invitation's itoken
// still work for the person who opens the link after it. A browser
// without the session cookie continues by a button (a POST, which
// scanners do not send).
func TestLinkScannerKeepsOneTimeLinks(t *testing.T) {
	sv := newServer(t, "flows-recovery-email-verification.yaml")
	setup(t, sv.browser(), "old Passw0rd")
	a := sv.browser()
	a.get("/if/flow/default-recovery-flow/")
	a.submit(map[string]string{"uid_field": "akadmin"}).wantComponent(t, executor.ComponentEmail)
	link := regexp.MustCompile(`/if/flow/[^\s"<>]+`).FindString(sv.firstMail(t))

	sv.load(stageThenDummy("invited", "authentik_stages_invitation.invitationstage", "{}"))
	var inv stage.Invite
	if err := sv.s.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		inv, err = store.Invites.Create(tx, stage.Invite{Name: "once", SingleUse: true, FixedData: map[string]any{}}, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	invite := "/if/flow/invited/?itoken=" + inv.PK.String()
	var inv2 stage.Invite
	if err := sv.s.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		inv2, err = store.Invites.Create(tx, stage.Invite{Name: "once-more", SingleUse: true, FixedData: map[string]any{}}, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	invite2 := "/if/flow/invited/?token=" + inv2.PK.String() // the invitation's other key

	for _, l := range []string{link, invite, invite2} {
		scanner := &http.Client{}
		resp, err := scanner.Get(sv.srv.URL + l)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	b := sv.browser()
	p := b.get(link)
	p.wantComponent(t, "af-continue")
	if !strings.Contains(p.body, "This link can be used once.") {
		t.Fatalf("%s", p.body)
	}
	p = b.submit(nil)
	for range 3 {
		if p.component() != executor.ComponentConsent {
			break
		}
		p = b.submit(nil)
	}
	p.wantComponent(t, executor.ComponentPrompt)

	for _, l := range []string{invite, invite2} {
		c := sv.browser()
		c.get(l)
		c.submit(nil).wantComponent(t, executor.ComponentDummy)
	}
}

// Hostile multipart bodies within the bound are read or refused (400,
// 413), never a 500 or a panic: many parts, a part with many or long
// headers, a part without a name.
func TestHostileMultipart(t *testing.T) {
	sv := newServer(t)
	b := sv.browser()
	p := b.get("/if/flow/default-authentication-flow/")
	token := attrOf(p.input("csrf_token"), "value")
	head := "--x\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token + "\r\n--x\r\nContent-Disposition: form-data; name=\"component\"\r\n\r\nak-stage-identification\r\n"
	manyParts := head + strings.Repeat("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n", 3000) + "--x--\r\n"
	manyHeaders := head + "--x\r\n" + strings.Repeat("X-A: b\r\n", 20000) + "Content-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--\r\n"
	longHeader := head + "--x\r\nX-A: " + strings.Repeat("b", 2<<20) + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--\r\n"
	noName := head + "--x\r\nContent-Disposition: form-data\r\n\r\nb\r\n--x--\r\n"
	for name, body := range map[string]string{"many parts": manyParts, "many headers": manyHeaders, "a long header": longHeader, "no name": noName} {
		req, _ := http.NewRequest("POST", sv.srv.URL+"/if/flow/default-authentication-flow/", strings.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		p := b.do(req)
		if p.status != http.StatusBadRequest && p.status != http.StatusRequestEntityTooLarge && p.status != http.StatusOK {
			t.Errorf("%s: %d %s", name, p.status, p.body)
		}
	}
	b.get("/if/flow/default-authentication-flow/").wantComponent(t, executor.ComponentIdentification)
}

// A logged-in visitor's pages are kept for every user, with holes for
// what is theirs: two users' user settings pages (their name and email
// the fields' initial values) share one page kept, as do their password
// change pages, shown or answered with an error; each user sees their
// own values, and the cache holds no one's.
func TestPageCacheLoggedInPages(t *testing.T) {
	sv := newServer(t)
	admin := sv.browser()
	setup(t, admin, "admin Passw0rd")
	const pw = "zelda Passw0rd"
	zelda := sv.user("zelda", "Zelda <Z>", "zelda@example.net", pw)
	z := sv.browser()
	z.get("/if/flow/default-authentication-flow/").wantComponent(t, executor.ComponentIdentification)
	z.submit(map[string]string{"uid_field": "zelda"})
	z.submit(map[string]string{"password": pw}).want(t, 200, "/")

	before := sv.ui.CachedPages()
	const settings = "/if/flow/default-user-settings-flow/"
	for i, v := range []struct {
		b           *browser
		email, name string
	}{{admin, "root@example.org", "authentik Default Admin"}, {z, zelda.Email, html.EscapeString(zelda.Name)}, {admin, "root@example.org", "authentik Default Admin"}} {
		p := v.b.get(settings)
		p.wantComponent(t, executor.ComponentPrompt)
		if attrOf(p.input("email"), "value") != v.email || !strings.Contains(p.body, `value="`+v.name+`"`) {
			t.Fatalf("%d: the settings page does not show the user's values: %s", i, p.body)
		}
		if n := sv.ui.CachedPages(); n != before+1 {
			t.Fatalf("%d: %d pages kept, want the settings page once more than %d", i, n, before)
		}
	}
	if strings.Contains(z.last.body, "root@example.org") || strings.Contains(admin.last.body, zelda.Email) {
		t.Fatalf("a user's page shows another's values")
	}
	// An answer refused (the email is not an address): the page with
	// the error and the values sent, from the page kept.
	p := z.submit(map[string]string{"email": "not-an-address", "@novalidate": ""}) // sent as a script would
	p.wantComponent(t, executor.ComponentPrompt)
	if attrOf(p.input("email"), "value") != "not-an-address" || !strings.Contains(p.body, `role="alert"`) {
		t.Fatalf("the answer refused: %s", p.body)
	}
	const change = "/if/flow/default-password-change/"
	for _, b := range []*browser{admin, z} {
		b.get(change).wantComponent(t, executor.ComponentPrompt)
		p := b.submit(map[string]string{"password": "one Passw0rd!", "password_repeat": "other Passw0rd!"})
		p.wantComponent(t, executor.ComponentPrompt)
		if !strings.Contains(p.body, "Passwords don&#39;t match.") {
			t.Fatalf("the passwords that differ: %s", p.body)
		}
	}
	if n := sv.ui.CachedPages(); n != before+3 {
		t.Errorf("%d pages kept, want the settings page, the password change page and its page with holes, more than %d", n, before)
	}
	for _, v := range []string{"akadmin", "root@example.org", "authentik Default Admin", "zelda", "Zelda", "not-an-address", "Passw0rd"} {
		if sv.ui.CacheHolds(v) {
			t.Errorf("the cache holds %q", v)
		}
	}
}

// promptPage is a prompt challenge of every fillable field type (see
// TestPromptPageHoles), with errors on some fields and the form when
// errs is set.
func promptPage(initial string, errs bool) *executor.PromptChallenge {
	c := &executor.PromptChallenge{Envelope: executor.Envelope{Component: executor.ComponentPrompt, FlowInfo: &executor.FlowInfo{Title: "Enroll", CancelURL: executor.CancelURL}}}
	for i, ty := range []stage.PromptType{"username", "email", "password", "text", "text_area", "hidden", "static", "separator", "date-time", "text_read_only", "number", "date", "text_area_read_only"} {
		c.Fields = append(c.Fields, executor.StagePrompt{FieldKey: "f" + strconv.Itoa(i) + string(ty), Label: "Label <" + string(ty) + ">", Type: ty,
			Required: i%2 == 0, Placeholder: "ph " + string(ty), InitialValue: initial, Order: int32(i), SubText: map[bool]string{true: "help & <b>", false: ""}[i%3 == 0]})
	}
	if errs {
		c.ResponseErrors = map[string][]executor.ErrorDetail{
			"f0username":       {{String: "This field is required.", Code: "required"}},
			"f3text":           {{String: `Bad "value" <here>`, Code: "invalid"}, {String: "Second", Code: "invalid"}},
			"non_field_errors": {{String: "Passwords don't match.", Code: "invalid"}},
		}
	}
	return c
}

// A prompt page of fields that show their values whole is kept for
// every visitor with holes for the values typed, the fields'
// attributes and the errors, and one visitor's page, shown or
// answered, is byte for byte the page rendered whole, for any value;
// the cache holds none of them.
func TestPromptPageHoles(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	values := []string{"plain", `<script>alert(1)</script>`, `"quoted" & 'single' + plus`, "nul\x00byte", "bad\xff\xfeutf8", "héllo ☃", "2026-02-03T04:05:06Z", ""}
	for _, v := range values {
		for _, answered := range []bool{false, true} {
			var posted url.Values
			if answered {
				posted = url.Values{"component": {executor.ComponentPrompt}}
				for _, f := range promptPage("", false).Fields {
					posted.Set(f.FieldKey, "typed "+v)
				}
			}
			var pages []string
			for _, u := range []*flowui.UI{cached, cached, fresh} {
				w := httptest.NewRecorder()
				initial := "init " + v
				if v == "" {
					initial = "" // the page shown has the shape of the page answered
				}
				u.Render(w, httptest.NewRequest("GET", flowui.FlowPath+"f/?next=%2Fa", nil), "nonce", promptPage(initial, answered), "csrf", posted)
				pages = append(pages, w.Body.String())
			}
			if pages[0] != pages[2] || pages[1] != pages[2] {
				t.Fatalf("value %q, answered %v: the page kept differs from the page rendered whole:\n%s\n%s", v, answered, pages[1], pages[2])
			}
			if shown := strings.ReplaceAll(html.EscapeString("typed "+v), "+", "&#43;"); answered && !strings.Contains(v, "\x00") && !strings.Contains(pages[0], `value="`+shown+`"`) {
				t.Errorf("value %q is not shown: %s", v, pages[0])
			}
		}
	}
	if n := cached.CachedPages(); n != 2 {
		t.Errorf("%d pages kept, want the page shown without values, and one for the pages with values, shown or answered", n)
	}
	for _, v := range []string{"typed", "init ", "Passwords don&#39;t match.", "Bad &#34;value&#34;", "This field is required."} {
		if cached.CacheHolds(v) {
			t.Errorf("the cache holds %q", v)
		}
	}
	// A field that shows its state in its markup (a checkbox): the page
	// is kept as before, shown only, never answered.
	c := promptPage("", false)
	c.Fields = append(c.Fields, executor.StagePrompt{FieldKey: "cb", Label: "Check", Type: "checkbox"})
	u, _ := newTestUI(t, flowui.Options{})
	u.Render(httptest.NewRecorder(), httptest.NewRequest("GET", flowui.FlowPath+"f/", nil), "n", c, "t", url.Values{"component": {executor.ComponentPrompt}, "cb": {"on"}})
	if n := u.CachedPages(); n != 0 {
		t.Errorf("an answered page with a checkbox was kept")
	}
}

// FuzzPromptPageHoles: for any value typed and any error, a prompt page
// from the cache is the page rendered whole.
func FuzzPromptPageHoles(f *testing.F) {
	f.Add("value", "error", "init")
	f.Add(`<a href="x">'+&`, "\x00<", "\xff")
	cached, err := newTestUI(f, flowui.Options{})
	if err != nil {
		f.Fatal(err)
	}
	fresh, err := newTestUI(f, flowui.Options{CachePages: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, value, msg, initial string) {
		c := promptPage(initial, true)
		c.ResponseErrors["f1email"] = []executor.ErrorDetail{{String: msg, Code: "invalid"}}
		posted := url.Values{"component": {executor.ComponentPrompt}, "f0username": {value}, "f4text_area": {value}, "f1email": {msg}}
		var pages [2]string
		for i, u := range []*flowui.UI{cached, fresh} {
			w := httptest.NewRecorder()
			u.Render(w, httptest.NewRequest("GET", flowui.FlowPath+"f/", nil), "nonce", c, "csrf", posted)
			pages[i] = w.Body.String()
		}
		if pages[0] != pages[1] {
			t.Fatalf("the page kept differs:\n%s\n%s", pages[0], pages[1])
		}
	})
}

// FuzzPromptPageOptions: for any choices (split at "|"), initial value,
// value typed and error, a prompt page with selects (a dropdown,
// required or not, with choices or none; an ak-locale field; a second
// dropdown) from the cache is the page rendered whole, to a logged-in
// visitor.
func FuzzPromptPageOptions(f *testing.F) {
	f.Add("a|<b>|\"q'&+", "a", "de", "ph", true, false)
	f.Add("", "", "", "", false, true)
	f.Add("|\x00|\xff| ", "\xff", "zh-Hant", "Auto-detect (based on your browser)", false, true)
	cached, fresh := cachedAndFresh(f)
	f.Fuzz(func(t *testing.T, choices, initial, typed, placeholder string, required, answered bool) {
		var cs []string
		if choices != "" {
			cs = strings.Split(choices, "|")
		}
		c := &executor.PromptChallenge{Envelope: executor.Envelope{Component: executor.ComponentPrompt, FlowInfo: &executor.FlowInfo{Title: "Choose"}},
			Fields: []executor.StagePrompt{
				{FieldKey: "s", Label: "S", Type: "dropdown", Required: required, Placeholder: placeholder, InitialValue: initial, Choices: cs},
				{FieldKey: "l", Label: "L", Type: "ak-locale", Required: !required, InitialValue: typed},
				{FieldKey: "t", Label: "T", Type: "text", InitialValue: typed},
				{FieldKey: "d", Label: "D", Type: "dropdown", Choices: cs[min(1, len(cs)):]},
			}}
		var posted url.Values
		if answered {
			posted = url.Values{"component": {executor.ComponentPrompt}, "s": {typed}, "l": {initial}, "d": {typed}}
			c.ResponseErrors = map[string][]executor.ErrorDetail{"s": {{String: typed, Code: "invalid"}}}
		}
		sameAsWholeAs(t, cached, fresh, flowui.FlowPath+"f/", c, posted, "visitor", "options")
	})
}

// An authenticator's page (a TOTP key, static codes) shows a pending
// user and a secret: the static codes' page is never kept, the TOTP
// setup's is kept with a hole for its link (the otpauth URI and its QR
// code), rendered at each request, so that the cache holds no secret and
// each visitor sees their own key, byte for byte the page rendered
// whole, from the page's first showing on, logged in or not.
func TestPageCacheKeepsNoSecret(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	user := executor.UserInfo{PendingUser: "alice", PendingUserAvatar: executor.DefaultAvatar}
	keys := []string{"JBSWY3DPEHPK3PXP", "GEZDGNBVGY3TQOJQ"}
	for _, visitor := range []string{"", "alice"} {
		for _, key := range keys {
			totp := &executor.AuthenticatorTOTPChallenge{Envelope: executor.Envelope{Component: executor.ComponentAuthenticatorTOTP}, UserInfo: user, ConfigURL: "otpauth://totp/x:alice?secret=" + key}
			page := sameAsWholeAs(t, cached, fresh, flowui.FlowPath+"f/", totp, nil, visitor, "TOTP setup, key "+key)
			if !strings.Contains(page, key) || !strings.Contains(page, `<img class="qr" src="data:image/png;base64,`) || strings.Contains(page, keys[0]) == (key != keys[0]) {
				t.Errorf("the TOTP page of key %s does not show its own key and QR code:\n%s", key, page)
			}
			static := &executor.AuthenticatorStaticChallenge{Envelope: executor.Envelope{Component: executor.ComponentAuthenticatorStatic}, UserInfo: user, Codes: []string{"code" + key}}
			sameAsWholeAs(t, cached, fresh, flowui.FlowPath+"f/", static, nil, visitor, "static codes")
		}
	}
	if n := cached.CachedPages(); n != 2 {
		t.Errorf("%d authenticator pages kept, want the TOTP page's 2 (logged in or not)", n)
	}
	for _, key := range keys {
		if cached.CacheHolds(key) {
			t.Errorf("a page kept holds the key %s", key)
		}
	}
}

// A page is kept by its challenge's JSON, in which every byte that is
// not UTF-8 is the same (\ufffd), but html/template writes each as it
// is: two challenges that differ only there (a title, a visitor's
// value) would share their page. Such a challenge's page is not kept.
func TestPageCacheKeyInvalidUTF8(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	for _, v := range []string{"a\xff", "a\xfe", "a\ufffd", `a\ufffd`} {
		for _, ch := range []executor.Challenge{
			&executor.DummyChallenge{Envelope: executor.Envelope{Component: executor.ComponentDummy, FlowInfo: &executor.FlowInfo{Title: v}}, Name: "d"},
			&executor.AccessDenied{Envelope: executor.Envelope{Component: executor.ComponentAccessDenied}, UserInfo: executor.UserInfo{PendingUser: "alice"}, ErrorMessage: v},
			promptPage(v, true),
		} {
			sameAsWhole(t, cached, fresh, flowui.FlowPath+"f/", ch, nil, fmt.Sprintf("%q, %s", v, flowui.EnvelopeOf(ch).Component))
		}
	}
}

// A prompt page's initial values may be the visitor's (prompt_context:
// what they typed at an earlier stage; an expression of the pending
// user): a page that shows them is kept with holes for them when its
// fields show their values whole, else not kept, so that the cache
// holds no visitor's value and its timing tells no one what another
// typed.
func TestPromptPageInitialValuesNotKept(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	withCheckbox := func(initial string) *executor.PromptChallenge {
		c := promptPage(initial, false)
		c.Fields = append(c.Fields, executor.StagePrompt{FieldKey: "cb", Label: "Check", Type: "checkbox"})
		return c
	}
	emails := []string{"alice@example.com", "bob@example.com", "alice@example.com"}
	for _, page := range []func(string) *executor.PromptChallenge{func(v string) *executor.PromptChallenge { return promptPage(v, false) }, withCheckbox} {
		for _, email := range emails {
			if p := sameAsWhole(t, cached, fresh, flowui.FlowPath+"f/", page(email), nil, email); !strings.Contains(p, `value="`+email+`"`) {
				t.Fatalf("%s is not shown: %s", email, p)
			}
		}
	}
	keptWithout(t, cached, 1, emails...) // the page with holes
}

// A consent page's token is new at each showing (the executor checks
// the answer against the session's, as a CSRF token): its page is never
// the same twice, so that keeping it would only hold a visitor's token
// and drop a page that is shown again.
func TestPageCacheKeepsNoConsentToken(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tokens := []string{"3f1c2a9e-0b7d-4c55-9a1e-2d8f6b4c7e10", "8a2b4c6d-1e3f-4a5b-8c7d-9e0f1a2b3c4d"}
	for _, token := range tokens {
		w := httptest.NewRecorder()
		u.Render(w, httptest.NewRequest("GET", flowui.FlowPath+"f/", nil), "n", &executor.ConsentChallenge{Envelope: executor.Envelope{Component: executor.ComponentConsent},
			UserInfo: executor.UserInfo{PendingUser: "alice"}, Token: token}, "t", nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), token) {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	keptWithout(t, u, 0, tokens...)
}

// A flow's title may show the pending user (authentik's "%(user)s",
// which the executor formats): a page of a user whose name is in its
// challenge outside the user's holes is not kept, so that the cache
// holds no name and its timing tells no one who else logged in.
func TestPageCacheUserInTitle(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	for _, name := range []string{"zelda", "<b>zorro</b>", "zelda"} {
		ch := &executor.PasswordChallenge{Envelope: executor.Envelope{Component: executor.ComponentPassword, FlowInfo: &executor.FlowInfo{Title: "Welcome, " + name, CancelURL: executor.CancelURL}},
			UserInfo: executor.UserInfo{PendingUser: name, PendingUserAvatar: executor.DefaultAvatar}}
		sameAsWhole(t, cached, fresh, flowui.FlowPath+"f/", ch, nil, name)
	}
	// The same page without the name in its title is kept.
	ch := &executor.PasswordChallenge{Envelope: executor.Envelope{Component: executor.ComponentPassword, FlowInfo: &executor.FlowInfo{Title: "Welcome", CancelURL: executor.CancelURL}},
		UserInfo: executor.UserInfo{PendingUser: "zelda", PendingUserAvatar: executor.DefaultAvatar}}
	sameAsWhole(t, cached, fresh, flowui.FlowPath+"f/", ch, nil, "no name")
	keptWithout(t, cached, 1, "zelda", "zorro")
}

// The UI's own forms post to the page's URL without naming it, so that
// a page is kept once whatever its query (an application's state, a
// login hint), which it does not hold; a page that links to itself
// (access denied's "Try again") is kept by its URL without a query,
// and rendered whole with one (TestPageCacheQueryFlood).
func TestPageCacheQueries(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	var login, denied executor.Challenge
	for _, ch := range flowui.Samples() {
		switch flowui.EnvelopeOf(ch).Component {
		case executor.ComponentIdentification:
			login = ch
		case executor.ComponentAccessDenied:
			denied = ch
		}
	}
	for _, state := range []string{"s1", "s2", "s3"} {
		uri := flowui.FlowPath + "f/?next=%2Fauthorize%3Fstate%3D" + state
		if page := sameAsWhole(t, cached, fresh, uri, login, nil, "login "+state); strings.Contains(page, state) {
			t.Errorf("the login page shows its query: %s", page)
		}
	}
	keptWithout(t, cached, 1, "state")
	for _, state := range []string{"s1", "s2"} {
		uri := flowui.FlowPath + "f/?next=%2Fauthorize%3Fstate%3D" + state
		if page := sameAsWhole(t, cached, fresh, uri, denied, nil, "denied "+state); !strings.Contains(page, "state%3d"+state) && !strings.Contains(page, "state%3D"+state) {
			t.Errorf("access denied's link does not keep its query: %s", page)
		}
	}
	keptWithout(t, cached, 1, "state")
	sameAsWhole(t, cached, fresh, flowui.FlowPath+"f/", denied, nil, "denied")
	keptWithout(t, cached, 2)
}

// A link on another site to the login page with next naming the
// unenrollment flow does not delete the account of the visitor who logs
// in there. The login's end redirects to next (relative, so allowed, as
// authentik allows it) and the browser follows it from this origin, so
// the origin check passes; the unenrollment flow, whose user_delete
// authentik runs at that GET, asks first, and only the visitor's click
// (a POST with the page's CSRF token) deletes.
func TestNextToUnenrollmentAfterLogin(t *testing.T) {
	sv := newServerWith(t, func(o *executor.Options, _ string) { o.Brand.FlowUnenrollment = "default-unenrollment-flow" }, "flows-unenrollment.yaml")
	sv.user("gone", "Gone", "gone@example.org", "gone Passw0rd")
	b := sv.browser()
	req, _ := http.NewRequest("GET", sv.srv.URL+"/if/flow/default-authentication-flow/?next=/if/flow/default-unenrollment-flow/", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	b.do(req).wantComponent(t, "ak-stage-identification")
	b.submit(map[string]string{"uid_field": "gone"}).wantComponent(t, "ak-stage-password")
	p := b.submit(map[string]string{"password": "gone Passw0rd"})
	find := func() error {
		_, err := sv.s.Directory().FindUser(context.Background(), directory.Find{Identifier: "gone", Fields: []directory.Field{directory.FieldUsername}})
		return err
	}
	if err := find(); err != nil {
		t.Fatal("the account was deleted by a login's next")
	}
	// The unenrollment asks first; the visitor's click deletes.
	if p.url.Path != "/if/flow/default-unenrollment-flow/" || !strings.Contains(p.body, "Continuing deletes your account.") {
		t.Fatalf("no confirmation: %s %s", p.url, p.body)
	}
	b.submit(nil)
	if err := find(); err == nil {
		t.Fatal("the confirmed unenrollment did not delete the account")
	}
}
