package executor_test

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/reputation/reputationtest"
)

func runStateScores(t *testing.T, rs executor.RunState, o reputation.Options) *executor.RunStateScores {
	t.Helper()
	s, err := executor.NewRunStateScores(rs, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Scores in a MemRunState and in a bbolt store's run state pass the
// reputation suite; the store's Check accepts them.
func TestRunStateScores(t *testing.T) {
	t.Run("mem", func(t *testing.T) {
		reputationtest.Run(t, func(t *testing.T, o reputation.Options) reputation.Scores {
			return runStateScores(t, executor.NewMemRunState(executor.MemOptions{Now: o.Now}), o)
		})
	})
	t.Run("store", func(t *testing.T) {
		reputationtest.Run(t, func(t *testing.T, o reputation.Options) reputation.Scores {
			s := openStore(t, filepath.Join(t.TempDir(), "authflow.db"))
			return runStateScores(t, executor.NewStoreRunState(s, executor.KVOptions{Now: o.Now}), o)
		})
	})
}

// One IP's and one identifier's pairs are bounded by MaxPairsPerKey,
// keeping the newest; expired records are swept with the rest of the
// run state.
func TestRunStateScoresBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	rs := executor.NewMemRunState(executor.MemOptions{Now: clock})
	s := runStateScores(t, rs, reputation.Options{Now: clock})
	ip := netip.MustParseAddr("192.0.2.1")
	for i := range executor.MaxPairsPerKey + 10 {
		now = now.Add(time.Second)
		if err := s.Add(ctx, ip, fmt.Sprint("user", i), -1); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Sum(ctx, reputation.Query{IP: ip, CheckIP: true})
	if err != nil {
		t.Fatal(err)
	}
	if got != -executor.MaxPairsPerKey {
		t.Errorf("ip sum %d, want %d", got, -executor.MaxPairsPerKey)
	}
	// The oldest pair, dropped from the IP's record, is not counted
	// with the IP; its identifier's record still counts it alone.
	if got, _ := s.Sum(ctx, reputation.Query{IP: ip, Identifier: "user0", CheckIP: true, CheckIdentifier: true}); got != -executor.MaxPairsPerKey {
		t.Errorf("ip or the oldest user: %d, want %d", got, -executor.MaxPairsPerKey)
	}
	if got, _ := s.Sum(ctx, reputation.Query{Identifier: "user0", CheckIdentifier: true}); got != -1 {
		t.Errorf("the oldest user: %d, want -1", got)
	}
	now = now.Add(reputation.DefaultExpiry + time.Hour)
	n, err := rs.Sweep(ctx, now, executor.MaxSweep)
	if err != nil {
		t.Fatal(err)
	}
	if want := executor.MaxPairsPerKey + 10 + 1; n != want {
		t.Errorf("swept %d, want %d", n, want)
	}
	if _, err := rs.Load(ctx, executor.Reputation, "u"+"user1"); !errors.Is(err, executor.ErrNotFound) {
		t.Errorf("after sweep: %v", err)
	}
}

func TestRunStateScoresInvalid(t *testing.T) {
	_, err := executor.NewRunStateScores(executor.NewMemRunState(executor.MemOptions{}), reputation.Options{Limits: reputation.Limits{Lower: 1, Upper: 2}})
	if !errors.Is(err, reputation.ErrInvalid) {
		t.Errorf("%v, want reputation.ErrInvalid", err)
	}
}

// BenchmarkRunStateScores100k measures the heap that 100,000 distinct
// failing identifiers from one client address take as RunStateScores in
// a MemRunState: one record per identifier, and the address's record
// bounded to MaxPairsPerKey pairs.
func BenchmarkRunStateScores100k(b *testing.B) {
	var heap uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rs := executor.NewMemRunState(executor.MemOptions{MaxRecords: 200_000})
		s, err := executor.NewRunStateScores(rs, reputation.Options{})
		if err != nil {
			b.Fatal(err)
		}
		ip := netip.MustParseAddr("198.51.100.7")
		for i := range 100_000 {
			if err := s.Add(ctx, ip, fmt.Sprintf("user-%08d@example.com", i), reputation.LoginFailed); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		if u := rs.Usage(); u.Records != 100_001 {
			b.Fatalf("%d records", u.Records)
		}
		runtime.KeepAlive(rs)
	}
	b.ReportMetric(float64(heap)/1e6, "MB/100k")
}
