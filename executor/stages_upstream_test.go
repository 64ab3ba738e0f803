package executor

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Cases of authentik 2025.6's stages/*/tests.py not ported beside their
// stage's own tests.

// The stages that answer a GET without a challenge answer a POST the
// same way (deny, dummy, user_login and user_logout's test_valid_post,
// dummy's test_post): a dummy stage first, so that the POST reaches the
// stage of an execution that exists. authentik's test_post POSTs to a
// session without a plan, which authentik plans and submits at once;
// authflow plans it and answers the first challenge, submitting nothing
// (the package doc), as the first request shows.
func TestUpstreamStagesValidPost(t *testing.T) {
	for _, c := range []struct {
		name, stage string
		want        func(t *testing.T, r reply)
	}{
		{"deny", stageEntry("authentik_stages_deny.denystage", "f", "s", 1, "", ""), func(t *testing.T, r reply) {
			r.want(t, ComponentAccessDenied, "error_message", MsgUnknownError)
		}},
		{"dummy", dummy("f", "s", 1, ""), func(t *testing.T, r reply) { r.want(t, ComponentRedirect, "to", "/") }},
		{"user_login", stageEntry("authentik_stages_user_login.userloginstage", "f", "s", 1, "", ""), func(t *testing.T, r reply) {
			r.want(t, ComponentRedirect, "to", "/")
		}},
		{"user_logout", stageEntry("authentik_stages_user_logout.userlogoutstage", "f", "s", 1, "", ""), func(t *testing.T, r reply) {
			r.want(t, ComponentRedirect, "to", "/")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, flowDoc("f", "", policyOn("f", "pending", true), dummy("f", "first", 0, ""), c.stage))
			h.userWith("one", "one@example.com", nil, true)
			h.post("f", "", `{}`).want(t, ComponentDummy, "name", "first")
			h.post("f", "", `{"component":"ak-stage-dummy"}`).wantReload(t, h.url("f", ""))
			c.want(t, h.post("f", "", `{}`))
			events := eventsOf(h, EventLogin, EventLogout)
			switch c.name {
			case "user_login":
				if len(events) != 1 || !strings.HasPrefix(events[0], EventLogin+":") {
					t.Errorf("events %v", events)
				}
			case "user_logout":
				// The session was anonymous: a logout without a user.
			default:
				if len(events) != 0 {
					t.Errorf("events %v", events)
				}
			}
		})
	}
}

// deny's test_message_static and test_message_overwrite: the stage's
// deny_message, unless the context's deny_message overrides it.
func TestUpstreamDenyMessageOverwrite(t *testing.T) {
	set := contextSetter{mu: &sync.Mutex{}, vals: map[string]any{}}
	h := newHarness(t, flowDoc("f", "", dummy("f", "set", 0, ""),
		stageEntry("authentik_stages_deny.denystage", "f", "deny", 1, "deny_message: foo", "")),
		withHandler("authentik_stages_dummy.dummystage", set))
	h.finish("f", "").want(t, ComponentAccessDenied, "error_message", "foo")
	set.vals[ContextDenyMessage] = "bar"
	h.finish("f", "").want(t, ComponentAccessDenied, "error_message", "bar")
}

// identification's test_invalid_with_captcha_retriable: the captcha
// service refuses the token with timeout-or-duplicate, which the
// identification challenge shows as a non-field error, retriable.
func TestUpstreamIdentificationCaptchaRetriable(t *testing.T) {
	svc := &fakeService{body: `{"success": false, "score": 0.5, "error-codes": ["timeout-or-duplicate"]}`}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	h := newHarness(t, identFlow("authentication", ", captcha_stage: !KeyOf cap",
		"- model: authentik_stages_captcha.captchastage\n  id: cap\n  identifiers: {name: cap}\n  attrs: {public_key: "+recaptchaPublic+
			", private_key: "+recaptchaPrivate+", api_url: '"+srv.URL+"'}\n"), withCaptcha(HTTPCaptcha{Client: srv.Client()}))
	h.userWith("akadmin", "admin@example.com", nil, true)
	h.get("f", "")
	r := h.post("f", "", postJSON(map[string]any{"uid_field": "admin@example.com", "captcha_token": "FAILED"}))
	r.want(t, ComponentIdentification, "password_fields", false, "primary_action", "Log in", "show_source_labels", false,
		"user_fields", "[email]")
	if got := mustString(t, r.body["response_errors"]); got != `{"non_field_errors":[{"code":"invalid","string":"Invalid captcha response. Retrying may solve this issue."}]}` {
		t.Errorf("response_errors %s", got)
	}
}

// email's test_utf8_name: a name that is not ASCII is dropped from the
// recipient, who gets the address alone, and the email_sent event names
// the address; test_newlines_long_name: line breaks in a name become
// spaces (its trailing line break is left out: the store's users trim
// a name's ends, as authentik's API does).
func TestUpstreamEmailRecipientName(t *testing.T) {
	for name, want := range map[string]string{
		"Cirilo ЉМНЊ el cirilico И̂ӢЙӤ ": "mail@example.com",
		"Test User\r\n Many Words":       "Test User   Many Words <mail@example.com>",
	} {
		m := &testMailer{}
		h := emailFlow(t, "authentication", "", withMailer(m))
		u := h.userWith("mail", "mail@example.com", nil, true)
		u.Name = name
		if _, err := h.s.Directory().UpdateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		h.get("f", "")
		r := h.identifyEmail("", "mail")
		r.want(t, ComponentEmail)
		msg := m.last(t)
		to := msg.To[0].Email
		if msg.To[0].Name != "" {
			to = msg.To[0].Name + " <" + to + ">"
		}
		if len(msg.To) != 1 || to != want || msg.Subject != "authentik" {
			t.Errorf("%q: to %+v, want %s", name, msg.To, want)
		}
		if got := eventsOf(h, EventEmailSent); len(got) != 1 || got[0] != EventEmailSent+": Email to "+want+" sent" {
			t.Errorf("%q: events %q", name, got)
		}
	}
}

// identification's test_enrollment_flow and test_link_recovery_flow: on
// a page without a query, the links are the flows' interface URLs
// without one, and no passwordless_url.
func TestUpstreamIdentificationFlowLinks(t *testing.T) {
	h := newHarness(t, identFlow("authentication", ", enrollment_flow: !KeyOf other, recovery_flow: !KeyOf other"))
	r := h.get("f", "")
	r.want(t, ComponentIdentification, "user_fields", "[email]", "password_fields", false, "show_source_labels", false,
		"primary_action", "Log in", "sources", "[]", "enroll_url", "/if/flow/other/", "recovery_url", "/if/flow/other/")
	if _, ok := r.body["passwordless_url"]; ok {
		t.Errorf("passwordless_url: %s", r.raw)
	}
}
