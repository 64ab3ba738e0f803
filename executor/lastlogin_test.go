package executor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// gatedRecorder holds each RecordLogins until release, keeping the
// batches.
type gatedRecorder struct {
	mu      sync.Mutex
	batches []map[int64]time.Time
	entered chan struct{}
	release chan struct{}
	fail    error
}

func (g *gatedRecorder) RecordLogins(_ context.Context, logins map[int64]time.Time) error {
	g.entered <- struct{}{}
	<-g.release
	g.mu.Lock()
	defer g.mu.Unlock()
	g.batches = append(g.batches, logins)
	return g.fail
}

// Logins noted while a write is under way are written together in the
// next one; the newest time of a user wins; close writes what is left.
func TestLastLoginsBatch(t *testing.T) {
	h := newHarness(t, "")
	g := &gatedRecorder{entered: make(chan struct{}, 10), release: make(chan struct{})}
	l := newLastLogins(h.e, g)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.note(context.Background(), 1, t0)
	<-g.entered // the first write holds {1}
	l.note(context.Background(), 2, t0)
	l.note(context.Background(), 3, t0)
	l.note(context.Background(), 2, t0.Add(time.Second))
	close(g.release)
	l.wait()
	if len(g.batches) != 2 || len(g.batches[0]) != 1 || len(g.batches[1]) != 2 || !g.batches[1][2].Equal(t0.Add(time.Second)) {
		t.Errorf("batches %v; want {1}, then {2 (its later time), 3}", g.batches)
	}
	l.note(context.Background(), 4, t0)
	l.close()
	if len(g.batches) != 3 || len(g.batches[2]) != 1 {
		t.Errorf("after close: batches %v", g.batches)
	}
	// After close, a login is written at once.
	l.note(context.Background(), 5, t0)
	if len(g.batches) != 4 {
		t.Errorf("a login after close: batches %v", g.batches)
	}
}

// A failed write is a system_exception event, never the login's error.
func TestLastLoginsFail(t *testing.T) {
	h := newHarness(t, "")
	g := &gatedRecorder{entered: make(chan struct{}, 10), release: make(chan struct{}), fail: errors.New("disk full")}
	close(g.release)
	l := newLastLogins(h.e, g)
	l.note(context.Background(), 1, time.Now())
	l.wait()
	l.close()
	if ev := h.lastEvent(t, EventSystemException); ev.Message != "Recording the last login of 1 users failed: disk full" {
		t.Errorf("event %+v", ev)
	}
}

// recorder keeps the batches it is given.
type recorder struct {
	mu      sync.Mutex
	batches []map[int64]time.Time
}

func (r *recorder) RecordLogins(_ context.Context, logins map[int64]time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, logins)
	return nil
}

// The logins of one window are written together, though the worker was
// idle at the first; wait does not wait for the window's end.
func TestLastLoginsWindow(t *testing.T) {
	h := newHarness(t, "")
	r := &recorder{}
	l := newLastLogins(h.e, r)
	defer l.close()
	l.mu.Lock()
	l.window = time.Hour
	l.mu.Unlock()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.note(context.Background(), 1, t0)
	l.note(context.Background(), 2, t0)
	l.wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.batches) != 1 || len(r.batches[0]) != 2 {
		t.Errorf("batches %v; want one of two logins", r.batches)
	}
}
