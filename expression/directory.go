package expression

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/plan"
	"github.com/google/uuid"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// host is what one evaluation may read from the host: the directory.
// It records whether the evaluation read it, so that its result is not
// kept by a plan cache. An evaluation runs on one goroutine.
type host struct {
	ctx context.Context
	dir directory.Directory // nil: none configured
	// update asks the planner for a write (Flow.objects...update, orm.go);
	// nil: the host applies none.
	update func(plan.Update)
	// used: the evaluation read the directory or asked for a write.
	used   bool
	groups map[uuid.UUID]directory.Group
	hooks  *hooks // calls, events and the network; nil: none
	// own holds the hooks, argv the handler's arguments, flow its
	// flow_plan and part its partRequest, of the evaluation the host is
	// made for, allocated with it.
	own  hooks
	argv [7]starlark.Value // a policy handler's seven (params)
	flow flowPlan
	part partRequest
	// lazy is the plan context of an expression that only looks values
	// up in it.
	lazy lazyContext
	// messages are a policy's ak_message calls, in order.
	messages []string
	// maxSteps is the run's step limit and steps what it took, which
	// ak_call_policy shares with the policies it calls.
	maxSteps, steps uint64
}

// runnerLocal is the thread-local value that holds a kept thread's
// runner, set once per thread, whose host is the run's.
const runnerLocal = "authflow.runner"

// hostOf is the thread's host, or nil.
func hostOf(th *starlark.Thread) *host {
	if r, _ := th.Local(runnerLocal).(*runner); r != nil {
		return r.h
	}
	return nil
}

// needDir returns the thread's host when it has a directory, and
// otherwise an error wrapping ErrNoHost naming what needs it.
func needDir(h *host, what string) (*host, error) {
	if h == nil || h.dir == nil {
		return nil, fmt.Errorf("%s is %w (a user directory: expression.Options.Directory)", what, ErrNoHost)
	}
	h.used = true
	return h, nil
}

// group reads a group once per evaluation.
func (h *host) group(pk uuid.UUID) (directory.Group, error) {
	if g, ok := h.groups[pk]; ok {
		return g, nil
	}
	g, err := h.dir.Group(h.ctx, pk)
	if err != nil {
		return g, err
	}
	if h.groups == nil {
		h.groups = map[uuid.UUID]directory.Group{}
	}
	h.groups[pk] = g
	return g, nil
}

// dirUser is authentik's User read from the directory: the user
// ak_user_by returns, and request.user when the evaluator has a
// directory. Its fields are read on first use, so an expression that
// uses only what the planner passed reads nothing.
type dirUser struct {
	h  *host
	pk int64
	// request: this is request.user, whose is_authenticated,
	// is_superuser and attributes are the planner's, known without
	// reading.
	request                  bool
	authenticated, superuser bool
	// attrs are the planner's attributes, converted; nil until first
	// read when the planner's are empty (when they are not, requestUser
	// converts them, failing the evaluation on a value it cannot pass).
	attrs starlark.Value
	// gattrs are the planner's group attributes (request.user), or nil.
	gattrs map[string]any
	u      *directory.User
	facts  *directory.Facts
}

var (
	_ starlark.HasAttrs   = (*dirUser)(nil)
	_ starlark.Comparable = (*dirUser)(nil)
)

// CompareSameType is Django's model equality: two users are equal when
// their pks are; users have no order.
func (u *dirUser) CompareSameType(op syntax.Token, y starlark.Value, _ int) (bool, error) {
	switch op {
	case syntax.EQL:
		return u.pk == y.(*dirUser).pk, nil
	case syntax.NEQ:
		return u.pk != y.(*dirUser).pk, nil
	}
	return false, fmt.Errorf("'%s' not supported between instances of 'User' and 'User'", op)
}

func (u *dirUser) String() string {
	if u.u != nil {
		return u.u.Username
	}
	return "<User " + strconv.FormatInt(u.pk, 10) + ">"
}
func (u *dirUser) Type() string          { return "User" }
func (u *dirUser) Freeze()               {}
func (u *dirUser) Truth() starlark.Bool  { return true }
func (u *dirUser) Hash() (uint32, error) { return starlark.MakeInt64(u.pk).Hash() }

