// Package executortest is the conformance suite of the executor's
// run-state seam: every executor.RunState runs it from its tests,
//
//	func TestRunState(t *testing.T) {
//		executortest.Run(t, func(t *testing.T, now func() time.Time) executor.RunState {
//			return openEmpty(t, now)
//		})
//	}
//
// and it checks what executor.RunState promises: compare-and-swap by
// version (one winner of concurrent Saves), expiry told apart from
// absence (ErrExpired, ErrNotFound), single-use Take (one winner of
// concurrent Takes), namespaces and execution keys that do not collide,
// Sweep bounded per call and never removing a live record, the argument
// checks (ErrInvalid) and cancelled contexts; and, for a RunState that is
// executor.Bounded, its bounds and which records it evicts. Run it with
// -race.
package executortest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/executor"
)

// Run runs the suite. open returns a new, empty RunState whose clock is
// now (the suite moves it); open registers its own cleanups with t. A
// Bounded RunState should have bounds of at most 64 records and at least
// 16 KiB (or none in bytes, MaxBytes 0), so that the bounds are reached.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) executor.RunState) {
	for _, c := range []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"SaveLoad", testSaveLoad},
		{"CompareAndSwap", testCAS},
		{"ConcurrentSaves", testConcurrentSaves},
		{"Expiry", testExpiry},
		{"Take", testTake},
		{"ConcurrentTakes", testConcurrentTakes},
		{"Namespaces", testNamespaces},
		{"Delete", testDelete},
		{"Sweep", testSweep},
		{"Invalid", testInvalid},
		{"CancelledContext", testCancelled},
		{"BoundRecords", testBoundRecords},
		{"BoundCount", testBoundCount},
		{"BoundBytes", testBoundBytes},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := &env{clock: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
			e.rs = open(t, e.clock.now)
			if e.rs == nil {
				t.Fatal("open returned a nil RunState")
			}
			c.run(t, e)
		})
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	rs    executor.RunState
	clock *clock
}

var ctx = context.Background()

const (
	ex = executor.Executions
	ft = executor.FlowTokens
	se = executor.Sessions
)

func (e *env) in(d time.Duration) time.Time { return e.clock.now().Add(d) }

// save saves data under key, expiring in d, over version v.
func (e *env) save(t *testing.T, ns executor.Namespace, key, data string, d time.Duration, v uint64) uint64 {
	t.Helper()
	nv, err := e.rs.Save(ctx, ns, key, executor.Record{Data: []byte(data), Expires: e.in(d), Version: v})
	if err != nil {
		t.Fatalf("Save(%s, %q, version %d): %v", ns, key, v, err)
	}
	if nv == 0 || nv == v {
		t.Errorf("Save(%s, %q, version %d) gave version %d; want a new, non-zero one", ns, key, v, nv)
	}
	return nv
}

// wantLoad checks that key holds data at version v.
func (e *env) wantLoad(t *testing.T, ns executor.Namespace, key, data string, v uint64) {
	t.Helper()
	r, err := e.rs.Load(ctx, ns, key)
	if err != nil {
		t.Fatalf("Load(%s, %q): %v", ns, key, err)
	}
	if string(r.Data) != data || r.Version != v {
		t.Errorf("Load(%s, %q) = %q, version %d; want %q, version %d", ns, key, r.Data, r.Version, data, v)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v; want an error wrapping %q", what, err, want)
	}
}

func (e *env) wantLoadErr(t *testing.T, ns executor.Namespace, key string, want error) {
	t.Helper()
	r, err := e.rs.Load(ctx, ns, key)
	wantErr(t, fmt.Sprintf("Load(%s, %q)", ns, key), err, want)
	if r.Data != nil || r.Version != 0 {
		t.Errorf("Load(%s, %q) failed but returned %q, version %d", ns, key, r.Data, r.Version)
	}
}

