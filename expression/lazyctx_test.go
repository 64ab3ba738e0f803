package expression_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
)

// TestMain runs the tests, then compares the lazy context with the
// dicts (lazySame) over every expression policy the tests compiled in
// the package's cache: the expressions of all the tests that ran.
// Fuzzing skips it (the fuzzer's inputs would fill the cache).
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if fz := flag.Lookup("test.fuzz"); code == 0 && (fz == nil || fz.Value.String() == "") {
		md, u, err := lazyDirectory()
		if err == nil {
			for _, src := range expression.CompiledPolicies() {
				for _, d := range lazySame(src, md, u) {
					fmt.Fprintln(os.Stderr, "lazy and eager differ:", d)
					code = 1
				}
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// lazyDirectory is a directory with akadmin, and akadmin.
func lazyDirectory() (*memdir.Dir, directory.User, error) {
	md, err := memdir.New(memdir.Options{})
	if err != nil {
		return nil, directory.User{}, err
	}
	u := directory.DefaultUser()
	u.Username, u.Name, u.Email = "akadmin", "admin", "a@example.com"
	u, err = md.CreateUser(context.Background(), u)
	return md, u, err
}

// lazyVariants are plan requests under which lazySame compares: with
// and without a user, a directory, an HTTP request and a plan, plan
// contexts of values of each kind a host passes (some that compare
// unchanged with their conversion only once converted back: int32,
// uint64, float32, json.Number), one holding a flow_plan of its own, and
// one holding a value that cannot be passed.
func lazyVariants(md directory.Directory, u directory.User) map[string]func() plan.PolicyRequest {
	full := func() map[string]any {
		return map[string]any{"pending_user": directory.ContextUser(u), "is_sso": true,
			"prompt_data": map[string]any{"username": "akadmin", "password": "x", "n": 1.0}, "list": []any{"a", map[string]any{"b": nil}},
			"strs": []string{"x"}, "i": 3, "i64": int64(4), "s": "t", "app": map[string]any{"slug": "a"}}
	}
	odd := func() map[string]any {
		m := full()
		m["i32"], m["u64"], m["f32"], m["num"], m["big"] = int32(5), uint64(1)<<63, float32(0.5), json.Number("7"), json.Number("1e400")
		return m
	}
	hreq := func() *plan.HTTPRequest {
		return &plan.HTTPRequest{Method: "GET", Path: "/x/", Query: url.Values{"q": {"1"}}, Header: http.Header{"User-Agent": {"t"}}}
	}
	user := plan.User{PK: u.PK, Authenticated: true}
	return map[string]func() plan.PolicyRequest{
		"anonymous, nothing": func() plan.PolicyRequest { return plan.PolicyRequest{} },
		"user, directory, HTTP, plan": func() plan.PolicyRequest {
			return plan.PolicyRequest{User: user, Context: full(), Directory: md, HTTP: hreq(), Plan: new(redirects), Update: func(plan.Update) {}}
		},
		"values that convert back otherwise": func() plan.PolicyRequest {
			return plan.PolicyRequest{User: user, Context: odd(), Directory: md, Plan: new(redirects)}
		},
		"no directory, no plan": func() plan.PolicyRequest {
			return plan.PolicyRequest{User: user, Context: full()}
		},
		"a flow_plan in the plan context": func() plan.PolicyRequest {
			m := full()
			m["flow_plan"] = map[string]any{"x": 1.0}
			return plan.PolicyRequest{User: user, Context: m, Plan: new(redirects)}
		},
		"a value that cannot be passed": func() plan.PolicyRequest {
			m := full()
			m["bad"] = []any{struct{}{}}
			return plan.PolicyRequest{User: user, Context: m, Plan: new(redirects)}
		},
		"nil plan context": func() plan.PolicyRequest {
			return plan.PolicyRequest{User: user, Plan: new(redirects)}
		},
	}
}

// lazySame evaluates src under each of lazyVariants with the lazy
// context (Evaluator) and with the dicts (EagerEvaluator), and returns
// how they differ: in result, messages, error, plan context, redirects,
// updates or events.
func lazySame(src string, md directory.Directory, u directory.User) []string {
	type outcome struct {
		res       plan.Result
		err       string
		ctx       map[string]any
		redirects redirects
		updates   []plan.Update
		events    []string
	}
	run := func(eager bool, req plan.PolicyRequest) outcome {
		var o outcome
		opts := &expression.Options{Cache: expression.NewCache(1), Limits: expression.Limits{MaxSteps: 20000, MaxValues: 1000},
			Event: func(_ context.Context, ev expression.Event) { o.events = append(o.events, fmt.Sprintf("%+v", ev)) }}
		ev := expression.Evaluator(opts)
		if eager {
			ev = expression.EagerEvaluator(opts)
		}
		if req.Update != nil {
			req.Update = func(up plan.Update) { o.updates = append(o.updates, up) }
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := ev.Evaluate(ctx, expr(src), req)
		o.res, o.err, o.ctx = res, fmt.Sprint(err), req.Context
		if r, ok := req.Plan.(*redirects); ok {
			o.redirects = *r
		}
		return o
	}
	var diffs []string
	variants := lazyVariants(md, u)
	names := make([]string, 0, len(variants))
	for name := range variants {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		lazy, eager := run(false, variants[name]()), run(true, variants[name]())
		if !reflect.DeepEqual(lazy, eager) {
			diffs = append(diffs, fmt.Sprintf("%q, %s:\nlazy  %+v\neager %+v", src, name, lazy, eager))
		}
	}
	return diffs
}

// lazySources are expressions that look values up in their context
// dicts in every way the lazy context serves and some it hands to the
// dicts (a non-string key, keyword arguments, a missing key read, a
// dict made by Go code: an event's flow_plan), with writes into the
// values they read, and some that do more than look values up.
var lazySources = []string{
	"return True",
	"flow_plan = request.context.get(\"flow_plan\")\nif not flow_plan:\n    return True\nreturn not hasattr(flow_plan.context.get(\"pending_user\"), \"backend\")",
	"return request.context.get('is_sso', 1)",
	"return request.context['prompt_data']['username'] == 'akadmin'",
	"return request.context['missing']",
	"return request.context.get(1)",
	"return request.context.get([])",
	"return request.context.get()",
	"return request.context.get('a', 'b', 'c')",
	"return request.context.get(key='is_sso')",
	"return context.get('flow_plan') == request.context['flow_plan']",
	"context.get('prompt_data')['username'] = 'x'\nreturn request.context['prompt_data']['username']",
	"request.context['prompt_data']['k'] = [1]\nreturn context['flow_plan'].context['prompt_data']['k'] == [1]",
	"context['flow_plan'].context.get('list').append(2)\nreturn len(request.context['list'])",
	"context['flow_plan'].context['app']['slug'] = 'b'\nreturn True",
	"x = context['flow_plan'].context.get('i32')\nreturn x",
	"return [context.get(k) for k in ['i32', 'u64', 'f32', 'num', 'big', 'strs', 'i', 'i64', 's', 'flow_plan']]",
	"return str(context['flow_plan'].context.get('flow_plan'))",
	"u = context.get('pending_user')\nreturn [hasattr(u, 'backend'), u.username]",
	"context.get('pending_user').attributes['seen'] = True\nreturn True",
	"p = context['flow_plan']\np.redirect('/next')\nreturn str(p)",
	"p = context['flow_plan']\nreturn [p, str(p), type(p)]",
	"return ak_is_sso_flow",
	"return request.context.get('flow_plan').context.get('bad')",
	"return type(request.context)",
	"return request.context",
	"return 'is_sso' in request.context",
	"request.context['x'] = 1\nreturn context['x']",
	"context['flow_plan'].context['x'] = 1\nreturn request.context.get('x')",
	"return getattr(context['flow_plan'], 'context').get('i')",
	"return len(request.context.get('flow_plan').context)",
	"ak_create_event('seen', plan=context.get('flow_plan'))\nreturn True",
	"return [k for k in request.context]",
	"return request.user.username",
}

// TestLazyContextSameResults: an expression that only looks values up
// in its context dicts gets lookups into the plan context, and that
// changes nothing it does (lazySame), for lazySources and every
// shipped blueprint's expression policy (TestMain compares every
// expression the tests compile too).
func TestLazyContextSameResults(t *testing.T) {
	md, u, err := lazyDirectory()
	if err != nil {
		t.Fatal(err)
	}
	srcs := slices.Clone(lazySources)
	for _, src := range shippedPolicies(t) {
		srcs = append(srcs, src)
	}
	lazy := 0
	for _, src := range srcs {
		if ok, _ := expression.ReachLookups(src); ok {
			lazy++
		}
		for _, d := range lazySame(src, md, u) {
			t.Error(d)
		}
	}
	if lazy < len(srcs)/2 {
		t.Errorf("%d of %d expressions look values up only: the comparison compares little", lazy, len(srcs))
	}
}

// TestReachLookups: the compiler finds which expressions only look
// values up in their context dicts.
func TestReachLookups(t *testing.T) {
	for src, want := range map[string]bool{
		"return True": true,
		"flow_plan = request.context.get(\"flow_plan\")\nif not flow_plan:\n    return True\nreturn not hasattr(flow_plan.context.get(\"pending_user\"), \"backend\")": true,
		"return context['x']['y']":                         true,
		"context['x']['y'] = 1\nreturn True":               true,
		"return request.context.get('x') and request.user": true,
		"return context":                                   false,
		"context['x'] = 1\nreturn True":                    false,
		"context['x'] += 1\nreturn True":                   false,
		"for context['x'] in [1]:\n    pass\nreturn True":  false,
		"return 'x' in context":                            false,
		"return len(request.context)":                      false,
		"return context.items()":                           false,
		"return request":                                   false,
		"return context['flow_plan'].context":              false,
		"return getattr(context['flow_plan'], 'redirect')": false,
		"ak_create_event('x')\nreturn context.get('x')":    false,
		"return ak_call_policy('x')":                       false,
		"return (context).get('x')":                        false,
		"def f(context):\n    return context\nreturn f(1)": false,
	} {
		if got, err := expression.ReachLookups(src); err != nil || got != want {
			t.Errorf("%q: lookups %v (%v), want %v", src, got, err, want)
		}
	}
}

// FuzzLazyContext: for any source, the lazy context and the dicts give
// the same results (lazySame).
func FuzzLazyContext(f *testing.F) {
	for _, src := range lazySources {
		f.Add(src)
	}
	for _, src := range shippedPolicies(f) {
		f.Add(src)
	}
	md, u, err := lazyDirectory()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, d := range lazySame(src, md, u) {
			t.Error(d)
		}
	})
}

// TestLazyContextAllocs: the shipped password-stage policy, as the
// executor evaluates it at a login, builds no context dict and keeps its
// host for the next evaluation: what it allocates is the interpreter's,
// the handler's frame and a copy of the arguments of each of its three
// calls of a builtin (two gets and hasattr), where the dicts and the
// host took eight more.
func TestLazyContextAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates more")
	}
	if n := passwordStageAllocs(t); n > 4 {
		t.Errorf("%v allocations, want at most 4", n)
	}
}
