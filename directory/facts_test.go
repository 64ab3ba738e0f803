package directory_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/google/uuid"
)

// groupsOnly is a Directory that answers Group from a map, counting
// calls, and fails for the pks in fail; its other methods are not
// called by FactsOf.
type groupsOnly struct {
	directory.Directory
	groups map[uuid.UUID]directory.Group
	fail   map[uuid.UUID]error
	calls  map[uuid.UUID]int
}

func (d *groupsOnly) Group(_ context.Context, pk uuid.UUID) (directory.Group, error) {
	d.calls[pk]++
	if err := d.fail[pk]; err != nil {
		return directory.Group{}, err
	}
	g, ok := d.groups[pk]
	if !ok {
		return directory.Group{}, fmt.Errorf("group %s: %w", pk, directory.ErrNotFound)
	}
	return g, nil
}

func newGroupsOnly(gs ...directory.Group) *groupsOnly {
	d := &groupsOnly{groups: map[uuid.UUID]directory.Group{}, fail: map[uuid.UUID]error{}, calls: map[uuid.UUID]int{}}
	for _, g := range gs {
		d.groups[g.PK] = g
	}
	return d
}

func group(n byte, name string, parent *uuid.UUID, attrs map[string]any) directory.Group {
	return directory.Group{PK: uuid.UUID{15: n}, Name: name, Parent: parent, Attributes: attrs}
}

// Two direct groups under one parent: the parent is read once and
// listed once, though GroupAttributes merges it twice, as authentik does.
func TestFactsOfDiamond(t *testing.T) {
	top := group(1, "top", nil, map[string]any{"l": []any{"top"}})
	top.IsSuperuser = true
	a := group(2, "a", &top.PK, nil)
	b := group(3, "b", &top.PK, nil)
	d := newGroupsOnly(top, a, b)
	u := directory.User{PK: 1, Groups: []uuid.UUID{b.PK, a.PK}}
	f, err := directory.FactsOf(context.Background(), d, u)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uuid.UUID{b.PK, a.PK, top.PK}; !slices.Equal(f.Groups, want) {
		t.Errorf("Groups = %v, want %v", f.Groups, want)
	}
	if !f.Superuser {
		t.Error("not a superuser")
	}
	if want := map[string]any{"l": []any{"top", "top"}}; !reflect.DeepEqual(f.Attributes, want) {
		t.Errorf("Attributes = %v, want %v", f.Attributes, want)
	}
	for pk, n := range d.calls {
		if n != 1 {
			t.Errorf("group %s read %d times, want once", pk, n)
		}
	}
}

// A cycle is walked to the limit, each group read once and listed once.
func TestFactsOfCycle(t *testing.T) {
	pa, pb := uuid.UUID{15: 1}, uuid.UUID{15: 2}
	d := newGroupsOnly(group(1, "a", &pb, nil), group(2, "b", &pa, nil))
	f, err := directory.FactsOf(context.Background(), d, directory.User{Groups: []uuid.UUID{pa}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Groups, []uuid.UUID{pa, pb}) || d.calls[pa] != 1 || d.calls[pb] != 1 {
		t.Errorf("Groups = %v, calls %v", f.Groups, d.calls)
	}
}

// A group the directory does not find is left out; any other error is
// returned, and no facts with it.
func TestFactsOfErrors(t *testing.T) {
	top := group(1, "top", nil, nil)
	top.IsSuperuser = true
	mid := group(2, "mid", &top.PK, nil)
	missing := uuid.UUID{15: 9}
	d := newGroupsOnly(top, mid)
	u := directory.User{PK: 7, Groups: []uuid.UUID{missing, mid.PK}}
	f, err := directory.FactsOf(context.Background(), d, u)
	if err != nil || !slices.Equal(f.Groups, []uuid.UUID{mid.PK, top.PK}) || !f.Superuser {
		t.Errorf("missing group: %+v, %v", f, err)
	}

	down := errors.New("backend down")
	d.fail[top.PK] = down
	clear(d.calls)
	f, err = directory.FactsOf(context.Background(), d, u)
	if !errors.Is(err, down) || errors.Is(err, directory.ErrNotFound) {
		t.Errorf("err = %v, want one wrapping the directory's", err)
	}
	if f.Groups != nil || f.Superuser || f.Attributes != nil {
		t.Errorf("facts with an error: %+v", f)
	}
	if d.calls[top.PK] != 1 {
		t.Errorf("the failing group read %d times, want once (no read after an error)", d.calls[top.PK])
	}
}
