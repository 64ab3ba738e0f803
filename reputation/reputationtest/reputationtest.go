// Package reputationtest is the conformance suite of reputation.Scores
// implementations: authentik's update_score and the policy's sum.
package reputationtest

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/reputation"
)

// New returns empty scores with the options, whose Now is the suite's
// clock.
type New func(t *testing.T, o reputation.Options) reputation.Scores

// Run runs the suite against the implementation new makes.
func Run(t *testing.T, new New) {
	for _, c := range []struct {
		name string
		f    func(*testing.T, *env)
	}{
		{"Signals", testSignals},
		{"Limits", testLimits},
		{"Sum", testSum},
		{"UnknownIP", testUnknownIP},
		{"Expiry", testExpiry},
		{"Canceled", testCanceled},
		{"Concurrent", testConcurrent},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := &env{now: time.Unix(1_700_000_000, 0)}
			e.s = new(t, reputation.Options{Now: e.clock})
			c.f(t, e)
		})
	}
}

var (
	ctx   = context.Background()
	local = netip.MustParseAddr("127.0.0.1")
	other = netip.MustParseAddr("2001:db8::2")
)

type env struct {
	s   reputation.Scores
	mu  sync.Mutex
	now time.Time
}

func (e *env) clock() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }

func (e *env) advance(d time.Duration) { e.mu.Lock(); e.now = e.now.Add(d); e.mu.Unlock() }

func (e *env) add(t *testing.T, ip netip.Addr, id string, n int64) {
	t.Helper()
	if err := e.s.Add(ctx, ip, id, n); err != nil {
		t.Fatal(err)
	}
}

func (e *env) want(t *testing.T, q reputation.Query, want int64) {
	t.Helper()
	got, err := e.s.Sum(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("%+v: %d, want %d", q, got, want)
	}
}

func byIP(ip netip.Addr) reputation.Query { return reputation.Query{IP: ip, CheckIP: true} }
func byID(id string) reputation.Query     { return reputation.Query{Identifier: id, CheckIdentifier: true} }
func both(ip netip.Addr, id string) reputation.Query {
	return reputation.Query{IP: ip, Identifier: id, CheckIP: true, CheckIdentifier: true}
}

// authentik's test_ip_reputation, test_user_reputation and
// test_update_reputation.
func testSignals(t *testing.T, e *env) {
	e.add(t, local, "username", reputation.LoginFailed)
	e.want(t, byIP(local), -1)
	e.want(t, byID("username"), -1)
	e.add(t, other, "u2", 4)
	e.add(t, other, "u2", reputation.LoginFailed)
	e.want(t, byID("u2"), 3)
	e.add(t, other, "u2", reputation.LoggedIn)
	e.want(t, byID("u2"), 4)
}

// authentik's test_reputation_lower_limit and _upper_limit; a new
// pair's amount is clamped too.
func testLimits(t *testing.T, e *env) {
	e.add(t, local, "username", 0)
	e.add(t, local, "username", -1000)
	e.want(t, byID("username"), reputation.DefaultLower)
	e.add(t, local, "username", 1000)
	e.want(t, byID("username"), reputation.DefaultUpper)
	e.add(t, local, "new", -1000)
	e.want(t, byID("new"), reputation.DefaultLower)
}

// The sum is over the pairs of the IP or the identifier, each once.
func testSum(t *testing.T, e *env) {
	e.add(t, local, "alice", -5)
	e.add(t, local, "bob", -5)
	e.add(t, other, "alice", -2)
	e.add(t, other, "carol", 3)
	e.want(t, byIP(local), -10)
	e.want(t, byIP(other), 1)
	e.want(t, byID("alice"), -7)
	e.want(t, both(local, "alice"), -12)
	e.want(t, both(other, "alice"), -4)
	e.want(t, both(other, "nobody"), 1)
	e.want(t, reputation.Query{IP: local, Identifier: "alice"}, 0)
	e.want(t, byIP(netip.MustParseAddr("::ffff:127.0.0.1")), -10)
	e.want(t, byID("nobody"), 0)
}

// An unknown address counts as 255.255.255.255.
func testUnknownIP(t *testing.T, e *env) {
	e.add(t, netip.Addr{}, "u", -1)
	e.want(t, byIP(reputation.UnknownIP), -1)
	e.want(t, byIP(netip.Addr{}), -1)
}

// A pair expires Expiry after its creation, whatever changed it since.
func testExpiry(t *testing.T, e *env) {
	e.add(t, local, "u", -1)
	e.advance(reputation.DefaultExpiry - time.Second)
	e.add(t, local, "u", -1)
	e.add(t, local, "v", -1)
	e.want(t, both(local, "u"), -3)
	e.advance(time.Second)
	e.want(t, byID("u"), 0)
	e.want(t, byIP(local), -1)
	e.add(t, local, "u", -1)
	e.want(t, byID("u"), -1)
}

func testCanceled(t *testing.T, e *env) {
	c, cancel := context.WithCancel(ctx)
	cancel()
	if err := e.s.Add(c, local, "u", -1); !errors.Is(err, context.Canceled) {
		t.Errorf("Add: %v", err)
	}
	if _, err := e.s.Sum(c, both(local, "u")); !errors.Is(err, context.Canceled) {
		t.Errorf("Sum: %v", err)
	}
}

// Concurrent failures are all counted.
func testConcurrent(t *testing.T, e *env) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.s.Add(ctx, local, "u", reputation.LoginFailed); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	e.want(t, byID("u"), -4)
	e.want(t, byIP(local), -4)
}
