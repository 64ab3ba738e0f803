package expression

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/authflow/authflow/plan"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// ErrNoJWT is wrapped by the error of ak_create_jwt, which authflow
// refuses: it issues no OAuth2 tokens (authentik saves an access token
// of one of its OAuth2 providers).
var ErrNoJWT = errors.New("ak_create_jwt is refused: authflow issues no OAuth2 tokens")

// Resolver answers resolve_dns and reverse_dns; *net.Resolver is one.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// hooks are what one evaluation may do through its host besides reading
// the directory: call policies, write events, use the network.
type hooks struct {
	opts Options
	// app is the event's app: authentik's evaluator filename, the
	// policy's (or prompt's) name.
	app string
	// names and args are the handler's parameters, for an event's
	// context.
	names []string
	args  starlark.Tuple
	// req is the planner's request (Call, HTTP); the zero value for a
	// prompt.
	req plan.PolicyRequest
	// context and request are the handler's request.context and
	// request, which a called expression policy shares.
	context *starlark.Dict
	request starlark.Value
}

// needHooks returns the thread's host when it has hooks.
func needHooks(th *starlark.Thread) (*host, *hooks) {
	h := hostOf(th)
	if h == nil || h.hooks == nil {
		return h, nil
	}
	return h, h.hooks
}

// callFrame is how ak_call_policy hands its request to the expression
// policy it calls, through the context given to plan.CallPolicy: the
// called expression shares the caller's request and request.context, as
// in authentik, and hands back its value (raw_result).
type callFrame struct {
	name    string
	context *starlark.Dict
	request starlark.Value
	taken   bool
	raw     starlark.Value
	// steps is what is left of the caller's step limit, which bounds
	// the called expression's; used is what the called one took, which
	// the caller is charged: a tree of calls shares one limit.
	steps, used uint64
}

type frameKey struct{}

// takeFrame returns the frame ak_call_policy made for the policy named,
// once.
func takeFrame(ctx context.Context, name string) *callFrame {
	f := peekFrame(ctx, name)
	if f != nil {
		f.taken = true
	}
	return f
}

// peekFrame is takeFrame without taking it.
func peekFrame(ctx context.Context, name string) *callFrame {
	f, ok := ctx.Value(frameKey{}).(*callFrame)
	if !ok || f.taken || f.name != name {
		return nil
	}
	return f
}

// akCallPolicy is ak_call_policy(name, **kwargs): kwargs are merged into
// the caller's request.context, and the policy named is evaluated by the
// planner with the caller's request.
func akCallPolicy(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var name string
	args, kw = firstByName(args, kw, "name")
	if err := starlark.UnpackPositionalArgs(b.Name(), args, nil, 1, &name); err != nil {
		return nil, err
	}
	h, hk := needHooks(th)
	if hk == nil || hk.req.Call == nil || hk.context == nil {
		return nil, fmt.Errorf("ak_call_policy is %w (a planner or executor that calls policies: plan.PolicyRequest.Call; prompt expressions have none)", ErrNoHost)
	}
	// kwargs go into request.context; undone when the name is unknown,
	// as authentik looks the policy up first.
	type old struct {
		k   starlark.String
		v   starlark.Value
		had bool
	}
	var undo []old
	for _, kv := range kw {
		k := kv[0].(starlark.String)
		v, had, _ := hk.context.Get(k)
		undo = append(undo, old{k, v, had})
		if err := hk.context.SetKey(k, kv[1]); err != nil {
			return nil, err
		}
	}
	before, err := goContext(hk.context, hk.opts.Limits.MaxValues)
	if err != nil {
		return nil, err
	}
	// Each call converts request.context: its values are charged, with
	// callCost for the call itself.
	if err := charge(th, callCost+bytesPerStep*countValues(before)); err != nil {
		return nil, err
	}
	req := hk.req
	req.Context = make(map[string]any, len(before))
	maps.Copy(req.Context, before)
	f := &callFrame{name: name, context: hk.context, request: hk.request, steps: 1}
	if th.Steps < h.maxSteps {
		f.steps = h.maxSteps - th.Steps
	}
	res, err := hk.req.Call(context.WithValue(h.ctx, frameKey{}, f), name, req)
	th.Steps += f.used // past the limit, the caller stops at its next step
	if errors.Is(err, plan.ErrUnknownPolicy) {
		for _, o := range slices.Backward(undo) {
			if o.had {
				_ = hk.context.SetKey(o.k, o.v)
			} else {
				_, _, _ = hk.context.Delete(o.k)
			}
		}
		return nil, &textError{fmt.Sprintf("Policy '%s' not found.", name), err}
	}
	if err != nil {
		return nil, fmt.Errorf("ak_call_policy(%q): %w", name, err)
	}
	if !f.taken {
		// Another kind's evaluator: what it wrote into its context is
		// written into request.context, which it stands for.
		if err := mergeBack(hk.context, before, req.Context); err != nil {
			return nil, err
		}
	}
	msgs := make(starlark.Tuple, len(res.Messages))
	for i, m := range res.Messages {
		msgs[i] = starlark.String(m)
	}
	raw := f.raw
	if raw == nil {
		raw = starlark.None
	}
	return &policyResult{passing: res.Passing, messages: msgs, raw: raw}, nil
}

