package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Directory is the store's users and groups as a directory.Directory: the
// built-in directory of flows, which the conformance suite
// (directory/directorytest) checks like a host's. Each method is one
// transaction; a password is hashed and checked outside any (see
// Store.SetPassword, Store.CheckPassword).
//
// Its errors wrap the directory's sentinels and the store's: an unknown
// user is directory.ErrNotFound and ErrNotFound; a taken username is
// directory.ErrUsernameTaken and a *validate.Error with DRF's message; an
// unknown group of a write is directory.ErrNotFound and a *validate.Error
// on groups.
type Directory struct{ s *Store }

// Directory returns the store's directory.
func (s *Store) Directory() Directory { return Directory{s} }

var _ directory.Directory = Directory{}

// dirErr adds the directory's sentinels to a store error: ErrNotFound
// becomes directory.ErrNotFound too, and a write refused for a taken
// username or an unknown group says so.
func dirErr(err error) error {
	if err == nil || errors.Is(err, directory.ErrNotFound) {
		return err
	}
	if errors.Is(err, ErrNotFound) {
		return errors.Join(directory.ErrNotFound, err)
	}
	var ve *validate.Error
	if errors.As(err, &ve) {
		switch {
		case ve.Has("username") && errors.Is(err, ErrConflict):
			return errors.Join(directory.ErrUsernameTaken, err)
		case ve.Has("groups"):
			for _, m := range ve.Fields["groups"] {
				if strings.HasSuffix(m, `" - object does not exist.`) {
					return errors.Join(directory.ErrNotFound, err)
				}
			}
		}
	}
	return err
}

// userKey is the key of the user numbered pk.
func userKey(pk int64) Key { return By("pk", strconv.FormatInt(pk, 10)) }

// read runs fn on the transaction-bound directory of a new read
// transaction.
func (d Directory) read(ctx context.Context, fn func(TxDirectory) error) error {
	return dirErr(d.s.View(ctx, func(tx *Tx) error { return fn(TxDirectory{tx}) }))
}

// User returns the user numbered pk.
func (d Directory) User(ctx context.Context, pk int64) (u directory.User, err error) {
	err = d.read(ctx, func(t TxDirectory) error { u, err = t.User(ctx, pk); return err })
	return u, err
}

// UserByUUID returns the user whose uuid is id.
func (d Directory) UserByUUID(ctx context.Context, id uuid.UUID) (u directory.User, err error) {
	err = d.read(ctx, func(t TxDirectory) error { u, err = t.UserByUUID(ctx, id); return err })
	return u, err
}

// FindUser returns the user with the lowest pk that q finds (see
// Tx.FindUser).
func (d Directory) FindUser(ctx context.Context, q directory.Find) (u directory.User, err error) {
	err = d.read(ctx, func(t TxDirectory) error { u, err = t.FindUser(ctx, q); return err })
	return u, err
}

// CreateUser creates u, validated as a create body is.
func (d Directory) CreateUser(ctx context.Context, u directory.User) (out directory.User, err error) {
	err = d.s.Update(ctx, func(tx *Tx) error {
		out, err = Users.Create(tx, u, nil)
		return err
	})
	return out, dirErr(err)
}

// UpdateUser replaces the stored user u.PK with u, validated as a
// replace body is.
func (d Directory) UpdateUser(ctx context.Context, u directory.User) (out directory.User, err error) {
	_, body, err := userCodec.body(u)
	if err != nil {
		return out, fmt.Errorf("store: user %d: %w", u.PK, err)
	}
	err = d.s.Update(ctx, func(tx *Tx) error {
		out, err = Users.Replace(tx, userKey(u.PK), body, nil)
		return err
	})
	return out, dirErr(err)
}

// DeleteUser deletes the user numbered pk, with what deleting it
// cascades to (its password, policy bindings to it, invitations it
// created).
func (d Directory) DeleteUser(ctx context.Context, pk int64) error {
	return dirErr(d.s.Update(ctx, func(tx *Tx) error { return Users.Delete(tx, userKey(pk), nil) }))
}

// SetPassword sets the password of the user numbered pk (Store.SetPassword).
func (d Directory) SetPassword(ctx context.Context, pk int64, raw *string) error {
	return dirErr(d.s.SetPassword(ctx, pk, raw))
}

// CheckPassword checks the password of the user numbered pk
// (Store.CheckPassword).
func (d Directory) CheckPassword(ctx context.Context, pk int64, raw string) (bool, error) {
	ok, err := d.s.CheckPassword(ctx, pk, raw)
	return ok, dirErr(err)
}

// Group returns the group whose pk is pk.
func (d Directory) Group(ctx context.Context, pk uuid.UUID) (g directory.Group, err error) {
	err = d.read(ctx, func(t TxDirectory) error { g, err = t.Group(ctx, pk); return err })
	return g, err
}