func testSaveLoad(t *testing.T, e *env) {
	exp := e.in(time.Hour)
	data := []byte("state of the plan")
	v, err := e.rs.Save(ctx, ex, "k", executor.Record{Data: data, Expires: exp})
	if err != nil {
		t.Fatal(err)
	}
	copy(data, "XXXXX") // Save copied it
	r, err := e.rs.Load(ctx, ex, "k")
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Data) != "state of the plan" || r.Version != v || !r.Expires.Equal(exp) {
		t.Errorf("Load = %q, version %d, expires %s; want %q, %d, %s", r.Data, r.Version, r.Expires, "state of the plan", v, exp)
	}
	copy(r.Data, "YYYYY") // Load returned a copy
	e.wantLoad(t, ex, "k", "state of the plan", v)

	// Empty data is data; binary keys are keys.
	v2 := e.save(t, ex, "\x00\xff/", "", time.Hour, 0)
	r, err = e.rs.Load(ctx, ex, "\x00\xff/")
	if err != nil || len(r.Data) != 0 || r.Version != v2 {
		t.Errorf("Load of empty data = %q, %d, %v; want empty, %d", r.Data, r.Version, err, v2)
	}
	e.wantLoadErr(t, ex, "never saved", executor.ErrNotFound)
	big := bytes.Repeat([]byte{0xa5}, 8<<10)
	v3 := e.save(t, ft, strings.Repeat("t", executor.MaxKeySize), string(big), time.Minute, 0)
	e.wantLoad(t, ft, strings.Repeat("t", executor.MaxKeySize), string(big), v3)
}

func testCAS(t *testing.T, e *env) {
	v1 := e.save(t, ex, "k", "one", time.Hour, 0)
	_, err := e.rs.Save(ctx, ex, "k", executor.Record{Data: []byte("again"), Expires: e.in(time.Hour)})
	wantErr(t, "creating (version 0) over a live record", err, executor.ErrConflict)
	v2 := e.save(t, ex, "k", "two", time.Hour, v1)
	_, err = e.rs.Save(ctx, ex, "k", executor.Record{Data: []byte("stale"), Expires: e.in(time.Hour), Version: v1})
	wantErr(t, "saving over a replaced version", err, executor.ErrConflict)
	e.wantLoad(t, ex, "k", "two", v2)
	_, err = e.rs.Save(ctx, ex, "missing", executor.Record{Data: []byte("x"), Expires: e.in(time.Hour), Version: v2})
	wantErr(t, "saving over a version where there is no record", err, executor.ErrConflict)
	e.wantLoadErr(t, ex, "missing", executor.ErrNotFound)

	// Deleted, then created afresh: the old version does not match.
	if err := e.rs.Delete(ctx, ex, "k"); err != nil {
		t.Fatal(err)
	}
	_, err = e.rs.Save(ctx, ex, "k", executor.Record{Data: []byte("x"), Expires: e.in(time.Hour), Version: v2})
	wantErr(t, "saving over a deleted record", err, executor.ErrConflict)
	v3 := e.save(t, ex, "k", "three", time.Hour, 0)
	if v3 == v1 || v3 == v2 {
		t.Errorf("a new record reused a version (%d; earlier %d, %d)", v3, v1, v2)
	}
	// Save moves the expiry.
	e.save(t, ex, "k", "four", time.Minute, v3)
	r, err := e.rs.Load(ctx, ex, "k")
	if err != nil || !r.Expires.Equal(e.in(time.Minute)) {
		t.Errorf("after a Save expiring in a minute, Load = %v, %v", r.Expires, err)
	}
}

