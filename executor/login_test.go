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
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
)

// userWith creates a user with a password (nil: unusable).
func (h *harness) userWith(name, email string, pass *string, active bool) directory.User {
	h.t.Helper()
	ctx := context.Background()
	u := directory.DefaultUser()
	u.Username, u.Email, u.IsActive = name, email, active
	d := h.s.Directory()
	u, err := d.CreateUser(ctx, u)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := d.SetPassword(ctx, u.PK, pass); err != nil {
		h.t.Fatal(err)
	}
	return u
}

func ptr[T any](v T) *T { return &v }

// withExpression adds package expression's evaluator to the planner's.
func withExpression(o *Options) {
	o.Plan.Evaluators[policy.ModelExpression] = expression.Evaluator(nil)
}

// withHandler replaces the handler of a stage kind.
func withHandler(m stage.ModelName, hd Handler) harnessOpt {
	return func(o *Options) {
		if o.Handlers == nil {
			o.Handlers = Builtin()
		}
		o.Handlers[m] = hd
	}
}

// withCaptcha configures a captcha verifier.
func withCaptcha(v CaptchaVerifier) harnessOpt { return func(o *Options) { o.Captcha = v } }

// fakeCaptcha passes the token "PASSED" and refuses others with
// authentik's message.
type fakeCaptcha struct{ calls atomic.Int64 }

func (f *fakeCaptcha) VerifyCaptcha(_ context.Context, _ stage.Captcha, token, _ string) (map[string]any, error) {
	f.calls.Add(1)
	if token == "PASSED" {
		return map[string]any{"success": true, "score": 0.5}, nil
	}
	return nil, &validate.Error{NonField: []string{"Invalid captcha response"}}
}

const pwStage = "- model: authentik_stages_password.passwordstage\n  id: pw\n  identifiers: {name: pw}\n  attrs: {backends: [authentik.core.auth.InbuiltBackend]}\n"

// identFlow is flow f with an identification stage (as authentik's
// tests set it up: email only, pretend_user_exists off) with attrs.
func identFlow(designation, attrs string, extra ...string) string {
	doc := "version: 1\nentries:\n- model: authentik_flows.flow\n  id: f\n  identifiers: {slug: f}\n  attrs: {name: f, title: Welcome, designation: " + designation + "}\n" + pwStage +
		"- model: authentik_flows.flow\n  id: other\n  identifiers: {slug: other}\n  attrs: {name: other, title: other, designation: enrollment}\n" +
		strings.Join(extra, "") +
		stageEntry("authentik_stages_identification.identificationstage", "f", "ident", 0, "user_fields: [email], pretend_user_exists: false"+attrs, "")
	return doc
}

