package expression_test

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

// redirects is a FlowPlan that records the redirects asked for: the
// plan the planner gives a binding's policies.
type redirects []string

func (r *redirects) Redirect(to string) { *r = append(*r, to) }

// httpReq is an HTTP request as the executor would give it.
func httpReq() *plan.HTTPRequest {
	return &plan.HTTPRequest{
		Method:   "GET",
		Path:     "/api/v3/flows/executor/default-user-settings-flow/",
		Query:    url.Values{"query": {"next=%2Fif%2Fuser%2F&a=1&a=2&b"}, "x": {"1", "2"}},
		Header:   http.Header{"X-Forwarded-For": {"10.1.2.3", "10.0.0.1"}, "Content-Type": {"application/json"}, "User-Agent": {"test"}},
		ClientIP: netip.MustParseAddr("10.1.2.3"),
	}
}

// policyValue evaluates src, which sets v, as a binding's policy with req and
// returns v as the plan context holds it.
func policyValue(t *testing.T, src string, req plan.PolicyRequest) any {
	t.Helper()
	ctx := map[string]any{}
	req.Context = ctx
	if _, err := eval(t, src+"\ncontext['flow_plan'].context['v'] = v\nreturn True", req); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return ctx["v"]
}

// TestHTTPRequest: http_request has what Django's HttpRequest gives
// expressions: method, path, GET (a QueryDict: the last value, getlist,
// dict, in, keys), headers (case-insensitive), META and the tenant's
// defaults; request.http_request is the same request.
func TestHTTPRequest(t *testing.T) {
	req := plan.PolicyRequest{HTTP: httpReq()}
	tests := []struct {
		src  string
		want any
	}{
		{"v = [http_request.method, http_request.path, request.http_request.path]",
			[]any{"GET", "/api/v3/flows/executor/default-user-settings-flow/", "/api/v3/flows/executor/default-user-settings-flow/"}},
		{"v = request.http_request == http_request", true},
		{"q = http_request.GET\nv = [q.get('x'), q['x'], q.getlist('x'), q.get('none'), q.get('none', 'd'), q.getlist('none'), 'x' in q, 'none' in q, len(q), [k for k in q]]",
			[]any{"2", "2", []any{"1", "2"}, nil, "d", []any{}, true, false, int64(2), []any{"query", "x"}}},
		{"v = [http_request.GET.dict(), http_request.GET.items(), http_request.GET.lists(), dict(http_request.GET)]",
			[]any{map[string]any{"query": "next=%2Fif%2Fuser%2F&a=1&a=2&b", "x": "2"},
				[]any{[]any{"query", "next=%2Fif%2Fuser%2F&a=1&a=2&b"}, []any{"x", "2"}},
				[]any{[]any{"query", []any{"next=%2Fif%2Fuser%2F&a=1&a=2&b"}}, []any{"x", []any{"1", "2"}}},
				map[string]any{"query": []any{"next=%2Fif%2Fuser%2F&a=1&a=2&b"}, "x": []any{"1", "2"}}}},
		{"h = http_request.headers\nv = [h['x-forwarded-for'], h.get('USER-AGENT'), h.get('none'), 'content-type' in h, h.keys()]",
			[]any{"10.1.2.3,10.0.0.1", "test", nil, true, []any{"Content-Type", "User-Agent", "X-Forwarded-For"}}},
		{"m = http_request.META\nv = [m['HTTP_X_FORWARDED_FOR'], m['CONTENT_TYPE'], m['REMOTE_ADDR'], m['REQUEST_METHOD'], 'HTTP_CONTENT_TYPE' in m]",
			[]any{"10.1.2.3,10.0.0.1", "application/json", "10.1.2.3", "GET", false}},
		{"t = http_request.tenant\nv = [t.default_user_change_name, t.default_user_change_email, t.default_user_change_username]",
			[]any{true, false, false}},
		{"v = http_request.brand.attributes", map[string]any{}},
		{"v = [str(ak_client_ip), ak_client_ip.is_private, ak_client_ip in ip_network('10.0.0.0/8')]", []any{"10.1.2.3", true, true}},
	}
	for _, tt := range tests {
		if got := policyValue(t, tt.src, req); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", tt.src, got, tt.want)
		}
	}
	h := httpReq()
	h.Tenant = &plan.Tenant{DefaultUserChangeEmail: true}
	h.BrandAttributes = map[string]any{"k": "v"}
	h.ClientIP = netip.Addr{}
	got := policyValue(t, "t = http_request.tenant\nv = [t.default_user_change_name, t.default_user_change_email, http_request.brand.attributes, str(ak_client_ip), 'REMOTE_ADDR' in http_request.META]",
		plan.PolicyRequest{HTTP: h})
	if want := []any{false, true, map[string]any{"k": "v"}, "255.255.255.255", false}; !reflect.DeepEqual(got, want) {
		t.Errorf("tenant, brand, unknown client:\n got %#v\nwant %#v", got, want)
	}
	// Keys that differ only in case are one header (a host's map need
	// not be canonical).
	h = httpReq()
	h.Header = http.Header{"x-a": {"2"}, "X-A": {"1"}}
	got = policyValue(t, "v = [http_request.headers['X-A'], http_request.headers.keys(), http_request.META['HTTP_X_A']]", plan.PolicyRequest{HTTP: h})
	if want := []any{"1,2", []any{"X-A"}, "1,2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("non-canonical keys:\n got %#v\nwant %#v", got, want)
	}
	for _, tt := range []struct{ src, msg string }{
		{"return http_request.GET['none']", "'none'"},
		{"return http_request.headers['X-None']", "'x-none'"},
		{"http_request.GET['x'] = 'y'", "This QueryDict instance is immutable"},
	} {
		_, err := eval(t, tt.src, req)
		if err == nil || err.Error() != tt.msg {
			t.Errorf("%s: error %v, want %q", tt.src, err, tt.msg)
		}
	}
	_, err := eval(t, "return http_request.user", req)
	if !errors.Is(err, expression.ErrNotYet) || !strings.Contains(err.Error(), "request.user") {
		t.Errorf("http_request.user: %v", err)
	}
}

