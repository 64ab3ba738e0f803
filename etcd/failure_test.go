package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/etcd"
	"github.com/authflow/authflow/etcd/internal/etcdtest"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// An unreachable cluster fails Open within its DialTimeout, saying so.
func TestUnreachableAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	start := time.Now()
	_, err = etcd.OpenStore(context.Background(), etcd.Config{Endpoints: []string{url}, DialTimeout: time.Second}, nil)
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "cannot reach") || !strings.Contains(err.Error(), url) {
		t.Fatalf("Open of %s: %v; want an error saying it cannot reach it", url, err)
	}
	if took > 5*time.Second {
		t.Errorf("Open took %v to fail, with a DialTimeout of 1s", took)
	}
	t.Logf("%v after %v", err, took.Round(time.Millisecond))
}

// In a three-member cluster that loses its leader, writes continue once
// another is elected, and every acknowledged write is there afterwards.
func TestMemberLost(t *testing.T) {
	ctx := context.Background()
	c := etcdtest.Start(t, 3, nil)
	prefix := nextPrefix()
	s := newStore(t, c, prefix)

	var acked []string
	var failed []error
	write := func(i int) {
		name := fmt.Sprintf("f-%d", i)
		err := s.Update(ctx, func(tx *store.Tx) error {
			_, err := store.Flows.CreateJSON(tx, fmt.Appendf(nil, `{"name":%q,"slug":%q,"title":"t","designation":"authentication"}`, name, name), nil)
			return err
		})
		if err != nil {
			failed = append(failed, err)
			time.Sleep(20 * time.Millisecond)
			return
		}
		acked = append(acked, name)
	}
	i := 0
	for ; len(acked) < 20; i++ {
		write(i)
	}
	leader := c.Leader()
	if leader < 0 {
		t.Fatal("no leader")
	}
	c.Members[leader].Stop()
	before := len(acked)
	for deadline := time.Now().Add(30 * time.Second); len(acked) < before+20; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("30s after the leader stopped, %d writes acknowledged; errors: %v", len(acked)-before, failed)
		}
		write(i)
	}
	t.Logf("leader m%d stopped; %d writes failed meanwhile: %v", leader, len(failed), failed)

	// A new client of the remaining members finds every acknowledged write.
	var live []string
	for j, m := range c.Members {
		if j != leader {
			live = append(live, m.ClientURL)
		}
	}
	r, err := etcd.OpenStore(ctx, etcd.Config{Endpoints: live, Prefix: prefix}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, name := range acked {
		if _, err := flowBySlug(ctx, r, name); err != nil {
			t.Errorf("acknowledged flow %s: %v", name, err)
		}
	}
	for _, p := range r.Check(ctx) {
		t.Errorf("Check: %v", p)
	}
}

// cutOff is a store whose only way to etcd is a proxy that a test can cut,
// next to a direct store on the same prefix to look at what landed.
type cutOff struct {
	proxy  *proxy
	s      *store.Store // through the proxy
	direct *store.Store
	armed  atomic.Pointer[func()] // runs once, before the next commit
}

