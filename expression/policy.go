package expression

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"sync"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Options configure the expression-policy evaluator and PromptValue.
// Nil means the defaults.
type Options struct {
	// Cache compiles expressions; nil means the package's cache
	// (DefaultCacheSize texts, shared by every evaluator that uses it).
	Cache *Cache
	// Limits bound each evaluation; the binding's timeout bounds it too,
	// through the context.
	Limits Limits
	// Directory is the user directory the helpers read: ak_user_by,
	// ak_is_group_member, and request.user's fields and methods beyond
	// what the planner passes (username, email, name, is_active, ...,
	// all_groups(), has_usable_password() when the directory implements
	// directory.PasswordState), when the request names none: the
	// planner's PolicyRequest.Directory wins (the store's users read in
	// the plan's own transaction, or the planner's host directory), so a
	// host that plans needs no Directory here. Nil, with none in the
	// request, means none: those helpers fail with an error wrapping
	// ErrNoHost. A result that read a directory is not kept by a plan
	// cache.
	Directory directory.Directory
	// Event receives the events authentik writes while evaluating (a
	// prompt expression's property_mapping_exception, see PromptValue;
	// ak_create_event's): the host's event sink. Nil drops them, so that
	// an expression runs on as in authentik, which always writes them.
	Event func(ctx context.Context, ev Event)
	// HTTPClient sends the requests of the requests helper; nil means
	// none: requests fails wrapping ErrNoHost. The context's deadline
	// (the binding's timeout) bounds each request.
	HTTPClient *http.Client
	// MaxResponseBytes bounds the body of a response requests reads; a
	// larger one fails wrapping ErrTooLarge. Zero means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// Resolver answers resolve_dns and reverse_dns (a *net.Resolver);
	// nil means none: they fail wrapping ErrNoHost.
	Resolver Resolver
}

// Evaluator returns the evaluator of expression policies
// (policy.ModelExpression), for plan.Options.Evaluators:
//
//	evs := plan.Builtin(nil)
//	evs[policy.ModelExpression] = expression.Evaluator(nil)
//
// It gives a policy's expression authentik's handler parameters
// (ak_message, ak_user_has_authenticator, ak_is_sso_flow, ak_client_ip
// and http_request when req.HTTP is set, request, context) and returns passing = bool(value)
// with the ak_message messages, kept whether it passes or fails. An
// expression that does not compile or raises returns an error, which the
// planner turns into the binding's failure_result with the error's text
// as the only message; the text of an exception is its message, as
// authentik shows str(exception), while a construct or helper authflow
// cannot run (ErrCompile, ErrNotYet, ErrNoHost) is named with the
// policy and the line. Writes through flow_plan.context, and
// into values the plan context holds (context["prompt_data"][k] = v),
// reach the plan context (req.Context), flow_plan.redirect(url)
// reaches req.Plan (a flow's own policies, with no plan, have no
// flow_plan), and Flow.objects.filter(...).update(...) asks for a write
// through req.Update; see the package documentation for what is not
// there yet.
func Evaluator(opts *Options) plan.Evaluator {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Cache == nil {
		o.Cache = defaultCache
	}
	if o.Limits.MaxValues == 0 {
		o.Limits.MaxValues = DefaultMaxValues
	}
	return evaluator{opts: o}
}

// evaluator is Evaluator's; eager makes every evaluation build the
// context dicts, as one whose expression does more than look values up
// in them does (for the tests that compare the two).
type evaluator struct {
	opts  Options
	eager bool
}

// akMessage is ak_message(message): the message is kept with the
// result, as its text, or str() of another value.
var akMessage = starlark.NewBuiltin("ak_message", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	s, err := textArg(b, args, kw)
	if err != nil {
		return nil, err
	}
	if h := hostOf(th); h != nil {
		h.messages = append(h.messages, s)
	}
	return starlark.None, nil
})