func postJSON(v map[string]any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// finish follows reloads of slug until a challenge.
func (h *harness) finish(slug, q string) reply {
	h.t.Helper()
	for range 10 {
		r := h.get(slug, q)
		if r.status != http.StatusFound {
			return r
		}
	}
	h.t.Fatal("too many reloads")
	return reply{}
}

// authentik's stages/identification/tests.py.
func TestIdentification(t *testing.T) {
	const secret = "s3cret-Pa55"
	newH := func(t *testing.T, attrs string, opts ...harnessOpt) *harness {
		h := newHarness(t, identFlow("authentication", attrs), opts...)
		h.userWith("akadmin", "admin@example.com", ptr(secret), true)
		return h
	}
	failed := map[string]any{"non_field_errors": []any{map[string]any{"code": "invalid", "string": MsgFailedToAuthenticate}}}
	wantErrors := func(t *testing.T, r reply, want map[string]any) {
		t.Helper()
		got, _ := json.Marshal(r.body["response_errors"])
		w, _ := json.Marshal(want)
		if string(got) != string(w) {
			t.Errorf("response_errors %s, want %s", got, w)
		}
	}
	t.Run("valid render", func(t *testing.T) {
		h := newH(t, "")
		r := h.get("f", "")
		r.want(t, ComponentIdentification, "user_fields", "[email]", "password_fields", false, "primary_action", "Log in",
			"flow_designation", "authentication", "show_source_labels", false, "sources", "[]", "captcha_stage", "<nil>",
			"allow_show_password", false, "enable_remember_me", false)
		for _, k := range []string{"enroll_url", "recovery_url", "passwordless_url", "application_pre"} {
			if _, ok := r.body[k]; ok {
				t.Errorf("%s present: %s", k, r.raw)
			}
		}
	})
	t.Run("valid with email", func(t *testing.T) {
		h := newH(t, "")
		h.get("f", "")
		h.post("f", "", postJSON(map[string]any{"uid_field": "admin@example.com"})).want(t, ComponentRedirect, "to", "/")
	})
	t.Run("case-insensitive match", func(t *testing.T) {
		h := newH(t, "")
		h.get("f", "")
		h.post("f", "", postJSON(map[string]any{"uid_field": "ADMIN@Example.com"})).want(t, ComponentRedirect, "to", "/")
	})
	t.Run("case-sensitive", func(t *testing.T) {
		h := newH(t, ", case_insensitive_matching: false")
		h.get("f", "")
		r := h.post("f", "", postJSON(map[string]any{"uid_field": "ADMIN@Example.com"}))
		r.want(t, ComponentIdentification)
		wantErrors(t, r, failed)
	})
	t.Run("valid with password", func(t *testing.T) {
		h := newH(t, ", password_stage: !KeyOf pw")
		h.get("f", "").want(t, ComponentIdentification, "password_fields", true)
		h.post("f", "", postJSON(map[string]any{"uid_field": "admin@example.com", "password": secret})).want(t, ComponentRedirect, "to", "/")
	})
	t.Run("invalid with password", func(t *testing.T) {
		h := newH(t, ", password_stage: !KeyOf pw")
		h.get("f", "")
		r := h.post("f", "", postJSON(map[string]any{"uid_field": "admin@example.com", "password": secret + "test"}))
		r.want(t, ComponentIdentification, "password_fields", true, "primary_action", "Log in", "sources", "[]")
		wantErrors(t, r, failed)
		if len(h.events) != 1 || h.events[0].Action != EventLoginFailed || h.events[0].User != "akadmin" {
			t.Errorf("events %+v", h.events)
		}
	})
	t.Run("invalid with password pretend", func(t *testing.T) {
		h := newH(t, ", password_stage: !KeyOf pw, pretend_user_exists: true")
		h.get("f", "")
		r := h.post("f", "", postJSON(map[string]any{"uid_field": "admin@example.comtest", "password": secret + "test"}))
		r.want(t, ComponentIdentification, "password_fields", true)
		wantErrors(t, r, failed)
		// The password check stands for authentik's wait.
		if h.slept.Load() != 0 {
			t.Errorf("waited %d times on an unknown identifier, want 0", h.slept.Load())
		}
	})
	t.Run("valid with captcha", func(t *testing.T) {
		fc := &fakeCaptcha{}
		h := newHarness(t, identFlow("authentication", ", captcha_stage: !KeyOf cap",
			"- model: authentik_stages_captcha.captchastage\n  id: cap\n  identifiers: {name: cap}\n  attrs: {public_key: pub, private_key: priv}\n"), withCaptcha(fc))
		h.userWith("akadmin", "admin@example.com", ptr(secret), true)
		h.get("f", "").want(t, ComponentIdentification, "captcha_stage",
			"map[component:ak-stage-captcha interactive:false js_url:https://www.recaptcha.net/recaptcha/api.js pending_user: pending_user_avatar:"+DefaultAvatar+" site_key:pub]")
		h.post("f", "", postJSON(map[string]any{"uid_field": "admin@example.com", "captcha_token": "PASSED"})).want(t, ComponentRedirect, "to", "/")
	})
	t.Run("invalid with captcha", func(t *testing.T) {
		fc := &fakeCaptcha{}
		h := newHarness(t, identFlow("authentication", ", captcha_stage: !KeyOf cap",
			"- model: authentik_stages_captcha.captchastage\n  id: cap\n  identifiers: {name: cap}\n  attrs: {public_key: pub, private_key: priv}\n"), withCaptcha(fc))
		h.userWith("akadmin", "admin@example.com", ptr(secret), true)
		h.get("f", "")
		r := h.post("f", "", postJSON(map[string]any{"uid_field": "admin@example.com", "captcha_token": "FAILED"}))
		r.want(t, ComponentIdentification)
		wantErrors(t, r, map[string]any{"non_field_errors": []any{map[string]any{"code": "invalid", "string": "Invalid captcha response"}}})
		// An unknown identifier gets the same answer, after the same
		// check (authentik checks known identifiers only, which tells
		// them apart).
		r = h.post("f", "", postJSON(map[string]any{"uid_field": "nobody@example.com", "captcha_token": "FAILED"}))
		r.want(t, ComponentIdentification)
		wantErrors(t, r, map[string]any{"non_field_errors": []any{map[string]any{"code": "invalid", "string": "Invalid captcha response"}}})
		if fc.calls.Load() != 2 {
			t.Errorf("%d captcha checks, want 2", fc.calls.Load())
		}
	})
	t.Run("captcha without a verifier", func(t *testing.T) {
		h := newHarness(t, identFlow("authentication", ", captcha_stage: !KeyOf cap",
			"- model: authentik_stages_captcha.captchastage\n  id: cap\n  identifiers: {name: cap}\n  attrs: {public_key: pub, private_key: priv}\n"))
		h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoCaptchaVerifier)
		if len(h.events) != 1 || h.events[0].Action != EventConfigurationError {
			t.Errorf("events %+v", h.events)
		}
	})
	t.Run("invalid with username", func(t *testing.T) {
		h := newH(t, "")
		h.get("f", "")
		r := h.post("f", "", postJSON(map[string]any{"uid_field": "akadmin"}))
		r.want(t, ComponentIdentification)
		wantErrors(t, r, failed)
	})
	t.Run("invalid with username pretend", func(t *testing.T) {
		h := newH(t, ", pretend_user_exists: true")
		h.get("f", "")
		h.post("f", "", postJSON(map[string]any{"uid_field": "akadmin"})).want(t, ComponentRedirect, "to", "/")
		// authentik's wait on an unknown identifier.
		if h.slept.Load() != 1 {
			t.Errorf("waited %d times on an unknown identifier, want 1", h.slept.Load())
		}
	})
	t.Run("invalid no fields", func(t *testing.T) {
		h := newHarness(t, strings.Replace(identFlow("authentication", ""), "user_fields: [email]", "user_fields: [], sources: [7f7bb8a5-5e4b-4f0d-9d55-8a1c3f0b1e2a]", 1))
		h.userWith("akadmin", "admin@example.com", ptr(secret), true)
		h.get("f", "").want(t, ComponentIdentification, "user_fields", "[]")
		r := h.post("f", "", postJSON(map[string]any{"uid_field": "akadmin"}))
		r.want(t, ComponentIdentification)
		wantErrors(t, r, failed)
	})
	t.Run("uid_field required", func(t *testing.T) {
		h := newH(t, "")
		h.get("f", "")
		r := h.post("f", "", postJSON(map[string]any{"uid_field": "  "}))
		wantErrors(t, r, map[string]any{"uid_field": []any{map[string]any{"code": "blank", "string": "This field may not be blank."}}})
	})
	t.Run("enrollment, recovery and passwordless flows", func(t *testing.T) {
		h := newH(t, ", enrollment_flow: !KeyOf other, recovery_flow: !KeyOf other, passwordless_flow: !KeyOf other")
		h.get("f", "next=%2Fapp%2F").want(t, ComponentIdentification, "enroll_url", "/if/flow/other/?next=%2Fapp%2F",
			"recovery_url", "/if/flow/other/?next=%2Fapp%2F", "passwordless_url", "/if/flow/other/?next=%2Fapp%2F")
	})
	t.Run("recovery flow invalid user", func(t *testing.T) {
		h := newHarness(t, identFlow("recovery", ", pretend_user_exists: true"))
		h.get("f", "").want(t, ComponentIdentification, "primary_action", "Continue", "flow_designation", "recovery")
		h.post("f", "", postJSON(map[string]any{"uid_field": "someone"})).want(t, ComponentRedirect, "to", "/")
	})
	t.Run("pending_user_identifier", func(t *testing.T) {
		// show_matched_user off: later stages show what was typed.
		h := newHarness(t, identFlow("authentication", ", show_matched_user: false, password_stage: null",
			stageEntry("authentik_stages_password.passwordstage", "f", "pw2", 1, "backends: [authentik.core.auth.InbuiltBackend]", "")))
		h.userWith("akadmin", "admin@example.com", ptr(secret), true)
		h.get("f", "")
		h.post("f", "", postJSON(map[string]any{"uid_field": "ADMIN@example.com"})).wantReload(t, h.url("f", ""))
		h.get("f", "").want(t, ComponentPassword, "pending_user", "ADMIN@example.com")
	})
}

