package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Messages of the user_write stage, in authentik's words.
const (
	// MsgNoPendingData denies a user_write stage reached without
	// prompt_data.
	MsgNoPendingData = "No Pending data."
	// MsgNoUserNoCreate denies a user_write stage that has no user to
	// write and may not create one.
	MsgNoUserNoCreate = "No user found and can't create new user."
	// MsgUserWriteFailed denies a user_write stage whose write failed: a
	// username taken, a value the user's fields refuse, an unknown group.
	MsgUserWriteFailed = "Failed to update user. Please try again later."
)

// Events of the user_write stage, by authentik's action names. Their
// messages name the user, never a value it was given.
const (
	EventUserWrite   = "user_write"
	EventPasswordSet = "password_set"
)

// Context keys the user_write stage reads and writes.
const (
	// ContextUserPath overrides the stage's user_path_template.
	ContextUserPath = "user_path"
	// ContextUserType overrides the stage's user_type.
	ContextUserType = "user_type"
	// ContextGroups are groups (pks, or maps with a "pk") a written user
	// joins.
	ContextGroups = "groups"
)

// userWriteHandler is authentik's user_write stage: it writes
// prompt_data onto the pending user, creating one when the stage's
// user_creation_mode says so, and makes the written user the pending
// user. It has no challenge: reaching it passes or denies.
type userWriteHandler struct{}

func (userWriteHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	return s.writeUser(ctx)
}

func (userWriteHandler) Respond(ctx context.Context, s *Step, _ json.RawMessage) (Result, error) {
	return s.writeUser(ctx)
}

// errWriteFailed is a write the user's rules refuse: MsgUserWriteFailed.
var errWriteFailed = errors.New(MsgUserWriteFailed)

func (s *Step) writeUser(ctx context.Context) (Result, error) {
	cfg := s.Stage.Config.(stage.UserWrite)
	raw, ok := s.Context[ContextPromptData]
	if !ok {
		return Invalid(MsgNoPendingData), nil
	}
	data, _ := raw.(map[string]any)
	path := cfg.UserPathTemplate
	if p, ok := s.Context[ContextUserPath].(string); ok {
		path = p
	}
	if path == "" {
		path = directory.DefaultPath
	}
	typ := directory.UserType(cfg.UserType)
	if t, ok := s.Context[ContextUserType].(string); ok && isUserType(t) {
		typ = directory.UserType(t)
	}
	if typ == directory.UserTypeInternalServiceAccount {
		typ = directory.UserTypeServiceAccount
	}
	if _, ok := s.Context[directory.ContextPendingUser]; !ok && s.Request.User.PK != 0 && s.Request.User.Authenticated {
		u, err := s.enrollDirectory().User(ctx, s.Request.User.PK)
		if err != nil && !errors.Is(err, directory.ErrNotFound) {
			return Result{}, err
		}
		if err == nil {
			s.Context[directory.ContextPendingUser] = directory.ContextUser(u)
		}
	}
	pending, hasPending := s.Context[directory.ContextPendingUser]
	var pk int64 // 0: a new user
	base := directory.DefaultUser()
	created := false
	if !hasPending || cfg.UserCreationMode == stage.UserCreationAlways {
		if cfg.UserCreationMode == stage.UserCreationNever {
			return Invalid(MsgNoUserNoCreate), nil
		}
		base.IsActive, base.Path, base.Type = !cfg.CreateUsersAsInactive, path, typ
		created = true
	} else if p, ok := directory.ContextUserPK(pending); ok {
		pk = p
	} else {
		// A user not yet written (a stand-in a policy put there): a new
		// user with its fields.
		base.IsActive, base.Path, base.Type = !cfg.CreateUsersAsInactive, path, typ
		if m, ok := pending.(map[string]any); ok {
			base.Username, _ = m["username"].(string)
			base.Email, _ = m["email"].(string)
			base.Name, _ = m["name"].(string)
		}
		created = true
	}
	// The password is hashed before the write transaction.
	var hash *store.PasswordHash
	if v, ok := data["password"]; ok {
		pw, ok := v.(string)
		if !ok {
			return Invalid(MsgUserWriteFailed), nil
		}
		h, err := s.ex.s.HashPassword(pw)
		if err != nil {
			return Result{}, err
		}
		hash = &h
	}
	groups, err := writeGroups(cfg, s.Context[ContextGroups])
	if err != nil {
		return Invalid(MsgUserWriteFailed), nil
	}
	var out directory.User
	err = s.ex.s.Update(ctx, func(tx *store.Tx) error {
		u := base
		u.Attributes = maps.Clone(base.Attributes)
		if pk != 0 {
			var err error
			if u, err = store.Users.Get(tx, store.By("pk", strconv.FormatInt(pk, 10))); err != nil {
				return err
			}
			if u.Attributes == nil {
				u.Attributes = map[string]any{}
			}
		}
		if err := applyPromptData(&u, data); err != nil {
			return err
		}
		if u.Username == "" {
			return errEmptyUsername
		}
		for _, g := range groups {
			if !containsUUID(u.Groups, g) {
				u.Groups = append(u.Groups, g)
			}
		}
		var err error
		if pk == 0 {
			out, err = store.Users.Create(tx, u, nil)
		} else {
			var body []byte
			if body, err = json.Marshal(u); err != nil {
				return err
			}
			out, err = store.Users.Replace(tx, store.By("pk", strconv.FormatInt(pk, 10)), body, nil)
		}
		if err != nil {
			return err
		}
		if hash != nil {
			return tx.SetPassword(out.PK, *hash, nil)
		}
		return nil
	})
	var verr *validate.Error
	switch {
	case errors.Is(err, errEmptyUsername):
		return Invalid(""), nil
	case errors.Is(err, errWriteFailed), errors.As(err, &verr), errors.Is(err, store.ErrConflict):
		return Invalid(MsgUserWriteFailed), nil
	case errors.Is(err, store.ErrNotFound):
		// The pending user was deleted while the flow ran.
		return Invalid(MsgUserWriteFailed), nil
	case err != nil:
		return Result{}, err
	}
	s.Context[directory.ContextPendingUser] = directory.ContextUser(out)
	if created {
		s.Context[ContextUserBackend] = string(stage.BackendInbuilt)
	}
	if hash != nil && !created {
		// authentik's password_changed signal fires for stored users only.
		s.Event(EventPasswordSet, fmt.Sprintf("The password of user %q was set.", out.Username))
	}
	s.Event(EventUserWrite, fmt.Sprintf("User %q was written (created: %t).", out.Username, created))
	return Pass(), nil
}

