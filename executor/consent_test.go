package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// contextSetter is a stage handler (standing in for dummy stages) that
// writes its values into the plan context and passes, as an OAuth
// authorization or application launch sets the consent keys.
type contextSetter struct {
	mu   *sync.Mutex
	vals map[string]any
}

func (c contextSetter) Challenge(_ context.Context, s *Step) (Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.vals {
		b, _ := json.Marshal(v)
		var x any
		_ = json.Unmarshal(b, &x)
		s.Context[k] = x
	}
	return Pass(), nil
}
func (c contextSetter) Respond(ctx context.Context, s *Step, _ json.RawMessage) (Result, error) {
	return c.Challenge(ctx, s)
}

type consentHarness struct {
	*harness
	set contextSetter
}

// newConsent is flow f: the pending user "one" (pk 1), a stage setting
// the context, and a consent stage with attrs.
func newConsent(t testing.TB, attrs string) *consentHarness {
	set := contextSetter{mu: &sync.Mutex{}, vals: map[string]any{}}
	h := newHarness(t, flowDoc("f", "", policyOn("f", "pending1", true), dummy("f", "set", 0, ""),
		stageEntry("authentik_stages_consent.consentstage", "f", "consent", 1, attrs, "")), withHandler("authentik_stages_dummy.dummystage", set))
	h.userWith("one", "one@example.com", nil, true)
	return &consentHarness{h, set}
}

func (c *consentHarness) context(kv ...any) {
	c.set.mu.Lock()
	defer c.set.mu.Unlock()
	clear(c.set.vals)
	for i := 0; i+1 < len(kv); i += 2 {
		c.set.vals[kv[i].(string)] = kv[i+1]
	}
}

func perms(ids ...string) []map[string]any {
	out := []map[string]any{}
	for _, id := range ids {
		out = append(out, map[string]any{"id": id, "name": "Permission " + id})
	}
	return out
}

// consent answers the consent challenge with its token.
func (c *consentHarness) consent(t *testing.T) reply {
	t.Helper()
	r := c.finish("f", "")
	r.want(t, ComponentConsent)
	return c.post("f", "", postJSON(map[string]any{"component": ComponentConsent, "token": r.body["token"]}))
}

// stored is the consent kept for user 1 and app.
func (c *consentHarness) stored(app string) (string, time.Time, bool) {
	rec, err := c.rs.Load(context.Background(), Consents, consentKey(1, app))
	if err != nil {
		return "", time.Time{}, false
	}
	var sc storedConsent
	_ = json.Unmarshal(rec.Data, &sc)
	return sc.Permissions, rec.Expires, true
}

// A wrong token re-shows the prompt with authentik's message
// (test_mismatched_token); the right one passes, keeping nothing in
// always_require (test_always_required).
func TestConsentAlwaysRequired(t *testing.T) {
	c := newConsent(t, "mode: always_require")
	c.context("application", map[string]any{"pk": "app1", "name": "App"}, "consent_header", "You're about to sign into App.")
	r0 := c.finish("f", "")
	r0.want(t, ComponentConsent, "header_text", "You're about to sign into App.", "permissions", "[]", "additional_permissions", "[]", "pending_user", "one")
	r := c.post("f", "", `{"component": "ak-stage-consent", "token": "nope"}`)
	r.want(t, ComponentConsent)
	if !strings.Contains(string(r.raw), `"response_errors":{"token":[{"string":"Invalid consent token, re-showing prompt","code":"invalid"}]}`) {
		t.Errorf("%s", r.raw)
	}
	// Every rendering has a new token: the one before is refused.
	r = c.post("f", "", postJSON(map[string]any{"token": r0.body["token"]}))
	if r.body["token"] == r0.body["token"] || !strings.Contains(string(r.raw), MsgInvalidConsentToken) {
		t.Errorf("%s", r.raw)
	}
	c.post("f", "", postJSON(map[string]any{"token": r.body["token"]})).want(t, ComponentRedirect, "to", "/")
	if _, _, ok := c.stored("app1"); ok {
		t.Error("always_require kept a consent")
	}
	c.finish("f", "").want(t, ComponentConsent)
}

// permanent keeps the consent, which later runs pass without a prompt
// when the permissions are the same (test_permanent,
// test_permanent_same).
func TestConsentPermanent(t *testing.T) {
	c := newConsent(t, "mode: permanent")
	c.context("application", map[string]any{"pk": "app1"}, "consent_permissions", perms("foo"))
	c.consent(t).want(t, ComponentRedirect, "to", "/")
	p, exp, ok := c.stored("app1")
	if !ok || p != "foo" || exp.Before(c.e.now().Add(50*365*24*time.Hour)) {
		t.Fatalf("stored %q %v %v", p, exp, ok)
	}
	c.finish("f", "").want(t, ComponentRedirect, "to", "/")
	// Another application asks again.
	c.context("application", map[string]any{"pk": "app2"}, "consent_permissions", perms("foo"))
	c.finish("f", "").want(t, ComponentConsent)
}

// A stored consent with other permissions shows the granted ones and the
// new ones apart, and the answer keeps them all
// (test_permanent_more_perms, test_permanent_less_perms).
func TestConsentPermissionsChanged(t *testing.T) {
	c := newConsent(t, "mode: permanent")
	c.context("application", map[string]any{"pk": "app1"}, "consent_permissions", perms("foo"))
	c.consent(t)
	c.context("application", map[string]any{"pk": "app1"}, "consent_permissions", perms("foo", "bar"))
	r := c.finish("f", "")
	r.want(t, ComponentConsent)
	if got := fmt.Sprint(r.body["permissions"], r.body["additional_permissions"]); got != "[map[id:foo name:Permission foo]] [map[id:bar name:Permission bar]]" {
		t.Errorf("permissions %s", got)
	}
	c.post("f", "", postJSON(map[string]any{"token": r.body["token"]})).want(t, ComponentRedirect)
	if p, _, _ := c.stored("app1"); p != "foo bar" {
		t.Errorf("stored %q", p)
	}
	c.context("application", map[string]any{"pk": "app1"}, "consent_permissions", perms("foo"))
	r = c.finish("f", "")
	if got := fmt.Sprint(r.body["permissions"], r.body["additional_permissions"]); got != "[map[id:foo name:Permission foo]] []" {
		t.Errorf("permissions %s", got)
	}
	c.post("f", "", postJSON(map[string]any{"token": r.body["token"]})).want(t, ComponentRedirect)
	if p, _, _ := c.stored("app1"); p != "foo" {
		t.Errorf("stored %q", p)
	}
}

// expiring keeps the consent consent_expire_in (test_expire).
func TestConsentExpiring(t *testing.T) {
	c := newConsent(t, "mode: expiring, consent_expire_in: seconds=1")
	c.context("application", map[string]any{"pk": "app1"})
	c.consent(t).want(t, ComponentRedirect)
	if _, exp, ok := c.stored("app1"); !ok || !exp.Equal(c.e.now().Add(time.Second)) {
		t.Fatalf("expires %v %v", exp, ok)
	}
	c.finish("f", "").want(t, ComponentRedirect)
	c.advance(2 * time.Second)
	c.finish("f", "").want(t, ComponentConsent)
}

// Without an application the stage always asks and keeps nothing.
func TestConsentNoApplication(t *testing.T) {
	c := newConsent(t, "mode: permanent")
	c.consent(t).want(t, ComponentRedirect)
	if n := c.rs.Usage().Records; n != 0 {
		t.Errorf("%d records kept", n)
	}
	c.finish("f", "").want(t, ComponentConsent)
}
