package flowui_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flowui"
	"github.com/authflow/authflow/store"
	"golang.org/x/net/html"
)

// newTestUI is a UI over an executor of an empty store.
func newTestUI(t testing.TB, o flowui.Options) (*flowui.UI, error) {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "x.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e, err := executor.New(s, executor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return flowui.New(e, o)
}

// renderSample renders a sample challenge's page.
func renderSample(t *testing.T, u *flowui.UI, ch executor.Challenge) (string, http.Header) {
	t.Helper()
	r := httptest.NewRequest("GET", flowui.FlowPath+"sample/?next=%2Fapp", nil)
	w := httptest.NewRecorder()
	u.Render(w, r, "Nonce0123", ch, "tok", nil)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	return w.Body.String(), w.Header()
}

// Every sample challenge renders a page that a person can use: every
// field labelled, described ids present, errors announced, one focus,
// the form with its CSRF token and component, small.
func TestComponentPages(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ch := range flowui.Samples() {
		c := flowui.EnvelopeOf(ch).Component
		seen[c] = true
		t.Run(c, func(t *testing.T) {
			body, hdr := renderSample(t, u, ch)
			if len(body) > 30<<10 {
				t.Errorf("%d bytes", len(body))
			}
			doc, err := html.Parse(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			ids, labelFor := map[string]*html.Node{}, map[string]bool{}
			var inputs, focus []*html.Node
			var inLabel = map[*html.Node]bool{}
			walk(doc, func(n *html.Node) {
				if n.Type != html.ElementNode {
					return
				}
				if id, ok := attr(n, "id"); ok {
					if ids[id] != nil {
						t.Errorf("id %q twice", id)
					}
					ids[id] = n
				}
				switch n.Data {
				case "label":
					if f, ok := attr(n, "for"); ok {
						labelFor[f] = true
					}
					walk(n, func(c *html.Node) { inLabel[c] = true })
				case "img":
					if src, _ := attr(n, "src"); !strings.HasPrefix(src, "data:image/") && !strings.HasPrefix(src, "/") {
						t.Errorf("img src %q", src)
					}
				case "input", "select", "textarea":
					inputs = append(inputs, n)
				case "script", "style":
					if nonce, _ := attr(n, "nonce"); nonce == "" || !strings.Contains(hdr.Get("Content-Security-Policy"), "'nonce-"+nonce+"'") {
						t.Errorf("<%s> without the CSP's nonce", n.Data)
					}
				}
				// Focus follows the document's order.
				if ti, ok := attr(n, "tabindex"); ok && ti != "0" && ti != "-1" {
					t.Errorf("<%s tabindex=%s>", n.Data, ti)
				}
				if _, ok := attr(n, "autofocus"); ok {
					focus = append(focus, n)
				}
			})
			csp := hdr.Get("Content-Security-Policy")
			scripts := strings.Count(body, "<script")
			if (scripts > 0) != strings.Contains(csp, "script-src 'nonce-Nonce0123'") || (scripts == 0 && strings.Contains(csp, "script-src")) {
				t.Errorf("%d scripts, CSP %s", scripts, csp)
			}
			if len(focus) > 1 {
				t.Errorf("%d elements with autofocus", len(focus))
			}
			for _, in := range inputs {
				typ, _ := attr(in, "type")
				name, _ := attr(in, "name")
				if typ == "hidden" || in.Parent.Data == "noscript" {
					continue
				}
				id, _ := attr(in, "id")
				if _, hidden := attr(in, "hidden"); !inLabel[in] && !labelFor[id] && !hidden {
					t.Errorf("field %q without a label", name)
				}
				if d, ok := attr(in, "aria-describedby"); ok {
					for _, ref := range strings.Fields(d) {
						if ids[ref] == nil {
							t.Errorf("field %q described by missing %q", name, ref)
						}
					}
				}
			}
			for id, n := range ids {
				if strings.HasSuffix(id, "-error") {
					if role, _ := attr(n, "role"); role != "alert" {
						t.Errorf("%s: not announced", id)
					}
				}
			}
			if c != executor.ComponentAccessDenied && c != executor.ComponentFlowError {
				if !strings.Contains(body, `name="csrf_token" value="tok"`) || !strings.Contains(body, `name="component" value="`+c+`"`) {
					t.Errorf("no CSRF token or component in the form")
				}
				if strings.Contains(body, `action=`) {
					t.Errorf("a form names where it posts: it posts to the page's own URL, query included")
				}
			}
			if !strings.Contains(body, "Sample") && c != executor.ComponentFlowError {
				t.Errorf("no title")
			}
		})
	}
	for _, c := range executor.Components() {
		if !seen[c] && c != executor.ComponentRedirect {
			t.Errorf("no sample of %s", c)
		}
	}
}

// The autocomplete attributes of the fields whose purpose is known.
func TestAutocomplete(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		executor.ComponentIdentification:        {"uid_field": "username", "password": "current-password"},
		executor.ComponentPassword:              {"password": "current-password", "username": "username"},
		executor.ComponentAuthenticatorValidate: {"code": "one-time-code"},
		executor.ComponentAuthenticatorSMS:      {"phone_number": "tel"},
		executor.ComponentAuthenticatorEmail:    {"code": "one-time-code"},
		executor.ComponentPrompt:                {"field_username": "username", "field_email": "email", "field_password": "new-password"},
	}
	for _, ch := range flowui.Samples() {
		c := flowui.EnvelopeOf(ch).Component
		body, _ := renderSample(t, u, ch)
		doc, _ := html.Parse(strings.NewReader(body))
		got := map[string]string{}
		walk(doc, func(n *html.Node) {
			if name, ok := attr(n, "name"); ok && n.Data == "input" {
				got[name], _ = attr(n, "autocomplete")
			}
		})
		for name, ac := range want[c] {
			if got[name] != ac {
				t.Errorf("%s: %s autocomplete %q, want %q", c, name, got[name], ac)
			}
		}
	}
}

