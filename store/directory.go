package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/authflow/authflow/directory"
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

// User returns the user numbered pk.
func (d Directory) User(ctx context.Context, pk int64) (u directory.User, err error) {
	err = d.s.View(ctx, func(tx *Tx) error {
		u, err = Users.Get(tx, userKey(pk))
		return err
	})
	return u, dirErr(err)
}

// UserByUUID returns the user whose uuid is id.
func (d Directory) UserByUUID(ctx context.Context, id uuid.UUID) (u directory.User, err error) {
	err = d.s.View(ctx, func(tx *Tx) error {
		u, err = tx.UserByUUID(id)
		return err
	})
	return u, dirErr(err)
}

// FindUser returns the user with the lowest pk that q finds (see
// Tx.FindUser).
func (d Directory) FindUser(ctx context.Context, q directory.Find) (u directory.User, err error) {
	err = d.s.View(ctx, func(tx *Tx) error {
		u, err = tx.FindUser(q)
		return err
	})
	return u, dirErr(err)
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
	err = d.s.View(ctx, func(tx *Tx) error {
		g, err = Groups.Get(tx, PK(pk))
		return err
	})
	return g, dirErr(err)
}

var _ directory.PasswordState = Directory{}

// HasUsablePassword reports whether the user numbered pk has a usable
// password (Tx.HasUsablePassword), for directory.PasswordState.
func (d Directory) HasUsablePassword(ctx context.Context, pk int64) (ok bool, err error) {
	err = d.s.View(ctx, func(tx *Tx) error {
		ok, err = tx.HasUsablePassword(pk)
		return err
	})
	return ok, dirErr(err)
}
