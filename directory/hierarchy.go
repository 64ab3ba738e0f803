package directory

import (
	"bytes"
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

// GroupAttributes is authentik's group_attributes(): brand's attributes
// (nil when there is no brand), then the attributes of every group of
// [User.AllGroups] in name order, then u's own, each deep-merged over the
// result so far. Objects merge key by key, lists are appended, and any
// other value (or a change of type) replaces: for a scalar key the last
// group by name wins, not the nearest, and the user's own value wins
// over all. A group reached twice is merged twice. Groups of one name are
// taken in pk order. The result shares nothing with the inputs.
func (u User) GroupAttributes(lookup Lookup, brand map[string]any) map[string]any {
	groups := u.AllGroups(lookup)
	sort.SliceStable(groups, func(i, j int) bool {
		if groups[i].Name != groups[j].Name {
			return groups[i].Name < groups[j].Name
		}
		return bytes.Compare(groups[i].PK[:], groups[j].PK[:]) < 0
	})
	out := map[string]any{}
	mergeInto(out, brand)
	for _, g := range groups {
		mergeInto(out, g.Attributes)
	}
	mergeInto(out, u.Attributes)
	return out
}

// mergeInto is deepmerge's always_merger on JSON values: src's keys are
// merged into dst, which is changed.
func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		dst[k] = mergeValue(dst[k], v, hasKey(dst, k))
	}
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func mergeValue(base, next any, present bool) any {
	if !present {
		return cloneJSON(next)
	}
	switch n := next.(type) {
	case map[string]any:
		if b, ok := base.(map[string]any); ok {
			mergeInto(b, n)
			return b
		}
	case []any:
		if b, ok := base.([]any); ok {
			out := make([]any, 0, len(b)+len(n))
			out = append(out, b...)
			for _, x := range n {
				out = append(out, cloneJSON(x))
			}
			return out
		}
	}
	return cloneJSON(next)
}

// cloneJSON deep-copies a value as encoding/json decodes it.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneJSON(e)
		}
		return out
	}
	return v
}
