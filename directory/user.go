package directory

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// Model names of the two objects, as blueprints and used_by name them.
const (
	ModelUser  = "authentik_core.user"
	ModelGroup = "authentik_core.group"
)

// Messages of authentik 2025.6's user and group serializers, exact.
const (
	// MsgUnique is Django REST framework's message for a taken username
	// (compared exactly, so "Alice" and "alice" are two users) and for a
	// taken group name (among all groups, whatever their parent). The
	// store checks both and reports this message on the field.
	MsgUnique = "This field must be unique."
	// MsgPathSlashes refuses a path that starts or ends with "/".
	MsgPathSlashes = "No leading or trailing slashes allowed."
	// MsgPathEmptySegment refuses a path with an empty segment ("a//b").
	MsgPathEmptySegment = "No empty segments in user path allowed."
	// MsgTypeFromInternalServiceAccount refuses changing the type of a
	// stored internal service account.
	MsgTypeFromInternalServiceAccount = "Can't change internal service account to other user type."
	// MsgTypeCreateInternalServiceAccount refuses creating an internal
	// service account.
	MsgTypeCreateInternalServiceAccount = "Setting a user to internal service account is not allowed."
	// MsgModifyInternalServiceAccount is the non-field error of any
	// update of a stored internal service account (authentik's message
	// has no final period).
	MsgModifyInternalServiceAccount = "Can't modify internal service account users"
	// MsgParentSelf refuses a group as its own parent.
	MsgParentSelf = "Cannot set group as parent of itself."
)

// MaxUsernameLength and MaxEmailLength bound a username and an email
// address, in characters.
const (
	MaxUsernameLength = 150
	MaxEmailLength    = 254
)

// DefaultPath is the path of a user that is given none.
const DefaultPath = "users"

// UserType is authentik's UserTypeEnum.
type UserType string

// The user types. A user created through the API is [UserTypeInternal]
// unless it says otherwise; authentik's user_write stage creates
// [UserTypeExternal] users by default.
const (
	UserTypeInternal               UserType = "internal"
	UserTypeExternal               UserType = "external"
	UserTypeServiceAccount         UserType = "service_account"
	UserTypeInternalServiceAccount UserType = "internal_service_account"
)

// UserTypes are the user types, in authentik's order.
var UserTypes = []UserType{UserTypeInternal, UserTypeExternal, UserTypeServiceAccount, UserTypeInternalServiceAccount}

// User is a stored user: authentik's User model, without its password
// (see the package documentation). Its JSON form is the one the store
// persists; the API representation, with computed fields, is [UserView].
type User struct {
	// PK is the user's integer id (Django's auto-increment "id"), which
	// the store assigns.
	PK int64 `json:"pk" af:"readonly"`
	// Username is unique, compared exactly (case-sensitively), at most
	// MaxUsernameLength characters, and may hold any characters.
	Username string `json:"username" af:"required"`
	// Name is the display name: required in a create or replace body, but
	// it may be blank.
	Name     string `json:"name" af:"required,blank"`
	IsActive bool   `json:"is_active"`
	// LastLogin is the time of the last login as DRF shows it (UTC, ISO
	// 8601), or nil; a write may set it.
	LastLogin *string `json:"last_login" af:"blank"`
	// DateJoined is the creation time as DRF shows it, set by the store.
	DateJoined string `json:"date_joined" af:"readonly"`
	// Groups are the pks of the groups the user is directly a member of:
	// one many-to-many relation with [Group.Users], seen from the user's
	// side. Deleting a group removes it. A create or replace without
	// groups sets none (see [User.DefaultOnReplace]).
	Groups []uuid.UUID `json:"groups" af:"ref=authentik_core.group,related=users"`
	// Email is not unique and may be blank; otherwise it is an email
	// address of at most MaxEmailLength characters.
	Email string `json:"email" af:"blank"`
	// Attributes is a free-form JSON object.
	Attributes map[string]any `json:"attributes" af:"jsondict"`
	// Path is a folder-like label ("users" by default).
	Path string   `json:"path"`
	Type UserType `json:"type"`
	// UUID is the user's second, random identifier, set by the store and
	// unique.
	UUID uuid.UUID `json:"uuid" af:"readonly"`
	// PasswordChangeDate is when the password was last set (or the user
	// created), as DRF shows it; set by the store.
	PasswordChangeDate string `json:"password_change_date" af:"readonly"`
}

// DefaultUser returns a User with authentik's defaults for every optional
// field and nothing else set.
func DefaultUser() User {
	return User{IsActive: true, Path: DefaultPath, Type: UserTypeInternal, Attributes: map[string]any{}, Groups: []uuid.UUID{}}
}

// String is authentik's str(): the username.
func (u User) String() string { return u.Username }

// UID is authentik's uid of the user: the hex SHA-256 of
// "<pk>-<installID>", where installID identifies the installation.
func (u User) UID(installID string) string { return UID(u.PK, installID) }

// UID is the uid of the user with pk pk in the installation installID.
func UID(pk int64, installID string) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(pk, 10) + "-" + installID))
	return hex.EncodeToString(sum[:])
}

// DefaultOnReplace names the fields whose default ([]) applies on a
// replace (PUT) that omits them, where other omitted fields keep their
// stored values: authentik's serializer gives groups a default, so a PUT
// without groups removes the user from every group. [DecodeUser] already
// applies it; the store reads it to know that membership changes.
func (User) DefaultOnReplace() []string { return []string{"groups"} }

// The field rules, built once.
var (
	usernameRule = validate.MaxLen(MaxUsernameLength)
	emailRule    = validate.All(validate.MaxLen(MaxEmailLength), validate.Email)
	userTypeRule = validate.Choice(UserTypes...)
)

