package directory

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Facts are what the planner and policies read about a user from its
// directory: its groups with their ancestors, whether it is a
// superuser, and its merged group attributes.
type Facts struct {
	// Groups are the pks of the user's direct groups and their
	// ancestors, in the order of [User.AllGroups] (direct groups first,
	// then their parents, level by level), each once: a group reached
	// twice is kept where it is first reached.
	Groups []uuid.UUID
	// Superuser is [User.IsSuperuser]: some group of Groups is a
	// superuser group.
	Superuser bool
	// Attributes are [User.GroupAttributes] without a brand: the
	// attributes of the groups in name order, then the user's own,
	// deep-merged. They share nothing with the directory's values.
	Attributes map[string]any
}

// FactsOf reads the [Facts] of u from d: it looks up each group of u's
// and each ancestor with d.Group, at most [RecursionLimit] levels up,
// and each group once. A group d does not find (ErrNotFound) is left
// out, as the hierarchy functions leave out a group their Lookup does
// not find; any other error of d.Group ends the walk and is returned,
// wrapped, with zero Facts, and so is a merge of attributes past
// MaxMergedValues (ErrTooLarge).
func FactsOf(ctx context.Context, d Directory, u User) (Facts, error) {
	return FactsFrom(u, func(pk uuid.UUID) (Group, error) { return d.Group(ctx, pk) })
}

// FactsFrom is FactsOf with groups read by get, for a caller that reads
// them its own way (the planner, in its store transaction, noting each
// group it reads). get is called once per group at most; an error
// wrapping ErrNotFound leaves the group out, any other ends the walk.
func FactsFrom(u User, get func(pk uuid.UUID) (Group, error)) (Facts, error) {
	var failed error
	seen := map[uuid.UUID]Group{}
	missing := map[uuid.UUID]bool{}
	lookup := func(pk uuid.UUID) (Group, bool) {
		if failed != nil {
			return Group{}, false
		}
		if g, ok := seen[pk]; ok {
			return g, true
		}
		if missing[pk] {
			return Group{}, false
		}
		g, err := get(pk)
		switch {
		case err == nil:
			seen[pk] = g
			return g, true
		case errors.Is(err, ErrNotFound):
			missing[pk] = true
		default:
			failed = err
		}
		return Group{}, false
	}
	all := u.AllGroups(lookup)
	if failed != nil {
		return Facts{}, fmt.Errorf("directory: groups of user %d: %w", u.PK, failed)
	}
	f := Facts{Groups: make([]uuid.UUID, 0, len(all))}
	once := make(map[uuid.UUID]bool, len(all))
	for _, g := range all {
		f.Superuser = f.Superuser || g.IsSuperuser
		if !once[g.PK] {
			once[g.PK] = true
			f.Groups = append(f.Groups, g.PK)
		}
	}
	// Every group GroupAttributes reaches is already in seen or missing:
	// it reads no more through get.
	attrs, err := u.GroupAttributes(lookup, nil)
	if err != nil {
		return Facts{}, err
	}
	f.Attributes = attrs
	return f, nil
}
