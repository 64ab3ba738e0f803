package executor

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
)

// testMailer keeps the messages it is given.
type testMailer struct {
	mu   sync.Mutex
	sent []Mail
	fail error
}

func (m *testMailer) SendMail(_ context.Context, msg Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.sent = append(m.sent, msg)
	return nil
}

func (m *testMailer) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

func (m *testMailer) last(t *testing.T) Mail {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		t.Fatal("no email was sent")
	}
	return m.sent[len(m.sent)-1]
}

const testBaseURL = "https://auth.example.com"

func withMailer(m *testMailer) harnessOpt {
	return func(o *Options) { o.Mailer, o.BaseURL = m, testBaseURL+"/" }
}

var linkRE = regexp.MustCompile(`https://auth\.example\.com/if/flow/[^\s"<]+`)

// link is the link of a message, checked in both bodies, and its
// flow_token.
func mailLink(t *testing.T, m Mail) (string, string) {
	t.Helper()
	l := linkRE.FindString(m.Text)
	if l == "" || !strings.Contains(m.HTML, `href="`+strings.ReplaceAll(l, "&", "&amp;")+`"`) {
		t.Fatalf("no link in both bodies:\n%s\n%s", m.Text, m.HTML)
	}
	u, err := url.Parse(l)
	if err != nil {
		t.Fatal(err)
	}
	key := u.Query().Get(QueryFlowToken)
	if len(key) != FlowTokenKeyLength {
		t.Fatalf("flow_token %q", key)
	}
	return l, key
}

// emailFlow is flow f (designation d): identification by username, an
// email stage (with stageAttrs), then a dummy stage.
func emailFlow(t *testing.T, d, stageAttrs string, opts ...harnessOpt) *harness {
	doc := flowDoc("f", "",
		stageEntry("authentik_stages_identification.identificationstage", "f", "ident", 1, "user_fields: [username], pretend_user_exists: true", ""),
		stageEntry("authentik_stages_email.emailstage", "f", "email", 2, stageAttrs, ""),
		dummy("f", "after", 10, ""))
	doc = strings.Replace(doc, "designation: authentication", "designation: "+d, 1)
	return newHarness(t, doc, opts...)
}

// identify answers the identification stage with username and returns
// the next challenge.
func (h *harness) identifyEmail(q, username string) reply {
	h.t.Helper()
	r := h.post("f", q, postJSON(map[string]any{"component": ComponentIdentification, "uid_field": username}))
	if r.status == 302 {
		return h.finish("f", q)
	}
	return r
}

// test_pending_user, test_rendering, test_url_existing_params: the first
// GET sends the email, with the link; a second GET sends nothing
// (authentik sends again); each response sends it again and is refused
// with "email-sent".
func TestEmailSend(t *testing.T) {
	m := &testMailer{}
	h := emailFlow(t, "authentication", "", withMailer(m))
	u := h.userWith("mail", "mail@example.com", nil, true)
	u.Name = "Mail User\r\nBcc: x@evil.example"
	if _, err := h.s.Directory().UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	const q = "next=%2Fapp%2F&flow_token=stale"
	h.get("f", q)
	h.identifyEmail(q, "mail").want(t, ComponentEmail)
	if m.count() != 1 {
		t.Fatalf("%d emails", m.count())
	}
	msg := m.last(t)
	if msg.Subject != "authentik" || len(msg.To) != 1 || msg.To[0].Email != "mail@example.com" || msg.To[0].Name != "Mail User  Bcc: x@evil.example" {
		t.Errorf("message %+v", msg)
	}
	if ms := msg.Settings; ms.UseGlobalSettings || ms.Host != "localhost" || ms.Port != 25 || ms.From != "system@authentik.local" || ms.Timeout != 10*time.Second {
		t.Errorf("settings %+v", msg.Settings)
	}
	l, key := mailLink(t, msg)
	if want := testBaseURL + "/if/flow/f/?next=%2Fapp%2F&flow_token=" + key; l != want {
		t.Errorf("link %s, want %s", l, want)
	}
	if !strings.Contains(msg.Text, "password") || !strings.Contains(msg.Text, "2026") {
		t.Errorf("text %s", msg.Text)
	}
	h.get("f", q).want(t, ComponentEmail)
	if m.count() != 1 {
		t.Fatalf("a second GET sent another email: %d", m.count())
	}
	r := h.post("f", q, `{"component":"ak-stage-email"}`)
	r.want(t, ComponentEmail)
	if got := responseErrors(r); got != `{"non_field_errors":[{"code":"email-sent","string":"email-sent"}]}` {
		t.Errorf("response_errors %s", got)
	}
	if m.count() != 2 {
		t.Fatalf("a response did not send again: %d", m.count())
	}
	_, key2 := mailLink(t, m.last(t))
	if key2 == key {
		t.Error("a new email carries the same token")
	}
	var sent, msgs []string
	for _, ev := range h.events {
		for _, k := range []string{key, key2, tokenHash(key)} {
			if strings.Contains(ev.Message, k) {
				t.Errorf("an event holds the token: %+v", ev)
			}
		}
		switch ev.Action {
		case EventEmailSent:
			sent = append(sent, ev.Message)
		case EventMessage:
			msgs = append(msgs, ev.Message)
		}
	}
	if want := "Email to Mail User  Bcc: x@evil.example <mail@example.com> sent"; len(sent) != 2 || sent[0] != want {
		t.Errorf("email_sent events %q", sent)
	}
	if len(msgs) != 1 || msgs[0] != MsgEmailResent {
		t.Errorf("message events %q", msgs)
	}
	// The run state keeps the token's hash, never its key.
	if _, err := h.rs.Load(context.Background(), FlowTokens, key); !errors.Is(err, ErrNotFound) {
		t.Errorf("the key is a run state key: %v", err)
	}
	if _, err := h.rs.Load(context.Background(), FlowTokens, tokenHash(key)); err != nil {
		t.Errorf("the token is not kept: %v", err)
	}
}

