package plan

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineCtx is the context a policy is evaluated in under its
// binding's timeout: context.WithDeadline's, except that the timer
// behind Done starts only when something asks for Done (an HTTP
// request, context.AfterFunc, a context made from it). Until then
// Deadline and Err answer from the clock, so an evaluator that only
// checks Err (the expression evaluator does, between steps) costs one
// allocation and no timer, where WithDeadline costs four and a timer
// started and stopped at every evaluation.
type deadlineCtx struct {
	parent   context.Context
	deadline time.Time
	mu       sync.Mutex // held to start the timer, and to stop
	// timed is context.WithDeadline(parent, deadline), made by the
	// first Done; nil before.
	timed atomic.Pointer[timed]
	// ended is Err once stop has run without a timer started.
	ended atomic.Pointer[error]
}

type timed struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// closed is the Done of a context stopped before anything asked for
// its Done.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// withDeadline is context.WithDeadline(parent, d) without a timer until
// one is needed; stop is its cancel function.
func withDeadline(parent context.Context, d time.Time) *deadlineCtx {
	return &deadlineCtx{parent: parent, deadline: d}
}

// Deadline is the earlier of the parent's and its own, as WithDeadline's.
func (c *deadlineCtx) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

// Done starts the timer, once, and returns its channel.
func (c *deadlineCtx) Done() <-chan struct{} {
	if t := c.timed.Load(); t != nil {
		return t.ctx.Done()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.timed.Load(); t != nil {
		return t.ctx.Done()
	}
	if c.ended.Load() != nil {
		return closed
	}
	ctx, cancel := context.WithDeadline(c.parent, c.deadline)
	c.timed.Store(&timed{ctx, cancel})
	return ctx.Done()
}

// Err is the parent's error, then DeadlineExceeded once the deadline has
// passed, or Canceled once stopped, as WithDeadline's.
func (c *deadlineCtx) Err() error {
	if t := c.timed.Load(); t != nil {
		return t.ctx.Err()
	}
	if err := c.ended.Load(); err != nil {
		return *err
	}
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Value is the parent's. Package context finds the canceler of a
// context through Value with a key of type *int (its cancelCtxKey):
// those keys start the timer and are answered by its context, so that
// context.Cause and the contexts made from this one see it.
func (c *deadlineCtx) Value(key any) any {
	if _, ok := key.(*int); ok {
		c.Done()
	}
	if t := c.timed.Load(); t != nil {
		return t.ctx.Value(key)
	}
	return c.parent.Value(key)
}

// String names it as WithDeadline's does.
func (c *deadlineCtx) String() string {
	return "plan.withDeadline(" + c.deadline.String() + ")"
}

// stop is the context's cancel function: Err is Canceled from then on,
// unless it had ended already.
func (c *deadlineCtx) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.timed.Load(); t != nil {
		t.cancel()
		return
	}
	if c.ended.Load() != nil {
		return
	}
	switch err := c.Err(); err {
	case nil, context.Canceled:
		c.ended.Store(&canceled)
	case context.DeadlineExceeded:
		c.ended.Store(&exceeded)
	default:
		c.ended.Store(errorPtr(err))
	}
}

func errorPtr(err error) *error { return &err }

// canceled and exceeded are what stop stores, without allocating.
var canceled, exceeded = context.Canceled, context.DeadlineExceeded