// authentik's stages/password/tests.py: a flow whose plan has the
// pending user (the "pending" policy makes user 1 it), then a password
// stage.
func TestPassword(t *testing.T) {
	const secret = "  spaces count  "
	newH := func(t *testing.T, pending bool, attrs string) *harness {
		extra := []string{stageEntry("authentik_stages_password.passwordstage", "f", "pw", 0, "backends: [authentik.core.auth.InbuiltBackend]"+attrs, "")}
		if pending {
			extra = append(extra, policyOn("f", "pending", true))
		}
		h := newHarness(t, flowDoc("f", "", extra...))
		h.userWith("one", "one@example.com", ptr(secret), true)
		return h
	}
	t.Run("without user", func(t *testing.T) {
		h := newH(t, false, "")
		h.get("f", "").want(t, ComponentPassword, "pending_user", "")
		h.post("f", "", postJSON(map[string]any{"password": secret})).want(t, ComponentAccessDenied, "error_message", MsgUnknownError)
	})
	t.Run("valid password", func(t *testing.T) {
		h := newH(t, true, ", allow_show_password: true")
		h.get("f", "").want(t, ComponentPassword, "pending_user", "one", "allow_show_password", true)
		h.post("f", "", postJSON(map[string]any{"password": secret})).want(t, ComponentRedirect, "to", "/")
		if len(h.events) != 0 {
			t.Errorf("events %+v", h.events)
		}
	})
	t.Run("context", func(t *testing.T) {
		h := newHarness(t, flowDoc("f", "", policyOn("f", "pending", true),
			stageEntry("authentik_stages_password.passwordstage", "f", "pw", 0, "backends: [authentik.core.auth.TokenBackend, authentik.core.auth.InbuiltBackend]", ""),
			dummy("f", "d", 1, "")))
		h.userWith("one", "one@example.com", ptr(secret), true)
		h.get("f", "")
		h.post("f", "", postJSON(map[string]any{"password": secret})).wantReload(t, h.url("f", ""))
		x := h.execution("f")
		pu := x.Context[directory.ContextPendingUser].(map[string]any)
		if pu["backend"] != string(stage.BackendInbuilt) || x.Context[ContextUserBackend] != string(stage.BackendInbuilt) ||
			x.Context[ContextAuthMethod] != "password" || pu["username"] != "one" {
			t.Errorf("context %v", x.Context)
		}
	})
	t.Run("valid password inactive", func(t *testing.T) {
		h := newHarness(t, flowDoc("f", "", policyOn("f", "pending", true),
			stageEntry("authentik_stages_password.passwordstage", "f", "pw", 0, "backends: [authentik.core.auth.InbuiltBackend]", "")))
		h.userWith("one", "one@example.com", ptr(secret), false)
		h.get("f", "")
		r := h.post("f", "", postJSON(map[string]any{"password": secret}))
		r.want(t, ComponentPassword)
		if !strings.Contains(string(r.raw), `"password":[{"string":"Invalid password","code":"invalid"}]`) {
			t.Errorf("%s", r.raw)
		}
	})
	t.Run("invalid password", func(t *testing.T) {
		h := newH(t, true, "")
		h.get("f", "")
		r := h.post("f", "", postJSON(map[string]any{"password": strings.TrimSpace(secret)}))
		r.want(t, ComponentPassword)
		if !strings.Contains(string(r.raw), `"response_errors":{"password":[{"string":"Invalid password","code":"invalid"}]}`) {
			t.Errorf("%s", r.raw)
		}
		if len(h.events) != 1 || h.events[0].Action != EventLoginFailed || h.events[0].User != "one" {
			t.Errorf("events %+v", h.events)
		}
	})
	t.Run("field errors", func(t *testing.T) {
		h := newH(t, true, ", failed_attempts_before_cancel: 10")
		h.get("f", "")
		for body, want := range map[string]string{
			`{}`:                 "This field is required.",
			`{"password":null}`:  "This field may not be null.",
			`{"password":""}`:    "This field may not be blank.",
			`{"password":true}`:  "Not a valid string.",
			`{"password":[1,2]}`: "Not a valid string.",
		} {
			r := h.post("f", "", body)
			if !strings.Contains(string(r.raw), `"password":[{"string":"`+want+`"`) {
				t.Errorf("%s: %s", body, r.raw)
			}
		}
	})
	t.Run("invalid password lockout", func(t *testing.T) {
		h := newH(t, true, ", failed_attempts_before_cancel: 3")
		h.get("f", "")
		for range 2 {
			h.post("f", "", postJSON(map[string]any{"password": "wrong"})).want(t, ComponentPassword)
		}
		// Any invalid answer counts, a missing field too.
		h.post("f", "", `{}`).want(t, ComponentAccessDenied, "error_message", MsgInvalidPassword)
		if x := h.execution("f"); x != nil {
			t.Errorf("the execution was kept: %v", stageNames(x))
		}
		// The count starts over.
		h.get("f", "")
		h.post("f", "", postJSON(map[string]any{"password": "wrong"})).want(t, ComponentPassword)
		h.post("f", "", postJSON(map[string]any{"password": secret})).want(t, ComponentRedirect, "to", "/")
	})
}

