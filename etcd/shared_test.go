package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/etcd"
	"github.com/authflow/authflow/etcd/internal/etcdtest"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
)

const login = `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication}
- model: authentik_stages_identification.identificationstage
  id: ident
  identifiers: {name: ident}
  attrs: {user_fields: [username]}
- model: authentik_stages_deny.denystage
  id: deny
  identifiers: {name: deny}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf ident, order: 10}
`

// newStore opens a store on its own etcd client, as another process would.
func newStore(t testing.TB, c *etcdtest.Cluster, prefix string) *store.Store {
	t.Helper()
	s, err := etcd.OpenStore(context.Background(), etcd.Config{Endpoints: c.Endpoints(), Prefix: prefix}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

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

// flowBySlug reads the flow with slug as the API shows it, in one read
// transaction.
func flowBySlug(ctx context.Context, s *store.Store, slug string) (flow.View, error) {
	var f flow.View
	err := s.View(ctx, func(tx *store.Tx) error {
		var err error
		f, err = store.Flows.View(tx, store.By("slug", slug))
		return err
	})
	return f, err
}

// patchFlow applies a merge patch to the flow with slug, with options o,
// in one update transaction.
func patchFlow(ctx context.Context, s *store.Store, slug string, patch []byte, o *store.WriteOptions) error {
	return s.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Flows.Patch(tx, store.By("slug", slug), patch, o)
		return err
	})
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Writes through one store are read, watched and invalidate the plan cache
// in another store on the same prefix, with its own client: what two
// processes do.
func TestTwoStores(t *testing.T) {
	ctx := context.Background()
	c := etcdtest.Start(t, 1, nil)
	prefix := nextPrefix()
	a, b := newStore(t, c, prefix), newStore(t, c, prefix)
	start := revision(t, b)

	// b watches from before a's first write.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	seen := make(chan store.Change, 100)
	go func() {
		for ch, err := range b.Watch(wctx, start) {
			if err != nil {
				return
			}
			seen <- ch
		}
	}()

	if _, err := blueprint.Load(ctx, a, strings.NewReader(login), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	// Read: b sees a's flow at once (its reads are linearizable).
	f, err := flowBySlug(ctx, b, "login")
	if err != nil || f.Title != "Welcome" {
		t.Fatalf("b reads %+v, %v", f, err)
	}
	// Watched: b's feed delivers a's four objects, created, in one revision.
	got := map[string]store.Op{}
	for range 4 {
		select {
		case ch := <-seen:
			if ch.Revision != start+1 {
				t.Errorf("change %+v at revision %d, want %d", ch, ch.Revision, start+1)
			}
			got[ch.Model] = ch.Op
		case <-time.After(10 * time.Second):
			t.Fatalf("b's Watch delivered %v after 10s, want four changes", got)
		}
	}
	for _, m := range []string{store.ModelFlow, "authentik_stages_identification.identificationstage", "authentik_stages_deny.denystage", store.ModelBinding} {
		if got[m] != store.OpCreated {
			t.Errorf("b's Watch: %s %v, want created (all: %v)", m, got[m], got)
		}
	}

	// Plan cache: b caches a plan, a changes the flow, b plans the change.
	// The plan is for user 1, whom a creates: b reads it from the store.
	if err := a.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Users.CreateJSON(tx, []byte(`{"username":"one","name":"One"}`), nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	cache := plan.NewCache(b, plan.CacheOptions{})
	defer cache.Close()
	user := plan.Request{User: plan.User{PK: 1, Authenticated: true}}
	p, err := cache.Make(ctx, "login", user)
	if err != nil || len(p.Stages) != 1 || p.Stages[0].Name != "ident" {
		t.Fatalf("b plans %+v, %v", p, err)
	}
	if cache.Len() != 1 {
		t.Fatalf("b's cache holds %d plans, want 1", cache.Len())
	}
	err = a.Update(ctx, func(tx *store.Tx) error {
		deny, err := stagePK(tx, "deny")
		if err != nil {
			return err
		}
		_, err = store.Bindings.CreateJSON(tx, fmt.Appendf(nil, `{"target":"%s","stage":"%s","order":20}`, f.PK, deny), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Never stale: b's very next plan has the new binding, delivered or not.
	p, err = cache.Make(ctx, "login", user)
	if err != nil || len(p.Stages) != 2 || p.Stages[1].Name != "deny" {
		t.Fatalf("b plans %+v, %v after a bound a second stage", p, err)
	}
	// And a's change, once delivered, drops the entry b had cached.
	cache.Clear()
	if _, err := cache.Make(ctx, "login", user); err != nil {
		t.Fatal(err)
	}
	before := b.Delivered()
	if err := patchFlow(ctx, a, "login", []byte(`{"title":"Hello"}`), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b's cache still holds the plan of the flow a changed", func() bool {
		return b.Delivered() > before && cache.Len() == 0
	})
}

func stagePK(tx *store.Tx, name string) (string, error) {
	pk, ok, err := tx.Find(store.ModelStage, map[string]any{"name": name})
	if err == nil && !ok {
		err = fmt.Errorf("no stage %q", name)
	}
	return pk.String(), err
}

// Two writers racing on one flow from two stores: with a revision
// precondition one wins and the other gets store.ErrRevision; without one,
// read-modify-write transactions all apply, none lost.
func TestRacingWriters(t *testing.T) {
	ctx := context.Background()
	c := etcdtest.Start(t, 1, nil)
	prefix := nextPrefix()
	a, b := newStore(t, c, prefix), newStore(t, c, prefix)
	if _, err := blueprint.Load(ctx, a, strings.NewReader(login), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}

	// Conditional: both read the same revision, both write on it.
	for round := range 5 {
		rev := revision(t, a)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []*store.Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = patchFlow(ctx, s, "login", fmt.Appendf(nil, `{"title":"round %d by %d"}`, round, i), store.Since(rev))
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrRevision):
				t.Fatalf("round %d: %v, want nil or store.ErrRevision", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d writers won (%v), want exactly 1", round, won, errs)
		}
	}

	// Unconditional read-modify-write: a counter in the flow's title.
	const each = 15
	var wg sync.WaitGroup
	for _, s := range []*store.Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				err := s.Update(ctx, func(tx *store.Tx) error {
					f, err := store.Flows.Get(tx, store.By("slug", "login"))
					if err != nil {
						return err
					}
					var n int
					fmt.Sscanf(f.Title, "count %d", &n)
					_, err = store.Flows.Patch(tx, store.By("slug", "login"), fmt.Appendf(nil, `{"title":"count %d"}`, n+1), nil)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	f, err := flowBySlug(ctx, b, "login")
	if err != nil || f.Title != fmt.Sprintf("count %d", 4*each) {
		t.Errorf("after %d increments from two stores: %q, %v", 4*each, f.Title, err)
	}
}
