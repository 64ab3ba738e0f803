package store_test

import (
	"strconv"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/store"
)

// A read transaction that finds a user among thousands (a walk down
// branch pages) allocates a small, bounded number of objects: bbolt's
// page checks allocate nothing (bbolt v1.4.3's boxed their arguments at
// every page visited: 27 and 52 allocations here, some 30 of a login's
// 540), and an empty one allocates bbolt's three and its Tx, the
// wrappers between them being recycled (six before). Scans and gets keep
// their keys and functions on the stack (a find cost 27 before).
func TestReadAllocs(t *testing.T) {
	if testutil.Race {
		t.Skip("the race detector makes sync.Pool drop what it keeps")
	}
	s, _ := dirStore(t)
	var pk int64
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		for i := range 3000 {
			u := directory.DefaultUser()
			u.Username = "user" + strconv.Itoa(i)
			out, err := store.Users.Create(tx, u, nil)
			if err != nil {
				return err
			}
			pk = out.PK
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var findAllocs float64
	find := directory.Find{Identifier: "user1500", Fields: []directory.Field{directory.FieldUsername}}
	for _, c := range []struct {
		name string
		max  float64
		f    func(tx *store.Tx) error
	}{
		{"empty", 4, func(*store.Tx) error { return nil }},
		{"user", 14, func(tx *store.Tx) error { _, err := tx.Directory().User(ctx, pk); return err }},
		{"find", 24, func(tx *store.Tx) error { _, err := tx.FindUser(find); return err }},
	} {
		n := testing.AllocsPerRun(50, func() {
			if err := s.View(ctx, c.f); err != nil {
				t.Fatal(err)
			}
		})
		if n > c.max {
			t.Errorf("%s: %v allocations, want at most %v", c.name, n, c.max)
		}
		if c.name == "find" {
			findAllocs = n
		}
	}
	// View keeps nothing of its function, so the closure and what it
	// captures stay on the caller's stack: a user read into a variable
	// of the caller's costs no more than one into a variable of fn's own.
	var found directory.User
	n := testing.AllocsPerRun(50, func() {
		err := s.View(ctx, func(tx *store.Tx) error {
			var err error
			found, err = tx.FindUser(find)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	if n > findAllocs {
		t.Errorf("find into the caller's variable: %v allocations, want at most find's %v", n, findAllocs)
	}
	_ = found
}
