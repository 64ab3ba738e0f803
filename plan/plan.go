// Package plan answers, for a flow and a request, which stages run, in
// which order, which of them are checked again when they are reached,
// and, when the flow is denied, why: authentik's flow planner, as a pure
// function over a store read transaction.
//
// Policies are evaluated by Evaluators the host registers per policy
// kind; the engine's semantics (order, enabled, negate, timeout,
// failure_result, all/any, group and user bindings) are applied around
// them in one place. Evaluators for the kinds that need no Python and no
// outside data are built in (Builtin): dummy, password (static rules)
// and password expiry. A binding to a policy of a kind without an
// evaluator fails the plan with ErrNoEvaluator, naming the policy and
// kind; it never passes silently. A binding's timeout is the deadline
// of the evaluator's context, whose timer starts only when the
// evaluator waits on its Done: an evaluator that computes and checks
// Err (the expression evaluator) sets none.
//
// The request's user is taken by pk: its groups (with their ancestors),
// superuser status, attributes and password change date are read from
// the directory, the store's users and groups by default, so that group
// and user bindings are evaluated from stored facts (see Request).
//
// A Cache keeps plans by flow and user and is never stale: a plan is
// dropped in the commit that changes anything it read, the user and its
// groups included (see Cache). Options.Decoded keeps the policy
// bindings, policies, flow-stage bindings and store users that
// evaluations read decoded until a change touches them, in read
// transactions only, so that EvaluateBinding, run at each request to a re-evaluated
// stage, does not decode them again (see Decoded).
//
// A policy may ask for a write that a plan, made in a read transaction,
// cannot make (PolicyRequest.Update: authentik's initial-setup flow
// marks itself used through Django's ORM). The planner collects these
// in Plan.Updates, naming the policy, and never caches such a plan; it
// writes nothing. ApplyUpdates applies them, for the executor (issue 21)
// to call once the step that planned them has committed; the API's plan
// endpoint and "authflow plan" only show them.
package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// User is the user a request is made by. In a Request, PK names the
// user and Authenticated says whether the request is logged in as them;
// the planner reads the rest from the directory (see Request). In a
// PolicyRequest, every field is what the planner read.
type User struct {
	// PK is the user's pk in the directory; 0 is a user the directory
	// does not hold: the anonymous user, or, when Authenticated, a user
	// with no groups.
	PK            int64 `json:"pk"`
	Authenticated bool  `json:"is_authenticated"`
	// Superuser is whether a group of the user's, direct or above, is a
	// superuser group.
	Superuser bool `json:"is_superuser"`
	// Groups are the pks of the user's groups and their ancestors, direct
	// groups first (directory.Facts.Groups).
	Groups []uuid.UUID `json:"groups"`
	// Attributes are the user's own attributes.
	Attributes map[string]any `json:"attributes"`
	// GroupAttributes are authentik's group_attributes(): the attributes
	// of the user's groups and their ancestors in name order, then the
	// user's own, merged (directory.Facts.Attributes). Set by the
	// planner only.
	GroupAttributes map[string]any `json:"-"`
	// PasswordChangeDate is when the user last set a password, for
	// password expiry policies; nil for never.
	PasswordChangeDate *time.Time `json:"password_change_date"`
}

// Request is what the planner plans for. Its JSON form, which
// [ParseRequest] reads, is the body of the API's plan endpoint and of
// "authflow plan -user-json": {"user": {"pk", "is_authenticated",
// "is_superuser", "groups", "attributes", "password_change_date"},
// "outpost", "context"}, every key optional; no user (or null) is the
// anonymous user.
//
// The user is taken by pk: the planner reads the user numbered User.PK
// from the directory (the store's users and groups, read in the plan's
// transaction, or Options.Directory), with its groups and their
// ancestors, its superuser status, its attributes and its password
// change date; a pk the directory does not hold is ErrUnknownUser. The
// directory's facts win: the values a request gives for them with a pk
// are ignored (a client may send a user as the users API shows it).
// Without a pk (0) nothing is read: the user is anonymous, or, with
// is_authenticated, an authenticated user the directory does not hold,
// with no groups; giving facts for it is ErrUserFacts.
type Request struct {
	User User `json:"user"`
	// Outpost says the request comes from an outpost.
	Outpost bool `json:"outpost"`
	// Context is the plan context: pending_user, is_redirected,
	// prompt_data, ...
	Context map[string]any `json:"context"`
	// HTTP is the HTTP request the flow runs in, when there is one.
	HTTP *HTTPRequest `json:"http_request,omitempty"`
}

