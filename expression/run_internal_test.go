package expression

import (
	"context"
	"errors"
	"testing"

	"go.starlark.net/starlark"
)

// panicky is a host value whose attributes panic, standing in for a bug
// in the interpreter or a helper.
type panicky struct{ starlark.NoneType }

func (panicky) Attr(string) (starlark.Value, error) { panic("boom") }
func (panicky) AttrNames() []string                 { return nil }

func TestRunRecoversPanic(t *testing.T) {
	prog, probs := compile("return context.x")
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	args := make(starlark.Tuple, len(params))
	for i := range args {
		args[i] = panicky{}
	}
	_, err := prog.run(context.Background(), Limits{}, args)
	if !errors.Is(err, ErrPanic) {
		t.Fatalf("error %v, want ErrPanic", err)
	}
}
