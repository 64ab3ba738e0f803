package expression_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
)

// fakeCall is a CallPolicy over expression policies by name, without a
// store or a depth bound: an evaluator error is a failing result with its
// text, as the planner's.
func fakeCall(ev plan.Evaluator, pols map[string]string) plan.CallPolicy {
	var call plan.CallPolicy
	call = func(ctx context.Context, name string, req plan.PolicyRequest) (plan.Result, error) {
		src, ok := pols[name]
		if !ok {
			return plan.Result{}, fmt.Errorf("%w: %q", plan.ErrUnknownPolicy, name)
		}
		req.Call = call
		r, err := ev.Evaluate(ctx, policy.Policy{Name: name, Config: policy.Expression{Expression: src}}, req)
		if err != nil {
			return plan.Result{Messages: []string{err.Error()}}, nil
		}
		return r, nil
	}
	return call
}

func TestCallPolicyHelper(t *testing.T) {
	ev := expression.Evaluator(nil)
	call := fakeCall(ev, map[string]string{
		"m":     "ak_message('a')\nak_message('b')\nreturn True",
		"f":     "ak_message('no')\nreturn False",
		"raise": "return {}['k']",
		"value": "return {'x': [1, 2]}",
		"kw":    "return context['who'] == 'me' and request.context['who'] == 'me'",
	})
	run := func(src string) (plan.Result, error) {
		return ev.Evaluate(context.Background(), expr(src), plan.PolicyRequest{Context: map[string]any{"x": "y"}, Call: call})
	}
	for _, tt := range []struct {
		name, src string
		messages  []string
	}{
		{"passing and messages, a tuple", "r = ak_call_policy('m')\nak_message(str(r.passing))\nak_message(str(r.messages))\nreturn r.passing", []string{"True", `("a", "b")`}},
		{"repr", "ak_message(str(ak_call_policy('m')))\nak_message(str(ak_call_policy('value')))\nreturn True", []string{`<PolicyResult passing=True messages=('a', 'b')>`, `<PolicyResult passing=True>`}},
		{"failing", "r = ak_call_policy('f')\nreturn not r.passing and r.messages == ('no',)", nil},
		{"an exception is a failing result with its text", "r = ak_call_policy('raise')\nak_message(r.messages[0])\nreturn not r.passing and r.raw_result == None", []string{`key "k" not in dict`}},
		{"raw_result is the called expression's value", "return ak_call_policy('value').raw_result == {'x': [1, 2]} and ak_call_policy('m').raw_result == True", nil},
		{"kwargs reach the called policy, and stay in the caller's request.context", "return ak_call_policy('kw', who='me').passing and context['who'] == 'me' and request.context['who'] == 'me'", nil},
		{"name by keyword", "return ak_call_policy(name='kw', who='me').passing", nil},
		{"unknown name: ValueError's text, kwargs undone", "try:\n    return ak_call_policy('nope', x='z')\nexcept:\n    return context['x'] == 'y'", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := run(tt.src)
			if err != nil || !res.Passing {
				t.Fatalf("%+v %v", res, err)
			}
			if tt.messages != nil && !reflect.DeepEqual(res.Messages, tt.messages) {
				t.Errorf("messages %q, want %q", res.Messages, tt.messages)
			}
		})
	}
	_, err := run("return ak_call_policy('nope')")
	if err == nil || err.Error() != "Policy 'nope' not found." || !errors.Is(err, plan.ErrUnknownPolicy) {
		t.Errorf("unknown: %v", err)
	}
	// Without Call (a prompt expression, or a host that gives none).
	_, err = eval(t, "return ak_call_policy('m')", plan.PolicyRequest{})
	if !errors.Is(err, expression.ErrNoHost) || !strings.Contains(err.Error(), "plan.PolicyRequest.Call") {
		t.Errorf("no Call: %v", err)
	}
	_, err = expression.PromptValue(context.Background(), textPrompt("x", false, "ak_call_policy('m')", true), expression.PromptInitialValue, expression.PromptVars{DryRun: true}, nil)
	if !errors.Is(err, expression.ErrNoHost) {
		t.Errorf("prompt: %v", err)
	}
	// A called policy of another kind (a Go evaluator) gets a copy of
	// request.context without flow_plan; what it writes there is
	// written into the caller's request.context, not the plan context.
	goCall := func(_ context.Context, name string, req plan.PolicyRequest) (plan.Result, error) {
		if _, ok := req.Context["flow_plan"]; ok || req.Context["x"] != "y" || req.Context["k"] != int64(1) {
			return plan.Result{}, fmt.Errorf("context %v", req.Context)
		}
		req.Context["go"] = []string{"wrote"}
		delete(req.Context, "x")
		return plan.Result{Passing: true, Messages: []string{"go"}}, nil
	}
	pc := map[string]any{"x": "y"}
	res, err := ev.Evaluate(context.Background(), expr("r = ak_call_policy('go', k=1)\nreturn r.passing and r.raw_result == None and context['go'] == ['wrote'] and 'x' not in context and context['k'] == 1"),
		plan.PolicyRequest{Context: pc, Call: goCall})
	if err != nil || !res.Passing || !reflect.DeepEqual(pc, map[string]any{"x": "y"}) {
		t.Errorf("a Go policy: %+v %v, plan context %v", res, err, pc)
	}
}

