package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

func openMemos(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "ref.db"), &store.Options{NoSync: true, Collections: []store.Declarer{
		memberDecl(),
		store.Declaration[memo, memo]{Model: "acme_notes.memo", Defaults: func() memo { return memo{} }},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A reference by number beyond the 32 bits of a sequence names no object:
// 2^32+1 is not member 1, nor is -(2^32-1).
func TestReferenceByNumberOutOfRange(t *testing.T) {
	ctx := context.Background()
	s := openMemos(t)
	memos := store.NewColl[memo, memo]("acme_notes.memo")
	err := s.Update(ctx, func(tx *store.Tx) error {
		_, err := members.CreateJSON(tx, []byte(`{"username":"ann"}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"4294967297", "-4294967295", "0", "-1", "2147483648"} {
		err = s.Update(ctx, func(tx *store.Tx) error {
			_, err := memos.CreateJSON(tx, []byte(`{"text":"x","owner":`+n+`}`), nil)
			return err
		})
		var ve *validate.Error
		if !errors.As(err, &ve) || len(ve.Fields["owner"]) != 1 || ve.Fields["owner"][0] != `Invalid pk "`+n+`" - object does not exist.` {
			t.Errorf("owner %s: %v, want does not exist", n, err)
		}
	}
}

// A key names a numbered object by its number's decimal text, read as
// Django's int() reads a path (a sign and leading zeros allowed), and by
// nothing else: not the object's uuid, not an exponent; the derived id is
// its record id in its own collection only.
func TestSequenceKeys(t *testing.T) {
	ctx := context.Background()
	s := openMemos(t)
	var a member
	err := s.Update(ctx, func(tx *store.Tx) error {
		var err error
		a, err = members.CreateJSON(tx, []byte(`{"username":"ann"}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *store.Tx) error {
		for _, k := range []string{"+1", "01"} {
			if m, err := members.Get(tx, store.By("pk", k)); err != nil || m.PK != 1 {
				t.Errorf("By(pk, %q): %+v, %v, want member 1", k, m, err)
			}
		}
		for _, k := range []string{"1e2", "1.0", "", a.UUID.String(), "4294967297", "2147483648"} {
			if _, err := members.Get(tx, store.By("pk", k)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("By(pk, %q): %v, want ErrNotFound", k, err)
			}
		}
		id, err := tx.Lookup("acme_people.member", store.By("pk", "1"))
		if err != nil {
			return err
		}
		if m, err := members.Get(tx, store.PK(id)); err != nil || m.PK != 1 {
			t.Errorf("PK of the derived id: %+v, %v", m, err)
		}
		if _, err := tx.Lookup("acme_notes.memo", store.PK(id)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a member's derived id among memos: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// keeper refers to members by number with protect and set_default.
type keeper struct {
	PK       uuid.UUID `json:"pk" af:"readonly"`
	Guard    *int64    `json:"guard" af:"ref=acme_people.member,on_delete=protect"`
	Fallback int64     `json:"fallback" af:"ref=acme_people.member,on_delete=set_default"`
}

// protect and set_default follow a reference by number, and a change's
// Refs name the member's record id.
func TestReferenceByNumberOnDelete(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(t.TempDir(), "k.db"), &store.Options{NoSync: true, Collections: []store.Declarer{
		memberDecl(),
		store.Declaration[keeper, keeper]{Model: "acme_notes.keeper", Defaults: func() keeper { return keeper{Fallback: 1} }},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keepers := store.NewColl[keeper, keeper]("acme_notes.keeper")
	var k keeper
	err = s.Update(ctx, func(tx *store.Tx) error {
		for _, name := range []string{"ann", "bob", "cat"} {
			if _, err := members.CreateJSON(tx, []byte(`{"username":"`+name+`"}`), nil); err != nil {
				return err
			}
		}
		k, err = keepers.CreateJSON(tx, []byte(`{"guard":3,"fallback":2}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx *store.Tx) error { return members.Delete(tx, store.By("pk", "3"), nil) })
	if !errors.Is(err, store.ErrProtected) {
		t.Errorf("deleting the guard: %v, want ErrProtected", err)
	}
	err = s.Update(ctx, func(tx *store.Tx) error { return members.Delete(tx, store.By("pk", "2"), nil) })
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *store.Tx) error {
		got, err := keepers.Get(tx, store.PK(k.PK))
		if err != nil || got.Fallback != 1 || got.Guard == nil || *got.Guard != 3 {
			t.Errorf("after deleting the fallback: %+v, %v, want fallback 1", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx *store.Tx) error { return members.Delete(tx, store.By("pk", "1"), nil) })
	if err == nil {
		t.Errorf("deleting member 1, the default of the fallback: no error")
	}
	var ids []uuid.UUID
	err = s.View(ctx, func(tx *store.Tx) error {
		for _, n := range []string{"1", "3"} {
			id, err := tx.Lookup("acme_people.member", store.By("pk", n))
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	changes, err := watchAll(t, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	var last store.Change
	for _, c := range changes {
		if c.PK == k.PK {
			last = c
		}
	}
	if !slices.Contains(last.Refs, ids[0]) || !slices.Contains(last.Refs, ids[1]) {
		t.Errorf("the keeper's last change refers to %v, want members 1 and 3 (%v)", last.Refs, ids)
	}
	if errs := s.Check(ctx); len(errs) > 0 {
		t.Errorf("check: %v", errs)
	}
}

// A sequence that is also declared unique is refused (a unique field is
// text); two numbered collections number apart, and their number 1s have
// different ids.
func TestSequenceDeclarations(t *testing.T) {
	type counted struct {
		PK  uuid.UUID `json:"pk" af:"readonly"`
		Num int64     `json:"num" af:"readonly"`
	}
	_, err := store.Open(filepath.Join(t.TempDir(), "u.db"), &store.Options{Collections: []store.Declarer{
		store.Declaration[counted, counted]{Model: "acme.c", Sequence: "num", Unique: []string{"num"}, Defaults: func() counted { return counted{} }},
	}})
	if !errors.Is(err, store.ErrSchema) {
		t.Errorf("sequence and unique on num: %v, want ErrSchema", err)
	}
	other := memberDecl()
	other.Model, other.Path = "acme_people.guest", "acme/guests"
	guests := store.NewColl[member, member]("acme_people.guest")
	ctx := context.Background()
	s, err := store.Open(filepath.Join(t.TempDir(), "two.db"), &store.Options{NoSync: true, Collections: []store.Declarer{memberDecl(), other}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(ctx, func(tx *store.Tx) error {
		m, err := members.CreateJSON(tx, []byte(`{"username":"ann"}`), nil)
		if err != nil {
			return err
		}
		g, err := guests.CreateJSON(tx, []byte(`{"username":"ann"}`), nil)
		if err != nil {
			return err
		}
		if m.PK != 1 || g.PK != 1 {
			t.Errorf("numbers %d and %d, want 1 in each collection", m.PK, g.PK)
		}
		mid, err := tx.Lookup("acme_people.member", store.By("pk", "1"))
		if err != nil {
			return err
		}
		gid, err := tx.Lookup("acme_people.guest", store.By("pk", "1"))
		if err != nil {
			return err
		}
		if mid == gid {
			t.Errorf("member 1 and guest 1 share the id %s", mid)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs := s.Check(ctx); len(errs) > 0 {
		t.Errorf("check: %v", errs)
	}
}

// A record whose number was changed under it (its key is the id of
// another number) is ErrCorrupt, for Check and for a read.
func TestSequenceFlippedNumber(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flip.db")
	s := openMembers(t, path)
	var id uuid.UUID
	err := s.Update(ctx, func(tx *store.Tx) error {
		if _, err := members.CreateJSON(tx, []byte(`{"username":"ann"}`), nil); err != nil {
			return err
		}
		var err error
		id, err = tx.Lookup("acme_people.member", store.By("pk", "1"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	flipped := false
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("acme_people.member"))
		js := bytes.Clone(b.Get(id[:])[13:]) // a format 4 record's JSON
		if i := bytes.Index(js, []byte(`"pk":1`)); i >= 0 {
			js[i+5] = '3'
			flipped = true
		}
		// Resealed as format 2, whose checksum covers only the JSON: the
		// record is whole, but its key is not its number's.
		v := binary.BigEndian.AppendUint32([]byte{2}, crc32.Checksum(js, crc32.MakeTable(crc32.Castagnoli)))
		return b.Put(id[:], append(v, js...))
	})
	db.Close()
	if err != nil || !flipped {
		t.Fatalf("flipping the number: %v, found %v", err, flipped)
	}
	s = openMembers(t, path)
	defer s.Close()
	errs := s.Check(ctx)
	if len(errs) == 0 || !errors.Is(errs[0], store.ErrCorrupt) || !strings.Contains(errs[0].Error(), "it holds pk") {
		t.Errorf("check: %v, want ErrCorrupt: it holds pk", errs)
	}
	err = s.View(ctx, func(tx *store.Tx) error {
		_, err := members.Get(tx, store.By("pk", "1"))
		return err
	})
	if !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("reading member 1: %v, want ErrCorrupt", err)
	}
}

// setCounter writes the raw sequence counter of members into the file.
func setCounter(t *testing.T, path string, n uint64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("seq\x00acme_people.member"), binary.BigEndian.AppendUint64(nil, n))
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
}

func createMember(s *store.Store, name string) (member, error) {
	var m member
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		m, err = members.CreateJSON(tx, []byte(`{"username":"`+name+`"}`), nil)
		return err
	})
	return m, err
}

// The last number is 2^31-1, as in Django's AutoField; after it a create
// is ErrTooLarge. A counter beyond it or below 0 is damage (ErrCorrupt),
// never a number given.
func TestSequenceBounds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seq.db")
	s := openMembers(t, path)
	if _, err := createMember(s, "a"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	setCounter(t, path, 1<<31-2)
	s = openMembers(t, path)
	m, err := createMember(s, "b")
	if err != nil || m.PK != 1<<31-1 {
		t.Errorf("the last number: %+v, %v, want 2147483647", m, err)
	}
	err = s.View(context.Background(), func(tx *store.Tx) error {
		_, err := members.Get(tx, store.By("pk", "2147483647"))
		return err
	})
	if err != nil {
		t.Errorf("By(pk, 2147483647): %v", err)
	}
	if _, err := createMember(s, "c"); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("after 2^31-1: %v, want ErrTooLarge", err)
	}
	if errs := s.Check(context.Background()); len(errs) > 0 {
		t.Errorf("check: %v", errs)
	}
	s.Close()
	for _, bad := range []uint64{1 << 32, 1<<64 - 1, 1 << 63} {
		setCounter(t, path, bad)
		s = openMembers(t, path)
		if m, err := createMember(s, "d"); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("counter %#x: %+v, %v, want ErrCorrupt", bad, m, err)
		}
		if errs := s.Check(context.Background()); len(errs) != 1 || !errors.Is(errs[0], store.ErrCorrupt) {
			t.Errorf("counter %#x: check: %v, want one ErrCorrupt", bad, errs)
		}
		s.Close()
	}
}

// A reference by number that the body did not send (a default) and that
// names no object is shown by its number, not by the id derived from it.
func TestReferenceByNumberDefaultMissing(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "k.db"), &store.Options{NoSync: true, Collections: []store.Declarer{
		memberDecl(),
		store.Declaration[keeper, keeper]{Model: "acme_notes.keeper", Defaults: func() keeper { return keeper{Fallback: 1} }},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keepers := store.NewColl[keeper, keeper]("acme_notes.keeper")
	err = s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := keepers.CreateJSON(tx, []byte(`{}`), nil)
		return err
	})
	var ve *validate.Error
	if !errors.As(err, &ve) || len(ve.Fields["fallback"]) != 1 || ve.Fields["fallback"][0] != `Invalid pk "1" - object does not exist.` {
		t.Errorf("a default naming no member: %v", err)
	}
}
