package expression

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.starlark.net/starlark"
)

// Limits bound one evaluation. Zero fields mean the defaults.
type Limits struct {
	// MaxSteps is the number of interpreter steps an evaluation may take;
	// zero means DefaultMaxSteps. A runaway loop fails with ErrSteps.
	MaxSteps uint64
	// MaxValues bounds the elements of what an evaluation hands back
	// (its writes to the plan context); zero means DefaultMaxValues.
	MaxValues int
}

// Defaults of Limits.
const (
	// DefaultMaxSteps stops a runaway loop within about 10 ms on one
	// core; the shipped expressions take under 100 steps.
	DefaultMaxSteps = 1_000_000
	// DefaultMaxValues is the number of elements an evaluation may hand
	// back.
	DefaultMaxValues = 100_000
)

// Errors of running an expression.
var (
	// ErrSteps: the evaluation took more than Limits.MaxSteps steps.
	ErrSteps = errors.New("expression: step limit reached")
	// ErrPanic: the interpreter panicked; the evaluation failed cleanly.
	ErrPanic = errors.New("expression: the interpreter panicked")
)

// RunError is an exception raised while an expression ran: Msg is its
// text, as authentik's str(exception) gives the user, and Line the line
// of the expression's text where it was raised (0 when unknown). Err is
// the Go error underneath, if any (ErrNotYet, ErrNoHost, ...).
type RunError struct {
	Line int
	Msg  string
	Err  error
}

// Error is Msg.
func (e *RunError) Error() string { return e.Msg }

// Unwrap returns Err.
func (e *RunError) Unwrap() error { return e.Err }

// threads are interpreter threads kept between runs, with the frames
// of their calls: a run takes one and sets its step count, limit,
// context and host, so that nothing of an earlier run remains.
var threads = sync.Pool{New: func() any {
	r := &runner{th: &starlark.Thread{Name: "expression", Print: func(*starlark.Thread, string) {}}}
	r.th.OnMaxSteps = r.check
	r.th.SetLocal(runnerLocal, r)
	return r
}}

// stepsPerCheck is how many steps a run takes between two looks at its
// context: a context that ends (the binding's timeout, the request's
// end) stops the run within that many steps (some 10 µs of a runaway
// loop), without a timer or a goroutine per run.
const stepsPerCheck = 1 << 10

// runner is a kept thread, what its step hook checks (the run's context
// and step limit) and the run's host (hostOf).
type runner struct {
	th    *starlark.Thread
	ctx   context.Context
	limit uint64
	h     *host
}

// check is the thread's OnMaxSteps, called every stepsPerCheck steps:
// it cancels the thread at the step limit or once the context has
// ended, and otherwise lets it run stepsPerCheck more.
func (r *runner) check(th *starlark.Thread) {
	switch {
	case th.Steps >= r.limit:
		th.Cancel("too many steps")
	case r.ctx.Err() != nil:
		th.Cancel("context done")
	default:
		th.SetMaxExecutionSteps(min(r.limit, th.Steps+stepsPerCheck))
	}
}

// run calls the program's handler with args under ctx and limits, with
// h (nil for none) as its thread's host. Every failure is an error: a
// context error when ctx ends, ErrSteps, ErrPanic or a *RunError.
func (p *Program) run(ctx context.Context, h *host, lim Limits, args starlark.Tuple) (v starlark.Value, err error) {
	if lim.MaxSteps == 0 {
		lim.MaxSteps = DefaultMaxSteps
	}
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%w: %v", ErrPanic, r)
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("expression: %w", err)
	}
	r := threads.Get().(*runner)
	th := r.th
	th.Uncancel()
	// The handler was defined when compiling; the run counts the steps
	// that took, as if it had defined it itself.
	th.Steps = p.initSteps
	r.ctx, r.limit = ctx, lim.MaxSteps
	th.SetMaxExecutionSteps(min(lim.MaxSteps, th.Steps+stepsPerCheck))
	r.h = h
	if h != nil {
		h.maxSteps = lim.MaxSteps
	}
	returned := false
	defer func() {
		if h != nil {
			h.steps = th.ExecutionSteps()
		}
		// The thread is kept for another run unless the interpreter
		// panicked.
		if returned {
			r.ctx, r.h = nil, nil
			threads.Put(r)
		}
	}()
	v, err = starlark.Call(th, p.handler, args, nil)
	returned = true
	if err == nil {
		return v, nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("expression: %w", cerr)
	}
	if th.ExecutionSteps() >= lim.MaxSteps {
		return nil, fmt.Errorf("%w (%d)", ErrSteps, lim.MaxSteps)
	}
	re := &RunError{Msg: err.Error(), Err: errors.Unwrap(err)}
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		re.Msg = ee.Msg
		for i := len(ee.CallStack) - 1; i >= 0; i-- {
			if f := ee.CallStack[i]; f.Pos.Filename() == "expression" {
				re.Line = int(f.Pos.Line) - 1
				break
			}
		}
	}
	return nil, re
}

// bytesPerStep is the bytes (or values) a helper handles for one
// interpreter step: a helper whose work grows with its arguments
// charges it to the thread, so a loop that calls it on a large value
// reaches Limits.MaxSteps as a loop doing that work itself would.
const bytesPerStep = 16

// charge counts n bytes or values of a helper's work against the
// thread's step limit before the work is done, failing once the limit
// is passed.
func charge(th *starlark.Thread, n int) error {
	if th == nil || n <= 0 {
		return nil
	}
	th.Steps += uint64(n/bytesPerStep) + 1
	if h := hostOf(th); h != nil && h.maxSteps > 0 && th.Steps >= h.maxSteps {
		return errors.New("Starlark computation cancelled: too many steps")
	}
	return nil
}
