package plan_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/plan"
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
