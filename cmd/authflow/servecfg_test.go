package main_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/internal/testutil"
)

var recoveryLink = regexp.MustCompile(`https://auth\.example\.test/if/flow/default-recovery-flow/\?flow_token=[A-Za-z0-9_-]+`)

// serve's executor flags, end to end: authentik's example recovery flow
// (its email stage uses the global settings) sends its email through the
// SMTP server of -smtp-host and -smtp-port, authenticated with
// -smtp-username and the password of -smtp-password-file, from
// -smtp-from, with a link under -base-url that restores the flow in
// another browser. The password is in no output of serve.
func TestServeEmail(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	pwFile := filepath.Join(dir, "pw")
	smtpPwFile := filepath.Join(dir, "smtp-pw")
	const smtpPassword = "smtp-s3cret-value"
	if err := os.WriteFile(pwFile, []byte("old password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(smtpPwFile, []byte(smtpPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runExit(t, bin, "import", "-db", db, filepath.Join("..", "..", "blueprint", "testdata", "authentik", "example", "flows-recovery-email-verification.yaml")); code != 0 {
		t.Fatalf("import: %d %s", code, errs)
	}
	if code, _, errs := runExit(t, bin, "users", "add", "-db", db, "-username", "forgetful", "-email", "forgetful@example.com", "-password-file", pwFile); code != 0 {
		t.Fatalf("users add: %d %s", code, errs)
	}
	tcp, got := testutil.SMTPServer(t)
	port := tcp.Port
	srv := start(t, bin, db, "-no-defaults", "-base-url", "https://auth.example.test/",
		"-smtp-host", "127.0.0.1", "-smtp-port", strconv.Itoa(port), "-smtp-username", "mailer",
		"-smtp-password-file", smtpPwFile, "-smtp-from", "auth@example.test")

	b := newBrowser(t, srv)
	want(t, b.challenge("default-recovery-flow", ""), "ak-stage-identification")
	want(t, b.challenge("default-recovery-flow", `{"component":"ak-stage-identification","uid_field":"forgetful@example.com"}`), "ak-stage-email")
	var sess testutil.SMTPSession
	select {
	case sess = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no email")
	}
	var auth string
	for _, c := range sess.Commands {
		if strings.HasPrefix(c, "AUTH PLAIN ") {
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(c, "AUTH PLAIN "))
			auth = string(raw)
		}
	}
	if auth != "\x00mailer\x00"+smtpPassword {
		t.Errorf("AUTH PLAIN %q, want the username and the file's password: %q", auth, sess.Commands)
	}
	if !containsLine(sess.Commands, "MAIL FROM:<auth@example.test>") || !containsLine(sess.Commands, "RCPT TO:<forgetful@example.com>") {
		t.Errorf("envelope %q", sess.Commands)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(sess.Data)))
	if err != nil {
		t.Fatal(err)
	}
	link := recoveryLink.FindString(string(body))
	if link == "" {
		t.Fatalf("no link under -base-url in the email:\n%s", body)
	}

	// The link, opened in another browser: the executor is given the
	// page's query.
	u, _ := url.Parse(link)
	other := newBrowser(t, srv)
	res, err := other.c.Get(other.host + "/api/v3/flows/executor/default-recovery-flow/?query=" + url.QueryEscape(u.RawQuery))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(raw), `"component":"ak-stage-consent"`) || !strings.Contains(string(raw), `"pending_user":"forgetful"`) {
		t.Errorf("the link: %d %s", res.StatusCode, raw)
	}
	if err := srv.stop(t); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(srv.stderr.String(), smtpPassword) {
		t.Errorf("serve's log holds the SMTP password:\n%s", srv.stderr)
	}
}

func containsLine(lines []string, l string) bool {
	for _, x := range lines {
		if x == l {
			return true
		}
	}
	return false
}