// Evaluate implements plan.Evaluator.
func (e evaluator) Evaluate(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
	var src string
	switch c := p.Config.(type) {
	case policy.Expression:
		src = c.Expression
	case *policy.Expression:
		src = c.Expression
	default:
		return plan.Result{}, fmt.Errorf("expression: policy %q is a %s, not an expression policy", p.Name, p.Model())
	}
	prog, err := e.opts.Cache.Compile(src)
	if err != nil {
		return plan.Result{}, fmt.Errorf("expression policy %q: %w", p.Name, err)
	}
	rc := prog.reach
	dir := req.Directory // the planner's: the store's in its transaction, or the host's
	if dir == nil {
		dir = e.opts.Directory
	}
	h := hosts.Get().(*host)
	h.ctx, h.dir, h.update = ctx, dir, req.Update
	// An expression that only looks values up in its context dicts gets
	// lookups into the plan context instead (lazyContext), unless a
	// value there cannot be converted: making the dicts then fails the
	// evaluation with that value's error, as it always has.
	lazy, stable := rc.lookups && !e.eager && peekFrame(ctx, p.Name) == nil, false
	if lazy {
		lazy, stable = passableContext(req.Context)
	}
	var ctxCopy, planCtx *starlark.Dict
	if !lazy {
		if rc.context {
			// authentik's request.context is a copy of the plan context plus
			// flow_plan (planner.py:334): the values are shared, the dict is
			// not. (A policy called by ak_call_policy has its caller's.)
			ctxCopy = starlark.NewDict(len(req.Context) + 1)
		}
		if planCtx, err = planContext(req.Context, ctxCopy); err != nil {
			return plan.Result{}, fmt.Errorf("expression policy %q: %w", p.Name, err)
		}
	}
	// Only what the body can read is built (see reach).
	var (
		none                       starlark.Value = starlark.None
		clientIP, httpReq, reqHTTP                = none, none, none
	)
	if rc.clientIP || rc.httpRequest {
		clientIP, httpReq, reqHTTP = httpParams(req.HTTP)
	}
	// Called by ak_call_policy: the caller's request and request.context
	// are this policy's, as in authentik; the caller writes the plan
	// context back. (A lazy one has none: it looked.)
	var frame *callFrame
	if !lazy {
		frame = takeFrame(ctx, p.Name)
	}
	var (
		ctxDict *starlark.Dict
		context = none // request.context and the context parameter
		request = none
	)
	switch {
	case frame != nil:
		ctxDict, request = frame.context, frame.request
		context = ctxDict
	case lazy:
		var flow *flowPlan
		if rc.context && req.Plan != nil {
			h.flow = flowPlan{lazy: &h.lazy, plan: req.Plan}
			flow = &h.flow
		}
		h.lazy.init(req.Context, flow, stable)
		if rc.context {
			context = &h.lazy.req
		}
	default:
		if ctxDict = ctxCopy; ctxDict != nil {
			if req.Plan != nil {
				// A flow's own policies run before there is a plan:
				// authentik's context has no flow_plan then (a KeyError).
				h.flow = flowPlan{context: planCtx, plan: req.Plan}
				_ = ctxDict.SetKey(starlark.String("flow_plan"), &h.flow)
			}
			context = ctxDict
		}
	}
	if frame == nil {
		// request.user is made when the body reads it, and whenever
		// making it can fail (attributes to convert), so that such a
		// failure fails the evaluation whatever the body reads.
		user := none
		if rc.user || len(req.User.Attributes) > 0 {
			if user, err = requestUser(req.User, h); err != nil {
				return plan.Result{}, fmt.Errorf("expression policy %q: %w", p.Name, err)
			}
		}
		switch rc.request {
		case requestWhole:
			request = policyRequest(user, reqHTTP, starlark.None, ctxDict)
		case requestRead:
			h.part = partRequest{context: context, user: user, httpR: reqHTTP}
			request = &h.part
		}
	}
	var sso starlark.Value
	if lazy {
		if sso, _, err = h.lazy.lookup("is_sso", false); err != nil {
			return plan.Result{}, fmt.Errorf("expression policy %q: %w", p.Name, err)
		}
	} else {
		from := ctxDict
		if from == nil {
			from = planCtx // whose entries ctxDict would share
		}
		sso, _, _ = from.Get(starlark.String("is_sso"))
	}
	if sso == nil {
		sso = starlark.False
	}
	h.argv = [...]starlark.Value{akMessage, hasAuthenticator, sso, clientIP, httpReq, request, context}
	args := starlark.Tuple(h.argv[:])
	h.own = hooks{opts: e.opts, app: p.Name, names: params, args: args, req: req, context: ctxDict, request: request}
	h.hooks = &h.own
	lim := e.opts.Limits
	if frame != nil && (lim.MaxSteps == 0 || lim.MaxSteps > frame.steps) {
		lim.MaxSteps = frame.steps // the caller's limit bounds its calls
	}
	v, runErr := prog.run(ctx, h, lim, args)
	written := false
	switch {
	case frame != nil:
		frame.used = h.steps
		if runErr == nil {
			frame.raw = v
		}
	case lazy:
		if !h.lazy.unchanged() {
			if planCtx, _, err = h.lazy.dicts(); err == nil {
				written, err = e.writeBack(planCtx, req.Context)
			}
		}
	default:
		written, err = e.writeBack(planCtx, req.Context)
	}
	if runErr != nil {
		if re, ok := runErr.(*RunError); ok {
			if errors.Is(re, ErrNotYet) || errors.Is(re, ErrNoHost) || errors.Is(re, ErrNoJWT) {
				// authflow's limit, not the expression's exception: name
				// the policy and the line for the operator.
				return plan.Result{}, fmt.Errorf("expression policy %q, line %d: %w", p.Name, re.Line, re)
			}
			return plan.Result{}, re
		}
		return plan.Result{}, fmt.Errorf("expression policy %q: %w", p.Name, runErr)
	}
	if err != nil {
		return plan.Result{}, fmt.Errorf("expression policy %q: %w", p.Name, err)
	}
	messages := h.messages
	if messages == nil {
		messages = []string{}
	}
	res := plan.Result{Passing: bool(v.Truth()), Messages: messages, ValidUntil: plan.Forever}
	if written || h.used || rc.readsHTTP {
		// A cached plan would not repeat the write, nor see the
		// directory change, nor the next request's HTTP request (a
		// plan cache does not compare it).
		res.ValidUntil = plan.Result{}.ValidUntil
	}
	if lazy && stable {
		// Nothing made for the run can outlive it: the plan context
		// holds no Starlark value (stable) the expression could have
		// put one of the host's into, it was handed no dict, and the
		// writes were converted back.
		*h = host{}
		hosts.Put(h)
	}
	return res, nil
}

