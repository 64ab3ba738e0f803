package store_test

import (
	"errors"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// CreateWithPK gives the object the pk asked for, in every collection; a
// pk that any object holds (of another collection, of another kind of
// the same collection, or as a flow's policy-binding-model id) or the
// nil UUID is a field error on pk, reported with the other field errors,
// and nothing is written.
func TestCreateWithPK(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	given := func(n byte) uuid.UUID {
		return uuid.MustParse("0a0b0c0d-0000-4000-8000-0000000000" + string("0123456789"[n/10]) + string("0123456789"[n%10]))
	}
	creates := []struct {
		model string
		body  string
	}{
		{store.ModelFlow, `{"name": "F", "slug": "f", "title": "F", "designation": "authentication"}`},
		{string(stage.ModelUserWrite), `{"name": "write"}`},
		{store.ModelPrompt, `{"name": "p", "field_key": "username", "label": "Username", "type": "username"}`},
		{string(policy.ModelDummy), `{"name": "gate"}`},
	}
	for i, c := range creates {
		err := s.Update(ctx, func(tx *store.Tx) error { return tx.CreateWithPK(c.model, given(byte(i)), []byte(c.body), nil) })
		if err != nil {
			t.Fatalf("create %s: %v", c.model, err)
		}
	}
	var pbm uuid.UUID
	err := s.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateWithPK(store.ModelBinding, given(10), []byte(`{"target": "`+given(0).String()+`", "stage": "`+given(1).String()+`", "order": 10}`), nil); err != nil {
			return err
		}
		if err := tx.CreateWithPK(store.ModelPolicyBinding, given(11), []byte(`{"target": "`+given(0).String()+`", "policy": "`+given(3).String()+`", "order": 0}`), nil); err != nil {
			return err
		}
		if err := tx.CreateWithPK(store.ModelInvite, given(12), []byte(`{"name": "inv"}`), nil); err != nil {
			return err
		}
		f, err := store.Flows.View(tx, store.PK(given(0)))
		pbm = f.PolicyBindingModelPtrID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, model := range []string{store.ModelFlow, store.ModelStage, store.ModelPrompt, store.ModelPolicy, 10: store.ModelBinding, store.ModelPolicyBinding, store.ModelInvite} {
		if model == "" {
			continue
		}
		err := s.View(ctx, func(tx *store.Tx) error { _, err := tx.Get(model, given(byte(i))); return err })
		if err != nil {
			t.Errorf("%s %s: %v", model, given(byte(i)), err)
		}
	}
	refused := []struct {
		name, model string
		pk          uuid.UUID
		body        string
		fields      map[string][]string
		conflict    bool
	}{
		{"held by a flow", string(stage.ModelDeny), given(0), `{"name": "deny"}`, map[string][]string{"pk": {validate.PKHeld("flow")}}, true},
		{"held by a stage of another kind", string(stage.ModelDeny), given(1), `{"name": "deny"}`, map[string][]string{"pk": {validate.PKHeld("stage")}}, true},
		{"held by a policy of another kind", string(policy.ModelExpression), given(3), `{"name": "e", "expression": "return True"}`, map[string][]string{"pk": {validate.PKHeld("policy")}}, true},
		{"held by an invitation", store.ModelPrompt, given(12), `{"name": "q", "field_key": "q", "label": "Q", "type": "text"}`, map[string][]string{"pk": {validate.PKHeld("invitation")}}, true},
		{"a flow's pbm id", store.ModelFlow, pbm, `{"name": "G", "slug": "g", "title": "G", "designation": "authentication"}`, map[string][]string{"pk": {validate.PKHeld("policy binding model")}}, true},
		{"with other field errors", store.ModelFlow, given(1), `{"name": "G", "slug": "f", "title": "G", "designation": "authentication"}`, map[string][]string{"pk": {validate.PKHeld("stage")}, "slug": {validate.Unique("Flow", "slug")}}, true},
		{"nil", store.ModelFlow, uuid.Nil, `{"name": "G", "slug": "g", "title": "G", "designation": "authentication"}`, map[string][]string{"pk": {validate.MsgNilPK}}, false},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			err := wantUnchanged(t, s, func() error {
				return s.Update(ctx, func(tx *store.Tx) error { return tx.CreateWithPK(tt.model, tt.pk, []byte(tt.body), nil) })
			})
			testutil.WantInvalid(t, err, tt.fields)
			if errors.Is(err, store.ErrConflict) != tt.conflict {
				t.Errorf("errors.Is(%v, ErrConflict) = %v", err, !tt.conflict)
			}
		})
	}
}

// A custom NewID that makes a pk a create was given is refused, not
// written over.
func TestNewIDHeldByGivenPK(t *testing.T) {
	s := newTestStore(t) // counter ids from 1
	ctx := t.Context()
	next, _ := storetest.CounterIDs(1, 1)()
	err := s.Update(ctx, func(tx *store.Tx) error {
		return tx.CreateWithPK(store.ModelPrompt, next, []byte(`{"name": "p", "field_key": "username", "label": "Username", "type": "username"}`), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	wantUnchanged(t, s, func() error {
		_, err := createIn(ctx, s, store.Stages, stage.Stage{Name: "write", Config: stage.DefaultUserWrite()})
		return err
	})
}
