package plan_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
)

// A plan for a user whose merged group attributes would pass
// directory.MaxMergedValues (many groups below a cycle of parents, made
// by patches, whose one group has a long list) fails with
// directory.ErrTooLarge instead of building them.
func TestPlanGroupAttributesBounded(t *testing.T) {
	s := openStore(t)
	loadInto(t, s, policyFlow)
	var pk int64
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		items := strings.TrimSuffix(strings.Repeat("1,", 5000), ",")
		p, err := store.Groups.CreateJSON(tx, []byte(`{"name":"p","attributes":{"l":[`+items+`]}}`), nil)
		if err != nil {
			return err
		}
		q, err := store.Groups.CreateJSON(tx, fmt.Appendf(nil, `{"name":"q","parent":"%s"}`, p.PK), nil)
		if err != nil {
			return err
		}
		if _, err := store.Groups.Patch(tx, store.PK(p.PK), fmt.Appendf(nil, `{"parent":"%s"}`, q.PK), nil); err != nil {
			return err
		}
		var ids []string
		for i := range 100 {
			g, err := store.Groups.CreateJSON(tx, fmt.Appendf(nil, `{"name":"g%d","parent":"%s"}`, i, p.PK), nil)
			if err != nil {
				return err
			}
			ids = append(ids, `"`+g.PK.String()+`"`)
		}
		u, err := store.Users.CreateJSON(tx, []byte(`{"username":"u","name":"U","groups":[`+strings.Join(ids, ",")+`]}`), nil)
		pk = u.PK
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(context.Background(), func(tx *store.Tx) error {
		_, err := plan.Make(context.Background(), tx, "login", plan.Request{User: plan.User{PK: pk, Authenticated: true}}, plan.Options{})
		return err
	})
	if !errors.Is(err, directory.ErrTooLarge) {
		t.Errorf("Make: %v, want ErrTooLarge", err)
	}
}

// A cached plan does not survive a membership change made through
// Tx.SetMember (the API's add_user and remove_user), nor the deletion
// of its user or of a group above the user.
func TestCacheFollowsSetMemberAndDeletes(t *testing.T) {
	s := openStore(t)
	d := newDirectory(t, s)
	loadInto(t, s, d.replace(policyFlow+`- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf flow, group: GROUP_admins, order: 1}
`))
	c := plan.NewCache(s, plan.CacheOptions{})
	defer c.Close()
	ctx := context.Background()
	applicable := func(pk int64, want bool, what string) {
		t.Helper()
		p, err := c.Make(ctx, "login", plan.Request{User: plan.User{PK: pk, Authenticated: true}})
		if err != nil || p.Applicable != want {
			t.Errorf("%s: applicable %v, %v; want %v", what, p.Applicable, err, want)
		}
	}
	update := func(fn func(tx *store.Tx) error) {
		t.Helper()
		if err := s.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	applicable(plainPK, false, "plain, in no group")
	update(func(tx *store.Tx) error {
		_, err := tx.SetMember(store.PK(d.groups["staff"]), plainPK, true, nil)
		return err
	})
	applicable(plainPK, true, "plain after add_user to staff")
	update(func(tx *store.Tx) error {
		_, err := tx.SetMember(store.PK(d.groups["staff"]), plainPK, false, nil)
		return err
	})
	applicable(plainPK, false, "plain after remove_user from staff")

	applicable(annPK, true, "ann, in eng below staff below admins")
	update(func(tx *store.Tx) error { return store.Groups.Delete(tx, store.PK(d.groups["staff"]), nil) })
	applicable(annPK, false, "ann after staff was deleted (eng has no parent)")
	update(func(tx *store.Tx) error { return store.Users.Delete(tx, store.By("pk", fmt.Sprint(annPK)), nil) })
	if _, err := c.Make(ctx, "login", plan.Request{User: plan.User{PK: annPK, Authenticated: true}}); !errors.Is(err, plan.ErrUnknownUser) {
		t.Errorf("after ann was deleted: %v, want ErrUnknownUser", err)
	}
}
