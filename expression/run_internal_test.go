package expression

import (
	"context"
	"errors"
	"testing"

	"go.starlark.net/starlark"
)

// mustCompile compiles src as a policy's expression.
func mustCompile(t *testing.T, src string) *Program {
	t.Helper()
	prog, probs := compile(src)
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	return prog
}

// allArgs are a policy handler's arguments, each v.
func allArgs(v starlark.Value) starlark.Tuple {
	args := make(starlark.Tuple, len(params))
	for i := range args {
		args[i] = v
	}
	return args
}

// panicky is a host value whose attributes panic, standing in for a bug
// in the interpreter or a helper.
type panicky struct{ starlark.NoneType }

func (panicky) Attr(string) (starlark.Value, error) { panic("boom") }
func (panicky) AttrNames() []string                 { return nil }

func TestRunRecoversPanic(t *testing.T) {
	prog := mustCompile(t, "return context.x")
	args := allArgs(panicky{})
	_, err := prog.run(context.Background(), nil, Limits{}, args)
	if !errors.Is(err, ErrPanic) {
		t.Fatalf("error %v, want ErrPanic", err)
	}
}

// polled is a context that never closes a Done channel (it has none),
// counts the calls of Err, and ends after the given number of them:
// only a run that looks at Err between steps stops on it.
type polled struct {
	context.Context
	calls, after int
	done         bool // Done was called
}

func (c *polled) Done() <-chan struct{} { c.done = true; return nil }
func (c *polled) Err() error {
	if c.calls++; c.calls > c.after {
		return context.Canceled
	}
	return nil
}

// TestRunPollsContext: a run looks at its context's Err every
// stepsPerCheck steps, without asking for Done (the planner's timeout
// starts no timer for an expression), and stops within stepsPerCheck
// steps of its end; a run that ends before that never looks again.
func TestRunPollsContext(t *testing.T) {
	prog := mustCompile(t, "while True:\n    pass")
	args := allArgs(starlark.None)
	ctx := &polled{Context: context.Background(), after: 5}
	h := &host{}
	_, err := prog.run(ctx, h, Limits{MaxSteps: 1 << 62}, args)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want Canceled", err)
	}
	// Err is called once before the run, then at every check; the
	// sixth call ended it, and once more after the run.
	if ctx.done || ctx.calls != 7 {
		t.Errorf("Done called %v, Err called %d times, want 7", ctx.done, ctx.calls)
	}
	if max := uint64(5*stepsPerCheck) + prog.initSteps + 1; h.steps > max || h.steps < max-stepsPerCheck {
		t.Errorf("stopped after %d steps, want about %d", h.steps, max)
	}

	short := mustCompile(t, "return True")
	ctx = &polled{Context: context.Background(), after: 1}
	if _, err := short.run(ctx, nil, Limits{}, args); err != nil || ctx.done || ctx.calls != 1 {
		t.Errorf("%v: Done %v, Err called %d times, want once", err, ctx.done, ctx.calls)
	}
}