// Two tabs, or a POST and its replay, saving over one version: one wins.
func testConcurrentSaves(t *testing.T, e *env) {
	for round := range 3 {
		key := fmt.Sprintf("exec-%d", round)
		v := e.save(t, ex, key, "start", time.Hour, 0)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		vers := make([]uint64, n)
		for i := range n {
			wg.Go(func() {
				vers[i], errs[i] = e.rs.Save(ctx, ex, key, executor.Record{Data: fmt.Appendf(nil, "writer %d", i), Expires: e.in(time.Hour), Version: v})
			})
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Errorf("round %d: writers %d and %d both saved over version %d", round, won, i, v)
			case err == nil:
				won = i
			case !errors.Is(err, executor.ErrConflict):
				t.Errorf("round %d: writer %d: %v; want ErrConflict", round, i, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: no writer won", round)
		}
		e.wantLoad(t, ex, key, fmt.Sprintf("writer %d", won), vers[won])
	}
}

func testExpiry(t *testing.T, e *env) {
	v := e.save(t, ex, "k", "data", time.Minute, 0)
	e.clock.add(time.Minute - time.Nanosecond)
	e.wantLoad(t, ex, "k", "data", v)
	e.clock.add(time.Nanosecond) // the expiry itself is expired
	e.wantLoadErr(t, ex, "k", executor.ErrExpired)
	if _, err := e.rs.Load(ctx, ex, "k"); errors.Is(err, executor.ErrNotFound) {
		t.Errorf("an expired record's Load also wraps ErrNotFound: %v", err)
	}
	_, err := e.rs.Save(ctx, ex, "k", executor.Record{Data: []byte("late"), Expires: e.in(time.Hour), Version: v})
	wantErr(t, "saving over an expired version", err, executor.ErrExpired)
	e.wantLoadErr(t, ex, "k", executor.ErrExpired)
	// Starting over replaces it.
	v2 := e.save(t, ex, "k", "fresh", time.Hour, 0)
	e.wantLoad(t, ex, "k", "fresh", v2)

	// An expired token cannot be taken, and is gone after the attempt.
	e.save(t, ft, "tok", "plan", time.Second, 0)
	e.clock.add(time.Second)
	_, err = e.rs.Take(ctx, ft, "tok")
	wantErr(t, "Take of an expired token", err, executor.ErrExpired)
	_, err = e.rs.Take(ctx, ft, "tok")
	wantErr(t, "second Take of an expired token", err, executor.ErrNotFound)
}

func testTake(t *testing.T, e *env) {
	v := e.save(t, ft, "tok", "suspended plan", time.Hour, 0)
	r, err := e.rs.Take(ctx, ft, "tok")
	if err != nil || string(r.Data) != "suspended plan" || r.Version != v || !r.Expires.Equal(e.in(time.Hour)) {
		t.Errorf("Take = %q, %d, %s, %v; want the record", r.Data, r.Version, r.Expires, err)
	}
	_, err = e.rs.Take(ctx, ft, "tok")
	wantErr(t, "second Take", err, executor.ErrNotFound)
	e.wantLoadErr(t, ft, "tok", executor.ErrNotFound)
	_, err = e.rs.Take(ctx, ft, "never")
	wantErr(t, "Take of a missing token", err, executor.ErrNotFound)
	_, err = e.rs.Save(ctx, ft, "tok", executor.Record{Data: []byte("x"), Expires: e.in(time.Hour), Version: v})
	wantErr(t, "saving over a taken version", err, executor.ErrConflict)
}

// A token opened in two browsers at once is used once.
func testConcurrentTakes(t *testing.T, e *env) {
	for round := range 4 {
		key := fmt.Sprintf("token-%d", round)
		e.save(t, ft, key, "plan", time.Hour, 0)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				r, err := e.rs.Take(ctx, ft, key)
				if err == nil && string(r.Data) != "plan" {
					err = fmt.Errorf("took %q", r.Data)
				}
				errs[i] = err
			})
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, executor.ErrNotFound):
				t.Errorf("round %d: taker %d: %v; want ErrNotFound", round, i, err)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d takers got the token; want 1", round, won)
		}
	}
}

func testNamespaces(t *testing.T, e *env) {
	vx := e.save(t, ex, "same", "execution", time.Hour, 0)
	vt := e.save(t, ft, "same", "token", time.Hour, 0)
	vs := e.save(t, se, "same", "session", time.Hour, 0)
	e.wantLoad(t, ex, "same", "execution", vx)
	e.wantLoad(t, ft, "same", "token", vt)
	e.wantLoad(t, se, "same", "session", vs)
	if _, err := e.rs.Take(ctx, ft, "same"); err != nil {
		t.Fatal(err)
	}
	e.wantLoad(t, ex, "same", "execution", vx)
	e.wantLoad(t, se, "same", "session", vs)

	// Two flows in two tabs of one session, and sessions whose id and
	// slug run together, do not collide.
	keys := []string{
		executor.ExecutionKey("session", "default-authentication-flow"),
		executor.ExecutionKey("session", "default-enrollment-flow"),
		executor.ExecutionKey("ab", "c"),
		executor.ExecutionKey("a", "bc"),
	}
	vers := make([]uint64, len(keys))
	for i, k := range keys {
		vers[i] = e.save(t, ex, k, k, time.Hour, 0)
	}
	for i, k := range keys {
		e.wantLoad(t, ex, k, k, vers[i])
	}
	if p := executor.ExecutionKey("session", ""); !strings.HasPrefix(keys[0], p) || !strings.HasPrefix(keys[1], p) || strings.HasPrefix(executor.ExecutionKey("sessionX", "y"), p) {
		t.Errorf("ExecutionKey(session, \"\") = %q is not the prefix of exactly that session's keys", p)
	}
}

