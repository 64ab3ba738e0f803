package plan

import (
	"context"
	"errors"
	"testing"
	"time"
)

// wait waits for ch to close; the bound is a failsafe, far above any
// deadline here.
func wait(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatal("Done never closed")
	}
}

// TestDeadlineCtx: a binding's timeout context answers as
// context.WithDeadline's does (Deadline, Err, Done, Value, Cause, the
// contexts made from it, its stop), starting a timer only for Done.
func TestDeadlineCtx(t *testing.T) {
	type key struct{}
	base := context.WithValue(context.Background(), key{}, "v")
	far := time.Now().Add(time.Hour)

	t.Run("running", func(t *testing.T) {
		c := withDeadline(base, far)
		defer c.stop()
		if d, ok := c.Deadline(); !ok || !d.Equal(far) {
			t.Errorf("Deadline %v %v", d, ok)
		}
		if c.Err() != nil || c.Value(key{}) != "v" || context.Cause(c) != nil {
			t.Errorf("Err %v, Value %v, Cause %v", c.Err(), c.Value(key{}), context.Cause(c))
		}
		if c.timed.Load() != nil {
			t.Error("a timer started without Done")
		}
	})
	t.Run("the parent's earlier deadline", func(t *testing.T) {
		early := time.Now().Add(time.Minute)
		p, cancel := context.WithDeadline(base, early)
		defer cancel()
		c := withDeadline(p, far)
		defer c.stop()
		if d, ok := c.Deadline(); !ok || !d.Equal(early) {
			t.Errorf("Deadline %v %v, want the parent's", d, ok)
		}
	})
	t.Run("past its deadline", func(t *testing.T) {
		p, cancel := context.WithCancel(base)
		defer cancel()
		c := withDeadline(p, time.Now().Add(-time.Second))
		defer c.stop()
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Errorf("Err %v", c.Err())
		}
		if c.timed.Load() != nil {
			t.Error("a timer started without Done")
		}
		if err := context.Cause(c); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Cause %v", err)
		}
		wait(t, c.Done())
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Errorf("Err after Done %v", c.Err())
		}
	})
	t.Run("Done closes at the deadline", func(t *testing.T) {
		c := withDeadline(base, time.Now().Add(5*time.Millisecond))
		defer c.stop()
		ran := make(chan struct{})
		context.AfterFunc(c, func() { close(ran) })
		child, cancel := context.WithCancel(c)
		defer cancel()
		wait(t, c.Done())
		wait(t, ran)
		wait(t, child.Done())
		if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(child.Err(), context.DeadlineExceeded) {
			t.Errorf("Err %v, the child's %v", c.Err(), child.Err())
		}
	})
	t.Run("the parent cancelled", func(t *testing.T) {
		for _, started := range []bool{false, true} {
			p, cancel := context.WithCancel(base)
			c := withDeadline(p, far)
			if started {
				c.Done()
			}
			cancel()
			if started {
				wait(t, c.Done())
			}
			if !errors.Is(c.Err(), context.Canceled) {
				t.Errorf("started %v: Err %v", started, c.Err())
			}
			c.stop()
		}
	})
	t.Run("stopped", func(t *testing.T) {
		for _, started := range []bool{false, true} {
			c := withDeadline(base, far)
			if started {
				c.Done()
			}
			c.stop()
			wait(t, c.Done())
			if !errors.Is(c.Err(), context.Canceled) {
				t.Errorf("started %v: Err %v", started, c.Err())
			}
			c.stop() // as a cancel function, more than once
		}
		// Stopped past its deadline, it stays DeadlineExceeded.
		c := withDeadline(base, time.Now().Add(-time.Second))
		c.stop()
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Errorf("Err %v", c.Err())
		}
	})
}

// TestDeadlineCtxAllocs: a binding's timeout that nothing waits on costs
// one allocation, where context.WithTimeout costs several and a timer.
func TestDeadlineCtxAllocs(t *testing.T) {
	ctx := context.Background()
	n := testing.AllocsPerRun(100, func() {
		c := withDeadline(ctx, time.Now().Add(30*time.Second))
		if c.Err() != nil {
			t.Fatal(c.Err())
		}
		c.stop()
	})
	if n > 1 {
		t.Errorf("%v allocations, want 1", n)
	}
}
