package plan

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Errors of a request's user.
var (
	// ErrUnknownUser: the request names a user by a pk the directory
	// does not hold.
	ErrUnknownUser = errors.New("plan: the directory holds no user with this pk")
	// ErrUserFacts: a request without a user pk gives groups,
	// is_superuser, attributes or password_change_date. They are read
	// from the directory, for a user named by pk; there is nobody to read
	// them from.
	ErrUserFacts = errors.New("plan: groups, is_superuser, attributes and password_change_date are read from the directory: name the user by pk")
)

// MsgAnonymousGroups is the message of a group binding evaluated for a
// user without a pk: authentik calls all_groups() on Django's
// AnonymousUser, which has none, and the policy process answers false
// with the error's text (negate and failure_result do not apply).
const MsgAnonymousGroups = "'AnonymousUser' object has no attribute 'all_groups'"

// checkUser refuses facts given for a user without a pk (ErrUserFacts).
func checkUser(u User) error {
	if u.PK == 0 && (u.Superuser || len(u.Groups) > 0 || len(u.Attributes) > 0 || u.PasswordChangeDate != nil) {
		return ErrUserFacts
	}
	return nil
}

// resolveUser is the user the plan is for: without a pk, the user as
// given (anonymous unless authenticated, with no groups); with one, the
// directory's user, its facts read from opts.Directory or, by default,
// from the store in tx, whatever the request said about them. room, when
// not nil, holds the password change date read from the store (the
// caller's engine has room for it).
func resolveUser(ctx context.Context, tx *store.Tx, in User, opts Options, rd *reads, room *time.Time) (User, error) {
	if err := checkUser(in); err != nil {
		return User{}, err
	}
	if in.PK == 0 {
		return User{Authenticated: in.Authenticated}, nil
	}
	var (
		u       directory.User
		facts   directory.Facts
		changed *time.Time
		err     error
	)
	if opts.Directory != nil {
		u, facts, err = hostFacts(ctx, opts.Directory, in.PK)
		changed = passwordChanged(u)
		// The host's user may share its attributes; the store's path
		// returns a copy of its own.
		u.Attributes = maps.Clone(u.Attributes)
		// The plan depends on what the host's directory holds, which the
		// cache cannot watch: it keeps the plan DirectoryMaxAge at most.
		if opts.DirectoryMaxAge > 0 {
			rd.hold(now(opts).Add(opts.DirectoryMaxAge))
		} else {
			rd.hold(time.Time{})
		}
	} else {
		u, facts, changed, err = opts.Decoded.storeFacts(tx, in.PK, rd, room)
	}
	if err != nil {
		return User{}, err
	}
	return User{
		PK: u.PK, Authenticated: in.Authenticated, Superuser: facts.Superuser, Groups: facts.Groups,
		Attributes: u.Attributes, GroupAttributes: facts.Attributes, PasswordChangeDate: changed,
	}, nil
}

// passwordChanged is u's password change date, nil when it has none (or
// none that parses).
func passwordChanged(u directory.User) *time.Time {
	if t, ok := validate.ParseDateTime(u.PasswordChangeDate); ok {
		return &t
	}
	return nil
}

func now(opts Options) time.Time {
	if opts.Now != nil {
		return opts.Now()
	}
	return time.Now()
}

// hostFacts reads the user numbered pk and its facts from d.
func hostFacts(ctx context.Context, d directory.Directory, pk int64) (directory.User, directory.Facts, error) {
	u, err := d.User(ctx, pk)
	if errors.Is(err, directory.ErrNotFound) {
		return u, directory.Facts{}, fmt.Errorf("%w: %d", ErrUnknownUser, pk)
	}
	if err != nil {
		return u, directory.Facts{}, fmt.Errorf("plan: user %d: %w", pk, err)
	}
	facts, err := directory.FactsOf(ctx, d, u)
	if err != nil {
		return u, directory.Facts{}, fmt.Errorf("plan: %w", err)
	}
	return u, facts, nil
}

// storeFacts reads the user numbered pk and its facts (as
// directory.FactsOf computes them) from the store's users and groups in
// tx, adding the user's record and every group it reads to rd: a change
// to any of them drops a cached plan.
func storeFacts(tx *store.Tx, pk int64, rd *reads) (directory.User, directory.Facts, error) {
	key := store.By("pk", strconv.FormatInt(pk, 10))
	u, err := store.Users.Get(tx, key)
	if errors.Is(err, store.ErrNotFound) {
		return u, directory.Facts{}, fmt.Errorf("%w: %d", ErrUnknownUser, pk)
	}
	if err != nil {
		return u, directory.Facts{}, err
	}
	id, err := tx.Lookup(store.ModelUser, key)
	if err != nil {
		return u, directory.Facts{}, err
	}
	rd.add(id)
	f, err := directory.FactsFrom(u, func(pk uuid.UUID) (directory.Group, error) {
		rd.add(pk)
		g, err := store.Groups.Get(tx, store.PK(pk))
		if errors.Is(err, store.ErrNotFound) {
			// A group a user names is there unless the store is
			// damaged; a missing one is left out, as FactsOf does.
			err = errors.Join(directory.ErrNotFound, err)
		}
		return g, err
	})
	if err != nil {
		return u, directory.Facts{}, fmt.Errorf("plan: %w", err)
	}
	return u, f, nil
}