// dirUserAttrs are the attributes of a dirUser.
var dirUserAttrs = []string{"all_groups", "attributes", "date_joined", "email", "group_attributes",
	"has_usable_password", "id", "is_active", "is_anonymous", "is_authenticated", "is_superuser",
	"last_login", "name", "password_change_date", "path", "pk", "type", "username", "uuid"}

func (u *dirUser) AttrNames() []string { return dirUserAttrs }

// load reads the user from the directory.
func (u *dirUser) load() (directory.User, error) {
	if u.u != nil {
		return *u.u, nil
	}
	h, err := needDir(u.h, "the user's fields")
	if err != nil {
		return directory.User{}, err
	}
	du, err := h.dir.User(h.ctx, u.pk)
	if err != nil {
		return directory.User{}, fmt.Errorf("user %d: %w", u.pk, err)
	}
	u.u = &du
	return du, nil
}

// loadFacts reads the user's groups with their ancestors.
func (u *dirUser) loadFacts() (directory.Facts, error) {
	if u.facts != nil {
		return *u.facts, nil
	}
	du, err := u.load()
	if err != nil {
		return directory.Facts{}, err
	}
	f, err := directory.FactsFrom(du, u.h.group)
	if err != nil {
		return directory.Facts{}, err
	}
	u.facts = &f
	return f, nil
}

func (u *dirUser) Attr(name string) (starlark.Value, error) {
	if u.request {
		switch name {
		case "is_authenticated":
			return starlark.Bool(u.authenticated), nil
		case "is_superuser":
			return starlark.Bool(u.superuser), nil
		case "attributes":
			if u.attrs == nil {
				u.attrs = starlark.NewDict(0)
			}
			return u.attrs, nil
		}
	}
	switch name {
	case "pk", "id":
		return starlark.MakeInt64(u.pk), nil
	case "is_authenticated":
		return starlark.True, nil
	case "is_anonymous":
		return starlark.False, nil
	case "is_superuser":
		f, err := u.loadFacts()
		if err != nil {
			return nil, err
		}
		return starlark.Bool(f.Superuser), nil
	case "group_attributes":
		return starlark.NewBuiltin("group_attributes", u.groupAttributes), nil
	case "has_usable_password":
		return starlark.NewBuiltin("has_usable_password", u.hasUsablePassword), nil
	case "all_groups":
		return starlark.NewBuiltin("all_groups", u.allGroups), nil
	case "uid", "ak_groups":
		return nil, fmt.Errorf("user.%s is %w", name, ErrNotYet)
	}
	i := sort.SearchStrings(dirUserAttrs, name)
	if i == len(dirUserAttrs) || dirUserAttrs[i] != name {
		return nil, starlark.NoSuchAttrError(fmt.Sprintf("'User' object has no attribute '%s'", name))
	}
	du, err := u.load()
	if err != nil {
		return nil, err
	}
	switch name {
	case "username":
		return starlark.String(du.Username), nil
	case "name":
		return starlark.String(du.Name), nil
	case "email":
		return starlark.String(du.Email), nil
	case "path":
		return starlark.String(du.Path), nil
	case "type":
		return starlark.String(string(du.Type)), nil
	case "uuid":
		return starlark.String(du.UUID.String()), nil
	case "is_active":
		return starlark.Bool(du.IsActive), nil
	case "attributes":
		return toValue(orEmpty(du.Attributes), 0)
	case "date_joined":
		return starlark.String(du.DateJoined), nil
	case "password_change_date":
		return starlark.String(du.PasswordChangeDate), nil
	case "last_login":
		if du.LastLogin == nil {
			return starlark.None, nil
		}
		return starlark.String(*du.LastLogin), nil
	}
	return nil, nil
}