// authentik's stages/user_login/tests.py and user_logout/tests.py,
// through the Go API.
func TestUserLogin(t *testing.T) {
	ctx := context.Background()
	newH := func(t *testing.T, attrs string, pending bool, extra ...string) *harness {
		e := []string{stageEntry("authentik_stages_user_login.userloginstage", "f", "login", 0, attrs, "")}
		if pending {
			e = append(e, policyOn("f", "pending", true))
		}
		h := newHarness(t, flowDoc("f", "", append(e, extra...)...))
		h.userWith("one", "one@example.com", ptr("pw"), true)
		return h
	}
	t.Run("valid get", func(t *testing.T) {
		h := newH(t, "", true)
		resp, err := h.e.Get(ctx, "f", Request{Session: "anon"})
		if err != nil {
			t.Fatal(err)
		}
		l := resp.Login
		if l == nil || l.User != 1 || l.Username != "one" || l.Previous != "anon" || l.Session == "anon" || len(l.Session) != 43 || !l.Expires.IsZero() || l.TerminateOthers {
			t.Fatalf("login %+v", l)
		}
		if r, ok := resp.Challenge.(*Redirect); !ok || r.To != "/" {
			t.Errorf("challenge %#v", resp.Challenge)
		}
		if len(h.events) != 1 || h.events[0].Action != EventLogin || h.events[0].User != "one" {
			t.Errorf("events %+v", h.events)
		}
		// last_login is now, through the directory, written in the
		// background.
		h.settle()
		u, err := h.s.Directory().User(ctx, 1)
		if err != nil || u.LastLogin == nil || *u.LastLogin != "2026-01-01T00:00:00Z" {
			t.Errorf("last_login %v, %v", u.LastLogin, err)
		}
	})
	t.Run("the execution moves to the new session", func(t *testing.T) {
		h := newH(t, "", true, dummy("f", "after", 1, ""))
		resp, err := h.e.Get(ctx, "f", Request{Session: "anon"})
		if err != nil || !resp.Reload || resp.Login == nil {
			t.Fatalf("%+v %v", resp, err)
		}
		if _, err := h.rs.Load(ctx, Executions, ExecutionKey("anon", "f")); !errors.Is(err, ErrNotFound) {
			t.Errorf("the old session's execution: %v", err)
		}
		resp2, err := h.e.Get(ctx, "f", Request{Session: resp.Login.Session, User: resp.Login.userPlan(), Username: "one"})
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := resp2.Challenge.(*DummyChallenge); !ok || d.Name != "after" {
			t.Errorf("challenge %#v", resp2.Challenge)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		h := newH(t, "session_duration: hours=2", true)
		resp, _ := h.e.Get(ctx, "f", Request{Session: "anon"})
		if want := h.e.now().Add(2 * 3600e9); resp.Login == nil || !resp.Login.Expires.Equal(want) {
			t.Fatalf("login %+v, want expiry %s", resp.Login, want)
		}
	})
	for _, remember := range []bool{true, false} {
		t.Run("expiry remember", func(t *testing.T) {
			h := newH(t, "session_duration: hours=1, remember_me_offset: days=1", true)
			resp, _ := h.e.Get(ctx, "f", Request{Session: "anon"})
			if c, ok := resp.Challenge.(*UserLoginChallenge); !ok || c.Component != ComponentUserLogin || c.PendingUser != "one" {
				t.Fatalf("challenge %#v", resp.Challenge)
			}
			resp, _ = h.e.Submit(ctx, "f", Request{Session: "anon"}, json.RawMessage(`{}`))
			if c, ok := resp.Challenge.(*UserLoginChallenge); !ok || c.ResponseErrors["remember_me"][0].String != "This field is required." {
				t.Fatalf("challenge %#v", resp.Challenge)
			}
			body, _ := json.Marshal(map[string]any{"component": ComponentUserLogin, "remember_me": remember})
			resp, _ = h.e.Submit(ctx, "f", Request{Session: "anon"}, body)
			want := h.e.now().Add(3600e9)
			if remember {
				want = want.Add(24 * 3600e9)
			}
			if resp.Login == nil || !resp.Login.Expires.Equal(want) {
				t.Fatalf("login %+v, want expiry %s", resp.Login, want)
			}
		})
	}
	t.Run("without user", func(t *testing.T) {
		h := newH(t, "", false)
		resp, _ := h.e.Get(ctx, "f", Request{Session: "anon"})
		if d, ok := resp.Challenge.(*AccessDenied); !ok || d.ErrorMessage != MsgUnknownError || resp.Login != nil {
			t.Errorf("%#v", resp)
		}
	})
	t.Run("inactive account", func(t *testing.T) {
		h := newH(t, "", true)
		u, _ := h.s.Directory().User(ctx, 1)
		u.IsActive = false
		if _, err := h.s.Directory().UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		resp, _ := h.e.Get(ctx, "f", Request{Session: "anon"})
		if d, ok := resp.Challenge.(*AccessDenied); !ok || d.ErrorMessage != MsgUnknownError || resp.Login != nil {
			t.Errorf("%#v", resp)
		}
	})
	t.Run("logout", func(t *testing.T) {
		h := newHarness(t, flowDoc("f", "", stageEntry("authentik_stages_user_logout.userlogoutstage", "f", "out", 0, "", ""), dummy("f", "after", 1, "")))
		h.userWith("seven", "", nil, true)
		resp, err := h.e.Get(ctx, "f", Request{Session: "in", User: Login{User: 1}.userPlan(), Username: "seven"})
		if err != nil {
			t.Fatal(err)
		}
		if l := resp.Logout; l == nil || l.Previous != "in" || len(l.Session) != 43 || !resp.Reload {
			t.Fatalf("%+v", resp)
		}
		if len(h.events) != 1 || h.events[0].Action != EventLogout || h.events[0].User != "seven" {
			t.Errorf("events %+v", h.events)
		}
		// The flow continues, anonymously, under the new id.
		resp2, _ := h.e.Get(ctx, "f", Request{Session: resp.Logout.Session})
		if d, ok := resp2.Challenge.(*DummyChallenge); !ok || d.Name != "after" {
			t.Errorf("challenge %#v", resp2.Challenge)
		}
	})
}

// The HTTP handler's own sessions: a login gives a new cookie whose
// session is the user's, terminate_other_sessions ends the others, the
// session expires, and a logout ends it.
func TestHTTPSessions(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, flowDoc("f", "", policyOn("f", "pending", true),
		stageEntry("authentik_stages_user_login.userloginstage", "f", "login", 0, "session_duration: hours=1", ""))+
		strings.TrimPrefix(flowDoc("t", "", policyOn("t", "pending2", true),
			stageEntry("authentik_stages_user_login.userloginstage", "t", "login-t", 0, "terminate_other_sessions: true", "")), "version: 1\nentries:\n")+
		strings.TrimPrefix(flowDoc("out", "", stageEntry("authentik_stages_user_logout.userlogoutstage", "out", "logout", 0, "", "")), "version: 1\nentries:\n"))
	h.userWith("one", "one@example.com", ptr("pw"), true)
	sid := func(c *http.Client) string {
		u, _ := url.Parse(h.srv.URL)
		for _, k := range c.Jar.Cookies(u) {
			if k.Name == DefaultCookie {
				return k.Value
			}
		}
		return ""
	}
	login := func(c *http.Client, slug string) string {
		t.Helper()
		h.do(c, "GET", h.url(slug, ""), "").want(t, ComponentRedirect, "to", "/")
		return sid(c)
	}
	a, b := h.newClient(), h.newClient()
	h.do(a, "GET", h.url("out", ""), "") // an anonymous session
	before := sid(a)
	sa := login(a, "f")
	if sa == before || sa == "" {
		t.Fatalf("the session id did not change at login: %q", sa)
	}
	if _, ok, _ := h.e.SessionStore().User(ctx, before); ok {
		t.Error("the old session is logged in")
	}
	if u, ok, err := h.e.SessionStore().User(ctx, sa); !ok || err != nil || u.Username != "one" {
		t.Fatalf("session user %v %v %v", u, ok, err)
	}
	sb := login(b, "f")
	if ids, _ := h.e.SessionStore().List(ctx, 1); len(ids) != 2 {
		t.Errorf("sessions of user 1: %v", ids)
	}
	// The session expires with session_duration.
	h.advance(3601e9)
	if _, ok, _ := h.e.SessionStore().User(ctx, sa); ok {
		t.Error("an expired session is logged in")
	}
	h.advance(-3601e9)
	c := h.newClient()
	sc := login(c, "t")
	for _, s := range []string{sa, sb} {
		if _, ok, _ := h.e.SessionStore().User(ctx, s); ok {
			t.Error("terminate_other_sessions left a session")
		}
	}
	if ids, _ := h.e.SessionStore().List(ctx, 1); len(ids) != 1 || ids[0] != sessionHash(sc) {
		t.Errorf("sessions of user 1: %v", ids)
	}
	// A logged-in request is the user's: the logout event names it.
	h.events = nil
	h.do(c, "GET", h.url("out", ""), "").want(t, ComponentRedirect, "to", "/")
	if sid(c) == sc {
		t.Error("the session id did not change at logout")
	}
	if _, ok, _ := h.e.SessionStore().User(ctx, sc); ok {
		t.Error("logout left the session")
	}
	if len(h.events) != 1 || h.events[0].Action != EventLogout || h.events[0].User != "one" {
		t.Errorf("events %+v", h.events)
	}
}

