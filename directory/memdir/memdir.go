// Package memdir is an in-memory [directory.Directory]: users, groups and
// password hashes in maps under a mutex. It is meant for tests (of
// flows, of policies, of a host's code) and for examples; it keeps
// nothing across restarts.
//
// It follows the contract of [directory.Directory] and passes the
// conformance suite of package directorytest. Its own choices:
//
//   - FindUser compares case-insensitively with [strings.EqualFold]
//     (Unicode simple folding, where authentik's iexact uses
//     PostgreSQL's UPPER()); FieldUPN reads attributes["upn"] when it
//     is a string, and matches nothing otherwise.
//   - Times come from [Options.Now], in DRF's format
//     ([validate.FormatDateTime]).
//   - Passwords are hashed with [Options.Policy]; CheckPassword
//     replaces a hash that is not current under it after a successful
//     check, without moving PasswordChangeDate.
//   - Groups are added with [Dir.AddGroup]; the seam has no way to
//     create one. Dir does not keep [directory.Group.Users]: membership
//     is [directory.User.Groups], where a write keeps each group once
//     and a nil Groups or Attributes is stored empty.
//   - Every method first returns the context's error if it is done.
//   - Lookups by uuid and identifier scan every user: fine for tests,
//     not for large directories.
//
// Values returned share nothing with the stored ones.
package memdir

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/internal/jsonvalue"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Options configure a [Dir].
type Options struct {
	// Policy hashes new passwords, and decides which stored hashes are
	// current. The zero Policy is Django's (870,000 PBKDF2 iterations);
	// tests usually want a few iterations.
	Policy password.Policy
	// Now is the clock of DateJoined and PasswordChangeDate; nil means
	// time.Now.
	Now func() time.Time
}

// Dir is an in-memory directory. Its zero value is not usable: make one
// with [New]. It is safe for concurrent use.
type Dir struct {
	policy password.Policy
	now    func() time.Time

	mu     sync.RWMutex
	lastPK int64
	users  map[int64]directory.User
	hashes map[int64]string
	groups map[uuid.UUID]directory.Group

	devices    map[deviceKey]directory.Device
	lastDevice map[directory.DeviceClass]int64
}

var _ directory.Directory = (*Dir)(nil)

// String says how many users and groups d holds, and nothing of them:
// without it fmt would print d's maps, password hashes included.
func (d *Dir) String() string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return fmt.Sprintf("memdir.Dir(%d users, %d groups)", len(d.users), len(d.groups))
}

// GoString is String, for %#v.
func (d *Dir) GoString() string { return d.String() }