// firstByName moves the keyword argument named to the front of args
// when no positional argument is given: Python binds f(name=x) to the
// parameter, not to **kwargs.
func firstByName(args starlark.Tuple, kw []starlark.Tuple, name string) (starlark.Tuple, []starlark.Tuple) {
	if len(args) > 0 {
		return args, kw
	}
	for i, kv := range kw {
		if string(kv[0].(starlark.String)) == name {
			return starlark.Tuple{kv[1]}, slices.Delete(slices.Clone(kw), i, i+1)
		}
	}
	return args, kw
}

// textError is an error whose text is authentik's, wrapping a sentinel.
type textError struct {
	msg string
	err error
}

func (e *textError) Error() string { return e.msg }
func (e *textError) Unwrap() error { return e.err }

// goContext converts request.context, without flow_plan, for a policy
// of another kind; keys whose values cannot be converted are left out.
func goContext(d *starlark.Dict, maxValues int) (map[string]any, error) {
	out := map[string]any{}
	budget := maxValues
	for _, kv := range d.Items() {
		k, ok := starlark.AsString(kv[0])
		if !ok || k == "flow_plan" {
			continue
		}
		v, err := fromValue(kv[1], 1, &budget)
		if errors.Is(err, ErrTooLarge) {
			return nil, err
		}
		if err == nil {
			out[k] = v
		}
	}
	return out, nil
}