// test_url_no_params, test_pending_user_override, the stage's own SMTP
// settings, account_confirmation.
func TestEmailSettingsAndOverride(t *testing.T) {
	m := &testMailer{}
	h := emailFlow(t, "authentication", `use_global_settings: false, host: smtp.example.com, port: 587, username: u, password: "smtp-secret", use_tls: true, timeout: 7, from_address: "auth@example.com", subject: "Confirm", template: email/account_confirmation.html`,
		withMailer(m), withExpressions(map[string]func(map[string]any){}))
	h.userWith("mail", "mail@example.com", nil, true)
	h.get("f", "")
	h.identifyEmail("", "mail").want(t, ComponentEmail)
	msg := m.last(t)
	s := msg.Settings
	if s.UseGlobalSettings || s.Host != "smtp.example.com" || s.Port != 587 || s.Username != "u" || s.Password.Reveal() != "smtp-secret" ||
		!s.UseTLS || s.UseSSL || s.Timeout != 7*time.Second || s.From != "auth@example.com" {
		t.Errorf("settings %+v", s)
	}
	if msg.Subject != "Confirm" || !strings.Contains(msg.Text, "confirm your account") {
		t.Errorf("message %+v", msg)
	}
	if l, key := mailLink(t, msg); l != testBaseURL+"/if/flow/f/?flow_token="+key {
		t.Errorf("link %s", l)
	}

	// The context's email is the recipient.
	m2 := &testMailer{}
	h2 := emailFlow(t, "authentication", "", withMailer(m2))
	h2.userWith("mail", "mail@example.com", nil, true)
	h2.get("f", "")
	x := h2.execution("f")
	x.Context[ContextEmail] = "foo@bar.baz"
	replaceExecution(t, h2, "f", x)
	h2.identifyEmail("", "mail").want(t, ComponentEmail)
	if to := m2.last(t).To; to[0].Email != "foo@bar.baz" {
		t.Errorf("to %+v", to)
	}
}

// test_without_user: stage_invalid; and no mailer: denied, with a
// configuration_error event.
func TestEmailWithoutUserOrMailer(t *testing.T) {
	m := &testMailer{}
	h := newHarness(t, flowDoc("f", "", stageEntry("authentik_stages_email.emailstage", "f", "email", 2, "", "")), withMailer(m))
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgUnknownError)

	h = emailFlow(t, "authentication", "")
	h.userWith("mail", "mail@example.com", nil, true)
	h.get("f", "")
	h.identifyEmail("", "mail").want(t, ComponentAccessDenied, "error_message", MsgNoMailer)
	var found bool
	for _, ev := range h.events {
		found = found || ev.Action == EventConfigurationError && ev.Message == MsgNoMailer && ev.Stage == "email"
	}
	if !found {
		t.Errorf("events %+v", h.events)
	}
}