// New returns an empty directory. The error wraps password.ErrPolicy
// when o.Policy cannot hash.
func New(o Options) (*Dir, error) {
	if err := o.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("memdir: %w", err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Dir{
		policy: o.Policy,
		now:    o.Now,
		users:  map[int64]directory.User{},
		hashes: map[int64]string{},
		groups: map[uuid.UUID]directory.Group{},

		devices:    map[deviceKey]directory.Device{},
		lastDevice: map[directory.DeviceClass]int64{},
	}, nil
}

// AddGroup stores g as a new group and returns it. A nil g.PK is given a
// random uuid; g.Parent, when set, must name a stored group
// (directory.ErrNotFound), and the group its own parent is refused with
// directory.MsgParentSelf. The name must be valid and unique among
// groups, with authentik's messages in a *validate.Error. g.Users is not
// kept (membership is User.Groups); g.Attributes is copied.
func (d *Dir) AddGroup(g directory.Group) (directory.Group, error) {
	if g.PK == uuid.Nil {
		g.PK = uuid.New()
	}
	if err := g.Validate(); err != nil {
		return directory.Group{}, fmt.Errorf("memdir: add group: %w", asValidate(err))
	}
	g = cloneGroup(g)
	g.Users = []int64{}
	if g.Attributes == nil {
		g.Attributes = map[string]any{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.groups[g.PK]; ok {
		return directory.Group{}, fmt.Errorf("memdir: add group: %w", validate.FieldError("pk", directory.MsgUnique))
	}
	for _, o := range d.groups {
		if o.Name == g.Name {
			return directory.Group{}, fmt.Errorf("memdir: add group: %w", validate.FieldError("name", directory.MsgUnique))
		}
	}
	if g.Parent != nil {
		if *g.Parent == g.PK {
			return directory.Group{}, fmt.Errorf("memdir: add group: %w", validate.FieldError("parent", directory.MsgParentSelf))
		}
		if _, ok := d.groups[*g.Parent]; !ok {
			return directory.Group{}, fmt.Errorf("memdir: add group: parent %s: %w", *g.Parent, directory.ErrNotFound)
		}
	}
	d.groups[g.PK] = g
	return cloneGroup(g), nil
}

// Group returns the group pk.
func (d *Dir) Group(ctx context.Context, pk uuid.UUID) (directory.Group, error) {
	if err := ctx.Err(); err != nil {
		return directory.Group{}, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	g, ok := d.groups[pk]
	if !ok {
		return directory.Group{}, fmt.Errorf("memdir: group %s: %w", pk, directory.ErrNotFound)
	}
	return cloneGroup(g), nil
}

// User returns the user pk.
func (d *Dir) User(ctx context.Context, pk int64) (directory.User, error) {
	if err := ctx.Err(); err != nil {
		return directory.User{}, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	u, ok := d.users[pk]
	if !ok {
		return directory.User{}, fmt.Errorf("memdir: user %d: %w", pk, directory.ErrNotFound)
	}
	return cloneUser(u), nil
}

// UserByUUID returns the user whose UUID is id.
func (d *Dir) UserByUUID(ctx context.Context, id uuid.UUID) (directory.User, error) {
	if err := ctx.Err(); err != nil {
		return directory.User{}, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, u := range d.users {
		if u.UUID == id {
			return cloneUser(u), nil
		}
	}
	return directory.User{}, fmt.Errorf("memdir: user %s: %w", id, directory.ErrNotFound)
}

// FindUser returns the user with the lowest pk among those whose value of
// one of q.Fields equals q.Identifier (see the package documentation).
// The error does not repeat the identifier.
func (d *Dir) FindUser(ctx context.Context, q directory.Find) (directory.User, error) {
	if err := ctx.Err(); err != nil {
		return directory.User{}, err
	}
	if q.Identifier == "" {
		return directory.User{}, fmt.Errorf("memdir: find user: empty identifier: %w", directory.ErrNotFound)
	}
	eq := strings.EqualFold
	if q.CaseSensitive {
		eq = func(a, b string) bool { return a == b }
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	var best *directory.User
	for pk, u := range d.users {
		if best != nil && best.PK < pk {
			continue
		}
		for _, f := range q.Fields {
			v, ok := fieldValue(u, f)
			if ok && eq(v, q.Identifier) {
				best = &u
				break
			}
		}
	}
	if best == nil {
		return directory.User{}, fmt.Errorf("memdir: find user: %w", directory.ErrNotFound)
	}
	return cloneUser(*best), nil
}

// fieldValue is u's value of f, and whether it has one.
func fieldValue(u directory.User, f directory.Field) (string, bool) {
	switch f {
	case directory.FieldUsername:
		return u.Username, true
	case directory.FieldEmail:
		return u.Email, u.Email != ""
	case directory.FieldUPN:
		s, ok := u.Attributes["upn"].(string)
		return s, ok
	}
	return "", false
}

// CreateUser stores u as a new user (see directory.Directory). Its
// password is unusable until SetPassword.
func (d *Dir) CreateUser(ctx context.Context, u directory.User) (directory.User, error) {
	if err := ctx.Err(); err != nil {
		return directory.User{}, err
	}
	if err := u.Validate(); err != nil {
		return directory.User{}, fmt.Errorf("memdir: create user: %w", asValidate(err))
	}
	u = normalize(cloneUser(u))
	unusable := password.Unusable()
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.checkLocked(u, 0); err != nil {
		return directory.User{}, fmt.Errorf("memdir: create user: %w", err)
	}
	d.lastPK++
	u.PK = d.lastPK
	u.UUID = d.newUUIDLocked()
	now := validate.FormatDateTime(d.now())
	u.DateJoined, u.PasswordChangeDate = now, now
	d.users[u.PK] = u
	d.hashes[u.PK] = unusable
	return cloneUser(u), nil
}

// UpdateUser replaces the stored user u.PK with u, but for PK, UUID,
// DateJoined and PasswordChangeDate.
func (d *Dir) UpdateUser(ctx context.Context, u directory.User) (directory.User, error) {
	if err := ctx.Err(); err != nil {
		return directory.User{}, err
	}
	if err := u.Validate(); err != nil {
		return directory.User{}, fmt.Errorf("memdir: update user %d: %w", u.PK, asValidate(err))
	}
	u = normalize(cloneUser(u))
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, ok := d.users[u.PK]
	if !ok {
		return directory.User{}, fmt.Errorf("memdir: update user %d: %w", u.PK, directory.ErrNotFound)
	}
	if err := d.checkLocked(u, u.PK); err != nil {
		return directory.User{}, fmt.Errorf("memdir: update user %d: %w", u.PK, err)
	}
	u.UUID, u.DateJoined, u.PasswordChangeDate = cur.UUID, cur.DateJoined, cur.PasswordChangeDate
	d.users[u.PK] = u
	return cloneUser(u), nil
}

// checkLocked checks what needs other objects: the username is free
// (but for user self) and every group exists.
func (d *Dir) checkLocked(u directory.User, self int64) error {
	for pk, o := range d.users {
		if pk != self && o.Username == u.Username {
			return fmt.Errorf("%w: %w", directory.ErrUsernameTaken, validate.FieldError("username", directory.MsgUnique))
		}
	}
	for _, g := range u.Groups {
		if _, ok := d.groups[g]; !ok {
			return fmt.Errorf("group %s: %w", g, directory.ErrNotFound)
		}
	}
	return nil
}

// newUUIDLocked returns a random uuid no user has.
func (d *Dir) newUUIDLocked() uuid.UUID {
	for {
		id := uuid.New()
		taken := false
		for _, u := range d.users {
			taken = taken || u.UUID == id
		}
		if !taken {
			return id
		}
	}
}

// DeleteUser deletes the user pk and its password.
func (d *Dir) DeleteUser(ctx context.Context, pk int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.users[pk]; !ok {
		return fmt.Errorf("memdir: delete user %d: %w", pk, directory.ErrNotFound)
	}
	delete(d.users, pk)
	delete(d.hashes, pk)
	d.deleteDevicesLocked(pk)
	return nil
}

// SetPassword hashes raw with the directory's policy (a nil raw makes the
// password unusable), stores it, and moves PasswordChangeDate to now.
func (d *Dir) SetPassword(ctx context.Context, pk int64, raw *string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stored := password.Unusable()
	if raw != nil {
		h, err := d.policy.Hash(*raw)
		if err != nil {
			return fmt.Errorf("memdir: set password of user %d: %w", pk, err)
		}
		stored = h
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[pk]
	if !ok {
		return fmt.Errorf("memdir: set password of user %d: %w", pk, directory.ErrNotFound)
	}
	u.PasswordChangeDate = validate.FormatDateTime(d.now())
	d.users[pk] = u
	d.hashes[pk] = stored
	return nil
}

var _ directory.PasswordState = (*Dir)(nil)

var _ directory.LoginRecorder = (*Dir)(nil)

// RecordLogins sets the LastLogin of each user of logins
// (directory.LoginRecorder); unknown users are skipped.
func (d *Dir) RecordLogins(ctx context.Context, logins map[int64]time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for pk, at := range logins {
		if u, ok := d.users[pk]; ok {
			last := validate.FormatDateTime(at)
			u.LastLogin = &last
			d.users[pk] = u
		}
	}
	return nil
}

// HasUsablePassword reports whether the user pk has a usable password
// (directory.PasswordState): false for a new user's or one set with
// SetPassword(nil). An unknown user is directory.ErrNotFound.
func (d *Dir) HasUsablePassword(ctx context.Context, pk int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	d.mu.RLock()
	stored, ok := d.hashes[pk]
	d.mu.RUnlock()
	if !ok {
		return false, fmt.Errorf("memdir: password state of user %d: %w", pk, directory.ErrNotFound)
	}
	return stored != "" && password.IsUsable(stored), nil
}

// CheckPassword reports whether raw is the password of the user pk, and
// replaces a stored hash that is not current under the policy after a
// successful check (PasswordChangeDate stays). An unknown user is
// directory.ErrNotFound, returned without hashing.
func (d *Dir) CheckPassword(ctx context.Context, pk int64, raw string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	d.mu.RLock()
	stored, ok := d.hashes[pk]
	d.mu.RUnlock()
	if !ok {
		return false, fmt.Errorf("memdir: check password of user %d: %w", pk, directory.ErrNotFound)
	}
	match, rehash, err := d.policy.Check(raw, stored)
	if err != nil {
		return false, fmt.Errorf("memdir: check password of user %d: %w", pk, err)
	}
	if rehash != "" {
		d.mu.Lock()
		// Only if nothing changed the hash meanwhile: a SetPassword
		// between the check and here wins.
		if cur, ok := d.hashes[pk]; ok && cur == stored {
			d.hashes[pk] = rehash
		}
		d.mu.Unlock()
	}
	return match, nil
}

// asValidate converts a Validate error to a *validate.Error.
func asValidate(err error) error {
	if ve, ok := validate.From(err); ok {
		return ve
	}
	return err
}

// normalize gives u an empty (not nil) Groups and Attributes, and keeps
// each group once.
func normalize(u directory.User) directory.User {
	seen := make(map[uuid.UUID]bool, len(u.Groups))
	groups := make([]uuid.UUID, 0, len(u.Groups))
	for _, g := range u.Groups {
		if !seen[g] {
			seen[g] = true
			groups = append(groups, g)
		}
	}
	u.Groups = groups
	if u.Attributes == nil {
		u.Attributes = map[string]any{}
	}
	return u
}

func cloneUser(u directory.User) directory.User {
	if u.Groups != nil {
		u.Groups = append([]uuid.UUID{}, u.Groups...)
	}
	if u.LastLogin != nil {
		s := *u.LastLogin
		u.LastLogin = &s
	}
	u.Attributes = jsonvalue.CloneMap(u.Attributes)
	return u
}

func cloneGroup(g directory.Group) directory.Group {
	if g.Parent != nil {
		p := *g.Parent
		g.Parent = &p
	}
	if g.Users != nil {
		g.Users = append([]int64{}, g.Users...)
	}
	g.Attributes = jsonvalue.CloneMap(g.Attributes)
	return g
}