// With the host's session, the host is told of the login.
func TestHTTPHostSession(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", policyOn("f", "pending", true),
		stageEntry("authentik_stages_user_login.userloginstage", "f", "login", 0, "", "")))
	h.userWith("one", "one@example.com", ptr("pw"), true)
	var got []Login
	srv := h.e.HTTPHandler(HTTPOptions{
		Session: func(*http.Request) string { return "host-session" },
		Login:   func(_ http.ResponseWriter, _ *http.Request, l Login) error { got = append(got, l); return nil },
	})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", ExecutorPath+"f/", nil))
	if len(got) != 1 || got[0].User != 1 || got[0].Previous != "host-session" || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("logins %+v, Set-Cookie %q", got, rec.Header().Get("Set-Cookie"))
	}
}

// The shipped default-authentication-flow and default-invalidation-flow
// over HTTP, with package expression's policies: a wrong password, then
// the right one, then logout. No password appears in a challenge or an
// event.
func TestDefaultFlowsHTTP(t *testing.T) {
	const secret = "correct horse battery staple"
	for _, combined := range []bool{false, true} {
		name := "separate password stage"
		if combined {
			name = "password in identification"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, "", withExpression)
			loadDefaults(t, h, combined)
			h.userWith("alice", "alice@example.com", ptr(secret), true)
			var bodies []string
			keep := func(r reply) reply { bodies = append(bodies, string(r.raw)); return r }
			q := "next=%2Fapp%2F"
			const slug = "default-authentication-flow"
			keep(h.get(slug, q)).want(t, ComponentIdentification, "user_fields", "[email username]", "password_fields", combined,
				"primary_action", "Log in")
			before := h.sessionID()
			if combined {
				r := keep(h.post(slug, q, postJSON(map[string]any{"component": ComponentIdentification, "uid_field": "alice", "password": secret + "x"})))
				r.want(t, ComponentIdentification)
				h.post(slug, q, postJSON(map[string]any{"component": ComponentIdentification, "uid_field": "Alice@Example.com", "password": secret})).wantReload(t, h.url(slug, q))
			} else {
				h.post(slug, q, postJSON(map[string]any{"component": ComponentIdentification, "uid_field": "alice"})).wantReload(t, h.url(slug, q))
				keep(h.get(slug, q)).want(t, ComponentPassword, "pending_user", "alice")
				r := keep(h.post(slug, q, postJSON(map[string]any{"component": ComponentPassword, "password": secret + "x"})))
				r.want(t, ComponentPassword)
				if !strings.Contains(string(r.raw), `"response_errors":{"password":[{"string":"Invalid password","code":"invalid"}]}`) {
					t.Errorf("%s", r.raw)
				}
				h.post(slug, q, postJSON(map[string]any{"component": ComponentPassword, "password": secret})).wantReload(t, h.url(slug, q))
			}
			r := keep(h.finish(slug, q))
			r.want(t, ComponentRedirect, "to", "/app/")
			after := h.sessionID()
			if after == before {
				t.Error("the session id did not change at login")
			}
			if u, ok, _ := h.e.SessionStore().User(context.Background(), after); !ok || u.Username != "alice" {
				t.Errorf("the session is not alice's: %v %v", u, ok)
			}
			keep(h.finish("default-invalidation-flow", "")).want(t, ComponentRedirect, "to", "/")
			if _, ok, _ := h.e.SessionStore().User(context.Background(), after); ok {
				t.Error("logged in after logout")
			}
			var actions []string
			for _, ev := range h.events {
				actions = append(actions, ev.Action)
				b, _ := json.Marshal(ev)
				bodies = append(bodies, string(b))
			}
			if want := "login_failed login logout"; strings.Join(actions, " ") != want {
				t.Errorf("events %s, want %s: %+v", strings.Join(actions, " "), want, h.events)
			}
			for _, b := range bodies {
				if strings.Contains(b, "horse") {
					t.Errorf("the password shows: %s", b)
				}
			}
		})
	}
}

