package blueprint

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// User entries (authentik_core.user) take two attrs that the users API
// does not: password and permissions (authentik adds them to its user
// serializer in a blueprint's context).

// ErrPasswordInTx is the error (in its log event) of a user entry that
// sets a password in an import run by ApplyTx: hashing a password takes a good
// part of a second, which a write transaction should not wait for, so only
// Apply, which hashes between passes outside its transactions, sets
// passwords. A dry run sets none, and so is not refused.
var ErrPasswordInTx = errors.New("blueprint: a user entry's password is hashed outside the import's transaction: import it with Apply, not ApplyTx")

// MsgUserPK is the error on "pk" of a user entry whose pk identifier
// names no user: the store numbers users itself, so an entry cannot
// create one with a given number.
const MsgUserPK = "The store numbers users: a blueprint cannot create a user with a given pk."

// MsgPermissionsIgnored is the message of the warning (or, with
// Options.Strict, the error on "permissions") of a user entry that gives
// global permissions: authflow has no permissions to assign.
const MsgPermissionsIgnored = "authflow has no permissions: the user's global permissions are not assigned."

// errPasswordsMoving ends an Apply whose passes keep meeting passwords
// they have no hash for (the store changes under it between passes).
var errPasswordsMoving = errors.New("the users' passwords to hash changed between the import's passes; try again")

// maxPasswordPasses bounds the passes of an Apply (see Apply).
const maxPasswordPasses = 3

// userExtras are a user entry's blueprint-only attrs.
type userExtras struct {
	// password is the raw password to set, trimmed as DRF trims it; nil
	// when the entry gives none or null (the stored password stays; a new
	// user's is unusable).
	password *string
}

// passwordAttr reads a user entry's password as DRF's
// CharField(required=False, allow_null=True) reads it: whitespace
// trimmed, a number taken as its text, blank refused.
type passwordAttr struct {
	Password *string `json:"password"`
}

var passwordSchema = func() *validate.Schema {
	s, err := validate.SchemaOf(passwordAttr{})
	if err != nil {
		panic(err) // a declaration error in this file, caught by its tests
	}
	return s
}()

// userExtras takes password and permissions out of a user entry's attrs,
// which the write would refuse as unknown fields. A password that is not
// valid is returned as field errors, for the entry to report with the
// write's own. A password among the identifiers is an error (and is
// replaced there by validate.Redacted, so that no log shows it).
func (im *importer) userExtras(e *Entry, ids, attrs map[string]any) (userExtras, *validate.Error, error) {
	var u userExtras
	if _, ok := ids["password"]; ok {
		ids["password"] = validate.Redacted
		return u, nil, errors.New("password is no identifier of a user: give it in attrs")
	}
	var errs *validate.Error
	if raw, ok := attrs["password"]; ok {
		delete(attrs, "password")
		var p passwordAttr
		b, err := json.Marshal(normalizeJSON(raw))
		if err != nil {
			errs = validate.FieldError("password", validate.MsgNotString)
		} else if e := passwordSchema.Decode(&p, map[string]json.RawMessage{"password": b}, validate.Patch, nil); e != nil && !e.Empty() {
			errs = e
		} else {
			u.password = p.Password
		}
	}
	if perms, ok := attrs["permissions"]; ok {
		delete(attrs, "permissions")
		if !empty(perms) {
			if im.opts.Strict {
				if errs == nil {
					errs = &validate.Error{}
				}
				errs.Add("permissions", MsgPermissionsIgnored)
			} else {
				im.log("warning", "attribute ignored", e, map[string]any{"identifiers": ids, "field": "permissions",
					"message": MsgPermissionsIgnored})
			}
		}
	}
	return u, errs, nil
}

// normalizeJSON makes a resolved YAML value marshalable: a float that is
// not finite becomes its text, which the password's rules then refuse
// like any other text they do not take.
func normalizeJSON(v any) any {
	if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return v
}

// setPassword sets raw as the password of the user numbered key, with
// the hash of an earlier pass (see Apply). Without one the pass goes on
// without it: Apply hashes what the pass met and runs again; a dry run
// needs none; ApplyTx cannot hash, and fails the entry.
func (im *importer) setPassword(key any, raw string) error {
	n, _ := key.(int64)
	h, ok := im.pw.get(raw)
	switch {
	case ok:
		return im.tx.SetPassword(n, h, im.writeOptions())
	case im.opts.DryRun || im.pw.outside:
		return nil
	}
	return ErrPasswordInTx
}

// keyValue is the key of the object of model with pk that !KeyOf and
// !Find give and the log shows: a user's number, another object's UUID
// text.
func (im *importer) keyValue(model string, pk uuid.UUID) (any, error) {
	if model != store.ModelUser {
		return pk.String(), nil
	}
	u, err := store.Users.Get(im.tx, store.PK(pk))
	if err != nil {
		return nil, err
	}
	return u.PK, nil
}

// userNumber reads a user entry's pk identifier: an integer, or text
// that spells one. Anything else is a field error on "pk".
func userNumber(v any) (int64, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > math.MaxInt32 {
			return 0, validate.FieldError("pk", validate.MsgInteger)
		}
		n = int64(x)
	case string:
		var err error
		if n, err = strconv.ParseInt(strings.TrimSpace(x), 10, 64); err != nil {
			return 0, validate.FieldError("pk", validate.MsgInteger)
		}
	default:
		return 0, validate.FieldError("pk", validate.MsgInteger)
	}
	return n, nil
}

// passwords carries the hashes of the user entries' passwords from one
// pass of an import to the next: the n-th password a pass meets takes the
// hash made for the n-th of the pass before, if it is the same password
// (so two users with one password get two hashes, each with its salt).
type passwords struct {
	// outside is set by Apply, which hashes between passes.
	outside bool
	hashed  []hashedPassword // the last pass's passwords, in order
	met     []string         // this pass's, in order
	missing bool             // this pass met one without its hash
}

type hashedPassword struct {
	raw  string
	hash store.PasswordHash
}

// get returns the hash of the next password the pass meets, raw, if the
// last pass made one.
func (p *passwords) get(raw string) (store.PasswordHash, bool) {
	n := len(p.met)
	p.met = append(p.met, raw)
	if n < len(p.hashed) && p.hashed[n].raw == raw {
		return p.hashed[n].hash, true
	}
	p.missing = true
	return store.PasswordHash{}, false
}

// complete reports whether the pass had the hash of every password it
// met.
func (p *passwords) complete() bool { return !p.missing }

// hash hashes the passwords the pass met that have no hash yet, outside
// any transaction, and readies the next pass. The error says nothing of
// the password.
func (p *passwords) hash(s *store.Store) error {
	next := make([]hashedPassword, len(p.met))
	for i, raw := range p.met {
		if i < len(p.hashed) && p.hashed[i].raw == raw {
			next[i] = p.hashed[i]
			continue
		}
		h, err := s.HashPassword(raw)
		if err != nil {
			return fmt.Errorf("blueprint: %w", err)
		}
		next[i] = hashedPassword{raw, h}
	}
	p.hashed, p.met, p.missing = next, nil, false
	return nil
}
