package etcd_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/etcd/internal/etcdtest"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/executor/executortest"
	"github.com/authflow/authflow/store"
)

// The executor's run state kept beside a configuration on etcd passes the
// run-state conformance suite: concurrent Saves and Takes race through
// etcd's optimistic transactions there.
func TestRunStateConformance(t *testing.T) {
	c := etcdtest.Start(t, 1, nil)
	executortest.Run(t, func(t *testing.T, now func() time.Time) executor.RunState {
		s, err := store.New(openDB(t, c, nextPrefix()), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return executor.NewStoreRunState(s, executor.KVOptions{Now: now, MaxRecords: 32})
	})
}

// Two processes on one prefix share run state: an execution saved by one
// is read by the other, a token taken twice at once, once from each, is
// taken once, and the run-state writes reach neither process's change
// feed.
func TestRunStateShared(t *testing.T) {
	ctx := context.Background()
	c := etcdtest.Start(t, 1, nil)
	prefix := nextPrefix()
	a, b := newStore(t, c, prefix), newStore(t, c, prefix)
	var mu sync.Mutex
	var heard []int64
	stop := b.OnChange(func(rev int64, _ []store.Change) {
		mu.Lock()
		heard = append(heard, rev)
		mu.Unlock()
	})
	defer stop()
	start := revision(t, a)
	ra, rb := executor.NewStoreRunState(a, executor.KVOptions{}), executor.NewStoreRunState(b, executor.KVOptions{})

	key := executor.ExecutionKey("session", "default-authentication-flow")
	v, err := ra.Save(ctx, executor.Executions, key, executor.Record{Data: []byte("plan"), Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := rb.Load(ctx, executor.Executions, key)
	if err != nil || string(r.Data) != "plan" || r.Version != v {
		t.Fatalf("the other process loads %q, %d, %v; want plan, %d", r.Data, r.Version, err, v)
	}
	// Both replicas save over the version they read: one wins.
	_, errA := ra.Save(ctx, executor.Executions, key, executor.Record{Data: []byte("a"), Expires: time.Now().Add(time.Hour), Version: v})
	_, errB := rb.Save(ctx, executor.Executions, key, executor.Record{Data: []byte("b"), Expires: time.Now().Add(time.Hour), Version: v})
	if errA != nil || !errors.Is(errB, executor.ErrConflict) {
		t.Errorf("saves over one version from two processes: %v, %v; want nil, ErrConflict", errA, errB)
	}

	for round := range 5 {
		if _, err := ra.Save(ctx, executor.FlowTokens, "token", executor.Record{Data: []byte("t"), Expires: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, rs := range []executor.RunState{ra, rb} {
			wg.Go(func() { _, errs[i] = rs.Take(ctx, executor.FlowTokens, "token") })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), executor.ErrNotFound) {
			t.Errorf("round %d: Takes from two processes: %v; want one nil and one ErrNotFound", round, errs)
		}
	}

	// A configuration write, then: b's feed hears its revision, and only it.
	if err := a.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Flows.CreateJSON(tx, []byte(`{"name":"n","slug":"s","title":"t","designation":"authentication"}`), nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b hears the configuration write", func() bool { return b.Delivered() > start })
	mu.Lock()
	defer mu.Unlock()
	if len(heard) != 1 || heard[0] != start+1 {
		t.Errorf("b's change feed heard revisions %v; want only %d, the configuration write", heard, start+1)
	}
}
