package directory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/google/uuid"
)

// amplifier is a hierarchy whose merged attributes grow as the product
// of its sizes: n groups below p, p and q parents of each other (a cycle
// authentik does not refuse), p with a list of items values. A user in
// the n groups reaches p ten times through each (authentik's walk keeps
// every repeat), and its list is appended as often.
func amplifier(n, items int) (groups, directory.User) {
	m := groups{}
	list := make([]any, items)
	for i := range list {
		list[i] = float64(i)
	}
	q := m.add("q", uuid.Nil, nil)
	p := m.add("p", q, map[string]any{"l": list})
	m.setParent(q, p)
	u := directory.User{PK: 1}
	for i := range n {
		u.Groups = append(u.Groups, m.add(fmt.Sprint("g", i), p, nil))
	}
	return m, u
}

// Merging group attributes is bounded: past MaxMergedValues values it
// stops with ErrTooLarge instead of building what a few writes to
// groups can make a gigabyte (here 1,000 appends of a list of 2,000);
// FactsOf returns the error. A merge within the bound is unchanged.
func TestGroupAttributesBounded(t *testing.T) {
	m, u := amplifier(100, 2000)
	if _, err := u.GroupAttributes(m.lookup, nil); !errors.Is(err, directory.ErrTooLarge) {
		t.Errorf("GroupAttributes: %v, want ErrTooLarge", err)
	}
	small, su := amplifier(3, 10)
	got, err := su.GroupAttributes(small.lookup, nil)
	if err != nil || len(got["l"].([]any)) != 3*10*10 {
		t.Errorf("within the bound: %d values, %v", len(got["l"].([]any)), err)
	}

	// Through a directory: 600 groups below one with a list of 2,000.
	d, err := memdir.New(memdir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	list := make([]any, 2000)
	for i := range list {
		list[i] = float64(i)
	}
	top, err := d.AddGroup(directory.Group{Name: "top", Attributes: map[string]any{"l": list}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []uuid.UUID
	for i := range 600 {
		g, err := d.AddGroup(directory.Group{Name: fmt.Sprint("g", i), Parent: &top.PK})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.PK)
	}
	created, err := d.CreateUser(ctx, directory.User{Username: "u", Path: "users", Type: directory.UserTypeInternal, Groups: ids})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := directory.FactsOf(ctx, d, created); !errors.Is(err, directory.ErrTooLarge) {
		t.Errorf("FactsOf: %v, want ErrTooLarge", err)
	}
}
