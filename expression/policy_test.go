package expression_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
)

func expr(src string) policy.Policy {
	return policy.Policy{Name: "p", Config: policy.Expression{Expression: src}}
}

// eval evaluates src as a binding's policy (with a plan, flow_plan,
// unless req gives one) without a directory.
func eval(t *testing.T, src string, req plan.PolicyRequest) (plan.Result, error) {
	t.Helper()
	if req.Plan == nil {
		req.Plan = new(redirects)
	}
	return expression.Evaluator(nil).Evaluate(context.Background(), expr(src), req)
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		ctx      map[string]any
		user     plan.User
		passing  bool
		messages []string
	}{
		{"true", "return True", nil, plan.User{}, true, []string{}},
		{"implicit None", "x = 1", nil, plan.User{}, false, []string{}},
		{"truthy string", "return 'a'", nil, plan.User{}, true, []string{}},
		{"empty list", "return []", nil, plan.User{}, false, []string{}},
		{"message on fail", `ak_message("some message")
return False`, nil, plan.User{}, false, []string{"some message"}},
		{"messages on pass, in order", "ak_message('a')\nak_message(2)\nreturn 1", nil, plan.User{}, true, []string{"a", "2"}},
		{"context", `return context.get("auth_method") != "app_password"`, map[string]any{"auth_method": "app_password"}, plan.User{}, false, []string{}},
		{"request.context is context", "request.context['z'] = 1\nreturn context['z'] == 1", map[string]any{"a": 1.0}, plan.User{}, true, []string{}},
		{"is_sso", "return ak_is_sso_flow", map[string]any{"is_sso": true}, plan.User{}, true, []string{}},
		{"no is_sso", "return ak_is_sso_flow", nil, plan.User{}, false, []string{}},
		{"user", "return request.user.pk == 7 and request.user.is_authenticated and request.user.attributes['a'] == 'b'",
			nil, plan.User{PK: 7, Authenticated: true, Attributes: map[string]any{"a": "b"}}, true, []string{}},
		{"group_attributes", "return request.user.group_attributes(None).get('g')", nil,
			plan.User{PK: 7, GroupAttributes: map[string]any{"g": true}}, true, []string{}},
		{"constants", "from authentik.core.models import USER_ATTRIBUTE_CHANGE_EMAIL\nreturn USER_ATTRIBUTE_CHANGE_EMAIL", nil, plan.User{}, true, []string{}},
		{"try falls back", "try:\n    return context['missing']\nexcept:\n    return 'x'", nil, plan.User{}, true, []string{}},
		{"try keeps A", "try:\n    return context['k']\nexcept:\n    return ''", map[string]any{"k": "v"}, plan.User{}, true, []string{}},
		{"regex_match", `return regex_match("user@example.com", "@example\\.com$")`, nil, plan.User{}, true, []string{}},
		{"regex_replace", `return regex_replace("a-b", "(a)-(b)", "\\2+\\g<1>") == "b+a"`, nil, plan.User{}, true, []string{}},
		{"list_flatten", `return list_flatten([]) == None and list_flatten(["a", "b"]) == "a" and list_flatten("c") == "c"`, nil, plan.User{}, true, []string{}},
		{"regex_replace dollar", `return regex_replace("a", "a", "$1\\\\") == "$1\\"`, nil, plan.User{}, true, []string{}},
		{"regex_replace named", `return regex_replace("ab", "(?P<x>a)", "[\\g<x>]") == "[a]b"`, nil, plan.User{}, true, []string{}},
		{"regex_match search", `return regex_match("xay", "a") and not regex_match("xy", "^a")`, nil, plan.User{}, true, []string{}},
		{"slugify drops non-ASCII letters (Django gives unicode-x)", `return slugify("Ünïcode  -- x!") == "ncode-x"`, nil, plan.User{}, true, []string{}},
		{"slugify", `return slugify(" Hello,  World_- ") == "hello-world"`, nil, plan.User{}, true, []string{}},
		{"ip_address", `a = ip_address("10.0.0.1")
return a.is_private and a.version == 4 and str(a) == "10.0.0.1" and a == ip_address("10.0.0.1")`, nil, plan.User{}, true, []string{}},
		{"ip_network", `n = ip_network("10.0.0.0/8")
return ip_address("10.1.2.3") in n and not (ip_address("11.0.0.1") in n) and not (ip_address("::1") in n) and str(n) == "10.0.0.0/8" and n.prefixlen == 8 and ip_network("10.0.0.1/8", strict=False) == n and str(ip_network("::1")) == "::1/128"`, nil, plan.User{}, true, []string{}},
		{"no authenticators yet", `return not ak_user_has_authenticator(request.user) and not ak_user_has_authenticator(request.user, "totp")`, nil, plan.User{}, true, []string{}},
		{"ak_logger", `ak_logger.info("x", a=1)
return True`, nil, plan.User{}, true, []string{}},
		{"while", "i = 0\nwhile i < 5:\n    i += 1\nreturn i == 5", nil, plan.User{}, true, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := eval(t, tt.src, plan.PolicyRequest{User: tt.user, Context: tt.ctx})
			if err != nil {
				t.Fatal(err)
			}
			if res.Passing != tt.passing || !reflect.DeepEqual(res.Messages, tt.messages) {
				t.Fatalf("got %v %q, want %v %q", res.Passing, res.Messages, tt.passing, tt.messages)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		ctx  map[string]any
		msg  string
		is   error
	}{
		{"key error", "return context['email']", nil, `key "email" not in dict`, nil},
		{"fail", "fail('nope')", nil, "fail: nope", nil},
		{"compile", "import os\nreturn True", nil, `expression policy "p": expression: line 1: 'import os' is not supported: only 'from <module> import <name>' of the modules authflow provides`, expression.ErrCompile},
		{"no directory", "return ak_user_by(username='akadmin')", nil, "expression policy \"p\", line 1: ak_user_by is not available to expressions in authflow unless the host provides it (a user directory: expression.Options.Directory)", expression.ErrNoHost},
		{"anonymous user field", "return request.user.email", nil, "'AnonymousUser' object has no attribute 'email'", nil},
		{"no http_request", "return http_request.GET", nil, "name 'http_request' is not defined", nil},
		{"no ak_client_ip", "return ak_client_ip.is_private", nil, "name 'ak_client_ip' is not defined", nil},
		{"redirect not a string", "context['flow_plan'].redirect(1)\nreturn True", nil, "redirect: for parameter destination: got int, want string", nil},
		{"requests", "return requests.get('https://example.com')", nil, "expression policy \"p\", line 1: requests is not available to expressions in authflow unless the host provides it (an HTTP client: expression.Options.HTTPClient)", expression.ErrNoHost},
		{"ip_network host bits", `return ip_network("10.0.0.1/8")`, nil, "10.0.0.1/8 has host bits set", nil},
		{"ip_address invalid", `return ip_address("x")`, nil, "'x' does not appear to be an IPv4 or IPv6 address", nil},
		{"excessive repeat", `return "a" * (1 << 30)`, nil, "excessive repeat (1 * 1073741824 elements)", nil},
		{"regex_replace bad escape", `return regex_replace("a", "a", "\\q")`, nil, "regex_replace: bad escape \\q", nil},
		{"regex RE2", `return regex_match("a", "(?=a)")`, nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eval(t, tt.src, plan.PolicyRequest{Context: tt.ctx})
			if err == nil {
				t.Fatal("no error")
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Fatalf("error %q, want %q", err, tt.msg)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v does not wrap %v", err, tt.is)
			}
		})
	}
}

