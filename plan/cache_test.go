package plan_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

const cached = `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication}
- model: authentik_flows.flow
  id: other
  identifiers: {slug: other}
  attrs: {name: Other, title: Other, designation: authentication}
- model: authentik_stages_identification.identificationstage
  id: ident
  identifiers: {name: ident}
  attrs: {user_fields: [username]}
- model: authentik_stages_user_login.userloginstage
  id: done
  identifiers: {name: done}
- model: authentik_stages_deny.denystage
  id: spare
  identifiers: {name: spare}
- model: authentik_flows.flowstagebinding
  id: b-ident
  identifiers: {target: !KeyOf flow, stage: !KeyOf ident, order: 10}
- model: authentik_flows.flowstagebinding
  id: b-done
  identifiers: {target: !KeyOf flow, stage: !KeyOf done, order: 20}
  attrs: {evaluate_on_plan: true, re_evaluate_policies: false}
- model: authentik_policies_dummy.dummypolicy
  id: yes
  identifiers: {name: yes}
  attrs: {result: true}
- model: authentik_policies_dummy.dummypolicy
  id: yes2
  identifiers: {name: yes2}
  attrs: {result: true}
- model: authentik_policies_dummy.dummypolicy
  id: unbound
  identifiers: {name: unbound}
  attrs: {result: true}
- model: authentik_policies.policybinding
  id: pb-flow
  identifiers: {target: !KeyOf flow, policy: !KeyOf yes, order: 0}
- model: authentik_policies.policybinding
  id: pb-done
  identifiers: {target: !KeyOf b-done, policy: !KeyOf yes2, order: 0}
`

// counting wraps the built-in evaluators and counts their calls.
func counting(n *atomic.Int64) map[policy.ModelName]plan.Evaluator {
	evs := plan.Builtin(nil)
	for k, ev := range evs {
		evs[k] = plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
			n.Add(1)
			return ev.Evaluate(ctx, p, req)
		})
	}
	return evs
}

type fixture struct {
	t     *testing.T
	s     *store.Store
	c     *plan.Cache
	calls atomic.Int64
}

// newFixture loads doc into a store that holds the users of newDirectory
// (1 and 2 among them) and returns a cache of its plans.
func newFixture(t *testing.T, doc string) *fixture {
	f := &fixture{t: t, s: load(t, doc)}
	newDirectory(t, f.s)
	f.c = plan.NewCache(f.s, plan.CacheOptions{Options: plan.Options{Evaluators: counting(&f.calls)}})
	t.Cleanup(f.c.Close)
	return f
}

func (f *fixture) plan(slug string, req plan.Request) plan.Plan {
	f.t.Helper()
	p, err := f.c.Make(context.Background(), slug, req)
	if err != nil {
		f.t.Fatalf("plan %s: %v", slug, err)
	}
	return p
}

