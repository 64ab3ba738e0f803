package plan_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

const reevaluated = `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication}
- model: authentik_stages_dummy.dummystage
  id: d
  identifiers: {name: d}
- model: authentik_flows.flowstagebinding
  id: b
  identifiers: {target: !KeyOf flow, stage: !KeyOf d, order: 0}
  attrs: {re_evaluate_policies: true, policy_engine_mode: all}
- model: authentik_policies_dummy.dummypolicy
  id: yes
  identifiers: {name: yes}
  attrs: {result: true}
- model: authentik_policies_dummy.dummypolicy
  id: no
  identifiers: {name: no}
  attrs: {result: false}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf b, policy: !KeyOf yes, order: 0}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf b, policy: !KeyOf no, order: 1, negate: true}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf b, policy: !KeyOf no, order: 2, enabled: false}
`

// recorder is a FlowPlan that records redirects.
type recorder struct{ to []string }

func (r *recorder) Redirect(to string) { r.to = append(r.to, to) }

// EvaluateBinding applies the engine's semantics (mode all, negate,
// enabled) to a binding's policies, gives the policies the plan, and
// returns the trace and the updates they asked for.
func TestEvaluateBinding(t *testing.T) {
	s := load(t, reevaluated)
	ctx := context.Background()
	var bpk uuid.UUID
	fp := &recorder{}
	evs := plan.Builtin(nil)
	evs[policy.ModelDummy] = plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		req.Plan.Redirect("/" + p.Name)
		req.Update(plan.Update{Model: "authentik_flows.flow"})
		return plan.Result{Passing: p.Config.(policy.Dummy).Result, Messages: []string{p.Name}}, nil
	})
	var ev plan.Evaluation
	err := s.View(ctx, func(tx *store.Tx) error {
		p, err := plan.Make(ctx, tx, "login", plan.Request{}, plan.Options{})
		if err != nil {
			return err
		}
		bpk = p.Stages[0].Binding
		if p.Stages[0].Marker != plan.MarkerReevaluate {
			t.Fatalf("marker %s", p.Stages[0].Marker)
		}
		ev, err = plan.EvaluateBinding(ctx, tx, bpk, plan.Request{}, fp, plan.Options{Evaluators: evs})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Passing || !reflect.DeepEqual(ev.Messages, []string{"yes", "no"}) || len(ev.Trace) != 3 || ev.Trace[2].What != "binding" {
		t.Errorf("evaluation %+v", ev)
	}
	if !reflect.DeepEqual(fp.to, []string{"/yes", "/no"}) || len(ev.Updates) != 2 || ev.Updates[1].Policy != "no" {
		t.Errorf("redirects %v, updates %+v", fp.to, ev.Updates)
	}
	// With the builtin dummy evaluator, "no" negated passes and "yes"
	// passes: all pass.
	err = s.View(ctx, func(tx *store.Tx) error {
		ev, err = plan.EvaluateBinding(ctx, tx, bpk, plan.Request{}, nil, plan.Options{})
		return err
	})
	if err != nil || !ev.Passing {
		t.Errorf("builtin: %+v %v", ev, err)
	}
	// A binding deleted since planning has no policies left: it passes.
	err = s.View(ctx, func(tx *store.Tx) error {
		ev, err = plan.EvaluateBinding(ctx, tx, uuid.New(), plan.Request{}, nil, plan.Options{})
		return err
	})
	if err != nil || !ev.Passing || len(ev.Trace) != 1 {
		t.Errorf("deleted binding: %+v %v", ev, err)
	}
	// An unknown user is an error, as for Make.
	err = s.View(ctx, func(tx *store.Tx) error {
		_, err := plan.EvaluateBinding(ctx, tx, bpk, plan.Request{User: plan.User{PK: 99}}, nil, plan.Options{})
		return err
	})
	if err == nil {
		t.Error("an unknown user evaluates")
	}
	// A binding without an enabled policy binding passes without
	// reading the user: an unknown one too. Facts without a pk are
	// still refused.
	for _, user := range []plan.User{{PK: 99}, {}} {
		err = s.View(ctx, func(tx *store.Tx) error {
			ev, err = plan.EvaluateBinding(ctx, tx, uuid.New(), plan.Request{User: user}, nil, plan.Options{})
			return err
		})
		if err != nil || !ev.Passing || len(ev.Trace) != 1 || ev.Messages == nil || ev.Updates != nil {
			t.Errorf("no policies, user %+v: %+v %v", user, ev, err)
		}
	}
	err = s.View(ctx, func(tx *store.Tx) error {
		_, err := plan.EvaluateBinding(ctx, tx, uuid.New(), plan.Request{User: plan.User{Superuser: true}}, nil, plan.Options{})
		return err
	})
	if !errors.Is(err, plan.ErrUserFacts) {
		t.Errorf("no policies, facts without a pk: %v", err)
	}
}

// Options.Decoded serves the policy bindings and policies decoded at a
// revision, never after a write: a changed policy, a changed policy
// binding, a changed or deleted flow-stage binding and a write
// transaction's own changes are evaluated as they are now.
func TestEvaluateBindingDecodedNeverStale(t *testing.T) {
	s := load(t, reevaluated)
	ctx := context.Background()
	opts := plan.Options{Decoded: plan.NewDecoded(s)}
	var bpk uuid.UUID
	if err := s.View(ctx, func(tx *store.Tx) error {
		p, err := plan.Make(ctx, tx, "login", plan.Request{}, plan.Options{})
		if err == nil {
			bpk = p.Stages[0].Binding
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	passing := func(want bool, what string) {
		t.Helper()
		for range 2 { // the second one from the cache
			var ev plan.Evaluation
			err := s.View(ctx, func(tx *store.Tx) (err error) {
				ev, err = plan.EvaluateBinding(ctx, tx, bpk, plan.Request{}, nil, opts)
				return err
			})
			if err != nil || ev.Passing != want {
				t.Fatalf("%s: passing %v (%v), want %v", what, ev.Passing, err, want)
			}
		}
	}
	passing(true, "as loaded")
	// The policy "yes" now fails: all no longer pass.
	update := func(f func(tx *store.Tx) error) {
		t.Helper()
		if err := s.Update(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	update(func(tx *store.Tx) error {
		_, err := store.Policies.Kind(string(policy.ModelDummy)).Patch(tx, store.By("name", "yes"), []byte(`{"result": false}`), nil)
		return err
	})
	passing(false, "policy changed")
	// The failing binding of "yes" is negated: all pass again.
	update(func(tx *store.Tx) error {
		bs, err := store.PolicyBindings.ByRef(tx, "target", bpk)
		if err != nil {
			return err
		}
		for _, b := range bs {
			if b.Order == 0 {
				_, err = store.PolicyBindings.Patch(tx, store.PK(b.PK), []byte(`{"negate": true}`), nil)
			}
		}
		return err
	})
	passing(true, "policy binding changed")
	// In a write transaction, each of its own changes counts.
	update(func(tx *store.Tx) error {
		for _, result := range []bool{true, false} {
			body := []byte(`{"result": ` + strconv.FormatBool(result) + `}`)
			if _, err := store.Policies.Kind(string(policy.ModelDummy)).Patch(tx, store.By("name", "yes"), body, nil); err != nil {
				return err
			}
			// "yes" is negated.
			ev, err := plan.EvaluateBinding(ctx, tx, bpk, plan.Request{}, nil, opts)
			if err != nil || ev.Passing != !result {
				t.Errorf("write transaction: passing %v (%v), want %v", ev.Passing, err, !result)
			}
		}
		return nil
	})
	// "no" is no longer negated: all fail.
	update(func(tx *store.Tx) error {
		bs, err := store.PolicyBindings.ByRef(tx, "target", bpk)
		for _, b := range bs {
			if b.Order == 1 {
				_, err = store.PolicyBindings.Patch(tx, store.PK(b.PK), []byte(`{"negate": false}`), nil)
			}
		}
		return err
	})
	passing(false, "second policy binding changed")
	// The flow-stage binding's mode is now any: one passes.
	update(func(tx *store.Tx) error {
		_, err := store.Bindings.Patch(tx, store.PK(bpk), []byte(`{"policy_engine_mode": "any"}`), nil)
		return err
	})
	passing(true, "binding's mode changed")
	update(func(tx *store.Tx) error {
		_, err := store.Bindings.Patch(tx, store.PK(bpk), []byte(`{"policy_engine_mode": "all"}`), nil)
		return err
	})
	passing(false, "binding's mode changed back")
	// A binding deleted has no policies left: it passes.
	update(func(tx *store.Tx) error {
		return store.Bindings.Delete(tx, store.PK(bpk), nil)
	})
	passing(true, "binding deleted")
}

// Options.Decoded serves the user and its facts read at a revision,
// never after a write (the user's attributes, its groups' attributes),
// and each evaluation gets its own copy to change (its password change
// date too, kept parsed).
func TestEvaluateBindingDecodedUser(t *testing.T) {
	s := load(t, reevaluated)
	ctx := context.Background()
	var upk int64
	var gpk, bpk uuid.UUID
	var changed string
	if err := s.Update(ctx, func(tx *store.Tx) error {
		g, err := store.Groups.CreateJSON(tx, []byte(`{"name":"g","attributes":{"team":"a"}}`), nil)
		if err != nil {
			return err
		}
		gpk = g.PK
		u, err := store.Users.CreateJSON(tx, []byte(`{"username":"u","name":"U","attributes":{"own":{"n":1}},"groups":["`+g.PK.String()+`"]}`), nil)
		upk, changed = u.PK, u.PasswordChangeDate
		return err
	}); err != nil {
		t.Fatal(err)
	}
	date := mustTime(t, changed).String()
	if err := s.View(ctx, func(tx *store.Tx) error {
		p, err := plan.Make(ctx, tx, "login", plan.Request{}, plan.Options{})
		if err == nil {
			bpk = p.Stages[0].Binding
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var seen []string
	evs := plan.Builtin(nil)
	evs[policy.ModelDummy] = plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		u := req.User
		seen = append(seen, fmt.Sprintf("%v %v %d %v", u.Attributes["own"], u.GroupAttributes["team"], len(u.Groups), u.PasswordChangeDate))
		// An evaluator that changes what it was given changes no other
		// evaluation's user.
		u.Attributes["own"].(map[string]any)["n"] = 99
		u.GroupAttributes["team"] = "changed"
		u.Groups[0] = uuid.Nil
		*u.PasswordChangeDate = time.Time{}
		return plan.Result{Passing: true}, nil
	})
	opts := plan.Options{Evaluators: evs, Decoded: plan.NewDecoded(s)}
	evaluate := func(want string) {
		t.Helper()
		for range 2 { // the second one from the cache
			seen = nil
			if err := s.View(ctx, func(tx *store.Tx) error {
				_, err := plan.EvaluateBinding(ctx, tx, bpk, plan.Request{User: plan.User{PK: upk, Authenticated: true}}, nil, opts)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			// Two enabled bindings; the first sees the user as stored
			// (the second, the first one's changes: one evaluation's
			// policies share its user, as without Decoded).
			if len(seen) != 2 || seen[0] != want {
				t.Fatalf("users seen %q, want %q first", seen, want)
			}
		}
	}
	evaluate("map[n:1] a 1 " + date)
	if err := s.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Users.Patch(tx, store.By("pk", strconv.FormatInt(upk, 10)), []byte(`{"attributes":{"own":{"n":2}}}`), nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	evaluate("map[n:2] a 1 " + date)
	if err := s.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Groups.Patch(tx, store.PK(gpk), []byte(`{"attributes":{"team":"b"}}`), nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	evaluate("map[n:2] b 1 " + date)
}

// Decoded.User is the user as the store holds it at the transaction's
// revision, never one read before a write, each a copy of its own; an
// unknown pk is ErrUnknownUser.
func TestDecodedUser(t *testing.T) {
	s := load(t, reevaluated)
	ctx := context.Background()
	var upk int64
	if err := s.Update(ctx, func(tx *store.Tx) error {
		u, err := store.Users.CreateJSON(tx, []byte(`{"username":"u","name":"U","attributes":{"own":{"n":1}}}`), nil)
		upk = u.PK
		return err
	}); err != nil {
		t.Fatal(err)
	}
	d := plan.NewDecoded(s)
	read := func(pk int64) (directory.User, error) {
		var u directory.User
		err := s.View(ctx, func(tx *store.Tx) error {
			var err error
			u, err = d.User(tx, pk)
			return err
		})
		return u, err
	}
	for _, step := range []struct {
		want  float64
		patch string
	}{{1, ""}, {2, `{"attributes":{"own":{"n":2}}}`}} {
		want, patch := step.want, step.patch
		if patch != "" {
			if err := s.Update(ctx, func(tx *store.Tx) error {
				_, err := store.Users.Patch(tx, store.By("pk", strconv.FormatInt(upk, 10)), []byte(patch), nil)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			u, err := read(upk)
			if err != nil || u.Username != "u" || u.Attributes["own"].(map[string]any)["n"] != want {
				t.Fatalf("%+v %v, want n %v", u, err, want)
			}
			u.Attributes["own"].(map[string]any)["n"] = 99.0
		}
	}
	if _, err := read(upk + 1); !errors.Is(err, plan.ErrUnknownUser) {
		t.Errorf("unknown user: %v", err)
	}
	// Kept decoded, a user costs only the copy of its attributes (two
	// maps of an entry each here, two allocations each), not its facts
	// (groups, password change date) nor what was read for them (10
	// allocations before).
	if err := s.View(ctx, func(tx *store.Tx) error {
		n := testing.AllocsPerRun(100, func() {
			if _, err := d.User(tx, upk); err != nil {
				t.Fatal(err)
			}
		})
		if n > 4 {
			t.Errorf("%v allocations, want 4", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// EvaluateBinding's trace names each policy binding and the binding by
// their own pks, and each policy gets a context of its own, ended when
// it returns, however many the binding has (the engine allocates room
// for one policy's with itself).
func TestEvaluateBindingEachItsOwn(t *testing.T) {
	s := load(t, reevaluated)
	ctx := context.Background()
	var ctxs []context.Context
	evs := plan.Builtin(nil)
	evs[policy.ModelDummy] = plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, _ plan.PolicyRequest) (plan.Result, error) {
		if ctx.Err() != nil {
			t.Errorf("%s: %v while evaluated", p.Name, ctx.Err())
		}
		ctxs = append(ctxs, ctx)
		return plan.Result{Passing: true}, nil
	})
	err := s.View(ctx, func(tx *store.Tx) error {
		p, err := plan.Make(ctx, tx, "login", plan.Request{}, plan.Options{})
		if err != nil {
			return err
		}
		bpk := p.Stages[0].Binding
		pbs, err := store.PolicyBindings.ByRef(tx, "target", bpk)
		if err != nil {
			return err
		}
		ev, err := plan.EvaluateBinding(ctx, tx, bpk, plan.Request{}, nil, plan.Options{Evaluators: evs})
		if err != nil {
			return err
		}
		want := []uuid.UUID{pbs[0].PK, pbs[1].PK, bpk} // the third is disabled
		if len(ev.Trace) != len(want) {
			t.Fatalf("trace %+v", ev.Trace)
		}
		for i, step := range ev.Trace {
			if step.PK == nil || *step.PK != want[i] {
				t.Errorf("step %d: %+v, want pk %v", i, step, want[i])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ctxs) != 2 || ctxs[0] == ctxs[1] {
		t.Fatalf("contexts %v", ctxs)
	}
	for i, c := range ctxs {
		if _, ok := c.Deadline(); !ok || !errors.Is(c.Err(), context.Canceled) {
			t.Errorf("context %d: deadline %v, %v after the evaluation", i, ok, c.Err())
		}
	}
}

// EvaluateBinding of a binding with one policy, for a request without a
// user, allocates the engine and the policy request's two functions
// (Call, Update), and nothing else of its own: its steps, their pks and
// the policy's timeout are the engine's (the evaluator here allocates
// nothing, and the decoded bindings and policy are kept). Of a binding
// without policies, it allocates its one step with its pk.
func TestEvaluateBindingAllocs(t *testing.T) {
	s := load(t, `version: 1
entries:
- {model: authentik_flows.flow, id: flow, identifiers: {slug: login}, attrs: {name: Login, title: W, designation: authentication}}
- {model: authentik_stages_dummy.dummystage, id: d, identifiers: {name: d}}
- {model: authentik_flows.flowstagebinding, id: b, identifiers: {target: !KeyOf flow, stage: !KeyOf d, order: 0}}
- {model: authentik_policies_dummy.dummypolicy, id: yes, identifiers: {name: yes}, attrs: {result: true}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf b, policy: !KeyOf yes, order: 0}}
- {model: authentik_stages_dummy.dummystage, id: d2, identifiers: {name: d2}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf flow, stage: !KeyOf d2, order: 1}}
`)
	ctx := context.Background()
	evs := plan.Builtin(nil)
	evs[policy.ModelDummy] = plan.EvaluatorFunc(func(context.Context, policy.Policy, plan.PolicyRequest) (plan.Result, error) {
		return plan.Result{Passing: true}, nil
	})
	opts := plan.Options{Evaluators: evs, Decoded: plan.NewDecoded(s)}
	defer opts.Decoded.Close()
	err := s.View(ctx, func(tx *store.Tx) error {
		p, err := plan.Make(ctx, tx, "login", plan.Request{}, plan.Options{})
		if err != nil {
			return err
		}
		bpk := p.Stages[0].Binding
		n := testing.AllocsPerRun(100, func() {
			if ev, err := plan.EvaluateBinding(ctx, tx, bpk, plan.Request{}, nil, opts); err != nil || !ev.Passing || len(ev.Trace) != 2 {
				t.Fatal(ev, err)
			}
		})
		if n > 3 {
			t.Errorf("%v allocations, want 3", n)
		}
		// A binding without policies: its step, with its pk.
		none := p.Stages[1].Binding
		n = testing.AllocsPerRun(100, func() {
			if ev, err := plan.EvaluateBinding(ctx, tx, none, plan.Request{}, nil, opts); err != nil || !ev.Passing || len(ev.Trace) != 1 || *ev.Trace[0].PK != none {
				t.Fatal(ev, err)
			}
		})
		if n > 1 {
			t.Errorf("without policies: %v allocations, want 1", n)
		}
		// Without a trace, no more with policies, none without.
		noTrace := opts
		noTrace.NoTrace = true
		n = testing.AllocsPerRun(100, func() {
			if ev, err := plan.EvaluateBinding(ctx, tx, bpk, plan.Request{}, nil, noTrace); err != nil || !ev.Passing || ev.Trace != nil {
				t.Fatal(ev, err)
			}
		})
		if n > 3 {
			t.Errorf("without a trace: %v allocations, want 3", n)
		}
		n = testing.AllocsPerRun(100, func() {
			if ev, err := plan.EvaluateBinding(ctx, tx, none, plan.Request{}, nil, noTrace); err != nil || !ev.Passing || ev.Trace != nil {
				t.Fatal(ev, err)
			}
		})
		if n > 0 {
			t.Errorf("without policies nor a trace: %v allocations, want 0", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
