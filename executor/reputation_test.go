package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/plan"

	"strings"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/stage"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// withReputation keeps the executor's scores in m and evaluates
// reputation policies over them.
func withReputation(m reputation.Scores) harnessOpt {
	return func(o *Options) {
		o.Reputation = m
		o.Plan.Evaluators[policy.ModelReputation] = reputation.Evaluator(m)
	}
}

// withRunStateReputation keeps the executor's scores in its run state
// (RunStateScores), stored in *into, and evaluates reputation policies
// over them.
func withRunStateReputation(t testing.TB, into *reputation.Scores) harnessOpt {
	return func(o *Options) {
		s, err := NewRunStateScores(o.RunState, reputation.Options{Now: o.Now})
		if err != nil {
			t.Fatal(err)
		}
		*into = s
		withReputation(s)(o)
	}
}

func newScores(t testing.TB) *reputation.Mem {
	t.Helper()
	m, err := reputation.NewMem(reputation.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func score(t testing.TB, m reputation.Scores, q reputation.Query) int64 {
	t.Helper()
	n, err := m.Sum(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func byIdentifier(id string) reputation.Query {
	return reputation.Query{Identifier: id, CheckIdentifier: true}
}

var byLoopback = reputation.Query{IP: loopback, CheckIP: true}

// loginFlow is flow f: identification by username, password, and the
// extra entries, then user_login.
func loginFlow(extra ...string) string {
	entries := append([]string{
		stageEntry("authentik_stages_identification.identificationstage", "f", "ident", 0, "user_fields: [username], pretend_user_exists: false", ""),
		stageEntry("authentik_stages_password.passwordstage", "f", "pw", 10, "backends: [authentik.core.auth.InbuiltBackend]", ""),
	}, extra...)
	entries = append(entries, stageEntry("authentik_stages_user_login.userloginstage", "f", "login", 100, "", ""))
	return flowDoc("f", "", entries...)
}

// authentik's policies/reputation/tests.py through the login path, and
// its signals: identification_failed and login_failed lower the score of
// (client IP, identifier) by one, a login raises it by one.
func TestReputationSignals(t *testing.T) {
	t.Run("signals", func(t *testing.T) {
		m := newScores(t)
		h := newHarness(t, loginFlow(), withReputation(m))
		h.userWith("username", "u@example.com", ptr("secret"), true)
		h.get("f", "").want(t, ComponentIdentification)
		h.post("f", "", postJSON(map[string]any{"uid_field": "nobody"})).want(t, ComponentIdentification)
		if got := score(t, m, byIdentifier("nobody")); got != -1 {
			t.Errorf("unknown identifier: %d, want -1", got)
		}
		h.post("f", "", postJSON(map[string]any{"uid_field": "username"})).wantReload(t, h.url("f", ""))
		h.get("f", "").want(t, ComponentPassword)
		h.post("f", "", postJSON(map[string]any{"password": "username"})).want(t, ComponentPassword)
		// test_ip_reputation, test_user_reputation.
		if got := score(t, m, byIdentifier("username")); got != -1 {
			t.Errorf("wrong password: user %d, want -1", got)
		}
		if got := score(t, m, byLoopback); got != -2 {
			t.Errorf("ip %d, want -2", got)
		}
		h.post("f", "", postJSON(map[string]any{"password": "secret"})).wantReload(t, h.url("f", ""))
		h.finish("f", "").want(t, ComponentRedirect, "to", "/")
		if got := score(t, m, byIdentifier("username")); got != 0 {
			t.Errorf("after login: user %d, want 0", got)
		}
		if got := score(t, m, byLoopback); got != -1 {
			t.Errorf("after login: ip %d, want -1", got)
		}
	})
	// test_update_reputation.
	t.Run("update", func(t *testing.T) {
		m := newScores(t)
		if err := m.Add(context.Background(), loopback, "username", 4); err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, loginFlow(), withReputation(m))
		h.userWith("username", "u@example.com", ptr("secret"), true)
		h.get("f", "")
		h.post("f", "", postJSON(map[string]any{"uid_field": "username"}))
		h.get("f", "").want(t, ComponentPassword)
		h.post("f", "", postJSON(map[string]any{"password": "username"})).want(t, ComponentPassword)
		if got := score(t, m, byIdentifier("username")); got != 3 {
			t.Errorf("score %d, want 3", got)
		}
	})
	// A password in the identification stage fails as login_failed.
	t.Run("combined", func(t *testing.T) {
		m := newScores(t)
		h := newHarness(t, identFlow("authentication", ", password_stage: !KeyOf pw"), withReputation(m))
		h.userWith("one", "one@example.com", ptr("secret"), true)
		h.get("f", "")
		h.post("f", "", postJSON(map[string]any{"uid_field": "one@example.com", "password": "wrong"})).want(t, ComponentIdentification)
		if got := score(t, m, byIdentifier("one")); got != -1 {
			t.Errorf("score %d, want -1", got)
		}
	})
}

// Five wrong passwords (the password stage's default
// failed_attempts_before_cancel ends the flow at the fifth) bring the
// score of the client and the username to -5, so that a reputation
// policy with authentik's default threshold (-5) denies the next
// attempt; four do not. Bound to a re-evaluated deny stage, or negated
// to the flow itself (evaluated when planning, so never from a cached
// plan).
func TestReputationDenies(t *testing.T) {
	rep := func(target, attrs string) string {
		return "- model: authentik_policies_reputation.reputationpolicy\n  id: rep\n  identifiers: {name: rep}\n  attrs: {check_ip: true, check_username: true, threshold: -5}\n" +
			"- model: authentik_policies.policybinding\n  identifiers: {target: !KeyOf " + target + ", policy: !KeyOf rep, order: 0}\n" + attrs
	}
	for _, c := range []struct {
		name string
		doc  string
	}{
		{"deny stage", loginFlow(stageEntry("authentik_stages_deny.denystage", "f", "deny", 50, "", "evaluate_on_plan: false, re_evaluate_policies: true"), rep("b-deny", ""))},
		{"flow policy", loginFlow(rep("f", "  attrs: {negate: true}\n"))},
	} {
		for _, failures := range []int{4, 5} {
			for _, inRunState := range []bool{false, true} {
				t.Run(fmt.Sprint(c.name, "/", failures, "/run state ", inRunState), func(t *testing.T) {
					var m reputation.Scores = newScores(t)
					opt := withReputation(m)
					if inRunState {
						opt = withRunStateReputation(t, &m)
					}
					h := newHarness(t, c.doc, opt)
					h.userWith("alice", "alice@example.com", ptr("right"), true)
					h.get("f", "").want(t, ComponentIdentification)
					h.post("f", "", postJSON(map[string]any{"uid_field": "alice"})).wantReload(t, h.url("f", ""))
					h.get("f", "").want(t, ComponentPassword)
					for i := range failures {
						r := h.post("f", "", postJSON(map[string]any{"password": "wrong"}))
						if i < 4 {
							r.want(t, ComponentPassword)
						} else {
							r.want(t, ComponentAccessDenied, "error_message", "Invalid password")
						}
					}
					if got := score(t, m, reputation.Query{IP: loopback, Identifier: "alice", CheckIP: true, CheckIdentifier: true}); got != -int64(failures) {
						t.Fatalf("score %d, want %d", got, -failures)
					}
					r := h.get("f", "")
					if failures == 5 && c.name == "flow policy" {
						r.want(t, ComponentAccessDenied)
						return
					}
					if r.body["component"] == ComponentIdentification {
						h.post("f", "", postJSON(map[string]any{"uid_field": "alice"})).wantReload(t, h.url("f", ""))
						h.get("f", "").want(t, ComponentPassword)
					}
					h.post("f", "", postJSON(map[string]any{"password": "right"})).wantReload(t, h.url("f", ""))
					r = h.finish("f", "")
					if failures == 5 {
						r.want(t, ComponentAccessDenied)
					} else {
						r.want(t, ComponentRedirect, "to", "/")
					}
				})
			}
		}
	}
}

// captchaStandIn is reached when the conditional captcha is shown:
// authflow has no captcha stage yet.
type captchaStandIn struct{}

func (captchaStandIn) Challenge(context.Context, *Step) (Result, error) {
	return Deny("captcha shown"), nil
}
func (captchaStandIn) Respond(context.Context, *Step, json.RawMessage) (Result, error) {
	return Deny("captcha shown"), nil
}

// authentik's example flows-login-conditional-captcha.yaml: its
// reputation policy (threshold -5) on the captcha stage's re-evaluated
// binding shows the captcha after five failed attempts, not before.
func TestReputationConditionalCaptcha(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "blueprint", "testdata", "authentik", "example", "flows-login-conditional-captcha.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, failures := range []int{4, 5} {
		m := newScores(t)
		h := newHarness(t, "", withReputation(m), withHandler(stage.ModelCaptcha, captchaStandIn{}))
		if res, err := blueprint.Load(context.Background(), h.s, strings.NewReader(string(b)), blueprint.Options{}); err != nil || !res.Success {
			t.Fatalf("%v %+v", err, res.Logs)
		}
		h.userWith("alice", "alice@example.com", ptr("right"), true)
		const slug = "default-authentication-flow"
		for i := range failures {
			if i == 0 {
				h.get(slug, "")
				h.post(slug, "", postJSON(map[string]any{"uid_field": "alice"}))
			}
			h.get(slug, "").want(t, ComponentPassword)
			h.post(slug, "", postJSON(map[string]any{"password": "wrong"}))
		}
		if r := h.get(slug, ""); r.body["component"] == ComponentIdentification {
			h.post(slug, "", postJSON(map[string]any{"uid_field": "alice"}))
		}
		h.get(slug, "").want(t, ComponentPassword)
		h.post(slug, "", postJSON(map[string]any{"password": "right"})).wantReload(t, h.url(slug, ""))
		r := h.finish(slug, "")
		if failures == 5 {
			r.want(t, ComponentAccessDenied, "error_message", "captcha shown")
		} else {
			r.want(t, ComponentRedirect, "to", "/")
		}
	}
}

// New's own plan cache evaluates reputation policies over
// Options.Reputation.
func TestReputationDefaultEvaluator(t *testing.T) {
	h := newHarness(t, "")
	ev := h.e.popts.Evaluators[policy.ModelReputation]
	if ev != nil {
		t.Fatal("the harness gives its own evaluators")
	}
	m := newScores(t)
	e, err := New(h.s, Options{Reputation: m})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.popts.Evaluators[policy.ModelReputation] == nil {
		t.Fatal("no reputation evaluator")
	}
	_ = m.Add(context.Background(), loopback, "x", -5)
	r, err := e.popts.Evaluators[policy.ModelReputation].Evaluate(context.Background(),
		policy.Policy{Name: "r", Config: policy.DefaultReputation()}, plan.PolicyRequest{HTTP: &plan.HTTPRequest{ClientIP: loopback}})
	if err != nil || !r.Passing {
		t.Errorf("passing %v, %v; want the Options.Reputation scores", r.Passing, err)
	}
}