// test_pending_fake_user: in a recovery flow, an unknown identifier's
// stand-in gets the same challenge and no email.
func TestEmailRecoveryUnknownUser(t *testing.T) {
	m := &testMailer{}
	h := emailFlow(t, "recovery", "", withMailer(m))
	h.get("f", "")
	h.identifyEmail("", "nobody").want(t, ComponentEmail)
	r := h.post("f", "", `{"component":"ak-stage-email"}`)
	if got := responseErrors(r); got != `{"non_field_errors":[{"code":"email-sent","string":"email-sent"}]}` {
		t.Errorf("response_errors %s", got)
	}
	if m.count() != 0 {
		t.Errorf("%d emails for an unknown user", m.count())
	}
}

// A mailer that fails: ak-stage-flow-error, and the next GET tries again
// (authentik's task retries).
func TestEmailSendError(t *testing.T) {
	m := &testMailer{fail: errors.New("connection refused")}
	h := emailFlow(t, "authentication", "", withMailer(m))
	h.userWith("mail", "mail@example.com", nil, true)
	h.get("f", "")
	// The client is not told: the message is sent in the background,
	// tried MailAttempts times, then given up with an event.
	h.identifyEmail("", "mail").want(t, ComponentEmail)
	if n := h.slept.Load(); n != MailAttempts-1 {
		t.Errorf("%d waits between %d tries", n, MailAttempts)
	}
	ev := h.lastEvent(t, EventSystemException)
	if want := fmt.Sprintf("The email to mail@example.com was not sent after %d tries: connection refused", MailAttempts); ev.Message != want || ev.User != "mail" || ev.Stage != "email" {
		t.Errorf("event %+v", ev)
	}
	m.fail = nil
	h.post("f", "", `{"component":"ak-stage-email"}`)
	if m.count() != 1 {
		t.Errorf("%d emails", m.count())
	}
	if ev := h.lastEvent(t, EventEmailSent); ev.Message != "Email to mail@example.com sent" {
		t.Errorf("event %+v", ev)
	}
}

// test_token: the link, opened in another browser, restores the plan:
// a consent first (so that a mail scanner does not use the link), then
// the email stage passes, activating the user; the token is then used.
func TestEmailLink(t *testing.T) {
	m := &testMailer{}
	h := emailFlow(t, "authentication", "activate_user_on_success: true", withMailer(m))
	u := h.userWith("mail", "mail@example.com", nil, true)
	h.get("f", "")
	h.identifyEmail("", "mail").want(t, ComponentEmail)
	_, key := mailLink(t, m.last(t))
	u.IsActive = false
	if _, err := h.s.Directory().UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}

	first := h.client
	scanner, other := h.newClient(), h.newClient()
	q := "flow_token=" + key
	// A scanner opens the link: the consent, nothing used.
	r := h.do(scanner, "GET", h.url("f", q), "")
	r.want(t, ComponentConsent, "header_text", MsgConfirmEmail, "pending_user", "mail", "permissions", "[]")

	r = h.do(other, "GET", h.url("f", q), "")
	r.want(t, ComponentConsent, "header_text", MsgConfirmEmail)
	tok, _ := r.body["token"].(string)
	r = h.do(other, "POST", h.url("f", q), `{"component":"ak-stage-consent","token":"wrong"}`)
	if got := responseErrors(r); got != `{"token":[{"code":"invalid","string":"Invalid consent token, re-showing prompt"}]}` {
		t.Errorf("response_errors %s", got)
	}
	tok, _ = r.body["token"].(string)
	h.do(other, "POST", h.url("f", q), `{"component":"ak-stage-consent","token":"`+tok+`"}`).wantReload(t, h.url("f", q))
	// The email stage passes: the flow goes on in this browser.
	h.do(other, "GET", h.url("f", q), "").wantReload(t, h.url("f", q))
	h.do(other, "GET", h.url("f", q), "").want(t, ComponentDummy, "name", "after")
	if nu, _ := h.s.Directory().User(context.Background(), u.PK); !nu.IsActive {
		t.Error("activate_user_on_success did not activate the user")
	}
	h.client = other
	if x := h.execution("f"); x == nil || x.Context[ContextIsRestored] == nil {
		t.Errorf("execution %+v", x)
	}
	if _, err := h.rs.Load(context.Background(), FlowTokens, tokenHash(key)); !errors.Is(err, ErrNotFound) {
		t.Errorf("the token is kept: %v", err)
	}
	// The scanner's session: the link was used.
	h.do(scanner, "GET", h.url("f", q), "").want(t, ComponentAccessDenied, "error_message", MsgLinkUsed)
	// A new browser: the used link starts the flow over.
	h.do(h.newClient(), "GET", h.url("f", q), "").want(t, ComponentIdentification)
	// The first browser still waits at the email stage.
	h.do(first, "GET", h.url("f", ""), "").want(t, ComponentEmail)
}