// Each component's form becomes the stage's response.
func TestDecode(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"identification", url.Values{"component": {executor.ComponentIdentification}, "uid_field": {"alice"}}, `{"component":"ak-stage-identification","uid_field":"alice"}`},
		{"identification combined", url.Values{"component": {executor.ComponentIdentification}, "uid_field": {"alice"}, "password": {"pw"}, "remember_me": {"on"}},
			`{"component":"ak-stage-identification","password":"pw","uid_field":"alice"}`},
		{"identification captcha", url.Values{"component": {executor.ComponentIdentification}, "uid_field": {"a"}, "h-captcha-response": {"tok"}},
			`{"captcha_token":"tok","component":"ak-stage-identification","uid_field":"a"}`},
		{"password", url.Values{"component": {executor.ComponentPassword}, "password": {"pw"}, "username": {"x"}}, `{"component":"ak-stage-password","password":"pw"}`},
		{"consent", url.Values{"component": {executor.ComponentConsent}, "token": {"t"}}, `{"component":"ak-stage-consent","token":"t"}`},
		{"captcha", url.Values{"component": {executor.ComponentCaptcha}, "cf-turnstile-response": {"t"}}, `{"component":"ak-stage-captcha","token":"t"}`},
		{"captcha recaptcha", url.Values{"component": {executor.ComponentCaptcha}, "g-recaptcha-response": {"r"}}, `{"component":"ak-stage-captcha","token":"r"}`},
		{"user_login yes", url.Values{"component": {executor.ComponentUserLogin}, "remember_me": {"true"}}, `{"component":"ak-stage-user-login","remember_me":true}`},
		{"user_login no", url.Values{"component": {executor.ComponentUserLogin}, "remember_me": {"false"}}, `{"component":"ak-stage-user-login","remember_me":false}`},
		{"authenticator_validate stage", url.Values{"component": {executor.ComponentAuthenticatorValidate}, "selected_stage": {"0190"}},
			`{"component":"ak-stage-authenticator-validate","selected_stage":"0190"}`},
		{"authenticator_validate code", url.Values{"component": {executor.ComponentAuthenticatorValidate}, "code": {"123456"},
			"selected_challenge": {`{"device_class":"totp","device_uid":"1","challenge":{}}`}},
			`{"code":"123456","component":"ak-stage-authenticator-validate","selected_challenge":{"challenge":{},"device_class":"totp","device_uid":"1"}}`},
		{"authenticator_validate webauthn", url.Values{"component": {executor.ComponentAuthenticatorValidate}, "webauthn": {`{"id":"AQID"}`}},
			`{"component":"ak-stage-authenticator-validate","webauthn":{"id":"AQID"}}`},
		{"authenticator_webauthn", url.Values{"component": {executor.ComponentAuthenticatorWebAuthn}, "response": {`{"id":"AQID","type":"public-key"}`}},
			`{"component":"ak-stage-authenticator-webauthn","response":{"id":"AQID","type":"public-key"}}`},
		{"authenticator_validate duo", url.Values{"component": {executor.ComponentAuthenticatorValidate}, "duo": {"2"}},
			`{"component":"ak-stage-authenticator-validate","duo":"2"}`},
		{"email", url.Values{"component": {executor.ComponentEmail}}, `{"component":"ak-stage-email"}`},
		{"sms number", url.Values{"component": {executor.ComponentAuthenticatorSMS}, "phone_number": {"+1555"}}, `{"component":"ak-stage-authenticator-sms","phone_number":"+1555"}`},
		{"sms code", url.Values{"component": {executor.ComponentAuthenticatorSMS}, "code": {"012345"}}, `{"component":"ak-stage-authenticator-sms","code":"012345"}`},
		{"sms empty", url.Values{"component": {executor.ComponentAuthenticatorSMS}}, `{"component":"ak-stage-authenticator-sms"}`},
		{"email setup address", url.Values{"component": {executor.ComponentAuthenticatorEmail}, "email": {"a@b.c"}}, `{"component":"ak-stage-authenticator-email","email":"a@b.c"}`},
		{"email setup code", url.Values{"component": {executor.ComponentAuthenticatorEmail}, "code": {"1"}, "email": {"a@b.c"}}, `{"component":"ak-stage-authenticator-email","code":"1"}`},
		{"duo", url.Values{"component": {executor.ComponentAuthenticatorDuo}}, `{"component":"ak-stage-authenticator-duo"}`},
		{"dummy", url.Values{"component": {executor.ComponentDummy}}, `{"component":"ak-stage-dummy"}`},
		{"prompt", url.Values{"component": {executor.ComponentPrompt},
			"type:t": {"text"}, "t": {""}, "type:n": {"number"}, "n": {""}, "type:n2": {"number"}, "n2": {"7"},
			"type:c": {"checkbox"}, "type:c2": {"checkbox"}, "c2": {"on"}, "type:d": {"date"}, "d": {"2026-01-02"},
			"type:h": {"hidden"}, "h": {"sent"}, "type:s": {"static"}, "type:ro": {"text_read_only"}, "ro": {"x"},
			"type:absent": {"text"}, "type:f": {"file"}, "type:l": {"ak-locale"}, "l": {""}},
			`{"c":false,"c2":true,"component":"ak-stage-prompt","d":"2026-01-02","l":"","n2":"7","t":""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := u.Decode(tc.form)
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			_ = json.Unmarshal(got, &g)
			_ = json.Unmarshal([]byte(tc.want), &w)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s, want %s", got, tc.want)
			}
		})
	}
	if _, err := u.Decode(url.Values{"selected_challenge": {"null"}, "component": {executor.ComponentAuthenticatorValidate}}); !errors.Is(err, flowui.ErrForm) {
		t.Errorf("a null selected_challenge: %v", err)
	}
	for _, bad := range []string{"", "null", "[]", "{"} {
		if _, err := u.Decode(url.Values{"response": {bad}, "component": {executor.ComponentAuthenticatorWebAuthn}}); !errors.Is(err, flowui.ErrForm) {
			t.Errorf("a WebAuthn response %q: %v", bad, err)
		}
		if _, err := u.Decode(url.Values{"webauthn": {bad}, "component": {executor.ComponentAuthenticatorValidate}}); !errors.Is(err, flowui.ErrForm) {
			t.Errorf("a WebAuthn assertion %q: %v", bad, err)
		}
	}
}

// A file field becomes a data: URI through a multipart form.
func TestDecodeFile(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.WriteString("--b\r\nContent-Disposition: form-data; name=\"component\"\r\n\r\nak-stage-prompt\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"type:f\"\r\n\r\nfile\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"type:none\"\r\n\r\nfile\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"none\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n")
	r := httptest.NewRequest("POST", flowui.FlowPath+"x/", &body)
	r.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	got, err := u.DecodeRequest(httptest.NewRecorder(), r)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"component":"ak-stage-prompt","f":"data:text/plain;base64,aGVsbG8="}` {
		t.Errorf("%s", got)
	}
}