func testDelete(t *testing.T, e *env) {
	if err := e.rs.Delete(ctx, ex, "missing"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
	e.save(t, ex, "live", "x", time.Hour, 0)
	e.save(t, ex, "old", "x", time.Minute, 0)
	e.clock.add(time.Minute)
	for _, k := range []string{"live", "old"} {
		if err := e.rs.Delete(ctx, ex, k); err != nil {
			t.Errorf("Delete(%q): %v", k, err)
		}
		e.wantLoadErr(t, ex, k, executor.ErrNotFound)
	}
	if n, err := e.rs.Sweep(ctx, e.in(0), 0); err != nil || n != 0 {
		t.Errorf("Sweep after the deletes = %d, %v; want 0 (a delete leaves nothing to sweep)", n, err)
	}
}

func testSweep(t *testing.T, e *env) {
	// Ten records expiring at 1..10 minutes in both namespaces, and
	// three live ones.
	for i := 1; i <= 10; i++ {
		ns := ex
		if i%2 == 0 {
			ns = ft
		}
		e.save(t, ns, fmt.Sprintf("expiring-%02d", i), "x", time.Duration(i)*time.Minute, 0)
	}
	live := map[string]uint64{}
	for i := range 3 {
		k := fmt.Sprintf("live-%d", i)
		live[k] = e.save(t, ex, k, "live", 24*time.Hour, 0)
	}
	if n, err := e.rs.Sweep(ctx, e.in(0), 100); err != nil || n != 0 {
		t.Errorf("Sweep with nothing expired = %d, %v; want 0", n, err)
	}
	e.clock.add(time.Hour)
	// Keep what expired in the last 52 minutes: sweep 1..8 minutes.
	if n, err := e.rs.Sweep(ctx, e.in(-52*time.Minute), 3); err != nil || n != 3 {
		t.Errorf("Sweep(limit 3) = %d, %v; want 3", n, err)
	}
	if n, err := e.rs.Sweep(ctx, e.in(-52*time.Minute), 100); err != nil || n != 5 {
		t.Errorf("second Sweep = %d, %v; want the 5 others expired before the cut", n, err)
	}
	for i := 1; i <= 10; i++ {
		ns, want := ex, executor.ErrNotFound
		if i%2 == 0 {
			ns = ft
		}
		if i > 8 {
			want = executor.ErrExpired // kept, expired after the cut
		}
		e.wantLoadErr(t, ns, fmt.Sprintf("expiring-%02d", i), want)
	}
	// A cut in the future counts as now: live records stay.
	if n, err := e.rs.Sweep(ctx, e.in(48*time.Hour), 0); err != nil || n != 2 {
		t.Errorf("Sweep with a later cut = %d, %v; want the 2 expired", n, err)
	}
	for k, v := range live {
		e.wantLoad(t, ex, k, "live", v)
	}
	if n, err := e.rs.Sweep(ctx, e.in(0), 0); err != nil || n != 0 {
		t.Errorf("Sweep of nothing = %d, %v", n, err)
	}
	// A replaced record is swept by its new expiry only.
	v := e.save(t, ex, "moved", "x", time.Minute, 0)
	e.save(t, ex, "moved", "y", 2*time.Hour, v)
	e.clock.add(time.Hour)
	if n, err := e.rs.Sweep(ctx, e.in(0), 0); err != nil || n != 0 {
		t.Errorf("Sweep after a record's expiry moved = %d, %v; want 0", n, err)
	}
}

func testInvalid(t *testing.T, e *env) {
	rec := executor.Record{Data: []byte("x"), Expires: e.in(time.Hour)}
	for _, c := range []struct {
		what string
		ns   executor.Namespace
		key  string
	}{
		{"namespace 0", 0, "k"},
		{"unknown namespace", 99, "k"},
		{"empty key", ex, ""},
		{"key too long", ft, strings.Repeat("k", executor.MaxKeySize+1)},
	} {
		_, err := e.rs.Load(ctx, c.ns, c.key)
		wantErr(t, "Load, "+c.what, err, executor.ErrInvalid)
		_, err = e.rs.Save(ctx, c.ns, c.key, rec)
		wantErr(t, "Save, "+c.what, err, executor.ErrInvalid)
		_, err = e.rs.Take(ctx, c.ns, c.key)
		wantErr(t, "Take, "+c.what, err, executor.ErrInvalid)
		err = e.rs.Delete(ctx, c.ns, c.key)
		wantErr(t, "Delete, "+c.what, err, executor.ErrInvalid)
	}
	for _, c := range []struct {
		what string
		rec  executor.Record
	}{
		{"data too large", executor.Record{Data: make([]byte, executor.MaxDataSize+1), Expires: e.in(time.Hour)}},
		{"no expiry", executor.Record{Data: []byte("x")}},
		{"expiring now", executor.Record{Data: []byte("x"), Expires: e.in(0)}},
		{"expired", executor.Record{Data: []byte("x"), Expires: e.in(-time.Second)}},
	} {
		_, err := e.rs.Save(ctx, ex, "k", c.rec)
		wantErr(t, "Save, "+c.what, err, executor.ErrInvalid)
	}
	e.wantLoadErr(t, ex, "k", executor.ErrNotFound)
}

func testCancelled(t *testing.T, e *env) {
	v := e.save(t, ft, "k", "x", time.Hour, 0)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := e.rs.Load(cctx, ft, "k")
	wantErr(t, "Load", err, context.Canceled)
	_, err = e.rs.Save(cctx, ft, "k", executor.Record{Data: []byte("y"), Expires: e.in(time.Hour), Version: v})
	wantErr(t, "Save", err, context.Canceled)
	_, err = e.rs.Take(cctx, ft, "k")
	wantErr(t, "Take", err, context.Canceled)
	wantErr(t, "Delete", e.rs.Delete(cctx, ft, "k"), context.Canceled)
	e.clock.add(2 * time.Hour)
	_, err = e.rs.Sweep(cctx, e.in(0), 0)
	wantErr(t, "Sweep", err, context.Canceled)
	e.wantLoadErr(t, ft, "k", executor.ErrExpired) // nothing was taken, deleted or swept
}

func bounded(t *testing.T, e *env) executor.Bounded {
	b, ok := e.rs.(executor.Bounded)
	if !ok {
		t.Skip("not executor.Bounded")
	}
	u := b.Usage()
	if u.MaxRecords < 4 || u.MaxRecords > 64 || (u.MaxBytes != 0 && u.MaxBytes < 16<<10) {
		t.Fatalf("bounds of %d records and %d bytes; the suite needs 4 to 64 records and at least 16 KiB or no bound in bytes", u.MaxRecords, u.MaxBytes)
	}
	return b
}

func testBoundRecords(t *testing.T, e *env) {
	b := bounded(t, e)
	max := b.Usage().MaxRecords
	// max records, the first expiring soon; then past it.
	e.save(t, ex, "soon", "x", time.Minute, 0)
	vers := map[string]uint64{}
	for i := 1; i < max; i++ {
		k := fmt.Sprintf("r%02d", i)
		vers[k] = e.save(t, ex, k, "x", time.Hour+time.Duration(i)*time.Second, 0)
	}
	if u := b.Usage(); u.Records != max || u.Evicted != 0 {
		t.Fatalf("Usage = %+v; want %d records, none evicted", u, max)
	}
	e.clock.add(2 * time.Minute)
	// The expired record goes first, and is no eviction.
	e.save(t, ft, "new1", "x", 30*time.Minute, 0)
	e.wantLoadErr(t, ex, "soon", executor.ErrNotFound)
	if u := b.Usage(); u.Records != max || u.Evicted != 0 {
		t.Errorf("after dropping an expired record, Usage = %+v; want %d records, none evicted", u, max)
	}
	// Then the live record expiring soonest, not the one being saved
	// even though it expires sooner still.
	e.save(t, ft, "new2", "x", time.Minute, 0)
	e.wantLoadErr(t, ft, "new1", executor.ErrNotFound)
	e.save(t, ft, "new3", "x", 2*time.Hour, 0)
	e.wantLoadErr(t, ft, "new2", executor.ErrNotFound)
	e.wantLoad(t, ex, "r01", "x", vers["r01"]) // not evicted: new2 went
	if u := b.Usage(); u.Records != max || u.Evicted != 2 {
		t.Errorf("Usage = %+v; want %d records, 2 evicted", u, max)
	}
	e.wantLoad(t, ex, "r02", "x", vers["r02"])
	// Replacing a record in place evicts nothing.
	e.save(t, ex, "r02", "y", 3*time.Hour, vers["r02"])
	if u := b.Usage(); u.Records != max || u.Evicted != 2 {
		t.Errorf("after a replace, Usage = %+v; want %d records, 2 evicted", u, max)
	}
}

// testBoundCount: the count of records follows saves, replaces,
// deletes, takes and sweeps.
func testBoundCount(t *testing.T, e *env) {
	b := bounded(t, e)
	want := func(n int, after string) {
		t.Helper()
		if u := b.Usage(); u.Records != n {
			t.Errorf("after %s, Usage = %+v; want %d records", after, u, n)
		}
	}
	v := e.save(t, ex, "a", "x", time.Hour, 0)
	e.save(t, ft, "b", "x", time.Minute, 0)
	e.save(t, ft, "c", "x", time.Minute, 0)
	e.save(t, ex, "d", "x", time.Hour, 0)
	want(4, "4 saves")
	e.save(t, ex, "a", "y", 2*time.Hour, v)
	want(4, "a replace")
	if err := e.rs.Delete(ctx, ex, "d"); err != nil {
		t.Fatal(err)
	}
	want(3, "a delete")
	if _, err := e.rs.Take(ctx, ft, "b"); err != nil {
		t.Fatal(err)
	}
	want(2, "a take")
	e.clock.add(2 * time.Minute)
	want(2, "an expiry")
	if n, err := e.rs.Sweep(ctx, e.in(0), 0); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	want(1, "a sweep")
	if u := b.Usage(); u.Evicted != 0 {
		t.Errorf("Usage = %+v; want none evicted", u)
	}
}

func testBoundBytes(t *testing.T, e *env) {
	b := bounded(t, e)
	maxBytes := b.Usage().MaxBytes
	if maxBytes == 0 {
		t.Skip("bounded in records only")
	}
	size := int(maxBytes / 3)
	if size > executor.MaxDataSize {
		t.Skipf("MaxBytes %d is too large to fill with three records", maxBytes)
	}
	data := strings.Repeat("d", size)
	for i := range 5 {
		e.save(t, ex, fmt.Sprintf("big%d", i), data, time.Hour+time.Duration(i)*time.Minute, 0)
		if u := b.Usage(); u.Bytes > u.MaxBytes || u.Records > 2 {
			t.Errorf("after %d saves of a third of MaxBytes, Usage = %+v; want at most 2 records within MaxBytes", i+1, u)
		}
	}
	// The two latest stay.
	for i := range 5 {
		_, err := e.rs.Load(ctx, ex, fmt.Sprintf("big%d", i))
		if i < 3 {
			wantErr(t, fmt.Sprintf("Load(big%d)", i), err, executor.ErrNotFound)
		} else if err != nil {
			t.Errorf("Load(big%d): %v", i, err)
		}
	}
	if u := b.Usage(); u.Evicted != 3 {
		t.Errorf("Usage = %+v; want 3 evicted", u)
	}
	// One record over the bound is refused and evicts nothing.
	if int(maxBytes) <= executor.MaxDataSize {
		_, err := e.rs.Save(ctx, ex, "huge", executor.Record{Data: make([]byte, maxBytes), Expires: e.in(time.Hour)})
		wantErr(t, "Save of a record over MaxBytes", err, executor.ErrInvalid)
		if u := b.Usage(); u.Records != 2 {
			t.Errorf("after a refused Save, Usage = %+v; want the 2 records", u)
		}
	}
}
