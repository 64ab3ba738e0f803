package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/internal/testutil"
)

// runDoc: "walk", two dummy stages; "closed", a deny stage; "later", a
// stage kind the executor does not run yet.
const runDoc = `version: 1
entries:
- {model: authentik_flows.flow, id: walk, identifiers: {slug: walk}, attrs: {name: walk, title: Walk on, designation: authentication}}
- {model: authentik_stages_dummy.dummystage, id: d1, identifiers: {name: d1}}
- {model: authentik_stages_dummy.dummystage, id: d2, identifiers: {name: d2}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf walk, stage: !KeyOf d1, order: 10}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf walk, stage: !KeyOf d2, order: 20}}
- {model: authentik_flows.flow, id: closed, identifiers: {slug: closed}, attrs: {name: closed, title: Closed, designation: authentication}}
- {model: authentik_stages_deny.denystage, id: deny, identifiers: {name: deny}, attrs: {deny_message: No entry.}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf closed, stage: !KeyOf deny, order: 10}}
- {model: authentik_flows.flow, id: later, identifiers: {slug: later}, attrs: {name: later, title: Later, designation: stage_configuration}}
- {model: authentik_stages_mtls.mutualtlsstage, id: mtls, identifiers: {name: mtls}, attrs: {mode: required, cert_attribute: common_name, user_attribute: username}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf later, stage: !KeyOf mtls, order: 10}}
`

