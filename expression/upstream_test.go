package expression_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
)

// TestUpstream ports authentik's policies/expression/tests.py where it
// applies (EXPRESSIONS.md §3).
func TestUpstream(t *testing.T) {
	// test_false: messages are kept when the policy fails.
	res, err := eval(t, `ak_message("some message");return False`, plan.PolicyRequest{})
	if err != nil || res.Passing || !reflect.DeepEqual(res.Messages, []string{"some message"}) {
		t.Errorf("test_false: %v %q %v", res.Passing, res.Messages, err)
	}
	// test_true.
	res, err = eval(t, `ak_message("some message");return True`, plan.PolicyRequest{})
	if err != nil || !res.Passing || !reflect.DeepEqual(res.Messages, []string{"some message"}) {
		t.Errorf("test_true: %v %q %v", res.Passing, res.Messages, err)
	}
	// test_invalid: ";" is an error (a PolicyException; the binding's
	// failure_result applies).
	if _, err := eval(t, ";", plan.PolicyRequest{}); !errors.Is(err, expression.ErrCompile) {
		t.Errorf("test_invalid: %v", err)
	}
	// test_execution_logging (ak_message(request.http_request.path)):
	// TestUpstreamHTTPRequest. test_call_policy needs the next step.
	if _, err := eval(t, "return ak_call_policy('p').passing", plan.PolicyRequest{}); !errors.Is(err, expression.ErrNotYet) {
		t.Errorf("ak_call_policy: %v", err)
	}
}
