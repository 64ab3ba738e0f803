package directory

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strconv"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// Group is a stored group: authentik's Group model. Its JSON form is the
// one the store persists; the API representation is [GroupView].
type Group struct {
	// PK is the group's id (authentik's group_uuid), which the store
	// assigns.
	PK uuid.UUID `json:"pk" af:"readonly"`
	// Name is unique among all groups, whatever their parent.
	Name string `json:"name" af:"required"`
	// IsSuperuser makes the members of the group, and of every group
	// below it, superusers.
	IsSuperuser bool `json:"is_superuser"`
	// Parent is the group above this one, or nil. A group may not be its
	// own parent; longer cycles are not refused (see [Group.Ancestors]).
	// Deleting the parent sets Parent to nil.
	Parent *uuid.UUID `json:"parent" af:"ref=authentik_core.group,related=children"`
	// Users are the pks of the group's direct members: the relation of
	// [User.Groups], seen from the group's side. A create or replace
	// without users sets none (see [Group.DefaultOnReplace]). The store
	// checks that each exists (the message is validate.DoesNotExist of
	// the pk) and removes a deleted user.
	Users []int64 `json:"users"`
	// Attributes is a free-form JSON object.
	Attributes map[string]any `json:"attributes" af:"jsondict"`
}

// DefaultGroup returns a Group with authentik's defaults.
func DefaultGroup() Group { return Group{Attributes: map[string]any{}, Users: []int64{}} }

// String is authentik's str(): "Group <name>".
func (g Group) String() string { return "Group " + g.Name }

// NumPK is authentik's num_pk: the first five decimal digits of the pk
// read as a 128-bit integer. It is a display number, not unique.
func (g Group) NumPK() int64 {
	s := new(big.Int).SetBytes(g.PK[:]).String()
	if len(s) > 5 {
		s = s[:5]
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// DefaultOnReplace names the fields whose default ([]) applies on a
// replace (PUT) that omits them: a PUT without users leaves the group
// with no members. [DecodeGroup] already applies it.
func (Group) DefaultOnReplace() []string { return []string{"users"} }

// SuperuserDenied is the message on is_superuser when the writer may not
// set it to v: authentik asks for the permission
// authentik_core.enable_group_superuser to set it, and
// disable_group_superuser to clear it (the API's check, not this
// package's).
func SuperuserDenied(v bool) string {
	s := "False"
	if v {
		s = "True"
	}
	return "User does not have permission to set superuser status to " + s + "."
}

// Validate checks that the name is not blank: for a Group built in Go (a
// write already refuses a blank name).
func (g Group) Validate() error {
	return validation.Errors{"name": validate.Text(g.Name, validate.NotBlank)}.Filter()
}

var (
	groupSchema   = mustSchema(Group{})
	groupComputed = validate.Keys("num_pk", "parent_name", "users_obj", "roles_obj")
	rolesSchema   = mustSchema(rolesBody{})
)

// rolesBody reads a write's roles with the messages of a list of UUID
// references.
type rolesBody struct {
	Roles []uuid.UUID `json:"roles"`
}

// DecodeGroup applies body to cur as op (see [validate.Apply]) with
// authentik's rules, and returns the result. For [validate.Create], cur
// holds the defaults ([DefaultGroup]); otherwise it is the stored group.
//
// users are integer user pks with the messages of Django REST framework's
// related field (the first bad item is the field's error). roles are
// accepted empty; authflow has no roles, so any role pk does not exist.
// A parent equal to the group's own pk is refused ([MsgParentSelf]). A
// create or replace without users sets none; duplicate pks are kept once.
//
// The error is a [*validate.Error] for rejected input, or one wrapping
// [validate.ErrSyntax] for a body that is not JSON. The store adds its
// own checks: the name is unique ([MsgUnique]), the parent and every
// user exist, and the superuser permission is the API's.
func DecodeGroup(cur Group, body []byte, op validate.Op) (Group, error) {
	in, err := validate.Object(body)
	if err != nil {
		return cur, err
	}
	next := cur
	rawUsers, sentUsers := in["users"]
	rawRoles, sentRoles := in["roles"]
	delete(in, "users")
	delete(in, "roles")
	errs := groupSchema.Decode(&next, in, op, groupComputed)
	if errs != nil && errs.Err != nil {
		return cur, errs.Err
	}
	if errs == nil {
		errs = &validate.Error{}
	}
	switch {
	case sentUsers:
		if users, msg := decodeUserPKs(rawUsers); msg != "" {
			errs.Add("users", msg)
		} else {
			next.Users = dedupe(users)
		}
	case op != validate.Patch:
		next.Users = []int64{}
	}
	if sentRoles {
		var r rolesBody
		if e := rolesSchema.Decode(&r, map[string]json.RawMessage{"roles": rawRoles}, validate.Patch, nil); e != nil {
			errs.Merge(e)
		} else if len(r.Roles) > 0 {
			errs.Add("roles", validate.DoesNotExist(r.Roles[0].String()))
		}
	}
	if _, sent := in["parent"]; sent && !errs.Has("parent") && next.Parent != nil && cur.PK != uuid.Nil && *next.Parent == cur.PK {
		errs.Add("parent", MsgParentSelf)
	}
	if _, sent := in["name"]; sent && !errs.Has("name") {
		addRule(errs, "name", next.Validate())
	}
	next.PK = cur.PK
	if !errs.Empty() {
		return next, errs
	}
	return next, nil
}

// decodeUserPKs reads a list of user pks as DRF's many related field over
// an integer key reads it: a JSON integer, an integral number or a string
// Python's int() reads. A null item is a pk that does not exist. The
// first bad item's message is returned.
func decodeUserPKs(raw json.RawMessage) ([]int64, string) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return nil, validate.MsgNull
	case raw[0] == 'n':
		return nil, validate.MsgNull
	case raw[0] != '[':
		return nil, validate.NotAList(validate.PyTypeName(raw))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, validate.NotAList("list")
	}
	out := make([]int64, 0, len(items))
	for _, item := range items {
		if item = bytes.TrimSpace(item); len(item) > 0 && item[0] == 'n' {
			return nil, validate.DoesNotExist("None")
		}
		n, msg := validate.PKNumber(item)
		if msg != "" {
			return nil, msg
		}
		out = append(out, n)
	}
	return out, ""
}