func runFixture(t *testing.T) *dirFixture {
	t.Helper()
	f := newDirFixture(t)
	s := f.open(t)
	if _, err := blueprint.Load(context.Background(), s, strings.NewReader(runDoc), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

// authflow run walks a flow to its end (0), showing each challenge, or
// to its denial (1), saying why; -v prints the trace on standard error.
func TestRun(t *testing.T) {
	f := runFixture(t)
	code, out, errOut := f.run(t, piped(""), "run", "walk", "-query", "next=%2Fapp%2F")
	if code != 0 || out != "== Walk on ==\nak-stage-dummy\nak-stage-dummy\nflow done: redirect to /app/\n" || errOut != "" {
		t.Errorf("run walk: %d %q %q", code, out, errOut)
	}
	code, _, errOut = f.run(t, piped(""), "run", "walk", "-v")
	if code != 0 || strings.Count(errOut, "trace: GET\n") != 2 || strings.Count(errOut, `trace: POST {"component":"ak-stage-dummy"}`) != 2 ||
		!strings.Contains(errOut, `"name":"d2"`) || !strings.Contains(errOut, "trace:   -> reload") {
		t.Errorf("run -v: %d %s", code, errOut)
	}
	for slug, want := range map[string]string{
		"closed": "flow denied: No entry.\n",
		"later":  "flow denied: " + strings.Replace(executor.MsgUnsupportedStage, "%s", "Mutual TLS Stage", 1) + "\n",
	} {
		if code, out, _ := f.run(t, piped(""), "run", slug); code != 1 || !strings.HasSuffix(out, want) {
			t.Errorf("run %s: %d %q, want 1 and %q", slug, code, out, want)
		}
	}
	if code, _, errOut := f.run(t, piped(""), "run", "nope"); code != 1 || errOut != "authflow run: no flow has the slug \"nope\"\n" {
		t.Errorf("run nope: %d %q", code, errOut)
	}
	var o, e bytes.Buffer
	if code := runIn(context.Background(), []string{"run", "-db", f.db}, &dirEnv{in: piped(""), stdout: &o, stderr: &e}); code != 2 || !strings.Contains(e.String(), runUsage) {
		t.Errorf("run without a slug: %d %q", code, e.String())
	}
}

// The terminal renders any challenge's fields: a prompt's (static text
// shown, hidden fields sent as they are, checkboxes as yes or no, an
// empty answer keeping the initial value), identification's uid_field
// and password, a password stage's password; passwords are read without
// echo on a terminal, and the trace never shows them.
func TestRunAsk(t *testing.T) {
	var out, prompt bytes.Buffer
	in := &fakeConsole{terminal: true, lines: []string{"hunter2", "pw-again"}, stdin: strings.NewReader("a@example.com\n\ny\n")}
	w := &walker{ctx: context.Background(), in: in, out: &out, prompt: &prompt, verbose: true}
	body, err := w.ask(map[string]any{
		"component":       "ak-stage-prompt",
		"flow_info":       map[string]any{"title": "Setup"},
		"response_errors": map[string]any{"email": []any{map[string]any{"string": "Enter a valid email address.", "code": "invalid"}}},
		"fields": []any{
			map[string]any{"field_key": "header", "type": "static", "initial_value": "Welcome!"},
			map[string]any{"field_key": "email", "type": "email", "label": "Email"},
			map[string]any{"field_key": "password", "type": "password", "label": "Password"},
			map[string]any{"field_key": "name", "type": "text", "label": "Name", "initial_value": "kept"},
			map[string]any{"field_key": "tos", "type": "checkbox", "label": "Accept"},
			map[string]any{"field_key": "src", "type": "hidden", "initial_value": "cli"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustJSONString(t, body); got != `{"component":"ak-stage-prompt","email":"a@example.com","name":"kept","password":"hunter2","src":"cli","tos":true}` {
		t.Errorf("prompt body %s", got)
	}
	if out.String() != "== Setup ==\nerror: email: Enter a valid email address.\nWelcome!\n" {
		t.Errorf("rendered %q", out.String())
	}
	if strings.Join(in.prompts, "|") != "Password: " || prompt.String() != "Email: Name: Accept: " {
		t.Errorf("prompts %q, %q", in.prompts, prompt.String())
	}
	w.trace("POST", body, executor.Response{Reload: true}, nil)
	if strings.Contains(prompt.String(), "hunter2") || !strings.Contains(prompt.String(), `"password":"********"`) {
		t.Errorf("trace shows a password: %s", prompt.String())
	}

	w = &walker{ctx: context.Background(), in: piped("alice\ns3cret\nagain\n"), out: &out, prompt: &prompt}
	if body, err := w.ask(map[string]any{"component": "ak-stage-identification", "user_fields": []any{"username", "email"}, "password_fields": true}); err != nil ||
		mustJSONString(t, body) != `{"component":"ak-stage-identification","password":"s3cret","uid_field":"alice"}` {
		t.Errorf("identification: %v %v", body, err)
	}
	if body, err := w.ask(map[string]any{"component": "ak-stage-password"}); err != nil || body["password"] != "again" {
		t.Errorf("password: %v %v", body, err)
	}

	// MFA: a TOTP setup shows its link and reads the code; static codes
	// are shown; a validation with devices reads the code, which the
	// trace never shows.
	out.Reset()
	prompt.Reset()
	w = &walker{ctx: context.Background(), in: piped("123456\n654321\n"), out: &out, prompt: &prompt, verbose: true}
	if body, err := w.ask(map[string]any{"component": "ak-stage-authenticator-totp", "config_url": "otpauth://totp/x"}); err != nil || body["code"] != "123456" {
		t.Errorf("totp: %v %v", body, err)
	}
	if body, err := w.ask(map[string]any{"component": "ak-stage-authenticator-static", "codes": []any{"abc", "def"}}); err != nil || len(body) != 1 {
		t.Errorf("static: %v %v", body, err)
	}
	body, err = w.ask(map[string]any{"component": "ak-stage-authenticator-validate", "device_challenges": []any{map[string]any{"device_class": "totp"}}})
	if err != nil || body["code"] != "654321" {
		t.Errorf("validate: %v %v", body, err)
	}
	if out.String() != "Add this link to your authenticator app: otpauth://totp/x\nKeep these codes: each opens your account once.\nabc\ndef\n" {
		t.Errorf("rendered %q", out.String())
	}
	w.trace("POST", body, executor.Response{Reload: true}, nil)
	if strings.Contains(prompt.String(), "654321") {
		t.Errorf("trace shows a code: %s", prompt.String())
	}
	// SMS, email and Duo: the number or address while asked for, then
	// the code; Duo's activation, then Enter; a validation sends a code
	// on an empty answer, and pushes when Duo is all there is.
	out.Reset()
	w = &walker{ctx: context.Background(), in: piped("+1555\n111111\na@b.c\n222222\n\n\n333333\n"), out: &out, prompt: &prompt}
	for _, tc := range []struct {
		ch   map[string]any
		want string
	}{
		{map[string]any{"component": "ak-stage-authenticator-sms", "phone_number_required": true}, `{"component":"ak-stage-authenticator-sms","phone_number":"+1555"}`},
		{map[string]any{"component": "ak-stage-authenticator-sms", "phone_number_required": false}, `{"code":"111111","component":"ak-stage-authenticator-sms"}`},
		{map[string]any{"component": "ak-stage-authenticator-email", "email_required": true, "email": nil}, `{"component":"ak-stage-authenticator-email","email":"a@b.c"}`},
		{map[string]any{"component": "ak-stage-authenticator-email", "email_required": false, "email": "a@b.c"}, `{"code":"222222","component":"ak-stage-authenticator-email"}`},
		{map[string]any{"component": "ak-stage-authenticator-duo", "activation_code": "duo://x", "activation_barcode": "https://d/qr"}, `{"component":"ak-stage-authenticator-duo"}`},
		{map[string]any{"component": "ak-stage-authenticator-validate", "device_challenges": []any{map[string]any{"device_class": "sms", "device_uid": "3"}}},
			`{"component":"ak-stage-authenticator-validate","selected_challenge":{"device_class":"sms","device_uid":"3"}}`},
		{map[string]any{"component": "ak-stage-authenticator-validate", "device_challenges": []any{map[string]any{"device_class": "sms", "device_uid": "3"}}},
			`{"code":"333333","component":"ak-stage-authenticator-validate"}`},
		{map[string]any{"component": "ak-stage-authenticator-validate", "device_challenges": []any{map[string]any{"device_class": "duo", "device_uid": "4"}}},
			`{"component":"ak-stage-authenticator-validate","duo":"4"}`},
	} {
		if body, err := w.ask(tc.ch); err != nil || mustJSONString(t, body) != tc.want {
			t.Errorf("%v: %v %v, want %s", tc.ch, body, err, tc.want)
		}
	}
	if out.String() != "A code was sent to a@b.c.\nActivate Duo Mobile with the code duo://x (barcode: https://d/qr).\nApprove the Duo push on your phone.\n" {
		t.Errorf("rendered %q", out.String())
	}
	if _, err := w.ask(map[string]any{"component": "ak-stage-password"}); err == nil || !strings.Contains(err.Error(), "standard input ended") {
		t.Errorf("at the end of standard input: %v", err)
	}
}

func mustJSONString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// run takes serve's flags of the services flows use: the email stage
// sends through -smtp-* a link under -base-url, and the walk stops there
// (answering would send it again); -captcha=false denies a captcha
// stage; flags that do not go together are usage errors.
func TestRunServices(t *testing.T) {
	f := newDirFixture(t)
	s := f.open(t)
	b, err := os.ReadFile(filepath.Join("..", "..", "blueprint", "testdata", "authentik", "example", "flows-recovery-email-verification.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := blueprint.Load(ctx, s, bytes.NewReader(b), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	const captchaDoc = `version: 1
entries:
- {model: authentik_flows.flow, id: human, identifiers: {slug: human}, attrs: {name: human, title: Human, designation: authentication}}
- {model: authentik_stages_captcha.captchastage, id: cap, identifiers: {name: cap}, attrs: {public_key: pub, private_key: priv}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf human, stage: !KeyOf cap, order: 10}}
`
	if _, err := blueprint.Load(ctx, s, strings.NewReader(captchaDoc), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	u := directory.DefaultUser()
	u.Username, u.Email = "forgetful", "forgetful@example.com"
	if _, err := s.Directory().CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	tcp, got := testutil.SMTPServer(t)
	code, out, errOut := f.run(t, piped("forgetful@example.com\n"), "run", "default-recovery-flow", "-base-url", "https://auth.example.test/",
		"-smtp-host", "127.0.0.1", "-smtp-port", strconv.Itoa(tcp.Port), "-smtp-from", "auth@example.test")
	if code != 0 || !strings.HasSuffix(out, "flow waits: an email was sent, and the flow goes on from its link\n") {
		t.Fatalf("run: %d %q %q", code, out, errOut)
	}
	var sess testutil.SMTPSession
	select {
	case sess = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no email")
	}
	body, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(sess.Data)))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`https://auth\.example\.test/if/flow/default-recovery-flow/\?flow_token=[A-Za-z0-9_-]+`).Match(body) ||
		!slices.Contains(sess.Commands, "MAIL FROM:<auth@example.test>") {
		t.Errorf("email %q:\n%s", sess.Commands, body)
	}

	// Without -base-url, the email stage denies the flow.
	if code, out, _ := f.run(t, piped("forgetful@example.com\n"), "run", "default-recovery-flow"); code != 1 || !strings.HasSuffix(out, "flow denied: "+executor.MsgNoMailer+"\n") {
		t.Errorf("run without -base-url: %d %q", code, out)
	}
	if code, out, _ := f.run(t, piped(""), "run", "human", "-captcha=false"); code != 1 || !strings.HasSuffix(out, "flow denied: "+executor.MsgNoCaptchaVerifier+"\n") {
		t.Errorf("run -captcha=false: %d %q", code, out)
	}
	if code, _, errOut := f.run(t, piped(""), "run", "human", "-smtp-tls", "-smtp-ssl"); code != 2 || !strings.Contains(errOut, "mutually exclusive") {
		t.Errorf("run -smtp-tls -smtp-ssl: %d %q", code, errOut)
	}
	if code, _, errOut := f.run(t, piped(""), "run", "human", "-base-url", "ftp://x"); code != 2 || !strings.Contains(errOut, "-base-url") {
		t.Errorf("run -base-url ftp://x: %d %q", code, errOut)
	}
}
