package flowui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/internal/browsertest"
)

// Without JavaScript, a passkey page (here passwordless login) says
// that it needs it, and is accessible. (cmd/authflow's TestBrowserPasskey
// sets a passkey up and logs in with it through serve.)
func TestBrowserPasskeyNoScript(t *testing.T) {
	b := browsertest.Shared(t)
	var host string
	sv := newServerWith(t, func(o *executor.Options, h string) {
		host = h
		o.WebAuthn = &executor.WebAuthnOptions{RPID: "localhost", Origins: []string{h}}
	})
	const doc = `version: 1
entries:
- {model: authentik_flows.flow, id: pwl, identifiers: {slug: passwordless}, attrs: {name: passwordless, title: Passkey login, designation: authentication}}
- {model: authentik_stages_authenticator_validate.authenticatorvalidatestage, id: v, identifiers: {name: pwl-validate}, attrs: {device_classes: [webauthn]}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf pwl, stage: !KeyOf v, order: 0}}
`
	if res, err := blueprint.Load(context.Background(), sv.s, strings.NewReader(doc), blueprint.Options{}); err != nil || !res.Success {
		t.Fatalf("%v %+v", err, res.Logs)
	}
	p := b.NewPage(t, browsertest.Options{NoScript: true})
	p.Navigate(host + "/if/flow/passwordless/")
	if got := p.Text("main"); !strings.Contains(got, "A passkey needs JavaScript") {
		t.Errorf("page without JavaScript: %q", got)
	}
	p.Accessible()
}
