package executor

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
)

// withoutZxcvbn evaluates password policies with their static rules
// only: the zxcvbn check needs a host's evaluator, which the tests stand
// in for as passing.
func withoutZxcvbn(o *Options) {
	inner := o.Plan.Evaluators[policy.ModelPassword]
	o.Plan.Evaluators[policy.ModelPassword] = plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		c := p.Config.(policy.Password)
		c.CheckZxcvbn = false
		p.Config = c
		return inner.Evaluate(ctx, p, req)
	})
}

// driver runs flows for one client, over HTTP or through the Go API.
type driver interface {
	// step GETs slug (body "") or POSTs body, following reloads, and
	// returns the challenge as JSON.
	step(slug, body string) map[string]any
	// execute plans slug for the client's user, as the execute endpoint.
	execute(slug string)
}

// httpDriver is a browser: a cookie jar on the harness's server; query
// is the page's query (a link's flow_token).
type httpDriver struct {
	h     *harness
	c     *http.Client
	query string
}

func (d *httpDriver) step(slug, body string) map[string]any {
	d.h.t.Helper()
	method := "POST"
	if body == "" {
		method = "GET"
	}
	for range 10 {
		r := d.h.do(d.c, method, d.h.url(slug, d.query), body)
		if r.status == http.StatusOK {
			return r.body
		}
		if r.status != http.StatusFound {
			d.h.t.Fatalf("%s %s: %d %s", method, slug, r.status, r.raw)
		}
		method, body = "GET", ""
	}
	d.h.t.Fatalf("%s: too many reloads", slug)
	return nil
}

func (d *httpDriver) execute(slug string) {
	d.h.t.Helper()
	req := httptest.NewRequest("GET", "/api/v3/flows/instances/"+slug+"/execute/", nil)
	u, _ := url.Parse(d.h.srv.URL)
	for _, c := range d.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	d.h.e.ExecuteHandler(HTTPOptions{}, slug).ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		d.h.t.Fatalf("execute %s: %d %s", slug, rec.Code, rec.Body)
	}
}

// apiDriver is a host on the Go API: it keeps the session id and user,
// changing them at a login or logout as Response says; query is the
// page's query (a link's flow_token).
type apiDriver struct {
	h       *harness
	session string
	user    plan.User
	query   string
	// mfa is the remembered-MFA cookie the executor asked to keep.
	mfa string
}

// req is the driver's request, without an HTTP request: the executor
// gives policies its own stand-in, so the shipped user settings policy,
// which reads request.http_request.tenant, still runs.
func (d *apiDriver) req() Request {
	return Request{Session: d.session, User: d.user, Query: d.query, MFA: d.mfa}
}

func (d *apiDriver) step(slug, body string) map[string]any {
	d.h.t.Helper()
	ctx := context.Background()
	var (
		resp Response
		err  error
	)
	if body == "" {
		resp, err = d.h.e.Get(ctx, slug, d.req())
	} else {
		resp, err = d.h.e.Submit(ctx, slug, d.req(), json.RawMessage(body))
	}
	for range 10 {
		if err != nil {
			d.h.t.Fatalf("%s: %v", slug, err)
		}
		if resp.MFA != nil {
			d.mfa = resp.MFA.Value
		}
		switch {
		case resp.Login != nil:
			d.session, d.user = resp.Login.Session, resp.Login.userPlan()
		case resp.Logout != nil:
			d.session, d.user = resp.Logout.Session, plan.User{}
		}
		if !resp.Reload {
			d.h.settle()
			b, err := json.Marshal(resp.Challenge)
			if err != nil {
				d.h.t.Fatal(err)
			}
			checkChallenge(d.h.t, b)
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			return m
		}
		resp, err = d.h.e.Get(ctx, slug, d.req())
	}
	d.h.t.Fatalf("%s: too many reloads", slug)
	return nil
}

func (d *apiDriver) execute(slug string) {
	d.h.t.Helper()
	if err := d.h.e.Execute(context.Background(), slug, d.req()); err != nil {
		d.h.t.Fatalf("execute %s: %v", slug, err)
	}
}

// logIn answers default-authentication-flow's identification with uid,
// which must show the password stage for pendingUser, and its password
// stage with pw; it returns the challenge that follows.
func logIn(t *testing.T, d driver, uid, pendingUser, pw string) map[string]any {
	t.Helper()
	const login = "default-authentication-flow"
	wantChallenge(t, d.step(login, ""), ComponentIdentification)
	wantChallenge(t, d.step(login, `{"component":"ak-stage-identification","uid_field":"`+uid+`"}`), ComponentPassword, "pending_user", pendingUser)
	return d.step(login, `{"component":"ak-stage-password","password":"`+pw+`"}`)
}