// groupAttributes is user.group_attributes(request=None): the
// planner's when it passed them, else the directory's; with an
// HttpRequest, its brand's attributes merged first (see underBrand for
// the planner's; the directory's are merged again with the brand, as
// authentik does).
func (u *dirUser) groupAttributes(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if u.gattrs != nil {
		return groupAttributes(b, args, kw, u.gattrs)
	}
	var req starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kw, "request?", &req); err != nil {
		return nil, err
	}
	f, err := u.loadFacts()
	if err != nil {
		return nil, err
	}
	brand, ok := brandOf(req)
	if !ok {
		return toValue(orEmpty(f.Attributes), 0)
	}
	// loadFacts read every group the merge reaches.
	lookup := func(pk uuid.UUID) (directory.Group, bool) {
		g, err := u.h.group(pk)
		return g, err == nil
	}
	m, err := u.u.GroupAttributes(lookup, brand)
	if err != nil {
		return nil, err
	}
	return toValue(m, 0)
}

// hasUsablePassword is user.has_usable_password(), through the
// directory's optional directory.PasswordState.
func (u *dirUser) hasUsablePassword(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 0); err != nil {
		return nil, err
	}
	h, err := needDir(u.h, "user.has_usable_password()")
	if err != nil {
		return nil, err
	}
	ps, ok := h.dir.(directory.PasswordState)
	if !ok {
		return nil, fmt.Errorf("user.has_usable_password() is %w (a directory that implements directory.PasswordState)", ErrNoHost)
	}
	ok, err = ps.HasUsablePassword(h.ctx, u.pk)
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", u.pk, err)
	}
	return starlark.Bool(ok), nil
}

// allGroups is user.all_groups(): the user's groups and their
// ancestors, each once, direct groups first.
func (u *dirUser) allGroups(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 0); err != nil {
		return nil, err
	}
	gs, err := u.groupList()
	if err != nil {
		return nil, err
	}
	out := make([]starlark.Value, len(gs))
	for i, g := range gs {
		if out[i], err = groupValue(g); err != nil {
			return nil, err
		}
	}
	return starlark.NewList(out), nil
}

