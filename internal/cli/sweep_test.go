package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authflow/authflow/executor"
)

// serve's sweeper removes every expired execution at each tick, in as
// many batches as it takes, and leaves live ones.
func TestSweep(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	rs := executor.NewMemRunState(executor.MemOptions{Now: clock})
	ctx := context.Background()
	save := func(key string, ttl time.Duration) {
		if _, err := rs.Save(ctx, executor.Executions, key, executor.Record{Data: []byte("x"), Expires: now.Add(ttl)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range executor.MaxSweep + 5 {
		save(fmt.Sprint("old", i), time.Minute)
	}
	save("live", time.Hour)
	now = now.Add(2 * time.Minute)

	sctx, cancel := context.WithCancel(ctx)
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sweep(sctx, rs, tick, clock, t.Logf)
	}()
	tick <- now
	tick <- now // taken once the first sweep is over
	cancel()
	<-done
	if u := rs.Usage(); u.Records != 1 {
		t.Errorf("%d records after the sweep, want the live one", u.Records)
	}
	if _, err := rs.Load(ctx, executor.Executions, "live"); err != nil {
		t.Errorf("the live execution: %v", err)
	}
	if _, err := rs.Load(ctx, executor.Executions, "old0"); !errors.Is(err, executor.ErrNotFound) {
		t.Errorf("an expired execution: %v", err)
	}
}