// Through the planner: the called policy shares the caller's
// request.context, so its writes to it reach the caller and not the plan
// context, while its writes through flow_plan.context and into values
// the plan context holds reach it; a policy that calls itself ends.
func TestCallPolicyPlanned(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "a.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	doc := `version: 1
entries:
- {model: authentik_flows.flow, id: flow, identifiers: {slug: f}, attrs: {name: F, title: F, designation: authentication}}
- {model: authentik_flows.flow, id: loop, identifiers: {slug: loop}, attrs: {name: L, title: L, designation: authentication}}
- {model: authentik_flows.flow, id: unknown, identifiers: {slug: unknown}, attrs: {name: U, title: U, designation: authentication}}
- {model: authentik_stages_deny.denystage, id: st, identifiers: {name: st}}
- {model: authentik_flows.flowstagebinding, id: fb, identifiers: {target: !KeyOf flow, stage: !KeyOf st, order: 0}, attrs: {evaluate_on_plan: true}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf loop, stage: !KeyOf st, order: 0}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf unknown, stage: !KeyOf st, order: 0}}
- model: authentik_policies_expression.expressionpolicy
  id: caller
  identifiers: {name: caller}
  attrs:
    expression: |
      res = ak_call_policy("callee", extra="kw")
      ak_message("caller sees " + context["from_callee"])
      ak_message("raw " + str(res.raw_result))
      for m in res.messages:
          ak_message(m)
      return res.passing and context["extra"] == "kw"
- model: authentik_policies_expression.expressionpolicy
  id: callee
  identifiers: {name: callee}
  attrs:
    expression: |
      ak_message("callee got " + context["extra"] + " and " + request.context["x"])
      context["from_callee"] = "hello"
      context["flow_plan"].context["written"] = "by callee"
      context["prompt_data"]["shared"] = "yes"
      return 42
- model: authentik_policies_expression.expressionpolicy
  id: self
  identifiers: {name: self}
  attrs:
    expression: return ak_call_policy("self").passing