func newCutOff(t *testing.T, c *etcdtest.Cluster, timeout time.Duration) *cutOff {
	t.Helper()
	ctx := context.Background()
	prefix := nextPrefix()
	co := &cutOff{proxy: newProxy(t, c.Members[0].ClientURL), direct: newStore(t, c, prefix)}
	db, err := etcd.Open(ctx, etcd.Config{Endpoints: []string{co.proxy.URL()}, Prefix: prefix, RequestTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	etcd.SetBeforeCommit(db, func() {
		if fn := co.armed.Swap(nil); fn != nil {
			(*fn)()
		}
	})
	if co.s, err = store.New(db, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { co.s.Close() })
	if _, err := blueprint.Load(ctx, co.direct, strings.NewReader(login), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	return co
}

func (co *cutOff) arm(fn func()) { co.armed.Store(&fn) }

func (co *cutOff) title(t *testing.T) string {
	t.Helper()
	f, err := flowBySlug(context.Background(), co.direct, "login")
	if err != nil {
		t.Fatal(err)
	}
	return f.Title
}

// A write whose connection is lost while its commit is in flight either
// applied whole or not at all, and the caller is told which: success when
// it applied (once), a transparent retry when it did not, and
// store.ErrOutcomeUnknown only when the cluster cannot be asked.
func TestCutOffWrite(t *testing.T) {
	ctx := context.Background()
	c := etcdtest.Start(t, 1, nil)

	t.Run("AnswerLost", func(t *testing.T) {
		co := newCutOff(t, c, 3*time.Second)
		rev := revision(t, co.direct)
		co.arm(func() { co.proxy.dropDown.Store(true) })
		done := make(chan error, 1)
		go func() { done <- patchFlow(ctx, co.s, "login", []byte(`{"title":"patched"}`), nil) }()
		eventually(t, "the commit never reached etcd", func() bool { return co.title(t) == "patched" })
		co.proxy.heal()
		co.proxy.cut()
		if err := <-done; err != nil {
			t.Fatalf("a commit that applied but whose answer was lost: %v; want success", err)
		}
		if got := revision(t, co.direct); got != rev+1 {
			t.Errorf("revision %d after one patch from %d: applied more than once?", got, rev)
		}
	})

	t.Run("RequestLost", func(t *testing.T) {
		co := newCutOff(t, c, 3*time.Second)
		rev := revision(t, co.direct)
		co.arm(func() { co.proxy.dropUp.Store(true) })
		done := make(chan error, 1)
		go func() { done <- patchFlow(ctx, co.s, "login", []byte(`{"title":"patched"}`), nil) }()
		time.Sleep(300 * time.Millisecond)
		if got := co.title(t); got != "Welcome" {
			t.Fatalf("title %q while the request was being dropped", got)
		}
		co.proxy.heal()
		co.proxy.cut()
		if err := <-done; err != nil {
			t.Fatalf("a commit that never reached etcd: %v; want it retried and applied", err)
		}
		if got, title := revision(t, co.direct), co.title(t); got != rev+1 || title != "patched" {
			t.Errorf("revision %d (from %d), title %q: want one patch applied", got, rev, title)
		}
	})

	for _, applied := range []bool{false, true} {
		t.Run(fmt.Sprintf("Unknowable/applied=%v", applied), func(t *testing.T) {
			co := newCutOff(t, c, 500*time.Millisecond)
			co.arm(func() {
				co.proxy.refuse.Store(true)
				if applied {
					co.proxy.dropDown.Store(true)
				} else {
					co.proxy.dropUp.Store(true)
				}
			})
			err := patchFlow(ctx, co.s, "login", []byte(`{"title":"patched"}`), nil)
			if !errors.Is(err, store.ErrOutcomeUnknown) {
				t.Fatalf("a commit cut off with no way to ask: %v; want store.ErrOutcomeUnknown", err)
			}
			t.Log(err)
			co.proxy.heal()
			co.proxy.cut()
			want := map[bool]string{false: "Welcome", true: "patched"}[applied]
			if got := co.title(t); got != want {
				t.Errorf("title %q, want %q", got, want)
			}
			for _, p := range co.direct.Check(ctx) {
				t.Errorf("Check: %v", p)
			}
		})
	}
}

// A watcher that falls behind the retained change log gets
// store.ErrCompacted; a process cut off while the log moved on past it
// hears "anything may have changed" (nil changes) and drops its cached
// plans, also when etcd compacted its own history meanwhile.
func TestWatchBehindCompaction(t *testing.T) {
	ctx := context.Background()
	c := etcdtest.Start(t, 1, nil)
	prefix := nextPrefix()
	a, err := etcd.OpenStore(ctx, etcd.Config{Endpoints: c.Endpoints(), Prefix: prefix}, &store.Options{ChangeLog: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := blueprint.Load(ctx, a, strings.NewReader(login), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	patch := func(n int) {
		t.Helper()
		for i := range n {
			if err := patchFlow(ctx, a, "login", fmt.Appendf(nil, `{"title":"t%d"}`, i), nil); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("SlowWatcher", func(t *testing.T) {
		b := newStore(t, c, prefix)
		from := revision(t, b)
		patch(1)
		var got []store.Change
		var werr error
		for ch, err := range b.Watch(ctx, from) {
			if err != nil {
				werr = err
				break
			}
			got = append(got, ch)
			if len(got) == 1 {
				patch(30) // while the watcher dawdles
			}
		}
		if !errors.Is(werr, store.ErrCompacted) {
			t.Fatalf("a watcher 30 revisions behind a log of 8: %v after %d changes; want store.ErrCompacted", werr, len(got))
		}
		t.Log(werr)
		// Asking again from before the log's start fails at once.
		for _, err := range b.Watch(ctx, from) {
			if !errors.Is(err, store.ErrCompacted) {
				t.Errorf("Watch from revision %d: %v; want store.ErrCompacted", from, err)
			}
			break
		}
	})

	t.Run("CutOffProcess", func(t *testing.T) {
		p := newProxy(t, c.Members[0].ClientURL)
		b, err := etcd.OpenStore(ctx, etcd.Config{Endpoints: []string{p.URL()}, Prefix: prefix, RequestTimeout: time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		var mu sync.Mutex
		var anything int
		stop := b.OnChange(func(rev int64, changes []store.Change) {
			if changes == nil {
				mu.Lock()
				anything++
				mu.Unlock()
			}
		})
		defer stop()
		cache := plan.NewCache(b, plan.CacheOptions{})
		defer cache.Close()
		if _, err := cache.Make(ctx, "login", plan.Request{}); err != nil || cache.Len() != 1 {
			t.Fatalf("plan: %v, %d cached", err, cache.Len())
		}
		p.refuse.Store(true)
		p.cut()
		patch(30)
		// etcd forgets its history meanwhile, too.
		cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints()})
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		resp, err := cli.Get(ctx, "any")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cli.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
			t.Fatal(err)
		}
		p.heal()
		want := revision(t, a)
		eventually(t, "b never caught up", func() bool { return b.Delivered() == want })
		mu.Lock()
		defer mu.Unlock()
		if anything == 0 {
			t.Error("b caught up past a pruned log without hearing that anything may have changed")
		}
		if cache.Len() != 0 {
			t.Errorf("b's cache kept %d plans across changes it could not read", cache.Len())
		}
	})
}