// ParseRequest reads a Request from its JSON form. A key it does not know
// is an error, so that a misspelt key is not silently a different
// request; so are facts given for a user without a pk (ErrUserFacts).
func ParseRequest(b []byte) (Request, error) {
	var req Request
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return Request{}, fmt.Errorf("plan: request: %w", err)
	}
	if err := checkUser(req.User); err != nil {
		return Request{}, fmt.Errorf("plan: request: %w", err)
	}
	return req, nil
}

// PolicyRequest is what an evaluator evaluates a policy for: the user
// as the planner read it from the directory.
type PolicyRequest struct {
	User    User
	Context map[string]any
	// Directory is the directory the plan reads users from: the host's
	// (Options.Directory), or the store's read in the plan's own
	// transaction (store.Tx.Directory, read-only). An evaluator that
	// reads users (an expression's ak_user_by) reads them here, never
	// through a transaction of its own, which could deadlock against a
	// writer waiting on the plan's. Valid only during Evaluate.
	Directory directory.Directory
	// HTTP is the request's HTTP request; nil when there is none. A
	// Cache does not compare it: an evaluator whose result depends on it
	// returns a zero ValidUntil. An evaluator reads it only: it may be
	// shared by other requests.
	HTTP *HTTPRequest
	// Plan is the plan being built or run (flow_plan); nil for a flow's
	// own policies, evaluated before there is a plan.
	Plan FlowPlan
	// Call evaluates another policy by name (ak_call_policy); nil where
	// the host gives no way to (an evaluator fails, naming it).
	Call CallPolicy
	// Update asks for a write the plan cannot make (see Update); nil
	// where nothing applies writes (an evaluator fails, naming it).
	Update func(Update)
}

// Result is one policy's outcome.
type Result struct {
	Passing  bool
	Messages []string
	// ValidUntil says how long a cached plan may keep this result (see
	// Cache): Forever when it depends only on the policy and the request
	// (a cached plan is dropped when either changes), a time when it
	// changes then by itself (a password that expires), and the zero
	// time, the default, when it depends on something else (reputation
	// scores, a GeoIP database, the network): a plan that evaluated it is
	// not cached.
	ValidUntil time.Time
}

// Forever is the ValidUntil of a result that holds as long as the policy
// and the request are unchanged.
var Forever = time.Unix(1<<62, 0)

// Evaluator evaluates policies of one kind.
type Evaluator interface {
	Evaluate(ctx context.Context, p policy.Policy, req PolicyRequest) (Result, error)
}

// EvaluatorFunc is an Evaluator as a function.
type EvaluatorFunc func(ctx context.Context, p policy.Policy, req PolicyRequest) (Result, error)

// Evaluate calls f.
func (f EvaluatorFunc) Evaluate(ctx context.Context, p policy.Policy, req PolicyRequest) (Result, error) {
	return f(ctx, p, req)
}