// countValues is the number of values in m, at any depth.
func countValues(m map[string]any) int {
	n := 0
	var walk func(any)
	walk = func(v any) {
		n++
		switch v := v.(type) {
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, v := range m {
		walk(v)
	}
	return n
}

// mergeBack writes into d the keys of after that differ from before, and
// deletes those after lost.
func mergeBack(d *starlark.Dict, before, after map[string]any) error {
	for k, v := range after {
		if b, ok := before[k]; ok && reflect.DeepEqual(b, v) {
			continue
		}
		x, err := toValue(v, 1)
		if err != nil {
			return fmt.Errorf("ak_call_policy: %w", err)
		}
		if err := d.SetKey(starlark.String(k), x); err != nil {
			return err
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			if _, _, err := d.Delete(starlark.String(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// policyResult is authentik's PolicyResult as ak_call_policy returns it:
// passing, messages (a tuple) and raw_result, the called expression's
// value (None for other kinds and for a failure).
type policyResult struct {
	passing  bool
	messages starlark.Tuple
	raw      starlark.Value
}

var _ starlark.HasAttrs = (*policyResult)(nil)

func (r *policyResult) String() string {
	s := "<PolicyResult passing=" + pyStr(starlark.Bool(r.passing))
	if len(r.messages) > 0 {
		s += " messages=" + pyRepr(r.messages)
	}
	return s + ">"
}
func (r *policyResult) Type() string         { return "PolicyResult" }
func (r *policyResult) Freeze()              { r.raw.Freeze() }
func (r *policyResult) Truth() starlark.Bool { return true }
func (r *policyResult) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: 'PolicyResult'")
}
func (r *policyResult) AttrNames() []string { return []string{"messages", "passing", "raw_result"} }

func (r *policyResult) Attr(name string) (starlark.Value, error) {
	switch name {
	case "passing":
		return starlark.Bool(r.passing), nil
	case "messages":
		return r.messages, nil
	case "raw_result":
		return r.raw, nil
	}
	return nil, nil
}

// akCreateEvent is ak_create_event(action, **kwargs): an Event
// "custom_<action>" whose context is the handler's parameters (without
// result and handler) and kwargs, sanitized and cleansed as authentik
// does, handed to Options.Event (dropped without one).
func akCreateEvent(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var action string
	args, kw = firstByName(args, kw, "action")
	if err := starlark.UnpackPositionalArgs(b.Name(), args, nil, 1, &action); err != nil {
		return nil, err
	}
	h, hk := needHooks(th)
	if hk == nil {
		return nil, fmt.Errorf("ak_create_event is %w (an evaluation of this package's evaluator)", ErrNoHost)
	}
	s := sanitizer{budget: hk.opts.Limits.MaxValues}
	data := map[string]any{}
	put := func(k string, v starlark.Value) error {
		x, keep, err := s.item(v, 0)
		if err != nil {
			return fmt.Errorf("ak_create_event: %q: %w", k, err)
		}
		if keep {
			data[k] = x
		} else {
			delete(data, k)
		}
		return nil
	}
	for i, n := range hk.names {
		if n == "http_request" || i >= len(hk.args) {
			continue // authentik's sanitize_item drops an HttpRequest
		}
		if err := put(n, hk.args[i]); err != nil {
			return nil, err
		}
	}
	for _, kv := range kw {
		if err := put(string(kv[0].(starlark.String)), kv[1]); err != nil {
			return nil, err
		}
	}
	// Each event converts the parameters: their values are charged.
	if err := charge(th, bytesPerStep*(hk.opts.Limits.MaxValues-s.budget)); err != nil {
		return nil, err
	}
	ev := Event{Action: "custom_" + action, App: hk.app, Context: cleanseDict(data)}
	if r := hk.req.HTTP; r != nil {
		q := map[string]any{}
		for k, vs := range r.Query {
			if len(vs) > 0 {
				q[k] = vs[len(vs)-1]
			}
		}
		ev.Context["http_request"] = map[string]any{
			"path": r.Path, "method": r.Method, "args": cleanseDict(q), "user_agent": r.Header.Get("User-Agent"),
		}
	}
	h.used = true // a cached plan would not write it again
	if hk.opts.Event != nil {
		hk.opts.Event(h.ctx, ev)
	}
	return starlark.None, nil
}

// Django's SafeExceptionReporterFilter.hidden_settings (Django 5's, with
// AUTH and HTTP_COOKIE) and authentik's ALLOWED_SPECIAL_KEYS
// (events/utils.py): a key that matches the first and not the second has
// its value replaced by CleansedSubstitute.
var (
	hiddenKeys  = regexp.MustCompile(`(?i)API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE`)
	allowedKeys = regexp.MustCompile(`(?i)passing|password_change_date`)
)

// CleansedSubstitute replaces the value of a sensitive key in an
// event's context (Django's cleansed_substitute).
const CleansedSubstitute = "********************"

// cleanseDict is authentik's cleanse_dict: the values of sensitive keys
// are replaced, in maps and lists at any depth; a map under a sensitive
// key is cleansed, not replaced.
func cleanseDict(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cleanseItem(k, v)
	}
	return out
}

func cleanseItem(k string, v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cleanseDict(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = cleanseItem(k, x)
		}
		return out
	}
	if hiddenKeys.MatchString(k) && !allowedKeys.MatchString(k) {
		return CleansedSubstitute
	}
	return v
}

// sanitizer is authentik's sanitize_item for the values an expression
// has: plain Go values, users as {username, pk, email}, a PolicyRequest
// and a PolicyResult as maps of their fields, callables as
// {type, name, module}, addresses and anything else as str().
type sanitizer struct{ budget int }

// authentik's names for the handler's callable parameters.
var callableNames = map[string][2]string{
	"ak_message":                {"expr_func_message", "authentik.policies.expression.evaluator"},
	"ak_user_has_authenticator": {"expr_func_user_has_authenticator", "authentik.lib.expression.evaluator"},
}

// item converts v; keep is false for what authentik leaves out (an HTTP
// request, an absent parameter).
func (s *sanitizer) item(v starlark.Value, depth int) (out any, keep bool, err error) {
	if depth > maxDepth {
		return nil, false, fmt.Errorf("%w: nested more than %d deep", ErrTooLarge, maxDepth)
	}
	if s.budget--; s.budget < 0 {
		return nil, false, fmt.Errorf("%w: more than MaxValues elements", ErrTooLarge)
	}
	switch v := v.(type) {
	case starlark.NoneType, starlark.Bool, starlark.String, starlark.Int, starlark.Float:
		budget := 1
		x, err := fromValue(v, 0, &budget)
		return x, true, err
	case *starlark.List, starlark.Tuple, *starlark.Set:
		// sanitize_item keeps only the truthy items of a list.
		out := []any{}
		it := v.(starlark.Iterable).Iterate()
		defer it.Done()
		var e starlark.Value
		for it.Next(&e) {
			x, keep, err := s.item(e, depth+1)
			if err != nil {
				return nil, false, err
			}
			if keep && truthy(x) {
				out = append(out, x)
			}
		}
		return out, true, nil
	case *starlark.Dict:
		out := make(map[string]any, v.Len())
		for _, kv := range v.Items() {
			k, ok := starlark.AsString(kv[0])
			if !ok {
				k = kv[0].String()
			}
			x, keep, err := s.item(kv[1], depth+1)
			if err != nil {
				return nil, false, err
			}
			if keep {
				out[k] = x
			}
		}
		return out, true, nil
	case anonUser:
		// get_anonymous_user(): authentik's stored anonymous user.
		return map[string]any{"username": "AnonymousUser", "email": "", "is_anonymous": true}, true, nil
	case *userValue, *dirUser:
		u := v.(starlark.HasAttrs)
		out := map[string]any{}
		for _, f := range []string{"username", "pk", "email"} {
			x, err := u.Attr(f)
			if err != nil || x == nil {
				continue // a field the planner does not know
			}
			if y, keep, err := s.item(x, depth+1); err == nil && keep {
				out[f] = y
			}
		}
		return out, true, nil
	case *starlarkstruct.Struct:
		out := map[string]any{}
		for _, n := range v.AttrNames() {
			x, _ := v.Attr(n)
			y, keep, err := s.item(x, depth+1)
			if err != nil {
				return nil, false, err
			}
			if keep {
				out[n] = y
			}
		}
		return out, true, nil
	case *queryDict:
		// A QueryDict is a dict in Python: its keys are cleansed, each
		// with its last value.
		out := make(map[string]any, len(v.keys))
		for _, kv := range v.items() {
			x, _, err := s.item(kv[1], depth+1)
			if err != nil {
				return nil, false, err
			}
			out[string(kv[0].(starlark.String))] = x
		}
		return out, true, nil
	case *headerMap:
		// As a map, so that the cleansing sees the names (Authorization);
		// authentik's str() would show every value.
		out := make(map[string]any, len(v.names))
		for _, n := range v.names {
			if s.budget--; s.budget < 0 {
				return nil, false, fmt.Errorf("%w: more than MaxValues elements", ErrTooLarge)
			}
			x := v.vals[strings.ToLower(n)]
			if meta := "HTTP_" + strings.ToUpper(strings.ReplaceAll(n, "-", "_")); hiddenKeys.MatchString(meta) && !allowedKeys.MatchString(meta) {
				x = CleansedSubstitute // Cookie, as META's HTTP_COOKIE
			}
			out[n] = x
		}
		return out, true, nil
	case *ctxView:
		// Unreachable from an expression that only looks values up;
		// the dict it stands for, should Go code pass it on.
		d, err := v.dict()
		if err != nil {
			return nil, false, err
		}
		return s.item(d, depth)
	case *flowPlan:
		d, err := v.dict()
		if err != nil {
			return nil, false, err
		}
		c, _, err := s.item(d, depth+1)
		return map[string]any{"context": c}, true, err
	case *policyResult:
		m, _, err := s.item(v.messages, depth+1)
		if err != nil {
			return nil, false, err
		}
		raw, _, err := s.item(v.raw, depth+1)
		return map[string]any{"passing": v.passing, "messages": m, "raw_result": raw}, true, err
	case *starlark.Builtin:
		n := callableNames[v.Name()]
		if n[0] == "" {
			n = [2]string{v.Name(), ""}
		}
		return map[string]any{"type": "callable", "name": n[0], "module": n[1]}, true, nil
	case undefinedName, unavailable:
		return nil, false, nil
	}
	return pyStr(v), true, nil
}

// truthy is Python's truth of a sanitized value.
func truthy(x any) bool {
	switch x := x.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int64:
		return x != 0
	case float64:
		return x != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// akCreateJWT is ak_create_jwt, which authflow refuses.
func akCreateJWT(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return nil, ErrNoJWT
}

// resolveDNS is resolve_dns(host, ip_version=None): the host's addresses
// through Options.Resolver, only IPv4 or IPv6 ones for ip_version 4 or
// 6, each once; a failed lookup is [].
func resolveDNS(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var hostV, version starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kw, "host", &hostV, "ip_version?", &version); err != nil {
		return nil, err
	}
	h, r, err := needResolver(th, b.Name())
	if err != nil {
		return nil, err
	}
	name, _ := starlark.AsString(hostV)
	want := 0
	if i, ok := version.(starlark.Int); ok {
		if n, ok := i.Int64(); ok && (n == 4 || n == 6) {
			want = int(n)
		}
	}
	out := []starlark.Value{}
	if name == "" {
		return starlark.NewList(out), nil
	}
	addrs, err := r.LookupHost(h.ctx, name)
	if err != nil {
		return starlark.NewList(out), nil
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil || seen[a] || want == 4 && !ip.Unmap().Is4() || want == 6 && ip.Unmap().Is4() {
			continue
		}
		seen[a] = true
		out = append(out, starlark.String(a))
	}
	return starlark.NewList(out), nil
}

// reverseDNS is reverse_dns(ip): socket.getfqdn through
// Options.Resolver: the first name with a dot, else the first name, else
// (and on error) the input.
func reverseDNS(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var ip string
	if err := starlark.UnpackArgs(b.Name(), args, kw, "ip_addr", &ip); err != nil {
		return nil, err
	}
	h, r, err := needResolver(th, b.Name())
	if err != nil {
		return nil, err
	}
	names, err := r.LookupAddr(h.ctx, ip)
	if err != nil || len(names) == 0 || ip == "" {
		return starlark.String(ip), nil
	}
	for i := range names {
		names[i] = strings.TrimSuffix(names[i], ".")
	}
	for _, n := range names {
		if strings.Contains(n, ".") {
			return starlark.String(n), nil
		}
	}
	return starlark.String(names[0]), nil
}

func needResolver(th *starlark.Thread, what string) (*host, Resolver, error) {
	h, hk := needHooks(th)
	if hk == nil || hk.opts.Resolver == nil {
		return nil, nil, fmt.Errorf("%s is %w (a DNS resolver: expression.Options.Resolver)", what, ErrNoHost)
	}
	h.used = true // the network's answer may change
	if err := charge(th, networkCost); err != nil {
		return nil, nil, err
	}
	return h, hk.opts.Resolver, nil
}

// networkCost is what a request or a DNS lookup counts against the step
// limit, in bytesPerStep units: 1000 steps, so that an evaluation with
// the default limit makes at most 1000 of them, however long its
// deadline.
const networkCost = 1000 * bytesPerStep

// callCost is what ak_call_policy counts against the step limit, in
// bytesPerStep units, besides the called expression's own steps: 100
// steps, so that an evaluation with the default limit makes at most
// 10,000 calls (the policy read, and another kind's evaluation, take no
// steps of their own).
const callCost = 100 * bytesPerStep

// DefaultMaxResponseBytes is the largest response body requests reads
// when Options.MaxResponseBytes is zero.
const DefaultMaxResponseBytes = 1 << 20

// session is requests: get, post, put, patch, delete, head, options and
// request through Options.HTTPClient, with the arguments params, data,
// json, headers and timeout.
type session struct{}

var _ starlark.HasAttrs = session{}

// httpArgs are the positional parameters of each method after url
// (requests' signatures).
var httpArgs = map[string][]string{
	"get": {"params"}, "post": {"data", "json"}, "put": {"data"}, "patch": {"data"},
	"delete": nil, "head": nil, "options": nil, "request": nil,
}

var sessionMethods = func() map[string]*starlark.Builtin {
	m := map[string]*starlark.Builtin{}
	for name := range httpArgs {
		m[name] = starlark.NewBuiltin("requests."+name, httpMethod(name))
	}
	return m
}()

func (session) String() string        { return "<requests.sessions.Session>" }
func (session) Type() string          { return "Session" }
func (session) Freeze()               {}
func (session) Truth() starlark.Bool  { return true }
func (session) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: 'Session'") }
func (session) AttrNames() []string {
	return []string{"delete", "get", "head", "options", "patch", "post", "put", "request"}
}

func (session) Attr(name string) (starlark.Value, error) {
	if b, ok := sessionMethods[name]; ok {
		return b, nil
	}
	return nil, nil
}

// httpMethod is requests.<name>(url, ...).
func httpMethod(name string) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		method := strings.ToUpper(name)
		names := append([]string{"url"}, httpArgs[name]...)
		if name == "request" {
			if len(args) == 0 {
				return nil, fmt.Errorf("%s: missing argument for method", b.Name())
			}
			m, ok := starlark.AsString(args[0])
			if !ok {
				return nil, fmt.Errorf("%s: method must be a string, not %s", b.Name(), args[0].Type())
			}
			method, args = strings.ToUpper(m), args[1:]
		}
		if len(args) > len(names) {
			return nil, fmt.Errorf("%s: got %d positional arguments, want at most %d", b.Name(), len(args), len(names))
		}
		in := map[string]starlark.Value{}
		for i, a := range args {
			in[names[i]] = a
		}
		for _, kv := range kw {
			k := string(kv[0].(starlark.String))
			switch k {
			case "url", "params", "data", "json", "headers", "timeout":
			default:
				return nil, fmt.Errorf("%s: the argument %q is %w (params, data, json, headers and timeout are)", b.Name(), k, ErrNotYet)
			}
			if _, dup := in[k]; dup {
				return nil, fmt.Errorf("%s: got multiple values for argument '%s'", b.Name(), k)
			}
			in[k] = kv[1]
		}
		h, hk := needHooks(th)
		if hk == nil || hk.opts.HTTPClient == nil {
			return nil, fmt.Errorf("requests is %w (an HTTP client: expression.Options.HTTPClient)", ErrNoHost)
		}
		h.used = true // the network's answer may change
		if err := charge(th, networkCost); err != nil {
			return nil, err
		}
		return doRequest(h.ctx, hk, b.Name(), method, in)
	}
}

// doRequest sends the request and reads the response, its body bounded.
func doRequest(ctx context.Context, hk *hooks, fn, method string, in map[string]starlark.Value) (starlark.Value, error) {
	raw, ok := starlark.AsString(orNone(in["url"]))
	if !ok {
		return nil, fmt.Errorf("%s: missing the url, a string", fn)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%s: the url is not an http or https URL", fn)
	}
	if p := orNone(in["params"]); p != starlark.None {
		q, err := formValues(fn, "params", p)
		if err != nil {
			return nil, err
		}
		if enc := q.Encode(); enc != "" {
			if u.RawQuery != "" {
				u.RawQuery += "&"
			}
			u.RawQuery += enc
		}
	}
	var body io.Reader
	ctype := ""
	switch d := orNone(in["data"]).(type) {
	case starlark.NoneType:
		if j := orNone(in["json"]); j != starlark.None {
			budget := hk.opts.Limits.MaxValues
			v, err := fromValue(j, 0, &budget)
			if err != nil {
				return nil, fmt.Errorf("%s: json: %w", fn, err)
			}
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("%s: json: %v", fn, err)
			}
			body, ctype = bytes.NewReader(b), "application/json"
		}
	case starlark.String:
		body = strings.NewReader(string(d))
	case starlark.Bytes:
		body = strings.NewReader(string(d))
	case *starlark.Dict:
		q, err := formValues(fn, "data", d)
		if err != nil {
			return nil, err
		}
		body, ctype = strings.NewReader(q.Encode()), "application/x-www-form-urlencoded"
	default:
		return nil, fmt.Errorf("%s: data must be a string, bytes or a dict, not %s", fn, d.Type())
	}
	switch t := orNone(in["timeout"]).(type) {
	case starlark.NoneType:
	case starlark.Int, starlark.Float:
		secs, _ := starlark.AsFloat(t)
		if !(secs > 0) { // NaN too
			return nil, fmt.Errorf("%s: timeout must be positive", fn)
		}
		// Beyond a time.Duration (292 years), the context's deadline
		// alone bounds the request.
		if secs < float64(math.MaxInt64/time.Second) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(secs*float64(time.Second)))
			defer cancel()
		}
	default:
		return nil, fmt.Errorf("%s: timeout must be a number of seconds, not %s", fn, t.Type())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if hd := orNone(in["headers"]); hd != starlark.None {
		d, ok := hd.(*starlark.Dict)
		if !ok {
			return nil, fmt.Errorf("%s: headers must be a dict, not %s", fn, hd.Type())
		}
		for _, kv := range d.Items() {
			k, ok1 := starlark.AsString(kv[0])
			v, ok2 := starlark.AsString(kv[1])
			if kv[1] == starlark.None {
				continue
			}
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("%s: headers must map strings to strings", fn)
			}
			req.Header.Set(k, v)
		}
	}
	resp, err := hk.opts.HTTPClient.Do(req)
	if err != nil {
		// url.Error's text holds the URL, which may carry a secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	defer resp.Body.Close()
	limit := hk.opts.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the response: %w", fn, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w: the response body is larger than %d bytes (expression.Options.MaxResponseBytes)", fn, ErrTooLarge, limit)
	}
	final := req.URL // a RoundTripper need not set resp.Request
	if resp.Request != nil && resp.Request.URL != nil {
		final = resp.Request.URL
	}
	shown := *final
	shown.User, shown.RawQuery, shown.Fragment = nil, "", ""
	return &response{
		status: resp.StatusCode, reason: strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode))),
		url: final.String(), shown: shown.String(), body: b, header: resp.Header,
		text: starlark.String(b), content: starlark.Bytes(b),
	}, nil
}

