package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/store/kv/kvtest"
)

// A handle whose types are not its collection's is an error on every
// method, before anything is written: a write through it changes
// nothing, even when the caller goes on to commit.
func TestCollWrongTypes(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	f := mkFlow(t, s, "f")
	st := mkUserWrite(t, s, "uw")
	uw := string(stage.ModelUserWrite)
	for name, c := range map[string]store.Coll[flow.Flow, flow.View]{
		"collection": store.NewColl[flow.Flow, flow.View](store.ModelStage),
		"kind":       store.NewColl[flow.Flow, flow.View](store.ModelStage).Kind(uw),
		"kind model": store.NewColl[flow.Flow, flow.View](uw),
	} {
		t.Run(name, func(t *testing.T) {
			ops := map[string]func(tx *store.Tx) error{
				"Get":        func(tx *store.Tx) error { _, err := c.Get(tx, store.PK(st.PK)); return err },
				"View":       func(tx *store.Tx) error { _, err := c.View(tx, store.PK(st.PK)); return err },
				"List":       func(tx *store.Tx) error { _, err := c.List(tx, store.Query{}); return err },
				"ByRef":      func(tx *store.Tx) error { _, err := c.ByRef(tx, "target", f.PK); return err },
				"Create":     func(tx *store.Tx) error { _, err := c.Create(tx, newFlow("x"), nil); return err },
				"CreateJSON": func(tx *store.Tx) error { _, err := c.CreateJSON(tx, []byte(`{"name":"x"}`), nil); return err },
				"Replace": func(tx *store.Tx) error {
					_, err := c.Replace(tx, store.PK(st.PK), []byte(`{"name":"y"}`), nil)
					return err
				},
				"Patch": func(tx *store.Tx) error {
					_, err := c.Patch(tx, store.PK(st.PK), []byte(`{"name":"y"}`), nil)
					return err
				},
				"Delete": func(tx *store.Tx) error { return c.Delete(tx, store.PK(st.PK), nil) },
			}
			for op, fn := range ops {
				before, derr := storeDump(s)
				if derr != nil {
					t.Fatal(derr)
				}
				var err error
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("%s: panic: %v", op, r)
						}
					}()
					_ = s.Update(ctx, func(tx *store.Tx) error {
						err = fn(tx)
						return nil // commit whatever the handle wrote
					})
				}()
				if err == nil || errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: %v, want an error naming the handle's types", op, err)
				}
				if after, _ := storeDump(s); after != before {
					t.Errorf("%s wrote through a handle of the wrong types", op)
				}
			}
		})
	}
}