// errEmptyUsername ends the stage with "Unknown error", as authentik's
// refusal to write a user without a username.
var errEmptyUsername = errors.New("executor: a user without a username")

func isUserType(t string) bool {
	for _, u := range directory.UserTypes {
		if string(u) == t {
			return true
		}
	}
	return false
}

func containsUUID(s []uuid.UUID, id uuid.UUID) bool {
	for _, x := range s {
		if x == id {
			return true
		}
	}
	return false
}

// writeGroups are the groups a written user joins: the stage's
// create_users_group and the context's groups (pks, or maps with a pk).
func writeGroups(cfg stage.UserWrite, ctxGroups any) ([]uuid.UUID, error) {
	var out []uuid.UUID
	if cfg.CreateUsersGroup != nil {
		out = append(out, *cfg.CreateUsersGroup)
	}
	if ctxGroups == nil {
		return out, nil
	}
	list, ok := ctxGroups.([]any)
	if !ok {
		return nil, errWriteFailed
	}
	for _, g := range list {
		if m, ok := g.(map[string]any); ok {
			g = m["pk"]
		}
		str, _ := g.(string)
		id, err := uuid.Parse(str)
		if err != nil {
			return nil, errWriteFailed
		}
		out = append(out, id)
	}
	return out, nil
}

// applyPromptData writes prompt_data onto u as authentik's update_user:
// component and password (hashed apart) are not fields; groups is
// discarded; attributes is merged shallowly; attributes.a.b and
// attributes_a_b set nested attributes (every "_" is a "."); username,
// name, email, is_active, path and type are assigned; every other key
// is discarded. A value of the wrong type is errWriteFailed.
func applyPromptData(u *directory.User, data map[string]any) error {
	for k, v := range data {
		switch {
		case k == "component", k == "password", k == "groups":
		case k == "attributes":
			m, ok := v.(map[string]any)
			if !ok {
				return errWriteFailed
			}
			maps.Copy(u.Attributes, m)
		case strings.HasPrefix(k, "attributes.") || strings.HasPrefix(k, "attributes_"):
			parts := strings.Split(strings.ReplaceAll(k, "_", "."), ".")[1:]
			setPath(u.Attributes, parts, v)
		case k == "username", k == "name", k == "email", k == "path", k == "type":
			str, ok := v.(string)
			if !ok {
				return errWriteFailed
			}
			switch k {
			case "username":
				u.Username = str
			case "name":
				u.Name = str
			case "email":
				u.Email = str
			case "path":
				u.Path = str
			case "type":
				u.Type = directory.UserType(str)
			}
		case k == "is_active":
			b, ok := v.(bool)
			if !ok {
				return errWriteFailed
			}
			u.IsActive = b
		}
	}
	return nil
}

// setPath is authentik's set_path_in_dict: the value at the path of
// keys, making the maps on the way (a value that is not a map is
// replaced by one).
func setPath(m map[string]any, parts []string, v any) {
	for i, p := range parts {
		if i == len(parts)-1 {
			m[p] = v
			return
		}
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
}
