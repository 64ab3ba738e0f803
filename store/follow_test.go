package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/internal/boltkv"
	"github.com/authflow/authflow/store/kv"
)

// shared plays a backend that another process also writes: it notifies
// on demand, and its reads can be made to fail, as when it is out of
// reach.
type shared struct {
	kv.DB
	changed chan struct{}
	fail    atomic.Bool
}

func (s *shared) Changed() <-chan struct{} { return s.changed }

func (s *shared) View(ctx context.Context, fn func(kv.Tx) error) error {
	if s.fail.Load() {
		return errors.New("backend out of reach")
	}
	return s.DB.View(ctx, fn)
}

// A store that could not read the log when told of another process's
// commit tries again by itself, and delivers the commit once it can,
// without waiting for another notification.
func TestFollowRetries(t *testing.T) {
	db, err := boltkv.Open(filepath.Join(t.TempDir(), "f.db"), boltkv.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	sh := &shared{DB: db, changed: make(chan struct{}, 1)}
	a, err := store.New(sh, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.New(db, nil) // the other process
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	sh.fail.Store(true)
	mkFlow(t, b, "elsewhere")
	sh.changed <- struct{}{}
	time.Sleep(100 * time.Millisecond)
	if got := a.Delivered(); got != 0 {
		t.Fatalf("delivered %d while the log could not be read", got)
	}
	sh.fail.Store(false) // and no further notification
	for deadline := time.Now().Add(5 * time.Second); a.Delivered() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("delivered %d 5s after the backend came back, want 1", a.Delivered())
		}
	}
}