func orNone(v starlark.Value) starlark.Value {
	if v == nil {
		return starlark.None
	}
	return v
}

// formValues is a dict of params or form data: each value a string, a
// number, or a list of them; None values are left out, as requests does.
func formValues(fn, what string, v starlark.Value) (url.Values, error) {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a dict, not %s", fn, what, v.Type())
	}
	q := url.Values{}
	for _, kv := range d.Items() {
		k, ok := starlark.AsString(kv[0])
		if !ok {
			return nil, fmt.Errorf("%s: %s keys must be strings", fn, what)
		}
		vals := []starlark.Value{kv[1]}
		if l, ok := kv[1].(*starlark.List); ok {
			vals = vals[:0]
			for i := 0; i < l.Len(); i++ {
				vals = append(vals, l.Index(i))
			}
		}
		for _, x := range vals {
			switch x := x.(type) {
			case starlark.NoneType:
			case starlark.String:
				q.Add(k, string(x))
			case starlark.Int, starlark.Float, starlark.Bool:
				q.Add(k, pyStr(x))
			default:
				return nil, fmt.Errorf("%s: %s[%q] must be a string or a number, not %s", fn, what, k, x.Type())
			}
		}
	}
	return q, nil
}

// response is requests' Response: status_code, reason, url, ok, text,
// content, headers, json() and raise_for_status().
type response struct {
	status int
	reason string
	url    string
	shown  string // the URL without its query and user, for errors
	body   []byte
	header http.Header
	// text and content are the body, converted once: reading them is
	// not work that grows with the body.
	text    starlark.String
	content starlark.Bytes
}

