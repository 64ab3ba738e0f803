package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/internal/jsonvalue"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// ModelUser is the model of users (authentik_core.user).
const ModelUser = directory.ModelUser

// usersDecl declares users: numbered (the pk is a sequence), with a
// unique username compared exactly, an index of the uuid (which the store
// gives, so no write can take another's), and ordered indexes of
// the case-folded username, email address and attributes.upn, for
// identification's case-insensitive lookups (see Tx.FindUser).
func usersDecl(*stage.Registry, *policy.Registry) *collection {
	return &collection{
		path:   "core/users",
		bucket: "users", model: ModelUser, alias: "user", verbose: "User", codec: userCodec,
		cached: true, clone: cloneUser,
		seq: "pk", key: "pk",
		unique: []uniqueField{{field: "username", bucket: "users_by_username", hash: true}},
		indexes: []index{
			{bucket: "users_by_uuid", fields: []string{"uuid"}},
			{bucket: "users_by_username_ci", fields: []string{foldedUsername}},
			{bucket: "users_by_email_ci", fields: []string{foldedEmail}},
			{bucket: "users_by_upn_ci", fields: []string{foldedUPN}},
			// The default ordering, username: a page of users is read
			// from here, not from a sort of all of them.
			{bucket: "users_by_username_order", fields: []string{"username"}},
		},
		walkOn:    []walkOn{{field: "username"}},
		computed:  []string{foldedUsername, foldedEmail, foldedUPN},
		identify:  []string{"username"},
		view:      viewBy((*Tx).userView),
		typedView: (*Tx).userView,
		list:      listRecords((*Tx).listUsers),
		onCreate:  (*Tx).newUser,
		onRemove:  (*Tx).dropPassword,
	}
}

// The pseudo-fields of a user that its case-insensitive indexes hold:
// the username, the email address and attributes.upn (when a string),
// folded by foldIdentifier.
const (
	foldedUsername = "username__iexact"
	foldedEmail    = "email__iexact"
	foldedUPN      = "upn__iexact"
)

// foldIdentifier is the form in which identifiers compare
// case-insensitively: PostgreSQL's UPPER, which Django's iexact uses.
func foldIdentifier(s string) string { return strings.ToUpper(s) }

// userCodecT is the users' codec: plain, with the folded pseudo-fields
// and authentik's message for a taken username, and a Go value's nil
// groups read as none given.
type userCodecT struct{ plain[directory.User] }

var userCodec = userCodecT{plain[directory.User]{
	defaults: directory.DefaultUser,
	apply:    directory.DecodeUser,
	getIDs:   func(u directory.User) (uuid.UUID, uuid.UUID) { return seqID("users", u.PK), uuid.Nil },
	setIDs:   func(*directory.User, uuid.UUID, uuid.UUID) {},
	setSeq:   func(u *directory.User, n int64) { u.PK = n },
	strOf:    directory.User.String,
}.withSchema()}

func (c userCodecT) value(obj any, field string) (any, bool) {
	u := obj.(directory.User)
	switch field {
	case foldedUsername:
		return foldIdentifier(u.Username), true
	case foldedEmail:
		if u.Email == "" {
			return nil, true // no address: not indexed as one
		}
		return foldIdentifier(u.Email), true
	case foldedUPN:
		if s, ok := u.Attributes["upn"].(string); ok && s != "" {
			return foldIdentifier(s), true
		}
		return nil, true
	}
	return c.plain.value(obj, field)
}

func (userCodecT) uniqueMessage(any) string { return directory.MsgUnique }

func (c userCodecT) body(obj any) (string, []byte, error) {
	if u, ok := obj.(directory.User); ok && u.Groups == nil {
		u.Groups = []uuid.UUID{}
		obj = u
	}
	return c.plain.body(obj)
}

// newUser is the users' onCreate: a new user gets a random uuid (as
// authentik's uuid4), and joins and sets its password now.
func (tx *Tx) newUser(obj any, _ *WriteOptions) (any, error) {
	u := obj.(directory.User)
	u.UUID = uuid.New()
	now := validate.FormatDateTime(tx.s.now())
	u.DateJoined, u.PasswordChangeDate = now, now
	return u, nil
}

// groupLookup is a directory.Lookup over the transaction's groups. The
// first error it meets (damage, a closed store) is kept in *err, and the
// walk sees the group as missing.
func (tx *Tx) groupLookup(err *error) directory.Lookup {
	return func(pk uuid.UUID) (directory.Group, bool) {
		obj, ok, e := tx.get(tx.s.schema.groups, pk)
		if e != nil && *err == nil {
			*err = e
		}
		if !ok || e != nil {
			return directory.Group{}, false
		}
		return obj.(directory.Group), true
	}
}

