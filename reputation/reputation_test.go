package reputation_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/reputation/reputationtest"
)

var (
	ctx   = context.Background()
	local = netip.MustParseAddr("127.0.0.1")
	other = netip.MustParseAddr("10.0.0.2")
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newMem(t *testing.T, o reputation.Options) *reputation.Mem {
	t.Helper()
	m, err := reputation.NewMem(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sum(t *testing.T, s reputation.Scores, q reputation.Query) int64 {
	t.Helper()
	n, err := s.Sum(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func add(t *testing.T, s reputation.Scores, ip netip.Addr, id string, amount int64) {
	t.Helper()
	if err := s.Add(ctx, ip, id, amount); err != nil {
		t.Fatal(err)
	}
}

func byIP(ip netip.Addr) reputation.Query { return reputation.Query{IP: ip, CheckIP: true} }
func byID(id string) reputation.Query     { return reputation.Query{Identifier: id, CheckIdentifier: true} }

// Limits other than the defaults, and limits that cannot hold.
func TestLimits(t *testing.T) {
	m2 := newMem(t, reputation.Options{Limits: reputation.Limits{Lower: -2, Upper: 0}})
	add(t, m2, local, "u", 3)
	add(t, m2, local, "u", -9)
	if got := sum(t, m2, byID("u")); got != -2 {
		t.Errorf("custom limits %d, want -2", got)
	}
	if _, err := reputation.NewMem(reputation.Options{Limits: reputation.Limits{Lower: 1, Upper: 5}}); !errors.Is(err, reputation.ErrInvalid) {
		t.Errorf("positive lower limit: %v, want ErrInvalid", err)
	}
	if _, err := reputation.NewMem(reputation.Options{Limits: reputation.Limits{Lower: -1, Upper: -1}}); !errors.Is(err, reputation.ErrInvalid) {
		t.Errorf("negative upper limit: %v, want ErrInvalid", err)
	}
}

// A pair expires Expiry after its creation, whatever changed it since.
func TestExpiry(t *testing.T) {
	c := &clock{time.Unix(1_700_000_000, 0)}
	m := newMem(t, reputation.Options{Now: c.now})
	add(t, m, local, "u", -1)
	c.t = c.t.Add(reputation.DefaultExpiry - time.Second)
	add(t, m, local, "u", -1)
	if got := sum(t, m, byID("u")); got != -2 {
		t.Fatalf("before expiry %d, want -2", got)
	}
	c.t = c.t.Add(time.Second)
	if got := sum(t, m, byID("u")); got != 0 {
		t.Errorf("expired %d, want 0", got)
	}
	if n, _ := m.Len(); n != 0 {
		t.Errorf("%d pairs held after expiry, want 0", n)
	}
	add(t, m, local, "u", -1)
	if got := sum(t, m, byIP(local)); got != -1 {
		t.Errorf("recreated %d, want -1", got)
	}
}

// Past MaxRecords the pairs created first are dropped; identifiers are
// cut to MaxIdentifierSize.
func TestBounded(t *testing.T) {
	m := newMem(t, reputation.Options{MaxRecords: 100})
	for i := range 1000 {
		add(t, m, local, fmt.Sprint("user", i), -1)
	}
	n, evicted := m.Len()
	if n != 100 || evicted != 900 {
		t.Errorf("held %d, evicted %d; want 100, 900", n, evicted)
	}
	if got := sum(t, m, byID("user0")); got != 0 {
		t.Errorf("oldest pair kept: %d", got)
	}
	if got := sum(t, m, byID("user999")); got != -1 {
		t.Errorf("newest pair %d, want -1", got)
	}
	if got := sum(t, m, byIP(local)); got != -100 {
		t.Errorf("ip total %d, want -100", got)
	}
	long := strings.Repeat("x", reputation.MaxIdentifierSize)
	add(t, m, local, long+"a", -1)
	add(t, m, local, long+"b", -1)
	if got := sum(t, m, byID(long)); got != -2 {
		t.Errorf("long identifiers %d, want -2 (one pair)", got)
	}
}

func reputationPolicy(checkIP, checkUsername bool, threshold int32) policy.Policy {
	return policy.Policy{Name: "reputation-test", Config: policy.Reputation{CheckIP: checkIP, CheckUsername: checkUsername, Threshold: threshold}}
}

func evaluate(t *testing.T, s reputation.Scores, p policy.Policy, req plan.PolicyRequest) plan.Result {
	t.Helper()
	r, err := reputation.Evaluator(s).Evaluate(ctx, p, req)
	if err != nil {
		t.Fatal(err)
	}
	if !r.ValidUntil.IsZero() {
		t.Errorf("ValidUntil %v, want zero (never cached)", r.ValidUntil)
	}
	return r
}

// authentik's test_policy: threshold 0 and no scores pass. Then the
// comparison is score <= threshold, by IP and by username.
func TestEvaluator(t *testing.T) {
	m := newMem(t, reputation.Options{})
	dir, err := memdir.New(memdir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := dir.CreateUser(ctx, directory.User{Username: "username", Name: "n", IsActive: true, Path: "users", Type: directory.UserTypeInternal})
	if err != nil {
		t.Fatal(err)
	}
	req := plan.PolicyRequest{User: plan.User{PK: u.PK, Authenticated: true}, Directory: dir}
	if r := evaluate(t, m, reputationPolicy(true, true, 0), req); !r.Passing {
		t.Error("threshold 0, no scores: failing, want passing")
	}
	if r := evaluate(t, m, reputationPolicy(true, true, -5), req); r.Passing {
		t.Error("threshold -5, no scores: passing, want failing")
	}
	// The request user's username, read from the directory.
	add(t, m, other, "username", -5)
	if r := evaluate(t, m, reputationPolicy(false, true, -5), req); !r.Passing {
		t.Error("username at -5: failing, want passing")
	}
	// The client IP.
	add(t, m, local, "someone", -5)
	req.HTTP = &plan.HTTPRequest{ClientIP: local}
	ipOnly := plan.PolicyRequest{HTTP: &plan.HTTPRequest{ClientIP: local}}
	if r := evaluate(t, m, reputationPolicy(true, false, -5), ipOnly); !r.Passing {
		t.Error("ip at -5: failing, want passing")
	}
	if r := evaluate(t, m, reputationPolicy(true, true, -10), req); !r.Passing {
		t.Error("ip and username at -10: failing, want passing")
	}
	if r := evaluate(t, m, reputationPolicy(true, true, -11), req); r.Passing {
		t.Error("ip and username at -10, threshold -11: passing, want failing")
	}
	// The pending user (a stand-in without pk) wins over the request's.
	pending := plan.PolicyRequest{User: req.User, Directory: dir, Context: map[string]any{
		directory.ContextPendingUser: directory.ContextUser(directory.User{Username: "unknown@example.com", Email: "unknown@example.com"}),
	}}
	add(t, m, other, "unknown@example.com", -3)
	if r := evaluate(t, m, reputationPolicy(false, true, -3), pending); !r.Passing {
		t.Error("pending user at -3: failing, want passing")
	}
	if r := evaluate(t, m, reputationPolicy(false, true, -4), pending); r.Passing {
		t.Error("pending user at -3, threshold -4: passing, want failing")
	}
	// The anonymous user has the empty username.
	if r := evaluate(t, m, reputationPolicy(false, true, -1), plan.PolicyRequest{}); r.Passing {
		t.Error("anonymous: passing, want failing")
	}
}

func TestEvaluatorUnknownUser(t *testing.T) {
	m := newMem(t, reputation.Options{})
	dir, _ := memdir.New(memdir.Options{})
	_, err := reputation.Evaluator(m).Evaluate(ctx, reputationPolicy(true, true, 0), plan.PolicyRequest{User: plan.User{PK: 42}, Directory: dir})
	if !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("unknown user: %v, want directory.ErrNotFound", err)
	}
}

func TestMemConformance(t *testing.T) {
	reputationtest.Run(t, func(t *testing.T, o reputation.Options) reputation.Scores { return newMem(t, o) })
}
