package directory

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/google/uuid"
)

// RecursionLimit is authentik's GROUP_RECURSION_LIMIT: a walk up the
// hierarchy covers at most this many levels, the starting group included,
// so a group reaches at most RecursionLimit-1 ancestors.
const RecursionLimit = 20

// Lookup finds a group by pk; ok is false when there is none. The
// hierarchy functions call it for every parent they follow, so it should
// be cheap (a read in the store's transaction, or a map).
type Lookup func(pk uuid.UUID) (g Group, ok bool)

// Ancestors returns the groups above g, nearest first: its parent, the
// parent's parent, and so on, up to RecursionLimit-1 of them, as
// authentik's recursive query walks them. A parent that lookup does not
// find ends the walk. Cycles are not refused by authentik (only a group as
// its own parent is), and its walk goes round a cycle until the limit:
// so does this one, and a group in a cycle appears among its own
// ancestors, some groups more than once.
func (g Group) Ancestors(lookup Lookup) []Group {
	var out []Group
	cur := g
	for depth := 1; depth < RecursionLimit && cur.Parent != nil; depth++ {
		p, ok := lookup(*cur.Parent)
		if !ok {
			break
		}
		out = append(out, p)
		cur = p
	}
	return out
}

// AllGroups is authentik's all_groups(): the user's direct groups and
// their ancestors (see [Group.Ancestors]), level by level: every direct
// group first, in the order of u.Groups, then their parents, and so on.
// Like authentik's query (a UNION ALL), it keeps a group reached twice
// twice, which matters only to [User.GroupAttributes]. A direct group
// that lookup does not find is left out.
func (u User) AllGroups(lookup Lookup) []Group {
	level := make([]Group, 0, len(u.Groups))
	for _, pk := range u.Groups {
		if g, ok := lookup(pk); ok {
			level = append(level, g)
		}
	}
	var out []Group
	for depth := 0; depth < RecursionLimit && len(level) > 0; depth++ {
		out = append(out, level...)
		var next []Group
		for _, g := range level {
			if g.Parent == nil {
				continue
			}
			if p, ok := lookup(*g.Parent); ok {
				next = append(next, p)
			}
		}
		level = next
	}
	return out
}

// IsMember is authentik's Group.is_member: whether g is among u's groups
// or their ancestors, so a member of a group below g is a member of g,
// and a member of g is not a member of the groups below it.
func (g Group) IsMember(u User, lookup Lookup) bool {
	for _, x := range u.AllGroups(lookup) {
		if x.PK == g.PK {
			return true
		}
	}
	return false
}

// IsSuperuser is authentik's User.is_superuser: whether some group of
// u's, direct or above, is a superuser group.
func (u User) IsSuperuser(lookup Lookup) bool {
	for _, g := range u.AllGroups(lookup) {
		if g.IsSuperuser {
			return true
		}
	}
	return false
}

// MaxMergedValues bounds the JSON values [User.GroupAttributes] copies
// or appends (each object, list, string, number, boolean and null counts
// one). authentik's merge keeps every repeat of a group and appends
// lists, so a few writes to groups (many groups below one with a long
// list, or a cycle of parents) can make a user's merged attributes
// grow to gigabytes; past this bound the merge stops with ErrTooLarge.
const MaxMergedValues = 1 << 20

// ErrTooLarge is the error of a merge of group attributes past
// [MaxMergedValues].
var ErrTooLarge = errors.New("directory: the merged group attributes are beyond MaxMergedValues")

// GroupAttributes is authentik's group_attributes(): brand's attributes
// (nil when there is no brand), then the attributes of every group of
// [User.AllGroups] in name order, then u's own, each deep-merged over the
// result so far. Objects merge key by key, lists are appended, and any
// other value (or a change of type) replaces: for a scalar key the last
// group by name wins, not the nearest, and the user's own value wins
// over all. A group reached twice is merged twice. Groups of one name are
// taken in pk order. The result shares nothing with the inputs. A merge
// that would copy more than [MaxMergedValues] values stops with an error
// wrapping [ErrTooLarge] and no result.
func (u User) GroupAttributes(lookup Lookup, brand map[string]any) (map[string]any, error) {
	groups := u.AllGroups(lookup)
	sort.SliceStable(groups, func(i, j int) bool {
		if groups[i].Name != groups[j].Name {
			return groups[i].Name < groups[j].Name
		}
		return bytes.Compare(groups[i].PK[:], groups[j].PK[:]) < 0
	})
	m := merger{budget: MaxMergedValues}
	out := map[string]any{}
	m.into(out, brand)
	for _, g := range groups {
		m.into(out, g.Attributes)
	}
	m.into(out, u.Attributes)
	if m.budget < 0 {
		return nil, fmt.Errorf("%w: user %d", ErrTooLarge, u.PK)
	}
	return out, nil
}

// merger is deepmerge's always_merger on JSON values, counting down
// budget by the values it copies; once it is below zero it copies
// nothing more.
type merger struct{ budget int }

// into merges src's keys into dst, which is changed.
func (m *merger) into(dst, src map[string]any) {
	for k, v := range src {
		if m.budget < 0 {
			return
		}
		dst[k] = m.value(dst[k], v, hasKey(dst, k))
	}
}

func hasKey(mp map[string]any, k string) bool { _, ok := mp[k]; return ok }

func (m *merger) value(base, next any, present bool) any {
	if !present {
		return m.clone(next)
	}
	switch n := next.(type) {
	case map[string]any:
		if b, ok := base.(map[string]any); ok {
			m.into(b, n)
			return b
		}
	case []any:
		if b, ok := base.([]any); ok {
			// b is the merge's own copy: appended in place, so that
			// many appends cost their items, not a copy of b each.
			for _, x := range n {
				if m.budget < 0 {
					break
				}
				b = append(b, m.clone(x))
			}
			return b
		}
	}
	return m.clone(next)
}

// clone deep-copies a value as encoding/json decodes it.
func (m *merger) clone(v any) any {
	m.budget--
	if m.budget < 0 {
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = m.clone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = m.clone(e)
		}
		return out
	}
	return v
}