// Executor flags that do not go together are usage errors, and an SMTP
// password file that cannot be read stops serve, naming the file; no
// message holds a password.
func TestServeExecutorFlagErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-smtp-tls", "-smtp-ssl"}, 2, "-smtp-tls and -smtp-ssl are mutually exclusive"},
		{[]string{"-smtp-password-file", empty}, 2, "-smtp-password-file needs -smtp-username"},
		{[]string{"-smtp-port", "0"}, 2, "-smtp-port 0 is not a port"},
		{[]string{"-base-url", "auth.example.com"}, 2, `-base-url: "auth.example.com" is not an http or https URL`},
		{[]string{"-trusted-origin", "https://app.example.com/path"}, 2, "it has a path"},
		{[]string{"-execution-ttl", "999ms"}, 2, "-execution-ttl must be at least 1s (999ms)"},
		{[]string{"-smtp-username", "u", "-smtp-password-file", filepath.Join(dir, "missing")}, 1, "reading the SMTP password: open " + filepath.Join(dir, "missing")},
		{[]string{"-smtp-username", "u", "-smtp-password-file", empty}, 1, "the SMTP password file " + empty + " is empty"},
	} {
		code, _, errs := runExit(t, bin, append([]string{"serve", "-db", db, "-addr", "127.0.0.1:0"}, c.args...)...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, want %d; stderr %q, want %q", c.args, code, c.code, errs, c.msg)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a refused start left %s: %v", db, err)
	}
}

// -trusted-origin lets a browser on another origin POST to the executor;
// -base-url's origin is trusted too; any other origin is refused.
func TestServeTrustedOrigin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	srv := start(t, bin, filepath.Join(t.TempDir(), "x.db"), "-no-defaults",
		"-trusted-origin", "https://app.example.com", "-base-url", "https://auth.example.test")
	post := func(origin string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.base+"flows/executor/none/", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		res, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// An unknown flow is 404 once the origin check passed.
	for origin, code := range map[string]int{
		"https://app.example.com":   http.StatusNotFound,
		"https://auth.example.test": http.StatusNotFound,
		"https://evil.example.com":  http.StatusForbidden,
	} {
		if got := post(origin); got != code {
			t.Errorf("POST from %s: %d, want %d", origin, got, code)
		}
	}
}

// Without -smtp-host, an email stage with use_global_settings sends
// nothing, and a log line says why (the client sees the email challenge:
// messages leave in the background, as in authentik); without -base-url,
// serve logs where the links would point.
func TestServeEmailWithoutSMTPHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	if code, _, errs := runExit(t, bin, "import", "-db", db, filepath.Join("..", "..", "blueprint", "testdata", "authentik", "example", "flows-recovery-email-verification.yaml")); code != 0 {
		t.Fatalf("import: %d %s", code, errs)
	}
	if code, _, errs := runExit(t, bin, "users", "add", "-db", db, "-username", "forgetful", "-email", "forgetful@example.com", "-no-password"); code != 0 {
		t.Fatalf("users add: %d %s", code, errs)
	}
	srv := start(t, bin, db, "-no-defaults")
	b := newBrowser(t, srv)
	want(t, b.challenge("default-recovery-flow", ""), "ak-stage-identification")
	want(t, b.challenge("default-recovery-flow", `{"component":"ak-stage-identification","uid_field":"forgetful@example.com"}`), "ak-stage-email")
	if err := srv.stop(t); err != nil {
		t.Fatal(err)
	}
	log := srv.stderr.String()
	if !strings.Contains(log, "no -base-url: the email stage's links begin with "+b.host) || !strings.Contains(log, "configuration_error: The email to forgetful@example.com was not sent: executor: no SMTP host is configured") {
		t.Errorf("serve's log:\n%s", log)
	}
}

// -execution-ttl bounds how long an execution is kept: with a TTL of one
// second, a request more than a second after the last finds the
// execution expired, and the flow says so as it starts over.
func TestServeExecutionTTL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	for ttl, expired := range map[string]bool{"1s": true, "1h": false} {
		srv := start(t, bin, filepath.Join(t.TempDir(), "x.db"), "-execution-ttl", ttl)
		b := newBrowser(t, srv)
		want(t, b.challenge("default-authentication-flow", ""), "ak-stage-identification")
		time.Sleep(1100 * time.Millisecond) // past the shorter TTL, whatever the machine's speed
		ch := b.challenge("default-authentication-flow", "")
		want(t, ch, "ak-stage-identification")
		errs, _ := json.Marshal(ch["response_errors"])
		if got := strings.Contains(string(errs), "This flow had expired and has started over."); got != expired {
			t.Errorf("-execution-ttl %s: second challenge's errors %s", ttl, errs)
		}
		if err := srv.stop(t); err != nil {
			t.Fatal(err)
		}
	}
}