- model: authentik_policies_expression.expressionpolicy
  id: nope
  identifiers: {name: calls-nope}
  attrs:
    expression: return ak_call_policy("nope").passing
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf fb, policy: !KeyOf caller, order: 0}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf loop, policy: !KeyOf self, order: 0}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf unknown, policy: !KeyOf nope, order: 0}}
`
	if _, err := blueprint.Load(ctx, s, strings.NewReader(doc), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	evs := plan.Builtin(nil)
	evs[policy.ModelExpression] = expression.Evaluator(nil)
	mk := func(slug string, pc map[string]any) plan.Plan {
		t.Helper()
		var p plan.Plan
		err := s.View(ctx, func(tx *store.Tx) error {
			var err error
			p, err = plan.Make(ctx, tx, slug, plan.Request{Context: pc}, plan.Options{Evaluators: evs})
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", slug, err)
		}
		return p
	}
	pc := map[string]any{"x": "y", "prompt_data": map[string]any{}}
	p := mk("f", pc)
	want := []string{"caller sees hello", "raw 42", "callee got kw and y"}
	// The caller is bound to the stage binding, whose policies have the
	// plan being built (flow_plan).
	var got []string
	for _, st := range p.Trace {
		if st.Policy == "caller" {
			got = st.Messages
		}
	}
	if !p.Applicable || !reflect.DeepEqual(got, want) {
		t.Errorf("caller: %v %q, want %q", p.Applicable, got, want)
	}
	wantCtx := map[string]any{"x": "y", "prompt_data": map[string]any{"shared": "yes"}, "written": "by callee"}
	if !reflect.DeepEqual(pc, wantCtx) {
		t.Errorf("plan context %v, want %v", pc, wantCtx)
	}

	if p := mk("loop", nil); p.Applicable {
		t.Errorf("a policy that calls itself passed: %+v", p)
	}
	p = mk("unknown", nil)
	if p.Applicable || !reflect.DeepEqual(p.Trace[1].Messages, []string{"Policy 'nope' not found."}) {
		t.Errorf("unknown: %+v", p.Trace)
	}
}

func TestCreateEvent(t *testing.T) {
	var got []expression.Event
	opts := &expression.Options{Event: func(_ context.Context, ev expression.Event) { got = append(got, ev) }}
	pc := map[string]any{"prompt_data": map[string]any{"username": "u", "password": "hunter2"}, "is_sso": true}
	res, err := expression.Evaluator(opts).Evaluate(context.Background(), expr(`ak_create_event("foo", bar="baz", token="t0k", Authorization="Bearer b", passing=True, password_change_date="d", secrets=["s1", "s2"], items=[0, "", "a", None], nested={"api_key": {"inner": 1}})
return True`), plan.PolicyRequest{Context: pc, Plan: new(redirects)})
	if err != nil || !res.Passing || len(got) != 1 {
		t.Fatalf("%+v %v %d events", res, err, len(got))
	}
	if !res.ValidUntil.IsZero() {
		t.Error("a result that wrote an event would be kept by a plan cache")
	}
	ev := got[0]
	if ev.Action != "custom_foo" || ev.App != "p" {
		t.Errorf("action %q app %q", ev.Action, ev.App)
	}
	c := ev.Context
	for k, want := range map[string]any{
		"bar": "baz", "token": expression.CleansedSubstitute, "Authorization": expression.CleansedSubstitute, "passing": true, "password_change_date": "d",
		"secrets": []any{expression.CleansedSubstitute, expression.CleansedSubstitute}, "items": []any{"a"},
		"nested":                    map[string]any{"api_key": map[string]any{"inner": int64(1)}},
		"ak_is_sso_flow":            true,
		"ak_message":                map[string]any{"type": "callable", "name": "expr_func_message", "module": "authentik.policies.expression.evaluator"},
		"ak_user_has_authenticator": map[string]any{"type": "callable", "name": "expr_func_user_has_authenticator", "module": "authentik.lib.expression.evaluator"},
		"context":                   map[string]any{"prompt_data": map[string]any{"username": "u", "password": expression.CleansedSubstitute}, "is_sso": true, "flow_plan": map[string]any{"context": map[string]any{"prompt_data": map[string]any{"username": "u", "password": expression.CleansedSubstitute}, "is_sso": true}}},
	} {
		if !reflect.DeepEqual(c[k], want) {
			t.Errorf("%s: %#v, want %#v", k, c[k], want)
		}
	}
	req, _ := c["request"].(map[string]any)
	if req == nil || !reflect.DeepEqual(req["user"], map[string]any{"username": "AnonymousUser", "email": "", "is_anonymous": true}) || req["debug"] != false || req["obj"] != nil {
		t.Errorf("request: %#v", c["request"])
	}
	for _, k := range []string{"http_request", "ak_client_ip", "result", "handler"} {
		if _, ok := c[k]; ok {
			t.Errorf("%s in the event's context", k)
		}
	}
	if b, _ := json.Marshal(ev); strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "t0k") || strings.Contains(string(b), "s1") {
		t.Errorf("a secret in the event: %s", b)
	}
	if pc["prompt_data"].(map[string]any)["password"] != "hunter2" {
		t.Error("cleansing the event changed the plan context")
	}

	// With an HTTP request, its summary, the query cleansed.
	got = nil
	hr := &plan.HTTPRequest{Method: "GET", Path: "/if/flow/x/", Query: url.Values{"token": {"abc"}, "next": {"a", "b"}}, Header: http.Header{"User-Agent": {"ua"}}}
	if _, err := expression.Evaluator(opts).Evaluate(context.Background(), expr(`ak_create_event(action="x")`), plan.PolicyRequest{HTTP: hr}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"path": "/if/flow/x/", "method": "GET", "args": map[string]any{"token": expression.CleansedSubstitute, "next": "b"}, "user_agent": "ua"}
	if len(got) != 1 || got[0].Action != "custom_x" || !reflect.DeepEqual(got[0].Context["http_request"], want) {
		t.Errorf("http_request: %#v", got)
	}

	// Without a sink the event is dropped and the expression goes on.
	if res, err := eval(t, `ak_create_event(action="foo", x=1)
