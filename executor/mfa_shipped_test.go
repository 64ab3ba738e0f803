package executor

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/otp"
	"github.com/authflow/authflow/store"
)

// MFA end to end, over HTTP and through the Go API, with the shipped
// blueprints and a memdir's devices: alice logs in (no device: the
// shipped validation stage skips), sets up TOTP through
// default-authenticator-totp-setup (a wrong code, then the right one)
// and static codes through default-authenticator-static-setup; a new
// login asks for a code: a wrong code, the setup's code replayed, then
// the next step's code, each with authentik's message; a static code
// opens once (on memdir's devices and on the store's), and wrong codes
// end the flow at the attempt limit. With last_auth_threshold set, a login within the
// threshold skips the validation (the remembered-MFA cookie) and one
// after it asks again.
func TestShippedMFA(t *testing.T) {
	for _, c := range []struct {
		over, devices string
	}{{"HTTP", "memdir"}, {"Go API", "memdir"}, {"HTTP", "store"}, {"Go API", "store"}} {
		over := c.over
		t.Run(c.over+" "+c.devices, func(t *testing.T) {
			newH := newMFAHarness
			if c.devices == "store" {
				newH = newStoreMFAHarness
			}
			h := newH(t, "", withExpression)
			loadDefaults(t, h.harness, false)
			loadShipped(t, h.harness, "flow-default-authenticator-totp-setup.yaml")
			loadShipped(t, h.harness, "flow-default-authenticator-static-setup.yaml")
			if err := h.s.Directory().SetPassword(context.Background(), h.alice.PK, ptr("password 1")); err != nil {
				t.Fatal(err)
			}
			const (
				login   = "default-authentication-flow"
				totpSet = "default-authenticator-totp-setup"
				static  = "default-authenticator-static-setup"
				invalid = `{"code":[{"code":"invalid","string":"` + MsgInvalidToken + `"}]}`
			)
			d := newDriver(h.harness, over, "")
			wantChallenge(t, logIn(t, d, "alice", "alice", "password 1"), ComponentRedirect, "to", "/")

			// TOTP setup, planned for alice as the configure endpoint does.
			d.execute(totpSet)
			ch := d.step(totpSet, "")
			wantChallenge(t, ch, ComponentAuthenticatorTOTP, "pending_user", "alice")
			cu := ch["config_url"].(string)
			if !strings.HasPrefix(cu, "otpauth://totp/authentik%3Aalice?secret=") || !strings.HasSuffix(cu, "&algorithm=SHA1&digits=6&period=30&issuer=authentik") {
				t.Fatalf("config_url %s", cu)
			}
			g := otp.TOTP{Key: totpSecret(t, cu)}
			wantChallenge(t, d.step(totpSet, `{"component":"ak-stage-authenticator-totp","code":"000000"}`), ComponentAuthenticatorTOTP,
				"response_errors", `{"code":[{"code":"invalid","string":"Code does not match"}]}`)
			setupCode := g.Code(h.e.now())
			wantChallenge(t, d.step(totpSet, `{"component":"ak-stage-authenticator-totp","code":"`+setupCode+`"}`), ComponentRedirect, "to", "/")

			// Static codes.
			d.execute(static)
			ch = d.step(static, "")
			wantChallenge(t, ch, ComponentAuthenticatorStatic)
			var codes []string
			for _, c := range ch["codes"].([]any) {
				codes = append(codes, c.(string))
			}
			if len(codes) != 6 || len(codes[0]) != 12 {
				t.Fatalf("codes %v", codes)
			}
			wantChallenge(t, d.step(static, `{"component":"ak-stage-authenticator-static"}`), ComponentRedirect, "to", "/")
			devs, _ := h.devs.UserDevices(context.Background(), h.alice.PK)
			if len(devs) != 2 || devs[0].Class != directory.DeviceStatic || devs[1].Class != directory.DeviceTOTP || !devs[0].Confirmed || !devs[1].Confirmed {
				t.Fatalf("devices %v", devs)
			}

			// A login asks for a code.
			d2 := newDriver(h.harness, over, "")
			ch = logIn(t, d2, "alice", "alice", "password 1")
			wantChallenge(t, ch, ComponentAuthenticatorValidate, "pending_user", "alice")
			b, _ := json.Marshal(ch["device_challenges"])
			if got := string(b); got != `[{"challenge":{},"device_class":"static","device_uid":"1","last_used":null},{"challenge":{},"device_class":"totp","device_uid":"1","last_used":null}]` {
				t.Errorf("device_challenges %s", got)
			}
			answer := func(d driver, code string) map[string]any {
				return d.step(login, `{"component":"ak-stage-authenticator-validate","code":"`+code+`"}`)
			}
			wantChallenge(t, answer(d2, "123"), ComponentAuthenticatorValidate, "response_errors", invalid)
			wantChallenge(t, answer(d2, setupCode), ComponentAuthenticatorValidate, "response_errors", invalid)
			h.advance(30 * time.Second)
			wantChallenge(t, answer(d2, g.Code(h.e.now())), ComponentRedirect, "to", "/")
			if ev := h.lastEvent(t, EventLoginFailed); ev.User != "alice" || ev.Message != MsgInvalidToken {
				t.Errorf("login_failed %+v", ev)
			}

			// A static code opens once.
			d3 := newDriver(h.harness, over, "")
			logIn(t, d3, "alice", "alice", "password 1")
			wantChallenge(t, answer(d3, codes[3]), ComponentRedirect, "to", "/")
			d4 := newDriver(h.harness, over, "")
			logIn(t, d4, "alice", "alice", "password 1")
			wantChallenge(t, answer(d4, codes[3]), ComponentAuthenticatorValidate, "response_errors", invalid)
			wantChallenge(t, answer(d4, codes[4]), ComponentRedirect, "to", "/")

			// last_auth_threshold: remembered within, asked after.
			err := h.s.Update(context.Background(), func(tx *store.Tx) error {
				_, err := store.Stages.Patch(tx, store.By("name", "default-authentication-mfa-validation"), []byte(`{"last_auth_threshold": "hours=12"}`), nil)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			d5 := newDriver(h.harness, over, "")
			logIn(t, d5, "alice", "alice", "password 1")
			h.advance(30 * time.Second)
			wantChallenge(t, answer(d5, g.Code(h.e.now())), ComponentRedirect, "to", "/")
			h.advance(11 * time.Hour)
			wantChallenge(t, logIn(t, d5, "alice", "alice", "password 1"), ComponentRedirect, "to", "/")
			h.advance(2 * time.Hour)
			wantChallenge(t, logIn(t, d5, "alice", "alice", "password 1"), ComponentAuthenticatorValidate)
			// Another client was never remembered; its wrong codes end the
			// flow at the attempt limit, with authentik's message.
			d6 := newDriver(h.harness, over, "")
			wantChallenge(t, logIn(t, d6, "alice", "alice", "password 1"), ComponentAuthenticatorValidate)
			for range MaxCodeAttempts - 1 {
				wantChallenge(t, answer(d6, "000000"), ComponentAuthenticatorValidate, "response_errors", invalid)
			}
			wantChallenge(t, answer(d6, "000000"), ComponentAccessDenied, "error_message", MsgInvalidToken)
		})
	}
}