// TestNoHTTPRequest: without an HTTP request, http_request and
// ak_client_ip are not defined (authentik does not pass them: a
// NameError naming them) and request.http_request is None.
func TestNoHTTPRequest(t *testing.T) {
	for _, name := range []string{"http_request", "ak_client_ip"} {
		_, err := eval(t, "return "+name+".version", plan.PolicyRequest{})
		if err == nil || err.Error() != "name '"+name+"' is not defined" {
			t.Errorf("%s: %v", name, err)
		}
	}
	res, err := eval(t, "return request.http_request == None", plan.PolicyRequest{})
	if err != nil || !res.Passing {
		t.Errorf("request.http_request: %v, %v; want None", res.Passing, err)
	}
}

// TestUpstreamHTTPRequest ports test_execution_logging of authentik's
// policies/expression/tests.py: ak_message(request.http_request.path)
// on a request for "/".
func TestUpstreamHTTPRequest(t *testing.T) {
	res, err := eval(t, "ak_message(request.http_request.path)\nreturn True", plan.PolicyRequest{HTTP: &plan.HTTPRequest{Method: "GET", Path: "/"}})
	if err != nil || !res.Passing || !reflect.DeepEqual(res.Messages, []string{"/"}) {
		t.Errorf("%v %q %v; want passing with (\"/\",)", res.Passing, res.Messages, err)
	}
}

