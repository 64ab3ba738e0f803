package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/kv"
	bolt "go.etcd.io/bbolt"
)

// Aside's buckets are prefixed, beside the configuration: writing them
// bumps no revision, Check and a reopen accept them, and they persist.
func TestAside(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "authflow.db")
	s := openTestStore(t, path, nil)
	mkFlow(t, s, "before")
	rev := revision(t, s)
	if err := s.Aside().Update(ctx, func(tx kv.Tx) error {
		return tx.Put("runstate", []byte("k"), []byte("v"))
	}); err != nil {
		t.Fatalf("Aside Update: %v", err)
	}
	if got := revision(t, s); got != rev {
		t.Errorf("revision after an Aside write = %d, want %d", got, rev)
	}
	for _, p := range s.Check(ctx) {
		t.Errorf("Check: %v", p)
	}
	if err := s.Aside().Close(); err != nil {
		t.Errorf("Aside Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The bucket is named with the prefix in the file.
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error { names = append(names, string(name)); return nil })
	})
	db.Close()
	if !slices.Contains(names, store.AsidePrefix+"runstate") {
		t.Errorf("buckets %q lack %q", names, store.AsidePrefix+"runstate")
	}

	s = openTestStore(t, path, nil)
	var got []byte
	if err := s.Aside().View(ctx, func(tx kv.Tx) error {
		v, err := tx.Get("runstate", []byte("k"))
		got = slices.Clone(v)
		return err
	}); err != nil || string(got) != "v" {
		t.Errorf("after a reopen, Get = %q, %v; want v", got, err)
	}
	// Aside reaches no bucket of the configuration.
	var n int
	if err := s.Aside().View(ctx, func(tx kv.Tx) error {
		return tx.Scan("authentik_flows.flow", kv.Range{}, func(k, v []byte) (bool, error) { n++; return true, nil })
	}); err != nil || n != 0 {
		t.Errorf("Aside Scan of the flows' bucket: %d keys, %v; want none", n, err)
	}
	for _, p := range s.Check(ctx) {
		t.Errorf("Check after a reopen: %v", p)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Aside().View(ctx, func(kv.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Aside View on a closed store: %v, want ErrClosed", err)
	}
	if err := s.Aside().Update(ctx, func(kv.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Aside Update on a closed store: %v, want ErrClosed", err)
	}

	ro := openTestStore(t, path, &store.Options{ReadOnly: true})
	if err := ro.Aside().Update(ctx, func(kv.Tx) error { return nil }); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("Aside Update on a read-only store: %v, want ErrReadOnly", err)
	}
	if err := ro.Aside().View(ctx, func(kv.Tx) error { return nil }); err != nil {
		t.Errorf("Aside View on a read-only store: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := ro.Aside().View(cancelled, func(kv.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Aside View with a cancelled context: %v", err)
	}
}
