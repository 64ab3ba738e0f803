package executor

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/directory/memdir"
)

func emailSetupStage(attrs string) string {
	return stageEntry("authentik_stages_authenticator_email.authenticatoremailstage", "f", "mail", 0, attrs, "")
}

var codeRE = regexp.MustCompile(`\n(\d{6})\n`)

// mailedCode is the code of the last message m was given, checked in
// both bodies.
func mailedCode(t *testing.T, m *testMailer) string {
	t.Helper()
	msg := m.last(t)
	c := codeRE.FindStringSubmatch(msg.Text)
	if c == nil || !strings.Contains(msg.HTML, "<strong>"+c[1]+"</strong>") {
		t.Fatalf("no code in %q / %q", msg.Text, msg.HTML)
	}
	return c[1]
}

func setEmail(t *testing.T, dir *memdir.Dir, email string) {
	t.Helper()
	ctx := context.Background()
	u, err := dir.User(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	u.Email = email
	if _, err := dir.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
}

// The user's address gets the code at once, through the mailer and the
// queue, and is shown masked; the code saves the device.
func TestAuthEmailSetupUserAddress(t *testing.T) {
	m := &testMailer{}
	h, dir := setupHarness(t, emailSetupStage(""), withMailer(m))
	setEmail(t, dir, "one@example.com")
	h.get("f", "").want(t, ComponentAuthenticatorEmail, "email", "o**@e******.com", "email_required", false)
	msg := m.last(t)
	if len(msg.To) != 1 || msg.To[0].Email != "one@example.com" || msg.To[0].Name != "One" || msg.Subject != "authentik Sign-in code" ||
		msg.Settings.Host != "localhost" || msg.Settings.From != "system@authentik.local" {
		t.Fatalf("message %+v", msg)
	}
	code := mailedCode(t, m)
	if ev := h.lastEvent(t, EventEmailSent); !strings.Contains(ev.Message, "one@example.com") || strings.Contains(ev.Message, code) {
		t.Fatal(ev)
	}
	// Rendering again sends nothing more.
	h.get("f", "")
	if m.count() != 1 {
		t.Fatalf("%d messages", m.count())
	}
	h.post("f", "", `{"code": "`+code+`"}`).want(t, ComponentRedirect)
	devs := userDevices(t, dir)
	if len(devs) != 1 || devs[0].Email == nil || devs[0].Email.Email != "one@example.com" || !devs[0].Confirmed || devs[0].Name != "Email Device" {
		t.Fatalf("devices %+v", devs)
	}
	// The user's address is a device's already: asked for.
	h.client = h.newClient()
	h.get("f", "").want(t, ComponentAuthenticatorEmail, "email_required", true)
	if m.count() != 1 {
		t.Fatal("sent to a duplicate")
	}
	if r := h.post("f", "", `{"email": "one@example.com"}`); nonFieldOf(r) != MsgInvalidEmail {
		t.Fatalf("duplicate: %s", r.raw)
	}
}

// Without an address, it is asked for; the code expires after the
// stage's token_expiry.
func TestAuthEmailSetupAsked(t *testing.T) {
	m := &testMailer{}
	h, dir := setupHarness(t, emailSetupStage("token_expiry: minutes=2, subject: Code"), withMailer(m))
	h.get("f", "").want(t, ComponentAuthenticatorEmail, "email_required", true, "email", "<nil>")
	if r := h.post("f", "", `{}`); nonFieldOf(r) != MsgEmailRequired {
		t.Fatalf("no address: %s", r.raw)
	}
	h.post("f", "", `{"email": "me@mail.example.org"}`).want(t, ComponentAuthenticatorEmail, "email_required", false, "email", "**@m***.e******.org")
	code := mailedCode(t, m)
	if m.last(t).Subject != "Code" {
		t.Fatal(m.last(t).Subject)
	}
	h.advance(2 * time.Minute)
	if r := h.post("f", "", `{"code": "`+code+`"}`); nonFieldOf(r) != MsgCodeMismatch {
		t.Fatalf("expired: %s", r.raw)
	}
	if len(userDevices(t, dir)) != 0 {
		t.Fatal("a device")
	}
}

// Without a mailer the flow is denied; a template authflow cannot
// render is a configuration_error and an access denied.
func TestAuthEmailErrors(t *testing.T) {
	h, dir := setupHarness(t, emailSetupStage(""))
	setEmail(t, dir, "one@example.com")
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoCodeMailer)
	if ev := h.lastEvent(t, EventConfigurationError); ev.Message != MsgNoCodeMailer {
		t.Fatal(ev)
	}
	m := &testMailer{}
	h, dir = setupHarness(t, emailSetupStage("template: email/custom.html"), withMailer(m))
	setEmail(t, dir, "one@example.com")
	h.get("f", "").want(t, ComponentAccessDenied)
	if ev := h.lastEvent(t, EventConfigurationError); ev.Message != MsgEmailTemplate {
		t.Fatal(ev)
	}
}

// maskEmail is authentik's mask_email.
func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"myname@company.org": "m*****@c******.org",
		"ab@cd.ef":           "**@**.ef",
		"abc@x.y.example.io": "a**@*.*.e******.io",
		"élan@ünï.com":       "é***@ü**.com",
	} {
		if got, ok := maskEmail(in); !ok || got != want {
			t.Errorf("maskEmail(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "a", "a@b", "@b.c", "a@", "a@b@c.d", "a@b..c", "a@b.", "a@.b"} {
		if got, ok := maskEmail(in); ok {
			t.Errorf("maskEmail(%q) = %q", in, got)
		}
	}
}