// Options configure a plan.
type Options struct {
	// Evaluators by policy kind; nil means Builtin().
	Evaluators map[policy.ModelName]Evaluator
	// AllowEmpty makes a plan without stages applicable; otherwise it is
	// ErrEmptyFlow.
	AllowEmpty bool
	// Now is the time for password expiry; nil means time.Now.
	Now func() time.Time
	// Directory, when set, is where a request's user is read from (by
	// pk, with directory.FactsOf): a host's own users table. Nil means
	// the store's users and groups, read in the plan's own transaction,
	// so that a Cache drops a plan when they change. The bindings still
	// name groups and users by pk: a host directory's pks are compared
	// with theirs.
	Directory directory.Directory
	// DirectoryMaxAge is how long a Cache may keep a plan whose user was
	// read from Directory, which the cache cannot watch: zero (the
	// default) means it is not cached at all. Plans for a request
	// without a user pk read nothing from Directory and are cached as
	// usual.
	DirectoryMaxAge time.Duration
	// Decoded, when set, keeps the policy bindings and policies that
	// evaluations read decoded until a change touches them (see
	// Decoded), so that evaluating the same bindings again in a later
	// read transaction does not decode them again. Nil reads and decodes
	// them every time.
	Decoded *Decoded
	// NoTrace leaves the trace out, for a caller that never reads it
	// (the executor): the Trace of a plan (a Cache's plans included) and
	// of EvaluateBinding's, EvaluateFlow's and EvaluatePolicies'
	// evaluations is nil. Nothing else changes.
	NoTrace bool
}

// Errors of Plan. A denial is no error: it is a Plan that is not
// Applicable.
var (
	// ErrEmptyFlow: the flow has no stage for the request.
	ErrEmptyFlow = errors.New("plan: the flow has no stages for this request")
	// ErrNoEvaluator: a policy of a kind without an evaluator is bound.
	ErrNoEvaluator = errors.New("plan: no evaluator for the policy's kind")
	// ErrEvaluatorPanic: an evaluator panicked. The plan fails, naming
	// the policy and its kind; a bug in an evaluator is not a policy
	// result (authentik counts a crashed worker as a failing policy).
	ErrEvaluatorPanic = errors.New("plan: the policy's evaluator panicked")
)

// Marker says how a planned stage runs.
type Marker string

// Markers.
const (
	// MarkerStage runs the stage.
	MarkerStage Marker = "stage"
	// MarkerReevaluate checks the binding's policies again when the stage
	// is reached, and skips it if they fail.
	MarkerReevaluate Marker = "reevaluate"
)

// Stage is one planned stage.
//
// A stage that a policy inserted with flow_plan.redirect has no binding
// and no stage (uuid.Nil), Name "redirect" and its URL in Redirect: the
// executor redirects there when it reaches it.
type Stage struct {
	Binding uuid.UUID `json:"binding"`
	Stage   uuid.UUID `json:"stage"`
	Name    string    `json:"name"`
	Order   int32     `json:"order"`
	Marker  Marker    `json:"marker"`
	// Redirect is the URL of a redirect inserted by a policy.
	Redirect string `json:"redirect,omitempty"`
}

// Step is one line of a plan's trace: what was checked and what came of
// it.
type Step struct {
	// What is "authentication", "flow", "binding" or "policy_binding".
	What string `json:"what"`
	// PK is the binding's or policy binding's pk, when there is one.
	PK *uuid.UUID `json:"pk,omitempty"`
	// Policy names the policy of a policy binding; Group and User the
	// group or user it binds instead.
	Policy string     `json:"policy,omitempty"`
	Group  *uuid.UUID `json:"group,omitempty"`
	User   *int64     `json:"user,omitempty"`
	// Evaluated is false for a step that was not evaluated (a binding
	// evaluated at run time only).
	Evaluated bool     `json:"evaluated"`
	Passing   bool     `json:"passing"`
	Messages  []string `json:"messages"`
	// Why says, in words, why the step came out as it did.
	Why string `json:"why"`
}

// Plan is the planner's answer.
type Plan struct {
	Applicable bool `json:"applicable"`
	// DeniedAction is the flow's denied_action when not applicable.
	DeniedAction string   `json:"denied_action,omitempty"`
	Messages     []string `json:"messages"`
	Stages       []Stage  `json:"stages"`
	Trace        []Step   `json:"trace"`
	// Updates are the writes the plan's policies asked for, for the
	// executor to apply (ApplyUpdates); a plan that has some is never
	// cached.
	Updates []Update `json:"updates,omitempty"`
}

// Make plans the flow with slug for req, reading through tx only. It
// reads records (the flow, its bindings, their stages, the policy bindings
// and their policies), never their API views, so its cost does not depend
// on how many other flows bind the same stages or policies.
func Make(ctx context.Context, tx *store.Tx, slug string, req Request, opts Options) (Plan, error) {
	p, _, err := makePlan(ctx, tx, slug, req, opts)
	return p, err
}