return True`, plan.PolicyRequest{}); err != nil || !res.Passing {
		t.Errorf("no sink: %+v %v", res, err)
	}
	// Bounded as the plan context's writes are.
	_, err = expression.Evaluator(&expression.Options{Limits: expression.Limits{MaxValues: 10}}).Evaluate(context.Background(),
		expr("ak_create_event('big', l=list(range(100)))\nreturn True"), plan.PolicyRequest{})
	if !errors.Is(err, expression.ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	// A prompt expression's event: its app is the prompt's name, a
	// prompt_data password cleansed.
	got = nil
	pr := textPrompt("x", false, "ak_create_event('p', password=prompt_context['password'])\nreturn 'v'", true)
	v, err := expression.PromptValue(context.Background(), pr, expression.PromptInitialValue, expression.PromptVars{PromptContext: map[string]any{"password": "hunter2"}}, opts)
	if err != nil || v != "v" || len(got) != 1 || got[0].App != "p" || got[0].Action != "custom_p" {
		t.Fatalf("prompt: %q %v %+v", v, err, got)
	}
	if b, _ := json.Marshal(got[0]); strings.Contains(string(b), "hunter2") || got[0].Context["password"] != expression.CleansedSubstitute {
		t.Errorf("a secret in the prompt's event: %s", b)
	}
}

func TestCreateJWT(t *testing.T) {
	_, err := eval(t, "return ak_create_jwt(request.user, 'provider', ['openid'])", plan.PolicyRequest{})
	if !errors.Is(err, expression.ErrNoJWT) || !strings.Contains(err.Error(), "authflow issues no OAuth2 tokens") || !strings.Contains(err.Error(), `policy "p", line 1`) {
		t.Errorf("%v", err)
	}
}

func TestRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
			return
		case "/big":
			fmt.Fprint(w, strings.Repeat("x", 11))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "query": r.URL.RawQuery, "header": r.Header.Get("X-Test"),
			"ctype": r.Header.Get("Content-Type"), "body": string(body),
		})
	}))
	defer srv.Close()
	opts := &expression.Options{HTTPClient: srv.Client(), MaxResponseBytes: 1 << 10}
	run := func(src string) (plan.Result, error) {
		return expression.Evaluator(opts).Evaluate(context.Background(), expr(src), plan.PolicyRequest{Context: map[string]any{"url": srv.URL}})
	}
	for _, tt := range []struct{ name, src string }{
		{"get", `r = requests.get(context["url"] + "/x?a=1", params={"b": ["2", 3]}, headers={"X-Test": "t"})
j = r.json()
return r.status_code == 200 and r.ok and j["method"] == "GET" and j["query"] == "a=1&b=2&b=3" and j["header"] == "t" and r.headers["content-type"] == "application/json" and r.headers.get("x-multi") == "a, b" and r.headers.get("nope", "d") == "d" and r.raise_for_status() == None and type(r.content) == "bytes" and r.text.startswith("{")`},
		{"post json", `j = requests.post(context["url"], json={"k": [1, True]}).json()
return j["method"] == "POST" and j["ctype"] == "application/json" and j["body"] == '{"k":[1,true]}'`},
		{"put form", `j = requests.put(context["url"], data={"a": "1", "b": None}).json()
return j["method"] == "PUT" and j["ctype"] == "application/x-www-form-urlencoded" and j["body"] == "a=1"`},
		{"request, patch, delete", `return requests.request("patch", context["url"], data="raw").json()["body"] == "raw" and requests.delete(context["url"]).json()["method"] == "DELETE" and requests.head(context["url"], timeout=5).status_code == 200 and requests.options(context["url"]).json()["method"] == "OPTIONS"`},
		{"404", `r = requests.get(context["url"] + "/missing")