// test_token_invalid_user: a token of another user than the pending one
// is stage_invalid.
func TestEmailLinkOtherUser(t *testing.T) {
	m := &testMailer{}
	h := emailFlow(t, "authentication", "", withMailer(m))
	h.userWith("mail", "mail@example.com", nil, true)
	other := h.userWith("other", "other@example.com", nil, true)
	h.get("f", "")
	h.identifyEmail("", "mail").want(t, ComponentEmail)
	_, key := mailLink(t, m.last(t))
	c := h.newClient()
	q := "flow_token=" + key
	r := h.do(c, "GET", h.url("f", q), "")
	r.want(t, ComponentConsent)
	h.client = c
	x := h.execution("f")
	x.Context[directory.ContextPendingUser] = directory.ContextUser(other)
	replaceExecution(t, h, "f", x)
	tok, _ := r.body["token"].(string)
	h.do(c, "POST", h.url("f", q), `{"component":"ak-stage-consent","token":"`+tok+`"}`).wantReload(t, h.url("f", q))
	h.do(c, "GET", h.url("f", q), "").want(t, ComponentAccessDenied, "error_message", MsgUnknownError)
}

// The link expires token_expiry plus a minute after it was sent; an
// expired link starts the flow over.
func TestEmailLinkExpires(t *testing.T) {
	m := &testMailer{}
	h := emailFlow(t, "authentication", "token_expiry: minutes=5", withMailer(m))
	h.userWith("mail", "mail@example.com", nil, true)
	h.get("f", "")
	h.identifyEmail("", "mail").want(t, ComponentEmail)
	_, key := mailLink(t, m.last(t))
	q := "flow_token=" + key
	h.advance(6*time.Minute - time.Second)
	h.do(h.newClient(), "GET", h.url("f", q), "").want(t, ComponentConsent)
	h.advance(time.Second)
	h.do(h.newClient(), "GET", h.url("f", q), "").want(t, ComponentIdentification)
	if _, err := h.rs.Load(context.Background(), FlowTokens, tokenHash(key)); !errors.Is(err, ErrNotFound) {
		t.Errorf("the expired token is kept: %v", err)
	}
}

// Executor.Suspend: a token with revoke_on_execution restores the
// execution once, in any session; a token of another flow restores
// nothing.
func TestFlowTokenSuspend(t *testing.T) {
	doc := flowDoc("f", "", dummy("f", "one", 1, ""), dummy("f", "two", 2, "")) +
		strings.TrimPrefix(flowDoc("g", "", dummy("g", "gone", 1, "")), "version: 1\nentries:\n")
	h := newHarness(t, doc)
	ctx := context.Background()
	h.get("f", "")
	h.post("f", "", `{"component":"ak-stage-dummy"}`).wantReload(t, h.url("f", ""))
	h.get("f", "").want(t, ComponentDummy, "name", "two")
	u, _ := url.Parse(h.srv.URL)
	var session string
	for _, c := range h.client.Jar.Cookies(u) {
		if c.Name == DefaultCookie {
			session = c.Value
		}
	}
	exp := time.Unix(0, h.clock.Load()).Add(time.Hour)
	if _, err := h.e.Suspend(ctx, "f", "no-such-session", FlowToken{Expires: exp}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Suspend of no execution: %v", err)
	}
	if _, err := h.e.Suspend(ctx, "f", session, FlowToken{Expires: time.Unix(0, h.clock.Load())}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Suspend with a past expiry: %v", err)
	}
	key, err := h.e.Suspend(ctx, "f", session, FlowToken{Identifier: "test", User: 7, Expires: exp, RevokeOnExecution: true})
	if err != nil {
		t.Fatal(err)
	}
	// Another flow's URL: the token is revoked, its plan not restored.
	key2, err := h.e.Suspend(ctx, "f", session, FlowToken{Identifier: "test2", Expires: exp, RevokeOnExecution: true})
	if err != nil {
		t.Fatal(err)
	}
	c := h.newClient()
	h.do(c, "GET", h.url("g", "flow_token="+key2), "").want(t, ComponentDummy, "name", "gone")
	h.do(c, "GET", h.url("f", "flow_token="+key2), "").want(t, ComponentDummy, "name", "one")

	c = h.newClient()
	h.do(c, "GET", h.url("f", "flow_token="+key), "").want(t, ComponentDummy, "name", "two")
	h.client = c
	x := h.execution("f")
	if got := inviteJSON(x.Context[ContextIsRestored]); got != `{"identifier":"test","token":"`+tokenHash(key)+`","user":7}` {
		t.Errorf("is_restored %s", got)
	}
	// Used: another browser starts over.
	h.do(h.newClient(), "GET", h.url("f", "flow_token="+key), "").want(t, ComponentDummy, "name", "one")
	// The restoring browser goes on.
	h.do(c, "POST", h.url("f", "flow_token="+key), `{"component":"ak-stage-dummy"}`).want(t, ComponentRedirect, "to", "/")
}

