package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

func revision(t testing.TB, s *store.Store) int64 {
	t.Helper()
	var rev int64
	if err := s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		rev, err = tx.Revision()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return rev
}

func objectRevision(t testing.TB, s *store.Store, model string, pk uuid.UUID) int64 {
	t.Helper()
	var rev int64
	if err := s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		rev, err = tx.ObjectRevision(model, pk)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return rev
}

// watchAll reads the changes after `after` that are in the log now.
func watchAll(t testing.TB, s *store.Store, after int64) ([]store.Change, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var out []store.Change
	for c, err := range s.Watch(ctx, after) {
		if errors.Is(err, context.DeadlineExceeded) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, nil
}

func summary(cs []store.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%d %s %s", c.Revision, c.Op, c.Model))
	}
	return out
}

// Every write transaction that changes something takes the next revision,
// recorded on the objects it wrote; one that changes nothing (a rejected
// write, a patch to the same values) takes none.
func TestRevisions(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if got := revision(t, s); got != 0 {
		t.Fatalf("new store at revision %d", got)
	}
	f := mkFlow(t, s, "a")
	if got := revision(t, s); got != 1 {
		t.Fatalf("after a create: %d", got)
	}
	if got := objectRevision(t, s, store.ModelFlow, f.PK); got != 1 {
		t.Errorf("flow at %d", got)
	}
	if _, err := patchIn(ctx, s, store.Flows, store.By("slug", "a"), []byte(`{"title":"T2"}`)); err != nil {
		t.Fatal(err)
	}
	if got := objectRevision(t, s, store.ModelFlow, f.PK); got != 2 {
		t.Errorf("patched flow at %d", got)
	}
	if _, err := patchIn(ctx, s, store.Flows, store.By("slug", "a"), []byte(`{"title":"T2"}`)); err != nil {
		t.Fatalf("same-value patch: %v", err)
	}
	if cs, err := watchAll(t, s, 2); revision(t, s) != 2 || len(cs) != 0 || err != nil {
		t.Errorf("a same-value patch took revision %d, logged %q (%v)", revision(t, s), summary(cs), err)
	}
	if err := wantUnchanged(t, s, func() error {
		_, err := patchIn(ctx, s, store.Flows, store.By("slug", "a"), []byte(`{"designation":"nope"}`))
		return err
	}); err == nil {
		t.Fatal("bad patch accepted")
	}
	st := mkUserWrite(t, s, "w")
	if got := objectRevision(t, s, store.ModelStage, st.PK); got != 3 {
		t.Errorf("stage at %d", got)
	}
	if got := objectRevision(t, s, store.ModelFlow, f.PK); got != 2 {
		t.Errorf("flow moved to %d by another object's write", got)
	}
	// Created and deleted in one transaction: nothing happened.
	if err := s.Update(ctx, func(tx *store.Tx) error {
		pk, err := tx.Create(store.ModelFlow, []byte(`{"name":"x","slug":"x","title":"x","designation":"authentication"}`), nil)
		if err != nil {
			return err
		}
		return tx.Delete(store.ModelFlow, pk, nil)
	}); err != nil {
		t.Fatal(err)
	}
	if got := revision(t, s); got != 3 {
		t.Errorf("create+delete took revision %d", got)
	}
}

// IfRevision makes a write conditional on the object's revision.
func TestIfRevision(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	f := mkFlow(t, s, "a")
	patch := func(rev int64, title string) error {
		return s.Update(ctx, func(tx *store.Tx) error {
			if err := tx.IfRevision(store.ModelFlow, f.PK, rev); err != nil {
				return err
			}
			return tx.Patch(store.ModelFlow, f.PK, []byte(`{"title":"`+title+`"}`), nil)
		})
	}
	if err := patch(1, "one"); err != nil {
		t.Fatalf("matching revision: %v", err)
	}
	if err := wantUnchanged(t, s, func() error { return patch(1, "two") }); !errors.Is(err, store.ErrRevision) {
		t.Fatalf("stale revision: %v", err)
	}
	if err := patch(2, "two"); err != nil {
		t.Fatalf("current revision: %v", err)
	}
	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "a")); err != nil {
		t.Fatal(err)
	}
	if err := patch(3, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
}

