package executor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/plan"
)

// authentik's example enrollment flow (default-enrollment-flow, two
// prompt stages, user_write, user_login), over HTTP as authentik's web
// client drives it. user_login is not run by authflow yet: the flow
// ends at it, denied, after the user is written.
func TestEnrollmentFlow(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "blueprint", "testdata", "authentik", "example", "flows-enrollment-2-stage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, string(doc))
	const slug = "default-enrollment-flow"
	u := h.url(slug, "next=%2Fapp%2F")
	r := h.get(slug, "next=%2Fapp%2F")
	r.want(t, ComponentPrompt)
	if fi, _ := r.body["flow_info"].(map[string]any); fi["title"] != "Welcome to authentik!" {
		t.Errorf("flow_info %v", fi)
	}
	fs := fieldsOf(t, r)
	if len(fs) != 3 || fs["username"]["type"] != "username" || fs["password"]["placeholder"] != "Password" || fs["password_repeat"]["order"] != 1.0 {
		t.Fatalf("fields %s", r.raw)
	}
	addUser(t, h.s, "taken")
	post := func(body string) reply { return h.do(h.client, "POST", u, body) }
	r = post(`{"component":"ak-stage-prompt","username":"taken","password":"pw one","password_repeat":"pw two"}`)
	if got := responseErrors(r); got != `{"username":[{"code":"invalid","string":"Username is already taken."}]}` {
		t.Errorf("response_errors %s", got)
	}
	r = post(`{"component":"ak-stage-prompt","username":"newbie","password":"pw one","password_repeat":"pw two"}`)
	if got := responseErrors(r); got != `{"non_field_errors":[{"code":"invalid","string":"Passwords don't match."}]}` {
		t.Errorf("response_errors %s", got)
	}
	post(`{"component":"ak-stage-prompt","username":"newbie","password":"pw one","password_repeat":"pw one"}`).wantReload(t, u)

	r = h.do(h.client, "GET", u, "")
	r.want(t, ComponentPrompt)
	if fs := fieldsOf(t, r); len(fs) != 2 || fs["name"] == nil || fs["email"] == nil {
		t.Fatalf("second prompt %s", r.raw)
	}
	r = post(`{"component":"ak-stage-prompt","name":"New Bie","email":"not-an-address"}`)
	if got := responseErrors(r); got != `{"email":[{"code":"invalid","string":"Enter a valid email address."}]}` {
		t.Errorf("response_errors %s", got)
	}
	post(`{"component":"ak-stage-prompt","name":"New Bie","email":"newbie@example.com"}`).wantReload(t, u)

	// user_write passes without a challenge.
	h.do(h.client, "GET", u, "").wantReload(t, u)
	nu, ok := userNamed(t, h.s, "newbie")
	if !ok {
		t.Fatal("the user was not written")
	}
	if nu.Name != "New Bie" || nu.Email != "newbie@example.com" || !nu.IsActive || nu.Type != directory.UserTypeExternal || len(nu.Attributes) != 0 {
		t.Errorf("user %+v", nu)
	}
	if ok, err := h.s.CheckPassword(context.Background(), nu.PK, "pw one"); !ok || err != nil {
		t.Errorf("password %v %v", ok, err)
	}
	x := h.execution(slug)
	if pk, _ := directory.ContextUserPK(x.Context[directory.ContextPendingUser]); pk != nu.PK {
		t.Errorf("pending_user %v", x.Context[directory.ContextPendingUser])
	}
	h.mu.Lock()
	for _, ev := range h.events {
		if strings.Contains(ev.Message, "pw one") {
			t.Errorf("an event holds the password: %+v", ev)
		}
	}
	h.mu.Unlock()
	// user_login logs the new user in, and the flow ends at next.
	h.do(h.client, "GET", u, "").want(t, ComponentRedirect, "to", "/app/")
	h.mu.Lock()
	var login bool
	for _, ev := range h.events {
		login = login || ev.Action == "login" && ev.User == nu.Username
	}
	h.mu.Unlock()
	if !login {
		t.Error("no login event for the new user")
	}
}

// Without plan options, New's cache evaluates expression policies.
func TestNewEvaluatesExpressions(t *testing.T) {
	doc := flowDoc("f", "") + expressionPolicy("deny-all", "ak_message('expressions ran')\nreturn False") +
		"- model: authentik_policies.policybinding\n  identifiers: {target: !KeyOf f, policy: !KeyOf deny-all, order: 0}\n"
	h := newHarness(t, doc)
	e, err := New(h.s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	resp, err := e.Get(context.Background(), "f", Request{Session: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := resp.Challenge.(*AccessDenied); !ok || d.ErrorMessage != "expressions ran" {
		t.Fatalf("%#v", resp.Challenge)
	}
}

// The same enrollment through the Go API.
func TestEnrollmentFlowGoAPI(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "blueprint", "testdata", "authentik", "example", "flows-enrollment-2-stage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, string(doc))
	ctx := context.Background()
	const slug = "default-enrollment-flow"
	req := Request{Session: "go-api"}
	step := func(resp Response, err error) Response {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if c, ok := step(h.e.Get(ctx, slug, req)).Challenge.(*PromptChallenge); !ok || len(c.Fields) != 3 {
		t.Fatalf("first challenge %#v", c)
	}
	if !step(h.e.Submit(ctx, slug, req, []byte(`{"username":"api","password":"p","password_repeat":"p"}`))).Reload {
		t.Fatal("the first prompt did not pass")
	}
	if c, ok := step(h.e.Get(ctx, slug, req)).Challenge.(*PromptChallenge); !ok || len(c.Fields) != 2 {
		t.Fatalf("second challenge %#v", c)
	}
	if !step(h.e.Submit(ctx, slug, req, []byte(`{"name":"A P I","email":"api@example.com"}`))).Reload {
		t.Fatal("the second prompt did not pass")
	}
	if !step(h.e.Get(ctx, slug, req)).Reload {
		t.Fatal("user_write did not pass")
	}
	if u, ok := userNamed(t, h.s, "api"); !ok || u.Name != "A P I" {
		t.Fatalf("user %+v", u)
	}
	// user_login logs the new user in under a new session id, and the
	// flow continues under it.
	resp := step(h.e.Get(ctx, slug, req))
	if resp.Login == nil || resp.Login.Username != "api" || resp.Login.Session == req.Session {
		t.Fatalf("user_login %+v", resp)
	}
	req.Session, req.User = resp.Login.Session, plan.User{PK: resp.Login.User, Authenticated: true}
	for resp.Reload {
		resp = step(h.e.Get(ctx, slug, req))
	}
	if _, ok := resp.Challenge.(*Redirect); !ok {
		t.Fatalf("end %#v", resp.Challenge)
	}
}
