package executor

import (
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/internal/jsonvalue"
)

// displayUser is the user a challenge shows (authentik's
// get_pending_user for display), as far as the executor knows it: a
// user named by the context's pending_user_identifier (that name alone,
// so that it tells nothing of a stored user), else the context's
// pending user (its username, name, email and attributes), else the
// request's user (its pk and username). ok is false for an anonymous
// request's user.
func displayUser(ctxm map[string]any, req Request) (u directory.User, ok bool) {
	if id, ok := ctxm[ContextPendingUserIdentifier].(string); ok {
		return directory.User{Username: id}, true
	}
	if pu, ok := ctxm[directory.ContextPendingUser].(map[string]any); ok {
		u.PK, _ = directory.ContextUserPK(pu)
		u.Username, _ = pu["username"].(string)
		u.Name, _ = pu["name"].(string)
		u.Email, _ = pu["email"].(string)
		u.Attributes, _ = pu["attributes"].(map[string]any)
		return u, true
	}
	return directory.User{PK: req.User.PK, Username: req.Username}, req.User.PK != 0
}

// displayInfo is a challenge's user info: the display user's name and
// avatar (Options.Avatar, by default directory.Avatar; DefaultAvatar for
// an anonymous user, as authentik's).
func (e *Executor) displayInfo(ctxm map[string]any, req Request) UserInfo {
	u, ok := displayUser(ctxm, req)
	info := UserInfo{PendingUser: u.Username, PendingUserAvatar: DefaultAvatar}
	if !ok {
		return info
	}
	avatar := directory.Avatar
	if e.avatar != nil {
		// The host's function gets its own copy of the context's map.
		avatar, u.Attributes = e.avatar, jsonvalue.CloneMap(u.Attributes)
	}
	if a := avatar(u); a != "" {
		info.PendingUserAvatar = a
	}
	return info
}
