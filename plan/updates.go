package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// ErrUpdate is wrapped by the error of an Update that ApplyUpdates
// cannot apply as it stands: a model updates do not write, no filter, or
// a field a filter cannot match or a write cannot set. A value the store
// refuses is its *validate.Error instead.
var ErrUpdate = errors.New("plan: cannot apply the update")

// updatable is a model that updates may write, with the record type
// whose JSON fields they name.
type updatable struct {
	record reflect.Type
	// check validates a merge patch of the record's fields on its own,
	// for an update that matches no object (so a bad value is an error
	// whether or not it matched).
	check func(patch []byte) error
	// all lists the pks of every object, for a filter on fields that
	// are not unique.
	all func(tx *store.Tx) ([]uuid.UUID, error)
}

// updatables are the models updates may write: flows, the one model
// authentik's shipped expressions update (the initial-setup flow).
var updatables = map[string]updatable{
	store.ModelFlow: {
		record: reflect.TypeFor[flow.Flow](),
		check: func(patch []byte) error {
			_, err := flow.ApplyPatch(flow.New("x", "x", "x", flow.DesignationAuthentication), patch)
			return err
		},
		all: func(tx *store.Tx) ([]uuid.UUID, error) {
			var out []uuid.UUID
			for page := 1; page != 0; {
				p, err := store.Flows.List(tx, store.Query{Page: page, PageSize: store.MaxPageSize})
				if err != nil {
					return nil, err
				}
				for _, v := range p.Results {
					out = append(out, v.PK)
				}
				page = p.Pagination.Next
			}
			return out, nil
		},
	},
}

// UpdateFields returns the fields an Update of model may name, as the
// store names them (its JSON form): in Filter, those the store matches
// exactly, "pk" included; in Set, those a write (a PATCH) sets. Both are
// nil for a model updates do not write; store.ModelFlow is the only one
// they do.
func UpdateFields(model string) (filter, set []string) {
	f, ok := updateFields()[model]
	if !ok {
		return nil, nil
	}
	return slices.Clone(f[0]), slices.Clone(f[1])
}

// updateFields is UpdateFields of every model, read from the record
// types' tags once: expressions ask on every update().
var updateFields = sync.OnceValue(func() map[string][2][]string {
	out := make(map[string][2][]string, len(updatables))
	for model, u := range updatables {
		filter, set := []string{"pk"}, []string{}
		for i := range u.record.NumField() {
			f := u.record.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			if slices.Contains(strings.Split(f.Tag.Get("af"), ","), "readonly") {
				continue
			}
			filter = append(filter, name)
			set = append(set, name)
		}
		sort.Strings(filter)
		sort.Strings(set)
		out[model] = [2][]string{filter, set}
	}
	return out
})

// ApplyUpdates applies ups, the Updates of a plan, in one write
// transaction of s, in order: each as an RFC 7396 merge patch of Set on
// every object of its Model whose fields equal Filter, so that
// validation, revisions and the change feed apply as for any write. An
// update that matches no object writes nothing, as Django's does. It
// fails, writing nothing at all, when an update's Model is not one
// updates write (flows only: UpdateFields), its Filter is empty (which
// would write every object) or names a field the store cannot match, or
// its Set names a field a write does not set (a PATCH would ignore it
// silently), each wrapping ErrUpdate, or when the store refuses a value
// (a *validate.Error). The filter's values compare as the store's
// Tx.Find compares them: "pk" and a unique field (a flow's slug) are
// looked up directly, any other field by reading every object.
//
// The executor (issue 21) calls it once the step that planned the
// updates has committed; nothing else applies them: the API's plan
// endpoint and "authflow plan" show a plan's updates and never apply
// them.
func ApplyUpdates(ctx context.Context, s *store.Store, ups []Update) error {
	if len(ups) == 0 {
		return nil
	}
	patches := make([][]byte, len(ups))
	for i, u := range ups {
		p, err := checkUpdate(u)
		if err != nil {
			return err
		}
		patches[i] = p
	}
	return s.Update(ctx, func(tx *store.Tx) error {
		for i, u := range ups {
			pks, err := matching(tx, s, u)
			if err != nil {
				return err
			}
			if len(pks) == 0 {
				if err := updatables[u.Model].check(patches[i]); err != nil {
					return fmt.Errorf("plan: update of policy %q: %w", u.Policy, err)
				}
			}
			for _, pk := range pks {
				if err := tx.Patch(u.Model, pk, patches[i], nil); err != nil {
					return fmt.Errorf("plan: update of policy %q: %w", u.Policy, err)
				}
			}
		}
		return nil
	})
}

// checkUpdate checks u's model and fields and returns its Set as a
// merge patch.
func checkUpdate(u Update) ([]byte, error) {
	filter, set := UpdateFields(u.Model)
	if filter == nil {
		return nil, fmt.Errorf("%w: policy %q: updates do not write %q", ErrUpdate, u.Policy, u.Model)
	}
	if len(u.Filter) == 0 {
		return nil, fmt.Errorf("%w: policy %q: an update of %s needs a filter", ErrUpdate, u.Policy, u.Model)
	}
	for _, f := range sortedKeys(u.Filter) {
		if !slices.Contains(filter, f) {
			return nil, fmt.Errorf("%w: policy %q: %s cannot be filtered on %q (only %s)", ErrUpdate, u.Policy, u.Model, f, strings.Join(filter, ", "))
		}
	}
	if len(u.Set) == 0 {
		return nil, fmt.Errorf("%w: policy %q: an update of %s sets no field", ErrUpdate, u.Policy, u.Model)
	}
	for _, f := range sortedKeys(u.Set) {
		if !slices.Contains(set, f) {
			return nil, fmt.Errorf("%w: policy %q: a write of %s does not set %q (only %s)", ErrUpdate, u.Policy, u.Model, f, strings.Join(set, ", "))
		}
	}
	p, err := json.Marshal(u.Set)
	if err != nil {
		return nil, fmt.Errorf("%w: policy %q: %v", ErrUpdate, u.Policy, err)
	}
	return p, nil
}

// matching returns the pks of the objects of u.Model whose fields equal
// u.Filter: through Tx.Find when the filter names the pk or a unique
// field (one object at most), and otherwise by asking Tx.Find of each
// object in turn.
func matching(tx *store.Tx, s *store.Store, u Update) ([]uuid.UUID, error) {
	_, direct := u.Filter["pk"]
	for _, c := range s.Collections() {
		if c.Model != u.Model {
			continue
		}
		for _, f := range c.Unique {
			if _, ok := u.Filter[f]; ok {
				direct = true
			}
		}
	}
	if direct {
		pk, ok, err := tx.Find(u.Model, u.Filter)
		if err != nil || !ok {
			return nil, err
		}
		return []uuid.UUID{pk}, nil
	}
	all, err := updatables[u.Model].all(tx)
	if err != nil {
		return nil, err
	}
	var out []uuid.UUID
	for _, pk := range all {
		want := make(map[string]any, len(u.Filter)+1)
		for k, v := range u.Filter {
			want[k] = v
		}
		want["pk"] = pk.String()
		_, ok, err := tx.Find(u.Model, want)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, pk)
		}
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