// reads is what a plan read, so that a cache knows when it goes stale:
// the flow, its bindings, their stages, the policy bindings of the flow
// and of those bindings, their policies, the user's record and the
// groups read for it; and until when its results hold.
type reads struct {
	flow       uuid.UUID
	designated flow.Designation
	pks        []uuid.UUID
	until      time.Time
	// unkept says no plan is kept from these reads (an evaluation
	// outside Make: engineFor): the pks are not collected.
	unkept bool
}

func (r *reads) add(pk uuid.UUID) {
	if !r.unkept {
		r.pks = append(r.pks, pk)
	}
}

func (r *reads) hold(t time.Time) {
	if t.Before(r.until) {
		r.until = t
	}
}

func makePlan(ctx context.Context, tx *store.Tx, slug string, req Request, opts Options) (Plan, *reads, error) {
	f, err := store.Flows.Get(tx, store.By("slug", slug))
	if err != nil {
		return Plan{}, nil, err
	}
	if opts.Evaluators == nil {
		opts.Evaluators = Builtin(opts.Now)
	}
	rd := &reads{flow: f.PK, designated: f.Designation, pks: []uuid.UUID{f.PK}, until: Forever}
	p := Plan{Messages: []string{}, Stages: []Stage{}, Trace: []Step{}}
	deny := func(msgs []string) (Plan, *reads, error) {
		p.Applicable, p.DeniedAction = false, string(f.DeniedAction)
		p.Messages = append(p.Messages, msgs...)
		if opts.NoTrace {
			p.Trace = nil
		}
		return p, rd, nil
	}
	if req.User, err = resolveUser(ctx, tx, req.User, opts, rd, nil); err != nil {
		return Plan{}, nil, err
	}
	if ok, why := authenticated(f.Authentication, req); !ok {
		p.Trace = append(p.Trace, Step{What: "authentication", Evaluated: true, Why: why, Messages: []string{}})
		return deny(nil)
	}
	p.Trace = append(p.Trace, Step{What: "authentication", Evaluated: true, Passing: true, Why: "authentication " + string(f.Authentication) + " holds", Messages: []string{}})
	e := newEngine(tx, opts)
	e.req, e.reads, e.updates = req, rd, &p.Updates
	// A flow's own policies run before there is a plan (flow_plan).
	res, steps, err := e.evaluate(ctx, f.PK, f.PolicyEngineMode, nil)
	p.Trace = append(p.Trace, steps...)
	if err != nil {
		return Plan{}, nil, err
	}
	p.Trace = append(p.Trace, Step{What: "flow", Evaluated: true, Passing: res.Passing, Messages: res.Messages,
		Why: "the flow's policies, mode " + string(f.PolicyEngineMode)})
	if !res.Passing {
		return deny(res.Messages)
	}
	bindings, err := store.Bindings.ByRef(tx, "target", f.PK)
	if err != nil {
		return Plan{}, nil, err
	}
	for _, b := range bindings {
		pk := b.PK
		rd.add(b.PK)
		rd.add(b.Stage)
		// The stage record, for its name: not its view, whose flow_set
		// would load every flow the stage is bound into.
		st, err := referenced(tx, store.Stages, b.Stage)
		if err != nil {
			return Plan{}, nil, err
		}
		step := Step{What: "binding", PK: &pk, Messages: []string{}}
		if b.EvaluateOnPlan {
			res, steps, err := e.evaluate(ctx, b.PK, b.PolicyEngineMode, building{&p})
			p.Trace = append(p.Trace, steps...)
			if err != nil {
				return Plan{}, nil, err
			}
			step.Evaluated, step.Passing, step.Messages = true, res.Passing, res.Messages
			if !res.Passing {
				step.Why = "dropped: its policies failed when planned"
				p.Trace = append(p.Trace, step)
				continue
			}
		} else {
			step.Passing = true
		}
		marker := MarkerStage
		if b.ReEvaluatePolicies {
			marker = MarkerReevaluate
			step.Why = "kept; its policies are checked again when the stage is reached"
		} else {
			step.Why = "kept"
		}
		p.Trace = append(p.Trace, step)
		p.Stages = append(p.Stages, Stage{Binding: b.PK, Stage: b.Stage, Name: st.Name, Order: b.Order, Marker: marker})
	}
	if len(p.Stages) == 0 && !opts.AllowEmpty {
		return Plan{}, rd, ErrEmptyFlow
	}
	p.Applicable = true
	if opts.NoTrace {
		p.Trace = nil
	}
	return p, rd, nil
}

