package expression_test

import (
	"context"
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
	// test_full: a truthy value passes (anonymous request).
	if res, err := eval(t, "return 'test'", plan.PolicyRequest{}); err != nil || !res.Passing {
		t.Errorf("test_full: %+v %v", res, err)
	}
	// test_valid.
	if res, err := eval(t, "return True", plan.PolicyRequest{}); err != nil || !res.Passing {
		t.Errorf("test_valid: %+v %v", res, err)
	}
	// test_validate, test_validate_invalid, and the API's validate:
	// "True" and "return True" are valid, ";" and "/" are not.
	for src, ok := range map[string]bool{"True": true, "return True": true, ";": false, "/": false} {
		if probs := expression.Check(src); (len(probs) == 0) != ok {
			t.Errorf("validate %q: %v", src, probs)
		}
	}
	// test_call_policy and test_call_policy_test_like: the called
	// policy's messages come back in res.messages; both see the request's
	// http_request.
	call := fakeCall(expression.Evaluator(nil), map[string]string{
		"expr": "ak_message(request.http_request.path)\nreturn True",
	})
	res, err = expression.Evaluator(nil).Evaluate(context.Background(), expr(`ak_message(request.http_request.path)
res = ak_call_policy('expr')
ak_message(request.http_request.path)
for msg in res.messages:
    ak_message(msg)`), plan.PolicyRequest{Call: call, HTTP: &plan.HTTPRequest{Method: "GET", Path: "/"}})
	if err != nil || !reflect.DeepEqual(res.Messages, []string{"/", "/", "/"}) {
		t.Errorf("test_call_policy: %q %v", res.Messages, err)
	}
	// test_execution_logging (ak_message(request.http_request.path)):
	// TestUpstreamHTTPRequest.
}

// TestUpstreamBase ports lib/tests/test_evaluator.py (2025.6.4) where it
// applies; test_expr_user_by and test_expr_is_group_member are in
// directory_test.go.
func TestUpstreamBase(t *testing.T) {
	// test_expr_regex_match, test_expr_regex_replace.
	res, err := eval(t, `return not regex_match("foo", "bar") and regex_match("foo", "foo") and regex_replace("foo", "o", "a") == "faa"`, plan.PolicyRequest{})
	if err != nil || !res.Passing {
		t.Errorf("regex: %+v %v", res, err)
	}
	// test_expr_event_create: an event "custom_foo" whose context has the
	// evaluator's context ("foo": "bar" there; a policy's parameters
	// here) and the kwargs.
	var got []expression.Event
	opts := &expression.Options{Event: func(_ context.Context, ev expression.Event) { got = append(got, ev) }}
	_, err = expression.Evaluator(opts).Evaluate(context.Background(), expr("ak_create_event('foo', bar='baz')"), plan.PolicyRequest{Context: map[string]any{"foo": "bar"}})
	if err != nil || len(got) != 1 || got[0].Action != "custom_foo" || got[0].Context["bar"] != "baz" ||
		!reflect.DeepEqual(got[0].Context["context"].(map[string]any)["foo"], "bar") {
		t.Errorf("test_expr_event_create: %v %+v", err, got)
	}
	// test_expr_create_jwt: refused.
	if _, err := eval(t, "return ak_create_jwt(request.user, 'p', ['openid', 'email', 'profile'])", plan.PolicyRequest{}); !errors.Is(err, expression.ErrNoJWT) {
		t.Errorf("test_expr_create_jwt: %v", err)
	}
}
