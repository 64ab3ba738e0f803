package store_test

import (
	"context"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authflow/authflow/store"
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