// authentik's default recovery flow with email verification (its
// example blueprint), over HTTP: identification by email, the email,
// the link opened in another browser, a new password, and the login.
func TestRecoveryFlow(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "blueprint", "testdata", "authentik", "example", "flows-recovery-email-verification.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := &testMailer{}
	h := newHarness(t, string(doc), withMailer(m), withExpression)
	const slug = "default-recovery-flow"
	old := "old password"
	u := h.userWith("forgetful", "forgetful@example.com", &old, true)

	r := h.get(slug, "")
	r.want(t, ComponentIdentification, "user_fields", "[email username]")
	r = h.post(slug, "", postJSON(map[string]any{"component": ComponentIdentification, "uid_field": "forgetful@example.com"}))
	if r.status == 302 {
		r = h.finish(slug, "")
	}
	r.want(t, ComponentEmail)
	msg := m.last(t)
	if msg.To[0].Email != "forgetful@example.com" || msg.Settings != (MailSettings{UseGlobalSettings: true}) {
		t.Errorf("to %+v", msg.To)
	}
	l, key := mailLink(t, msg)
	if l != testBaseURL+"/if/flow/"+slug+"/?flow_token="+key {
		t.Errorf("link %s", l)
	}

	// The link, in another browser (the flow interface passes the page's
	// query to the executor).
	h.client = h.newClient()
	q := "flow_token=" + key
	r = h.get(slug, q)
	r.want(t, ComponentConsent, "header_text", MsgConfirmEmail, "pending_user", "forgetful")
	tok, _ := r.body["token"].(string)
	h.post(slug, q, `{"component":"ak-stage-consent","token":"`+tok+`"}`).wantReload(t, h.url(slug, q))
	r = h.finish(slug, q)
	r.want(t, ComponentPrompt)
	if fs := fieldsOf(t, r); fs["password"] == nil || fs["password_repeat"] == nil {
		t.Fatalf("prompt %s", r.raw)
	}
	h.post(slug, q, `{"component":"ak-stage-prompt","password":"new password","password_repeat":"new password"}`).wantReload(t, h.url(slug, q))
	r = h.finish(slug, q)
	r.want(t, ComponentRedirect, "to", "/")
	ctx := context.Background()
	if ok, _ := h.s.CheckPassword(ctx, u.PK, "new password"); !ok {
		t.Error("the new password does not check")
	}
	if ok, _ := h.s.CheckPassword(ctx, u.PK, old); ok {
		t.Error("the old password still checks")
	}
	var login bool
	for _, ev := range h.events {
		login = login || ev.Action == EventLogin && ev.User == "forgetful"
		if strings.Contains(ev.Message, key) || strings.Contains(ev.Message, "new password") {
			t.Errorf("an event holds a secret: %+v", ev)
		}
	}
	if !login {
		t.Errorf("no login event: %+v", h.events)
	}
	// The link again, in a third browser: used, the flow starts over.
	h.client = h.newClient()
	h.get(slug, q).want(t, ComponentIdentification)
}

