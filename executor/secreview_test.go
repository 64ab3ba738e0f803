package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

// An email link opened in two browsers before either confirms is used
// once: the second confirmation finds the link used, and its flow does
// not go on (it would set a second password through one link).
func TestEmailLinkConfirmedOnce(t *testing.T) {
	m := &testMailer{}
	h := emailFlow(t, "authentication", "", withMailer(m))
	h.userWith("mail", "mail@example.com", nil, true)
	h.get("f", "")
	h.identifyEmail("", "mail").want(t, ComponentEmail)
	_, key := mailLink(t, m.last(t))
	q := "flow_token=" + key
	a, b := h.newClient(), h.newClient()
	ra := h.do(a, "GET", h.url("f", q), "")
	ra.want(t, ComponentConsent)
	rb := h.do(b, "GET", h.url("f", q), "")
	rb.want(t, ComponentConsent)
	ta, _ := ra.body["token"].(string)
	tb, _ := rb.body["token"].(string)
	h.do(a, "POST", h.url("f", q), `{"component":"ak-stage-consent","token":"`+ta+`"}`).wantReload(t, h.url("f", q))
	h.do(b, "POST", h.url("f", q), `{"component":"ak-stage-consent","token":"`+tb+`"}`).want(t, ComponentAccessDenied, "error_message", MsgLinkUsed)
	h.do(a, "GET", h.url("f", q), "").wantReload(t, h.url("f", q))
	h.do(a, "GET", h.url("f", q), "").want(t, ComponentDummy, "name", "after")
}

// A single-use invitation used by two racing requests is used once: the
// request whose delete finds it gone (another request won) has none.
func TestInvitationSingleUseRace(t *testing.T) {
	h := invitationFlow(t, "")
	inv := addInvite(t, h.s, stage.Invite{SingleUse: true})
	testHookInviteFound = func() {
		// The racing request deletes it first.
		if err := h.s.Update(context.Background(), func(tx *store.Tx) error {
			return store.Invites.Delete(tx, store.PK(inv.PK), nil)
		}); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { testHookInviteFound = nil })
	h.get("f", "itoken="+inv.PK.String()).want(t, ComponentAccessDenied, "error_message", MsgInvalidInvite)
}

// The inspector shows neither the consent token nor an invitation's pk,
// in the invitation or as prompt_data's token.
func TestSanitizeContextTokens(t *testing.T) {
	got := mustString(t, sanitizeContext(map[string]any{
		ContextConsentToken: "consent-secret",
		ContextInvitation:   map[string]any{"pk": "invite-secret", "name": "inv"},
		"prompt_data":       map[string]any{"token": "invite-secret", "username": "u"},
	}))
	if strings.Contains(got, "secret") || !strings.Contains(got, `"name":"inv"`) || !strings.Contains(got, `"username":"u"`) {
		t.Errorf("sanitized: %s", got)
	}
}

