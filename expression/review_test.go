package expression_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
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

// TestEventCleansesRequestMappings: http_request.GET and
// http_request.headers handed to ak_create_event are cleansed by key,
// as dicts are: a token in the query, an Authorization or Cookie header
// never reaches the event.
func TestEventCleansesRequestMappings(t *testing.T) {
	var got []expression.Event
	opts := &expression.Options{Event: func(_ context.Context, ev expression.Event) { got = append(got, ev) }}
	hr := &plan.HTTPRequest{Method: "GET", Path: "/if/flow/x/", Query: url.Values{"token": {"q-secret"}, "next": {"a", "b"}},
		Header: http.Header{"Authorization": {"Bearer h-secret"}, "Cookie": {"sessionid=c-secret"}, "Accept": {"text/html"}}}
	src := `ak_create_event("x", h=http_request.headers, q=http_request.GET)
return True`
	if _, err := expression.Evaluator(opts).Evaluate(context.Background(), expr(src), plan.PolicyRequest{HTTP: hr}); err != nil || len(got) != 1 {
		t.Fatalf("%v, %d events", err, len(got))
	}
	b, _ := json.Marshal(got[0])
	for _, secret := range []string{"q-secret", "h-secret", "c-secret"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("%s in the event: %s", secret, b)
		}
	}
	c := got[0].Context
	if want := map[string]any{"token": expression.CleansedSubstitute, "next": "b"}; !reflect.DeepEqual(c["q"], want) {
		t.Errorf("q: %#v, want %#v", c["q"], want)
	}
	if h, _ := c["h"].(map[string]any); h["Accept"] != "text/html" {
		t.Errorf("h: %#v", c["h"])
	}
}

// TestRequestsHugeTimeout: a timeout beyond a time.Duration (requests
// waits that long) leaves the request to the context's deadline instead
// of overflowing into one already past; NaN is refused.
func TestRequestsHugeTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	ev := expression.Evaluator(&expression.Options{HTTPClient: srv.Client()})
	for _, tm := range []string{"1e300", "float('inf')", "10000000000", "1"} {
		res, err := ev.Evaluate(context.Background(), expr("return requests.get('"+srv.URL+"', timeout="+tm+").ok"), plan.PolicyRequest{})
		if err != nil || !res.Passing {
			t.Errorf("timeout=%s: %+v %v", tm, res, err)
		}
	}
	_, err := ev.Evaluate(context.Background(), expr("return requests.get('"+srv.URL+"', timeout=float('nan'))"), plan.PolicyRequest{})
	if err == nil || !strings.Contains(err.Error(), "timeout must be positive") {
		t.Errorf("NaN: %v", err)
	}
}

// TestReadOnlyKeepsContextTypes: an expression that only reads the plan
// context leaves the host's values as they are ([]string stays
// []string, int stays int) and its result may be cached; it rewrote the
// context into its own types and counted as a write.
func TestReadOnlyKeepsContextTypes(t *testing.T) {
	m := map[string]any{"n": 1, "s": []string{"a"}, "f": float32(1.5), "u": uint64(3), "i32": int32(4),
		"j": json.Number("7"), "nested": map[string]any{"s": []string{"b"}, "none": map[string]any(nil)}}
	res, err := expression.Evaluator(nil).Evaluate(context.Background(), expr("return context['s'] == ['a'] and context['n'] == 1"), plan.PolicyRequest{Context: m, Plan: new(redirects)})
	if err != nil || !res.Passing || res.ValidUntil != plan.Forever {
		t.Fatalf("%+v %v", res, err)
	}
	if _, ok := m["s"].([]string); !ok {
		t.Errorf("s is a %T", m["s"])
	}
	if _, ok := m["n"].(int); !ok {
		t.Errorf("n is a %T", m["n"])
	}
	if _, ok := m["nested"].(map[string]any)["s"].([]string); !ok {
		t.Errorf("nested: %#v", m["nested"])
	}
	// A write still reaches the context.
	if _, err := expression.Evaluator(nil).Evaluate(context.Background(), expr("context['flow_plan'].context['w'] = 1\nreturn True"), plan.PolicyRequest{Context: m, Plan: new(redirects)}); err != nil || m["w"] != int64(1) {
		t.Errorf("write: %v %#v", err, m["w"])
	}
}