// overs are the two ways the end-to-end tests run a flow.
var overs = []string{"HTTP", "Go API"}

// newDriver is a new client of h, over HTTP (a new browser) or the Go
// API (a new session), on the page with the query q.
func newDriver(h *harness, over, q string) driver {
	if over == "HTTP" {
		return &httpDriver{h: h, c: h.newClient(), query: q}
	}
	return &apiDriver{h: h, session: newSessionID(), query: q}
}

// wantChallenge checks a challenge's component and JSON fields.
func wantChallenge(t *testing.T, ch map[string]any, component string, kv ...string) {
	t.Helper()
	if ch["component"] != component {
		t.Fatalf("component %v, want %s: %v", ch["component"], component, ch)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		b, _ := json.Marshal(ch[kv[i]])
		if got := strings.Trim(string(b), `"`); got != kv[i+1] {
			t.Errorf("%s = %s, want %s", kv[i], b, kv[i+1])
		}
	}
}

// The shipped account flows end to end, over HTTP and through the Go
// API, with the shipped blueprints: log in (default-authentication-flow,
// its MFA stage stood in as authentik's for a user without devices),
// edit the user (default-user-settings-flow, started through execute as
// authentik's user interface does: a new name is written, a new email
// is refused with the tenant's defaults), change the password
// (default-password-change, its zxcvbn check stood in as passing: the
// old password then fails and the new one logs in), log out
// (default-invalidation-flow: the flows that need a user are denied).
func TestShippedAccountFlows(t *testing.T) {
	for _, over := range overs {
		t.Run(over, func(t *testing.T) {
			h := newHarness(t, "", withExpression, withoutZxcvbn)
			loadDefaults(t, h, false)
			loadShipped(t, h, "flow-default-user-settings-flow.yaml")
			alice := h.userWith("alice", "alice@example.com", ptr("old password 1"), true)
			client := func() driver { return newDriver(h, over, "") }
			logIn := func(d driver, pw string) map[string]any { t.Helper(); return logIn(t, d, "alice", "alice", pw) }
			d := client()
			wantChallenge(t, logIn(d, "old password 1"), ComponentRedirect, "to", "/")

			// User settings, planned without execute: authentik's too
			// takes the user's own username for another's then.
			const settings = "default-user-settings-flow"
			ch := d.step(settings, "")
			wantChallenge(t, ch, ComponentPrompt)
			edit := func(name, email string) string {
				return `{"component":"ak-stage-prompt","username":"alice","name":"` + name + `","email":"` + email + `","attributes.settings.locale":""}`
			}
			wantChallenge(t, d.step(settings, edit("Alice A.", "alice@example.com")), ComponentPrompt,
				"response_errors", `{"username":[{"code":"invalid","string":"Username is already taken."}]}`)
			d.execute(settings)
			ch = d.step(settings, "")
			var initial []string
			for _, f := range ch["fields"].([]any) {
				f := f.(map[string]any)
				initial = append(initial, f["field_key"].(string)+"="+f["initial_value"].(string))
			}
			if got := strings.Join(initial, " "); got != "username=alice name= email=alice@example.com attributes.settings.locale=" {
				t.Errorf("initial values: %s", got)
			}
			wantChallenge(t, d.step(settings, edit("Alice A.", "mallory@example.com")), ComponentPrompt,
				"response_errors", `{"non_field_errors":[{"code":"invalid","string":"Not allowed to change email address."}]}`)
			wantChallenge(t, d.step(settings, edit("Alice A.", "alice@example.com")), ComponentRedirect, "to", "/")
			if u, err := h.s.Directory().User(context.Background(), alice.PK); err != nil || u.Name != "Alice A." || u.Email != "alice@example.com" {
				t.Errorf("alice after user settings: %+v %v", u, err)
			}

			// Password change: the policy's static rules, then the new
			// password.
			const change = "default-password-change"
			wantChallenge(t, d.step(change, ""), ComponentPrompt)
			wantChallenge(t, d.step(change, `{"component":"ak-stage-prompt","password":"short","password_repeat":"short"}`), ComponentPrompt,
				"response_errors", `{"non_field_errors":[{"code":"invalid","string":"Password needs to be 8 characters or longer."}]}`)
			wantChallenge(t, d.step(change, `{"component":"ak-stage-prompt","password":"new password 2","password_repeat":"new password 2"}`), ComponentRedirect, "to", "/")
			old := client()
			wantChallenge(t, logIn(old, "old password 1"), ComponentPassword,
				"response_errors", `{"password":[{"code":"invalid","string":"Invalid password"}]}`)
			wantChallenge(t, logIn(client(), "new password 2"), ComponentRedirect, "to", "/")

			// Logout: the flows that need a user no longer apply.
			wantChallenge(t, d.step("default-invalidation-flow", ""), ComponentRedirect, "to", "/")
			for _, slug := range []string{settings, change} {
				wantChallenge(t, d.step(slug, ""), ComponentAccessDenied, "error_message", MsgNotApplicable)
			}
		})
	}
}