// The fifth wrong password (failed_attempts_before_cancel's default)
// ends the default flow with authentik's message.
func TestDefaultFlowLockout(t *testing.T) {
	h := newHarness(t, "", withExpression)
	loadDefaults(t, h, false)
	h.userWith("alice", "alice@example.com", ptr("right"), true)
	const slug = "default-authentication-flow"
	h.get(slug, "")
	h.post(slug, "", postJSON(map[string]any{"uid_field": "alice"}))
	h.get(slug, "").want(t, ComponentPassword)
	for range 4 {
		h.post(slug, "", postJSON(map[string]any{"component": ComponentPassword, "password": "wrong"})).want(t, ComponentPassword)
	}
	h.post(slug, "", postJSON(map[string]any{"component": ComponentPassword, "password": "wrong"})).want(t, ComponentAccessDenied, "error_message", "Invalid password")
	h.get(slug, "").want(t, ComponentIdentification)
}

// No user enumeration: with pretend_user_exists and a password stage, an
// unknown identifier and a known one with a wrong password get the same
// challenge, and both spend a password check.
func TestNoEnumeration(t *testing.T) {
	h := newHarness(t, identFlow("authentication", ", pretend_user_exists: true, password_stage: !KeyOf pw"))
	h.userWith("akadmin", "admin@example.com", ptr("right"), true)
	var dummies atomic.Int64
	inner := h.e.dummyCheck
	h.e.dummyCheck = func(raw string) { dummies.Add(1); inner(raw) }
	h.get("f", "")
	known := h.post("f", "", postJSON(map[string]any{"uid_field": "admin@example.com", "password": "wrong"}))
	unknown := h.post("f", "", postJSON(map[string]any{"uid_field": "nobody@example.com", "password": "wrong"}))
	if string(known.raw) != string(unknown.raw) {
		t.Errorf("known %s\nunknown %s", known.raw, unknown.raw)
	}
	if dummies.Load() != 1 {
		t.Errorf("%d dummy password checks for the unknown user, want 1", dummies.Load())
	}
	// The password stage on its own: an unknown pending user (a
	// stand-in) costs a check too.
	h2 := newHarness(t, identFlow("authentication", ", pretend_user_exists: true",
		stageEntry("authentik_stages_password.passwordstage", "f", "pw2", 1, "backends: [authentik.core.auth.InbuiltBackend]", "")))
	var d2 atomic.Int64
	inner2 := h2.e.dummyCheck
	h2.e.dummyCheck = func(raw string) { d2.Add(1); inner2(raw) }
	h2.get("f", "")
	h2.post("f", "", postJSON(map[string]any{"uid_field": "nobody@example.com"})).wantReload(t, h2.url("f", ""))
	h2.get("f", "").want(t, ComponentPassword, "pending_user", "nobody@example.com")
	r := h2.post("f", "", postJSON(map[string]any{"password": "x"}))
	if !strings.Contains(string(r.raw), "Invalid password") || d2.Load() != 1 {
		t.Errorf("%d dummy checks: %s", d2.Load(), r.raw)
	}
}