var _ starlark.HasAttrs = (*response)(nil)

func (r *response) String() string        { return fmt.Sprintf("<Response [%d]>", r.status) }
func (r *response) Type() string          { return "Response" }
func (r *response) Freeze()               {}
func (r *response) Truth() starlark.Bool  { return r.status < 400 }
func (r *response) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: 'Response'") }
func (r *response) AttrNames() []string {
	return []string{"content", "headers", "json", "ok", "raise_for_status", "reason", "status_code", "text", "url"}
}

func (r *response) Attr(name string) (starlark.Value, error) {
	switch name {
	case "status_code":
		return starlark.MakeInt(r.status), nil
	case "reason":
		return starlark.String(r.reason), nil
	case "url":
		return starlark.String(r.url), nil
	case "ok":
		return starlark.Bool(r.status < 400), nil
	case "text":
		return r.text, nil
	case "content":
		return r.content, nil
	case "headers":
		return headers(r.header), nil
	case "json":
		return starlark.NewBuiltin("json", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 0); err != nil {
				return nil, err
			}
			if err := charge(th, len(r.body)); err != nil {
				return nil, err
			}
			dec := json.NewDecoder(bytes.NewReader(r.body))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, fmt.Errorf("the response is not JSON: %v", err)
			}
			return toValue(v, 0)
		}), nil
	case "raise_for_status":
		return starlark.NewBuiltin("raise_for_status", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 0); err != nil {
				return nil, err
			}
			switch {
			case r.status >= 400 && r.status < 500:
				return nil, fmt.Errorf("%d Client Error: %s for url: %s", r.status, r.reason, r.shown)
			case r.status >= 500 && r.status < 600:
				return nil, fmt.Errorf("%d Server Error: %s for url: %s", r.status, r.reason, r.shown)
			}
			return starlark.None, nil
		}), nil
	}
	return nil, nil
}