return not r.ok and r.status_code == 404 and r.reason == "Not Found"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := run(tt.src)
			if err != nil || !res.Passing {
				t.Fatalf("%+v %v", res, err)
			}
			if !res.ValidUntil.IsZero() {
				t.Error("a result that used the network would be kept by a plan cache")
			}
		})
	}
	// raise_for_status: requests' message, without the query or user.
	_, err := run(`requests.get(context["url"] + "/missing?token=secret").raise_for_status()`)
	if want := "404 Client Error: Not Found for url: " + srv.URL + "/missing"; err == nil || err.Error() != want {
		t.Errorf("raise_for_status: %v, want %s", err, want)
	}
	if _, err := run(`return requests.get(context["url"] + "/big")`); err != nil {
		t.Errorf("under the cap: %v", err)
	}
	opts.MaxResponseBytes = 10
	if _, err := run(`return requests.get(context["url"] + "/big")`); !errors.Is(err, expression.ErrTooLarge) {
		t.Errorf("over the cap: %v", err)
	}
	if _, err := run(`return requests.get(context["url"], auth=("u", "p"))`); !errors.Is(err, expression.ErrNotYet) || !strings.Contains(err.Error(), `"auth"`) {
		t.Errorf("unsupported argument: %v", err)
	}
	if _, err := run(`return requests.get(context["url"], timeout=0)`); err == nil || !strings.Contains(err.Error(), "timeout must be positive") {
		t.Errorf("timeout 0: %v", err)
	}
	if _, err := run(`return requests.get("file:///etc/passwd")`); err == nil || !strings.Contains(err.Error(), "not an http or https URL") {
		t.Errorf("file URL: %v", err)
	}
	// A failed request's error does not show the URL, which may hold a
	// secret.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	_, err = run(`return requests.get("` + deadURL + `/?token=secret")`)
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("failed request: %v", err)
	}
	// The context's end stops a request under way.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	}))
	defer hang.Close()
	_, err = expression.Evaluator(&expression.Options{HTTPClient: hang.Client()}).Evaluate(ctx, expr(`return requests.get("`+hang.URL+`")`), plan.PolicyRequest{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

type fakeResolver struct{}

func (fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if host == "example.com" {
		return []string{"10.0.0.1", "2001:db8::1", "10.0.0.1", "10.0.0.2"}, nil
	}
	return nil, errors.New("no such host")
}

func (fakeResolver) LookupAddr(_ context.Context, addr string) ([]string, error) {
	switch addr {
	case "10.0.0.1":
		return []string{"short.", "host.example.com."}, nil
	case "10.0.0.2":
		return []string{"short."}, nil
	}
	return nil, errors.New("no name")
}

func TestDNS(t *testing.T) {
	ev := expression.Evaluator(&expression.Options{Resolver: fakeResolver{}})
	for _, src := range []string{
		`return resolve_dns("example.com") == ["10.0.0.1", "2001:db8::1", "10.0.0.2"]`,
		`return resolve_dns("example.com", 4) == ["10.0.0.1", "10.0.0.2"]`,
		`return resolve_dns("example.com", ip_version=6) == ["2001:db8::1"]`,
		`return resolve_dns("nope") == [] and resolve_dns(None) == []`,
		`return reverse_dns("10.0.0.1") == "host.example.com" and reverse_dns("10.0.0.2") == "short"`,
		`return reverse_dns("192.0.2.9") == "192.0.2.9"`,
	} {
		res, err := ev.Evaluate(context.Background(), expr(src), plan.PolicyRequest{})
		if err != nil || !res.Passing || !res.ValidUntil.IsZero() {
			t.Errorf("%s: %+v %v", src, res, err)
		}
	}
	for _, src := range []string{`return resolve_dns("example.com")`, `return reverse_dns("10.0.0.1")`} {
		_, err := eval(t, src, plan.PolicyRequest{})
		if !errors.Is(err, expression.ErrNoHost) || !strings.Contains(err.Error(), "expression.Options.Resolver") {
			t.Errorf("no resolver: %s: %v", src, err)
		}
	}
}

// TestCallPolicyFanOut: a policy that calls itself eight times, eight
// calls deep, would make 8^8 calls, each with a step limit of its own;
// a tree of calls shares the first caller's limit instead, so the plan
// ends after about as many calls as that limit has steps.
func TestCallPolicyFanOut(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "a.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	doc := `version: 1
entries:
- {model: authentik_flows.flow, id: flow, identifiers: {slug: fan}, attrs: {name: F, title: F, designation: authentication}}
- {model: authentik_stages_deny.denystage, id: st, identifiers: {name: st}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf flow, stage: !KeyOf st, order: 0}}
- model: authentik_policies_expression.expressionpolicy
  id: fan
  identifiers: {name: fan}
  attrs:
    expression: |
      for i in range(8):
          ak_call_policy("fan")
      return True
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf flow, policy: !KeyOf fan, order: 0}}
`
	if _, err := blueprint.Load(context.Background(), s, strings.NewReader(doc), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	const maxSteps, giveUp = 10_000, 50_000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := expression.Evaluator(&expression.Options{Limits: expression.Limits{MaxSteps: maxSteps}})
	calls := 0
	evs := plan.Builtin(nil)
	evs[policy.ModelExpression] = plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		if calls++; calls == giveUp {
			cancel() // without a shared limit the plan would run for hours
		}
		return ev.Evaluate(ctx, p, req)
	})
	var p plan.Plan
	err = s.View(ctx, func(tx *store.Tx) error {
		p, err = plan.Make(ctx, tx, "fan", plan.Request{}, plan.Options{Evaluators: evs})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls >= giveUp || p.Applicable {
		t.Fatalf("%d evaluations, applicable %v: %+v", calls, p.Applicable, p.Trace)
	}
	if msgs := p.Trace[1].Messages; len(msgs) != 1 || !strings.Contains(msgs[0], "step limit") {
		t.Errorf("messages %q, want the step limit", msgs)
	}
}

// TestCallPolicyCache: a plan whose policy called one that read the
// directory, wrote an event or asked the network is not kept by a plan
// cache, through the planner's plan.Cache; one that called a pure policy
// is.
func TestCallPolicyCache(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "a.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	callees := map[string]string{
		"pure":  "return True",
		"dir":   "return ak_user_by(username='nobody') == None",
		"event": "ak_create_event('x')\nreturn True",
		"dns":   "return resolve_dns('example.com') != []",
	}
	doc := "version: 1\nentries:\n- {model: authentik_stages_deny.denystage, id: st, identifiers: {name: st}}\n"
	for name, src := range callees {
		doc += fmt.Sprintf(`- {model: authentik_flows.flow, id: f-%[1]s, identifiers: {slug: %[1]s}, attrs: {name: F, title: F, designation: authentication}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf f-%[1]s, stage: !KeyOf st, order: 0}}
