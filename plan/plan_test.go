package plan_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

func load(t *testing.T, doc string) *store.Store {
	t.Helper()
	s := openStore(t)
	loadInto(t, s, doc)
	return s
}

// openStore opens an empty store, closed when the test ends.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "p.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// loadInto applies the blueprint doc to s.
func loadInto(t *testing.T, s *store.Store, doc string) {
	t.Helper()
	if _, err := blueprint.Load(context.Background(), s, strings.NewReader(doc), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
}

func makePlan(t *testing.T, s *store.Store, req plan.Request, opts plan.Options) (plan.Plan, error) {
	t.Helper()
	var p plan.Plan
	err := s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		p, err = plan.Make(context.Background(), tx, "login", req, opts)
		return err
	})
	return p, err
}

const login = `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication, authentication: %AUTH%, denied_action: continue}
- model: authentik_stages_identification.identificationstage
  id: ident
  identifiers: {name: ident}
  attrs: {user_fields: [username]}
- model: authentik_stages_password.passwordstage
  id: pw
  identifiers: {name: pw}
  attrs: {backends: [authentik.core.auth.InbuiltBackend]}
- model: authentik_stages_user_login.userloginstage
  id: done
  identifiers: {name: done}
- model: authentik_flows.flowstagebinding
  id: b-done
  identifiers: {target: !KeyOf flow, stage: !KeyOf done, order: 30}
  attrs: {re_evaluate_policies: false, evaluate_on_plan: true}
- model: authentik_flows.flowstagebinding
  id: b-pw
  identifiers: {target: !KeyOf flow, stage: !KeyOf pw, order: 20}
  attrs: {evaluate_on_plan: true, re_evaluate_policies: false}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf ident, order: 10}
- model: authentik_policies_dummy.dummypolicy
  id: no
  identifiers: {name: no}
  attrs: {result: false}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf b-pw, policy: !KeyOf no, order: 0}
`

func doc(auth string) string { return strings.Replace(login, "%AUTH%", auth, 1) }

// Stages in binding order, a binding whose policies fail when planned
// dropped, markers by re_evaluate_policies, and a trace of it all.
func TestPlanStages(t *testing.T) {
	s := load(t, doc("none"))
	p, err := makePlan(t, s, plan.Request{}, plan.Options{})
	if err != nil || !p.Applicable {
		t.Fatalf("plan: %+v, %v", p, err)
	}
	var got []string
	for _, st := range p.Stages {
		got = append(got, st.Name+":"+string(st.Marker))
	}
	if strings.Join(got, ",") != "ident:reevaluate,done:stage" {
		t.Errorf("stages = %v", got)
	}
	dropped := false
	for _, step := range p.Trace {
		if step.What == "binding" && !step.Passing && strings.Contains(step.Why, "dropped") && len(step.Messages) == 1 && step.Messages[0] == "dummy" {
			dropped = true
		}
	}
	if !dropped {
		t.Errorf("trace does not show the dropped binding: %+v", p.Trace)
	}
}

// The authentication requirements, against the request user.
func TestPlanAuthentication(t *testing.T) {
	for _, tt := range []struct {
		auth string
		req  plan.Request
		ok   bool
	}{
		{"require_authenticated", plan.Request{}, false},
		{"require_authenticated", plan.Request{User: plan.User{Authenticated: true}}, true},
		{"require_unauthenticated", plan.Request{User: plan.User{Authenticated: true}}, false},
		{"require_superuser", plan.Request{User: plan.User{Authenticated: true}}, false},
		// Superuser status is the directory's: ann's group is below a
		// superuser group; plain is in none.
		{"require_superuser", plan.Request{User: plan.User{PK: plainPK, Authenticated: true}}, false},
		{"require_superuser", plan.Request{User: plan.User{PK: annPK, Authenticated: true}}, true},
		{"require_superuser", plan.Request{User: plan.User{PK: annPK}}, false},
		{"require_redirect", plan.Request{}, false},
		{"require_redirect", plan.Request{Context: map[string]any{"is_redirected": "x"}}, true},
		{"require_outpost", plan.Request{}, false},
		{"require_outpost", plan.Request{Outpost: true}, true},
	} {
		s := openStore(t)
		newDirectory(t, s)
		loadInto(t, s, doc(tt.auth))
		p, err := makePlan(t, s, tt.req, plan.Options{})
		if err != nil || p.Applicable != tt.ok || (!tt.ok && p.DeniedAction != "continue") {
			t.Errorf("%s %+v: %+v, %v", tt.auth, tt.req, p, err)
		}
	}
}

