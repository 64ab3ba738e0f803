package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/validate"
)

// bucketPasswords holds the users' password hashes, apart from the
// users' records (which never hold one): user record id -> encoded hash.
// A user without an entry has an unusable password.
const bucketPasswords = "passwords"

// keyInstallID is the meta key of the installation's id, from which
// users' uid values are computed (authentik's install id).
var keyInstallID = []byte("install_id")

// PasswordHash is a password hashed for one user: what
// [Store.HashPassword] makes, [Tx.SetPassword] stores and
// [Tx.PasswordHash] reads. It is opaque: its String and its JSON say
// nothing of the hash, so it cannot leak through a log or a response.
// The zero value is the unusable password.
type PasswordHash struct{ encoded string }

// String is "[password hash]" or "[unusable password]", never the hash.
func (h PasswordHash) String() string {
	if !h.Usable() {
		return "[unusable password]"
	}
	return "[password hash]"
}

// GoString is what %#v shows: the String in a Go-like form, never the
// hash (without it, %#v would print the unexported field).
func (h PasswordHash) GoString() string {
	return "store.PasswordHash(" + strconv.Quote(h.String()) + ")"
}

// MarshalJSON renders nothing of the hash: null.
func (PasswordHash) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// Usable reports whether some password verifies against h.
func (h PasswordHash) Usable() bool { return h.encoded != "" && password.IsUsable(h.encoded) }

// HashPassword hashes raw with the store's password policy
// (Options.Passwords): a pbkdf2_sha256 hash of 870,000 iterations by
// default, which takes a good part of a second. It runs outside any
// transaction, so that a write transaction need not wait for it.
func (s *Store) HashPassword(raw string) (PasswordHash, error) {
	h, err := s.passwords.Hash(raw)
	if err != nil {
		return PasswordHash{}, fmt.Errorf("store: hashing a password: %w", err)
	}
	return PasswordHash{h}, nil
}

// ImportPasswordHash takes a hash that another system stored (the
// password column of an authentik database) as it is, so that its users
// keep their passwords: any format package password verifies. It is
// upgraded to the store's policy at its first successful check. An
// unusable hash ("!" and 40 characters, as authentik stores it) is the
// unusable password. A hash in no known format, or asking for more work
// than password's bounds, is an error wrapping password.ErrUnsupported,
// password.ErrMalformed or password.ErrLimit, which does not quote it.
func ImportPasswordHash(encoded string) (PasswordHash, error) {
	if !password.IsUsable(encoded) {
		return PasswordHash{}, nil
	}
	if err := password.Parse(encoded); err != nil {
		return PasswordHash{}, fmt.Errorf("store: importing a password hash: %w", err)
	}
	return PasswordHash{encoded}, nil
}

// SetPassword sets the password of the user numbered pk to h (the
// unusable password for the zero PasswordHash) and moves the user's
// password_change_date to now: a change of password, which the change
// feed shows as a change of the user (without the hash). An unknown user
// is an error wrapping ErrNotFound.
func (tx *Tx) SetPassword(pk int64, h PasswordHash, o *WriteOptions) error {
	if err := tx.canWrite(); err != nil {
		return err
	}
	c := tx.s.schema.users
	id := seqID(c.bucket, pk)
	cur, err := tx.must(c, id)
	if err != nil {
		return fmt.Errorf("store: setting the password of user %d: %w", pk, err)
	}
	if err := tx.precondition(c, cur, o); err != nil {
		return err
	}
	next := cur.(directory.User)
	next.PasswordChangeDate = formatNow(tx.s)
	if err := tx.put(c, cur, next); err != nil {
		return err
	}
	return tx.putHash(id[:], h.encoded)
}

// putHash stores encoded as the hash of the user with record id key, or
// removes the entry for "".
func (tx *Tx) putHash(key []byte, encoded string) error {
	if encoded == "" {
		return tx.kv.Delete(bucketPasswords, key)
	}
	return tx.kv.Put(bucketPasswords, key, []byte(encoded))
}

// HasUsablePassword reports whether some password verifies for the user
// numbered pk (Django's has_usable_password). An unknown user is an
// error wrapping ErrNotFound.
func (tx *Tx) HasUsablePassword(pk int64) (bool, error) {
	h, err := tx.PasswordHash(pk)
	return h.Usable(), err
}

// PasswordHash is the stored password hash of the user numbered pk (the
// zero PasswordHash for none), for Store.CheckPasswordHash to check a
// password against outside the transaction: a caller that reads the user
// in a transaction of its own reads the hash with it. An unknown user is
// an error wrapping ErrNotFound.
func (tx *Tx) PasswordHash(pk int64) (PasswordHash, error) {
	h, err := tx.storedHash(pk)
	return PasswordHash{h}, err
}

// storedHash is the stored hash of the user numbered pk ("" for none).
func (tx *Tx) storedHash(pk int64) (string, error) {
	c := tx.s.schema.users
	id := seqID(c.bucket, pk)
	// The user must be there, its record whole (its envelope checked, a
	// damaged one is ErrCorrupt); the hash is kept apart, so the record
	// is not decoded.
	rec, err := kvGet(tx.kv, c.bucket, id[:])
	if err == nil && rec == nil {
		err = fmt.Errorf("store: %s %s: %w", c.alias, id, ErrNotFound)
	}
	if err == nil {
		_, err = unwrap(c.bucket, id[:], rec)
	}
	if err != nil {
		return "", fmt.Errorf("store: the password of user %d: %w", pk, err)
	}
	raw, err := kvGet(tx.kv, bucketPasswords, id[:])
	return string(raw), err
}

