package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// ModelGroup is the model of groups (authentik_core.group).
const ModelGroup = directory.ModelGroup

// groupsDecl declares groups, with a unique name (among all groups,
// whatever their parent) and a parent that deleting sets to null.
//
// Membership is stored once, on the users' side (a user's groups, which
// the reference index indexes): a group's users are read from that
// index, and a write that sets them writes the users it adds or removes,
// in the same transaction. The stored group holds no users.
func groupsDecl(*stage.Registry, *policy.Registry) *collection {
	return &collection{
		path:   "core/groups",
		bucket: "groups", model: ModelGroup, alias: "group", verbose: "Group", codec: groupCodec,
		unique: []uniqueField{{field: "name", bucket: "groups_by_name", hash: true}},
		// The default ordering, name.
		indexes:    []index{{bucket: "groups_by_name_order", fields: []string{"name"}}},
		walkOn:     []walkOn{{field: "name"}},
		view:       viewBy((*Tx).groupView),
		typedView:  (*Tx).groupView,
		list:       listRecords((*Tx).listGroups),
		onWrite:    (*Tx).checkMembers,
		afterWrite: (*Tx).setMembers,
	}
}

// groupCodecT is the groups' codec: plain, with authentik's message for a
// taken name; a stored group holds no users (see groupsDecl), and a Go
// value's nil users are read as none given.
type groupCodecT struct{ plain[directory.Group] }

var groupCodec = groupCodecT{plain[directory.Group]{
	defaults: directory.DefaultGroup,
	apply:    directory.DecodeGroup,
	getIDs:   func(g directory.Group) (uuid.UUID, uuid.UUID) { return g.PK, uuid.Nil },
	setIDs:   func(g *directory.Group, pk, _ uuid.UUID) { g.PK = pk },
	strOf:    directory.Group.String,
}.withSchema()}

func (groupCodecT) uniqueMessage(any) string { return directory.MsgUnique }

func (c groupCodecT) encode(obj any) ([]byte, error) {
	g := obj.(directory.Group)
	g.Users = nil
	return c.plain.encode(g)
}

// load reads a stored group with nil users: the write that keeps them
// (a patch without users) tells itself apart by that.
func (c groupCodecT) load(raw []byte) (any, error) {
	obj, err := c.plain.load(raw)
	if g, ok := obj.(directory.Group); ok {
		g.Users = nil
		obj = g
	}
	return obj, err
}

func (c groupCodecT) body(obj any) (string, []byte, error) {
	kind, b, err := c.plain.body(obj)
	if g, ok := obj.(directory.Group); ok && err == nil && g.Users == nil {
		// No users given: a create sets none, a replace too (as a body
		// without users does).
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return "", nil, err
		}
		delete(m, "users")
		b, err = json.Marshal(m)
	}
	return kind, b, err
}

// members are the pks of the users directly in the group with record id
// pk, in pk order.
func (tx *Tx) members(pk uuid.UUID) ([]directory.User, error) {
	ids, err := tx.referrers(pk, refField{tx.s.schema.users, "groups"})
	if err != nil {
		return nil, err
	}
	out := make([]directory.User, 0, len(ids))
	for _, id := range ids {
		u, err := as[directory.User](tx.must(tx.s.schema.users, id))
		if err != nil {
			return nil, Dangling(err)
		}
		out = append(out, u)
	}
	return out, nil
}

// checkMembers is the groups' onWrite: every user a write names exists
// (authentik's message for the first that does not).
func (tx *Tx) checkMembers(_, next any) error {
	g := next.(directory.Group)
	for _, n := range g.Users {
		ok, err := tx.exists(tx.s.schema.users.bucket, seqID(tx.s.schema.users.bucket, n))
		if err != nil {
			return err
		}
		if !ok {
			e := &validate.Error{}
			e.Add("users", validate.DoesNotExist(strconv.FormatInt(n, 10)))
			return e
		}
	}
	return nil
}

// setMembers is the groups' afterWrite: when the write set the group's
// users (a create, a replace, or a patch that sends them), the users it
// adds and removes are written with the group added to or removed from
// their groups.
func (tx *Tx) setMembers(obj any) error {
	g := obj.(directory.Group)
	if g.Users == nil {
		return nil // a patch without users
	}
	uc := tx.s.schema.users
	cur, err := tx.members(g.PK)
	if err != nil {
		return err
	}
	// Sets, not slices: a write of n users to a group of m members
	// compares n+m times, not n×m.
	wanted := make(map[int64]bool, len(g.Users))
	for _, n := range g.Users {
		wanted[n] = true
	}
	have := make(map[int64]bool, len(cur))
	for _, u := range cur {
		have[u.PK] = true
	}
	for _, u := range cur {
		if !wanted[u.PK] {
			next := u
			next.Groups = slices.DeleteFunc(slices.Clone(u.Groups), func(id uuid.UUID) bool { return id == g.PK })
			if err := tx.put(uc, u, next); err != nil {
				return err
			}
		}
	}
	for _, n := range g.Users {
		if have[n] {
			continue
		}
		u, err := as[directory.User](tx.must(uc, seqID(uc.bucket, n)))
		if err != nil {
			return err
		}
		next := u
		next.Groups = append(slices.Clone(u.Groups), g.PK)
		if err := tx.put(uc, u, next); err != nil {
			return err
		}
	}
	return nil
}

