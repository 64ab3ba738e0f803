package flowui_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/internal/browsertest"
	"github.com/authflow/authflow/password"
)

// TestMain stops the shared browser of the browser tests.
func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.CloseShared()
	os.Exit(code)
}

// passkeyDoc adds a passwordless flow (WebAuthn validation without a
// user, then the login) and links it from the default authentication
// flow's identification stage ("Use a security key").
const passkeyDoc = `version: 1
entries:
- {model: authentik_flows.flow, id: pwl, identifiers: {slug: passwordless}, attrs: {name: passwordless, title: Passkey login, designation: authentication}}
- {model: authentik_stages_authenticator_validate.authenticatorvalidatestage, id: pwl-validate, identifiers: {name: pwl-validate},
   attrs: {device_classes: [webauthn], not_configured_action: deny, webauthn_user_verification: required}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf pwl, stage: !KeyOf pwl-validate, order: 0}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf pwl, stage: !Find [authentik_stages_user_login.userloginstage, [name, default-authentication-login]], order: 10}}
- {model: authentik_stages_identification.identificationstage, identifiers: {name: default-authentication-identification},
   attrs: {passwordless_flow: !KeyOf pwl}}
`

// passkeyServer is serve's pages over authentik's default blueprints and
// passkeyDoc, with users and devices in a memdir (alice, password
// alicepass) and the WebAuthn relying party localhost, on
// http://localhost:port.
type passkeyServer struct {
	host string
	dir  *memdir.Dir
	user directory.User
}

func newPasskeyServer(t *testing.T) *passkeyServer {
	t.Helper()
	ctx := context.Background()
	pw := password.Policy{Iterations: 1000}
	dir, err := memdir.New(memdir.Options{Policy: pw})
	if err != nil {
		t.Fatal(err)
	}
	u := directory.DefaultUser()
	u.Username, u.Name, u.Email, u.IsActive = "alice", "Alice", "alice@example.org", true
	if u, err = dir.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	secret := "alicepass"
	if err := dir.SetPassword(ctx, u.PK, &secret); err != nil {
		t.Fatal(err)
	}
	var host string
	sv := newServerWith(t, func(o *executor.Options, h string) {
		host = h
		o.Directory, o.Plan.Directory = dir, dir
		o.WebAuthn = &executor.WebAuthnOptions{RPID: "localhost", Origins: []string{h}}
	})
	if res, err := blueprint.Load(ctx, sv.s, strings.NewReader(passkeyDoc), blueprint.Options{}); err != nil || !res.Success {
		t.Fatalf("passkeyDoc: %v %+v", err, res.Logs)
	}
	return &passkeyServer{host: host, dir: dir, user: u}
}

// waitFor waits until p shows the page at url (the page's script sends
// its form by itself), and returns the text of its main element.
func waitFor(t *testing.T, p *browsertest.Page, url string) string {
	t.Helper()
	p.WaitURL(url)
	return p.Text("main")
}

// A passkey in a real browser (issue 23): alice logs in with her
// password, registers a passkey through the shipped
// default-authenticator-webauthn-setup flow, logs out, logs in through
// default-authentication-flow (password, then the passkey), logs out,
// and logs in without a password through the passwordless flow linked
// from the identification page. The authenticator is Chromium's virtual
// one (DevTools WebAuthn domain).
func TestBrowserPasskey(t *testing.T) {
	b := browsertest.Shared(t)
	sv := newPasskeyServer(t)
	p := b.NewPage(t, browsertest.Options{})
	p.AddAuthenticator()
	landing := sv.host + "/"

	passwordLogin := func() {
		t.Helper()
		p.Navigate(sv.host + "/")
		p.Type(p.Field("Email or Username"), "alice")
		p.Click(p.Button("Log in"))
		p.Type(p.Field("Password"), "alicepass")
		p.Click(p.Button("Continue"))
	}
	logout := func() {
		t.Helper()
		p.Click(p.Button("Log out"))
		p.Navigate(sv.host + "/")
		if !strings.Contains(p.URL(), "/if/flow/default-authentication-flow/") {
			t.Fatalf("after the logout, / is %s", p.URL())
		}
	}

	// No device yet: the validation stage skips.
	passwordLogin()
	if got := waitFor(t, p, landing); !strings.Contains(got, "You are logged in as alice.") {
		t.Fatalf("landing: %q", got)
	}

	// Register a passkey.
	p.Navigate(sv.host + "/if/flow/default-authenticator-webauthn-setup/")
	if got := waitFor(t, p, landing); !strings.Contains(got, "You are logged in as alice.") {
		t.Fatalf("after the setup: %q", got)
	}
	devs, err := sv.dir.UserDevices(context.Background(), sv.user.PK)
	if err != nil || len(devs) != 1 || devs[0].Class != directory.DeviceWebAuthn || devs[0].Name != executor.DefaultWebAuthnDeviceName ||
		devs[0].WebAuthn.RPID != "localhost" {
		t.Fatalf("devices %v %v", devs, err)
	}
	count := devs[0].WebAuthn.SignCount
	logout()

	// Password, then the passkey.
	passwordLogin()
	if got := waitFor(t, p, landing); !strings.Contains(got, "You are logged in as alice.") {
		t.Fatalf("after the second factor: %q", got)
	}
	used, err := sv.dir.Device(context.Background(), directory.DeviceWebAuthn, devs[0].PK)
	if err != nil || used.LastUsed == nil || (count > 0 && used.WebAuthn.SignCount <= count) {
		t.Errorf("device after the login: %v %v", used, err)
	}
	logout()

	// Passwordless, from the identification page's link.
	p.Navigate(sv.host + "/")
	p.Click(p.Button("Use a security key"))
	if got := waitFor(t, p, landing); !strings.Contains(got, "You are logged in as alice.") {
		t.Fatalf("after the passwordless login: %q", got)
	}
}

// Without JavaScript, the passkey page says that it needs it, and is
// accessible.
func TestBrowserPasskeyNoScript(t *testing.T) {
	b := browsertest.Shared(t)
	sv := newPasskeyServer(t)
	p := b.NewPage(t, browsertest.Options{NoScript: true})
	p.Navigate(sv.host + "/if/flow/passwordless/")
	if got := p.Text("main"); !strings.Contains(got, "A passkey needs JavaScript") {
		t.Errorf("page without JavaScript: %q", got)
	}
	p.Accessible()
}
