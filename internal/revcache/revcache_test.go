package revcache_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/revcache"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/kv/kvtest"
	"github.com/google/uuid"
)

var ctx = context.Background()

func open(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "x.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func update(t *testing.T, s *store.Store, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func newFlow(t *testing.T, s *store.Store, slug string) uuid.UUID {
	t.Helper()
	var pk uuid.UUID
	update(t, s, func(tx *store.Tx) error {
		f, err := store.Flows.CreateJSON(tx, []byte(`{"name":"`+slug+`","slug":"`+slug+`","title":"T `+slug+`","designation":"authentication"}`), nil)
		pk = f.PK
		return err
	})
	return pk
}

func patchFlow(t *testing.T, s *store.Store, slug, patch string) {
	t.Helper()
	update(t, s, func(tx *store.Tx) error {
		_, err := store.Flows.Patch(tx, store.By("slug", slug), []byte(patch), nil)
		return err
	})
}

// cached reads flows by slug through m, counting the reads of the store.
type cached struct {
	s     *store.Store
	m     *revcache.Map[string, flow.Flow]
	reads int
}

func (c *cached) title(t *testing.T, slug string) string {
	t.Helper()
	var f flow.Flow
	if err := c.s.View(ctx, func(tx *store.Tx) error {
		var err error
		f, err = c.m.Get(tx, slug, func() (flow.Flow, []uuid.UUID, error) {
			c.reads++
			f, err := store.Flows.Get(tx, store.By("slug", slug))
			return f, []uuid.UUID{f.PK}, err
		})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return f.Title
}

func newCached(t *testing.T, s *store.Store, size int) *cached {
	c := revcache.New(s)
	t.Cleanup(c.Close)
	return &cached{s: s, m: revcache.NewMap[string, flow.Flow](c, size)}
}

// A value is kept across writes that do not touch it, and dropped by
// the commit of one that does: never stale.
func TestFollowsChanges(t *testing.T) {
	s := open(t)
	newFlow(t, s, "a")
	newFlow(t, s, "b")
	c := newCached(t, s, 10)
	if got := c.title(t, "a"); got != "T a" || c.reads != 1 {
		t.Fatalf("title %q, %d reads", got, c.reads)
	}
	// Another object's write moves the revision, not the value.
	patchFlow(t, s, "b", `{"title":"B2"}`)
	newFlow(t, s, "c")
	if got := c.title(t, "a"); got != "T a" || c.reads != 1 {
		t.Fatalf("after other writes: title %q, %d reads; want the kept value", got, c.reads)
	}
	// Its own write drops it.
	patchFlow(t, s, "a", `{"title":"A2"}`)
	if got := c.title(t, "a"); got != "A2" || c.reads != 2 {
		t.Fatalf("after its write: title %q, %d reads", got, c.reads)
	}
	// A rename: the old slug is not served.
	patchFlow(t, s, "a", `{"slug":"a2"}`)
	if err := s.View(ctx, func(tx *store.Tx) error {
		_, err := c.m.Get(tx, "a", func() (flow.Flow, []uuid.UUID, error) {
			c.reads++
			f, err := store.Flows.Get(tx, store.By("slug", "a"))
			return f, []uuid.UUID{f.PK}, err
		})
		return err
	}); err == nil {
		t.Error("the renamed flow's old slug was served")
	}
	if c.m.Len() != 0 {
		t.Errorf("%d values kept, want none", c.m.Len())
	}
}

// A change to an object a value's object refers to (a binding to a flow)
// drops the values read from the flow.
func TestFollowsReferences(t *testing.T) {
	s := open(t)
	fpk := newFlow(t, s, "a")
	c := newCached(t, s, 10)
	c.title(t, "a")
	update(t, s, func(tx *store.Tx) error {
		st, err := tx.Create("authentik_stages_dummy.dummystage", []byte(`{"name":"d"}`), nil)
		if err != nil {
			return err
		}
		_, err = store.Bindings.CreateJSON(tx, []byte(`{"target":"`+fpk.String()+`","stage":"`+st.String()+`","order":1}`), nil)
		return err
	})
	c.title(t, "a")
	if c.reads != 2 {
		t.Errorf("%d reads; a binding added to the flow did not drop it", c.reads)
	}
}

// A transaction older than a kept value reads the store, and what an
// older transaction reads is never kept for newer ones, whether the
// newer value was read first or not.
func TestOlderTransaction(t *testing.T) {
	for _, readFirst := range []bool{true, false} {
		// In memory: a bbolt write may wait for the read transactions
		// open before it.
		s, err := store.New(kvtest.Mem(0), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		newFlow(t, s, "a")
		c := newCached(t, s, 10)
		opened, changed := make(chan struct{}), make(chan struct{})
		var old string
		done := make(chan error, 1)
		go func() {
			done <- s.View(ctx, func(tx *store.Tx) error {
				close(opened)
				<-changed
				f, err := c.m.Get(tx, "a", func() (flow.Flow, []uuid.UUID, error) {
					f, err := store.Flows.Get(tx, store.By("slug", "a"))
					return f, []uuid.UUID{f.PK}, err
				})
				old = f.Title
				return err
			})
		}()
		<-opened
		patchFlow(t, s, "a", `{"title":"new"}`)
		if readFirst {
			if got := c.title(t, "a"); got != "new" {
				t.Fatalf("title %q", got)
			}
		}
		close(changed)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if old != "T a" {
			t.Errorf("readFirst %v: the older transaction got %q, want what it reads itself", readFirst, old)
		}
		if got := c.title(t, "a"); got != "new" {
			t.Errorf("readFirst %v: after the older read: title %q", readFirst, got)
		}
	}
}

// A map holds at most its size.
func TestBound(t *testing.T) {
	s := open(t)
	for _, slug := range []string{"a", "b", "c", "d"} {
		newFlow(t, s, slug)
	}
	c := newCached(t, s, 2)
	for _, slug := range []string{"a", "b", "c", "d"} {
		if got := c.title(t, slug); got != "T "+slug {
			t.Errorf("title %q", got)
		}
	}
	if n := c.m.Len(); n != 2 {
		t.Errorf("%d kept, want 2", n)
	}
}
