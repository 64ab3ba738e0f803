package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/internal/boltkv"
	"github.com/authflow/authflow/store/kv"
	"github.com/google/uuid"
)

// seamOpen opens a new store file for the tests of this file.
func seamOpen(t *testing.T, name string) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), name), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// doneWatcher is a context that records whether anything waited on it.
type doneWatcher struct {
	context.Context
	waited atomic.Bool
}

func (c *doneWatcher) Done() <-chan struct{} {
	c.waited.Store(true)
	return c.Context.Done()
}

// The store does not queue read transactions (bounding concurrency is the
// host's business): with many more reads open than there are cores, one
// more starts at once, without waiting on its context for a turn.
func TestViewsDoNotQueue(t *testing.T) {
	s := seamOpen(t, "views.db")
	n := 2*runtime.GOMAXPROCS(0) + 2
	entered, release := make(chan struct{}, n), make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.View(context.Background(), func(*store.Tx) error {
				entered <- struct{}{}
				<-release
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	for range n {
		<-entered
	}
	ctx := &doneWatcher{Context: context.Background()}
	ran := false
	err := s.View(ctx, func(tx *store.Tx) error {
		ran = true
		_, err := tx.Revision()
		return err
	})
	close(release)
	wg.Wait()
	if err != nil || !ran {
		t.Fatalf("a read beside %d open ones: ran %v, %v", n, ran, err)
	}
	if ctx.waited.Load() {
		t.Errorf("a read beside %d open ones waited on its context for a turn", n)
	}
}

// seamNew makes a store over db, a wrapper of a new bbolt file's kv.DB.
func seamNew(t *testing.T, wrap func(kv.DB) kv.DB) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seam.db")
	return seamOpenKV(t, path, wrap), path
}

// plainDB hides every optional capability of the DB it wraps.
type plainDB struct{ kv.DB }

// checkingDB is a kv.DB whose own check finds one problem.
type checkingDB struct{ kv.DB }

var errBackendProblem = fmt.Errorf("page 7 is odd: %w", kv.ErrCorrupt)

func (checkingDB) Check(context.Context) []error { return []error{errBackendProblem} }

// Check reports the problems that a backend which is a kv.Checker finds
// in itself.
func TestCheckAsksAChecker(t *testing.T) {
	s, _ := seamNew(t, func(db kv.DB) kv.DB { return checkingDB{db} })
	got := s.Check(context.Background())
	if len(got) != 1 || !errors.Is(got[0], errBackendProblem) {
		t.Errorf("Check = %v, want the backend's problem", got)
	}
	s, _ = seamNew(t, func(db kv.DB) kv.DB { return plainDB{db} })
	if got := s.Check(context.Background()); got != nil {
		t.Errorf("Check of a sound store on a backend that cannot check itself = %v", got)
	}
}

// seamOpenKV opens the store file at path over its bbolt kv.DB, wrapped.
func seamOpenKV(t *testing.T, path string, wrap func(kv.DB) kv.DB) *store.Store {
	t.Helper()
	db, err := boltkv.Open(path, boltkv.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.New(wrap(db), nil)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func asIs(db kv.DB) kv.DB    { return db }
func hideAll(db kv.DB) kv.DB { return plainDB{db} }

// seamTitles numbers the titles seamWrites patches in, so that each
// patch changes the flow.
var seamTitles atomic.Int64

// seamWrites creates a flow (when pk is nil) or patches it, n times in
// all, one transaction each, and returns its pk.
func seamWrites(t *testing.T, s *store.Store, pk *uuid.UUID, n int) uuid.UUID {
	t.Helper()
	for range n {
		err := s.Update(context.Background(), func(tx *store.Tx) error {
			if pk == nil {
				id, err := tx.Create(store.ModelFlow, []byte(`{"name":"F","slug":"f","title":"T","designation":"authentication"}`), nil)
				pk = &id
				return err
			}
			return tx.Patch(store.ModelFlow, *pk, fmt.Appendf(nil, `{"title":"T%d"}`, seamTitles.Add(1)), nil)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return *pk
}

// logCounts returns the number of entries in the change log's main and
// recent buckets of the (closed) store file at path.
func logCounts(t *testing.T, path string) (main, recent int) {
	t.Helper()
	db, err := boltkv.Open(path, boltkv.Options{NoSync: true, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(context.Background(), func(tx kv.Tx) error {
		for b, n := range map[string]*int{"changes": &main, "changes_recent": &recent} {
			if err := tx.Scan(b, kv.Range{}, func(_, _ []byte) (bool, error) { *n++; return true, nil }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return main, recent
}

// watchRevisions returns the revisions of the changes after 0 up to last,
// the store's revision.
func watchRevisions(t *testing.T, s *store.Store, last int64) []int64 {
	t.Helper()
	var rev int64
	if err := s.View(context.Background(), func(tx *store.Tx) (err error) { rev, err = tx.Revision(); return err }); err != nil || rev != last {
		t.Fatalf("the store is at revision %d (%v), want %d", rev, err, last)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // against a hang, should the log lack an entry
	defer cancel()
	var revs []int64
	for ch, err := range s.Watch(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, ch.Revision)
		if ch.Revision >= last {
			break
		}
	}
	return revs
}

func wantRevisions(t *testing.T, got []int64, n int) {
	t.Helper()
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Watch from 0 yields revisions %v, want 1 to %d", got, n)
	}
}

// On a backend that is no kv.Inliner, the change log is one bucket: the
// recent bucket (bbolt's inline one) stays empty.
func TestChangeLogOnAPlainBackend(t *testing.T) {
	s, path := seamNew(t, hideAll)
	seamWrites(t, s, nil, 40)
	wantRevisions(t, watchRevisions(t, s, 40), 40)
	if problems := s.Check(context.Background()); problems != nil {
		t.Errorf("Check: %v", problems)
	}
	s.Close()
	if main, recent := logCounts(t, path); main != 40 || recent != 0 {
		t.Errorf("the log holds %d entries in its main bucket and %d in the recent one, want 40 and 0", main, recent)
	}
}

// A log whose newest entries a kv.Inliner kept in the recent bucket reads
// in order on a backend that is none, whose first write moves them to
// the main bucket; and back on the inliner, the log goes on in order.
func TestChangeLogFromAnInlinerToAPlainBackend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.db")
	s := seamOpenKV(t, path, asIs)
	pk := seamWrites(t, s, nil, 3)
	s.Close()
	if main, recent := logCounts(t, path); main != 0 || recent != 3 {
		t.Fatalf("on bbolt, 3 small entries: %d in the main bucket and %d in the recent one, want 0 and 3", main, recent)
	}

	s = seamOpenKV(t, path, hideAll)
	wantRevisions(t, watchRevisions(t, s, 3), 3)
	seamWrites(t, s, &pk, 1)
	wantRevisions(t, watchRevisions(t, s, 4), 4)
	if problems := s.Check(context.Background()); problems != nil {
		t.Errorf("Check: %v", problems)
	}
	s.Close()
	if main, recent := logCounts(t, path); main != 4 || recent != 0 {
		t.Errorf("after a write on a plain backend: %d entries in the main bucket and %d in the recent one, want 4 and 0", main, recent)
	}

	s = seamOpenKV(t, path, asIs)
	seamWrites(t, s, &pk, 1)
	wantRevisions(t, watchRevisions(t, s, 5), 5)
	if problems := s.Check(context.Background()); problems != nil {
		t.Errorf("Check: %v", problems)
	}
	s.Close()
	if main, recent := logCounts(t, path); main != 4 || recent != 1 {
		t.Errorf("back on bbolt: %d entries in the main bucket and %d in the recent one, want 4 and 1", main, recent)
	}
}
