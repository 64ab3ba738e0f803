package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authflow/authflow/etcd"
	"github.com/authflow/authflow/etcd/internal/etcdtest"
	"github.com/authflow/authflow/store/kv"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
)

func rawClient(t *testing.T, c *etcdtest.Cluster) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// increment adds one to the counter at b/n, counting its runs.
func increment(runs *atomic.Int32) func(kv.Tx) error {
	return func(tx kv.Tx) error {
		runs.Add(1)
		v, err := tx.Get("b", []byte("n"))
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(string(v))
		return tx.Put("b", []byte("n"), []byte(strconv.Itoa(n+1)))
	}
}

// lostAnswer runs one increment through a proxy that drops etcd's answer
// to its commit, restores the connection once the commit had time to
// apply, and returns Update's error and the counter in etcd.
func lostAnswer(t *testing.T, c *etcdtest.Cluster, prefix string) (error, string) {
	t.Helper()
	ctx := context.Background()
	p := newProxy(t, c.Members[0].ClientURL)
	db, err := etcd.Open(ctx, etcd.Config{Endpoints: []string{p.URL()}, Prefix: prefix, RequestTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var once atomic.Bool
	etcd.SetBeforeCommit(db, func() {
		if once.CompareAndSwap(false, true) {
			p.dropDown.Store(true)
		}
	})
	var runs atomic.Int32
	done := make(chan error, 1)
	go func() { done <- db.Update(ctx, increment(&runs)) }()
	time.Sleep(300 * time.Millisecond)
	p.heal()
	p.cut()
	err = <-done
	r, gerr := rawClient(t, c).Get(ctx, prefix+"b/n")
	if gerr != nil || len(r.Kvs) == 0 {
		t.Fatalf("counter: %v %v", r, gerr)
	}
	return err, string(r.Kvs[0].Value)
}

// A cut-off commit's outcome is learnt from the guard's history after the
// snapshot, which etcd keeps however long ago the guard was last written
// (an idle prefix on a compacted cluster) and whatever came before (a
// guard deleted by wiping the prefix).
func TestResolveHistory(t *testing.T) {
	ctx := context.Background()
	c := etcdtest.Start(t, 1, nil)
	cli := rawClient(t, c)
	compact := func() {
		for range 5 {
			cli.Put(ctx, "elsewhere", "x")
		}
		r, _ := cli.Get(ctx, "elsewhere")
		if _, err := cli.Compact(ctx, r.Header.Revision); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		setup func(prefix string)
	}{
		{"IdlePrefixCompacted", func(prefix string) {
			db := openDB(t, c, prefix)
			var runs atomic.Int32
			if err := db.Update(ctx, increment(&runs)); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if _, err := cli.Delete(ctx, prefix+"b/n"); err != nil {
				t.Fatal(err)
			}
			compact()
		}},
		{"NewPrefixCompacted", func(string) { compact() }},
		{"GuardDeleted", func(prefix string) {
			db := openDB(t, c, prefix)
			var runs atomic.Int32
			if err := db.Update(ctx, increment(&runs)); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if _, err := cli.Delete(ctx, prefix, clientv3.WithPrefix()); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := nextPrefix()
			tc.setup(prefix)
			err, n := lostAnswer(t, c, prefix)
			if err != nil || n != "1" {
				t.Errorf("one increment whose answer was lost: %v, counter %q; want nil and 1", err, n)
			}
		})
	}
}

// Close waits for the transactions that run, which still see commits
// made meanwhile, and fails the ones that begin after it.
func TestCloseDuringTransaction(t *testing.T) {
	ctx := context.Background()
	c := etcdtest.Start(t, 1, nil)
	prefix := nextPrefix()
	a, b := openDB(t, c, prefix), openDB(t, c, prefix)
	defer b.Close()
	gate := make(chan struct{})
	res := make(chan error, 1)
	go func() {
		res <- a.View(ctx, func(tx kv.Tx) error {
			<-gate
			v, err := tx.Get("b", []byte("k"))
			if err == nil && string(v) != "v" {
				err = fmt.Errorf("read %q, want the write committed before the read", v)
			}
			return err
		})
	}()
	time.Sleep(50 * time.Millisecond)
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	time.Sleep(50 * time.Millisecond)
	if err := b.Update(ctx, func(tx kv.Tx) error { return tx.Put("b", []byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	close(gate)
	if err := <-res; err != nil {
		t.Errorf("a View running at Close: %v", err)
	}
	<-closed
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the View and Close took %v after the View went on", d)
	}
	if err := a.View(ctx, func(kv.Tx) error { return nil }); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("View after Close: %v", err)
	}
}

// etcd answers a write with "database space exceeded" both when it
// refused it and, at its quota, when it applied it: such a commit is
// never reported as failed when it applied.
func TestNoSpace(t *testing.T) {
	ctx := context.Background()
	c := etcdtest.Start(t, 1, &etcdtest.Options{Configure: func(cfg *embed.Config) { cfg.QuotaBackendBytes = 8 << 20 }})
	cli := rawClient(t, c)
	val := []byte(strings.Repeat("x", 300<<10))
	var wg sync.WaitGroup
	var refused atomic.Int32
	for range 12 {
		prefix := nextPrefix()
		db := openDB(t, c, prefix)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer db.Close()
			for i := range 40 {
				key := fmt.Sprintf("k%02d", i)
				err := db.Update(ctx, func(tx kv.Tx) error { return tx.Put("b", []byte(key), val) })
				if err == nil {
					continue
				}
				r, gerr := cli.Get(ctx, prefix+"b/"+key, clientv3.WithCountOnly())
				switch {
				case gerr != nil:
					t.Error(gerr)
				case r.Count > 0 && !errors.Is(err, kv.ErrOutcomeUnknown):
					t.Errorf("Update failed with %v, but its write is in etcd", err)
				}
				refused.Add(1)
				return
			}
		}()
	}
	wg.Wait()
	if refused.Load() == 0 {
		t.Fatal("no write reached the quota")
	}
}
