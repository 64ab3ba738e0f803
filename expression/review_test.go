package expression_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
	"go.starlark.net/starlark"
)

// TestTypedNilContext: a plan context holding a typed nil (a nil
// *starlark.Dict) is an error, not a panic out of Evaluate.
func TestTypedNilContext(t *testing.T) {
	var d *starlark.Dict
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v", r)
		}
	}()
	_, err := expression.Evaluator(nil).Evaluate(context.Background(), expr("return True"), plan.PolicyRequest{Context: map[string]any{"a": d}})
	if err == nil || !strings.Contains(err.Error(), "cannot pass a nil *starlark.Dict") {
		t.Errorf("%v", err)
	}
}