// By("pk", text) names the object whose pk is that text, as PK does;
// text that is no UUID names nothing. A field that is not unique is no
// key: an error, never a scan or another object.
func TestCollKeys(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	f := mkFlow(t, s, "f")
	err := s.View(ctx, func(tx *store.Tx) error {
		got, err := store.Flows.Get(tx, store.By("pk", f.PK.String()))
		if err != nil || got.PK != f.PK {
			t.Errorf(`By("pk", %s): %v, %v`, f.PK, got.PK, err)
		}
		if _, err := store.Flows.Get(tx, store.By("pk", "nope")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf(`By("pk", "nope"): %v, want ErrNotFound`, err)
		}
		if _, err := store.Flows.Get(tx, store.By("name", f.Name)); err == nil {
			t.Error(`By("name") on flows, whose name is not unique: no error`)
		}
		if _, err := store.Flows.Kind("x").Get(tx, store.PK(f.PK)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a kind of flows, which have none: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// An invitation's creator is a copy of the write's actor: the record the
// create returns shares no map with the user's record, nor with
// stage.Anonymous when there is no actor.
func TestActorNotShared(t *testing.T) {
	s := newTestStore(t)
	invite := func(name string) stage.Invite {
		i := stage.DefaultInvite()
		i.Name = name
		return i
	}
	var mine directory.User
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		mine, err = store.Users.CreateJSON(tx, []byte(`{"username":"u","name":"U","attributes":{"k":1,"nested":{"n":1},"list":[{}]}}`), nil)
		if err != nil {
			return err
		}
		for name, actor := range map[string]*int64{"mine": &mine.PK, "none": nil} {
			i, err := store.Invites.Create(tx, invite(name), &store.WriteOptions{Actor: actor})
			if err != nil {
				return err
			}
			i.CreatedBy.Attributes["changed"] = true
			if n, ok := i.CreatedBy.Attributes["nested"].(map[string]any); ok {
				n["changed"] = true
			}
			if l, ok := i.CreatedBy.Attributes["list"].([]any); ok {
				l[0].(map[string]any)["changed"] = true
			}
		}
		mine, err = store.Users.Get(tx, store.By("pk", fmt.Sprint(mine.PK)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(stage.Anonymous.Attributes) != 0 {
		t.Errorf("stage.Anonymous.Attributes = %v, changed through an invitation", stage.Anonymous.Attributes)
		clear(stage.Anonymous.Attributes)
	}
	if len(mine.Attributes) != 3 || len(mine.Attributes["nested"].(map[string]any)) != 1 || len(mine.Attributes["list"].([]any)[0].(map[string]any)) != 0 {
		t.Errorf("the actor's stored attributes = %v, changed through its invitation", mine.Attributes)
	}
}

// OnCommit's function runs once, with the revision committed at, when an
// optimistic backend runs the transaction's function three times (the
// first two discarded); a transaction rolled back, or a read, never runs
// it.
func TestOnCommitRetried(t *testing.T) {
	ctx := context.Background()
	s, _ := seamNew(t, func(db kv.DB) kv.DB { return kvtest.Flaky(db, 2) })
	var calls, runs int
	var got int64
	err := s.Update(ctx, func(tx *store.Tx) error {
		runs++
		tx.OnCommit(func(rev int64) { calls++; got = rev })
		_, err := store.Flows.Create(tx, newFlow("f"), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := readIn(ctx, s, func(tx *store.Tx) (int64, error) { return tx.Revision() })
	if err != nil {
		t.Fatal(err)
	}
	if runs != 3 || calls != 1 || got != rev || rev == 0 {
		t.Errorf("%d runs, %d calls, at revision %d; want 3 runs, 1 call at %d", runs, calls, got, rev)
	}
	calls = 0
	_ = s.Update(ctx, func(tx *store.Tx) error {
		tx.OnCommit(func(int64) { calls++ })
		return errors.New("roll back")
	})
	_ = s.View(ctx, func(tx *store.Tx) error {
		tx.OnCommit(func(int64) { calls++ })
		return nil
	})
	if calls != 0 {
		t.Errorf("%d calls for a rolled-back update and a read", calls)
	}
}

// A create of an unknown model says it is a create, as before the
// handles: "store: create: not found: unknown model".
func TestCreateUnknownModel(t *testing.T) {
	s := newTestStore(t)
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Create("acme.nope", []byte(`{}`), nil)
		return err
	})
	if !errors.Is(err, store.ErrNotFound) || err.Error() != `store: create: store: not found: unknown model "acme.nope"` {
		t.Errorf("got %v", err)
	}
}

// ByRef takes a reference field: a field that leads an ordered index but
// refers to nothing (a binding's order, a prompt's field_key) is an
// error, not a walk of that index by a UUID's bytes.
func TestByRefNotAReference(t *testing.T) {
	s := newTestStore(t)
	f := mkFlow(t, s, "f")
	err := s.View(context.Background(), func(tx *store.Tx) error {
		if _, err := store.Bindings.ByRef(tx, "order", f.PK); err == nil {
			t.Error(`ByRef("order"): no error`)
		}
		if _, err := store.Prompts.ByRef(tx, "field_key", f.PK); err == nil {
			t.Error(`ByRef("field_key"): no error`)
		}
		if got, err := store.Bindings.ByRef(tx, "target", f.PK); err != nil || len(got) != 0 {
			t.Errorf(`ByRef("target"): %v, %v`, got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