// userView adds is_superuser (through the groups above the user's too),
// groups_obj (the direct groups), avatar and uid.
func (tx *Tx) userView(u directory.User) (directory.UserView, error) {
	var err error
	lookup := tx.groupLookup(&err)
	v := directory.UserView{User: u, InstallID: tx.s.installID, Avatar: directory.Avatar(u)}
	v.IsSuperuser = u.IsSuperuser(lookup)
	v.GroupsObj = make([]directory.UserGroup, 0, len(u.Groups))
	for _, id := range u.Groups {
		g, err := as[directory.Group](tx.must(tx.s.schema.groups, id))
		if err != nil {
			return v, err
		}
		ug := directory.UserGroup{Group: g}
		if g.Parent != nil {
			if p, ok := lookup(*g.Parent); ok {
				ug.ParentName = &p.Name
			}
		}
		v.GroupsObj = append(v.GroupsObj, ug)
	}
	return v, err
}

// userListing: authentik's UsersFilter, search on username, name,
// is_active, email, uuid and attributes; default ordering username.
// is_superuser (through the direct groups only, as authentik's filter
// reads them) and groups_by_name are computed (see Tx.userListing).
var userListing = listing[directory.User]{
	cols: []column{
		{name: "username", filter: true, search: true, order: true},
		{name: "name", filter: true, search: true, order: true},
		{name: "email", filter: true, search: true, order: true},
		{name: "is_active", kind: colBool, filter: true, search: true, order: true},
		{name: "uuid", kind: colUUID, filter: true, search: true, order: true},
		{name: "attributes", kind: colJSON, filter: true, search: true, order: true},
		{name: "path", filter: true, order: true},
		{name: "path_startswith", field: "path", filter: true, prefix: true},
		{name: "is_superuser", kind: colBool, filter: true},
		{name: "groups_by_pk", kind: colUUID, field: "groups", filter: true, multi: true},
		{name: "groups_by_name", filter: true, multi: true},
		{name: "type", kind: colChoice, choices: strs(directory.UserTypes), filter: true, multi: true, order: true},
		{name: "last_login", kind: colTime, order: true, get: func(obj any) (any, error) { return timeCol(obj.(directory.User).LastLogin) }},
		{name: "date_joined", kind: colTime, order: true, get: func(obj any) (any, error) { u := obj.(directory.User); return timeCol(&u.DateJoined) }},
		{name: "password_change_date", kind: colTime, order: true, get: func(obj any) (any, error) {
			u := obj.(directory.User)
			return timeCol(&u.PasswordChangeDate)
		}},
	},
	defaultOrder: "username",
}

// timeCol is a date-time column's value: microseconds, or nil.
func timeCol(s *string) (any, error) {
	if s == nil {
		return nil, nil
	}
	t, ok := validate.ParseDateTime(*s)
	if !ok {
		return nil, nil
	}
	return t.UnixMicro(), nil
}

// userListing is userListing with its computed columns, which read the
// user's direct groups in tx (each group read once per list, up to a
// bound): is_superuser, whether one of them is a superuser group, and
// groups_by_name, their names. Each value of groups_by_pk and
// groups_by_name must name a group, as in authentik.
func (tx *Tx) userListing() listing[directory.User] {
	seen := map[uuid.UUID]directory.Group{}
	group := func(id uuid.UUID) (directory.Group, error) {
		if g, ok := seen[id]; ok {
			return g, nil
		}
		g, err := as[directory.Group](tx.must(tx.s.schema.groups, id))
		if err != nil {
			return g, Dangling(err)
		}
		if len(seen) < 4096 {
			seen[id] = g
		}
		return g, nil
	}
	groups := tx.s.schema.groups
	return userListing.withKnown(map[string]func(v any) (bool, error){
		"groups_by_pk": func(v any) (bool, error) {
			id, err := uuid.Parse(v.(string))
			if err != nil {
				return false, nil
			}
			return tx.exists(groups.bucket, id)
		},
		"groups_by_name": func(v any) (bool, error) { return tx.named(ModelGroup, "name", v.(string)) },
	}).with(map[string]func(obj any) (any, error){
		"is_superuser": func(obj any) (any, error) {
			for _, id := range obj.(directory.User).Groups {
				g, err := group(id)
				if err != nil || g.IsSuperuser {
					return err == nil, err
				}
			}
			return false, nil
		},
		"groups_by_name": func(obj any) (any, error) {
			u := obj.(directory.User)
			names := make(many, 0, len(u.Groups))
			for _, id := range u.Groups {
				g, err := group(id)
				if err != nil {
					return nil, err
				}
				names = append(names, g.Name)
			}
			return names, nil
		},
	})
}

// listUsers lists users with authentik's filters, search, ordering and
// pagination.
func (tx *Tx) listUsers(q Query) (Page[any], error) {
	c := tx.s.schema.users
	return listOf(tx, c, tx.userListing(), c.walks, nil, q, tx.scanUsers)
}

