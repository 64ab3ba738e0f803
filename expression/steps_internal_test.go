package expression

import (
	"context"
	"errors"
	"testing"

	"go.starlark.net/starlark"
)

// TestRunSteps: a run counts the steps of defining the handler, which
// its program did once when compiling, so that Limits.MaxSteps (and
// what ak_call_policy hands on) is as when each run defined it: the
// module executed and its handler called on one thread take as many
// steps, and a limit of exactly that many stops the run.
func TestRunSteps(t *testing.T) {
	for _, src := range []string{"return True", "x = [1, 2]\nfor i in x:\n    pass\nreturn len(x)"} {
		prog, probs := compile(src)
		if len(probs) != 0 {
			t.Fatal(probs)
		}
		args := make(starlark.Tuple, len(params))
		for i := range args {
			args[i] = starlark.None
		}
		th := &starlark.Thread{}
		g, err := starlark.ExecFileOptions(fileOptions, th, "expression", wrap(src, params), builtins)
		if err == nil {
			_, err = starlark.Call(th, g["handler"], args, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		want := th.ExecutionSteps()
		h := &host{}
		if _, err := prog.run(context.Background(), h, Limits{MaxSteps: want + 1}, args); err != nil || h.steps != want {
			t.Errorf("%q: %d steps (%v), want %d", src, h.steps, err, want)
		}
		if _, err := prog.run(context.Background(), h, Limits{MaxSteps: want}, args); !errors.Is(err, ErrSteps) {
			t.Errorf("%q: limit %d: %v, want ErrSteps", src, want, err)
		}
	}
}