// Hostile requests to the HTTP handler (any method, slug, query, cookie
// and body) over the shipped flows get a clean answer: no panic, a
// status the handler gives, and JSON for every answer with a body.
func FuzzHTTPHandler(f *testing.F) {
	for _, s := range []struct{ method, slug, query, body string }{
		{"GET", "default-authentication-flow", "next=%2Fapp", ""},
		{"POST", "default-authentication-flow", "", `{"component":"ak-stage-identification","uid_field":"alice"}`},
		{"POST", "default-authentication-flow", "", `{"component":"ak-stage-password","password":"secret"}`},
		{"POST", "default-recovery-flow", "flow_token=x", `{"component":"ak-stage-identification","uid_field":"alice@example.com"}`},
		{"POST", "default-enrollment-flow", "itoken=x", `{"component":"ak-stage-prompt","username":"a","password":["x"],"password_repeat":{"a":1}}`},
		{"POST", "default-authentication-flow", "", strings.Repeat("[", 5000)},
		{"POST", "default-authentication-flow", "", `{"uid_field":` + strings.Repeat(`{"a":`, 3000) + `1` + strings.Repeat(`}`, 3000) + `}`},
		{"PUT", "x/y", "%zz", "\x00"},
		{"POST", "default-unenrollment-flow", "", `{"component":"ak-stage-user-delete"}`},
		{"GET", "default-user-settings-flow", "", ""},
	} {
		f.Add(s.method, s.slug, s.query, s.body)
	}
	h := newHarness(f, "", withExpression, withoutZxcvbn, withMailer(&testMailer{}))
	loadDefaults(f, h, false)
	for _, name := range []string{"example/flows-recovery-email-verification.yaml", "example/flows-enrollment-2-stage.yaml", "example/flows-unenrollment.yaml", "default/flow-default-user-settings-flow.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "blueprint", "testdata", "authentik", name))
		if err == nil {
			_, _ = blueprint.Load(context.Background(), h.s, strings.NewReader(string(b)), blueprint.Options{})
		}
	}
	h.userWith("alice", "alice@example.com", ptr("secret"), true)
	srv := h.e.HTTPHandler(HTTPOptions{})
	const cookie = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	f.Fuzz(func(t *testing.T, method, slug, query, body string) {
		switch method {
		case "GET", "POST", "PUT", "DELETE":
		default:
			method = "POST"
		}
		req, err := http.NewRequest(method, "http://x"+ExecutorPath, strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.URL.Path = ExecutorPath + slug + "/"
		req.URL.RawQuery = url.Values{"query": {query}}.Encode()
		req.AddCookie(&http.Cookie{Name: DefaultCookie, Value: cookie})
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 302, 403, 404, 405:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if rec.Code != 302 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("not JSON: %q", rec.Body.String())
		}
		if strings.Contains(rec.Body.String(), "secret") && !strings.Contains(body+query+slug, "secret") {
			t.Fatalf("a secret in the answer: %s", rec.Body)
		}
	})
}