// headers are a response's headers, looked up case-insensitively; a
// header given more than once is its values joined by ", ".
type headers http.Header

var (
	_ starlark.Mapping  = headers(nil)
	_ starlark.HasAttrs = headers(nil)
)

func (h headers) String() string       { return fmt.Sprintf("<headers of %d keys>", len(h)) }
func (h headers) Type() string         { return "CaseInsensitiveDict" }
func (h headers) Freeze()              {}
func (h headers) Truth() starlark.Bool { return len(h) > 0 }
func (h headers) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: 'CaseInsensitiveDict'")
}
func (h headers) AttrNames() []string { return []string{"get", "keys"} }

// Get is headers[key]; a missing key is a KeyError.
func (h headers) Get(k starlark.Value) (starlark.Value, bool, error) {
	s, ok := starlark.AsString(k)
	if !ok {
		return nil, false, nil
	}
	vs := http.Header(h).Values(s)
	if len(vs) == 0 {
		return nil, false, nil
	}
	return starlark.String(strings.Join(vs, ", ")), true, nil
}

func (h headers) Attr(name string) (starlark.Value, error) {
	switch name {
	case "get":
		return starlark.NewBuiltin("get", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var k, def starlark.Value = nil, starlark.None
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &k, &def); err != nil {
				return nil, err
			}
			if v, ok, _ := h.Get(k); ok {
				return v, nil
			}
			return def, nil
		}), nil
	case "keys":
		return starlark.NewBuiltin("keys", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			keys := make([]starlark.Value, 0, len(h))
			for k := range h {
				keys = append(keys, starlark.String(k))
			}
			sort.Slice(keys, func(i, j int) bool { return keys[i].(starlark.String) < keys[j].(starlark.String) })
			return starlark.NewList(keys), nil
		}), nil
	}
	return nil, nil
}
