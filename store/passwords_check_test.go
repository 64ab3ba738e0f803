package store_test

import (
	"errors"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/store"
	bolt "go.etcd.io/bbolt"
)

// CheckPassword checks the password of a user that is there and whole:
// an unknown user is ErrNotFound, one whose record is damaged
// ErrCorrupt, though its hash is kept apart and intact.
func TestCheckPasswordUserRecord(t *testing.T) {
	s, _ := dirStore(t)
	ctx := t.Context()
	var pk int64
	if err := s.Update(ctx, func(tx *store.Tx) error {
		pk = mkUser(t, tx, `{"username":"u","name":"U"}`).PK
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword(ctx, pk, ptrTo("pw")); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.CheckPassword(ctx, pk, "pw"); !ok || err != nil {
		t.Fatalf("%v %v", ok, err)
	}
	if ok, err := s.CheckPassword(ctx, pk+1, "pw"); ok || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v %v", ok, err)
	}
	if ok, err := s.Directory().CheckPassword(ctx, pk+1, "pw"); ok || !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("unknown user through the directory: %v %v", ok, err)
	}
	s, err := damageStore(t, s, true, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("users"))
		k, v := b.Cursor().First()
		v = append([]byte(nil), v...)
		v[len(v)-2] ^= 0x20
		return b.Put(k, v)
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.CheckPassword(ctx, pk, "pw"); ok || !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("damaged user record: %v %v", ok, err)
	}
}

func ptrTo[T any](v T) *T { return &v }