// hosts are hosts kept between evaluations, zeroed: an evaluation that
// ends with nothing referring to its host returns it (Evaluate).
var hosts = sync.Pool{New: func() any { return new(host) }}

// policyRequest is a handler's request, authentik's PolicyRequest: a
// struct of user, http_request, obj, context and debug (False). Its
// fields are given in order, with no map to build.
func policyRequest(user, httpReq, obj starlark.Value, context *starlark.Dict) *starlarkstruct.Struct {
	return starlarkstruct.FromKeywords(starlark.String("PolicyRequest"), []starlark.Tuple{
		{starlark.String("context"), context}, {starlark.String("debug"), starlark.False},
		{starlark.String("http_request"), httpReq}, {starlark.String("obj"), obj}, {starlark.String("user"), user},
	})
}

// planContext converts the plan context, putting its entries into
// also too when it is not nil; a pending_user that is a map becomes a
// User whose attributes are its keys, converted at their first use.
func planContext(m map[string]any, also *starlark.Dict) (*starlark.Dict, error) {
	pd, lazy := m["pending_user"].(map[string]any)
	if !lazy {
		return toDict(m, 0, nil, also)
	}
	return toDict(m, 0, func(k string) starlark.Value {
		if k == "pending_user" {
			return &userValue{raw: pd}
		}
		return nil
	}, also)
}

// passableContext reports whether every value of the plan context m
// converts (passable; a pending_user map is converted at its first use,
// as planContext does) and whether each compares unchanged with its
// conversion.
func passableContext(m map[string]any) (ok, stable bool) {
	stable = true
	for k, x := range m {
		if ownValue(k, x) != nil {
			continue
		}
		ok, s := passable(x, 1)
		if !ok {
			return false, false
		}
		stable = stable && s
	}
	return true, stable
}

// writeBack replaces the contents of m with planCtx when they differ,
// reporting whether they did. A nil m cannot be written.
func (e evaluator) writeBack(planCtx *starlark.Dict, m map[string]any) (bool, error) {
	if m != nil && unchanged(planCtx, m, 0) {
		// Nothing written (the common case), found without converting.
		return false, nil
	}
	budget := e.opts.Limits.MaxValues
	v, err := fromValue(planCtx, 0, &budget)
	if err != nil {
		return false, err
	}
	nm := v.(map[string]any)
	if len(nm) == 0 && len(m) == 0 || reflect.DeepEqual(nm, canonical(m)) {
		// Unchanged: m keeps the host's own types ([]string, int).
		return false, nil
	}
	if m == nil {
		return false, fmt.Errorf("expression: the plan context is nil, so the expression's writes to it cannot be kept")
	}
	clear(m)
	maps.Copy(m, nm)
	return true, nil
}

// requestUser is request.user: Django's AnonymousUser for a request
// without a user; with a directory, the directory's user with the
// planner's facts (read first, without the directory); otherwise the
// planner's facts about the user.
func requestUser(u plan.User, h *host) (starlark.Value, error) {
	if u.PK == 0 && !u.Authenticated {
		return anonUser{}, nil
	}
	if u.PK != 0 && h.dir != nil {
		du := &dirUser{h: h, pk: u.PK, gattrs: u.GroupAttributes, request: true, authenticated: u.Authenticated, superuser: u.Superuser}
		if len(u.Attributes) > 0 {
			// Converted now, so that a value that cannot be passed
			// fails the evaluation; empty ones at their first read.
			attrs, err := toValue(u.Attributes, 0)
			if err != nil {
				return nil, err
			}
			du.attrs = attrs
		}
		return du, nil
	}
	attrs, err := toValue(orEmpty(u.Attributes), 0)
	if err != nil {
		return nil, err
	}
	gattrs := orEmpty(u.Attributes)
	if u.GroupAttributes != nil {
		gattrs = u.GroupAttributes
	}
	f := starlark.NewDict(5)
	_ = f.SetKey(starlark.String("pk"), starlark.MakeInt64(u.PK))
	_ = f.SetKey(starlark.String("id"), starlark.MakeInt64(u.PK))
	_ = f.SetKey(starlark.String("is_authenticated"), starlark.Bool(u.Authenticated))
	_ = f.SetKey(starlark.String("is_superuser"), starlark.Bool(u.Superuser))
	_ = f.SetKey(starlark.String("attributes"), attrs)
	missing := ErrNoHost
	if h.dir != nil {
		missing = ErrNotYet // a user the directory does not hold
	}
	return &userValue{fields: f, gattrs: gattrs, request: true, missing: missing}, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