// SetMember makes the user numbered user a direct member of the group
// that key finds (member true) or not one (false), as authentik's
// add_user and remove_user do: it writes that user's groups alone, so
// its cost does not grow with the group's members, and runs none of the
// users' write rules (a group's write of its users does not either).
// changed reports whether anything was written: adding a member or
// removing a non-member changes nothing. o's precondition is on the
// group. An unknown group or user is an error wrapping ErrNotFound.
func (tx *Tx) SetMember(key Key, user int64, member bool, o *WriteOptions) (changed bool, err error) {
	if err := tx.canWrite(); err != nil {
		return false, err
	}
	gc, uc := tx.s.schema.groups, tx.s.schema.users
	gid, err := tx.Lookup(ModelGroup, key)
	if err != nil {
		return false, err
	}
	g, err := tx.must(gc, gid)
	if err != nil {
		return false, err
	}
	if err := tx.precondition(gc, g, o); err != nil {
		return false, err
	}
	cur, err := tx.must(uc, seqID(uc.bucket, user))
	if err != nil {
		return false, fmt.Errorf("store: user %d: %w", user, err)
	}
	u := cur.(directory.User)
	if slices.Contains(u.Groups, gid) == member {
		return false, nil
	}
	next := u
	next.Groups = slices.DeleteFunc(slices.Clone(u.Groups), func(id uuid.UUID) bool { return id == gid })
	if member {
		next.Groups = append(next.Groups, gid)
	}
	return true, tx.put(uc, u, next)
}

// groupView adds num_pk's source, parent_name, users (from the users'
// side) and users_obj.
func (tx *Tx) groupView(g directory.Group) (directory.GroupView, error) {
	v := directory.GroupView{Group: g, InstallID: tx.s.installID}
	if g.Parent != nil {
		p, err := as[directory.Group](tx.must(tx.s.schema.groups, *g.Parent))
		if err != nil {
			return v, err
		}
		v.ParentName = &p.Name
	}
	members, err := tx.members(g.PK)
	if err != nil {
		return v, err
	}
	v.Users = make([]int64, len(members))
	for i, u := range members {
		v.Users[i] = u.PK
	}
	v.UsersObj = members
	return v, nil
}

// groupListing: authentik's GroupFilter (name, is_superuser, the
// attributes filter, and the direct members by pk or username, which
// are computed: see Tx.groupListing), search on name and is_superuser,
// default ordering name (its index's).
var groupListing = listing[directory.Group]{
	cols: []column{
		{name: "group_uuid", kind: colUUID, field: "pk"},
		{name: "name", filter: true, search: true, order: true},
		{name: "is_superuser", kind: colBool, filter: true, search: true, order: true},
		{name: "attributes", kind: colJSON, filter: true, order: true},
		{name: "members_by_pk", kind: colInt, filter: true, multi: true},
		{name: "members_by_username", filter: true, multi: true},
	},
	defaultOrder: "name",
}

// groupListing is groupListing with its computed columns, which read the
// group's direct members in tx: members_by_pk, their pks, and
// members_by_username, their usernames. Each value of either must name a
// user, as in authentik.
func (tx *Tx) groupListing() listing[directory.Group] {
	members := func(obj any, of func(directory.User) any) (any, error) {
		us, err := tx.members(obj.(directory.Group).PK)
		if err != nil {
			return nil, err
		}
		out := make(many, len(us))
		for i, u := range us {
			out[i] = of(u)
		}
		return out, nil
	}
	users := tx.s.schema.users
	return groupListing.withKnown(map[string]func(v any) (bool, error){
		"members_by_pk": func(v any) (bool, error) {
			n, _ := v.(int64)
			return tx.exists(users.bucket, seqID(users.bucket, n))
		},
		"members_by_username": func(v any) (bool, error) { return tx.named(ModelUser, "username", v.(string)) },
	}).with(map[string]func(obj any) (any, error){
		// The pks come from the reference index alone: no user is read.
		"members_by_pk": func(obj any) (any, error) {
			ids, err := tx.referrers(obj.(directory.Group).PK, refField{tx.s.schema.users, "groups"})
			if err != nil {
				return nil, err
			}
			out := make(many, len(ids))
			for i, id := range ids {
				out[i] = seqNumber(id)
			}
			return out, nil
		},
		"members_by_username": func(obj any) (any, error) {
			return members(obj, func(u directory.User) any { return u.Username })
		},
	})
}

// seqNumber is the number of the object whose record id is id, in a
// collection whose pk is a sequence (the inverse of seqID).
func seqNumber(id uuid.UUID) int64 { return int64(binary.BigEndian.Uint32(id[12:])) }

// listGroups lists groups with authentik's filters, search, ordering and
// pagination.
func (tx *Tx) listGroups(q Query) (Page[any], error) {
	c := tx.s.schema.groups
	return listOf(tx, c, tx.groupListing(), c.walks, nil, q,
		func(filters map[string]any, pre func([]byte) bool, yield func(obj any) error) error {
			return tx.scanWalk(c, c.walks, nil, filters, pre, yield)
		})
}