// scanUsers yields every user whose stored JSON passes pre.
func (tx *Tx) scanUsers(_ map[string]any, pre func([]byte) bool, yield func(obj any) error) error {
	c := tx.s.schema.users
	return tx.scanIndexed(c, c.bucket, nil, 0, pre, yield)
}

// UserPaths returns the distinct paths of the users that q's filters and
// search select, sorted (authentik's GET /core/users/paths/); q's
// ordering and page are not read. It reads every user, and holds the
// distinct paths only.
func (tx *Tx) UserPaths(q Query) ([]string, error) {
	return distinctOf(tx, tx.s.schema.users, tx.userListing(), "path", q, tx.scanUsers)
}

// named reports whether an object of model has the value v in its unique
// field.
func (tx *Tx) named(model, field, v string) (bool, error) {
	_, err := tx.Lookup(model, By(field, v))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// FindUser returns the user with the lowest pk among those whose value
// of some field of q.Fields (username, email, attributes.upn) equals
// q.Identifier: case-insensitively (as PostgreSQL's UPPER compares)
// unless q.CaseSensitive. Each field is one index read, whatever the
// number of users. No match, an empty identifier or no fields is an
// error wrapping ErrNotFound (and directory.ErrNotFound).
func (tx *Tx) FindUser(q directory.Find) (directory.User, error) {
	c := tx.s.schema.users
	var best directory.User // found: a pointer to u would move every u to the heap
	found := false
	if q.Identifier != "" {
		want := foldIdentifier(q.Identifier)
		for _, f := range q.Fields {
			var bucket, pseudo string
			switch f {
			case directory.FieldUsername:
				bucket, pseudo = "users_by_username_ci", foldedUsername
			case directory.FieldEmail:
				bucket, pseudo = "users_by_email_ci", foldedEmail
			case directory.FieldUPN:
				bucket, pseudo = "users_by_upn_ci", foldedUPN
			default:
				return directory.User{}, fmt.Errorf("store: finding a user: %w: no identifier field %q", ErrSchema, f)
			}
			cut := want
			if len(cut) > maxIndexText {
				cut = cut[:maxIndexText]
			}
			prefix := appendValue(nil, cut)
			err := kvScan(tx.kv, bucket, kv.Range{Prefix: prefix}, func(k, _ []byte) (bool, error) {
				if len(k) != len(prefix)+16 {
					return true, nil // a longer value that shares the cut
				}
				obj, err := tx.must(c, idFrom(k[len(prefix):]))
				if err != nil {
					return false, Dangling(err)
				}
				u := obj.(directory.User)
				if found && best.PK <= u.PK {
					return false, nil // entries are in pk order: no lower one follows
				}
				v, _ := c.codec.value(obj, pseudo) // obj, already boxed: u would be boxed anew
				if v != want {
					return true, nil
				}
				if q.CaseSensitive {
					exact := u.Username
					switch f {
					case directory.FieldEmail:
						exact = u.Email
					case directory.FieldUPN:
						exact, _ = u.Attributes["upn"].(string)
					}
					if exact != q.Identifier {
						return true, nil
					}
				}
				best, found = u, true
				return false, nil
			})
			if err != nil {
				return directory.User{}, err
			}
		}
	}
	if !found {
		return directory.User{}, fmt.Errorf("store: finding a user: %w", errors.Join(ErrNotFound, directory.ErrNotFound))
	}
	return best, nil
}

// UserByUUID returns the user whose uuid is id, or an error wrapping
// ErrNotFound (and directory.ErrNotFound).
func (tx *Tx) UserByUUID(id uuid.UUID) (directory.User, error) {
	c := tx.s.schema.users
	var found *directory.User
	err := kvScan(tx.kv, "users_by_uuid", kv.Range{Prefix: id[:]}, func(k, _ []byte) (bool, error) {
		if len(k) != 32 {
			return false, fmt.Errorf("store: users_by_uuid: %w: a key of %d bytes", ErrCorrupt, len(k))
		}
		u, err := as[directory.User](tx.must(c, idFrom(k[16:])))
		if err != nil {
			return false, Dangling(err)
		}
		if u.UUID != id {
			return false, fmt.Errorf("store: users_by_uuid: %w: the entry of %s names user %d", ErrCorrupt, id, u.PK)
		}
		found = &u
		return false, nil
	})
	if err != nil {
		return directory.User{}, err
	}
	if found == nil {
		return directory.User{}, fmt.Errorf("store: user %s: %w", id, errors.Join(ErrNotFound, directory.ErrNotFound))
	}
	return *found, nil
}

// cloneUser copies a user's attributes, groups and last_login, so that
// the copy shares nothing a caller can change.
func cloneUser(obj any) any {
	u := obj.(directory.User)
	u.Attributes = jsonvalue.CloneMap(u.Attributes)
	u.Groups = slices.Clone(u.Groups)
	if u.LastLogin != nil {
		l := *u.LastLogin
		u.LastLogin = &l
	}
	return u
}