// The recovery through the Go API: the link's query given as Request.Query
// in another session.
func TestRecoveryFlowGoAPI(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "blueprint", "testdata", "authentik", "example", "flows-recovery-email-verification.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := &testMailer{}
	h := newHarness(t, string(doc), withMailer(m), withExpression)
	ctx := context.Background()
	const slug = "default-recovery-flow"
	h.userWith("forgetful", "forgetful@example.com", nil, true)
	step := func(resp Response, err error) Response {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	until := func(req Request) Response {
		t.Helper()
		for range 10 {
			if resp := step(h.e.Get(ctx, slug, req)); !resp.Reload {
				return resp
			}
		}
		t.Fatal("too many reloads")
		return Response{}
	}
	req := Request{Session: "first"}
	step(h.e.Get(ctx, slug, req))
	step(h.e.Submit(ctx, slug, req, []byte(`{"uid_field":"forgetful"}`)))
	if _, ok := until(req).Challenge.(*EmailChallenge); !ok {
		t.Fatal("no email challenge")
	}
	h.settle()
	_, key := mailLink(t, m.last(t))
	req = Request{Session: "second", Query: "flow_token=" + key}
	c, ok := step(h.e.Get(ctx, slug, req)).Challenge.(*ConsentChallenge)
	if !ok || c.HeaderText == nil || *c.HeaderText != MsgConfirmEmail {
		t.Fatalf("consent %#v", c)
	}
	step(h.e.Submit(ctx, slug, req, []byte(`{"token":"`+c.Token+`"}`)))
	if _, ok := until(req).Challenge.(*PromptChallenge); !ok {
		t.Fatal("no password prompt")
	}
	step(h.e.Submit(ctx, slug, req, []byte(`{"password":"new one","password_repeat":"new one"}`)))
	resp := step(h.e.Get(ctx, slug, req)) // user_write
	for resp.Reload && resp.Login == nil {
		resp = step(h.e.Get(ctx, slug, req))
	}
	if resp.Login == nil || resp.Login.Username != "forgetful" {
		t.Fatalf("no login %+v", resp)
	}
	req.Session = resp.Login.Session
	if resp.Reload {
		resp = until(req)
	}
	if _, ok := resp.Challenge.(*Redirect); !ok {
		t.Fatalf("the flow did not end: %#v", resp.Challenge)
	}
	nu, _ := userNamed(t, h.s, "forgetful")
	if ok, _ := h.s.CheckPassword(ctx, nu.PK, "new one"); !ok {
		t.Error("the new password does not check")
	}
}

// Hostile consent responses get DRF's answers, a body that is not JSON
// an error; none passes.
func TestEmailConsentBodies(t *testing.T) {
	m := &testMailer{}
	h := emailFlow(t, "authentication", "", withMailer(m))
	h.userWith("mail", "mail@example.com", nil, true)
	h.get("f", "")
	h.identifyEmail("", "mail").want(t, ComponentEmail)
	_, key := mailLink(t, m.last(t))
	ctx := context.Background()
	req := Request{Session: "hostile", Query: "flow_token=" + key}
	if _, err := h.e.Get(ctx, "f", req); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{`{}`, `[]`, `"x"`, `{"token":5}`, `{"token":null}`, `{"token":""}`, `{"token":{"a":1}}`, `{` + strings.Repeat(`"k":1,`, 5000) + `"token":"x"}`, `not json`} {
		resp, err := h.e.Submit(ctx, "f", req, []byte(body))
		checkAnswer(t, []byte(body), resp, err)
		if resp.Reload {
			t.Errorf("%.40s passed the consent", body)
		}
		if c, ok := resp.Challenge.(*ConsentChallenge); err == nil && (!ok || len(c.ResponseErrors) == 0) {
			t.Errorf("%.40s: %#v", body, resp.Challenge)
		}
	}
}

// On the store's own run state, the email's link outlives the
// executor that sent it (a restart), and works in another session.
func TestEmailLinkStoreRunState(t *testing.T) {
	m := &testMailer{}
	h := emailFlow(t, "authentication", "", withMailer(m))
	h.userWith("mail", "mail@example.com", nil, true)
	ctx := context.Background()
	mk := func() *Executor {
		e, err := New(h.s, Options{RunState: NewStoreRunState(h.s, KVOptions{}), Mailer: m, BaseURL: testBaseURL, Passwords: testPasswords,
			Sleep: func(context.Context, time.Duration) {}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := mk()
	req := Request{Session: "first"}
	if _, err := e.Get(ctx, "f", req); err != nil {
		t.Fatal(err)
	}
	resp, err := e.Submit(ctx, "f", req, []byte(`{"uid_field":"mail"}`))
	for err == nil && resp.Reload {
		resp, err = e.Get(ctx, "f", req)
	}
	if _, ok := resp.Challenge.(*EmailChallenge); err != nil || !ok {
		t.Fatalf("%#v %v", resp.Challenge, err)
	}
	e.Close()
	_, key := mailLink(t, m.last(t))
	e = mk()
	defer e.Close()
	resp, err = e.Get(ctx, "f", Request{Session: "second", Query: "flow_token=" + key})
	if c, ok := resp.Challenge.(*ConsentChallenge); err != nil || !ok || c.PendingUser != "mail" {
		t.Fatalf("%#v %v", resp.Challenge, err)
	}
}