// TestQueryDict: django.http.QueryDict parses as parse_qsl with
// keep_blank_values (the expected values are CPython 3.13's), the last
// value wins in get and dict, it is immutable unless mutable=True, and
// the import is no problem for Check.
func TestQueryDict(t *testing.T) {
	if probs := expression.Check("from django.http import QueryDict\nreturn QueryDict('a=1')"); len(probs) != 0 {
		t.Errorf("Check: %+v", probs)
	}
	if probs := expression.CheckPrompt("from django.http import QueryDict\nreturn QueryDict('a=1')"); len(probs) != 0 {
		t.Errorf("CheckPrompt: %+v", probs)
	}
	got := policyValue(t, `from django.http import QueryDict
q = QueryDict("next=%2Fif%2Fadmin%2F&a=1&a=2&b&c=&=x&&d=a+b%20c&e=%zz&f=%E2%82&g=caf%C3%A9")
v = [q.lists(), q.get("a"), q.dict()["a"], q.get("b", "d"), q.urlencode()]`, plan.PolicyRequest{})
	want := []any{
		[]any{[]any{"next", []any{"/if/admin/"}}, []any{"a", []any{"1", "2"}}, []any{"b", []any{""}}, []any{"c", []any{""}}, []any{"", []any{"x"}},
			[]any{"d", []any{"a b c"}}, []any{"e", []any{"%zz"}}, []any{"f", []any{"\uFFFD"}}, []any{"g", []any{"café"}}},
		"2", "2", "", "next=%2Fif%2Fadmin%2F&a=1&a=2&b=&c=&=x&d=a+b+c&e=%25zz&f=%EF%BF%BD&g=caf%C3%A9",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parse:\n got %#v\nwant %#v", got, want)
	}
	// The flow executor's page query, as the shipped examples read it.
	got = policyValue(t, `from django.http import QueryDict
q = QueryDict(http_request.GET.get("query"))
v = [q.get("next"), q.getlist("a"), q.get("b"), len(QueryDict()), len(QueryDict(None))]`, plan.PolicyRequest{HTTP: httpReq()})
	if want := []any{"/if/user/", []any{"1", "2"}, "", int64(0), int64(0)}; !reflect.DeepEqual(got, want) {
		t.Errorf("page query:\n got %#v\nwant %#v", got, want)
	}
	got = policyValue(t, `from django.http import QueryDict
q = QueryDict(mutable=True)
q["a"] = "b c"
v = q.urlencode()`, plan.PolicyRequest{})
	if got != "a=b+c" {
		t.Errorf("mutable: %#v", got)
	}
	for _, tt := range []struct{ src, msg string }{
		{"from django.http import QueryDict\nQueryDict('a=1')['a'] = 'x'", "This QueryDict instance is immutable"},
		{"from django.http import QueryDict\nQueryDict('&' * 1000)", "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."},
		{"from django.http import QueryDict\nQueryDict(1)", "QueryDict: query_string must be a str, not int"},
	} {
		_, err := eval(t, tt.src, plan.PolicyRequest{})
		if err == nil || err.Error() != tt.msg {
			t.Errorf("%s: error %v, want %q", tt.src, err, tt.msg)
		}
	}
	if _, err := eval(t, "from django.http import QueryDict\nQueryDict('&' * 999)", plan.PolicyRequest{}); err != nil {
		t.Errorf("1000 fields: %v", err)
	}
}

// TestGroupAttributesBrand: user.group_attributes(http_request) merges
// the brand's attributes first (lists appended, dicts merged, the
// groups' and user's scalars win); without an HTTP request, or with
// None, there is no brand. For a user the directory holds, the merge is
// authentik's own order (brand, groups by name, user).
func TestGroupAttributesBrand(t *testing.T) {
	h := httpReq()
	h.BrandAttributes = map[string]any{"l": []any{"brand"}, "k": "brand", "d": map[string]any{"b": 1.0}, "only": "brand"}
	user := plan.User{PK: 7, Authenticated: true, Attributes: map[string]any{}, GroupAttributes: map[string]any{
		"l": []any{"group"}, "k": "group", "d": map[string]any{"g": 2.0}}}
	got := policyValue(t, "v = [request.user.group_attributes(http_request), request.user.group_attributes(), request.user.group_attributes(None)]",
		plan.PolicyRequest{User: user, HTTP: h})
	merged := map[string]any{"l": []any{"brand", "group"}, "k": "group", "d": map[string]any{"b": 1.0, "g": 2.0}, "only": "brand"}
	plain := map[string]any{"l": []any{"group"}, "k": "group", "d": map[string]any{"g": 2.0}}
	if want := []any{merged, plain, plain}; !reflect.DeepEqual(got, want) {
		t.Errorf("planner's facts:\n got %#v\nwant %#v", got, want)
	}
	if _, ok := h.BrandAttributes["d"].(map[string]any)["g"]; ok {
		t.Error("the merge wrote into the brand's attributes")
	}

	f := newDirFixture(t)
	h.BrandAttributes = map[string]any{"team": "brand", "goauthentik.io/user/can-change-email": true, "b": 1.0}
	ctx := map[string]any{}
	_, err := f.eval(t, "context['flow_plan'].context['v'] = ak_user_by(username='bob').group_attributes(http_request)\nreturn True",
		plan.PolicyRequest{HTTP: h, Context: ctx})
	want := map[string]any{"team": "backend", "goauthentik.io/user/can-change-email": false, "own": "bob", "b": 1.0}
	if err != nil || !reflect.DeepEqual(ctx["v"], want) {
		t.Errorf("directory's user: %#v, %v; want %#v", ctx["v"], err, want)
	}
}