// authenticated is the flow's authentication requirement on the request.
func authenticated(a flow.Authentication, req Request) (bool, string) {
	switch a {
	case flow.AuthenticationRequireAuthenticated:
		return req.User.Authenticated, "the flow requires an authenticated user"
	case flow.AuthenticationRequireUnauthenticated:
		return !req.User.Authenticated, "the flow requires an unauthenticated user"
	case flow.AuthenticationRequireSuperuser:
		return req.User.Authenticated && req.User.Superuser, "the flow requires a superuser"
	case flow.AuthenticationRequireRedirect:
		return req.Context["is_redirected"] != nil, "the flow requires a redirect (is_redirected in the context)"
	case flow.AuthenticationRequireOutpost:
		return req.Outpost, "the flow requires an outpost"
	}
	return true, ""
}

// engine evaluates policy bindings with authentik's semantics.
type engine struct {
	tx    *store.Tx
	opts  Options
	req   Request
	reads *reads
	// updates collect the policies' Updates: the plan's being built.
	updates *[]Update
	// own are the reads and the updates of an evaluation outside Make
	// (engineFor), and room for what one binding's evaluation takes
	// (pk, stepsFor, withDeadline), each place used once, allocated
	// with the engine (newEngine): steps only when there is a trace.
	own struct {
		reads   reads
		updates []Update
		pks     [2]uuid.UUID
		npks    int
		steps   *[2]Step
		dl      deadlineCtx
		dlUsed  bool
		// changed is room for the user's password change date.
		changed time.Time
	}
}

// newEngine is an engine with opts, allocated with room for two steps of
// its trace unless opts.NoTrace: one allocation, the smaller without.
func newEngine(tx *store.Tx, opts Options) *engine {
	if opts.NoTrace {
		return &engine{tx: tx, opts: opts}
	}
	t := &struct {
		e     engine
		steps [2]Step
	}{e: engine{tx: tx, opts: opts}}
	t.e.own.steps = &t.steps
	return &t.e
}

// pk is a pointer to a copy of id, for a step's PK.
func (e *engine) pk(id uuid.UUID) *uuid.UUID {
	if n := e.own.npks; n < len(e.own.pks) {
		e.own.npks++
		e.own.pks[n] = id
		return &e.own.pks[n]
	}
	c := id // on the heap only when the engine's own are used up
	return &c
}

// stepsFor is an empty slice with room for n steps.
func (e *engine) stepsFor(n int) []Step {
	if e.own.steps != nil && n <= len(e.own.steps) {
		s := e.own.steps[:0]
		e.own.steps = nil
		return s
	}
	return make([]Step, 0, n)
}

// withDeadline is withDeadline(ctx, d).
func (e *engine) withDeadline(ctx context.Context, d time.Time) *deadlineCtx {
	if e.own.dlUsed {
		return withDeadline(ctx, d)
	}
	e.own.dlUsed = true
	e.own.dl.parent, e.own.dl.deadline = ctx, d
	return &e.own.dl
}

// building is the plan being built as its bindings' policies see it
// (flow_plan, planner.py:334).
type building struct{ p *Plan }

// Redirect inserts a redirect stage at index 1 of the stages planned so
// far, as authentik's insert_stage does (at the end when there are
// fewer): at run time that is the stage after the current one.
func (b building) Redirect(to string) {
	i := min(1, len(b.p.Stages))
	b.p.Stages = slices.Insert(b.p.Stages, i, Stage{Name: "redirect", Marker: MarkerStage, Redirect: to})
}

