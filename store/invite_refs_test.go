package store_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/authflow/authflow/validate"
	bolt "go.etcd.io/bbolt"
)

// newInvite creates an invitation named name whose creator is actor (a
// user's pk, or nil for the anonymous creator).
func newInvite(t testing.TB, tx *store.Tx, name string, actor *int64) stage.Invite {
	t.Helper()
	i, err := store.Invites.CreateJSON(tx, fmt.Appendf(nil, `{"name":%q}`, name), &store.WriteOptions{Actor: actor})
	if err != nil {
		t.Fatalf("create invitation %s: %v", name, err)
	}
	return i
}

// userID is the record id of the user numbered pk, as UsedBy takes it.
func userID(t testing.TB, tx *store.Tx, pk int64) [16]byte {
	t.Helper()
	id, err := tx.Lookup(store.ModelUser, store.By("pk", strconv.FormatInt(pk, 10)))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// An invitation's creator is a reference to the user the write's actor
// names: the record holds the user's pk beside a copy of it, the view and
// the created_by__username filter read the user as it is now, the user's
// used_by lists the invitation (invitation_set, cascade), and deleting
// the user deletes it in the same transaction, leaving the anonymous
// creator's invitation alone.
func TestInvitationCreatorIsAReference(t *testing.T) {
	s, _ := dirStore(t)
	ctx := context.Background()
	var alice, bob directory.User
	var mine, anon stage.Invite
	err := s.Update(ctx, func(tx *store.Tx) error {
		alice = mkUser(t, tx, `{"username":"alice","name":"Alice","email":"a@example.com","attributes":{"team":"a"}}`)
		bob = mkUser(t, tx, `{"username":"bob","name":"Bob"}`)
		mine = newInvite(t, tx, "mine", &alice.PK)
		anon = newInvite(t, tx, "anon", nil)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if mine.CreatedByUser == nil || *mine.CreatedByUser != alice.PK {
		t.Errorf("created_by_user = %v, want %d", mine.CreatedByUser, alice.PK)
	}
	if by := mine.CreatedBy; by.PK != alice.PK || by.Username != "alice" || by.Name != "Alice" || by.Email != "a@example.com" || by.Attributes["team"] != "a" || by.UID == "" {
		t.Errorf("created_by = %+v, want a copy of alice", by)
	}
	if anon.CreatedByUser != nil || anon.CreatedBy.Username != stage.Anonymous.Username || anon.CreatedBy.PK != 0 {
		t.Errorf("the anonymous creator: %v %+v", anon.CreatedByUser, anon.CreatedBy)
	}

	used, err := readIn(ctx, s, func(tx *store.Tx) ([]store.UsedBy, error) { return tx.UsedBy(store.ModelUser, userID(t, tx, alice.PK)) })
	want := []store.UsedBy{{App: "authentik_stages_invitation", ModelName: "invitation", PK: mine.PK.String(),
		Name: "Invitation " + strings.ReplaceAll(mine.PK.String(), "-", "") + " created by alice", Action: "cascade"}}
	if err != nil || len(used) != 1 || used[0] != want[0] {
		t.Errorf("alice's used_by = %+v, %v; want %+v", used, err, want)
	}
	if used, err := readIn(ctx, s, func(tx *store.Tx) ([]store.UsedBy, error) { return tx.UsedBy(store.ModelUser, userID(t, tx, bob.PK)) }); err != nil || len(used) != 0 {
		t.Errorf("bob's used_by = %+v, %v; want none", used, err)
	}

	// The user renamed: the view and the filter follow, the record's copy
	// stays as it was.
	err = s.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Users.Patch(tx, store.By("pk", fmt.Sprint(alice.PK)), []byte(`{"username":"alice2","name":"Alice Two"}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *store.Tx) error {
		v, err := store.Invites.View(tx, store.PK(mine.PK))
		if err != nil {
			return err
		}
		var got struct {
			CreatedBy map[string]any `json:"created_by"`
		}
		b, _ := json.Marshal(v)
		if err := json.Unmarshal(b, &got); err != nil {
			return err
		}
		if got.CreatedBy["username"] != "alice2" || got.CreatedBy["name"] != "Alice Two" || strings.Contains(string(b), "created_by_user") {
			t.Errorf("the view after the rename: %s", b)
		}
		if rec, _ := store.Invites.Get(tx, store.PK(mine.PK)); rec.CreatedBy.Username != "alice" {
			t.Errorf("the stored copy: %+v, want alice as she was", rec.CreatedBy)
		}
		for q, want := range map[string]int{"alice2": 1, "alice": 0, "AnonymousUser": 1} {
			p, err := store.Invites.List(tx, store.Query{Filters: map[string]string{"created_by__username": q}})
			if err != nil {
				return err
			}
			if len(p.Results) != want {
				t.Errorf("created_by__username=%s lists %d, want %d", q, len(p.Results), want)
			}
		}
		used, err := tx.UsedBy(store.ModelUser, userID(t, tx, alice.PK))
		if err != nil || len(used) != 1 || !strings.HasSuffix(used[0].Name, " created by alice2") {
			t.Errorf("used_by after the rename: %+v, %v", used, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	err = s.Update(ctx, func(tx *store.Tx) error {
		if err := store.Users.Delete(tx, store.By("pk", fmt.Sprint(alice.PK)), nil); err != nil {
			return err
		}
		if _, err := store.Invites.Get(tx, store.PK(mine.PK)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("alice's invitation after deleting her, in the transaction: %v", err)
		}
		if _, err := store.Invites.Get(tx, store.PK(anon.PK)); err != nil {
			t.Errorf("the anonymous invitation after deleting alice: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckInvariants(t, s)
}

// An actor that names no user is refused, with an error wrapping
// ErrUnknownActor that is not a validation error, and nothing is written;
// pk 0 (stage.Anonymous's) names no user either. A body error is
// reported first.
func TestInvitationUnknownActor(t *testing.T) {
	s, _ := dirStore(t)
	ctx := context.Background()
	var u directory.User
	if err := s.Update(ctx, func(tx *store.Tx) error { u = mkUser(t, tx, `{"username":"u","name":"U"}`); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, pk := range []int64{u.PK + 1, 0, -1} {
		err := wantUnchanged(t, s, func() error {
			return s.Update(ctx, func(tx *store.Tx) error {
				_, err := store.Invites.CreateJSON(tx, []byte(`{"name":"x"}`), &store.WriteOptions{Actor: &pk})
				return err
			})
		})
		var ve *validate.Error
		if !errors.Is(err, store.ErrUnknownActor) || errors.As(err, &ve) || !strings.Contains(err.Error(), fmt.Sprintf("no user has pk %d", pk)) {
			t.Errorf("actor %d: %v, want ErrUnknownActor naming the pk", pk, err)
		}
	}
	bad := u.PK + 1
	err := s.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Invites.CreateJSON(tx, []byte(`{"name":"not a slug"}`), &store.WriteOptions{Actor: &bad})
		return err
	})
	var ve *validate.Error
	if !errors.As(err, &ve) || len(ve.Fields["name"]) != 1 {
		t.Errorf("a bad body with an unknown actor: %v, want the body's error", err)
	}
	// An actor is needed only where a write creates an invitation.
	err = s.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Flows.Create(tx, newFlow("f"), &store.WriteOptions{Actor: &bad})
		return err
	})
	if err != nil {
		t.Errorf("a flow written with an unknown actor: %v", err)
	}
}

// An invitation written before authflow held users has no
// created_by_user: it loads, shows its stored copy, lists and filters,
// takes a patch, and the store checks clean.
func TestInvitationOldRecord(t *testing.T) {
	s, _ := dirStore(t)
	ctx := context.Background()
	var old stage.Invite
	if err := s.Update(ctx, func(tx *store.Tx) error { old = newInvite(t, tx, "old", nil); return nil }); err != nil {
		t.Fatal(err)
	}
	s, err := damageStore(t, s, false, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("invites"))
		raw := b.Get(old.PK[:])
		var rec map[string]any
		if err := json.Unmarshal(raw[13:], &rec); err != nil {
			return err
		}
		if _, ok := rec["created_by_user"]; !ok {
			return fmt.Errorf("the record has no created_by_user: %s", raw[13:])
		}
		delete(rec, "created_by_user")
		rec["created_by"] = map[string]any{"pk": 7, "username": "akadmin", "name": "Admin", "is_active": true,
			"last_login": nil, "email": "", "attributes": map[string]any{}, "uid": "x"}
		js, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		rev := int64(binary.BigEndian.Uint64(raw[1:9]))
		return b.Put(old.PK[:], store.SealRecord("invites", old.PK[:], js, rev))
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Check(ctx); len(p) != 0 {
		t.Errorf("Check: %v", p)
	}
	err = s.Update(ctx, func(tx *store.Tx) error {
		v, err := store.Invites.View(tx, store.PK(old.PK))
		if err != nil {
			return err
		}
		if v.CreatedByUser != nil || v.CreatedBy.Username != "akadmin" || v.CreatedBy.PK != 7 {
			t.Errorf("the old record's view: %v %+v", v.CreatedByUser, v.CreatedBy)
		}
		p, err := store.Invites.List(tx, store.Query{Filters: map[string]string{"created_by__username": "akadmin"}})
		if err != nil || len(p.Results) != 1 {
			t.Errorf("created_by__username=akadmin: %v, %v", p.Results, err)
		}
		i, err := store.Invites.Patch(tx, store.PK(old.PK), []byte(`{"single_use":true}`), nil)
		if err != nil || !i.SingleUse || i.CreatedBy.Username != "akadmin" || i.CreatedByUser != nil {
			t.Errorf("patched: %+v, %v", i, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckInvariants(t, s)
}