// loadShipped loads one of authentik's default blueprints into h's store.
func loadShipped(t *testing.T, h *harness, name string) {
	t.Helper()
	loadTestdata(t, h, "default", name)
}

// loadExample loads one of authentik's example blueprints into h's store.
func loadExample(t *testing.T, h *harness, name string) {
	t.Helper()
	loadTestdata(t, h, "example", name)
}

// loadTestdata loads the blueprint dir/name of authentik's, as the
// blueprint package's test data holds them, into h's store.
func loadTestdata(t *testing.T, h *harness, dir, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "blueprint", "testdata", "authentik", dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := blueprint.Load(context.Background(), h.s, strings.NewReader(string(b)), blueprint.Options{}); err != nil || !res.Success {
		t.Fatalf("%s: %v %+v", name, err, res.Logs)
	}
}

// initial-setup through the Go API and over HTTP, on authentik's
// bootstrap blueprint (akadmin without a usable password) and the
// shipped flows, the policies' writes applied by plan.ApplyUpdates: the
// prompt's password is written onto akadmin, who is logged in; the flow
// is then used up (its authentication is require_superuser, and
// akadmin's password is usable), and akadmin logs in through
// default-authentication-flow with that password (its MFA stage stood
// in as authentik's for a user without devices).
func TestInitialSetupFlow(t *testing.T) {
	for _, over := range overs {
		t.Run(over, func(t *testing.T) {
			h := newHarness(t, "", withExpression,
				func(o *Options) { o.ApplyUpdates = nil })
			ctx := context.Background()
			if res, err := blueprint.Load(ctx, h.s, strings.NewReader(string(blueprint.Bootstrap())), blueprint.Options{EnvPrefixes: []string{"AUTHENTIK_BOOTSTRAP_"}}); err != nil || !res.Success {
				t.Fatalf("bootstrap: %v %+v", err, res.Logs)
			}
			loadDefaults(t, h, false)
			loadShipped(t, h, "flow-oobe.yaml")
			client := func() driver { return newDriver(h, over, "") }
			const setup = "initial-setup"
			d := client()
			ch := d.step(setup, "")
			wantChallenge(t, ch, ComponentPrompt)
			var keys []string
			for _, f := range ch["fields"].([]any) {
				keys = append(keys, f.(map[string]any)["field_key"].(string))
			}
			if got := strings.Join(keys, " "); got != "oobe-header-text email password password_repeat" {
				t.Errorf("fields: %s", got)
			}
			wantChallenge(t, d.step(setup, `{"component":"ak-stage-prompt","email":"root@example.org","password":"admin Passw0rd","password_repeat":"admin Passw0rd"}`),
				ComponentRedirect, "to", "/")
			// The client is akadmin's: the Go API's host was told
			// (Response.Login), HTTPHandler keeps the session itself.
			admin, err := h.s.Directory().FindUser(ctx, directory.Find{Identifier: "akadmin", Fields: []directory.Field{directory.FieldUsername}})
			if err != nil || admin.Email != "root@example.org" {
				t.Fatalf("akadmin after initial-setup: %+v %v", admin, err)
			}
			switch d := d.(type) {
			case *apiDriver:
				if d.user.PK != admin.PK || !d.user.Authenticated {
					t.Errorf("the host's user after initial-setup: %+v", d.user)
				}
			case *httpDriver:
				u, _ := url.Parse(h.srv.URL)
				var sid string
				for _, c := range d.c.Jar.Cookies(u) {
					sid = c.Value
				}
				if u, ok, _ := h.e.SessionStore().User(ctx, sid); !ok || u.PK != admin.PK {
					t.Errorf("the session after initial-setup: %+v %v", u, ok)
				}
			}
			var authn string
			_ = h.s.View(ctx, func(tx *store.Tx) error {
				f, err := store.Flows.Get(tx, store.By("slug", setup))
				authn = string(f.Authentication)
				return err
			})
			if authn != "require_superuser" {
				t.Errorf("initial-setup's authentication after the run: %q", authn)
			}
			wantChallenge(t, client().step(setup, ""), ComponentAccessDenied, "error_message", MsgNotApplicable)
			wantChallenge(t, d.step(setup, ""), ComponentAccessDenied, "error_message", MsgNotApplicable)

			wantChallenge(t, logIn(t, client(), "root@example.org", "akadmin", "admin Passw0rd"), ComponentRedirect, "to", "/")
		})
	}
}