func (f *fixture) pk(model string, fields map[string]any) uuid.UUID {
	f.t.Helper()
	var pk uuid.UUID
	err := f.s.View(context.Background(), func(tx *store.Tx) error {
		var ok bool
		var err error
		pk, ok, err = tx.Find(model, fields)
		if err == nil && !ok {
			err = fmt.Errorf("no %s %v", model, fields)
		}
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return pk
}

func (f *fixture) update(fn func(tx *store.Tx) error) {
	f.t.Helper()
	if err := f.s.Update(context.Background(), fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) flowPK(slug string) uuid.UUID {
	return f.pk(store.ModelFlow, map[string]any{"slug": slug})
}

func (f *fixture) cacheCount(slug string) int {
	f.t.Helper()
	return f.c.Count(f.flowPK(slug))
}

// The cache is written once and read on later plans, per user, and the
// flow reports it as cache_count.
func TestCacheWrittenOnceReadLater(t *testing.T) {
	f := newFixture(t, cached)
	user := plan.Request{User: plan.User{PK: 1, Authenticated: true}}
	first := f.plan("login", user)
	if f.calls.Load() != 2 || f.c.Len() != 1 || f.cacheCount("login") != 1 {
		t.Fatalf("after one plan: %d calls, %d cached, cache_count %d", f.calls.Load(), f.c.Len(), f.cacheCount("login"))
	}
	for range 2 {
		if p := f.plan("login", user); !reflect.DeepEqual(p, first) {
			t.Errorf("cached plan %+v, want %+v", p, first)
		}
	}
	if f.calls.Load() != 2 {
		t.Errorf("%d evaluator calls after three plans, want 2", f.calls.Load())
	}
	// The key includes the user.
	f.plan("login", plan.Request{User: plan.User{PK: 2, Authenticated: true}})
	if f.calls.Load() != 4 || f.c.Len() != 2 || f.cacheCount("login") != 2 || f.cacheCount("other") != 0 {
		t.Errorf("second user: %d calls, %d cached, cache_count %d", f.calls.Load(), f.c.Len(), f.cacheCount("login"))
	}
	// Another request of the same user replaces its plan.
	f.plan("login", plan.Request{User: plan.User{PK: 1, Authenticated: true}, Context: map[string]any{"x": 1}})
	if f.calls.Load() != 6 || f.c.Len() != 2 {
		t.Errorf("other request: %d calls, %d cached", f.calls.Load(), f.c.Len())
	}
	// A plan handed out is the caller's.
	p := f.plan("login", user)
	p.Stages[0].Name, p.Messages = "changed", append(p.Messages, "x")
	if q := f.plan("login", user); q.Stages[0].Name == "changed" || len(q.Messages) != len(first.Messages) {
		t.Error("a caller's change reached the cache")
	}
	// Its trace too: the steps, their PKs and messages; an append to one
	// step's messages reaches neither the cache nor the next step's.
	p = f.plan("login", user)
	var withPK, withMsgs []int
	for i, st := range p.Trace {
		if st.PK != nil {
			withPK = append(withPK, i)
		}
		if len(st.Messages) > 0 {
			withMsgs = append(withMsgs, i)
		}
	}
	if len(withPK) < 2 || len(withMsgs) < 2 {
		t.Fatalf("trace %+v: want two steps with a PK and two with messages", p.Trace)
	}
	*p.Trace[withPK[0]].PK = uuid.Nil
	p.Trace[withMsgs[0]].Messages = append(p.Trace[withMsgs[0]].Messages, "appended")
	if !reflect.DeepEqual(p.Trace[withMsgs[1]].Messages, first.Trace[withMsgs[1]].Messages) {
		t.Errorf("an append to one step's messages changed the next's: %q", p.Trace[withMsgs[1]].Messages)
	}
	p.Trace[withMsgs[1]].Messages[0] = "changed"
	p.Trace[0].Why = "changed"
	if q := f.plan("login", user); !reflect.DeepEqual(q.Trace, first.Trace) {
		t.Errorf("a caller's change to the trace reached the cache: %+v, want %+v", q.Trace, first.Trace)
	}
	f.c.Clear()
	if f.c.Len() != 0 || f.cacheCount("login") != 0 {
		t.Error("Clear left plans")
	}
}

// MakeIn, in the caller's read transaction, serves and keeps the plans
// Make does.
func TestCacheMakeIn(t *testing.T) {
	f := newFixture(t, cached)
	user := plan.Request{User: plan.User{PK: 1, Authenticated: true}}
	in := func() plan.Plan {
		t.Helper()
		var p plan.Plan
		err := f.s.View(context.Background(), func(tx *store.Tx) error {
			var err error
			p, err = f.c.MakeIn(context.Background(), tx, "login", user)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := in()
	if f.calls.Load() != 2 || f.c.Len() != 1 {
		t.Fatalf("after one plan: %d calls, %d cached", f.calls.Load(), f.c.Len())
	}
	if p := f.plan("login", user); !reflect.DeepEqual(p, first) || f.calls.Load() != 2 {
		t.Errorf("Make after MakeIn: %+v, %d calls; want %+v from the cache", p, f.calls.Load(), first)
	}
	if p := in(); !reflect.DeepEqual(p, first) || f.calls.Load() != 2 {
		t.Errorf("MakeIn again: %+v, %d calls; want %+v from the cache", p, f.calls.Load(), first)
	}
}

// Every write to what a plan read drops it, in the same commit; writes
// to anything else leave it.
func TestCacheInvalidation(t *testing.T) {
	ident := func(f *fixture) uuid.UUID { return f.pk(store.ModelStage, map[string]any{"name": "ident"}) }
	bDone := func(f *fixture) uuid.UUID {
		return f.pk(store.ModelBinding, map[string]any{"target": f.flowPK("login"), "order": 20})
	}
	pbFlow := func(f *fixture) uuid.UUID {
		return f.pk(store.ModelPolicyBinding, map[string]any{"target": f.flowPK("login"), "order": 0})
	}
	policyPK := func(f *fixture, name string) uuid.UUID { return f.pk(store.ModelPolicy, map[string]any{"name": name}) }
	for _, tt := range []struct {
		name  string
		write func(f *fixture, tx *store.Tx) error
		drops bool
	}{
		{"flow patched", func(f *fixture, tx *store.Tx) error {
			return tx.Patch(store.ModelFlow, f.flowPK("login"), []byte(`{"title":"New"}`), nil)
		}, true},
		{"binding added to the flow", func(f *fixture, tx *store.Tx) error {
			spare := f.pk(store.ModelStage, map[string]any{"name": "spare"})
			_, err := tx.Create(store.ModelBinding, []byte(`{"target":"`+f.flowPK("login").String()+`","stage":"`+spare.String()+`","order":30}`), nil)
			return err
		}, true},
		{"binding patched", func(f *fixture, tx *store.Tx) error {
			return tx.Patch(store.ModelBinding, bDone(f), []byte(`{"order":25}`), nil)
		}, true},
		{"binding deleted", func(f *fixture, tx *store.Tx) error { return tx.Delete(store.ModelBinding, bDone(f), nil) }, true},
		{"bound stage patched", func(f *fixture, tx *store.Tx) error {
			return tx.Patch(store.ModelStage, ident(f), []byte(`{"name":"ident2"}`), nil)
		}, true},
		{"evaluated policy patched", func(f *fixture, tx *store.Tx) error {
			return tx.Patch(store.ModelPolicy, policyPK(f, "yes2"), []byte(`{"result":false}`), nil)
		}, true},
		{"policy binding of the flow patched", func(f *fixture, tx *store.Tx) error {
			return tx.Patch(store.ModelPolicyBinding, pbFlow(f), []byte(`{"negate":true}`), nil)
		}, true},
		{"policy binding of the flow deleted", func(f *fixture, tx *store.Tx) error {
			return tx.Delete(store.ModelPolicyBinding, pbFlow(f), nil)
		}, true},
		{"policy binding added to the flow", func(f *fixture, tx *store.Tx) error {
			_, err := tx.Create(store.ModelPolicyBinding, []byte(`{"target":"`+f.flowPK("login").String()+`","policy":"`+policyPK(f, "unbound").String()+`","order":5}`), nil)
			return err
		}, true},
		{"policy binding added to a binding", func(f *fixture, tx *store.Tx) error {
			_, err := tx.Create(store.ModelPolicyBinding, []byte(`{"target":"`+bDone(f).String()+`","policy":"`+policyPK(f, "unbound").String()+`","order":5}`), nil)
			return err
		}, true},
		{"group binding added to a binding", func(f *fixture, tx *store.Tx) error {
			_, err := tx.Create(store.ModelPolicyBinding, []byte(`{"target":"`+bDone(f).String()+`","group":"`+f.pk(store.ModelGroup, map[string]any{"name": "other"}).String()+`","order":6}`), nil)
			return err
		}, true},
		{"policy deleted", func(f *fixture, tx *store.Tx) error { return tx.Delete(store.ModelPolicy, policyPK(f, "yes"), nil) }, true},
		{"flow deleted", func(f *fixture, tx *store.Tx) error { return tx.Delete(store.ModelFlow, f.flowPK("login"), nil) }, true},

		{"another flow patched", func(f *fixture, tx *store.Tx) error {
			return tx.Patch(store.ModelFlow, f.flowPK("other"), []byte(`{"title":"New"}`), nil)
		}, false},
		{"binding added to another flow", func(f *fixture, tx *store.Tx) error {
			spare := f.pk(store.ModelStage, map[string]any{"name": "spare"})
			_, err := tx.Create(store.ModelBinding, []byte(`{"target":"`+f.flowPK("other").String()+`","stage":"`+spare.String()+`","order":1}`), nil)
			return err
		}, false},
		// Conservative: a change to an object that refers to one the
		// plan read drops it, even when it cannot matter.
		{"a stage the plan read bound to another flow", func(f *fixture, tx *store.Tx) error {
			_, err := tx.Create(store.ModelBinding, []byte(`{"target":"`+f.flowPK("other").String()+`","stage":"`+ident(f).String()+`","order":1}`), nil)
			return err
		}, true},
		{"unbound stage patched", func(f *fixture, tx *store.Tx) error {
			return tx.Patch(store.ModelStage, f.pk(store.ModelStage, map[string]any{"name": "spare"}), []byte(`{"name":"spare2"}`), nil)
		}, false},
		{"unbound policy patched", func(f *fixture, tx *store.Tx) error {
			return tx.Patch(store.ModelPolicy, policyPK(f, "unbound"), []byte(`{"result":false}`), nil)
		}, false},
		{"prompt created", func(f *fixture, tx *store.Tx) error {
			_, err := tx.Create(store.ModelPrompt, []byte(`{"name":"p","field_key":"k","label":"K","type":"text"}`), nil)
			return err
		}, false},
		{"a same-value patch of the flow", func(f *fixture, tx *store.Tx) error {
			return tx.Patch(store.ModelFlow, f.flowPK("login"), []byte(`{"title":"Welcome"}`), nil)
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, cached)
			user := plan.Request{User: plan.User{PK: 1, Authenticated: true}}
			f.plan("login", user)
			f.update(func(tx *store.Tx) error { return tt.write(f, tx) })
			if dropped := f.c.Len() == 0; dropped != tt.drops {
				t.Fatalf("dropped = %v, want %v", dropped, tt.drops)
			}
			// Never stale: the next plan is what an uncached planner says.
			var want plan.Plan
			var werr error
			_ = f.s.View(context.Background(), func(tx *store.Tx) error {
				want, werr = plan.Make(context.Background(), tx, "login", user, plan.Options{})
				return nil
			})
			got, err := f.c.Make(context.Background(), "login", user)
			if fmt.Sprint(err) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
				t.Errorf("cached %+v, %v; uncached %+v, %v", got, err, want, werr)
			}
		})
	}
}

// Plans of stage_configuration flows, plans whose policy results depend
// on outside data, and plans with an error are not cached; a plan whose
// results expire is kept until then.
func TestCacheWhatIsNotKept(t *testing.T) {
	f := newFixture(t, strings.Replace(cached, "designation: authentication}\n- model: authentik_flows.flow\n  id: other", "designation: stage_configuration}\n- model: authentik_flows.flow\n  id: other", 1))
	f.plan("login", plan.Request{})
	if f.c.Len() != 0 {
		t.Error("a stage_configuration plan was cached")
	}

	s := load(t, cached)
	evs := plan.Builtin(nil)
	evs[policy.ModelDummy] = plan.EvaluatorFunc(func(_ context.Context, p policy.Policy, _ plan.PolicyRequest) (plan.Result, error) {
		return plan.Result{Passing: true}, nil // outside data: ValidUntil zero
	})
	c := plan.NewCache(s, plan.CacheOptions{Options: plan.Options{Evaluators: evs}})
	defer c.Close()
	if _, err := c.Make(context.Background(), "login", plan.Request{}); err != nil || c.Len() != 0 {
		t.Errorf("a plan of outside data: %v, %d cached", err, c.Len())
	}
	if _, err := c.Make(context.Background(), "nope", plan.Request{}); !errors.Is(err, store.ErrNotFound) || c.Len() != 0 {
		t.Errorf("unknown flow: %v, %d cached", err, c.Len())
	}

	// Password expiry: kept until the password expires, not after. The
	// store's clock sets user 1's password change date.
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(now.Add(-12 * time.Hour).UnixNano())
	nowFn := func() time.Time { return time.Unix(0, clock.Load()) }
	s, err := store.Open(filepath.Join(t.TempDir(), "p.db"), &store.Options{NoSync: true, Now: nowFn})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	newDirectory(t, s)
	clock.Store(now.UnixNano())
	loadInto(t, s, `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: W, designation: authentication}
- model: authentik_stages_deny.denystage
  id: st
  identifiers: {name: st}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf st, order: 0}
- model: authentik_policies_expiry.passwordexpirypolicy
  id: exp
  identifiers: {name: exp}
  attrs: {days: 1}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf flow, policy: !KeyOf exp, order: 0}
`)
	c = plan.NewCache(s, plan.CacheOptions{Options: plan.Options{Now: nowFn}})
	defer c.Close()
	req := plan.Request{User: plan.User{PK: 1, Authenticated: true}}
	if p, err := c.Make(context.Background(), "login", req); err != nil || !p.Applicable || c.Len() != 1 {
		t.Fatalf("fresh password: %+v %v, %d cached", p, err, c.Len())
	}
	clock.Store(now.Add(13 * time.Hour).UnixNano())
	if p, err := c.Make(context.Background(), "login", req); err != nil || p.Applicable {
		t.Errorf("an expired password planned from the cache: %+v %v", p, err)
	}
}

// A panicking evaluator fails the plan, naming the policy; nothing
// crashes and nothing is cached.
func TestEvaluatorPanic(t *testing.T) {
	s := load(t, cached)
	evs := plan.Builtin(nil)
	evs[policy.ModelDummy] = plan.EvaluatorFunc(func(context.Context, policy.Policy, plan.PolicyRequest) (plan.Result, error) {
		var m map[string]int
		m["boom"]++
		return plan.Result{}, nil
	})
	c := plan.NewCache(s, plan.CacheOptions{Options: plan.Options{Evaluators: evs}})
	defer c.Close()
	_, err := c.Make(context.Background(), "login", plan.Request{})
	if !errors.Is(err, plan.ErrEvaluatorPanic) || !strings.Contains(err.Error(), `"yes"`) || !strings.Contains(err.Error(), "authentik_policies_dummy.dummypolicy") {
		t.Errorf("panic: %v", err)
	}
	if c.Len() != 0 {
		t.Error("a failed plan was cached")
	}
}

// Under concurrent writers and planners, a plan made after a write has
// committed always reflects it.
func TestCacheNeverStale(t *testing.T) {
	f := newFixture(t, cached)
	pb := f.pk(store.ModelPolicy, map[string]any{"name": "yes2"})
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := f.c.Make(ctx, "login", plan.Request{User: plan.User{PK: int64(w % 2)}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range 100 {
		result := i%2 == 0
		f.update(func(tx *store.Tx) error {
			return tx.Patch(store.ModelPolicy, pb, []byte(fmt.Sprintf(`{"result":%v}`, result)), nil)
		})
		for u := range 2 {
			p := f.plan("login", plan.Request{User: plan.User{PK: int64(u)}})
			if kept := len(p.Stages) == 2; kept != result {
				t.Fatalf("write %d: planned %d stages with the policy %v", i, len(p.Stages), result)
			}
		}
	}
	close(stop)
	wg.Wait()
}

// A request whose context is not JSON is planned, never cached.
func TestCacheUnencodableContext(t *testing.T) {
	f := newFixture(t, cached)
	req := plan.Request{Context: map[string]any{"ch": make(chan int)}}
	if _, err := json.Marshal(req); err == nil {
		t.Fatal("the context encodes")
	}
	f.plan("login", req)
	if f.c.Len() != 0 {
		t.Error("cached")
	}
}

// Between a commit and the cache's hearing of it, a plan read at the new
// revision is not served from the cache.
func TestCacheBetweenCommitAndDelivery(t *testing.T) {
	s := load(t, cached)
	hold, held := make(chan struct{}), make(chan struct{})
	var once sync.Once
	stop := s.OnChange(func(int64, []store.Change) { // runs before the cache's
		once.Do(func() { close(held); <-hold })
	})
	defer stop()
	c := plan.NewCache(s, plan.CacheOptions{})
	defer c.Close()
	ctx := context.Background()
	if p, err := c.Make(ctx, "login", plan.Request{}); err != nil || len(p.Stages) != 2 || c.Len() != 1 {
		t.Fatalf("first plan: %+v %v", p, err)
	}
	var yes2 uuid.UUID
	_ = s.View(ctx, func(tx *store.Tx) error {
		yes2, _, _ = tx.Find(store.ModelPolicy, map[string]any{"name": "yes2"})
		return nil
	})
	done := make(chan error)
	go func() {
		done <- s.Update(ctx, func(tx *store.Tx) error {
			return tx.Patch(store.ModelPolicy, yes2, []byte(`{"result":false}`), nil)
		})
	}()
	<-held // committed, not yet delivered to the cache
	p, err := c.Make(ctx, "login", plan.Request{})
	close(hold)
	if err != nil || len(p.Stages) != 1 {
		t.Errorf("plan between commit and delivery: %d stages, %v", len(p.Stages), err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A cache does not compare the HTTP request, which differs on every
// request: a plan whose results do not depend on it is served to the
// next visitor whatever their headers or address.
func TestCacheIgnoresHTTPRequest(t *testing.T) {
	f := newFixture(t, cached)
	f.plan("login", plan.Request{HTTP: &plan.HTTPRequest{Method: "GET", Path: "/", Header: http.Header{"User-Agent": {"a"}}}})
	calls := f.calls.Load()
	f.plan("login", plan.Request{HTTP: &plan.HTTPRequest{Method: "POST", Path: "/x", Header: http.Header{"User-Agent": {"b"}}, ClientIP: netip.MustParseAddr("192.0.2.1")}})
	f.plan("login", plan.Request{})
	if n := f.calls.Load() - calls; n != 0 || f.c.Len() != 1 {
		t.Errorf("%d evaluations after the first plan, %d plans cached: the HTTP request was compared", n, f.c.Len())
	}
}

// MakeIn in a write transaction plans what the transaction holds,
// its own writes included, and neither serves nor keeps a cached plan:
// the transaction may roll back.
func TestCacheMakeInWrite(t *testing.T) {
	user := plan.Request{User: plan.User{PK: 1, Authenticated: true}}
	for _, cachedFirst := range []bool{true, false} {
		f := newFixture(t, cached)
		var want plan.Plan
		if cachedFirst {
			want = f.plan("login", user)
		}
		bDone := f.pk(store.ModelBinding, map[string]any{"target": f.flowPK("login"), "order": 20})
		rollback := errors.New("rolled back")
		err := f.s.Update(context.Background(), func(tx *store.Tx) error {
			if err := tx.Delete(store.ModelBinding, bDone, nil); err != nil {
				return err
			}
			p, err := f.c.MakeIn(context.Background(), tx, "login", user)
			if err != nil {
				return err
			}
			if len(p.Stages) != 1 {
				t.Errorf("cached first %v, in the write: %d stages, want 1", cachedFirst, len(p.Stages))
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		if got := f.plan("login", user); len(got.Stages) != 2 || cachedFirst && !reflect.DeepEqual(got, want) {
			t.Errorf("cached first %v, after the rollback: %+v, want 2 stages", cachedFirst, got)
		}
	}
}

// MakeIn in a transaction of another store than the cache's is Make:
// the plan is of the cache's store, whose changes the cache follows,
// and the other store's content is never kept.
func TestCacheMakeInOtherStore(t *testing.T) {
	user := plan.Request{User: plan.User{PK: 1, Authenticated: true}}
	f := newFixture(t, cached)
	other := newFixture(t, cached)
	bDone := other.pk(store.ModelBinding, map[string]any{"target": other.flowPK("login"), "order": 20})
	other.update(func(tx *store.Tx) error { return tx.Delete(store.ModelBinding, bDone, nil) })
	var p plan.Plan
	err := other.s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		p, err = f.c.MakeIn(context.Background(), tx, "login", user)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := f.plan("login", user)
	if len(want.Stages) != 2 || !reflect.DeepEqual(p, want) {
		t.Errorf("MakeIn in another store's transaction: %+v, then Make %+v; want the cache's store's, 2 stages", p, want)
	}
}
