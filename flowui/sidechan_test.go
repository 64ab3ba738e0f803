package flowui_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/store"
)

// mailCode waits for the nth mail (the executor sends in the
// background), at most 10 s, and returns the code it holds.
func (sv *server) mailCode(t testing.TB, n int) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		sv.mu.Lock()
		if len(sv.mails) >= n {
			text := sv.mails[n-1].Text
			sv.mu.Unlock()
			if c := regexp.MustCompile(`\n(\d{6})\n`).FindStringSubmatch(text); c != nil {
				return c[1]
			}
			t.Fatalf("no code in %q", text)
		}
		sv.mu.Unlock()
	}
	t.Fatalf("no mail %d", n)
	return ""
}

// An email device through the pages: akadmin sets it up (the code is
// mailed to the account's address at once, the page shows it masked and
// asks for the code, a wrong one refused), then logs in, sends a code
// from the validation page and logs in with it.
func TestEmailDeviceThroughPages(t *testing.T) {
	devs, err := memdir.New(memdir.Options{Policy: password.Policy{Iterations: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	sv := newServerWith(t, func(o *executor.Options, _ string) { o.Devices = devs })
	sv.load(stageThenDummy("email-setup", "authentik_stages_authenticator_email.authenticatoremailstage", "{}"))
	b := sv.browser()
	setup(t, b, "admin Passw0rd")
	ctx := context.Background()
	admin, err := sv.s.Directory().FindUser(ctx, directory.Find{Identifier: "akadmin", Fields: []directory.Field{directory.FieldUsername}})
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= admin.PK; i++ {
		u := directory.DefaultUser()
		u.Username = "u" + string(rune('a'+i))
		if _, err := devs.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}

	p := b.get("/if/flow/email-setup/")
	p.wantComponent(t, executor.ComponentAuthenticatorEmail)
	code := sv.mailCode(t, 1)
	if !strings.Contains(p.body, "r***@e******.org") || attrOf(p.input("code"), "autocomplete") != "one-time-code" {
		t.Fatalf("the setup page: %s", p.body)
	}
	wrong := "111111"
	if code == wrong {
		wrong = "222222"
	}
	p = b.submit(map[string]string{"code": wrong})
	if !strings.Contains(p.body, executor.MsgCodeMismatch) {
		t.Fatalf("wrong code: %s", p.body)
	}
	b.submit(map[string]string{"code": code}).wantComponent(t, executor.ComponentDummy)

	err = sv.s.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Stages.Patch(tx, store.By("name", "default-authentication-mfa-validation"), []byte(`{"device_classes": ["email", "totp"]}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b.get("/if/flow/default-invalidation-flow/")
	b.get("/if/flow/default-authentication-flow/").wantComponent(t, executor.ComponentIdentification)
	b.submit(map[string]string{"uid_field": "akadmin"})
	p = b.submit(map[string]string{"password": "admin Passw0rd"})
	p.wantComponent(t, executor.ComponentAuthenticatorValidate)
	if !strings.Contains(p.body, "A code sent by email (r***@e******.org)") {
		t.Fatalf("the validation page: %s", p.body)
	}
	p = b.submit(map[string]string{"@button": "Send a code"})
	p.wantComponent(t, executor.ComponentAuthenticatorValidate)
	if !strings.Contains(p.body, "A code is on its way") || strings.Contains(p.body, executor.MsgEmptyResponse) {
		t.Fatalf("after sending: %s", p.body)
	}
	code = sv.mailCode(t, 2)
	b.submit(map[string]string{"@button": "Continue", "code": code}).want(t, 200, "/")
}
