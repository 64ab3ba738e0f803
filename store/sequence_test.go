package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// member is keyed as authentik's users are: its pk is a number the store
// gives (a Django AutoField); its uuid is a unique field like another.
type member struct {
	PK       int64     `json:"pk" af:"readonly"`
	UUID     uuid.UUID `json:"uuid" af:"readonly"`
	Username string    `json:"username" af:"required"`
}

func memberDecl() store.Declaration[member, member] {
	return store.Declaration[member, member]{
		Model: "acme_people.member", Path: "acme/members", Sequence: "pk",
		Defaults: func() member { return member{UUID: uuid.New()} }, Unique: []string{"username"},
	}
}

var members = store.NewColl[member, member]("acme_people.member")

func openMembers(t *testing.T, path string) *store.Store {
	t.Helper()
	s, err := store.Open(path, &store.Options{NoSync: true, Collections: []store.Declarer{memberDecl()}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The store numbers a sequence 1, 2, 3..., never gives a number twice
// (not after a delete, not after reopening), ignores one a write sends,
// and names an object by it.
func TestSequence(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seq.db")
	s := openMembers(t, path)
	create := func(name string) member {
		t.Helper()
		var m member
		err := s.Update(ctx, func(tx *store.Tx) error {
			var err error
			m, err = members.CreateJSON(tx, []byte(`{"username":"`+name+`","pk":99}`), nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := create("a"), create("b")
	if a.PK != 1 || b.PK != 2 || a.UUID == uuid.Nil || a.UUID == b.UUID {
		t.Fatalf("numbered %d and %d (uuids %s, %s), want 1 and 2", a.PK, b.PK, a.UUID, b.UUID)
	}
	err := s.Update(ctx, func(tx *store.Tx) error {
		got, err := members.Get(tx, store.By("pk", "2"))
		if err != nil || got.Username != "b" {
			t.Errorf("by pk 2: %+v, %v", got, err)
		}
		got, err = members.Patch(tx, store.By("pk", "1"), []byte(`{"username":"a2","pk":5}`), nil)
		if err != nil || got.PK != 1 || got.Username != "a2" {
			t.Errorf("a patch sending pk: %+v, %v", got, err)
		}
		for _, k := range []string{"3", "0", "-1", "x", "99999999999"} {
			if _, err := members.Get(tx, store.By("pk", k)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("by pk %q: %v, want ErrNotFound", k, err)
			}
		}
		if _, err := members.Get(tx, store.PK(a.UUID)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("by its uuid as a record id: %v, want ErrNotFound (the uuid is no key)", err)
		}
		return members.Delete(tx, store.By("pk", "2"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openMembers(t, path)
	defer s.Close()
	if c := create("c"); c.PK != 3 {
		t.Errorf("after deleting 2 and reopening, the next number is %d, want 3", c.PK)
	}
	if errs := s.Check(ctx); len(errs) > 0 {
		t.Errorf("check: %v", errs)
	}
}

// A sequence counter behind the numbers its objects hold (damage) is
// found by Check, and a create refuses to give a held number with
// ErrCorrupt instead of taking the other object's place.
func TestSequenceDamaged(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seq.db")
	s := openMembers(t, path)
	for _, name := range []string{"a", "b"} {
		err := s.Update(ctx, func(tx *store.Tx) error {
			_, err := members.CreateJSON(tx, []byte(`{"username":"`+name+`"}`), nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("seq\x00acme_people.member"), []byte{0, 0, 0, 0, 0, 0, 0, 1})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s = openMembers(t, path)
	defer s.Close()
	errs := s.Check(ctx)
	if len(errs) != 1 || !errors.Is(errs[0], store.ErrCorrupt) {
		t.Errorf("check: %v, want one ErrCorrupt about the sequence", errs)
	}
	err = s.Update(ctx, func(tx *store.Tx) error {
		_, err := members.CreateJSON(tx, []byte(`{"username":"c"}`), nil)
		return err
	})
	if !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("a create with the counter behind: %v, want ErrCorrupt", err)
	}
	err = s.View(ctx, func(tx *store.Tx) error {
		m, err := members.Get(tx, store.By("pk", "2"))
		if err != nil || m.Username != "b" {
			t.Errorf("number 2 after the refused create: %+v, %v", m, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSequenceRefused(t *testing.T) {
	type textSeq struct {
		PK   uuid.UUID `json:"pk" af:"readonly"`
		Num  string    `json:"num" af:"readonly"`
		Name string    `json:"name"`
	}
	type writableSeq struct {
		PK  uuid.UUID `json:"pk" af:"readonly"`
		Num int64     `json:"num"`
	}
	for name, d := range map[string]store.Declarer{
		"text sequence":                  store.Declaration[textSeq, textSeq]{Model: "acme.t", Sequence: "num", Defaults: func() textSeq { return textSeq{} }},
		"writable sequence":              store.Declaration[writableSeq, writableSeq]{Model: "acme.w", Sequence: "num", Defaults: func() writableSeq { return writableSeq{} }},
		"no such field":                  store.Declaration[member, member]{Model: "acme.m", Sequence: "nope", Defaults: func() member { return member{} }},
		"numbered pk without a sequence": store.Declaration[member, member]{Model: "acme.m", Defaults: func() member { return member{} }},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := store.Open(filepath.Join(t.TempDir(), "x.db"), &store.Options{Collections: []store.Declarer{d}})
			if !errors.Is(err, store.ErrSchema) {
				t.Fatalf("got %v, want ErrSchema", err)
			}
		})
	}
}

// memo refers to a member by number, as a policy binding refers to a
// user: the reference is checked, indexed and followed on delete like one
// by UUID.
type memo struct {
	PK     uuid.UUID `json:"pk" af:"readonly"`
	Text   string    `json:"text"`
	Owner  *int64    `json:"owner" af:"ref=acme_people.member,on_delete=cascade"`
	Editor *int64    `json:"editor" af:"ref=acme_people.member"` // set_null, the default
}

func TestReferenceByNumber(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(t.TempDir(), "ref.db"), &store.Options{NoSync: true, Collections: []store.Declarer{
		memberDecl(),
		store.Declaration[memo, memo]{Model: "acme_notes.memo", Defaults: func() memo { return memo{} }},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	memos := store.NewColl[memo, memo]("acme_notes.memo")
	var m1, m2 memo
	err = s.Update(ctx, func(tx *store.Tx) error {
		for _, name := range []string{"ann", "bob"} {
			if _, err := members.CreateJSON(tx, []byte(`{"username":"`+name+`"}`), nil); err != nil {
				return err
			}
		}
		var err error
		if m1, err = memos.CreateJSON(tx, []byte(`{"text":"one","owner":1,"editor":2}`), nil); err != nil {
			return err
		}
		m2, err = memos.CreateJSON(tx, []byte(`{"text":"two","owner":2,"editor":1}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx *store.Tx) error {
		_, err := memos.CreateJSON(tx, []byte(`{"text":"x","owner":9}`), nil)
		return err
	})
	var ve *validate.Error
	if !errors.As(err, &ve) || len(ve.Fields["owner"]) != 1 || ve.Fields["owner"][0] != `Invalid pk "9" - object does not exist.` {
		t.Errorf("a reference to no member: %v", err)
	}
	err = s.Update(ctx, func(tx *store.Tx) error {
		id, err := tx.Lookup("acme_people.member", store.By("pk", "1"))
		if err != nil {
			return err
		}
		used, err := tx.UsedBy("acme_people.member", id)
		if err != nil || len(used) != 2 {
			t.Errorf("used_by of member 1: %+v, %v", used, err)
		}
		// Deleting member 1 deletes the memo it owns and empties the
		// editor of the other.
		return members.Delete(tx, store.By("pk", "1"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *store.Tx) error {
		if _, err := memos.Get(tx, store.PK(m1.PK)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the memo member 1 owned: %v, want it deleted", err)
		}
		got, err := memos.Get(tx, store.PK(m2.PK))
		if err != nil || got.Editor != nil || got.Owner == nil || *got.Owner != 2 {
			t.Errorf("the memo member 1 edited: %+v, %v", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs := s.Check(ctx); len(errs) > 0 {
		t.Errorf("check: %v", errs)
	}
	// A reference by number to a collection whose pk is no number is
	// refused at Open.
	type bad struct {
		PK   uuid.UUID `json:"pk" af:"readonly"`
		Flow *int64    `json:"flow" af:"ref=flow"`
	}
	_, err = store.Open(filepath.Join(t.TempDir(), "bad.db"), &store.Options{Collections: []store.Declarer{
		store.Declaration[bad, bad]{Model: "acme.bad", Defaults: func() bad { return bad{} }},
	}})
	if !errors.Is(err, store.ErrSchema) {
		t.Errorf("a reference by number to flows: %v, want ErrSchema", err)
	}
}

// The conformance suite runs on a store with a numbered collection and a
// reference to it by number.
func TestSequenceConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.Open(filepath.Join(t.TempDir(), "c.db"), &store.Options{NoSync: true, Collections: []store.Declarer{
			memberDecl(),
			store.Declaration[memo, memo]{Model: "acme_notes.memo", Defaults: func() memo { return memo{} }},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, &storetest.Options{Samples: map[string]storetest.Sample{
		"acme_people.member": func(name string, _ func(string) uuid.UUID) []byte { return fmt.Appendf(nil, `{"username":%q}`, name) },
		"acme_notes.memo":    func(name string, _ func(string) uuid.UUID) []byte { return fmt.Appendf(nil, `{"text":%q}`, name) },
	}})
}
