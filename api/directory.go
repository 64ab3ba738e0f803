package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

// The directory's endpoints beyond CRUD and used_by: /core/users/ and
// /core/groups/ are served by the generic resources of their collections
// (collectionResources), with these actions and per-request hooks.

// authentik's permission codenames for the directory's actions.
const (
	permViewUser           = "authentik_core.view_user"
	permResetPassword      = "authentik_core.reset_user_password"
	permAddUserToGroup     = "authentik_core.add_user_to_group"
	permRemoveUserFromGrp  = "authentik_core.remove_user_from_group"
	permEnableSuperuser    = "authentik_core.enable_group_superuser"
	permDisableSuperuser   = "authentik_core.disable_group_superuser"
	msgNotServed           = "authflow does not serve this endpoint: it needs a session or the flow executor."
	msgSuperuserPermission = "User does not have permission to set superuser status to "
)

// directoryActions adds the users' and groups' actions to their
// resources.
func (h *handler) directoryActions() {
	if users := h.fixed[pathUsers]; users != nil {
		users.actions = map[string]action{
			"set_password": (*handler).serveSetPassword,
			// Not served: they need a session, flow tokens or the
			// executor (see msgNotServed).
			"recovery":       notServed,
			"recovery_email": notServed,
			"impersonate":    notServed,
			"metrics":        notServed,
		}
		users.collectionActions = map[string]action{
			"paths":           (*handler).serveUserPaths,
			"me":              notServed,
			"service_account": notServed,
			"impersonate_end": notServed,
		}
	}
	if groups := h.fixed[pathGroups]; groups != nil {
		groups.actions = map[string]action{
			"add_user": func(h *handler, w http.ResponseWriter, r *http.Request, res *resource, key string) {
				h.serveMembership(w, r, res, key, true)
			},
			"remove_user": func(h *handler, w http.ResponseWriter, r *http.Request, res *resource, key string) {
				h.serveMembership(w, r, res, key, false)
			},
		}
		groups.checkWrite = h.checkGroupSuperuser
	}
}

// The paths of the directory's collections.
const (
	pathUsers  = "core/users"
	pathGroups = "core/groups"
)

// notServed answers an endpoint of authentik's that authflow does not
// serve: 404, saying so, whatever the method.
func notServed(_ *handler, w http.ResponseWriter, _ *http.Request, _ *resource, _ string) {
	writeDetail(w, http.StatusNotFound, msgNotServed)
}

// included reports whether a request asks for a related list that
// authentik includes by default: param absent, or its last value "true"
// in any case. Any other value, "" included, leaves it out.
func included(r *http.Request, param string) bool {
	vals, ok := r.URL.Query()[param]
	if !ok || len(vals) == 0 {
		return true
	}
	return strings.EqualFold(vals[len(vals)-1], "true")
}

// includeGroups shows a user with groups_obj null when the request has
// include_groups other than "true", on every response showing a user.
func includeGroups(r *http.Request, v any) any {
	if u, ok := v.(directory.UserView); ok && !included(r, "include_groups") {
		u.GroupsObj = nil
		return u
	}
	return v
}

// includeUsers shows a group with users_obj null when the request has
// include_users other than "true".
func includeUsers(r *http.Request, v any) any {
	if g, ok := v.(directory.GroupView); ok && !included(r, "include_users") {
		g.UsersObj = nil
		return g
	}
	return v
}

// checkGroupSuperuser is the groups' checkWrite: a write that makes a
// group a superuser group (a create with is_superuser true, an update
// from false to true) needs authentik_core.enable_group_superuser, one
// that makes it no longer one disable_group_superuser; a write that
// leaves the flag as it was needs neither. Without the permission the
// write is refused with authentik's field error. The flag is judged on
// what the store wrote, so that no spelling of the body escapes the
// check; the permission is asked inside the write's transaction, and
// only when the flag changes.
func (h *handler) checkGroupSuperuser(r *http.Request, before, after any) error {
	now, ok := superuserOf(after)
	if !ok {
		return nil
	}
	was, existed := superuserOf(before)
	if existed && was == now || !existed && !now {
		return nil
	}
	perm, word := permEnableSuperuser, "True"
	if !now {
		perm, word = permDisableSuperuser, "False"
	}
	if h.ask(r, perm) != nil {
		return validate.FieldError("is_superuser", msgSuperuserPermission+word+".")
	}
	return nil
}

// superuserOf is a group's is_superuser, from its record or its view.
func superuserOf(v any) (bool, bool) {
	switch g := v.(type) {
	case directory.Group:
		return g.IsSuperuser, true
	case directory.GroupView:
		return g.IsSuperuser, true
	}
	return false, false
}

// actionMethods is the Allow header of a POST action.
const actionMethods = "POST"

// Messages of set_password's body: Django REST framework's CharField's.
const (
	msgNotAString = "Not a valid string."
	msgBlank      = "This field may not be blank."
)

