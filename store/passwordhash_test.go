package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/store"
)

// A hash read in a transaction (Tx.PasswordHash) checks outside it as
// CheckPassword does (CheckPasswordHash): the right password only, an
// old hash upgraded at its first success unless the password changed
// since it was read, nothing verifying against an unusable one; it
// shows nothing of the hash, and an unknown user's is ErrNotFound.
func TestCheckPasswordHash(t *testing.T) {
	s, _ := dirStore(t)
	ctx := context.Background()
	var pk int64
	_ = s.Update(ctx, func(tx *store.Tx) error { pk = mkUser(t, tx, `{"username":"a","name":"A"}`).PK; return nil })
	read := func() store.PasswordHash {
		t.Helper()
		var h store.PasswordHash
		err := s.View(ctx, func(tx *store.Tx) (err error) { h, err = tx.PasswordHash(pk); return err })
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	check := func(h store.PasswordHash, raw string, want bool) {
		t.Helper()
		if ok, err := s.CheckPasswordHash(ctx, pk, h, raw); ok != want || err != nil {
			t.Errorf("CheckPasswordHash(%q) = %v, %v; want %v", raw, ok, err, want)
		}
	}
	const secret = "correct horse"
	if h := read(); h.Usable() {
		t.Error("a new user's hash is usable")
	}
	check(read(), "", false)

	old, err := password.Policy{Iterations: 500}.Hash(secret)
	if err != nil {
		t.Fatal(err)
	}
	imported, err := store.ImportPasswordHash(old)
	if err != nil {
		t.Fatal(err)
	}
	set := func(h store.PasswordHash) {
		t.Helper()
		if err := s.Update(ctx, func(tx *store.Tx) error { return tx.SetPassword(pk, h, nil) }); err != nil {
			t.Fatal(err)
		}
	}
	set(imported)
	h := read()
	if h != imported || !h.Usable() {
		t.Error("the hash read is not the one stored")
	}
	salt := strings.Split(old, "$")[2]
	for _, got := range []string{fmt.Sprint(h), fmt.Sprintf("%#v", h), fmt.Sprintf("%+v", struct{ H store.PasswordHash }{h}), jsonOf(t, h)} {
		if strings.Contains(got, "pbkdf2") || strings.Contains(got, salt) {
			t.Errorf("a hash read shows itself: %s", got)
		}
	}
	check(h, "wrong", false)
	if read() != imported {
		t.Error("a failed check upgraded the hash")
	}
	check(h, secret, true)
	upgraded := read()
	if upgraded == imported {
		t.Error("an old hash was not upgraded at its first success")
	}
	check(upgraded, secret, true)

	// Changed between the read and the check: the check is of the hash
	// read, and the new password stays.
	set(imported)
	h = read()
	changed := "battery staple"
	if err := s.SetPassword(ctx, pk, &changed); err != nil {
		t.Fatal(err)
	}
	now := read()
	check(h, secret, true)
	if read() != now {
		t.Error("an upgrade replaced a password changed since its hash was read")
	}

	set(store.PasswordHash{})
	if h := read(); h.Usable() || h != (store.PasswordHash{}) {
		t.Error("the unusable password reads as a usable hash")
	}
	check(read(), secret, false)

	err = s.View(ctx, func(tx *store.Tx) error { _, err := tx.PasswordHash(pk + 100); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown user's hash: %v", err)
	}
}
