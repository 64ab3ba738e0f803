package directory

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// Errors a Directory returns. Implementations wrap them with context;
// compare with errors.Is.
var (
	// ErrNotFound means no user (or group) matches: a pk, a uuid or an
	// identifier that names nobody.
	ErrNotFound = errors.New("directory: not found")
	// ErrUsernameTaken means a create or update would give a second user
	// an existing username (compared exactly).
	ErrUsernameTaken = errors.New("directory: username taken")
	// ErrReadOnly means the directory does not write (a host's read-only
	// users table): a create, update, delete or password change.
	ErrReadOnly = errors.New("directory: read-only")
)

// Field names a user field that FindUser compares with an identifier, as
// authentik's identification stage names them.
type Field string

// The identifier fields of authentik's identification stage
// (user_fields): the username, the email address, and the "upn" key of
// the user's attributes.
const (
	FieldUsername Field = "username"
	FieldEmail    Field = "email"
	FieldUPN      Field = "upn"
)

// Find says which user FindUser looks for: one whose value of any of
// Fields equals Identifier. Values compare case-insensitively unless
// CaseSensitive is set; which letters a directory takes for one another
// beyond ASCII is its own (the store's compares their upper case, as
// authentik's iexact on PostgreSQL does, so the Kelvin sign is not "k";
// memdir uses Unicode simple folding, where it is). Inactive users are
// found too: the caller decides what an inactive user may do.
type Find struct {
	Identifier    string
	Fields        []Field
	CaseSensitive bool
}

// Directory is what flows need from a user directory: the built-in one
// is the store's users and groups (store.Directory); a host that keeps
// its own users implements it over its own tables and runs the
// conformance suite (package directorytest) on it.
//
// # Contract
//
// Users are keyed by an integer pk (>= 1) that the directory assigns
// and never reuses, and carry a uuid that it assigns too. Groups are
// keyed by uuid and form the hierarchy of [Group.Parent]; membership is
// [User.Groups], the user's direct groups.
//
// Every method is safe for concurrent use. A method that fails writes
// nothing. A Directory never returns a password or a password hash,
// and never puts one in an error; nor does FindUser's error repeat the
// identifier (a user may type a password there). A value a method
// returns shares no map or slice with the directory's own, nor does the
// directory keep those of a value it is given: a caller may change
// either.
//
//   - User and UserByUUID return one user, or an error wrapping
//     ErrNotFound.
//   - FindUser returns the user with the lowest pk among those whose
//     value of some field of q.Fields equals q.Identifier (see Find);
//     ErrNotFound when there is none, when q.Identifier is empty, or
//     when q.Fields is. FieldUPN matches only a string "upn" attribute.
//   - CreateUser stores u as a new user: it assigns PK, UUID,
//     DateJoined and PasswordChangeDate (the values u has for them are
//     ignored) and returns the stored user. Its password is unusable
//     until SetPassword. The username must be free (ErrUsernameTaken);
//     invalid fields are a *validate.Error with authentik's messages;
//     a group of u.Groups that does not exist is ErrNotFound.
//   - UpdateUser replaces the stored user u.PK with u, every field but
//     PK, UUID, DateJoined and PasswordChangeDate, with CreateUser's
//     rules, and returns the stored user.
//   - DeleteUser deletes a user, and everything that is the user's
//     (the directory's own records and, in the built-in directory, in
//     the same transaction, the policy bindings that bind the user and
//     the invitations the user created).
//   - SetPassword sets the user's password from raw and moves
//     PasswordChangeDate to now; a nil raw makes the password unusable
//     (nothing verifies against it) and moves the date too, as
//     authentik's set_password(None) does. (Django's
//     set_unusable_password, which keeps the date, has no method here.)
//     The hash is the directory's.
//   - CheckPassword reports whether raw is the user's password. An
//     unusable or absent password is false, not an error. On success
//     the directory may upgrade a stored hash to its current policy
//     without moving PasswordChangeDate. An unknown user is ErrNotFound
//     (the caller equalises timing, as password.Policy.Check does).
//   - Group returns one group, or an error wrapping ErrNotFound.
//
// A directory that cannot write returns ErrReadOnly from CreateUser,
// UpdateUser, DeleteUser and SetPassword.
type Directory interface {
	User(ctx context.Context, pk int64) (User, error)
	UserByUUID(ctx context.Context, id uuid.UUID) (User, error)
	FindUser(ctx context.Context, q Find) (User, error)
	CreateUser(ctx context.Context, u User) (User, error)
	UpdateUser(ctx context.Context, u User) (User, error)
	DeleteUser(ctx context.Context, pk int64) error
	SetPassword(ctx context.Context, pk int64, raw *string) error
	CheckPassword(ctx context.Context, pk int64, raw string) (bool, error)
	Group(ctx context.Context, pk uuid.UUID) (Group, error)
}

// PasswordState is an optional capability of a Directory: a directory
// that can tell whether a user has a usable password implements it, and
// a caller finds it with a type assertion (d.(directory.PasswordState)).
// Expressions need it for authentik's user.has_usable_password(), which
// the out-of-the-box setup flow uses to run only once; a directory
// without it leaves that method failing with a clear error. The store's
// directory and memdir implement it.
//
// HasUsablePassword is Django's has_usable_password(): whether the
// stored password is one that some raw password could verify against
// (false for an unusable password, set by SetPassword(nil) or a new
// user's, and for none). It reveals nothing else of the password. An
// unknown user is an error wrapping ErrNotFound.
type PasswordState interface {
	HasUsablePassword(ctx context.Context, pk int64) (bool, error)
}

// LoginRecorder is an optional capability of a Directory: a directory
// that keeps users' last login implements it, and the flow executor's
// user_login stage finds it with a type assertion, as authentik's
// user_logged_in signal updates last_login. RecordLogin sets the
// LastLogin of the user numbered pk to at (DRF's form, UTC) and changes
// nothing else; an unknown user is an error wrapping ErrNotFound. The
// store's directory and memdir implement it.
type LoginRecorder interface {
	RecordLogin(ctx context.Context, pk int64, at time.Time) error
}
