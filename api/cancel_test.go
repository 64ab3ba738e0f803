package api_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/store"
)

// TestCancelledScan: a list that scans the whole collection (a search
// that matches nothing) stops soon after its client goes away: the
// handler passes the request's context to the store, whose scans check it
// between records. The request's context is a countdown, cancelled after
// a set number of checks, so where the scan stops is set by the records it
// has read, not by a clock: an uncancelled scan checks it at least once
// per flow, and a scan cancelled a tenth of the way in answers 503 after
// at most a few more checks.
func TestCancelledScan(t *testing.T) {
	s := newStore(t, nil)
	h := api.NewHandler(s, nil)
	const path = "/api/v3/flows/instances/?search=no-such-flow-anywhere&ordering=name"
	const flows = 2000
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		for i := range flows {
			body := fmt.Sprintf(`{"name": "Flow %d", "slug": "flow-%d", "title": "Title %d", "designation": "authentication"}`, i, i, i)
			if _, err := tx.Create(store.ModelFlow, []byte(body), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(ctx *countdown) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil).WithContext(ctx)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkResponse(t, req, rec.Code, rec.Header(), rec.Body.Bytes())
		return rec
	}

	full := newCountdown(math.MaxInt64)
	if rec := serve(full); rec.Code != http.StatusOK {
		t.Fatalf("full scan: %d %s", rec.Code, rec.Body)
	}
	checks := full.checks()
	if checks < flows {
		t.Fatalf("a full scan of %d flows checks its context %d times, not once a flow", flows, checks)
	}

	budget := checks / 10
	cut := newCountdown(budget)
	rec := serve(cut)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("a scan cancelled %d checks in (of %d): status %d, want 503: %s", budget, checks, rec.Code, rec.Body)
	}
	jsonEqual(t, rec.Body.Bytes(), `{"detail": "The request was cancelled before it completed."}`)
	if after := cut.checks() - budget; after > 3 {
		t.Errorf("the scan went on for %d checks after its context was cancelled", after)
	}
}

// countdown is a context that is cancelled once its Err has been called
// n times: the next call, and every later one, reports context.Canceled.
type countdown struct {
	context.Context
	left  atomic.Int64
	calls atomic.Int64
	once  sync.Once
	done  chan struct{}
}

func newCountdown(n int64) *countdown {
	c := &countdown{Context: context.Background(), done: make(chan struct{})}
	c.left.Store(n)
	return c
}

// checks is the number of times Err was called.
func (c *countdown) checks() int64 { return c.calls.Load() }

func (c *countdown) Done() <-chan struct{} { return c.done }

func (c *countdown) Err() error {
	c.calls.Add(1)
	if c.left.Add(-1) >= 0 {
		return nil
	}
	c.once.Do(func() { close(c.done) })
	return context.Canceled
}
