package directory_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/google/uuid"
)

// groups is an in-memory group table for the hierarchy functions.
type groups map[uuid.UUID]directory.Group

func (m groups) lookup(pk uuid.UUID) (directory.Group, bool) { g, ok := m[pk]; return g, ok }

// add stores a group named name with the given parent (uuid.Nil for none)
// and returns its pk, derived from the name.
func (m groups) add(name string, parent uuid.UUID, attrs map[string]any) uuid.UUID {
	pk := uuid.NewSHA1(uuid.NameSpaceOID, []byte(name))
	g := directory.Group{PK: pk, Name: name, Attributes: attrs}
	if parent != uuid.Nil {
		p := parent
		g.Parent = &p
	}
	m[pk] = g
	return pk
}

func (m groups) setParent(child, parent uuid.UUID) {
	g := m[child]
	g.Parent = &parent
	m[child] = g
}

func names(gs []directory.Group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Name
	}
	return out
}

// TestMembership ports test_groups.py's membership cases: a member of a
// child is a member of its parent, not of the child's child.
func TestMembership(t *testing.T) {
	m := groups{}
	parent := m.add("parent", uuid.Nil, nil)
	child := m.add("child", parent, nil)
	grandchild := m.add("grandchild", child, nil)
	u := directory.User{Groups: []uuid.UUID{child}}
	for pk, want := range map[uuid.UUID]bool{parent: true, child: true, grandchild: false} {
		if got := m[pk].IsMember(u, m.lookup); got != want {
			t.Errorf("%s.IsMember = %v, want %v", m[pk].Name, got, want)
		}
	}
	if got := names(u.AllGroups(m.lookup)); !reflect.DeepEqual(got, []string{"child", "parent"}) {
		t.Errorf("AllGroups = %q", got)
	}
	if got := names(m[grandchild].Ancestors(m.lookup)); !reflect.DeepEqual(got, []string{"child", "parent"}) {
		t.Errorf("Ancestors = %q", got)
	}
	if got := (directory.User{}).AllGroups(m.lookup); len(got) != 0 {
		t.Errorf("no groups: AllGroups = %q", names(got))
	}
}

// TestDepthLimit: a chain of 21 groups; a member of the bottom one reaches
// 20 levels (itself and 19 ancestors), never the top.
func TestDepthLimit(t *testing.T) {
	m := groups{}
	pks := make([]uuid.UUID, 21)
	parent := uuid.Nil
	for i := range pks { // pks[0] is the top
		pks[i] = m.add(fmt.Sprintf("g%02d", i), parent, nil)
		parent = pks[i]
	}
	bottom := m[pks[20]]
	u := directory.User{Groups: []uuid.UUID{bottom.PK}}
	all := u.AllGroups(m.lookup)
	if len(all) != directory.RecursionLimit {
		t.Errorf("AllGroups has %d groups, want %d", len(all), directory.RecursionLimit)
	}
	if m[pks[0]].IsMember(u, m.lookup) {
		t.Error("member of the group 20 levels up")
	}
	if !m[pks[1]].IsMember(u, m.lookup) {
		t.Error("not a member of the group 19 levels up")
	}
	if anc := bottom.Ancestors(m.lookup); len(anc) != directory.RecursionLimit-1 || anc[len(anc)-1].PK != pks[1] {
		t.Errorf("Ancestors = %q", names(anc))
	}
	// Superuser status follows the same limit.
	top := m[pks[0]]
	top.IsSuperuser = true
	m[pks[0]] = top
	if u.IsSuperuser(m.lookup) {
		t.Error("superuser through a group 20 levels up")
	}
	second := m[pks[1]]
	second.IsSuperuser = true
	m[pks[1]] = second
	if !u.IsSuperuser(m.lookup) {
		t.Error("not superuser through a group 19 levels up")
	}
}

// TestCycles: authentik refuses only a group as its own parent; a longer
// cycle is walked round until the depth limit, and the walk ends.
func TestCycles(t *testing.T) {
	m := groups{}
	a := m.add("a", uuid.Nil, map[string]any{"l": []any{"a"}})
	b := m.add("b", a, map[string]any{"l": []any{"b"}})
	m.setParent(a, b)
	u := directory.User{Groups: []uuid.UUID{a}}
	all := u.AllGroups(m.lookup)
	if len(all) != directory.RecursionLimit {
		t.Fatalf("AllGroups has %d groups, want %d", len(all), directory.RecursionLimit)
	}
	for i, g := range all {
		if want := []string{"a", "b"}[i%2]; g.Name != want {
			t.Errorf("AllGroups[%d] = %s, want %s", i, g.Name, want)
		}
	}
	if anc := m[a].Ancestors(m.lookup); len(anc) != directory.RecursionLimit-1 || anc[1].PK != a {
		t.Errorf("Ancestors of a = %q", names(anc))
	}
	if !m[b].IsMember(u, m.lookup) {
		t.Error("not a member of b")
	}
	// Each occurrence is merged: ten a's, then ten b's, lists appended.
	got := attributes(t, u, m, nil)["l"].([]any)
	if len(got) != 20 || got[0] != "a" || got[9] != "a" || got[10] != "b" || got[19] != "b" {
		t.Errorf("l = %v", got)
	}

	// A group as its own parent (which a write refuses) ends too.
	self := m.add("self", uuid.Nil, nil)
	m.setParent(self, self)
	if n := len((directory.User{Groups: []uuid.UUID{self}}).AllGroups(m.lookup)); n != directory.RecursionLimit {
		t.Errorf("self-parent: %d groups", n)
	}
}