// A GET reaches stages with side effects (user_delete, user_logout,
// user_write, email): a cross-site navigation to the executor, which
// carries the SameSite=Lax cookie, is refused as a cross-origin POST is,
// so that a link on another site cannot delete the account of a
// logged-in user through authentik's example unenrollment flow. A
// trusted origin's GET (CORS fetch, with Origin) is answered, as are
// same-origin and header-less ones.
func TestCrossSiteGET(t *testing.T) {
	h := newHarness(t, "", withExpression, withoutZxcvbn)
	loadDefaults(t, h, false)
	b, err := os.ReadFile(filepath.Join("..", "blueprint", "testdata", "authentik", "example", "flows-unenrollment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blueprint.Load(context.Background(), h.s, strings.NewReader(string(b)), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	alice := h.userWith("alice", "alice@example.com", ptr("secret pw"), true)
	d := &httpDriver{h: h, c: h.client}
	d.step("default-authentication-flow", "")
	d.step("default-authentication-flow", `{"component":"ak-stage-identification","uid_field":"alice"}`)
	wantChallenge(t, d.step("default-authentication-flow", `{"component":"ak-stage-password","password":"secret pw"}`), ComponentRedirect, "to", "/")
	get := func(base string, header map[string]string) reply {
		t.Helper()
		req, _ := http.NewRequest("GET", base+ExecutorPath+"default-unenrollment-flow/?query=", nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		u, _ := url.Parse(h.srv.URL)
		for _, c := range h.client.Jar.Cookies(u) {
			req.AddCookie(c)
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return reply{status: res.StatusCode, raw: raw, header: res.Header}
	}
	for _, hd := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},
		{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"},
		{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"},
	} {
		if r := get(h.srv.URL, hd); r.status != http.StatusForbidden {
			t.Errorf("GET with %v: %d %s", hd, r.status, r.raw)
		}
	}
	if _, err := h.s.Directory().User(context.Background(), alice.PK); err != nil {
		t.Fatalf("a cross-site GET deleted the user: %v", err)
	}
	// A trusted origin's fetch is answered.
	cop := http.NewCrossOriginProtection()
	if err := cop.AddTrustedOrigin("https://app.example"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.e.HTTPHandler(HTTPOptions{CrossOrigin: cop}))
	t.Cleanup(srv.Close)
	if r := get(srv.URL, map[string]string{"Origin": "https://app.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}); r.status != http.StatusFound && r.status != http.StatusOK {
		t.Errorf("trusted origin's GET: %d %s", r.status, r.raw)
	}
}

// The execute endpoint replaces the session's execution: a cross-site
// request to it is refused, the execution kept.
func TestExecuteCrossSite(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "one", 0, ""), dummy("f", "two", 1, "")))
	h.get("f", "").want(t, ComponentDummy, "name", "one")
	h.post("f", "", `{"component":"ak-stage-dummy"}`)
	req := httptest.NewRequest("GET", "/api/v3/flows/instances/f/execute/", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(&http.Cookie{Name: DefaultCookie, Value: h.sessionID()})
	rec := httptest.NewRecorder()
	h.e.ExecuteHandler(HTTPOptions{}, "f").ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("cross-site execute: %d %s", rec.Code, rec.Body)
	}
	if x := h.execution("f"); len(x.Stages) != 1 {
		t.Errorf("the execution was replaced: %v", stageNames(x))
	}
}

// The run state holds no session id in the clear: neither a logged-in
// session's key, nor the user's list of sessions, nor an execution's
// key; only their SHA-256.
func TestRunStateHoldsNoSessionID(t *testing.T) {
	h := newHarness(t, "", withExpression, withoutZxcvbn)
	loadDefaults(t, h, false)
	h.userWith("alice", "alice@example.com", ptr("secret pw"), true)
	d := &httpDriver{h: h, c: h.client}
	d.step("default-authentication-flow", "")
	d.step("default-authentication-flow", `{"component":"ak-stage-identification","uid_field":"alice"}`)
	wantChallenge(t, d.step("default-authentication-flow", `{"component":"ak-stage-password","password":"secret pw"}`), ComponentRedirect, "to", "/")
	d.step("default-password-change", "") // an execution of the logged-in session
	sid := h.sessionID()
	if u, ok, err := h.e.SessionStore().User(context.Background(), sid); !ok || err != nil || u.Username != "alice" {
		t.Fatalf("session user %v %v %v", u, ok, err)
	}
	var n int
	h.rs.mu.Lock()
	for k, r := range h.rs.recs {
		if k.ns != Executions && k.ns != Sessions {
			continue
		}
		n++
		if strings.Contains(k.key, sid) || bytes.Contains(r.data, []byte(sid)) {
			t.Errorf("%v record %q holds the session id", k.ns, k.key)
		}
	}
	h.rs.mu.Unlock()
	if n < 3 {
		t.Errorf("%d records", n)
	}
}

// An email stage sends at most MaxEmailsPerUser messages to one user in
// EmailWindow, over every session: past it, the answer is the same and
// nothing is sent, nor a flow token issued.
func TestEmailBound(t *testing.T) {
	m := &testMailer{}
	h := emailFlow(t, "recovery", "", withMailer(m))
	h.userWith("mail", "mail@example.com", nil, true)
	for i := range MaxEmailsPerUser + 2 {
		if i%2 == 0 {
			h.client = h.newClient()
			h.get("f", "")
			h.identifyEmail("", "mail").want(t, ComponentEmail)
			continue
		}
		r := h.post("f", "", `{"component":"ak-stage-email"}`)
		r.want(t, ComponentEmail)
		if got := responseErrors(r); got != `{"non_field_errors":[{"code":"email-sent","string":"email-sent"}]}` {
			t.Errorf("response_errors %s", got)
		}
	}
	if m.count() != MaxEmailsPerUser {
		t.Errorf("%d emails, want %d", m.count(), MaxEmailsPerUser)
	}
	var limited int
	for _, ev := range h.events {
		if ev.Message == MsgEmailLimit && ev.User == "mail" {
			limited++
		}
	}
	if limited != 2 {
		t.Errorf("%d limit events", limited)
	}
	h.advance(EmailWindow + time.Second)
	h.post("f", "", `{"component":"ak-stage-email"}`).want(t, ComponentEmail)
	if m.count() != MaxEmailsPerUser+1 {
		t.Errorf("after the window: %d emails", m.count())
	}
}

// sideEffect is a dummy stage whose response is a side effect, counted
// per stage; the first response to stage "one" waits for release.
type sideEffect struct {
	mu      sync.Mutex
	n       map[string]int
	entered chan string
	release chan struct{}
}

func (h *sideEffect) Challenge(ctx context.Context, s *Step) (Result, error) {
	return dummyHandler{}.Challenge(ctx, s)
}

func (h *sideEffect) Respond(_ context.Context, s *Step, _ json.RawMessage) (Result, error) {
	h.mu.Lock()
	h.n[s.Stage.Name]++
	first := s.Stage.Name == "one" && h.n["one"] == 1
	h.mu.Unlock()
	h.entered <- s.Stage.Name
	if first {
		<-h.release
	}
	return Pass(), nil
}

// Two racing POSTs of one execution (a double click, a replay) run its
// stage once: the second waits for the first, then answers the next
// stage; the side effect of stage one happens once.
func TestRacingPostsRunAStageOnce(t *testing.T) {
	se := &sideEffect{n: map[string]int{}, entered: make(chan string, 4), release: make(chan struct{})}
	handlers := Builtin()
	handlers[stage.ModelDummy] = se
	h := newHarness(t, flowDoc("f", "", dummy("f", "one", 0, ""), dummy("f", "two", 1, "")), func(o *Options) { o.Handlers = handlers })
	ctx := context.Background()
	req := Request{Session: "s"}
	if _, err := h.e.Get(ctx, "f", req); err != nil {
		t.Fatal(err)
	}
	body := json.RawMessage(`{"component":"ak-stage-dummy"}`)
	errc := make(chan error, 2)
	submit := func() { _, err := h.e.Submit(ctx, "f", req, body); errc <- err }
	go submit()
	if got := <-se.entered; got != "one" {
		t.Fatalf("first response to %q", got)
	}
	contended := make(chan struct{}, 1)
	testHookContended = func() { contended <- struct{}{} }
	t.Cleanup(func() { testHookContended = nil })
	go submit()
	select {
	case <-contended: // the second waits for the first
	case got := <-se.entered:
		t.Errorf("the second response reached stage %q while the first ran", got)
	}
	close(se.release)
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.n["one"] != 1 {
		t.Errorf("stage one ran %d times", se.n["one"])
	}
}

// The session cookie is HttpOnly, SameSite=Lax, Path=/, and Secure
// under TLS, a TLS-terminating proxy's included (X-Forwarded-Proto).
func TestSessionCookieFlags(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "one", 0, "")))
	for _, c := range []struct {
		proto  string
		secure bool
	}{{"", false}, {"http", false}, {"https", true}, {"HTTPS, http", true}} {
		req := httptest.NewRequest("GET", ExecutorPath+"f/?query=", nil)
		if c.proto != "" {
			req.Header.Set("X-Forwarded-Proto", c.proto)
		}
		rec := httptest.NewRecorder()
		h.e.HTTPHandler(HTTPOptions{}).ServeHTTP(rec, req)
		cs := rec.Result().Cookies()
		if len(cs) != 1 || !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteLaxMode || cs[0].Path != "/" || cs[0].Secure != c.secure {
			t.Errorf("X-Forwarded-Proto %q: cookies %+v", c.proto, cs)
		}
	}
	req := httptest.NewRequest("GET", "https://x"+ExecutorPath+"f/?query=", nil)
	rec := httptest.NewRecorder()
	h.e.HTTPHandler(HTTPOptions{}).ServeHTTP(rec, req)
	if cs := rec.Result().Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("TLS: cookies %+v", cs)
	}
}