// Templates are replaced from Options.Templates by file name, and a
// broken one fails New.
func TestTemplates(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{Templates: fstest.MapFS{
		"ak-stage-dummy.html": {Data: []byte(`<p class="mine">{{.Challenge.Name}}</p>`)},
		"style.css":           {Data: []byte(`:root{--af-accent:#c00}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := renderSample(t, u, &executor.DummyChallenge{Envelope: executor.Envelope{Component: executor.ComponentDummy}, Name: "x<y"})
	if !strings.Contains(body, `<p class="mine">x&lt;y</p>`) || !strings.Contains(body, "--af-accent:#c00") {
		t.Errorf("%s", body)
	}
	for name, src := range map[string]string{
		"ak-stage-password.html": `{{.Nope}}`,             // fails on the samples
		"ak-stage-prompt.html":   `{{if}}`,                // does not parse
		"page.html":              `{{define "x"}}{{end}}`, // no "page"
		"status.html":            `{{.Status.Message}}`,   // no way to continue
	} {
		_, err := newTestUI(t, flowui.Options{Templates: fstest.MapFS{name: {Data: []byte(src)}}})
		if !errors.Is(err, flowui.ErrTemplate) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// With the UI's own page.html, the page around the content is rendered
// once per title, background and layout (the pages are the same:
// TestGolden); a host's page.html, or a style.css with an action, may
// read anything of the page, and renders every page whole.
func TestShells(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{CachePages: -1})
	if err != nil {
		t.Fatal(err)
	}
	n := u.Shells()
	dummy := func(name, title string) executor.Challenge {
		return &executor.DummyChallenge{Envelope: executor.Envelope{Component: executor.ComponentDummy, FlowInfo: &executor.FlowInfo{Title: title}}, Name: name}
	}
	renderSample(t, u, dummy("a", "One"))
	renderSample(t, u, dummy("b", "One"))
	body, _ := renderSample(t, u, dummy("c", "Two"))
	if got := u.Shells(); got != n+2 || !strings.Contains(body, "<title>Two</title>") || !strings.Contains(body, "<p>c</p>") {
		t.Errorf("%d shells after %d: %s", got, n, body)
	}
	for name, src := range map[string]string{
		"page.html": `{{define "page"}}<html><body class="{{.Component}}">{{template "content" .}}</body></html>{{end}}`,
		"style.css": `/* {{.Component}} */`,
	} {
		u, err := newTestUI(t, flowui.Options{CachePages: -1, Templates: fstest.MapFS{name: {Data: []byte(src)}}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := renderSample(t, u, dummy("d", "One"))
		if u.Shells() != -1 || !strings.Contains(body, executor.ComponentDummy) || !strings.Contains(body, "<p>d</p>") {
			t.Errorf("%s: %d shells: %s", name, u.Shells(), body)
		}
	}
}

// Every component the executor answers with has a form decoder and,
// but for the redirect, a template.
func TestComponentsCovered(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range executor.Components() {
		decoder, template := u.Covers(c)
		if !decoder {
			t.Errorf("%s: no decoder", c)
		}
		if !template && c != executor.ComponentRedirect {
			t.Errorf("%s: no template", c)
		}
	}
}

// A page shown again is written from the cache: the same bytes as
// rendering it, its own nonce and CSRF token filled in; an answered
// challenge's page (with the values sent) is not kept.
func TestPageCache(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	for _, ch := range flowui.Samples() {
		c := flowui.EnvelopeOf(ch).Component
		r := httptest.NewRequest("GET", flowui.FlowPath+"sample/", nil)
		var pages []string
		for i, u := range []*flowui.UI{cached, cached, fresh} {
			w := httptest.NewRecorder()
			u.Render(w, r, "nonce", ch, "csrf"+string(rune('a'+i)), nil)
			pages = append(pages, strings.Replace(w.Body.String(), "csrf"+string(rune('a'+i)), "CSRF", -1))
			if c != executor.ComponentAccessDenied && c != executor.ComponentFlowError && !strings.Contains(w.Body.String(), `value="csrf`+string(rune('a'+i))+`"`) {
				t.Errorf("%s: the page's own token is not in it", c)
			}
		}
		if pages[0] != pages[1] || pages[1] != pages[2] {
			t.Errorf("%s: a cached page differs:\n%s\n%s", c, pages[1], pages[2])
		}
	}
	// Every sample's page is kept, those that show a pending user with
	// holes for the user (TestPageCacheUserHoles), but an
	// authenticator's, which may show a secret (but TOTP setup's, kept
	// with a hole for its link: TestPageCacheKeepsNoSecret), and the
	// prompt's, whose initial values (maybe the visitor's) are in fields
	// that a page kept has no holes for (a choice, a checkbox:
	// TestPromptPageInitialValuesNotKept).
	kept := 0
	for _, ch := range flowui.Samples() {
		if c := flowui.EnvelopeOf(ch).Component; c == executor.ComponentAuthenticatorTOTP || !slices.Contains(flowui.SecretComponents, c) && c != executor.ComponentPrompt {
			kept++
		}
	}
	if n := cached.CachedPages(); n != kept {
		t.Errorf("%d pages kept, want %d", n, kept)
	}
	w := httptest.NewRecorder()
	cached.Render(w, httptest.NewRequest("POST", flowui.FlowPath+"sample/", nil), "n", flowui.Samples()[0], "t", url.Values{"uid_field": {"x"}, "component": {executor.ComponentIdentification}})
	if n := cached.CachedPages(); n != kept {
		t.Errorf("an answered page was kept")
	}
	small, _ := newTestUI(t, flowui.Options{CachePages: 2})
	for _, ch := range flowui.Samples() {
		small.Render(httptest.NewRecorder(), httptest.NewRequest("GET", flowui.FlowPath+"sample/", nil), "n", ch, "t", nil)
	}
	if n := small.CachedPages(); n != 2 {
		t.Errorf("%d pages kept, bound 2", n)
	}
}

// An ak-locale field allows blank (its first choice, auto-detect), so
// its select is not required in the browser even when the prompt is:
// a required select refuses its empty first option, and a user who
// never chose a language could not save their settings.
func TestLocaleSelectNotRequired(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	page := sameAsWholeAs(t, cached, fresh, flowui.FlowPath+"default-user-settings-flow/", settingsPage("ann", "Ann", "ann@example.org", ""), nil, "ann", "settings")
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var sel, email *html.Node
	for _, n := range all(doc, "select") {
		if attrOf(n, "name") == "attributes.settings.locale" {
			sel = n
		}
	}
	for _, n := range all(doc, "input") {
		if attrOf(n, "name") == "email" {
			email = n
		}
	}
	if sel == nil || email == nil {
		t.Fatalf("no locale select or email field: %s", page)
	}
	if hasAttr(sel, "required") || !hasAttr(email, "required") {
		t.Errorf("required: the locale select %v, the email field %v; want false, true", hasAttr(sel, "required"), hasAttr(email, "required"))
	}
	if opts := all(sel, "option"); len(opts) == 0 || attrOf(opts[0], "value") != "" {
		t.Errorf("the first choice is not auto-detect: %s", page)
	}
}

// hasAttr says whether n has the attribute key, whatever its value.
func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}
