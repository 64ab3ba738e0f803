package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// A policy binding's group and user are references: one that names no
// group or user is refused with authentik's message, the view embeds the
// group's and the user's full representation, and deleting the group or
// the user deletes the binding in the same transaction.
func TestPolicyBindingGroupAndUser(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	f := mkFlow(t, s, "login")
	var g directory.Group
	var u directory.User
	err := s.Update(ctx, func(tx *store.Tx) (err error) {
		if g, err = store.Groups.CreateJSON(tx, []byte(`{"name":"staff","is_superuser":true}`), nil); err != nil {
			return err
		}
		u, err = store.Users.CreateJSON(tx, fmt.Appendf(nil, `{"username":"ann","name":"Ann Example","groups":["%s"]}`, g.PK), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct{ body, field, msg string }{
		{fmt.Sprintf(`{"target":"%s","order":1,"group":"%s"}`, f.PK, uuid.Nil), "group", validate.DoesNotExist(uuid.Nil.String())},
		{fmt.Sprintf(`{"target":"%s","order":1,"user":%d}`, f.PK, u.PK+100), "user", validate.DoesNotExist(fmt.Sprint(u.PK + 100))},
	} {
		err := s.Update(ctx, func(tx *store.Tx) error {
			_, err := store.PolicyBindings.CreateJSON(tx, []byte(tt.body), nil)
			return err
		})
		var ve *validate.Error
		if !errors.As(err, &ve) || len(ve.Fields[tt.field]) != 1 || ve.Fields[tt.field][0] != tt.msg {
			t.Errorf("%s: %v, want %s: %q", tt.body, err, tt.field, tt.msg)
		}
	}
	if want := `Invalid pk "101" - object does not exist.`; validate.DoesNotExist("101") != want {
		t.Errorf("the message is %q, want authentik's %q", validate.DoesNotExist("101"), want)
	}

	var gb, ub policy.BindingView
	err = s.Update(ctx, func(tx *store.Tx) error {
		b, err := store.PolicyBindings.CreateJSON(tx, fmt.Appendf(nil, `{"target":"%s","order":1,"group":"%s"}`, f.PK, g.PK), nil)
		if err != nil {
			return err
		}
		if gb, err = store.PolicyBindings.View(tx, store.PK(b.PK)); err != nil {
			return err
		}
		b, err = store.PolicyBindings.CreateJSON(tx, fmt.Appendf(nil, `{"target":"%s","order":2,"user":%d}`, f.PK, u.PK), nil)
		if err != nil {
			return err
		}
		ub, err = store.PolicyBindings.View(tx, store.PK(b.PK))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var gj, uj struct {
		PolicyObj json.RawMessage `json:"policy_obj"`
		GroupObj  *struct {
			PK       uuid.UUID `json:"pk"`
			Name     string    `json:"name"`
			UsersObj []struct {
				Username string `json:"username"`
			} `json:"users_obj"`
		} `json:"group_obj"`
		UserObj *struct {
			PK          int64  `json:"pk"`
			Username    string `json:"username"`
			IsSuperuser bool   `json:"is_superuser"`
			GroupsObj   []struct {
				Name string `json:"name"`
			} `json:"groups_obj"`
		} `json:"user_obj"`
	}
	for _, x := range []struct {
		v   policy.BindingView
		out any
	}{{gb, &gj}, {ub, &uj}} {
		b, err := json.Marshal(x.v)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, x.out); err != nil {
			t.Fatal(err)
		}
	}
	if string(gj.PolicyObj) != "null" || gj.UserObj != nil || gj.GroupObj == nil || gj.GroupObj.PK != g.PK || gj.GroupObj.Name != "staff" ||
		len(gj.GroupObj.UsersObj) != 1 || gj.GroupObj.UsersObj[0].Username != "ann" {
		t.Errorf("the group binding's view: %+v", gj)
	}
	if string(uj.PolicyObj) != "null" || uj.GroupObj != nil || uj.UserObj == nil || uj.UserObj.PK != u.PK || uj.UserObj.Username != "ann" ||
		!uj.UserObj.IsSuperuser || len(uj.UserObj.GroupsObj) != 1 || uj.UserObj.GroupsObj[0].Name != "staff" {
		t.Errorf("the user binding's view: %+v", uj)
	}

	// Deleting the group deletes its binding, in the same transaction;
	// then deleting the user deletes the other.
	err = s.Update(ctx, func(tx *store.Tx) error {
		if err := store.Groups.Delete(tx, store.PK(g.PK), nil); err != nil {
			return err
		}
		if _, err := store.PolicyBindings.Get(tx, store.PK(gb.PK)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the group's binding after deleting the group, in its transaction: %v", err)
		}
		if _, err := store.PolicyBindings.Get(tx, store.PK(ub.PK)); err != nil {
			t.Errorf("the user's binding after deleting the group: %v", err)
		}
		if err := store.Users.Delete(tx, store.By("pk", fmt.Sprint(u.PK)), nil); err != nil {
			return err
		}
		if _, err := store.PolicyBindings.Get(tx, store.PK(ub.PK)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the user's binding after deleting the user, in its transaction: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckInvariants(t, s)
}

// newGroup creates a group named name and returns its pk.
func newGroup(t testing.TB, s *store.Store, name string) uuid.UUID {
	t.Helper()
	var pk uuid.UUID
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		g, err := store.Groups.CreateJSON(tx, fmt.Appendf(nil, `{"name":%q}`, name), nil)
		pk = g.PK
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return pk
}
