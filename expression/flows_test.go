package expression_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// The tests in this file apply the shipped blueprints that a flow needs
// to a fresh store and plan the flow with the built-in directory (no
// plan.Options.Directory) and the expression evaluator, as serve does,
// checking what authentik 2025.6 would plan.

// flowStore is a fresh store with the shipped blueprints files (paths
// under blueprint/testdata/authentik) applied in order.
func flowStore(t *testing.T, files ...string) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "flows.db"), &store.Options{NoSync: true, Passwords: password.Policy{Iterations: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, name := range files {
		f, err := os.Open(filepath.Join("../blueprint/testdata/authentik", name))
		if err != nil {
			t.Fatal(err)
		}
		res, err := blueprint.Load(t.Context(), s, f, blueprint.Options{})
		f.Close()
		if err != nil || !res.Success {
			t.Fatalf("%s: %v %+v", name, err, res.Logs)
		}
	}
	return s
}

// flowOptions are the planner's options of serve: the built-in
// evaluators and the expression evaluator, reading the plan's own
// directory.
func flowOptions() plan.Options {
	evs := plan.Builtin(nil)
	evs[policy.ModelExpression] = expression.Evaluator(nil)
	return plan.Options{Evaluators: evs}
}

// makePlan plans slug in a transaction of its own.
func makePlan(t *testing.T, s *store.Store, slug string, req plan.Request) plan.Plan {
	t.Helper()
	var p plan.Plan
	err := s.View(t.Context(), func(tx *store.Tx) error {
		var err error
		p, err = plan.Make(t.Context(), tx, slug, req, flowOptions())
		return err
	})
	if err != nil {
		t.Fatalf("plan %s: %v", slug, err)
	}
	return p
}

// planned is a plan's stages as "name marker".
func planned(p plan.Plan) []string {
	out := []string{}
	for _, st := range p.Stages {
		out = append(out, st.Name+" "+string(st.Marker))
	}
	return out
}

// createUser creates a user in the store with attrs, a member of groups.
func createUser(t *testing.T, s *store.Store, username, email string, attrs map[string]any, groups ...uuid.UUID) directory.User {
	t.Helper()
	u := directory.DefaultUser()
	u.Username, u.Name, u.Email, u.Groups = username, "The "+username, email, groups
	if attrs != nil {
		u.Attributes = attrs
	}
	u, err := s.Directory().CreateUser(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// createGroup creates a group in the store with attrs.
func createGroup(t *testing.T, s *store.Store, name string, attrs map[string]any) directory.Group {
	t.Helper()
	g := directory.DefaultGroup()
	g.Name, g.Attributes = name, attrs
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		var err error
		g, err = store.Groups.Create(tx, g, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// reevaluate is what authentik's ReevaluateMarker does when the executor
// reaches a stage planned with MarkerReevaluate (flows/markers.py): the
// binding's policies, evaluated for the plan's pending_user (else the
// request's user) with the plan context and flow_plan. The planner
// exports no way to evaluate one binding at run time yet (the executor
// will); this evaluates each expression policy bound to the binding
// through expression.Evaluator with a plan.PolicyRequest built as the
// planner builds its own (the user, the context, the transaction's
// directory), applying the binding's negate and failure_result, in
// policy_engine_mode all. It returns whether the stage is kept and the
// messages.
func reevaluate(t *testing.T, s *store.Store, stageBinding uuid.UUID, user plan.User, planCtx map[string]any) (bool, []string) {
	t.Helper()
	ev := expression.Evaluator(nil)
	passing, msgs := true, []string{}
	err := s.View(t.Context(), func(tx *store.Tx) error {
		pbs, err := store.PolicyBindings.ByRef(tx, "target", stageBinding)
		if err != nil {
			return err
		}
		if len(pbs) == 0 {
			t.Fatalf("binding %s has no policies", stageBinding)
		}
		for _, pb := range pbs {
			if !pb.Enabled || pb.Policy == nil {
				continue
			}
			p, err := store.Policies.Get(tx, store.PK(*pb.Policy))
			if err != nil {
				return err
			}
			if p.Model() != policy.ModelExpression {
				t.Fatalf("policy %q is a %s", p.Name, p.Model())
			}
			// A binding re-evaluated at run time has the live plan.
			r, err := ev.Evaluate(t.Context(), p, plan.PolicyRequest{User: user, Context: planCtx, Directory: tx.Directory(), Plan: new(redirects)})
			switch {
			case err != nil:
				r = plan.Result{Passing: pb.FailureResult, Messages: []string{err.Error()}}
			case pb.Negate:
				r.Passing = !r.Passing
			}
			passing = passing && r.Passing
			msgs = append(msgs, r.Messages...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return passing, msgs
}

// stageBinding is the pk of the flow-stage binding of flow slug at
// order.
func stageBinding(t *testing.T, s *store.Store, slug string, order int32) binding.Binding {
	t.Helper()
	var out binding.Binding
	err := s.View(t.Context(), func(tx *store.Tx) error {
		f, err := store.Flows.Get(tx, store.By("slug", slug))
		if err != nil {
			return err
		}
		bs, err := store.Bindings.ByRef(tx, "target", f.PK)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(bs, func(b binding.Binding) bool { return b.Order == order })
		if i < 0 {
			t.Fatalf("%s has no binding at order %d", slug, order)
		}
		out = bs[i]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFlowDefaultAuthentication: the shipped default-authentication-flow
// plans its four stages with the password stage marked for
// re-evaluation: its binding (evaluate_on_plan false, re_evaluate_policies
// true) carries default-authentication-flow-password-stage, which the
// planner does not evaluate. When the executor reaches the stage, the
// policy skips it once identification has checked a password (the
// pending user has a backend) and keeps it otherwise; without a plan
// (flow_plan) it passes.
func TestFlowDefaultAuthentication(t *testing.T) {
	s := flowStore(t, "default/flow-password-change.yaml", "default/flow-default-authentication-flow.yaml")
	bob := createUser(t, s, "bob", "bob@example.com", nil)
	want := []string{
		"default-authentication-identification reevaluate",
		"default-authentication-password reevaluate",
		"default-authentication-mfa-validation reevaluate",
		"default-authentication-login reevaluate",
	}
	for _, req := range []plan.Request{
		{},
		{Context: map[string]any{"pending_user": map[string]any{"pk": float64(bob.PK), "username": "bob"}}},
	} {
		p := makePlan(t, s, "default-authentication-flow", req)
		if !p.Applicable || !slices.Equal(planned(p), want) || len(p.Messages) != 0 {
			t.Fatalf("plan %v: applicable %v, stages %q, messages %q", req.Context, p.Applicable, planned(p), p.Messages)
		}
		// The password binding's policy is not evaluated when planning.
		for _, st := range p.Trace {
			if st.Policy == "default-authentication-flow-password-stage" {
				t.Errorf("evaluated when planning: %+v", st)
			}
			if st.What == "binding" && st.PK != nil && *st.PK == p.Stages[1].Binding && (st.Evaluated || !st.Passing) {
				t.Errorf("password binding: %+v", st)
			}
		}
	}
	// A Cache keeps the plan: no policy was evaluated.
	c := plan.NewCache(s, plan.CacheOptions{Options: flowOptions()})
	defer c.Close()
	for range 2 {
		p, err := c.Make(t.Context(), "default-authentication-flow", plan.Request{})
		if err != nil || !slices.Equal(planned(p), want) {
			t.Fatalf("cache: %v, %q", err, planned(p))
		}
	}
	if c.Len() != 1 {
		t.Errorf("cache holds %d plans, want 1", c.Len())
	}

	pw := stageBinding(t, s, "default-authentication-flow", 20)
	if !pw.ReEvaluatePolicies || pw.EvaluateOnPlan {
		t.Fatalf("password binding: re_evaluate %v, evaluate_on_plan %v", pw.ReEvaluatePolicies, pw.EvaluateOnPlan)
	}
	user := plan.User{PK: bob.PK, Authenticated: true}
	for _, tt := range []struct {
		name    string
		ctx     map[string]any
		kept    bool
		changed bool
	}{
		// The identification stage with a password field (or a source)
		// authenticated the pending user: it carries a backend.
		{"password checked", map[string]any{"pending_user": map[string]any{"pk": float64(bob.PK), "username": "bob", "backend": "authentik.core.auth.InbuiltBackend"}}, false, false},
		{"identified only", map[string]any{"pending_user": map[string]any{"pk": float64(bob.PK), "username": "bob"}}, true, false},
		{"no pending user", map[string]any{}, true, false},
	} {
		before := clone(tt.ctx)
		kept, msgs := reevaluate(t, s, pw.PK, user, tt.ctx)
		if kept != tt.kept || len(msgs) != 0 {
			t.Errorf("%s: kept %v %q, want %v", tt.name, kept, msgs, tt.kept)
		}
		if !reflect.DeepEqual(tt.ctx, before) {
			t.Errorf("%s: the plan context changed: %v", tt.name, tt.ctx)
		}
	}
}

// expressionPolicies are the names of the store's expression policies.
func expressionPolicies(t *testing.T, s *store.Store) []string {
	t.Helper()
	out := []string{}
	err := s.View(t.Context(), func(tx *store.Tx) error {
		page, err := store.Policies.Kind(string(policy.ModelExpression)).List(tx, store.Query{})
		for _, p := range page.Results {
			out = append(out, p.Name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// promptExpressions counts the store's prompts with an expression.
func promptExpressions(t *testing.T, s *store.Store) int {
	t.Helper()
	n := 0
	err := s.View(t.Context(), func(tx *store.Tx) error {
		page, err := store.Prompts.List(tx, store.Query{})
		for _, p := range page.Results {
			if p.PlaceholderExpression || p.InitialValueExpression {
				n++
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFlowExamples plans the example flows of blueprints/example. Of
// them, only the recovery flow (default-recovery-skip-if-restored) and
// the two-factor login (test-not-app-password) hold expression policies,
// and none holds a prompt expression: the enrollment flows check the
// username and the passwords in their prompt stages, not in expressions
// (authentik 2025.6's examples). The conditional-captcha login's policy
// is a reputation policy, which no built-in evaluator runs: the planner
// does not reach it (evaluate_on_plan false), the executor will.
func TestFlowExamples(t *testing.T) {
	anon := plan.Request{}
	type flowCase struct {
		file, slug  string
		expressions []string // the expression policies the blueprint holds
		anon        []string // the stages planned for an anonymous request; nil: denied
		user        []string // for bob, logged in; nil: denied
	}
	for _, tt := range []flowCase{
		{file: "example/flows-enrollment-2-stage.yaml", slug: "default-enrollment-flow",
			anon: []string{"default-enrollment-prompt-first reevaluate", "default-enrollment-prompt-second reevaluate",
				"default-enrollment-user-write reevaluate", "default-enrollment-user-login reevaluate"}},
		{file: "example/flows-enrollment-email-verification.yaml", slug: "default-enrollment-flow",
			anon: []string{"default-enrollment-prompt-first reevaluate", "default-enrollment-prompt-second reevaluate",
				"default-enrollment-user-write reevaluate", "default-enrollment-email-verification reevaluate",
				"default-enrollment-user-login reevaluate"}},
		{file: "example/flows-recovery-email-verification.yaml", slug: "default-recovery-flow",
			expressions: []string{"default-recovery-skip-if-restored"},
			anon: []string{"default-recovery-identification reevaluate", "default-recovery-email reevaluate",
				"Change your password stage", "default-recovery-user-write stage", "default-recovery-user-login stage"}},
		{file: "example/flows-unenrollment.yaml", slug: "default-unenrollment-flow",
			user: []string{"default-unenrollment-user-delete reevaluate"}},
		{file: "example/flows-login-2fa.yaml", slug: "default-authentication-flow",
			expressions: []string{"test-not-app-password"},
			anon: []string{"default-authentication-identification reevaluate", "default-authentication-password reevaluate",
				"default-authentication-flow-mfa reevaluate", "default-authentication-login reevaluate"}},
		{file: "example/flows-login-conditional-captcha.yaml", slug: "default-authentication-flow",
			anon: []string{"default-authentication-identification reevaluate", "default-authentication-password reevaluate",
				"default-authentication-flow-captcha reevaluate", "default-authentication-login reevaluate"}},
		{file: "example/flows-authenticator-email-setup.yaml", slug: "default-authenticator-email-setup",
			user: []string{"default-authenticator-email-setup reevaluate"}},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			s := flowStore(t, tt.file)
			bob := createUser(t, s, "bob", "bob@example.com", nil)
			if got := expressionPolicies(t, s); !slices.Equal(got, append([]string{}, tt.expressions...)) {
				t.Errorf("expression policies %q, want %q", got, tt.expressions)
			}
			if n := promptExpressions(t, s); n != 0 {
				t.Errorf("%d prompts with expressions", n)
			}
			for _, r := range []struct {
				req  plan.Request
				want []string
			}{{anon, tt.anon}, {plan.Request{User: plan.User{PK: bob.PK, Authenticated: true}}, tt.user}} {
				p := makePlan(t, s, tt.slug, r.req)
				// authentik denies a flow's authentication requirement
				// without messages.
				if p.Applicable != (r.want != nil) || r.want != nil && !slices.Equal(planned(p), r.want) || len(p.Messages) != 0 {
					t.Errorf("user %d: applicable %v, stages %q, messages %q; want %q", r.req.User.PK, p.Applicable, planned(p), p.Messages, r.want)
				}
			}
		})
	}
}

// TestFlowRecovery: the recovery example's identification binding
// (evaluate_on_plan and re_evaluate_policies) carries
// default-recovery-skip-if-restored, bool(request.context.get(
// 'is_restored', True)): evaluated when planning, it keeps the stage
// unless the context holds a false is_restored, and again when the stage
// is reached. Its binding to the email stage is state: absent, so the
// email stage has no policy. The policy reads only the context, so a
// Cache keeps the plan.
func TestFlowRecovery(t *testing.T) {
	s := flowStore(t, "example/flows-recovery-email-verification.yaml")
	const slug = "default-recovery-flow"
	ident := stageBinding(t, s, slug, 10)
	email := stageBinding(t, s, slug, 20)
	err := s.View(t.Context(), func(tx *store.Tx) error {
		pbs, err := store.PolicyBindings.ByRef(tx, "target", email.PK)
		if len(pbs) != 0 {
			t.Errorf("the email stage's binding has %d policies; the blueprint's is state: absent", len(pbs))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ctx  map[string]any
		kept bool
	}{
		{map[string]any{}, true},
		{map[string]any{"is_restored": "a-token-key"}, true},
		{map[string]any{"is_restored": false}, false},
		{map[string]any{"is_restored": nil}, false},
	} {
		p := makePlan(t, s, slug, plan.Request{Context: tt.ctx})
		got := len(p.Stages) > 0 && p.Stages[0].Binding == ident.PK
		if !p.Applicable || got != tt.kept || len(p.Stages) != 4+boolInt(tt.kept) {
			t.Errorf("%v: stages %q, want identification kept %v", tt.ctx, planned(p), tt.kept)
		}
		i := slices.IndexFunc(p.Trace, func(st plan.Step) bool { return st.Policy == "default-recovery-skip-if-restored" })
		if i < 0 || !p.Trace[i].Evaluated || p.Trace[i].Passing != tt.kept {
			t.Errorf("%v: trace %+v", tt.ctx, p.Trace)
		}
		if kept, msgs := reevaluate(t, s, ident.PK, plan.User{}, clone(tt.ctx)); kept != tt.kept || len(msgs) != 0 {
			t.Errorf("%v: re-evaluated: kept %v %q", tt.ctx, kept, msgs)
		}
	}
	c := plan.NewCache(s, plan.CacheOptions{Options: flowOptions()})
	defer c.Close()
	if _, err := c.Make(t.Context(), slug, plan.Request{}); err != nil || c.Len() != 1 {
		t.Errorf("cache: %v, %d plans", err, c.Len())
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestFlowLogin2FA: the two-factor login example's MFA binding carries
// test-not-app-password (context.get("auth_method") !=
// "app_password"): planned with its re-evaluate marker, the stage is
// skipped when the password stage authenticated with an app password.
func TestFlowLogin2FA(t *testing.T) {
	s := flowStore(t, "example/flows-login-2fa.yaml")
	bob := createUser(t, s, "bob", "bob@example.com", nil)
	mfa := stageBinding(t, s, "default-authentication-flow", 30)
	p := makePlan(t, s, "default-authentication-flow", plan.Request{})
	if len(p.Stages) != 4 || p.Stages[2].Binding != mfa.PK || p.Stages[2].Marker != plan.MarkerReevaluate {
		t.Fatalf("stages %q", planned(p))
	}
	pu := map[string]any{"pk": float64(bob.PK), "username": "bob", "backend": "authentik.core.auth.TokenBackend"}
	for _, tt := range []struct {
		method any
		kept   bool
	}{{nil, true}, {"password", true}, {"app_password", false}} {
		ctx := map[string]any{"pending_user": pu}
		if tt.method != nil {
			ctx["auth_method"] = tt.method
		}
		if kept, msgs := reevaluate(t, s, mfa.PK, plan.User{PK: bob.PK, Authenticated: true}, ctx); kept != tt.kept || len(msgs) != 0 {
			t.Errorf("auth_method %v: kept %v %q, want %v", tt.method, kept, msgs, tt.kept)
		}
	}
}

// TestFlowUserSettings: the shipped default-user-settings-flow
// (stage_configuration, require_authenticated) plans its prompt stage
// and its user write for a logged-in user and is not cached, as in
// authentik; its prompts' initial_value expressions give the pending
// user's username, name, email and locale, read from the store's
// directory, and the user's input when prompt_data holds it. Its
// authorization policy (a validation policy of the prompt stage, which
// the planner does not evaluate) needs the HTTP request's tenant and is
// not covered here.
func TestFlowUserSettings(t *testing.T) {
	s := flowStore(t, "default/flow-default-user-settings-flow.yaml")
	staff := createGroup(t, s, "staff", map[string]any{"goauthentik.io/user/can-change-email": false})
	jane := createUser(t, s, "jane", "jane@example.com", map[string]any{"settings": map[string]any{"locale": "de"}}, staff.PK)
	const slug = "default-user-settings-flow"
	janeReq := plan.Request{User: plan.User{PK: jane.PK, Authenticated: true}}
	if p := makePlan(t, s, slug, plan.Request{}); p.Applicable {
		t.Errorf("anonymous: applicable, stages %q", planned(p))
	}
	p := makePlan(t, s, slug, janeReq)
	if want := []string{"default-user-settings reevaluate", "default-user-settings-write reevaluate"}; !p.Applicable || !slices.Equal(planned(p), want) {
		t.Fatalf("stages %q, want %q", planned(p), want)
	}
	c := plan.NewCache(s, plan.CacheOptions{Options: flowOptions()})
	defer c.Close()
	if _, err := c.Make(t.Context(), slug, janeReq); err != nil || c.Len() != 0 {
		t.Errorf("cache: %v, %d plans; stage_configuration plans are not cached", err, c.Len())
	}

	// The prompt stage's fields, in order, as the executor will show
	// them, for the pending user (the request's user: the flow has no
	// identification stage).
	var ev events
	type shown struct{ key, placeholder, initial string }
	show := func(vars func(tx *store.Tx) expression.PromptVars) []shown {
		t.Helper()
		var out []shown
		err := s.View(t.Context(), func(tx *store.Tx) error {
			st, err := store.Stages.Get(tx, store.PK(p.Stages[0].Stage))
			if err != nil {
				return err
			}
			for _, id := range st.Config.(stage.PromptStage).Fields {
				pr, err := store.Prompts.Get(tx, store.PK(id))
				if err != nil {
					return err
				}
				ph, err := expression.PromptValue(t.Context(), pr, expression.PromptPlaceholder, vars(tx), ev.opts())
				if err != nil {
					return err
				}
				iv, err := expression.PromptValue(t.Context(), pr, expression.PromptInitialValue, vars(tx), ev.opts())
				if err != nil {
					return err
				}
				out = append(out, shown{pr.FieldKey, ph, iv})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	pending := func(pc map[string]any) func(tx *store.Tx) expression.PromptVars {
		return func(tx *store.Tx) expression.PromptVars {
			return expression.PromptVars{PendingUser: janeReq.User, Directory: tx.Directory(), PromptContext: pc}
		}
	}
	want := []shown{
		{"username", "Username", "jane"},
		{"name", "Name", "The jane"},
		{"email", "Email", "jane@example.com"},
		{"attributes.settings.locale", "Locale", "de"},
	}
	if got := show(pending(map[string]any{})); !slices.Equal(got, want) {
		t.Errorf("shown %q, want %q", got, want)
	}
	// The user's input, from prompt_data, wins and is not evaluated.
	want[0].initial, want[3].initial = "jane2", "fr"
	if got := show(pending(map[string]any{"username": "jane2", "attributes.settings.locale": "fr"})); !slices.Equal(got, want) {
		t.Errorf("with prompt_data: shown %q, want %q", got, want)
	}
	// Without a user (authentik's user is then undefined) and with a user
	// but no directory (its fields fail), the expressions' except gives
	// ''.
	for name, vars := range map[string]expression.PromptVars{
		"no user":      {},
		"no directory": {PendingUser: janeReq.User},
	} {
		got := show(func(*store.Tx) expression.PromptVars { return vars })
		for i, f := range got {
			if f.initial != "" || f.placeholder != want[i].placeholder {
				t.Errorf("%s: %s shows %q, %q", name, f.key, f.placeholder, f.initial)
			}
		}
	}
	if len(ev) != 0 {
		t.Errorf("events %+v", ev)
	}
}
