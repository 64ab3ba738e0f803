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
