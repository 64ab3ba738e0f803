package directory

import (
	"encoding/json"

	"github.com/google/uuid"
)

// UserView is a user as the API shows it: authentik's UserSerializer
// output, key order included. The computed fields are given as plain
// values, which the store fills.
type UserView struct {
	User
	// IsSuperuser is whether some group of the user's, direct or above,
	// is a superuser group: [User.IsSuperuser].
	IsSuperuser bool
	// GroupsObj are the user's direct groups (not their ancestors). nil
	// renders groups_obj as null, what authentik answers when the request
	// has include_groups other than "true"; a non-nil empty slice renders
	// [].
	GroupsObj []UserGroup
	// Avatar is the avatar URL or data URI.
	Avatar string
	// InstallID identifies the installation; uid is computed from it and
	// the pk (see [UID]).
	InstallID string
}

// MarshalJSON renders the representation. It never contains a password:
// a User holds none.
func (v UserView) MarshalJSON() ([]byte, error) {
	u := v.User
	groups, attrs := u.Groups, u.Attributes
	if groups == nil {
		groups = []uuid.UUID{}
	}
	if attrs == nil {
		attrs = map[string]any{}
	}
	var groupsObj *[]UserGroup
	if v.GroupsObj != nil {
		groupsObj = &v.GroupsObj
	}
	return json.Marshal(struct {
		PK                 int64          `json:"pk"`
		Username           string         `json:"username"`
		Name               string         `json:"name"`
		IsActive           bool           `json:"is_active"`
		LastLogin          *string        `json:"last_login"`
		DateJoined         string         `json:"date_joined"`
		IsSuperuser        bool           `json:"is_superuser"`
		Groups             []uuid.UUID    `json:"groups"`
		GroupsObj          *[]UserGroup   `json:"groups_obj"`
		Email              string         `json:"email"`
		Avatar             string         `json:"avatar"`
		Attributes         map[string]any `json:"attributes"`
		UID                string         `json:"uid"`
		Path               string         `json:"path"`
		Type               UserType       `json:"type"`
		UUID               uuid.UUID      `json:"uuid"`
		PasswordChangeDate string         `json:"password_change_date"`
	}{u.PK, u.Username, u.Name, u.IsActive, u.LastLogin, u.DateJoined, v.IsSuperuser, groups, groupsObj,
		u.Email, v.Avatar, attrs, u.UID(v.InstallID), u.Path, u.Type, u.UUID, u.PasswordChangeDate})
}

// UserGroup is a group as a user's groups_obj shows it: authentik's
// UserGroup, without users or roles.
type UserGroup struct {
	Group
	// ParentName is the parent's name, or nil when there is no parent.
	ParentName *string
}

// MarshalJSON renders authentik's UserGroupSerializer output.
func (g UserGroup) MarshalJSON() ([]byte, error) {
	attrs := g.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	return json.Marshal(struct {
		PK          uuid.UUID      `json:"pk"`
		NumPK       int64          `json:"num_pk"`
		Name        string         `json:"name"`
		IsSuperuser bool           `json:"is_superuser"`
		Parent      *uuid.UUID     `json:"parent"`
		ParentName  *string        `json:"parent_name"`
		Attributes  map[string]any `json:"attributes"`
	}{g.PK, g.NumPK(), g.Name, g.IsSuperuser, g.Parent, g.ParentName, attrs})
}

// GroupView is a group as the API shows it: authentik 2025.6's
// GroupSerializer output, key order included (no children: they arrive
// in 2025.8). roles is always [] and roles_obj always present and empty:
// authflow has no roles, and authentik's TypeScript client reads
// roles_obj unconditionally.
type GroupView struct {
	Group
	// ParentName is the parent's name, or nil when there is no parent.
	ParentName *string
	// UsersObj are the group's direct members. nil renders users_obj as
	// null, authentik's answer to include_users other than "true"; a
	// non-nil empty slice renders [].
	UsersObj []User
	// InstallID identifies the installation, for the members' uid.
	InstallID string
}

// Member is a user as a group's users_obj shows it: authentik's
// GroupMember.
type Member struct {
	PK         int64          `json:"pk"`
	Username   string         `json:"username"`
	Name       string         `json:"name"`
	IsActive   bool           `json:"is_active"`
	LastLogin  *string        `json:"last_login"`
	Email      string         `json:"email"`
	Attributes map[string]any `json:"attributes"`
	UID        string         `json:"uid"`
}

// MemberOf returns u as a GroupMember, its uid computed with installID.
func MemberOf(u User, installID string) Member {
	attrs := u.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	return Member{u.PK, u.Username, u.Name, u.IsActive, u.LastLogin, u.Email, attrs, u.UID(installID)}
}

// MarshalJSON renders the representation.
func (v GroupView) MarshalJSON() ([]byte, error) {
	g := v.Group
	users, attrs := g.Users, g.Attributes
	if users == nil {
		users = []int64{}
	}
	if attrs == nil {
		attrs = map[string]any{}
	}
	var usersObj *[]Member
	if v.UsersObj != nil {
		members := make([]Member, len(v.UsersObj))
		for i, u := range v.UsersObj {
			members[i] = MemberOf(u, v.InstallID)
		}
		usersObj = &members
	}
	return json.Marshal(struct {
		PK          uuid.UUID      `json:"pk"`
		NumPK       int64          `json:"num_pk"`
		Name        string         `json:"name"`
		IsSuperuser bool           `json:"is_superuser"`
		Parent      *uuid.UUID     `json:"parent"`
		ParentName  *string        `json:"parent_name"`
		Users       []int64        `json:"users"`
		UsersObj    *[]Member      `json:"users_obj"`
		Attributes  map[string]any `json:"attributes"`
		Roles       []uuid.UUID    `json:"roles"`
		RolesObj    []struct{}     `json:"roles_obj"`
	}{g.PK, g.NumPK(), g.Name, g.IsSuperuser, g.Parent, v.ParentName, users, usersObj, attrs, []uuid.UUID{}, []struct{}{}})
}