// dropPassword is the users' onRemove: a deleted user's hash goes too.
func (tx *Tx) dropPassword(obj any) error {
	id := seqID(tx.s.schema.users.bucket, obj.(directory.User).PK)
	return tx.kv.Delete(bucketPasswords, id[:])
}

// SetPassword hashes raw (outside any transaction) and sets it as the
// password of the user numbered pk, moving password_change_date; a nil
// raw sets the unusable password. See Tx.SetPassword.
func (s *Store) SetPassword(ctx context.Context, pk int64, raw *string) error {
	var h PasswordHash
	if raw != nil {
		var err error
		if h, err = s.HashPassword(*raw); err != nil {
			return err
		}
	}
	return s.Update(ctx, func(tx *Tx) error { return tx.SetPassword(pk, h, nil) })
}

// CheckPassword reports whether raw is the password of the user numbered
// pk. An unusable password is false, not an error. The check runs
// outside any transaction; when it succeeds against a hash that is not
// current (another algorithm, fewer iterations than the store's policy),
// the hash is replaced by a current one, unless the password changed in
// the meantime, without moving password_change_date: an upgrade is not a
// change. A read-only store (Options.ReadOnly) checks without upgrading.
// An unknown user is an error wrapping ErrNotFound.
func (s *Store) CheckPassword(ctx context.Context, pk int64, raw string) (bool, error) {
	var stored string
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		stored, err = tx.storedHash(pk)
		return err
	})
	if err != nil {
		return false, err
	}
	return s.CheckPasswordHash(ctx, pk, PasswordHash{stored}, raw)
}

// CheckPasswordHash is CheckPassword against h, the hash of the user
// numbered pk as a transaction read it (Tx.PasswordHash), for a caller
// that read it with the user: it reads nothing before the check. As
// CheckPassword, it upgrades a hash that is not current when the check
// succeeds, unless the stored hash is no longer h.
func (s *Store) CheckPasswordHash(ctx context.Context, pk int64, h PasswordHash, raw string) (bool, error) {
	stored := h.encoded
	ok, rehash, err := s.passwords.Check(raw, stored)
	if err != nil && !errors.Is(err, password.ErrUnsupported) && !errors.Is(err, password.ErrMalformed) && !errors.Is(err, password.ErrLimit) {
		return false, fmt.Errorf("store: checking the password of user %d: %w", pk, err)
	}
	if !ok || rehash == "" || s.readOnly {
		return ok, nil // a read-only store leaves the upgrade to a writable one
	}
	id, old := seqID(s.schema.users.bucket, pk), stored // stored stays on the stack
	err = s.Update(ctx, func(tx *Tx) error {
		now, err := kvGet(tx.kv, bucketPasswords, id[:])
		if err != nil || string(now) != old {
			return err // changed since: keep the new password
		}
		return tx.putHash(id[:], rehash)
	})
	if err != nil {
		return true, fmt.Errorf("store: upgrading the password hash of user %d: %w", pk, err)
	}
	return true, nil
}

// initInstallID reads the installation's id, making one in a new or
// older file that has none (a read-only store without one uses "").
func (s *Store) initInstallID(ctx context.Context) error {
	err := s.db.View(ctx, func(tx kv.Tx) error {
		v, err := tx.Get(bucketMeta, keyInstallID)
		s.installID = string(v)
		return err
	})
	if err != nil || s.installID != "" || s.readOnly {
		return err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	id := hex.EncodeToString(b[:])
	return s.db.Update(ctx, func(tx kv.Tx) error {
		v, err := tx.Get(bucketMeta, keyInstallID)
		if err != nil {
			return err
		}
		if v != nil {
			s.installID = string(v) // another process made it first
			return nil
		}
		s.installID = id
		return tx.Put(bucketMeta, keyInstallID, []byte(id))
	})
}

// InstallID is the installation's id: a random value made when the store
// was first opened writable, from which users' uid values are computed
// (see directory.UID). A read-only store of a file that has none says "".
func (s *Store) InstallID() string { return s.installID }

// formatNow is the store's clock's now, as DRF shows a date-time.
func formatNow(s *Store) string { return validate.FormatDateTime(s.now()) }

// checkPasswords reports, for Check, a password hash whose user does not
// exist (without the hash: it names the entry's key).
func (tx *Tx) checkPasswords(report func(error)) error {
	c := tx.s.schema.users
	return kvScan(tx.kv, bucketPasswords, kv.Range{}, func(k, _ []byte) (bool, error) {
		raw, err := kvGet(tx.kv, c.bucket, k)
		if err != nil {
			return false, err
		}
		if raw == nil {
			report(fmt.Errorf("store: check: %s: %w: the hash of key %x belongs to no user", bucketPasswords, ErrCorrupt, k))
		}
		return true, nil
	})
}