// directory is the directory evaluators read users from: the host's, or
// the store's in the plan's transaction.
func (e *engine) directory() directory.Directory {
	if e.opts.Directory != nil {
		return e.opts.Directory
	}
	return e.tx.Directory()
}

// evaluate runs the enabled bindings of target in order under mode: all
// must pass, or any; no bindings pass.
func (e *engine) evaluate(ctx context.Context, target uuid.UUID, mode flow.PolicyEngineMode, fp FlowPlan) (Result, []Step, error) {
	bindings, err := e.opts.Decoded.policyBindings(e.tx, target)
	if err != nil {
		return Result{}, nil, err
	}
	return e.evaluateBindings(ctx, bindings, mode, fp)
}

// evaluateBindings is evaluate of a target's bindings, read.
func (e *engine) evaluateBindings(ctx context.Context, bindings []policy.Binding, mode flow.PolicyEngineMode, fp FlowPlan) (Result, []Step, error) {
	var steps []Step
	out := Result{Passing: true, Messages: []string{}}
	n, passed := 0, 0
	for _, b := range bindings {
		if !b.Enabled {
			continue
		}
		n++
		e.reads.add(b.PK)
		res, step, err := e.one(ctx, b, fp)
		if err != nil {
			return Result{}, nil, err
		}
		if !e.opts.NoTrace {
			if steps == nil {
				// Room for the caller's step of the binding too
				// (EvaluateBinding, EvaluateFlow).
				steps = e.stepsFor(len(bindings) + 1)
			}
			steps = append(steps, step)
		}
		out.Messages = append(out.Messages, res.Messages...)
		if res.Passing {
			passed++
		}
	}
	switch {
	case n == 0:
		out.Passing = true
	case mode == flow.PolicyEngineModeAll:
		out.Passing = passed == n
	default:
		out.Passing = passed > 0
	}
	return out, steps, nil
}

// one evaluates one policy binding: its policy through the kind's
// evaluator (negate applied; an error or a timeout gives failure_result,
// negate not applied), else its group against the user's groups with
// their ancestors, else its user against the user, who must be
// authenticated.
func (e *engine) one(ctx context.Context, b policy.Binding, fp FlowPlan) (Result, Step, error) {
	step := Step{What: "policy_binding", PK: e.pk(b.PK), Group: b.Group, User: b.User, Evaluated: true, Messages: []string{}}
	var res Result
	switch {
	case b.Policy != nil:
		p, err := e.opts.Decoded.policy(e.tx, *b.Policy)
		if err != nil {
			return Result{}, step, err
		}
		step.Policy = p.Name
		ev, ok := e.opts.Evaluators[p.Model()]
		if !ok {
			return Result{}, step, fmt.Errorf("%w: policy %q is a %s", ErrNoEvaluator, p.Name, p.Model())
		}
		e.reads.add(p.PK)
		// timeout 0 sets no deadline: authentik runs such a policy to
		// its end (a fork joined with 0 still waits for its result), so
		// an imported blueprint's bindings keep working.
		// The deadline's timer starts only if the evaluator waits on
		// the context (deadlineCtx).
		pctx := ctx
		var dl *deadlineCtx
		if b.Timeout > 0 {
			dl = e.withDeadline(ctx, time.Now().Add(time.Duration(b.Timeout)*time.Second))
			pctx = dl
		}
		r, err := e.call(pctx, ev, p, e.request(p.Name, fp, 0))
		if dl != nil {
			dl.stop()
		}
		switch {
		case errors.Is(err, ErrEvaluatorPanic):
			return Result{}, step, err
		case err != nil:
			res = Result{Passing: b.FailureResult, Messages: []string{err.Error()}}
			step.Why = "the policy failed; failure_result applies"
		case b.Negate:
			res = Result{Passing: !r.Passing, Messages: r.Messages, ValidUntil: r.ValidUntil}
			step.Why = "the policy's result, negated"
		default:
			res = r
			step.Why = "the policy's result"
		}
		e.reads.hold(res.ValidUntil)
	case b.Group != nil && e.req.User.PK == 0:
		// authentik's all_groups() on a user it does not hold raises;
		// the policy process answers false, negate not applied.
		res.Messages = []string{MsgAnonymousGroups}
		step.Why = "a user without a pk has no groups: false, not negated"
	case b.Group != nil:
		// The user's groups include their ancestors: a member of a
		// group below the bound one is a member of it.
		res.Passing = slices.Contains(e.req.User.Groups, *b.Group)
		step.Why = "the user's groups"
		if b.Negate {
			res.Passing, step.Why = !res.Passing, "the user's groups, negated"
		}
	case b.User != nil:
		res.Passing = e.req.User.PK == *b.User && e.req.User.Authenticated
		step.Why = "the user"
		if b.Negate {
			res.Passing, step.Why = !res.Passing, "the user, negated"
		}
	}
	if res.Messages == nil {
		res.Messages = []string{}
	}
	step.Passing, step.Messages = res.Passing, res.Messages
	return res, step, nil
}

