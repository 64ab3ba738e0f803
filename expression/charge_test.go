package expression_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
)

// TestHelpersChargeSteps: a helper whose work grows with its arguments
// counts that work against Limits.MaxSteps, so a short loop that calls
// it on a large value fails with ErrSteps instead of running for as
// long as the deadline allows; a request or a DNS lookup counts 1000
// steps.
func TestHelpersChargeSteps(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/small" {
			return
		}
		w.Write([]byte(`"` + strings.Repeat("x", 500_000) + `"`))
	}))
	defer srv.Close()
	big := make([]any, 30_000)
	for i := range big {
		big[i] = "v"
	}
	opts := &expression.Options{Limits: expression.Limits{MaxSteps: 10_000}, HTTPClient: srv.Client(), Resolver: fakeResolver{}}
	ev := expression.Evaluator(opts)
	call := fakeCall(ev, map[string]string{"m": "return True"})
	loop := func(body string) string {
		return "s = 'a b' * 200000\nfor i in range(50):\n    " + body + "\nreturn True"
	}
	for name, src := range map[string]string{
		"slugify":                   loop("slugify(s)"),
		"regex_match":               loop("regex_match(s, 'c')"),
		"regex_replace":             loop("regex_replace(s, 'c', 'd')"),
		"QueryDict":                 "from django.http import QueryDict\n" + loop("QueryDict(s)"),
		"ak_call_policy":            loop("ak_call_policy('m')"),
		"ak_call_policy, each call": "for i in range(200):\n    ak_call_policy('m', big=None)\nreturn True",
		"ak_create_event":           loop("ak_create_event('x')"),
		"response.json":             "r = requests.get('" + srv.URL + "')\n" + loop("r.json()"),
		"requests.get":              loop("requests.get('" + srv.URL + "/small')"),
		"resolve_dns":               loop("resolve_dns('example.com')"),
		"reverse_dns":               loop("reverse_dns('10.0.0.1')"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ev.Evaluate(context.Background(), expr(src), plan.PolicyRequest{Context: map[string]any{"big": big}, Call: call})
			if !errors.Is(err, expression.ErrSteps) {
				t.Errorf("%v, want ErrSteps", err)
			}
		})
	}
	// A response's text and content are converted once: reading them
	// again is no work.
	if _, err := ev.Evaluate(context.Background(), expr("r = requests.get('"+srv.URL+"')\nfor i in range(50):\n    r.text\n    r.content\nreturn len(r.text) == 500002"), plan.PolicyRequest{}); err != nil {
		t.Errorf("text: %v", err)
	}
	// The shipped expressions' sizes stay far below the limit.
	if _, err := ev.Evaluate(context.Background(), expr("return slugify('Hello World') == 'hello-world' and regex_match('abc', 'b')"), plan.PolicyRequest{}); err != nil {
		t.Error(err)
	}
}

// bareTransport answers every request with a response that, as a
// RoundTripper may, leaves Request unset.
type bareTransport struct{}

func (bareTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 404, Status: "404 Not Found", Header: http.Header{}, Body: http.NoBody}, nil
}

// TestRequestsBareResponse: a host client whose transport leaves the
// response's Request unset gives a response, not a panic.
func TestRequestsBareResponse(t *testing.T) {
	ev := expression.Evaluator(&expression.Options{HTTPClient: &http.Client{Transport: bareTransport{}}})
	src := "r = requests.get('https://u:pw@example.com/a?token=t')\nak_message(r.url)\nr.raise_for_status()\nreturn True"
	_, err := ev.Evaluate(context.Background(), expr(src), plan.PolicyRequest{})
	if err == nil || err.Error() != "404 Client Error: Not Found for url: https://example.com/a" {
		t.Errorf("%v", err)
	}
}
