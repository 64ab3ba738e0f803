package plan_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
)

// A flow bound to the group "staff" is planned for a member of "eng", a
// group below it, and for a user in no group: the planner reads each
// user's groups, with their ancestors, from the store.
func ExampleMake() {
	dir, _ := os.MkdirTemp("", "plan-example")
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "a.db"), &store.Options{NoSync: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	ctx := context.Background()
	var staff string
	err = s.Update(ctx, func(tx *store.Tx) error {
		g, err := store.Groups.CreateJSON(tx, []byte(`{"name":"staff"}`), nil)
		if err != nil {
			return err
		}
		staff = g.PK.String()
		eng, err := store.Groups.CreateJSON(tx, []byte(`{"name":"eng","parent":"`+staff+`"}`), nil)
		if err != nil {
			return err
		}
		// Users 1 (ann, in eng) and 2 (bob, in no group).
		if _, err := store.Users.CreateJSON(tx, []byte(`{"username":"ann","name":"Ann","groups":["`+eng.PK.String()+`"]}`), nil); err != nil {
			return err
		}
		_, err = store.Users.CreateJSON(tx, []byte(`{"username":"bob","name":"Bob"}`), nil)
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	doc := `version: 1
entries:
- {model: authentik_flows.flow, id: flow, identifiers: {slug: staff-only}, attrs: {name: Staff, title: Staff, designation: authentication}}
- {model: authentik_stages_deny.denystage, id: st, identifiers: {name: st}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf flow, stage: !KeyOf st, order: 0}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf flow, group: ` + staff + `, order: 0}}
`
	if _, err := blueprint.Load(ctx, s, strings.NewReader(doc), blueprint.Options{}); err != nil {
		fmt.Println(err)
		return
	}
	for _, pk := range []int64{1, 2} {
		err := s.View(ctx, func(tx *store.Tx) error {
			p, err := plan.Make(ctx, tx, "staff-only", plan.Request{User: plan.User{PK: pk, Authenticated: true}}, plan.Options{})
			fmt.Printf("user %d: applicable %v\n", pk, p.Applicable)
			return err
		})
		if err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// user 1: applicable true
	// user 2: applicable false
}

// A policy that asks for an update (here one evaluated by a host's own
// evaluator, as the expression evaluator does for authentik's
// Flow.objects.filter(...).update(...)) puts it in the plan, which
// writes nothing; ApplyUpdates writes it, as the executor will once the
// step commits.
func ExampleApplyUpdates() {
	dir, _ := os.MkdirTemp("", "plan-example")
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "a.db"), &store.Options{NoSync: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	ctx := context.Background()
	doc := `version: 1
entries:
- {model: authentik_flows.flow, id: flow, identifiers: {slug: setup}, attrs: {name: Setup, title: Setup, designation: stage_configuration}}
- {model: authentik_stages_deny.denystage, id: st, identifiers: {name: st}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf flow, stage: !KeyOf st, order: 0}}
- {model: authentik_policies_dummy.dummypolicy, id: once, identifiers: {name: once}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf flow, policy: !KeyOf once, order: 0}}
`
	if _, err := blueprint.Load(ctx, s, strings.NewReader(doc), blueprint.Options{}); err != nil {
		fmt.Println(err)
		return
	}
	evs := plan.Builtin(nil)
	evs[policy.ModelDummy] = plan.EvaluatorFunc(func(_ context.Context, _ policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		req.Update(plan.Update{Model: store.ModelFlow, Filter: map[string]any{"slug": "setup"}, Set: map[string]any{"authentication": "require_superuser"}})
		return plan.Result{Passing: true}, nil
	})
	show := func() []plan.Update {
		var p plan.Plan
		err := s.View(ctx, func(tx *store.Tx) error {
			var err error
			p, err = plan.Make(ctx, tx, "setup", plan.Request{}, plan.Options{Evaluators: evs})
			return err
		})
		if err != nil {
			fmt.Println(err)
			return nil
		}
		fmt.Println("applicable:", p.Applicable, "updates:", len(p.Updates))
		return p.Updates
	}
	ups := show()
	fmt.Printf("%s asks for %v\n", ups[0].Policy, ups[0].Set)
	if err := plan.ApplyUpdates(ctx, s, ups); err != nil {
		fmt.Println(err)
		return
	}
	show()
	// Output:
	// applicable: true updates: 1
	// once asks for map[authentication:require_superuser]
	// applicable: false updates: 0
}