func TestRunErrorLine(t *testing.T) {
	_, err := eval(t, "x = 1\n\nreturn context['k']", plan.PolicyRequest{})
	var re *expression.RunError
	if !errors.As(err, &re) || re.Line != 3 {
		t.Fatalf("error %#v, want a RunError on line 3", err)
	}
}

func TestWrites(t *testing.T) {
	ctx := map[string]any{"prompt_data": map[string]any{"username": "a"}, "keep": "x"}
	src := `context["prompt_data"]["username"] = "b"
context["flow_plan"].context["redirect_stage_target"] = "ak-flow://next"
context["local"] = 1
request.context["local2"] = 2
return True`
	res, err := eval(t, src, plan.PolicyRequest{Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"prompt_data": map[string]any{"username": "b"}, "keep": "x", "redirect_stage_target": "ak-flow://next"}
	if !reflect.DeepEqual(ctx, want) {
		t.Fatalf("context %v, want %v", ctx, want)
	}
	if !res.ValidUntil.IsZero() {
		t.Fatal("a result that wrote the plan context may be cached")
	}
	res, err = eval(t, "return True", plan.PolicyRequest{Context: ctx})
	if err != nil || !res.ValidUntil.Equal(plan.Forever) {
		t.Fatalf("a read-only result: %v, %v; want Forever", res.ValidUntil, err)
	}
}

func TestWritesBounded(t *testing.T) {
	ctx := map[string]any{}
	ev := expression.Evaluator(&expression.Options{Limits: expression.Limits{MaxValues: 100}})
	_, err := ev.Evaluate(context.Background(), expr(`context["flow_plan"].context["x"] = list(range(1000))
return True`), plan.PolicyRequest{Context: ctx, Plan: new(redirects)})
	if !errors.Is(err, expression.ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
	if len(ctx) != 0 {
		t.Fatalf("context written: %v", ctx)
	}
}

func TestPendingUser(t *testing.T) {
	src := `return not hasattr(context["flow_plan"].context.get("pending_user"), "backend")`
	for _, tt := range []struct {
		ctx  map[string]any
		want bool
	}{
		{nil, true},
		{map[string]any{"pending_user": map[string]any{"pk": 1.0}}, true},
		{map[string]any{"pending_user": map[string]any{"pk": 1.0, "backend": "authentik.core.auth.InbuiltBackend"}}, false},
	} {
		res, err := eval(t, src, plan.PolicyRequest{Context: tt.ctx})
		if err != nil || res.Passing != tt.want {
			t.Fatalf("%v: %v, %v; want %v", tt.ctx, res.Passing, err, tt.want)
		}
	}
}

func TestSandbox(t *testing.T) {
	for _, src := range []string{
		"return open('/etc/passwd').read()",
		"return __import__('os').getenv('HOME')",
		"import os\nreturn os.environ",
		"from subprocess import run\nreturn run(['id'])",
		"return eval('1')",
		"load('x.star', 'y')\nreturn y",
	} {
		if _, err := eval(t, src, plan.PolicyRequest{}); !errors.Is(err, expression.ErrCompile) {
			t.Errorf("%q: error %v, want ErrCompile", src, err)
		}
	}
}

func TestStepLimit(t *testing.T) {
	for _, src := range []string{
		"while True:\n    pass",
		"for i in range(100000000):\n    pass",
		"x = 0\nfor i in range(100000):\n    for j in range(100000):\n        x += 1\nreturn x",
	} {
		// How soon it stops is measured by BenchmarkRunaway, not here.
		if _, err := eval(t, src, plan.PolicyRequest{}); !errors.Is(err, expression.ErrSteps) {
			t.Errorf("%q: %v, want ErrSteps", src, err)
		}
	}
}

func TestDeadline(t *testing.T) {
	ev := expression.Evaluator(&expression.Options{Limits: expression.Limits{MaxSteps: 1 << 62}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	// Without the deadline the loop would run for ever (no step limit):
	// the error proves the context stopped it.
	_, err := ev.Evaluate(ctx, expr("while True:\n    pass"), plan.PolicyRequest{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v, want DeadlineExceeded", err)
	}
	// A limit is not swallowed by the try idiom.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	_, err = ev.Evaluate(ctx2, expr("try:\n    return [1 for i in range(1 << 40)]\nexcept:\n    return True"), plan.PolicyRequest{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("try idiom: %v, want DeadlineExceeded", err)
	}
	_, err = expression.Evaluator(nil).Evaluate(context.Background(), expr("try:\n    return [1 for i in range(1 << 40)]\nexcept:\n    return True"), plan.PolicyRequest{})
	if !errors.Is(err, expression.ErrSteps) {
		t.Fatalf("try idiom: %v, want ErrSteps", err)
	}
}

// Writes that keep the plan context's shape (same keys, same lengths)
// are still seen and kept: nothing written is told apart without
// converting, and any change is not missed.
func TestWritesSameShape(t *testing.T) {
	for _, tt := range []struct{ src, key string }{
		{`context["prompt_data"]["s"] = "y"`, "s"},
		{`context["prompt_data"]["n"] = 8`, "n"},
		{`context["prompt_data"]["n"] = 7.0`, "n"},
		{`context["prompt_data"]["b"] = False`, "b"},
		{`context["prompt_data"]["l"][1] = "z"`, "l"},
		{`context["prompt_data"]["sl"][0] = "z"`, "sl"},
		{`context["prompt_data"]["m"]["k"] = None`, "m"},
		{`context["prompt_data"]["z"] = "x"`, "z"},
		{`context["flow_plan"].context["pending_user"] = {"pk": 1}`, "pending_user"},
	} {
		pd := map[string]any{"s": "x", "n": int64(7), "b": true, "l": []any{"a", "b"}, "sl": []string{"a"}, "m": map[string]any{"k": "v"}, "z": nil}
		ctx := map[string]any{"prompt_data": pd, "pending_user": map[string]any{"pk": 1.0}}
		res, err := eval(t, tt.src+"\nreturn True", plan.PolicyRequest{Context: ctx})
		if err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		pd = map[string]any{"s": "x", "n": int64(7), "b": true, "l": []any{"a", "b"}, "sl": []string{"a"}, "m": map[string]any{"k": "v"}, "z": nil}
		if reflect.DeepEqual(ctx, map[string]any{"prompt_data": pd, "pending_user": map[string]any{"pk": 1.0}}) || !res.ValidUntil.IsZero() {
			t.Errorf("%s: the write to %s was not kept (%v)", tt.src, tt.key, ctx)
		}
	}
}