// groupList is the user's groups and their ancestors, each once.
func (u *dirUser) groupList() ([]directory.Group, error) {
	f, err := u.loadFacts()
	if err != nil {
		return nil, err
	}
	out := make([]directory.Group, 0, len(f.Groups))
	for _, pk := range f.Groups {
		g, err := u.h.group(pk)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// groupValue is authentik's Group as far as expressions read it.
func groupValue(g directory.Group) (starlark.Value, error) {
	attrs, err := toValue(orEmpty(g.Attributes), 0)
	if err != nil {
		return nil, err
	}
	var parent starlark.Value = starlark.None
	if g.Parent != nil {
		parent = starlark.String(g.Parent.String())
	}
	return starlarkstruct.FromStringDict(starlark.String("Group"), starlark.StringDict{
		"pk": starlark.String(g.PK.String()), "group_uuid": starlark.String(g.PK.String()),
		"name": starlark.String(g.Name), "is_superuser": starlark.Bool(g.IsSuperuser),
		"attributes": attrs, "parent_id": parent,
	}), nil
}

// anonUser is Django's AnonymousUser, request.user of a request without
// a user (DIRECTORY.md §4.1): it has no name, email, attributes or
// group methods, and using them raises AttributeError.
type anonUser struct{}

var _ starlark.HasAttrs = anonUser{}

func (anonUser) String() string        { return "AnonymousUser" }
func (anonUser) Type() string          { return "AnonymousUser" }
func (anonUser) Freeze()               {}
func (anonUser) Truth() starlark.Bool  { return true }
func (anonUser) Hash() (uint32, error) { return 1, nil }
func (anonUser) AttrNames() []string {
	return []string{"id", "is_active", "is_anonymous", "is_authenticated", "is_staff", "is_superuser", "pk", "username"}
}

func (anonUser) Attr(name string) (starlark.Value, error) {
	switch name {
	case "pk", "id":
		return starlark.None, nil
	case "username":
		return starlark.String(""), nil
	case "is_active", "is_staff", "is_superuser", "is_authenticated":
		return starlark.False, nil
	case "is_anonymous":
		return starlark.True, nil
	}
	return nil, starlark.NoSuchAttrError(fmt.Sprintf("'AnonymousUser' object has no attribute '%s'", name))
}

// akUserBy is ak_user_by(**filters): the user with the lowest pk that
// matches every filter, or None.
func akUserBy(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("ak_user_by() takes 0 positional arguments but %d were given", len(args))
	}
	h, err := needDir(hostOf(th), "ak_user_by")
	if err != nil {
		return nil, err
	}
	fs, err := userFilters(kw)
	if err != nil || fs == nil {
		return starlark.None, err
	}
	u, ok, err := h.findUser(fs)
	if err != nil || !ok {
		return starlark.None, err
	}
	return &dirUser{h: h, pk: u.PK, u: &u}, nil
}

// A userFilter is one Django lookup ak_user_by supports: a field
// (username, email, pk, uuid) compared exactly or, for the strings,
// case-insensitively (iexact).
type userFilter struct {
	key    string // as written
	field  string // username, email, pk, uuid
	iexact bool
	str    string
	pk     int64
	id     uuid.UUID
	null   bool // the value is None: matches nobody (the fields are NOT NULL)
}

// userModelFields are the fields (and relations) of authentik's User
// model: a lookup on one that authflow does not support is an error; on
// any other name, Django raises FieldError, which ak_user_by turns into
// None.
var userModelFields = map[string]bool{
	"id": true, "pk": true, "username": true, "email": true, "uuid": true, "name": true,
	"password": true, "last_login": true, "is_superuser": true, "first_name": true, "last_name": true,
	"is_staff": true, "is_active": true, "date_joined": true, "groups": true, "user_permissions": true,
	"path": true, "type": true, "sources": true, "ak_groups": true, "password_change_date": true,
	"last_updated": true, "attributes": true, "roles": true,
}

// djangoLookups are Django's built-in lookups: on a field authflow
// supports, one of these other than exact and iexact is an error (the
// expression means something authflow cannot do); any other suffix is a
// FieldError to Django (None).
var djangoLookups = map[string]bool{
	"contains": true, "icontains": true, "in": true, "gt": true, "gte": true, "lt": true, "lte": true,
	"startswith": true, "istartswith": true, "endswith": true, "iendswith": true, "range": true,
	"isnull": true, "regex": true, "iregex": true, "date": true, "year": true,
}

// userFilters parses ak_user_by's keyword arguments. A nil result with
// no error is Django's FieldError: no user.
func userFilters(kw []starlark.Tuple) ([]userFilter, error) {
	var out []userFilter
	for _, kv := range kw {
		key := string(kv[0].(starlark.String))
		field, lookup, _ := strings.Cut(key, "__")
		if !userModelFields[field] {
			return nil, nil
		}
		f := userFilter{key: key, field: field}
		switch field {
		case "id", "pk":
			f.field = "pk"
		case "username", "email", "uuid":
		default:
			return nil, fmt.Errorf("ak_user_by: the lookup %q (on the user's %s) is %w: authflow looks users up by username, email, pk, id or uuid, exactly or with __iexact", key, field, ErrNotYet)
		}
		switch {
		case lookup == "" || lookup == "exact":
		case lookup == "iexact" && (f.field == "username" || f.field == "email"):
			f.iexact = true
		case lookup == "iexact" || djangoLookups[lookup]:
			return nil, fmt.Errorf("ak_user_by: the lookup %q is %w: authflow looks users up by username, email, pk, id or uuid, exactly or with __iexact", key, ErrNotYet)
		default:
			return nil, nil // Django: Unsupported lookup, a FieldError
		}
		v := kv[1]
		if v == starlark.None {
			f.null = true
			out = append(out, f)
			continue
		}
		switch f.field {
		case "pk":
			if err := starlark.AsInt(v, &f.pk); err != nil {
				s, ok := starlark.AsString(v)
				n, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
				if !ok || perr != nil {
					return nil, fmt.Errorf("Field 'id' expected a number but got %s.", v.String())
				}
				f.pk = n
			}
		case "uuid":
			s, ok := starlark.AsString(v)
			id, err := uuid.Parse(s)
			if !ok || err != nil {
				return nil, fmt.Errorf("“%s” is not a valid UUID.", strings.Trim(v.String(), `"`))
			}
			f.id = id
		default:
			s, ok := starlark.AsString(v)
			if !ok {
				s = v.String()
			}
			f.str = s
		}
		out = append(out, f)
	}
	if out == nil {
		out = []userFilter{}
	}
	return out, nil
}

// matches reports whether u passes f.
func (f userFilter) matches(u directory.User) bool {
	if f.null {
		return false
	}
	switch f.field {
	case "pk":
		return u.PK == f.pk
	case "uuid":
		return u.UUID == f.id
	}
	v := u.Username
	if f.field == "email" {
		v = u.Email
	}
	if f.iexact {
		// As the store compares (PostgreSQL's UPPER(), authentik's iexact).
		return strings.ToUpper(v) == strings.ToUpper(f.str)
	}
	return v == f.str
}

// findUser finds the user with the lowest pk that passes every filter.
// The seam finds one user by pk, by uuid, or the lowest pk by username
// or email: that user answers when it passes the other filters, or when
// it was found by a unique key; otherwise (email and username__iexact
// together, say, where a user with a higher pk might pass both) there is
// no answer without listing users, and the error says so.
func (h *host) findUser(fs []userFilter) (directory.User, bool, error) {
	if len(fs) == 0 {
		return directory.User{}, false, fmt.Errorf("ak_user_by() without filters (the first user) is %w: it needs a directory that lists users", ErrNotYet)
	}
	best := 0
	rank := func(f userFilter) int {
		switch {
		case f.null:
			return 0
		case f.field == "pk", f.field == "uuid":
			return 1
		case f.field == "username" && !f.iexact:
			return 2
		}
		return 3
	}
	for i, f := range fs {
		if rank(f) < rank(fs[best]) {
			best = i
		}
	}
	f := fs[best]
	if f.null {
		return directory.User{}, false, nil
	}
	var u directory.User
	var err error
	switch f.field {
	case "pk":
		u, err = h.dir.User(h.ctx, f.pk)
	case "uuid":
		u, err = h.dir.UserByUUID(h.ctx, f.id)
	default:
		if f.str == "" {
			return directory.User{}, false, fmt.Errorf("ak_user_by(%s=\"\") is %w: the directory finds no user by an empty value", f.key, ErrNotYet)
		}
		field := directory.FieldUsername
		if f.field == "email" {
			field = directory.FieldEmail
		}
		u, err = h.dir.FindUser(h.ctx, directory.Find{Identifier: f.str, Fields: []directory.Field{field}, CaseSensitive: !f.iexact})
	}
	if errors.Is(err, directory.ErrNotFound) {
		return directory.User{}, false, nil
	}
	if err != nil {
		return directory.User{}, false, fmt.Errorf("ak_user_by: %w", err)
	}
	for _, g := range fs {
		if !g.matches(u) {
			if rank(f) < 3 {
				return directory.User{}, false, nil
			}
			return directory.User{}, false, fmt.Errorf("ak_user_by(%s) is %w: the directory finds the lowest pk by %s only, and that user does not pass %s", filterKeys(fs), ErrNotYet, f.key, g.key)
		}
	}
	return u, true, nil
}

func filterKeys(fs []userFilter) string {
	ks := make([]string, len(fs))
	for i, f := range fs {
		ks[i] = f.key + "=…"
	}
	return strings.Join(ks, ", ")
}

// groupModelFields are the fields and relations of authentik's Group:
// a lookup on one authflow does not support is an error; any other name
// is Django's FieldError, which ak_is_group_member raises.
var groupModelFields = map[string]bool{
	"group_uuid": true, "pk": true, "name": true, "is_superuser": true, "parent": true, "parent_id": true,
	"attributes": true, "users": true, "roles": true, "children": true, "policybindingmodel_ptr": true,
}

// akIsGroupMember is ak_is_group_member(user, **group_filters): whether
// some group of the user's, direct or above, passes every filter.
func akIsGroupMember(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var user starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, nil, 1, &user); err != nil {
		return nil, err
	}
	type gfilter struct {
		field, str string
		iexact     bool
		b          bool
	}
	var fs []gfilter
	for _, kv := range kw {
		key := string(kv[0].(starlark.String))
		field, lookup, _ := strings.Cut(key, "__")
		if !groupModelFields[field] {
			return nil, fmt.Errorf("Cannot resolve keyword '%s' into field.", field)
		}
		f := gfilter{field: field}
		switch field {
		case "pk", "group_uuid":
			f.field = "pk"
		case "name", "is_superuser":
		default:
			return nil, fmt.Errorf("ak_is_group_member: the lookup %q is %w: authflow matches groups by name, pk (group_uuid) or is_superuser, exactly or with name__iexact", key, ErrNotYet)
		}
		switch {
		case lookup == "" || lookup == "exact":
		case lookup == "iexact" && f.field == "name":
			f.iexact = true
		default:
			return nil, fmt.Errorf("ak_is_group_member: the lookup %q is %w: authflow matches groups by name, pk (group_uuid) or is_superuser, exactly or with name__iexact", key, ErrNotYet)
		}
		switch f.field {
		case "is_superuser":
			bv, ok := kv[1].(starlark.Bool)
			if !ok {
				return nil, fmt.Errorf("ak_is_group_member: %s must be True or False, not %s", key, kv[1].Type())
			}
			f.b = bool(bv)
		case "pk":
			s, _ := starlark.AsString(kv[1])
			id, err := uuid.Parse(s)
			if err != nil {
				return nil, fmt.Errorf("“%s” is not a valid UUID.", strings.Trim(kv[1].String(), `"`))
			}
			f.str = id.String()
		default:
			s, ok := starlark.AsString(kv[1])
			if !ok {
				s = kv[1].String()
			}
			f.str = s
		}
		fs = append(fs, f)
	}
	var du *dirUser
	switch u := user.(type) {
	case *dirUser:
		du = u
	case *userValue:
		// A pending_user from the plan context, or a request.user the
		// directory does not hold: its pk names the directory's user.
		fields, err := u.dict()
		if err != nil {
			return nil, err
		}
		pk, _, _ := fields.Get(starlark.String("pk"))
		var n int64
		if fl, ok := pk.(starlark.Float); ok && fl == starlark.Float(int64(fl)) {
			pk = starlark.MakeInt64(int64(fl)) // a pk read from JSON
		}
		if pk == nil || starlark.AsInt(pk, &n) != nil || n == 0 {
			return nil, fmt.Errorf("ak_is_group_member: this user is %w: it is not one of the directory's users", ErrNotYet)
		}
		du = &dirUser{h: hostOf(th), pk: n}
	default:
		return nil, fmt.Errorf("'%s' object has no attribute 'all_groups'", user.Type())
	}
	if _, err := needDir(du.h, "ak_is_group_member"); err != nil {
		return nil, err
	}
	gs, err := du.groupList()
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		ok := true
		for _, f := range fs {
			switch f.field {
			case "pk":
				ok = ok && g.PK.String() == f.str
			case "is_superuser":
				ok = ok && g.IsSuperuser == f.b
			default:
				if f.iexact {
					ok = ok && strings.ToUpper(g.Name) == strings.ToUpper(f.str)
				} else {
					ok = ok && g.Name == f.str
				}
			}
		}
		if ok {
			return starlark.True, nil
		}
	}
	return starlark.False, nil
}

// asMap is the user as the plan context keeps it (pending_user): its
// fields, pk first among them for the planner and the executor.
func (u *dirUser) asMap() (*starlark.Dict, error) {
	d := starlark.NewDict(10)
	_ = d.SetKey(starlark.String("pk"), starlark.MakeInt64(u.pk))
	for _, k := range []string{"username", "name", "email", "uuid", "is_active", "path", "type", "attributes"} {
		v, err := u.Attr(k)
		if err != nil {
			return nil, err
		}
		_ = d.SetKey(starlark.String(k), v)
	}
	return d, nil
}