// authentik's example unenrollment flow (default-unenrollment-flow,
// require_authenticated, one user_delete stage) end to end, over HTTP
// and through the Go API: an anonymous client is denied; a logged-in
// one deletes its account, is logged out (a logout event; the flow is
// then denied to it), and the user can no longer log in.
func TestUnenrollmentFlow(t *testing.T) {
	for _, over := range overs {
		t.Run(over, func(t *testing.T) {
			h := newHarness(t, "", withExpression, withoutZxcvbn)
			loadDefaults(t, h, false)
			loadExample(t, h, "flows-unenrollment.yaml")
			alice := h.userWith("alice", "alice@example.com", ptr("secret pw"), true)
			h.userWith("bob", "bob@example.com", ptr("bob pw"), true)
			const unenroll = "default-unenrollment-flow"
			wantChallenge(t, newDriver(h, over, "").step(unenroll, ""), ComponentAccessDenied, "error_message", MsgNotApplicable)

			d := newDriver(h, over, "")
			wantChallenge(t, logIn(t, d, "alice", "alice", "secret pw"), ComponentRedirect, "to", "/")
			h.mu.Lock()
			h.events = nil
			h.mu.Unlock()
			ch := d.step(unenroll, "")
			wantChallenge(t, ch, ComponentRedirect, "to", "/")
			ctx := context.Background()
			if _, err := h.s.Directory().User(ctx, alice.PK); !errors.Is(err, directory.ErrNotFound) {
				t.Fatalf("alice after unenrollment: %v", err)
			}
			if _, err := h.s.Directory().FindUser(ctx, directory.Find{Identifier: "bob", Fields: []directory.Field{directory.FieldUsername}}); err != nil {
				t.Errorf("bob after alice's unenrollment: %v", err)
			}
			if got := eventsOf(h, EventLogout); len(got) != 1 || !strings.HasPrefix(got[0], EventLogout+":") {
				t.Errorf("events %v", got)
			}
			if a, ok := d.(*apiDriver); ok && (a.user.PK != 0 || a.user.Authenticated) {
				t.Errorf("the host's user after unenrollment: %+v", a.user)
			}
			wantChallenge(t, d.step(unenroll, ""), ComponentAccessDenied, "error_message", MsgNotApplicable)
			wantChallenge(t, logIn(t, newDriver(h, over, ""), "alice", "alice", "secret pw"), ComponentPassword,
				"response_errors", `{"password":[{"code":"invalid","string":"Invalid password"}]}`)
		})
	}
}

// authentik's example enrollment with email verification
// (default-enrollment-flow) end to end, over HTTP and through the Go
// API: the user is written inactive, and the account confirmation link,
// opened by another client, activates it and logs it in.
func TestEnrollmentEmailVerification(t *testing.T) {
	for _, over := range overs {
		t.Run(over, func(t *testing.T) {
			m := &testMailer{}
			h := newHarness(t, "", withMailer(m))
			loadExample(t, h, "flows-enrollment-email-verification.yaml")
			const slug = "default-enrollment-flow"
			d := newDriver(h, over, "")
			wantChallenge(t, d.step(slug, ""), ComponentPrompt)
			wantChallenge(t, d.step(slug, `{"component":"ak-stage-prompt","username":"verify","password":"pw one","password_repeat":"pw one"}`), ComponentPrompt)
			wantChallenge(t, d.step(slug, `{"component":"ak-stage-prompt","name":"Ver Ify","email":"verify@example.com"}`), ComponentEmail)
			nu, ok := userNamed(t, h.s, "verify")
			if !ok || nu.IsActive {
				t.Fatalf("user %+v (%v), want written inactive", nu, ok)
			}
			msg := m.last(t)
			if msg.To[0] != (Address{Name: "Ver Ify", Email: "verify@example.com"}) || !strings.Contains(msg.Text, "confirm your account") {
				t.Errorf("message %+v", msg)
			}
			_, key := mailLink(t, msg)
			link := newDriver(h, over, "flow_token="+key)
			ch := link.step(slug, "")
			wantChallenge(t, ch, ComponentConsent, "pending_user", "verify")
			wantChallenge(t, link.step(slug, `{"component":"ak-stage-consent","token":"`+ch["token"].(string)+`"}`), ComponentRedirect, "to", "/")
			if nu, _ := userNamed(t, h.s, "verify"); !nu.IsActive {
				t.Error("the link did not activate the user")
			}
			if got := eventsOf(h, EventLogin); len(got) != 1 {
				t.Errorf("login events %v", got)
			}
			if a, ok := link.(*apiDriver); ok && a.user.PK != nu.PK {
				t.Errorf("the host's user after the link: %+v", a.user)
			}
		})
	}
}