// TestShippedUserSettingsAuthorization: the shipped
// default-user-settings-authorization policy gives authentik's results:
// a user may change their name but not their email address or username
// by the tenant's defaults, unless the tenant or the attributes of the
// brand, their groups or themselves say otherwise (bob's group eng
// forbids changing the email address).
func TestShippedUserSettingsAuthorization(t *testing.T) {
	f := newDirFixture(t)
	src := shippedPolicies(t)["default-user-settings-authorization"]
	same := func(u string) map[string]any {
		m := map[string]any{"bob": map[string]any{"username": "bob", "name": "Bob", "email": "Bob@Example.com"},
			"ann": map[string]any{"username": "ann", "name": "Ann", "email": "ann@example.com"}}[u].(map[string]any)
		return clone(m)
	}
	with := func(u, k, v string) map[string]any { m := same(u); m[k] = v; return m }
	pks := map[string]int64{"bob": f.bob.PK, "ann": f.ann.PK}
	tests := []struct {
		name   string
		user   string
		data   map[string]any
		tenant *plan.Tenant
		brand  map[string]any
		pass   bool
		msg    string
	}{
		{"unchanged", "ann", same("ann"), nil, nil, true, ""},
		{"name by default", "ann", with("ann", "name", "Annie"), nil, nil, true, ""},
		{"email by default", "ann", with("ann", "email", "a@b.c"), nil, nil, false, "Not allowed to change email address."},
		{"username by default", "ann", with("ann", "username", "annie"), nil, nil, false, "Not allowed to change username."},
		{"name not by tenant", "ann", with("ann", "name", "Annie"), &plan.Tenant{}, nil, false, "Not allowed to change name."},
		{"email by tenant", "ann", with("ann", "email", "a@b.c"), &plan.Tenant{DefaultUserChangeEmail: true}, nil, true, ""},
		{"username by brand", "ann", with("ann", "username", "annie"), nil, map[string]any{"goauthentik.io/user/can-change-username": true}, true, ""},
		{"email not by group over tenant", "bob", with("bob", "email", "b@b.c"), &plan.Tenant{DefaultUserChangeEmail: true}, nil, false, "Not allowed to change email address."},
		{"email not by group over brand", "bob", with("bob", "email", "b@b.c"), nil, map[string]any{"goauthentik.io/user/can-change-email": true}, false, "Not allowed to change email address."},
		{"bob unchanged", "bob", same("bob"), nil, nil, true, ""},
	}
	for _, tt := range tests {
		h := httpReq()
		h.Tenant, h.BrandAttributes = tt.tenant, tt.brand
		du, err := f.dir.User(t.Context(), pks[tt.user])
		if err != nil {
			t.Fatal(err)
		}
		facts, err := directory.FactsOf(t.Context(), f.dir, du)
		if err != nil {
			t.Fatal(err)
		}
		// With the group attributes the planner merged (the brand merged
		// under them), and without (the directory's, merged again).
		for _, gattrs := range []map[string]any{facts.Attributes, nil} {
			res, err := f.eval(t, src, plan.PolicyRequest{HTTP: h, User: plan.User{PK: du.PK, Authenticated: true, GroupAttributes: gattrs},
				Context: map[string]any{"prompt_data": tt.data}})
			var msgs []string
			if tt.msg != "" {
				msgs = []string{tt.msg}
			}
			if err != nil || res.Passing != tt.pass || !slices.Equal(res.Messages, msgs) {
				t.Errorf("%s (planner's facts %v): %v %q %v; want %v %q", tt.name, gattrs != nil, res.Passing, res.Messages, err, tt.pass, msgs)
			}
		}
	}
}