// serveSetPassword answers POST /core/users/{id}/set_password/ with
// {"password": "..."}: 204, the password hashed with the store's policy
// (outside any transaction) and set in one write, which moves
// password_change_date. It needs the view permission (404 without it)
// and authentik_core.reset_user_password (403).
//
// authentik 2025.6 does not validate the body; authflow keeps what is
// safe of that: a missing or null password sets the unusable password,
// as authentik does. It refuses what authentik fails on or what would
// let anyone in: a password that is not a string (authentik answers 500)
// is {"password": ["Not a valid string."]}, and "" (which authentik
// would store as the hash of the empty string) is {"password": ["This
// field may not be blank."]}, as authentik 2025.10 answers both.
func (h *handler) serveSetPassword(w http.ResponseWriter, r *http.Request, res *resource, key string) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, actionMethods)
		return
	}
	if !h.viewable(w, r, res, key) || !h.permitted(w, r, res, key, permResetPassword) {
		return
	}
	o, ok := h.writeOptions(w, r)
	if !ok {
		return
	}
	body, ok := h.body(w, r, false)
	if !ok {
		return
	}
	fields, ok := bodyObject(w, body)
	if !ok {
		return
	}
	var hash store.PasswordHash
	if raw, given := fields["password"]; given && !bytes.Equal(raw, []byte("null")) {
		var pw string
		if err := json.Unmarshal(raw, &pw); err != nil {
			writeJSON(w, http.StatusBadRequest, validate.FieldError("password", msgNotAString))
			return
		}
		if pw == "" {
			writeJSON(w, http.StatusBadRequest, validate.FieldError("password", msgBlank))
			return
		}
		var err error
		if hash, err = h.s.HashPassword(pw); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	_, err := h.update(r, func(tx *store.Tx) error {
		u, err := store.Users.Get(tx, res.key(key))
		if err != nil {
			return err
		}
		return tx.SetPassword(u.PK, hash, o)
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// bodyObject reads a JSON body as an object's members, answering 400
// for one that is not JSON or not an object. It reports whether the
// request may go on.
func bodyObject(w http.ResponseWriter, body []byte) (map[string]json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		writeDetail(w, http.StatusBadRequest, msgParseError+syntaxAt(body, err))
		return nil, false
	}
	if _, ok := v.(map[string]any); !ok {
		writeJSON(w, http.StatusBadRequest, validate.NonFieldError("Invalid data. Expected a dictionary, but got "+pyTypeName(v)+"."))
		return nil, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil { // trailing data
		writeDetail(w, http.StatusBadRequest, msgParseError+syntaxAt(body, err))
		return nil, false
	}
	return fields, true
}

// syntaxAt says where body stops being JSON, as Python's json module
// places its errors ("line 1 column 18 (char 17)", counting characters),
// without Go's message, which quotes the character it stopped at: in a
// set_password body, one of the password's.
func syntaxAt(body []byte, err error) string {
	pos := len(body) // an unexpected end
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 && se.Offset <= int64(len(body)) {
		pos = int(se.Offset) - 1
	}
	before := body[:pos]
	line := 1 + bytes.Count(before, []byte("\n"))
	col := 1 + utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
	return fmt.Sprintf("invalid JSON: line %d column %d (char %d)", line, col, utf8.RuneCount(before))
}

// pyTypeName is the Python type name of a JSON value decoded with
// UseNumber, as Django REST framework names it in its messages.
func pyTypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case []any:
		return "list"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return "float"
		}
		return "int"
	}
	return "dict"
}

// pathsBody is the answer of GET /core/users/paths/.
type pathsBody struct {
	Paths []string `json:"paths"`
}

// serveUserPaths answers GET /core/users/paths/: the distinct paths of
// the users that the list's filters and search select, sorted, not
// paginated. Like a list, it needs the view permission; without it the
// answer is empty.
func (h *handler) serveUserPaths(w http.ResponseWriter, r *http.Request, _ *resource, _ string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, usedByMethods)
		return
	}
	denied := h.ask(r, permViewUser)
	if errors.Is(denied, ErrNotAuthenticated) {
		h.deny(w, denied)
		return
	}
	vals := r.URL.Query()
	vals.Del("page") // not paginated: authentik ignores them
	vals.Del("page_size")
	q, err := store.QueryFromValues(vals)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := pathsBody{Paths: []string{}}
	if denied == nil {
		err = h.s.View(r.Context(), func(tx *store.Tx) error {
			paths, err := tx.UserPaths(q)
			if err == nil {
				out.Paths = paths
			}
			return err
		})
		if err != nil {
			h.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// serveMembership answers POST /core/groups/{pk}/add_user/ (add) and
// …/remove_user/ with {"pk": <user pk>}: 204, the user added to or
// removed from the group's direct members in one write of that user
// alone (store.Tx.SetMember; nothing written when it already is, or is
// not, a member). It needs the group's view
// permission (404 without it) and authentik_core.add_user_to_group or
// remove_user_from_group (403). The user is looked up among the users
// the caller may view (authentik_core.view_user): one they may not view,
// an unknown one, or a body without an integer pk is 404 {"detail":
// "Not found."}, as in authentik.
func (h *handler) serveMembership(w http.ResponseWriter, r *http.Request, res *resource, key string, add bool) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, actionMethods)
		return
	}
	perm := permRemoveUserFromGrp
	if add {
		perm = permAddUserToGroup
	}
	if !h.viewable(w, r, res, key) || !h.permitted(w, r, res, key, perm) {
		return
	}
	body, ok := h.body(w, r, false)
	if !ok {
		return
	}
	pk, ok := userPK(body)
	if !ok || h.ask(r, permViewUser) != nil {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	o, ok := h.writeOptions(w, r)
	if !ok {
		return
	}
	_, err := h.update(r, func(tx *store.Tx) error {
		// One user written, whatever the group's size.
		_, err := tx.SetMember(res.key(key), pk, add, o)
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// userPK reads add_user's body: {"pk": n} with n an integer (a JSON
// number without a fraction, or a string of decimal digits, as Django's
// lookup reads it).
func userPK(body []byte) (int64, bool) {
	var b struct {
		PK json.RawMessage `json:"pk"`
	}
	if json.Unmarshal(body, &b) != nil || b.PK == nil {
		return 0, false
	}
	var n int64
	if json.Unmarshal(b.PK, &n) == nil {
		return n, true
	}
	var s string
	if json.Unmarshal(b.PK, &s) != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil
}