// Flow policies under the engine's semantics: mode, negate, failure
// result on an error or a timeout, group and user bindings, disabled
// bindings, and a kind without an evaluator.
func TestPlanFlowPolicies(t *testing.T) {
	for _, tt := range []struct {
		name, bindings, mode string
		req                  plan.Request
		ok                   bool
		msgs                 string
	}{
		{"no bindings pass", "", "any", plan.Request{}, true, ""},
		{"dummy false denies", "- {policy: !KeyOf f, order: 0}", "any", plan.Request{}, false, "dummy"},
		{"negated", "- {policy: !KeyOf f, order: 0, negate: true}", "any", plan.Request{}, true, "dummy"},
		{"any of two", "- {policy: !KeyOf f, order: 0}\n- {policy: !KeyOf t, order: 1}", "any", plan.Request{}, true, "dummy,dummy"},
		{"all of two", "- {policy: !KeyOf f, order: 0}\n- {policy: !KeyOf t, order: 1}", "all", plan.Request{}, false, "dummy,dummy"},
		{"disabled is invisible", "- {policy: !KeyOf f, order: 0, enabled: false}", "all", plan.Request{}, true, ""},
		// Groups and users are the directory's (newDirectory): ann is in
		// eng, below staff, below admins.
		{"group member", "- {group: GROUP_eng, order: 0}", "all", plan.Request{User: plan.User{PK: annPK}}, true, ""},
		{"member of a group below", "- {group: GROUP_admins, order: 0}", "all", plan.Request{User: plan.User{PK: annPK}}, true, ""},
		{"not a member", "- {group: GROUP_eng, order: 0}", "all", plan.Request{User: plan.User{PK: plainPK}}, false, ""},
		{"not a member, negated", "- {group: GROUP_eng, order: 0, negate: true}", "all", plan.Request{User: plan.User{PK: plainPK}}, true, ""},
		{"anonymous", "- {group: GROUP_eng, order: 0}", "all", plan.Request{}, false, plan.MsgAnonymousGroups},
		{"anonymous, negate not applied", "- {group: GROUP_eng, order: 0, negate: true}", "all", plan.Request{}, false, plan.MsgAnonymousGroups},
		{"the user", "- {user: 2, order: 0}", "all", plan.Request{User: plan.User{PK: annPK, Authenticated: true}}, true, ""},
		{"the user, not authenticated", "- {user: 2, order: 0}", "all", plan.Request{User: plan.User{PK: annPK}}, false, ""},
		{"another user", "- {user: 2, order: 0}", "all", plan.Request{User: plan.User{PK: plainPK, Authenticated: true}}, false, ""},
		{"error: failure_result true, not negated", "- {policy: !KeyOf slow, order: 0, failure_result: true, negate: true, timeout: 1}", "all", plan.Request{}, true, "context deadline exceeded"},
		{"error: failure_result false", "- {policy: !KeyOf slow, order: 0, timeout: 1}", "all", plan.Request{}, false, "context deadline exceeded"},
	} {
		var b strings.Builder
		b.WriteString(`version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: W, designation: authentication, policy_engine_mode: ` + tt.mode + `}
- model: authentik_stages_deny.denystage
  id: st
  identifiers: {name: st}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf st, order: 0}
- model: authentik_policies_dummy.dummypolicy
  id: f
  identifiers: {name: f}
- model: authentik_policies_dummy.dummypolicy
  id: t
  identifiers: {name: t}
  attrs: {result: true}
- model: authentik_policies_expression.expressionpolicy
  id: slow
  identifiers: {name: slow}
  attrs: {expression: wait}
`)
		for _, line := range strings.Split(tt.bindings, "\n") {
			if line == "" {
				continue
			}
			attrs := strings.TrimSuffix(strings.TrimPrefix(line, "- {"), "}")
			b.WriteString("- model: authentik_policies.policybinding\n  identifiers: {target: !KeyOf flow, " + attrs + "}\n")
		}
		s := openStore(t)
		d := newDirectory(t, s)
		loadInto(t, s, d.replace(b.String()))
		evs := plan.Builtin(nil)
		evs[policy.ModelExpression] = plan.EvaluatorFunc(func(ctx context.Context, _ policy.Policy, _ plan.PolicyRequest) (plan.Result, error) {
			<-ctx.Done()
			return plan.Result{}, ctx.Err()
		})
		p, err := makePlan(t, s, tt.req, plan.Options{Evaluators: evs})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if p.Applicable != tt.ok || strings.Join(p.Messages, ",") != tt.msgs && !tt.ok {
			t.Errorf("%s: applicable %v messages %q, want %v %q", tt.name, p.Applicable, p.Messages, tt.ok, tt.msgs)
		}
	}
	s := load(t, `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: W, designation: authentication}
- model: authentik_policies_reputation.reputationpolicy
  id: r
  identifiers: {name: rep}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf flow, policy: !KeyOf r, order: 0}
`)
	if _, err := makePlan(t, s, plan.Request{}, plan.Options{}); !errors.Is(err, plan.ErrNoEvaluator) || !strings.Contains(err.Error(), `"rep"`) {
		t.Errorf("no evaluator: %v", err)
	}
}

