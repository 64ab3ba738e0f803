package store_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/store/kv/kvtest"
)

// openViews is a kv.DB that counts the read transactions open in it,
// and whose View panics when told to.
type openViews struct {
	kv.DB
	open  atomic.Int32
	panic atomic.Bool
}

func (d *openViews) View(ctx context.Context, fn func(kv.Tx) error) error {
	if d.panic.Load() {
		panic("the backend's")
	}
	d.open.Add(1)
	defer d.open.Add(-1)
	return d.DB.View(ctx, fn)
}

// panicOf returns what f panicked with, or nil.
func panicOf(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

// On a backend other than boltkv, View runs its function on the caller's
// goroutine while the backend's View runs on another (viewBridged): it
// reads, a Tx kept past it fails, a panic of the function reaches the
// caller after the backend's transaction has ended, and one of the
// backend's reaches the caller too.
func TestViewBridged(t *testing.T) {
	db := &openViews{DB: kvtest.Mem(0)}
	s, err := store.New(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := mkFlow(t, s, "f")
	ctx := t.Context()
	var kept *store.Tx
	err = s.View(ctx, func(tx *store.Tx) error {
		kept = tx
		got, err := store.Flows.Get(tx, store.By("slug", "f"))
		if err == nil && got.PK != f.PK {
			t.Errorf("got flow %s, want %s", got.PK, f.PK)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Flows.Get(kept, store.By("slug", "f")); err == nil {
		t.Error("Flows.Get on a Tx whose View has returned succeeded")
	}

	r := panicOf(func() {
		_ = s.View(ctx, func(*store.Tx) error { panic("mine") })
	})
	if r != "mine" {
		t.Errorf("a View whose function panicked: recovered %v, want mine", r)
	}
	if n := db.open.Load(); n != 0 {
		t.Errorf("%d of the backend's read transactions still open after the panic", n)
	}
	if err := s.View(ctx, func(*store.Tx) error { return nil }); err != nil {
		t.Errorf("a View after the panic: %v", err)
	}

	db.panic.Store(true)
	r = panicOf(func() {
		_ = s.View(ctx, func(*store.Tx) error { return nil })
	})
	if r != "the backend's" {
		t.Errorf("a View whose backend panicked: recovered %v, want the backend's", r)
	}
}