var (
	_ directory.PasswordState = Directory{}
	_ directory.LoginRecorder = Directory{}
)

// RecordLogins sets the last_login of each user of logins
// (directory.LoginRecorder): a patch of that field alone for each, in one
// transaction; users no longer stored are skipped.
func (d Directory) RecordLogins(ctx context.Context, logins map[int64]time.Time) error {
	err := d.s.Update(ctx, func(tx *Tx) error {
		for pk, at := range logins {
			body, err := json.Marshal(map[string]string{"last_login": validate.FormatDateTime(at)})
			if err != nil {
				return err
			}
			if _, err := Users.Patch(tx, userKey(pk), body, nil); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return nil
	})
	return dirErr(err)
}

// HasUsablePassword reports whether the user numbered pk has a usable
// password (Tx.HasUsablePassword), for directory.PasswordState.
func (d Directory) HasUsablePassword(ctx context.Context, pk int64) (ok bool, err error) {
	err = d.read(ctx, func(t TxDirectory) error { ok, err = t.HasUsablePassword(ctx, pk); return err })
	return ok, err
}

// TxDirectory is the store's users and groups as read in one
// transaction: a read-only directory.Directory (writes are
// directory.ErrReadOnly) for code that already holds a transaction, such
// as the planner and the evaluators it calls. Opening another transaction
// from inside one can deadlock (a writer waiting between the two), so
// such code reads through this rather than through Directory. A
// TxDirectory is valid only while its transaction is open.
type TxDirectory struct{ tx *Tx }

// Directory returns the transaction's read-only directory.
func (tx *Tx) Directory() TxDirectory { return TxDirectory{tx} }

var (
	_ directory.Directory     = TxDirectory{}
	_ directory.PasswordState = TxDirectory{}
)

// errTxReadOnly is what a TxDirectory's writes return.
var errTxReadOnly = fmt.Errorf("store: a transaction's directory: %w", directory.ErrReadOnly)

// User returns the user numbered pk.
func (t TxDirectory) User(_ context.Context, pk int64) (directory.User, error) {
	u, err := Users.Get(t.tx, userKey(pk))
	return u, dirErr(err)
}

// UserByUUID returns the user whose uuid is id.
func (t TxDirectory) UserByUUID(_ context.Context, id uuid.UUID) (directory.User, error) {
	u, err := t.tx.UserByUUID(id)
	return u, dirErr(err)
}

// FindUser returns the user with the lowest pk that q finds.
func (t TxDirectory) FindUser(_ context.Context, q directory.Find) (directory.User, error) {
	u, err := t.tx.FindUser(q)
	return u, dirErr(err)
}

// Group returns the group whose pk is pk.
func (t TxDirectory) Group(_ context.Context, pk uuid.UUID) (directory.Group, error) {
	g, err := Groups.Get(t.tx, PK(pk))
	return g, dirErr(err)
}

// HasUsablePassword reports whether the user numbered pk has a usable
// password.
func (t TxDirectory) HasUsablePassword(_ context.Context, pk int64) (bool, error) {
	ok, err := t.tx.HasUsablePassword(pk)
	return ok, dirErr(err)
}

// CheckPassword checks the password of the user numbered pk in the
// transaction, with the store's policy; it never upgrades the hash (a
// read transaction cannot write it). A check costs one hash, which the
// transaction waits for: Store.CheckPassword checks outside any.
func (t TxDirectory) CheckPassword(_ context.Context, pk int64, raw string) (bool, error) {
	stored, err := t.tx.storedHash(pk)
	if err != nil {
		return false, dirErr(err)
	}
	ok, _, err := t.tx.s.passwords.Check(raw, stored)
	if err != nil && !errors.Is(err, password.ErrUnsupported) && !errors.Is(err, password.ErrMalformed) && !errors.Is(err, password.ErrLimit) {
		return false, fmt.Errorf("store: checking the password of user %d: %w", pk, err)
	}
	return ok, nil
}

// CreateUser is directory.ErrReadOnly.
func (TxDirectory) CreateUser(context.Context, directory.User) (directory.User, error) {
	return directory.User{}, errTxReadOnly
}

// UpdateUser is directory.ErrReadOnly.
func (TxDirectory) UpdateUser(context.Context, directory.User) (directory.User, error) {
	return directory.User{}, errTxReadOnly
}

// DeleteUser is directory.ErrReadOnly.
func (TxDirectory) DeleteUser(context.Context, int64) error { return errTxReadOnly }

// SetPassword is directory.ErrReadOnly.
func (TxDirectory) SetPassword(context.Context, int64, *string) error { return errTxReadOnly }