// Watch yields every change in order, with the objects each referred to,
// and then waits for new ones.
func TestWatch(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	f := mkFlow(t, s, "a")
	st := mkUserWrite(t, s, "w")
	b := mkBinding(t, s, f.PK, st.PK, 10)
	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "a")); err != nil {
		t.Fatal(err)
	}
	got, err := watchAll(t, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1 created authentik_flows.flow",
		"2 created authentik_stages_user_write.userwritestage",
		"3 created authentik_flows.flowstagebinding",
		"4 deleted authentik_flows.flow",
		"4 deleted authentik_flows.flowstagebinding",
	}
	if !slices.Equal(summary(got), want) {
		t.Fatalf("changes = %q, want %q", summary(got), want)
	}
	if c := got[2]; c.PK != b.PK || c.Collection != store.ModelBinding || !slices.Contains(c.Refs, f.PK) || !slices.Contains(c.Refs, st.PK) {
		t.Errorf("binding change %+v", c)
	}
	if got, _ := watchAll(t, s, 3); len(got) != 2 {
		t.Errorf("after 3: %q", summary(got))
	}

	// A watcher waiting at the end hears of the next commit.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	next := make(chan store.Change, 1)
	go func() {
		for c, err := range s.Watch(wctx, 4) {
			if err == nil {
				next <- c
			}
			return
		}
	}()
	time.Sleep(20 * time.Millisecond)
	mkFlow(t, s, "b")
	select {
	case c := <-next:
		if c.Revision != 5 || c.Op != store.OpCreated {
			t.Errorf("woke with %+v", c)
		}
	case <-wctx.Done():
		t.Fatal("the watcher did not wake")
	}

	// Closing the store ends a watch.
	done := make(chan error, 1)
	go func() {
		for _, err := range s.Watch(ctx, 5) {
			done <- err
			return
		}
	}()
	time.Sleep(20 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("watch on a closed store: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the watch")
	}
}

// The log keeps Options.ChangeLog revisions; a watch from before them
// fails with ErrCompacted.
func TestWatchCompacted(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "c.db"), &store.Options{NoSync: true, ChangeLog: 3})
	for i := range 10 {
		mkFlow(t, s, fmt.Sprint("f", i))
	}
	if _, err := watchAll(t, s, 0); !errors.Is(err, store.ErrCompacted) {
		t.Errorf("watch from 0: %v", err)
	}
	if _, err := watchAll(t, s, 6); !errors.Is(err, store.ErrCompacted) {
		t.Errorf("watch from 6: %v", err)
	}
	got, err := watchAll(t, s, 7)
	if err != nil || len(got) != 3 || got[0].Revision != 8 {
		t.Errorf("watch from 7: %q %v", summary(got), err)
	}
}

// OnChange hears of every revision once, in order, under concurrent
// writers.
func TestOnChangeOrder(t *testing.T) {
	s := newTestStore(t)
	var mu sync.Mutex
	var revs []int64
	stop := s.OnChange(func(rev int64, cs []store.Change) {
		mu.Lock()
		defer mu.Unlock()
		if len(cs) == 0 || cs[0].Revision != rev {
			t.Errorf("revision %d delivered with %v", rev, cs)
		}
		revs = append(revs, rev)
	})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				mkFlow(t, s, fmt.Sprintf("w%d-%d", w, i))
			}
		}()
	}
	wg.Wait()
	stop()
	mkFlow(t, s, "after")
	mu.Lock()
	defer mu.Unlock()
	if len(revs) != 100 {
		t.Fatalf("%d deliveries", len(revs))
	}
	for i, r := range revs {
		if r != int64(i+1) {
			t.Fatalf("delivery %d is revision %d", i, r)
		}
	}
	if got := s.Delivered(); got != 101 {
		t.Errorf("Delivered = %d", got)
	}
}

// A file of format 2 opens, its records at revision 0, and takes
// revisions from its next write.
func TestFormat2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	s := openTestStore(t, path, &store.Options{NoSync: true})
	f := mkFlow(t, s, "a")
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return store.DowngradeToFormat2(tx)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s = openTestStore(t, path, &store.Options{NoSync: true})
	if got := objectRevision(t, s, store.ModelFlow, f.PK); got != 0 {
		t.Errorf("format-2 record at revision %d", got)
	}
	if _, err := patchIn(context.Background(), s, store.Flows, store.By("slug", "a"), []byte(`{"title":"new"}`)); err != nil {
		t.Fatal(err)
	}
	if got := objectRevision(t, s, store.ModelFlow, f.PK); got != 1 {
		t.Errorf("rewritten record at revision %d", got)
	}
	checkInvariants(t, s)
}