// request is the PolicyRequest for policy name, depth calls deep.
func (e *engine) request(name string, fp FlowPlan, depth int) PolicyRequest {
	return PolicyRequest{
		User: e.req.User, Context: e.req.Context, Directory: e.directory(), HTTP: e.req.HTTP, Plan: fp,
		Call: e.callPolicy(fp, depth+1),
		Update: func(u Update) {
			u.Policy = name
			*e.updates = append(*e.updates, u)
			e.reads.hold(time.Time{}) // a cached plan would not ask again
		},
	}
}

// call runs the evaluator, turning a panic into an error wrapping
// ErrEvaluatorPanic.
func (e *engine) call(ctx context.Context, ev Evaluator, p policy.Policy, req PolicyRequest) (r Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: policy %q (%s): %v", ErrEvaluatorPanic, p.Name, p.Model(), v)
		}
	}()
	return ev.Evaluate(ctx, p, req)
}

// callPolicy is the planner's CallPolicy: the policy named, read in the
// plan's transaction, under a binding with authentik's defaults (an
// error is a failing result with its text, never negated).
func (e *engine) callPolicy(fp FlowPlan, depth int) CallPolicy {
	return func(ctx context.Context, name string, req PolicyRequest) (Result, error) {
		if depth > MaxCallDepth {
			return Result{}, fmt.Errorf("%w: more than %d calls deep, calling %q", ErrCallDepth, MaxCallDepth, name)
		}
		p, err := store.Policies.Get(e.tx, store.By("name", name))
		if errors.Is(err, store.ErrNotFound) {
			e.reads.hold(time.Time{}) // the policy may be made later
			return Result{}, fmt.Errorf("%w: %q", ErrUnknownPolicy, name)
		}
		if err != nil {
			return Result{}, err
		}
		e.reads.add(p.PK)
		ev, ok := e.opts.Evaluators[p.Model()]
		if !ok {
			return Result{}, fmt.Errorf("%w: policy %q is a %s", ErrNoEvaluator, p.Name, p.Model())
		}
		own := e.request(p.Name, fp, depth)
		req.Directory, req.HTTP, req.Plan, req.Call, req.Update = own.Directory, own.HTTP, fp, own.Call, own.Update
		r, err := e.call(ctx, ev, p, req)
		switch {
		case errors.Is(err, ErrEvaluatorPanic):
			return Result{}, err
		case err != nil:
			e.reads.hold(time.Time{})
			return Result{Messages: []string{err.Error()}}, nil
		}
		if r.Messages == nil {
			r.Messages = []string{}
		}
		e.reads.hold(r.ValidUntil)
		return r, nil
	}
}

// referenced reads the record that a stored reference names (a binding's
// stage, a policy binding's policy): one missing is damage (see
// store.Dangling).
func referenced[T, V any](tx *store.Tx, c store.Coll[T, V], id uuid.UUID) (T, error) {
	t, err := c.Get(tx, store.PK(id))
	return t, store.Dangling(err)
}