// ruleErr is an error of one of this package's rules, with its code.
func ruleErr(code, msg string) error { return validation.NewError("authflow_directory_"+code, msg) }

// pathRule is authentik's validate_path: the first failure only.
var pathRule validation.Rule = validation.By(func(v any) error {
	p, _ := v.(string)
	if strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return ruleErr("path_slashes", MsgPathSlashes)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" {
			return ruleErr("path_empty_segment", MsgPathEmptySegment)
		}
	}
	return nil
})

// fieldRule runs the rules of the writable field name, if it has any: on
// the fields a write sends, and by Validate on all of them.
func (u User) fieldRule(name string) error {
	switch name {
	case "username":
		return validate.Text(u.Username, validate.NotBlank, usernameRule)
	case "email":
		if u.Email == "" {
			return nil
		}
		return validate.Text(u.Email, emailRule)
	case "path":
		return validate.Text(u.Path, validate.NotBlank, pathRule)
	case "type":
		return validate.Text(u.Type, userTypeRule)
	case "last_login":
		if u.LastLogin == nil {
			return nil
		}
		return validate.Text(*u.LastLogin, validate.DateTime)
	}
	return nil
}

var userRuleFields = []string{"username", "email", "path", "type", "last_login"}

// Validate checks every field rule, with authentik's messages: for a User
// built in Go. A write through [DecodeUser] checks only the fields it
// sends, as authentik does. It returns invopop/validation errors; convert
// them with [validate.From].
func (u User) Validate() error {
	errs := validation.Errors{}
	for _, f := range userRuleFields {
		errs[f] = u.fieldRule(f)
	}
	return errs.Filter()
}

// representation keys that are computed, and so ignored on input.
var userComputed = validate.Keys("is_superuser", "groups_obj", "avatar", "uid")

var userSchema = mustSchema(User{})

func mustSchema(v any) *validate.Schema {
	s, err := validate.SchemaOf(v)
	if err != nil {
		panic(err) // a declaration error in this package, caught by its tests
	}
	return s
}

// DecodeUser applies body to cur as op (see [validate.Apply]) with
// authentik's rules, and returns the result. For [validate.Create], cur
// holds the defaults ([DefaultUser]); otherwise it is the stored user,
// whose type decides the rules on internal service accounts:
//
//   - creating an internal_service_account is refused on "type";
//   - changing a stored internal_service_account's type is refused on
//     "type";
//   - any other update of a stored internal_service_account is the
//     non-field error [MsgModifyInternalServiceAccount], reported only
//     when every field is valid.
//
// Field rules run on the fields the body sends, as in authentik (a path
// that user_write stored unchecked does not fail a later PATCH of the
// name). A create or replace without groups sets none. Duplicate group
// pks are kept once. Read-only and computed keys are ignored; unknown
// keys, "password" included, are errors.
//
// The error is a [*validate.Error] for rejected input, or one wrapping
// [validate.ErrSyntax] for a body that is not JSON. The store adds its
// own checks: the username is unique ([MsgUnique]) and every group
// exists.
func DecodeUser(cur User, body []byte, op validate.Op) (User, error) {
	in, err := validate.Object(body)
	if err != nil {
		return cur, err
	}
	next := cur
	if _, ok := in["groups"]; !ok && op != validate.Patch {
		next.Groups = []uuid.UUID{}
	}
	errs := userSchema.Decode(&next, in, op, userComputed)
	if errs != nil && errs.Err != nil {
		return cur, errs.Err
	}
	if errs == nil {
		errs = &validate.Error{}
	}
	for _, f := range userRuleFields {
		if _, sent := in[f]; sent && !errs.Has(f) {
			addRule(errs, f, next.fieldRule(f))
		}
	}
	if _, sent := in["type"]; sent && !errs.Has("type") {
		switch {
		case op == validate.Create && next.Type == UserTypeInternalServiceAccount:
			errs.Add("type", MsgTypeCreateInternalServiceAccount)
		case op != validate.Create && cur.Type == UserTypeInternalServiceAccount && next.Type != UserTypeInternalServiceAccount:
			errs.Add("type", MsgTypeFromInternalServiceAccount)
		}
	}
	if errs.Empty() && op != validate.Create && cur.Type == UserTypeInternalServiceAccount {
		errs.AddNonField(MsgModifyInternalServiceAccount)
	}
	if next.LastLogin != nil && !errs.Has("last_login") {
		if t, ok := validate.ParseDateTime(*next.LastLogin); ok {
			s := validate.FormatDateTime(t)
			next.LastLogin = &s
		}
	}
	next.Groups = dedupe(next.Groups)
	next.PK, next.UUID, next.DateJoined, next.PasswordChangeDate = cur.PK, cur.UUID, cur.DateJoined, cur.PasswordChangeDate
	if !errs.Empty() {
		return next, errs
	}
	return next, nil
}

// addRule adds the messages of a rule's failure on field to errs.
func addRule(errs *validate.Error, field string, err error) {
	if err == nil {
		return
	}
	if conv, ok := validate.From(validation.Errors{field: err}); ok {
		errs.Merge(conv)
		return
	}
	errs.Add(field, err.Error())
}

// dedupe returns s without repeated items, first occurrences kept in
// order: a many-to-many relation holds each member once. A nil s stays
// nil.
func dedupe[T comparable](s []T) []T {
	if len(s) < 2 {
		return s
	}
	seen := make(map[T]bool, len(s))
	out := make([]T, 0, len(s))
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