// WriteOptions.UnchangedSince (store.Since) makes a write conditional on
// its object's revision; Tx.OnCommit reports the revision a write
// committed at.
func TestUnchangedSince(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	a := store.By("slug", "a")
	mkFlow(t, s, "a") // revision 1
	mkFlow(t, s, "b") // revision 2
	var rev int64
	if err := s.Update(ctx, func(tx *store.Tx) error {
		tx.OnCommit(func(r int64) { rev = r })
		_, err := store.Flows.Patch(tx, a, []byte(`{"title":"x"}`), store.Since(1))
		return err
	}); err != nil || rev != 3 {
		t.Fatalf("unchanged since 1: %v, committed at %d", err, rev)
	}
	if err := wantUnchanged(t, s, func() error {
		return s.Update(ctx, func(tx *store.Tx) error {
			_, err := store.Flows.Patch(tx, a, []byte(`{"title":"y"}`), store.Since(2))
			return err
		})
	}); !errors.Is(err, store.ErrRevision) {
		t.Fatalf("changed at 3, since 2: %v", err)
	}
	if err := wantUnchanged(t, s, func() error {
		return s.Update(ctx, func(tx *store.Tx) error { return store.Flows.Delete(tx, a, store.Since(2)) })
	}); !errors.Is(err, store.ErrRevision) {
		t.Fatalf("delete: %v", err)
	}
	if err := s.Update(ctx, func(tx *store.Tx) error { return store.Flows.Delete(tx, a, store.Since(3)) }); err != nil {
		t.Fatalf("delete since 3: %v", err)
	}
}

// The log's newest entries stay in a bucket small enough for bbolt to
// keep inline (so that most commits write no page for the log), and move
// to the main bucket in batches; Watch reads across both, in order.
func TestChangeLogRecentInline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.db")
	s := openTestStore(t, path, &store.Options{NoSync: true})
	mkFlow(t, s, "a")
	for i := range 100 {
		if _, err := patchIn(context.Background(), s, store.Flows, store.By("slug", "a"), fmt.Appendf(nil, `{"title":"t%d"}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	var revs []int64
	for ch, err := range s.Watch(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, ch.Revision)
		if ch.Revision == 101 {
			break
		}
	}
	for i, r := range revs {
		if r != int64(i+1) {
			t.Fatalf("Watch from 0 yields revisions %v", revs)
		}
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		recent, main := tx.Bucket([]byte("changes_recent")), tx.Bucket([]byte("changes"))
		if recent == nil || main == nil {
			t.Fatalf("buckets: recent %v, main %v", recent, main)
		}
		if root := recent.Root(); root != 0 {
			t.Errorf("the recent bucket has a page of its own (%d), not inline", root)
		}
		n, m := recent.Stats().KeyN, main.Stats().KeyN
		if n == 0 || m == 0 || n+m != 101 {
			t.Errorf("%d recent and %d older entries, want some of each and 101 in all", n, m)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A file of format 3 (its whole log in one bucket) opens, and its log
// and revisions go on.
func TestFormat3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3.db")
	s := openTestStore(t, path, &store.Options{NoSync: true})
	mkFlow(t, s, "a")
	mkFlow(t, s, "b")
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(store.DowngradeToFormat3); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s = openTestStore(t, path, &store.Options{NoSync: true})
	if got := revision(t, s); got != 2 {
		t.Fatalf("format-3 file at revision %d, want 2", got)
	}
	mkFlow(t, s, "c")
	var revs []int64
	for ch, err := range s.Watch(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, ch.Revision)
		if ch.Revision == 3 {
			break
		}
	}
	if !slices.Equal(revs, []int64{1, 2, 3}) {
		t.Errorf("Watch from 0: %v", revs)
	}
	checkInvariants(t, s)
}

// However long it runs, the log holds no more than its retention and an
// eighth.
func TestChangeLogBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	s := openTestStore(t, path, &store.Options{NoSync: true, ChangeLog: 16})
	mkFlow(t, s, "a")
	for i := range 300 {
		if _, err := patchIn(context.Background(), s, store.Flows, store.By("slug", "a"), fmt.Appendf(nil, `{"title":"t%d"}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := watchAll(t, s, 301-16); err != nil || len(got) != 16 {
		t.Errorf("watch of the last 16 revisions: %d changes, %v", len(got), err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		n := tx.Bucket([]byte("changes")).Stats().KeyN + tx.Bucket([]byte("changes_recent")).Stats().KeyN
		if n < 16 || n > 18 {
			t.Errorf("the log holds %d entries, want 16 to 18", n)
		}
		return nil
	})
}