// TestFlowPlanAtFlowLevel: a flow's own policies have no plan, so no
// flow_plan in their context, as in authentik (context["flow_plan"] is a
// KeyError there): the shipped password-stage policy, which guards
// against that, passes.
func TestFlowPlanAtFlowLevel(t *testing.T) {
	ev := expression.Evaluator(nil)
	req := plan.PolicyRequest{Context: map[string]any{"pending_user": map[string]any{"pk": 1.0, "backend": "x"}}}
	res, err := ev.Evaluate(context.Background(), expr(`return "flow_plan" in context or "flow_plan" in request.context`), req)
	if err != nil || res.Passing {
		t.Errorf("flow_plan at flow level: %v, %v", res.Passing, err)
	}
	if _, err := ev.Evaluate(context.Background(), expr(`context["flow_plan"].redirect("/x")`), req); err == nil || !strings.Contains(err.Error(), "flow_plan") {
		t.Errorf("context[\"flow_plan\"]: %v", err)
	}
	res, err = ev.Evaluate(context.Background(), expr(shippedPolicies(t)["default-authentication-flow-password-stage"]), req)
	if err != nil || !res.Passing {
		t.Errorf("password-stage policy at flow level: %v, %v; want passing", res.Passing, err)
	}
}

// TestRedirect: flow_plan.redirect(url) reaches the plan, and the result
// may be kept by a plan cache (the redirect stage is part of the plan).
func TestRedirect(t *testing.T) {
	var r redirects
	res, err := eval(t, `context["flow_plan"].redirect("https://example.com/x")
context["flow_plan"].redirect(destination="/y")
return False`, plan.PolicyRequest{Plan: &r})
	if err != nil || res.Passing || !slices.Equal(r, []string{"https://example.com/x", "/y"}) {
		t.Fatalf("%v, %v, redirects %q", res.Passing, err, r)
	}
	if !res.ValidUntil.Equal(plan.Forever) {
		t.Errorf("ValidUntil %v, want Forever", res.ValidUntil)
	}
}