// TestMissingGroups: a direct group or a parent that lookup does not find
// is left out, and the walk stops there.
func TestMissingGroups(t *testing.T) {
	m := groups{}
	gone := uuid.MustParse("deadbeef-0000-4000-8000-000000000000")
	orphan := m.add("orphan", gone, nil)
	u := directory.User{Groups: []uuid.UUID{gone, orphan}}
	if got := names(u.AllGroups(m.lookup)); !reflect.DeepEqual(got, []string{"orphan"}) {
		t.Errorf("AllGroups = %q", got)
	}
	if got := m[orphan].Ancestors(m.lookup); len(got) != 0 {
		t.Errorf("Ancestors = %q", names(got))
	}
}

// TestDuplicates: a user directly in a group and in its child reaches the
// group twice, as authentik's UNION ALL does.
func TestDuplicates(t *testing.T) {
	m := groups{}
	p := m.add("p", uuid.Nil, map[string]any{"l": []any{1}})
	c := m.add("c", p, nil)
	u := directory.User{Groups: []uuid.UUID{p, c}}
	if got := names(u.AllGroups(m.lookup)); !reflect.DeepEqual(got, []string{"p", "c", "p"}) {
		t.Errorf("AllGroups = %q", got)
	}
	if got := attributes(t, u, m, nil)["l"]; !reflect.DeepEqual(got, []any{1, 1}) {
		t.Errorf("l = %v", got)
	}
}

// TestGroupAttributes: brand, then groups by name, then the user; objects
// merge, lists append, scalars are replaced, so for a scalar the
// alphabetically last group wins over the nearest one, and the user wins
// over all.
func TestGroupAttributes(t *testing.T) {
	m := groups{}
	zeta := m.add("zeta", uuid.Nil, map[string]any{"color": "zeta", "tags": []any{"zeta"}, "nested": map[string]any{"z": 1, "both": "zeta"}})
	alpha := m.add("alpha", zeta, map[string]any{"color": "alpha", "tags": []any{"alpha"}, "nested": map[string]any{"a": 1, "both": "alpha"}, "kind": map[string]any{"x": 1}})
	middle := m.add("middle", uuid.Nil, map[string]any{"kind": "scalar now", "only": "middle"})
	u := directory.User{
		Groups:     []uuid.UUID{alpha, middle},
		Attributes: map[string]any{"only": "user", "tags": []any{"user"}},
	}
	brand := map[string]any{"color": "brand", "tags": []any{"brand"}, "brand": true}
	got := attributes(t, u, m, brand)
	want := map[string]any{
		"color":  "zeta", // zeta sorts last; alpha is nearer but loses
		"tags":   []any{"brand", "alpha", "zeta", "user"},
		"nested": map[string]any{"a": 1, "z": 1, "both": "zeta"},
		"kind":   "scalar now", // a change of type replaces
		"only":   "user",
		"brand":  true,
	}
	if !reflect.DeepEqual(got, want) {
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(want)
		t.Errorf("GroupAttributes =\n %s\nwant\n %s", a, b)
	}

	// The result shares nothing with the inputs.
	got["nested"].(map[string]any)["a"] = "changed"
	got["tags"].([]any)[0] = "changed"
	if m[alpha].Attributes["nested"].(map[string]any)["a"] != 1 || brand["tags"].([]any)[0] != "brand" {
		t.Error("the result shares memory with the inputs")
	}
	again := attributes(t, u, m, brand)
	if !reflect.DeepEqual(again, want) {
		t.Errorf("second call differs: %v", again)
	}

	// No brand, no groups: the user's own attributes, copied.
	lone := directory.User{Attributes: map[string]any{"k": []any{"v"}}}
	if got := attributes(t, lone, m, nil); !reflect.DeepEqual(got, lone.Attributes) {
		t.Errorf("lone user: %v", got)
	}
}

// TestGroupAttributesSameName: groups of one name are merged in pk order,
// so the result does not depend on the order of the user's groups.
func TestGroupAttributesSameName(t *testing.T) {
	m := groups{}
	one := uuid.MustParse("00000000-0000-4000-8000-000000000001")
	two := uuid.MustParse("00000000-0000-4000-8000-000000000002")
	m[one] = directory.Group{PK: one, Name: "same", Attributes: map[string]any{"v": "one"}}
	m[two] = directory.Group{PK: two, Name: "same", Attributes: map[string]any{"v": "two"}}
	for _, order := range [][]uuid.UUID{{one, two}, {two, one}} {
		u := directory.User{Groups: order}
		if got := attributes(t, u, m, nil)["v"]; got != "two" {
			t.Errorf("groups %v: v = %v", order, got)
		}
	}
}

// attributes is u's GroupAttributes, failing the test on an error.
func attributes(t *testing.T, u directory.User, m groups, brand map[string]any) map[string]any {
	t.Helper()
	got, err := u.GroupAttributes(m.lookup, brand)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
