package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/internal/boltkv"
	"github.com/authflow/authflow/store/kv"
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
	return s, path
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