// TestRedirectPlan: a binding's expression policy that redirects, with
// a real store through plan.Make and through a plan.Cache: the redirect
// stage comes right after the first stage planned so far, and a cached
// plan keeps it.
func TestRedirectPlan(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "r.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	doc := `version: 1
entries:
- {model: authentik_flows.flow, id: flow, identifiers: {slug: f}, attrs: {name: F, title: F, designation: authentication}}
- {model: authentik_stages_dummy.dummystage, id: s1, identifiers: {name: s1}}
- {model: authentik_stages_dummy.dummystage, id: s2, identifiers: {name: s2}}
- {model: authentik_stages_dummy.dummystage, id: s3, identifiers: {name: s3}}
- {model: authentik_flows.flowstagebinding, id: b1, identifiers: {target: !KeyOf flow, stage: !KeyOf s1, order: 10}}
- {model: authentik_flows.flowstagebinding, id: b2, identifiers: {target: !KeyOf flow, stage: !KeyOf s2, order: 20}, attrs: {evaluate_on_plan: true, re_evaluate_policies: false}}
- {model: authentik_flows.flowstagebinding, id: b3, identifiers: {target: !KeyOf flow, stage: !KeyOf s3, order: 30}}
- model: authentik_policies_expression.expressionpolicy
  id: go
  identifiers: {name: go}
  attrs:
    expression: |
      from django.http import QueryDict
      nxt = QueryDict(http_request.GET.get("query", "")).get("next")
      if nxt:
          context["flow_plan"].redirect(nxt)
      return True
- {model: authentik_policies.policybinding, identifiers: {target: !KeyOf b2, policy: !KeyOf go, order: 0}}
`
	if _, err := blueprint.Load(ctx, s, strings.NewReader(doc), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	evs := plan.Builtin(nil)
	ev, calls := expression.Evaluator(nil), 0
	evs[policy.ModelExpression] = plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		calls++
		return ev.Evaluate(ctx, p, req)
	})
	req := plan.Request{HTTP: &plan.HTTPRequest{Method: "GET", Path: "/", Query: url.Values{"query": {"next=%2Fif%2Fuser%2F"}}}}
	names := func(p plan.Plan) []string {
		var out []string
		for _, st := range p.Stages {
			out = append(out, st.Name+st.Redirect)
		}
		return out
	}
	want := []string{"s1", "redirect/if/user/", "s2", "s3"}
	err = s.View(ctx, func(tx *store.Tx) error {
		p, err := plan.Make(ctx, tx, "f", req, plan.Options{Evaluators: evs})
		if err != nil {
			return err
		}
		if got := names(p); !slices.Equal(got, want) {
			t.Errorf("stages %q, want %q", got, want)
		}
		p, err = plan.Make(ctx, tx, "f", plan.Request{HTTP: &plan.HTTPRequest{Method: "GET", Path: "/"}}, plan.Options{Evaluators: evs})
		if err != nil {
			return err
		}
		if got := names(p); !slices.Equal(got, []string{"s1", "s2", "s3"}) {
			t.Errorf("no next: stages %q", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := plan.NewCache(s, plan.CacheOptions{Options: plan.Options{Evaluators: evs}})
	defer c.Close()
	calls = 0
	for i := range 2 {
		p, err := c.Make(ctx, "f", req)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(p); !slices.Equal(got, want) {
			t.Errorf("cache #%d: stages %q, want %q", i, got, want)
		}
	}
	// The redirect depends on the HTTP request, which a cache does not
	// compare: the plan is made anew each time, and a request without
	// next gets no redirect.
	if calls != 2 {
		t.Errorf("the policy was evaluated %d times, want twice: a result that reads http_request is not cached", calls)
	}
	p, err := c.Make(ctx, "f", plan.Request{HTTP: &plan.HTTPRequest{Method: "GET", Path: "/"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p); !slices.Equal(got, []string{"s1", "s2", "s3"}) {
		t.Errorf("cache, no next: stages %q", got)
	}
}

// TestPromptHTTPRequest: a prompt expression gets http_request, and
// request.http_request, when there is an HTTP request.
func TestPromptHTTPRequest(t *testing.T) {
	p := stage.Prompt{Name: "p", FieldKey: "next", Type: "text", InitialValueExpression: true,
		InitialValue: `return [http_request.GET.get("x"), request.http_request.path]`}
	got, err := expression.PromptValue(context.Background(), p, expression.PromptInitialValue,
		expression.PromptVars{HTTP: &plan.HTTPRequest{Path: "/p", Query: url.Values{"x": {"1", "2"}}}, DryRun: true}, nil)
	if err != nil || got != "['2', '/p']" {
		t.Errorf("%q, %v", got, err)
	}
	if _, err := expression.PromptValue(context.Background(), p, expression.PromptInitialValue, expression.PromptVars{DryRun: true}, nil); err == nil ||
		!strings.Contains(err.Error(), "name 'http_request' is not defined") {
		t.Errorf("no HTTP request: %v", err)
	}
}

// An expression that names the HTTP request, in any of the ways it can,
// gives a result no plan cache keeps (a cache does not compare the HTTP
// request); one that does not is kept.
func TestReadsHTTPNotCached(t *testing.T) {
	req := plan.PolicyRequest{HTTP: &plan.HTTPRequest{Method: "GET", Path: "/"}}
	for src, cached := range map[string]bool{
		"return True": true,
		"return request.context.get('x') == None":   true,
		"return http_request.path == '/'":           false,
		"return request.http_request.path == '/'":   false,
		"return getattr(request, 'http_request')":   false,
		"return ak_client_ip.is_private or True":    false,
		"r = request\nreturn r.http_request.method": false,
	} {
		res, err := eval(t, src, req)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := res.ValidUntil.Equal(plan.Forever); got != cached {
			t.Errorf("%q: cached %v, want %v", src, got, cached)
		}
	}
}
