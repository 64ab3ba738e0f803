package plan_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// Options.NoTrace leaves out the trace of plans (a Cache's too) and of
// evaluations, and changes nothing else.
func TestNoTrace(t *testing.T) {
	s := load(t, cached+`- model: authentik_flows.flowstagebinding
  id: b-spare
  identifiers: {target: !KeyOf flow, stage: !KeyOf spare, order: 30}
  attrs: {re_evaluate_policies: true}
- model: authentik_flows.flow
  id: denied
  identifiers: {slug: denied}
  attrs: {name: Denied, title: Denied, designation: authentication, authentication: require_superuser}
`)
	newDirectory(t, s)
	ctx := context.Background()
	req := plan.Request{User: plan.User{PK: 1, Authenticated: true}}
	// same checks that b, made with NoTrace, is a (made without) but for
	// its nil Trace, and that a has one.
	same := func(what string, a, b any, trace func(any) *[]plan.Step) {
		t.Helper()
		if len(*trace(a)) == 0 {
			t.Errorf("%s: no trace without NoTrace: %+v", what, a)
		}
		if *trace(b) != nil {
			t.Errorf("%s: trace %+v with NoTrace", what, *trace(b))
		}
		*trace(a) = nil
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s with NoTrace: %+v, want %+v", what, b, a)
		}
	}
	planTrace := func(v any) *[]plan.Step { return &v.(*plan.Plan).Trace }
	evTrace := func(v any) *[]plan.Step { return &v.(*plan.Evaluation).Trace }
	var pl [2]plan.Plan
	var denied [2]plan.Plan
	var cachedPl [2][2]plan.Plan // [NoTrace][first, cached]
	var binding, spare, flowEv, policies [2]plan.Evaluation
	for i, noTrace := range []bool{false, true} {
		opts := plan.Options{NoTrace: noTrace}
		c := plan.NewCache(s, plan.CacheOptions{Options: opts})
		defer c.Close()
		err := s.View(ctx, func(tx *store.Tx) error {
			var err error
			if pl[i], err = plan.Make(ctx, tx, "login", req, opts); err != nil {
				return err
			}
			if denied[i], err = plan.Make(ctx, tx, "denied", req, opts); err != nil {
				return err
			}
			for j := range 2 {
				if cachedPl[i][j], err = c.MakeIn(ctx, tx, "login", req); err != nil {
					return err
				}
			}
			if binding[i], err = plan.EvaluateBinding(ctx, tx, pl[i].Stages[1].Binding, req, nil, opts); err != nil {
				return err
			}
			if spare[i], err = plan.EvaluateBinding(ctx, tx, pl[i].Stages[2].Binding, req, nil, opts); err != nil {
				return err
			}
			f, err := store.Flows.Get(tx, store.By("slug", "login"))
			if err != nil {
				return err
			}
			if flowEv[i], err = plan.EvaluateFlow(ctx, tx, f, req, opts); err != nil {
				return err
			}
			var yes uuid.UUID
			if p, err := store.Policies.Get(tx, store.By("name", "yes")); err == nil {
				yes = p.PK
			} else {
				return err
			}
			policies[i], err = plan.EvaluatePolicies(ctx, tx, []uuid.UUID{yes}, req, opts)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.Len() != 1 {
			t.Errorf("NoTrace %v: %d plans cached, want 1", noTrace, c.Len())
		}
	}
	same("Make", &pl[0], &pl[1], planTrace)
	same("Make, denied", &denied[0], &denied[1], planTrace)
	for j, what := range []string{"Cache, planned", "Cache, cached"} {
		same(what, &cachedPl[0][j], &cachedPl[1][j], planTrace)
	}
	same("EvaluateBinding", &binding[0], &binding[1], evTrace)
	same("EvaluateBinding, no policies", &spare[0], &spare[1], evTrace)
	same("EvaluateFlow", &flowEv[0], &flowEv[1], evTrace)
	same("EvaluatePolicies", &policies[0], &policies[1], evTrace)
}