// An empty plan is an error unless allowed.
func TestPlanEmpty(t *testing.T) {
	s := load(t, "version: 1\nentries:\n- model: authentik_flows.flow\n  identifiers: {slug: login}\n  attrs: {name: L, title: T, designation: authentication}\n")
	if _, err := makePlan(t, s, plan.Request{}, plan.Options{}); !errors.Is(err, plan.ErrEmptyFlow) {
		t.Errorf("empty: %v", err)
	}
	if p, err := makePlan(t, s, plan.Request{}, plan.Options{AllowEmpty: true}); err != nil || !p.Applicable {
		t.Errorf("empty allowed: %+v %v", p, err)
	}
}

// The password evaluator's static rules, on prompt_data, and password
// expiry from the user's change date.
func TestBuiltinEvaluators(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	evs := plan.Builtin(func() time.Time { return now })
	pw := policy.DefaultPassword()
	pw.LengthMin, pw.AmountDigits, pw.AmountUppercase, pw.AmountSymbols, pw.ErrorMessage = 8, 1, 1, 1, "too weak"
	check := func(c policy.Config, req plan.PolicyRequest) plan.Result {
		r, err := evs[c.ModelName()].Evaluate(context.Background(), policy.Policy{Name: "p", Config: c}, req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	prompt := func(v string) plan.PolicyRequest {
		return plan.PolicyRequest{Context: map[string]any{"prompt_data": map[string]any{"password": v}}}
	}
	if r := check(pw, prompt("Abcdefg1!")); !r.Passing {
		t.Errorf("a good password: %+v", r)
	}
	for _, bad := range []string{"Abcde1!", "abcdefg1!", "Abcdefgh!", "Abcdefgh1"} {
		if r := check(pw, prompt(bad)); r.Passing || r.Messages[0] != "too weak" {
			t.Errorf("%q: %+v", bad, r)
		}
	}
	if r := check(pw, plan.PolicyRequest{}); r.Passing || r.Messages[0] != plan.MsgPasswordNotSet {
		t.Errorf("no password: %+v", r)
	}
	pw.CheckZxcvbn = true
	if _, err := evs[policy.ModelPassword].Evaluate(context.Background(), policy.Policy{Name: "p", Config: pw}, prompt("x")); err == nil {
		t.Error("zxcvbn without an evaluator passed")
	}
	old, recent := now.AddDate(0, 0, -91), now.AddDate(0, 0, -89)
	exp := policy.PasswordExpiry{Days: 90}
	if r := check(exp, plan.PolicyRequest{User: plan.User{PasswordChangeDate: &old}}); r.Passing || r.Messages[0] != plan.MsgPasswordExpired {
		t.Errorf("expired: %+v", r)
	}
	if r := check(exp, plan.PolicyRequest{User: plan.User{PasswordChangeDate: &recent}}); !r.Passing {
		t.Errorf("recent: %+v", r)
	}
}

// ParseRequest reads the JSON form that the API and the command line
// share: every key, a null user as the anonymous one, and an unknown key
// as an error.
func TestParseRequest(t *testing.T) {
	req, err := plan.ParseRequest([]byte(`{"user": {"pk": 7, "is_authenticated": true, "is_superuser": true,
		"groups": ["0190a5e2-0000-7000-8000-000000000001"], "attributes": {"a": 1},
		"password_change_date": "2025-01-02T03:04:05Z"}, "outpost": true, "context": {"k": "v"}}`))
	if err != nil {
		t.Fatal(err)
	}
	u := req.User
	if u.PK != 7 || !u.Authenticated || !u.Superuser || len(u.Groups) != 1 || u.Attributes["a"] != 1.0 ||
		u.PasswordChangeDate == nil || !u.PasswordChangeDate.Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) ||
		!req.Outpost || req.Context["k"] != "v" {
		t.Errorf("parsed %+v", req)
	}
	if req, err := plan.ParseRequest([]byte(`{"user": null}`)); err != nil || !reflect.DeepEqual(req, plan.Request{}) {
		t.Errorf("a null user: %+v, %v", req, err)
	}
	if _, err := plan.ParseRequest([]byte(`{"user": {"is_superuser": true, "superuser": true}}`)); err == nil || !strings.Contains(err.Error(), `unknown field "superuser"`) {
		t.Errorf("an unknown key: %v", err)
	}
}

// A plan reads records, not views: it allocates no more when the other
// flows of a store bind its stages and its policy (a stage's view lists
// them in flow_set, a policy's view counts them in bound_to) than when
// they bind stages and a policy of their own.
func TestPlanReadsRecords(t *testing.T) {
	ctx := context.Background()
	allocs := func(shared bool) float64 {
		s := load(t, doc("none")+`- model: authentik_policies_dummy.dummypolicy
  identifiers: {name: other}
`)
		err := s.Update(ctx, func(tx *store.Tx) error {
			pol := "other"
			if shared {
				pol = "no"
			}
			p, err := store.Policies.Get(tx, store.By("name", pol))
			if err != nil {
				return err
			}
			for i := range 100 {
				slug := fmt.Sprint("other-", i)
				f, err := store.Flows.Create(tx, flow.New(slug, slug, "t", flow.DesignationAuthentication), nil)
				if err != nil {
					return err
				}
				for j, name := range []string{"ident", "pw", "done"} {
					own, err := store.Stages.Create(tx, stage.Stage{Name: fmt.Sprint(slug, "-", name), Config: stage.DefaultUserWrite()}, nil)
					if err != nil {
						return err
					}
					bound := own.PK
					if shared {
						st, err := store.Stages.Get(tx, store.By("name", name))
						if err != nil {
							return err
						}
						bound = st.PK
					}
					b, err := store.Bindings.Create(tx, binding.New(f.PK, bound, int32(j)), nil)
					if err != nil {
						return err
					}
					pb := policy.DefaultBinding()
					pb.Target, pb.Policy, pb.Order = b.PK, &p.PK, 0
					if _, err := store.PolicyBindings.Create(tx, pb, nil); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var p plan.Plan
		n := testing.AllocsPerRun(20, func() { p, err = makePlan(t, s, plan.Request{}, plan.Options{}) })
		if err != nil || len(p.Stages) != 2 {
			t.Fatalf("plan (shared %v): %+v, %v", shared, p, err)
		}
		return n
	}
	// The two stores differ only in what the 300 other bindings bind, so
	// their B+trees differ in layout only: a few dozen allocations either
	// way. Reading views, the shared store cost over 1,000 more.
	own, shared := allocs(false), allocs(true)
	if shared-own >= 300 {
		t.Errorf("a plan allocates %.0f times when 100 other flows bind its stages and policy, %.0f when they bind their own: it reads what grows with them", shared, own)
	}
}

// A binding's timeout of 0 sets no deadline (authentik runs the policy
// to its end); another sets one.
func TestTimeoutZero(t *testing.T) {
	for timeout, want := range map[int]bool{0: false, 30: true} {
		s := load(t, fmt.Sprintf(`version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: W, designation: authentication}
- model: authentik_stages_dummy.dummystage
  id: st
  identifiers: {name: st}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf st, order: 0}
- model: authentik_policies_dummy.dummypolicy
  id: p
  identifiers: {name: p}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf flow, policy: !KeyOf p, order: 0, timeout: %d}
`, timeout))
		evs := plan.Builtin(nil)
		var has bool
		evs[policy.ModelDummy] = plan.EvaluatorFunc(func(ctx context.Context, _ policy.Policy, _ plan.PolicyRequest) (plan.Result, error) {
			_, has = ctx.Deadline()
			return plan.Result{Passing: true}, nil
		})
		if _, err := makePlan(t, s, plan.Request{}, plan.Options{Evaluators: evs}); err != nil {
			t.Fatal(err)
		}
		if has != want {
			t.Errorf("timeout %d: deadline %v, want %v", timeout, has, want)
		}
	}
}