- {model: authentik_policies_expression.expressionpolicy, id: caller-%[1]s, identifiers: {name: caller-%[1]s}, attrs: {expression: "return ak_call_policy('%[1]s').passing"}}
- {model: authentik_policies_expression.expressionpolicy, identifiers: {name: %[1]s}, attrs: {expression: %[2]q}}
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf f-%[1]s, policy: !KeyOf caller-%[1]s, order: 0}}
`, name, src)
	}
	if _, err := blueprint.Load(context.Background(), s, strings.NewReader(doc), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	ev := expression.Evaluator(&expression.Options{Resolver: fakeResolver{}})
	evals := 0
	evs := plan.Builtin(nil)
	evs[policy.ModelExpression] = plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		if strings.HasPrefix(p.Name, "caller-") {
			evals++
		}
		return ev.Evaluate(ctx, p, req)
	})
	c := plan.NewCache(s, plan.CacheOptions{Options: plan.Options{Evaluators: evs}})
	defer c.Close()
	for name := range callees {
		evals = 0
		for range 2 {
			p, err := c.Make(context.Background(), name, plan.Request{})
			if err != nil || !p.Applicable {
				t.Fatalf("%s: %v %+v", name, err, p.Trace)
			}
		}
		want := 2
		if name == "pure" {
			want = 1
		}
		if evals != want {
			t.Errorf("calling %s: the caller was evaluated %d times through the cache, want %d", name, evals, want)
		}
	}
}
