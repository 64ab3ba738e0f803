package browsertest

import (
	"context"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// AddAuthenticator gives the page's tab a virtual authenticator of
// Chromium's DevTools WebAuthn domain, as a device with a passkey
// provider: CTAP 2.1, built in (transport internal), with resident
// keys (discoverable credentials) and user verification that succeeds,
// present at once. Its credentials live as long as the tab: a test that
// registers a passkey uses it in the same page.
func (p *Page) AddAuthenticator() {
	p.t.Helper()
	p.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
		return err
	}))
}

// WaitURL waits, at most ActionTimeout, until the page is at url (after
// navigations the page makes by itself, as a form its script sends),
// and fails the test otherwise.
func (p *Page) WaitURL(url string) {
	p.t.Helper()
	for deadline := time.Now().Add(ActionTimeout); p.URL() != url; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			p.t.Fatalf("browsertest: still at %s after %v, want %s", p.URL(), ActionTimeout, url)
		}
	}
}