// loadDefaults applies the shipped blueprints the default flows need;
// combined puts the password stage into the identification stage.
func loadDefaults(t testing.TB, h *harness, combined bool) {
	t.Helper()
	for _, name := range []string{"flow-password-change.yaml", "flow-default-authentication-flow.yaml", "flow-default-invalidation-flow.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "blueprint", "testdata", "authentik", "default", name))
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		if combined && strings.Contains(name, "authentication") {
			doc = strings.Replace(doc, "    - username\n  identifiers:\n    name: default-authentication-identification",
				"    - username\n    password_stage: !KeyOf default-authentication-password\n  identifiers:\n    name: default-authentication-identification", 1)
			if doc == string(b) {
				t.Fatal("the identification stage's entry changed")
			}
		}
		res, err := blueprint.Load(context.Background(), h.s, strings.NewReader(doc), blueprint.Options{})
		if err != nil || !res.Success {
			t.Fatalf("%s: %v %+v", name, err, res.Logs)
		}
	}
}

// sessionID is h.client's session cookie.
func (h *harness) sessionID() string { return h.cookie(DefaultCookie) }

// cookie is the value of h.client's cookie name, "" for none.
func (h *harness) cookie(name string) string {
	u, _ := url.Parse(h.srv.URL)
	for _, c := range h.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// userPlan is the request user of a logged-in session.
func (l Login) userPlan() plan.User { return plan.User{PK: l.User, Authenticated: true} }

// SessionStore on the store's own run state: sessions survive in the
// database, List drops the ended ones, and End of an unknown session is
// not an error.
func TestSessionStoreKV(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "")
	u := h.userWith("one", "one@example.com", nil, true)
	now := h.e.now
	ss := &SessionStore{rs: NewStoreRunState(h.s, KVOptions{Now: now}), user: h.s.Directory().User, now: now}
	for _, id := range []string{"a", "b"} {
		if err := ss.Start(ctx, Login{User: u.PK, Session: id}); err != nil {
			t.Fatal(err)
		}
	}
	if got, ok, err := ss.User(ctx, "a"); !ok || err != nil || got.PK != u.PK {
		t.Fatalf("%v %v %v", got, ok, err)
	}
	if err := ss.End(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := ss.End(ctx, "nobody"); err != nil {
		t.Fatal(err)
	}
	if ids, err := ss.List(ctx, u.PK); err != nil || len(ids) != 1 || ids[0] != sessionHash("b") {
		t.Errorf("%v %v", ids, err)
	}
	// A session whose user was deleted is no one's, and ends.
	if err := h.s.Directory().DeleteUser(ctx, u.PK); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ss.User(ctx, "b"); ok || err != nil {
		t.Errorf("%v %v", ok, err)
	}
	if _, err := ss.rs.Load(ctx, Sessions, sessionKey("b")); !errors.Is(err, ErrNotFound) {
		t.Errorf("the session was kept: %v", err)
	}
}

// A user's list of sessions is bounded: past MaxUserSessions, the
// oldest session ends.
func TestSessionStoreBound(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "")
	u := h.userWith("one", "one@example.com", nil, true)
	ss := h.e.SessionStore()
	for i := range MaxUserSessions + 1 {
		if err := ss.Start(ctx, Login{User: u.PK, Session: "s" + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	ids, _ := ss.List(ctx, u.PK)
	if len(ids) != MaxUserSessions || ids[0] != sessionHash("s1") {
		t.Errorf("%d sessions, first %q", len(ids), ids[0])
	}
	if _, ok, _ := ss.User(ctx, "s0"); ok {
		t.Error("the oldest session is still logged in")
	}
}

// The cookie of a session with an expiry says so (Max-Age); one that
// lasts until the browser closes has none.
func TestLoginCookie(t *testing.T) {
	for _, tc := range []struct{ attrs, want string }{{"session_duration: hours=1", "Max-Age=3600"}, {"", ""}} {
		h := newHarness(t, flowDoc("f", "", policyOn("f", "pending", true),
			stageEntry("authentik_stages_user_login.userloginstage", "f", "login", 0, tc.attrs, "")))
		h.userWith("one", "one@example.com", nil, true)
		r := h.get("f", "")
		var c string
		for _, v := range r.header.Values("Set-Cookie") {
			c = v // the last one is the login's
		}
		if !strings.Contains(c, "HttpOnly") || strings.Contains(c, "Max-Age") != (tc.want != "") || !strings.Contains(c, tc.want) {
			t.Errorf("%q: Set-Cookie %q", tc.attrs, c)
		}
	}
}

// A password response that is not a JSON object is a non-field error,
// in DRF's words, through the Go API (HTTP refuses it before).
func TestPasswordNotObject(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, flowDoc("f", "", policyOn("f", "pending", true),
		stageEntry("authentik_stages_password.passwordstage", "f", "pw", 0, "backends: [authentik.core.auth.InbuiltBackend]", "")))
	h.userWith("one", "one@example.com", ptr("pw"), true)
	req := Request{Session: "s"}
	if _, err := h.e.Get(ctx, "f", req); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{`[1]`, `"pw"`, `null`} {
		resp, err := h.e.Submit(ctx, "f", req, json.RawMessage(body))
		if err != nil {
			t.Fatal(err)
		}
		c, ok := resp.Challenge.(*PasswordChallenge)
		if !ok || len(c.ResponseErrors["non_field_errors"]) != 1 || !strings.HasPrefix(c.ResponseErrors["non_field_errors"][0].String, "Invalid data.") {
			t.Errorf("%s: %#v", body, resp.Challenge)
		}
	}
}

// sessionLoads wraps a RunState, counting Loads of session records (the
// SessionStore's lookup of a request's user).
type sessionLoads struct {
	RunState
	n atomic.Int64
}

func (s *sessionLoads) Load(ctx context.Context, ns Namespace, key string) (Record, error) {
	if ns == Sessions && strings.HasPrefix(key, "s:") {
		s.n.Add(1)
	}
	return s.RunState.Load(ctx, ns, key)
}

// A request without a session cookie (or with a malformed one) gets a
// new id that no SessionStore holds: it is anonymous without a lookup.
// A request with its cookie is looked up, and a logged-in one is its
// user's.
func TestHTTPFreshSessionNotLookedUp(t *testing.T) {
	sl := &sessionLoads{}
	h := newHarness(t, flowDoc("f", "", policyOn("f", "pending", true),
		stageEntry("authentik_stages_user_login.userloginstage", "f", "login", 0, "", ""))+
		strings.TrimPrefix(flowDoc("out", "", stageEntry("authentik_stages_user_logout.userlogoutstage", "out", "logout", 0, "", "")), "version: 1\nentries:\n")+
		strings.TrimPrefix(flowDoc("d", "", dummy("d", "d1", 0, "")), "version: 1\nentries:\n"),
		func(o *Options) { sl.RunState = o.RunState; o.RunState = sl })
	h.userWith("one", "one@example.com", ptr("pw"), true)
	c := h.newClient()
	h.do(c, "GET", h.url("d", ""), "").want(t, "ak-stage-dummy")
	if n := sl.n.Load(); n != 0 {
		t.Errorf("a new session was looked up %d times", n)
	}
	h.do(c, "GET", h.url("f", ""), "").want(t, ComponentRedirect, "to", "/")
	if sl.n.Load() == 0 {
		t.Error("a request with its cookie was not looked up")
	}
	// Logged in: the logout names the user, found by the cookie.
	h.events = nil
	h.do(c, "GET", h.url("out", ""), "").want(t, ComponentRedirect, "to", "/")
	if len(h.events) != 1 || h.events[0].Action != EventLogout || h.events[0].User != "one" {
		t.Errorf("events %+v", h.events)
	}
}
