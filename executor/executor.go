package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/jsonvalue"
	"github.com/authflow/authflow/internal/webauthnx"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

// DefaultExecutionTTL is how long an execution is kept after its last
// step when Options.ExecutionTTL is zero: authentik keeps a plan as long
// as an anonymous session, a day.
const DefaultExecutionTTL = 24 * time.Hour

// Messages, in authentik's words where authentik has them.
const (
	// MsgUnknownError is the error_message of a denial without one.
	MsgUnknownError = "Unknown error"
	// MsgNotApplicable is the error_message of a flow denied without a
	// policy message.
	MsgNotApplicable = "Flow does not apply to current user."
	// MsgInvalidNext is the error_message of a flow whose next URL is
	// absolute.
	MsgInvalidNext = "Invalid next URL"
	// MsgExpired is shown (non_field_errors) on the first challenge of an
	// execution that started over because the previous one expired.
	MsgExpired = "This flow had expired and has started over."
	// MsgOtherStage is shown (non_field_errors) with the current
	// challenge when a POST answers another stage's; %s are the POST's
	// component and the current one.
	MsgOtherStage = "This response is for %s, but the current stage is %s; nothing was submitted."
	// MsgStageGone is the error_message of an execution whose stage was
	// deleted while it ran.
	MsgStageGone = "This flow's current stage no longer exists."
)

// Events the executor reports (Options.Events), by authentik's action
// names.
const (
	EventConfigurationError = "configuration_error"
	EventSystemException    = "system_exception"
	EventLogin              = "login"
	EventLoginFailed        = "login_failed"
	EventLogout             = "logout"
)

// Event is something the host may want to log or store.
type Event struct {
	// Action is the event's kind: EventConfigurationError, ...
	Action string
	// Message says what happened. It never holds a secret.
	Message string
	// Flow and Stage name where, when known.
	Flow, Stage string
	// User is the username the event is about (login, login_failed,
	// logout), when there is one.
	User string
	// RequestID is the request id shown to the client in
	// ak-stage-flow-error, for EventSystemException.
	RequestID string
}

// Errors of the executor.
var (
	// ErrNoHandler: a stage kind the store serves has no handler.
	ErrNoHandler = errors.New("executor: no handler for the stage kind")
	// ErrUnknownFlow: no flow has the slug.
	ErrUnknownFlow = errors.New("executor: no flow has this slug")
	// ErrNoSession: a request without a session id.
	ErrNoSession = errors.New("executor: a request needs a session id")
)

// Options configure an Executor. Every zero field means its default.
type Options struct {
	// Cache is where plans come from. Nil means New makes one with Plan,
	// and Close closes it.
	Cache *plan.Cache
	// Plan are the planner's options, for the cache New makes. Policies of
	// re-evaluated stages are evaluated with the cache's options.
	Plan plan.Options
	// Handlers run the stage kinds, by model name. Nil means Builtin().
	// Every kind the store serves needs one.
	Handlers map[stage.ModelName]Handler
	// RunState keeps the executions. Nil means a MemRunState with its
	// defaults.
	RunState RunState
	// ExecutionTTL is how long an execution is kept after its last step.
	// Zero means DefaultExecutionTTL.
	ExecutionTTL time.Duration
	// Events receives the executor's events; nil drops them.
	Events func(Event)
	// ApplyUpdates applies the writes that policies asked for (see
	// plan.Update), after the step that evaluated them was saved. Nil
	// means plan.ApplyUpdates.
	ApplyUpdates func(ctx context.Context, s *store.Store, ups []plan.Update) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// Directory is the user directory stages find users in, check
	// passwords against and log in: nil means the store's
	// (store.Store.Directory); a host that keeps its own users gives
	// its directory.Directory.
	Directory directory.Directory
	// Passwords is the password policy whose hash a check of an unknown
	// user's password spends, so that it costs what a known user's
	// does; the zero Policy is Django's, the store's default. A host
	// that hashes otherwise gives its own.
	Passwords password.Policy
	// Captcha verifies the captcha tokens of identification stages with
	// a captcha stage; nil means none, and such a stage denies the flow
	// with MsgNoCaptchaVerifier and a configuration_error event.
	Captcha CaptchaVerifier
	// Devices keeps users' authenticator devices, for the
	// authenticator setup and validation stages. Nil means the
	// Directory's, when it implements directory.Devices (the store's and
	// memdir do), else none: no user has a device.
	Devices directory.Devices
	// WebAuthn is the WebAuthn relying party of the authenticator_webauthn
	// and authenticator_validate stages (see WebAuthnOptions). Nil means
	// none: those stages deny the flow with MsgNoWebAuthn and a
	// configuration_error event where they need it. New fails when it is
	// set but malformed.
	WebAuthn *WebAuthnOptions
	// SMS sends the codes of authenticator_sms stages and of SMS
	// devices (HTTPSMS is authentik's providers over HTTP); nil means
	// none: an authenticator_sms stage denies the flow with
	// MsgNoSMSSender and a configuration_error event, and selecting an
	// SMS device's challenge in authenticator_validate is refused with
	// that message.
	SMS SMSSender
	// Duo speaks to Duo's Auth API for authenticator_duo stages and Duo
	// devices (HTTPDuo is the built-in client); nil means none: an
	// authenticator_duo stage denies the flow with MsgNoDuo and a
	// configuration_error event, and a Duo answer in
	// authenticator_validate is "Duo denied access".
	Duo Duo
	// MFASecret signs the remembered-MFA cookie (CookieMFA) of
	// authenticator_validate stages with a last_auth_threshold: the key
	// of a stage's cookie is derived from it, the stage's pk and the
	// user's (see the package documentation). Nil means the store's
	// installation id (store.Store.InstallID), from which authentik
	// derives its key; with neither, no cookie is set or honoured.
	MFASecret []byte
	// Sleep waits d, or until ctx is done: the identification stage's
	// wait on an unknown identifier (authentik's 90 to 210 ms). Nil
	// means a real wait.
	Sleep func(ctx context.Context, d time.Duration)
	// Expressions configure the expressions of prompts (placeholders,
	// initial values, choices: expression.PromptValue). Nil means
	// expression's defaults, with the events of failing expressions
	// reported to Events. When Cache and Plan.Evaluators are nil, the
	// cache New makes evaluates expression policies with them too
	// (plan.Builtin and expression.Evaluator).
	Expressions *expression.Options
	// Reputation keeps the reputation scores that failed and successful
	// logins change and reputation policies read (package reputation).
	// Nil means a reputation.Mem with its defaults. When Cache and
	// Plan.Evaluators are nil, the cache New makes evaluates reputation
	// policies over it (reputation.Evaluator); a host that gives either
	// registers reputation.Evaluator over the same Scores, or its
	// policies read other scores than the login path changes.
	Reputation reputation.Scores

	// Mailer sends the email stage's messages; nil means none, and an
	// email stage denies the flow with MsgNoMailer and a
	// configuration_error event.
	Mailer Mailer
	// MailQueue is how many of the email stage's messages may wait to
	// be sent (they are sent in the background: see DefaultMailQueue);
	// zero means DefaultMailQueue.
	MailQueue int
	// BaseURL is the public URL of the site ("https://auth.example.com"),
	// which the email stage's links begin with; "" means none, and an
	// email stage denies the flow as without a mailer.
	BaseURL string
	// Brand holds the brand settings flows read (see Brand); the zero
	// Brand is authentik's default brand with no flows set.
	Brand Brand
	// Avatar returns the pending_user_avatar of a challenge's display
	// user (see displayUser in the package documentation); "" means
	// DefaultAvatar. Nil means directory.Avatar, the avatar the API
	// shows for a user.
	Avatar func(directory.User) string
}

// Executor runs flows, step by step, for many sessions at once. It is
// safe for concurrent use.
type Executor struct {
	s        *store.Store
	cache    *plan.Cache
	ownCache bool
	// ownDecoded: New made popts.Decoded, and Close closes it.
	ownDecoded bool
	popts      plan.Options
	handlers   map[stage.ModelName]Handler
	rs         RunState
	ttl        time.Duration
	events     func(Event)
	apply      func(context.Context, *store.Store, []plan.Update) error
	now        func() time.Time
	dir        directory.Directory
	// storeDir says dir is the store's own.
	storeDir bool
	pw       password.Policy
	captcha  CaptchaVerifier
	devices  directory.Devices
	// storeDevices says devices is the store's own (dir's).
	storeDevices bool
	// webauthn is the relying party (Options.WebAuthn); nil for none.
	webauthn *webauthnx.RP
	sms      SMSSender
	duo      Duo
	// mfaSecret signs the remembered-MFA cookie (mfacookie.go).
	mfaSecret []byte
	sleep     func(context.Context, time.Duration)
	sessions  *SessionStore
	// dummyCheck spends a password check on an unknown user's password.
	dummyCheck func(raw string)
	expr       *expression.Options
	rep        reputation.Scores
	mailer     Mailer
	mail       *mailQueue
	logins     *lastLogins
	baseURL    string
	brand      Brand
	avatar     func(directory.User) string
	// hist is the inspector's history (inspect.go).
	hist *history
	// conf keeps decoded flows and stages until they change (confcache.go).
	conf *confCache
	// execs keeps the executions last loaded or saved, decoded
	// (execcache.go).
	execs *execCache
	// running serializes the requests of one execution (keylock.go).
	running keyLocks
	// apiReqs keeps the Go API's HTTP requests without a query, with the
	// brand (apiRequest).
	apiReqs apiRequests
	// keys keeps the execution keys of recent requests (keycache.go).
	keys *keyCache
}

// New returns an executor of the flows in s. It fails with an error
// wrapping ErrNoHandler, naming them, when a stage kind s serves
// (s.StageKinds()) has no handler.
func New(s *store.Store, opts Options) (*Executor, error) {
	e := &Executor{
		s: s, cache: opts.Cache, handlers: opts.Handlers, rs: opts.RunState, ttl: opts.ExecutionTTL,
		events: opts.Events, apply: opts.ApplyUpdates, now: opts.Now,
		dir: opts.Directory, pw: opts.Passwords, captcha: opts.Captcha, devices: opts.Devices, sms: opts.SMS, duo: opts.Duo, sleep: opts.Sleep, rep: opts.Reputation,
		hist: newHistory(), execs: newExecCache(DefaultDecodedExecutions), keys: newKeyCache(), mailer: opts.Mailer, baseURL: strings.TrimRight(opts.BaseURL, "/"),
		brand: opts.Brand, avatar: opts.Avatar,
	}
	e.brand.Attributes = jsonvalue.CloneMap(opts.Brand.Attributes)
	if e.dir == nil {
		e.dir, e.storeDir = s.Directory(), true
	}
	if e.devices == nil {
		e.devices, _ = e.dir.(directory.Devices)
		e.storeDevices = e.storeDir && e.devices != nil
	}
	if err := checkDeviceClassHandlers(deviceClassHandlers); err != nil {
		return nil, err
	}
	e.mfaSecret = slices.Clone(opts.MFASecret)
	if e.mfaSecret == nil {
		e.mfaSecret = []byte(s.InstallID())
	}
	if e.sleep == nil {
		e.sleep = sleepCtx
	}
	if w := opts.WebAuthn; w != nil {
		rp, err := webauthnx.New(w.RPID, w.Origins)
		if err != nil {
			return nil, fmt.Errorf("executor: Options.WebAuthn: %w", err)
		}
		e.webauthn = rp
	}
	e.dummyCheck = func(raw string) { _, _, _ = e.pw.Check(raw, "") }
	if e.handlers == nil {
		e.handlers = Builtin()
	}
	if e.apply == nil {
		e.apply = plan.ApplyUpdates
	}
	var missing []string
	for _, k := range s.StageKinds().Kinds() {
		if e.handlers[k.Model] == nil {
			missing = append(missing, string(k.Model))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoHandler, strings.Join(missing, ", "))
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.ttl <= 0 {
		e.ttl = DefaultExecutionTTL
	}
	if e.rs == nil {
		e.rs = NewMemRunState(MemOptions{Now: e.now})
	}
	if e.rep == nil {
		m, err := reputation.NewMem(reputation.Options{Now: e.now})
		if err != nil {
			return nil, fmt.Errorf("executor: %w", err)
		}
		e.rep = m
	}
	if e.mailer != nil {
		e.mail = newMailQueue(e, opts.MailQueue)
	}
	if lr, ok := e.dir.(directory.LoginRecorder); ok {
		e.logins = newLastLogins(e, lr)
	}
	e.sessions = &SessionStore{rs: e.rs, user: e.user, now: e.now}
	e.expr = e.expressionOptions(opts.Expressions)
	if e.cache == nil {
		popts := opts.Plan
		if popts.Evaluators == nil {
			popts.Evaluators = plan.Builtin(popts.Now)
			popts.Evaluators[policy.ModelExpression] = expression.Evaluator(e.expr)
			popts.Evaluators[policy.ModelReputation] = reputation.Evaluator(e.rep)
		}
		e.cache, e.ownCache = plan.NewCache(s, plan.CacheOptions{Options: popts}), true
	}
	e.popts = e.cache.Options()
	// The executor reads no evaluation's trace (EvaluateBinding,
	// EvaluateFlow, EvaluatePolicies). Its cache keeps plans with theirs:
	// a cached plan costs the same as one the API serves.
	e.popts.NoTrace = true
	if e.popts.Decoded == nil {
		// Re-evaluated bindings read the same policies at every request:
		// keep them decoded until they change (never stale).
		e.popts.Decoded = plan.NewDecoded(s)
		e.ownDecoded = true
	}
	e.conf = newConfCache(s)
	return e, nil
}

// Close waits for the email stage's queued messages to be sent, at most
// MailCloseWait (then it gives up the rest, each with a system_exception
// event), writes the last logins noted, and releases the plan cache New
// made.
func (e *Executor) Close() {
	if e.mail != nil {
		e.mail.close(MailCloseWait)
	}
	if e.logins != nil {
		e.logins.close()
	}
	e.conf.close()
	if e.ownDecoded {
		e.popts.Decoded.Close()
	}
	if e.ownCache {
		e.cache.Close()
	}
}

func (e *Executor) event(ev Event) {
	if e.events != nil {
		e.events(ev)
	}
}

// Request is one request of a client in a flow.
type Request struct {
	// Session identifies the client's session: executions are kept per
	// session and flow, so that one session runs several flows at once.
	Session string
	// Query is the query string of the client's page, as authentik's
	// executor receives it in its query parameter ("next=%2Fapp%2F").
	Query string
	// User is the request's user: its pk and whether the request is
	// logged in as it; the zero User is anonymous.
	User plan.User
	// Username is the request's user's username, shown as pending_user;
	// "" for an anonymous user.
	Username string
	// HTTP is the HTTP request, for policies (http_request); nil when
	// there is none. The executor modifies nothing of it: with none, the
	// Go API's request (see goAPIRequest) is shared by the requests of a
	// flow, and a handler not of Builtin is given a copy of it.
	HTTP *plan.HTTPRequest
	// MFA is the value of the client's remembered-MFA cookie
	// (CookieMFA), "" for none: HTTPSessions.Request reads it.
	MFA string
}

// Response is the executor's answer.
type Response struct {
	// Challenge is what to show the client, when Reload is false.
	Challenge Challenge
	// Reload says: ask again (Get). A stage passed and stages remain, the
	// flow restarted, or the request lost a race with another request of
	// the same execution, which won. Over HTTP it is a 302 to the same
	// URL.
	Reload bool
	// Login, when not nil, says a user_login stage logged a user in
	// during this request: the host makes Login.Session the client's
	// session id from now on, logged in as Login.User (see Login). The
	// execution continues under the new id.
	Login *Login
	// Logout, when not nil, says a user_logout stage logged the
	// session out: the host ends the session and makes Logout.Session
	// the client's (anonymous) session id from now on.
	Logout *Logout
	// MFA, when not nil, is the remembered-MFA cookie an
	// authenticator_validate stage asks the client to keep
	// (HTTPSessions.Apply sets it).
	MFA *MFACookie
}

// Get starts the flow with slug for the request's session, or resumes
// the session's execution of it, and returns the current challenge.
// Reaching a stage may pass it (a stage without a challenge), end the
// flow, or deny it. It fails with ErrUnknownFlow for an unknown slug;
// another error is unexpected (show ak-stage-flow-error).
func (e *Executor) Get(ctx context.Context, slug string, req Request) (Response, error) {
	return e.do(ctx, slug, req, false, nil)
}

// Submit answers the current challenge of the session's execution of the
// flow with body, a JSON object (authentik's challenge response). A body
// whose "component" names another challenge than the one last shown is
// not submitted: the answer is the current challenge with MsgOtherStage.
func (e *Executor) Submit(ctx context.Context, slug string, req Request, body json.RawMessage) (Response, error) {
	return e.do(ctx, slug, req, true, body)
}

// run is one request's work on one execution.
type run struct {
	e       *Executor
	ctx     context.Context
	req     Request
	f       flow.Flow
	key     string
	version uint64
	ex      *execution
	updates []plan.Update
	// expired says the execution had expired and started over.
	expired bool
	// switched says a redirect stage replaced this execution by one of
	// another flow: it is removed, not saved.
	switched bool
	// restarted says a redirect stage replaced this execution by a new
	// one of the same flow.
	restarted bool
	// login and logout are what user_login and user_logout did; newKey
	// is then the execution's key under the session's new id.
	login  *Login
	logout *Logout
	newKey string
	// mfa is the remembered-MFA cookie to set (mfacookie.go).
	mfa *MFACookie
	// pre is the current stage, found in do's read transaction, for
	// reach's first call.
	pre *reached
	// cur is the current stage current last found.
	cur reached
	// pending is the pending user read with it, for its handler, and
	// devices the devices of a user (prefetch); nil when not read, or
	// once used.
	pending *pendingRead
	devices *devicesRead
	// hash is the pending user's password hash, read with it for a
	// passwordChecker; ident the response decoded and the user it
	// names, for a userFinder.
	hash  *hashRead
	ident *identRead
	// reads hold what pending, devices, hash and ident point to.
	reads struct {
		pending pendingRead
		devices devicesRead
		hash    hashRead
		ident   identRead
	}
	// fresh is the plan do made for a new execution.
	fresh newPlan
	// sharedHTTP says req.HTTP is the Go API's request shared by the
	// requests of the flow (apiRequest): a host's handler is given a copy
	// of it (stepRequest).
	sharedHTTP bool
	// step is what reach gives the handler, allocated with the run.
	step Step
	// first is what doRun's read transaction reads for, and read the
	// function it runs (readFirst), made once for each run of runs: a
	// closure would be allocated at every request.
	first struct {
		slug, token string
		post        bool
		body        json.RawMessage
		x           *execution
	}
	read func(*store.Tx) error
	// hist is the inspector's history entry of a pass, the execution as
	// it was before its stage was popped, which the save adds once it
	// has encoded the context (histSet says there is one).
	hist    histPlan
	histSet bool
}

// runs are the runs of requests that have answered, for the requests
// that follow (do): a run, with the Step in it, is over a kilobyte,
// which would otherwise be garbage at every request. A run is given
// back zeroed (releaseRun), so that nothing of one request is seen by
// the next, nor kept alive by the pool; one whose request panicked is
// not given back.
var runs = sync.Pool{New: func() any {
	r := new(run)
	r.read = r.readFirst
	return r
}}

// releaseRun gives r back to runs once its request has answered: its
// Response holds nothing of r (the login, logout and cookie it reports
// are allocated apart), and a handler keeps no *Step (see Step).
func releaseRun(r *run) {
	*r = run{read: r.read}
	runs.Put(r)
}

func (e *Executor) do(ctx context.Context, slug string, req Request, post bool, body json.RawMessage) (Response, error) {
	if req.Session == "" {
		return Response{}, ErrNoSession
	}
	r := runs.Get().(*run)
	resp, err := e.doRun(ctx, r, slug, req, post, body)
	releaseRun(r)
	return resp, err
}

// doRun is do's work, in r, a run of runs (zero but for its read).
func (e *Executor) doRun(ctx context.Context, r *run, slug string, req Request, post bool, body json.RawMessage) (Response, error) {
	shared := req.HTTP == nil && req.Query == ""
	keepHTTP := false
	if req.HTTP == nil {
		req.HTTP, keepHTTP = e.apiRequest(slug, req.Query, post)
	} else {
		req.HTTP = e.withBrand(req.HTTP)
	}
	r.e, r.ctx, r.req, r.key, r.sharedHTTP = e, ctx, req, e.keys.key(req.Session, slug), shared
	// The requests of one execution run one after the other: the record
	// is read under the lock (keylock.go).
	held := e.running.lock(r.key)
	defer e.running.unlock(r.key, held)
	rec, lerr := e.loadExecution(ctx, r.key)
	var x *execution
	if lerr == nil {
		// A record that does not decode, or of a flow since re-created
		// under the slug, is replaced by a new execution.
		x, _ = e.execs.take(r.key, rec)
	} else {
		e.execs.drop(r.key)
	}
	token := flowTokenParam(req.Query)
	// One read transaction: the flow and the current stage (readFirst).
	r.first.slug, r.first.token, r.first.post, r.first.body, r.first.x = slug, token, post, body, x
	err := e.s.View(ctx, r.read)
	if errors.Is(err, store.ErrNotFound) {
		return Response{}, fmt.Errorf("%w: %q", ErrUnknownFlow, slug)
	}
	if err != nil {
		return Response{}, err
	}
	if keepHTTP {
		e.keepAPIRequest(slug, post, req.HTTP)
	}
	switch {
	case lerr == nil:
		r.version = rec.Version
	case errors.Is(lerr, ErrExpired):
		r.expired = true
	case errors.Is(lerr, ErrNotFound):
	default:
		return Response{}, lerr
	}
	if token != "" {
		r.pre = nil
		if err := r.restoreToken(token); err != nil {
			return Response{}, err
		}
	}
	switch {
	case r.fresh.made && !r.fresh.ok:
		return r.notRun(r.fresh.p, r.fresh.err)
	case r.fresh.made:
		return r.reach(false, nil)
	case r.ex == nil:
		return r.start(nil)
	}
	r.ex.Query = req.Query
	if post {
		return r.reach(true, body)
	}
	return r.reach(false, nil)
}

// readFirst is a request's first read transaction (doRun's): the flow
// and, for an execution that goes on or starts, its current stage
// (reach), with what its handler reads first (prefetch).
func (r *run) readFirst(tx *store.Tx) error {
	var err error
	if r.f, err = r.e.conf.flow(tx, r.first.slug); err != nil {
		return err
	}
	x, token := r.first.x, r.first.token
	switch {
	case x != nil && x.Flow == r.f.PK:
		r.ex = x
		if token == "" {
			r.ex.Query = r.req.Query
			r.pre = r.current(tx)
			r.prefetch(tx, r.pre, r.first.post, r.first.body)
		}
	case token == "":
		// A new execution (start): planned, and its first stage found,
		// in this transaction too.
		ctxm := map[string]any{}
		p, perr := r.e.cache.MakeIn(r.ctx, tx, r.first.slug, plan.Request{User: r.policyUser(ctxm), Context: ctxm, HTTP: r.req.HTTP})
		r.fresh = newPlan{p: p, err: perr, ok: r.adopt(ctxm, p, perr), made: true}
		if r.fresh.ok {
			r.pre = r.current(tx)
		}
	}
	return nil
}

// sharedRunState is a RunState that can keep a caller's bytes, and hand
// out its own, instead of copies (MemRunState): for the records of
// executions, which the executor never modifies once encoded (the bytes
// saved are the execCache's too; the bytes loaded are compared and
// decoded, never written to).
type sharedRunState interface {
	loadShared(ctx context.Context, ns Namespace, key string) (Record, error)
	saveShared(ctx context.Context, ns Namespace, key string, rec Record) (uint64, error)
}

// loadExecution loads the record of the execution under key, without a
// copy where the RunState can share it.
func (e *Executor) loadExecution(ctx context.Context, key string) (Record, error) {
	if s, ok := e.rs.(sharedRunState); ok {
		return s.loadShared(ctx, Executions, key)
	}
	return e.rs.Load(ctx, Executions, key)
}

// saveExecution saves rec, which nothing modifies afterwards, as the
// record of the execution under key.
func (e *Executor) saveExecution(ctx context.Context, key string, rec Record) (uint64, error) {
	if s, ok := e.rs.(sharedRunState); ok {
		return s.saveShared(ctx, Executions, key, rec)
	}
	return e.rs.Save(ctx, Executions, key, rec)
}

// planFor plans the flow with the context ctxm.
func (r *run) planFor(ctxm map[string]any) (plan.Plan, error) {
	return r.e.cache.Make(r.ctx, r.f.Slug, plan.Request{User: r.policyUser(ctxm), Context: ctxm, HTTP: r.req.HTTP})
}

// policyUser is the user policies are evaluated for: the context's
// pending user when there is one, a user the directory holds (so
// authenticated, as any stored user is in Django), else the request's
// user (planner.py:255, markers.py:56).
func (r *run) policyUser(ctxm map[string]any) plan.User {
	if pk, ok := directory.ContextUserPK(ctxm[directory.ContextPendingUser]); ok {
		return plan.User{PK: pk, Authenticated: true}
	}
	return r.req.User
}

// start plans the flow anew, with the context ctxm (nil for an empty
// one), and reaches its first stage.
func (r *run) start(ctxm map[string]any) (Response, error) {
	ok, resp, err := r.replan(ctxm)
	if !ok || err != nil {
		return resp, err
	}
	return r.reach(false, nil)
}

// replan replaces the execution by a new plan of the flow with context
// ctxm. It answers itself (ok false) when the flow is denied or has no
// stages.
func (r *run) replan(ctxm map[string]any) (ok bool, resp Response, err error) {
	if ctxm == nil {
		ctxm = map[string]any{}
	}
	p, perr := r.planFor(ctxm)
	if r.adopt(ctxm, p, perr) {
		return true, Response{}, nil
	}
	resp, err = r.notRun(p, perr)
	return false, resp, err
}

// newPlan is a plan do made for a new execution (made), and whether it
// runs (adopt).
type newPlan struct {
	p    plan.Plan
	err  error
	ok   bool
	made bool
}

// adopt replaces the execution by a new one of p, the plan of the flow
// with context ctxm (or perr, the planner's error), and keeps the
// updates its policies asked for; false when it does not run (notRun
// answers). It writes nothing.
func (r *run) adopt(ctxm map[string]any, p plan.Plan, perr error) bool {
	r.ex = &execution{Flow: r.f.PK, Context: ctxm, Query: r.req.Query}
	if perr != nil {
		return false
	}
	r.updates = append(r.updates, p.Updates...)
	if !p.Applicable {
		return false
	}
	r.ex.Stages = p.Stages
	return true
}

// notRun answers a plan that adopt did not run: the end of a flow
// without stages, the planner's error, or the denial.
func (r *run) notRun(p plan.Plan, perr error) (Response, error) {
	switch {
	case errors.Is(perr, plan.ErrEmptyFlow):
		return r.done()
	case perr != nil:
		return Response{}, perr
	}
	return r.denied(p)
}

// policyRequest is the request re-evaluated policies see.
func (r *run) policyRequest() plan.Request {
	return plan.Request{User: r.policyUser(r.ex.Context), Context: r.ex.Context, HTTP: r.req.HTTP}
}

// livePlan is the running execution as policies see it (flow_plan).
type livePlan struct{ ex *execution }

// Redirect inserts a redirect to the URL as the next stage, as
// authentik's insert_stage does (index 1: after the current one).
func (l livePlan) Redirect(to string) {
	i := min(1, len(l.ex.Stages))
	l.ex.Stages = slices.Insert(l.ex.Stages, i, plan.Stage{Name: "redirect", Marker: plan.MarkerStage, Redirect: to})
}

// next returns the current stage, after removing the re-evaluated ones
// whose policies fail; false when none is left. It reads in tx.
func (r *run) next(tx *store.Tx) (plan.Stage, bool, error) {
	for len(r.ex.Stages) > 0 {
		st := r.ex.Stages[0]
		if st.Marker != plan.MarkerReevaluate {
			return st, true, nil
		}
		ev, err := plan.EvaluateBinding(r.ctx, tx, st.Binding, r.policyRequest(), livePlan{r.ex}, r.e.popts)
		if err != nil {
			return plan.Stage{}, false, err
		}
		r.updates = append(r.updates, ev.Updates...)
		if ev.Passing {
			return st, true, nil
		}
		r.ex.Stages = r.ex.Stages[1:]
		r.ex.Shown = ""
	}
	return plan.Stage{}, false, nil
}

// reached is the current stage, as current finds it.
type reached struct {
	st   plan.Stage
	ok   bool // false: no stage left
	gone bool // the stage was deleted
	stg  stage.Stage
	err  error
}

// current finds the current stage in tx: the re-evaluated bindings'
// policies (next), and the stage. It is kept in r.cur, which it
// returns.
func (r *run) current(tx *store.Tx) *reached {
	c := &r.cur
	*c = reached{}
	if c.st, c.ok, c.err = r.next(tx); c.err != nil || !c.ok || c.st.Redirect != "" {
		return c
	}
	c.stg, c.err = r.e.conf.stage(tx, c.st.Stage)
	if errors.Is(c.err, store.ErrNotFound) {
		c.gone, c.err = true, nil
	}
	return c
}

// reach runs the current stage: its challenge, or, for a POST, the
// response to it.
func (r *run) reach(post bool, body json.RawMessage) (Response, error) {
	c := r.pre
	r.pre = nil
	if c == nil {
		err := r.e.s.View(r.ctx, func(tx *store.Tx) error {
			r.current(tx)
			return nil
		})
		c = &r.cur
		if err != nil {
			return Response{}, err
		}
	}
	if c.err != nil {
		return Response{}, c.err
	}
	st, ok, gone, stg := c.st, c.ok, c.gone, c.stg
	var err error
	if !ok {
		return r.done()
	}
	step := &r.step
	*step = Step{Planned: st, Context: r.ex.Context, Request: r.req, ex: r.e, run: r, Flow: r.f}
	var h Handler
	builtin := true
	switch {
	case st.Redirect == emailConsentMarker:
		h = emailConsentHandler{} // email.go
	case st.Redirect != "":
		h = memRedirect{st.Redirect}
	case gone:
		return r.apply(step, nil, Deny(MsgStageGone))
	default:
		step.Stage = stg
		h = r.e.handlers[step.Stage.Model()]
		if h == nil {
			h = Unsupported(step.Stage.Model())
		}
		builtin = builtinHandler(h)
		if r.sharedHTTP && !builtin {
			// A host's handler may change the request it is given.
			step.Request.HTTP = cloneHTTPRequest(step.Request.HTTP)
		}
	}
	if r.ex.Query != "" || !builtin {
		// A host's handler may change the values it is given; the
		// executor's own only read them, and an empty query reads as a
		// nil map does.
		step.Query, _ = url.ParseQuery(r.ex.Query)
	}
	var res Result
	switch {
	case !post:
		res, err = h.Challenge(r.ctx, step)
	default:
		component := responseComponent(body)
		if len(component) != 0 && r.ex.Shown != "" && string(component) != r.ex.Shown {
			res, err = h.Challenge(r.ctx, step)
			if err == nil && res.kind == resultShow {
				addNonField(res.challenge.envelope(), fmt.Sprintf(MsgOtherStage, component, r.ex.Shown))
			}
			break
		}
		res, err = h.Respond(r.ctx, step, body)
	}
	if err != nil {
		return Response{}, fmt.Errorf("executor: stage %q (%s): %w", step.Stage.Name, step.Stage.Model(), err)
	}
	return r.apply(step, h, res)
}

// responseComponent is the component a response names: what
// json.Unmarshal decodes into a struct's Component string field tagged
// "component" (a key matched case-insensitively, the last string member
// winning, null and other values leaving it as it was; nothing for
// input not valid JSON or not an object), a part of body when it can
// be. Only keys and a component of plain ASCII (no escape) are read
// here, without an allocation; others are left to json.Unmarshal.
func responseComponent(body []byte) []byte {
	if !json.Valid(body) {
		return nil
	}
	b := skipSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	var component []byte
	b = skipSpace(b[1:])
	for len(b) > 0 && b[0] == '"' {
		key, rest, ok := plainString(b)
		if !ok {
			return slowComponent(body)
		}
		b = skipSpace(skipSpace(rest)[1:]) // past the colon
		if len(key) == len("component") && asciiFoldEqual(key, "component") && b[0] == '"' {
			v, rest, ok := plainString(b)
			if !ok {
				return slowComponent(body)
			}
			component, b = v, rest
		} else {
			b = skipValue(b)
		}
		b = skipSpace(b)
		if len(b) > 0 && b[0] == ',' {
			b = skipSpace(b[1:])
		}
	}
	return component
}

// slowComponent is responseComponent by json.Unmarshal.
func slowComponent(body []byte) []byte {
	var head struct {
		Component string `json:"component"`
	}
	_ = json.Unmarshal(body, &head)
	return []byte(head.Component)
}

// skipSpace skips JSON's whitespace.
func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// plainString reads the JSON string b starts with, valid, and returns
// its contents: false when it has an escape or a byte beyond ASCII.
func plainString(b []byte) (s, rest []byte, ok bool) {
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return b[1:i], b[i+1:], true
		case c == '\\' || c >= 0x80:
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// skipValue skips the valid JSON value b starts with.
func skipValue(b []byte) []byte {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return b[i+1:]
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return b[i:]
			}
			if depth--; depth == 0 {
				return b[i+1:]
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return b[i:]
			}
		}
	}
	return b[len(b):]
}

// asciiFoldEqual says whether the ASCII a and s are equal but for case.
func asciiFoldEqual(a []byte, s string) bool {
	for i := range a {
		x, y := a[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func addNonField(env *Envelope, msg string) {
	if env.ResponseErrors == nil {
		env.ResponseErrors = map[string][]ErrorDetail{}
	}
	env.ResponseErrors[validate.NonFieldKey] = append(env.ResponseErrors[validate.NonFieldKey], ErrorDetail{String: msg, Code: "invalid"})
}

// action is the current binding's invalid_response_action; retry for a
// stage a policy inserted.
func (r *run) action(st plan.Stage) (binding.InvalidResponseAction, error) {
	if st.Redirect != "" {
		return binding.InvalidResponseRetry, nil
	}
	var b binding.Binding
	err := r.e.s.View(r.ctx, func(tx *store.Tx) error {
		var err error
		b, err = store.Bindings.Get(tx, store.PK(st.Binding))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return binding.InvalidResponseRetry, nil
	}
	return b.InvalidResponseAction, err
}

// apply carries out a handler's result.
func (r *run) apply(step *Step, h Handler, res Result) (Response, error) {
	switch res.kind {
	case resultShow:
		env := res.challenge.envelope()
		if r.expired {
			addNonField(env, MsgExpired)
		}
		switch {
		case r.switched:
			return r.finish(Response{Challenge: res.challenge})
		case r.restarted:
			// The challenge is not of the new plan's current stage.
			return r.save(Response{Challenge: res.challenge})
		}
		r.ex.Shown = env.Component
		return r.save(Response{Challenge: res.challenge})
	case resultPass:
		// The inspector's history (inspect.go) and the save below share
		// one encoding of the context, which does not change between:
		// the save's, a part of its record (save adds the entry).
		if r.e.hist != nil {
			r.hist, r.histSet = planOf(r.ex), true
		}
		r.ex.Stages = r.ex.Stages[1:]
		r.ex.Shown = ""
		if len(r.ex.Stages) == 0 {
			if r.histSet {
				r.histSet = false
				if ctxJSON, err := r.ex.contextJSON(); err == nil {
					r.hist.ctxJSON = ctxJSON
					r.e.hist.addPlan(r.key, r.hist)
					r.ex.ctxJSON = ctxJSON
				}
			}
			return r.done()
		}
		return r.save(Response{Reload: true})
	case resultInvalid, resultRetry:
		act, err := r.action(step.Planned)
		if err != nil {
			return Response{}, err
		}
		if act == binding.InvalidResponseRestart || act == binding.InvalidResponseRestartWithContext {
			return r.restart(act == binding.InvalidResponseRestartWithContext)
		}
		if res.kind == resultInvalid {
			return r.finish(Response{Challenge: r.accessDenied(res.message)})
		}
		again, err := h.Challenge(r.ctx, step)
		if err != nil {
			return Response{}, fmt.Errorf("executor: stage %q (%s): %w", step.Stage.Name, step.Stage.Model(), err)
		}
		if again.kind == resultShow {
			env := again.challenge.envelope()
			for k, v := range ResponseErrors(res.errs) {
				if env.ResponseErrors == nil {
					env.ResponseErrors = map[string][]ErrorDetail{}
				}
				env.ResponseErrors[k] = append(env.ResponseErrors[k], v...)
			}
		}
		return r.apply(step, h, again)
	case resultDeny:
		return r.finish(Response{Challenge: r.accessDenied(res.message)})
	}
	return Response{}, fmt.Errorf("executor: stage %q: a handler returned the zero Result", step.Stage.Name)
}

// restart plans the flow again, keeping the context or not, and asks the
// client to reload (authentik's restart_flow).
func (r *run) restart(keep bool) (Response, error) {
	var ctxm map[string]any
	if keep {
		ctxm = r.ex.Context
	}
	ok, resp, err := r.replan(ctxm)
	if !ok || err != nil {
		return resp, err
	}
	return r.save(Response{Reload: true})
}

// save keeps the execution and then applies the updates policies asked
// for. A request that lost a race with another of the same execution
// saves nothing and asks the client to reload.
func (r *run) save(resp Response) (Response, error) {
	data, ctxJSON, err := r.ex.encodeParts()
	if err != nil {
		return Response{}, err
	}
	if r.histSet {
		r.histSet = false
		r.hist.ctxJSON = ctxJSON
		r.e.hist.addPlan(r.key, r.hist)
	}
	key, version := r.key, r.version
	if r.newKey != "" {
		key, version = r.newKey, 0
	}
	saved, err := r.e.saveExecution(r.ctx, key, Record{Data: data, Expires: r.e.now().Add(r.e.ttl), Version: version})
	if err != nil {
		r.e.execs.drop(key)
	}
	switch {
	case errors.Is(err, ErrConflict), errors.Is(err, ErrExpired):
		return Response{Reload: true}, nil
	case err != nil:
		return Response{}, err
	}
	r.e.execs.saved(key, saved, data, r.ex, ctxJSON)
	if r.newKey != "" {
		r.e.execs.drop(r.key)
	}
	if r.newKey != "" && (r.version != 0 || r.expired) {
		// The execution moved to the session's new id.
		if err := r.e.rs.Delete(r.ctx, Executions, r.key); err != nil {
			return Response{}, err
		}
	}
	return r.attach(resp), r.applyUpdates()
}

// attach reports a login or logout of this request in resp.
func (r *run) attach(resp Response) Response {
	resp.Login, resp.Logout, resp.MFA = r.login, r.logout, r.mfa
	return resp
}

// finish ends the execution (authentik's cancel) and answers resp.
func (r *run) finish(resp Response) (Response, error) {
	r.e.execs.drop(r.key)
	if r.version != 0 || r.expired {
		if err := r.e.rs.Delete(r.ctx, Executions, r.key); err != nil {
			return Response{}, err
		}
	}
	return r.attach(resp), r.applyUpdates()
}

func (r *run) applyUpdates() error {
	if len(r.updates) == 0 {
		return nil
	}
	ups := r.updates
	r.updates = nil
	return r.e.apply(r.ctx, r.e.s, ups)
}

// done ends the flow (authentik's _flow_done): to the context's
// redirect, else to the query's next when it is relative, else to /.
func (r *run) done() (Response, error) {
	if to, ok := r.ex.Context["redirect"].(string); ok && to != "" {
		return r.finish(Response{Challenge: &Redirect{Envelope: Envelope{Component: ComponentRedirect}, To: to}})
	}
	next := r.nextURL()
	if next == "" {
		next = "/"
	}
	if !relative(next) {
		return r.finish(Response{Challenge: r.accessDenied(MsgInvalidNext)})
	}
	return r.finish(Response{Challenge: &Redirect{Envelope: Envelope{Component: ComponentRedirect}, To: next}})
}

// nextURL is the query's next.
func (r *run) nextURL() string {
	if r.ex.Query == "" {
		return ""
	}
	q, _ := url.ParseQuery(r.ex.Query)
	return q.Get("next")
}

// denied answers a denied plan per the flow's denied_action (authentik's
// handle_invalid_flow), reading next from the query (see the package
// documentation).
func (r *run) denied(p plan.Plan) (Response, error) {
	msg := strings.Join(p.Messages, "\n")
	if msg == "" {
		msg = MsgNotApplicable
	}
	next := r.nextURL()
	redirect := func(to string) (Response, error) {
		return r.finish(Response{Challenge: &Redirect{Envelope: Envelope{Component: ComponentRedirect}, To: to}})
	}
	useNext := next != "" && relative(next)
	switch r.f.DeniedAction {
	case flow.DeniedActionContinue:
		if useNext {
			return redirect(next)
		}
		return redirect("/")
	case flow.DeniedActionMessageContinue:
		if useNext {
			return redirect(next)
		}
	}
	return r.finish(Response{Challenge: r.accessDenied(msg)})
}

// relative says whether a next URL stays on this site: no scheme, no
// host, and not "//" or "/\" (which browsers read as a host); no
// leading space either, which browsers strip (" //host" is "//host"),
// nor a control character (url.Parse refuses them; browsers strip or
// drop tabs and newlines).
func relative(s string) bool {
	if strings.HasPrefix(s, " ") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return false
	}
	return !strings.HasPrefix(s, "//") && !strings.HasPrefix(s, `/\`) && !strings.HasPrefix(s, `\`)
}

// accessDenied is ak-stage-access-denied with msg.
func (r *run) accessDenied(msg string) *AccessDenied {
	if msg == "" {
		msg = MsgUnknownError
	}
	var ctxm map[string]any
	if r.ex != nil {
		ctxm = r.ex.Context
	}
	return &AccessDenied{
		Envelope:     Envelope{FlowInfo: r.e.flowInfo(r.f, ctxm, r.req), Component: ComponentAccessDenied},
		UserInfo:     r.e.displayInfo(ctxm, r.req),
		ErrorMessage: msg,
	}
}

// flowInfo is a challenge's flow_info.
func (e *Executor) flowInfo(f flow.Flow, ctxm map[string]any, req Request) *FlowInfo {
	layout := string(f.Layout)
	if layout == "" {
		layout = string(flow.LayoutStacked)
	}
	app := ""
	if a, ok := ctxm["application"].(map[string]any); ok {
		app, _ = a["name"].(string)
	}
	return &FlowInfo{
		Title: formatTitle(f.Title, app, userInfo(ctxm, req).PendingUser), Background: e.background(f),
		CancelURL: CancelURL, Layout: layout,
	}
}

// formatTitle is Python's title % {"app": app, "user": user}; a title
// that does not format is shown as it is, as in authentik.
func formatTitle(title, app, user string) string {
	if !strings.Contains(title, "%") {
		return title
	}
	var b strings.Builder
	for i := 0; i < len(title); i++ {
		c := title[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		rest := title[i+1:]
		switch {
		case strings.HasPrefix(rest, "%"):
			b.WriteByte('%')
			i++
		case strings.HasPrefix(rest, "(app)s"):
			b.WriteString(app)
			i += len("(app)s")
		case strings.HasPrefix(rest, "(user)s"):
			b.WriteString(user)
			i += len("(user)s")
		default:
			return title
		}
	}
	return b.String()
}

// userInfo is the display user's name (displayUser) with the default
// avatar; Executor.displayInfo gives the user's avatar.
func userInfo(ctxm map[string]any, req Request) UserInfo {
	u, _ := displayUser(ctxm, req)
	return UserInfo{PendingUser: u.Username, PendingUserAvatar: DefaultAvatar}
}

// maxAPIRequests bounds the Go API requests an Executor keeps
// (apiRequest): one per flow slug and method.
const maxAPIRequests = 1024

// apiRequests are the Go API's requests of an empty query, by slug and
// method, each with the brand: never modified once kept.
type apiRequests struct {
	mu sync.RWMutex
	m  map[apiRequestKey]*plan.HTTPRequest
}

type apiRequestKey struct {
	slug string
	post bool
}

// apiRequest is goAPIRequest with the brand (withBrand). One of an
// empty query, the most common, is made once per slug and method and
// shared by the requests that follow (at most maxAPIRequests are
// kept): nothing modifies a Request's HTTP (TestAPIRequestShared). keep
// says it was made anew, for keepAPIRequest once its flow is found.
func (e *Executor) apiRequest(slug, query string, post bool) (h *plan.HTTPRequest, keep bool) {
	if query != "" {
		return e.withBrand(goAPIRequest(slug, query, post)), false
	}
	c := &e.apiReqs
	c.mu.RLock()
	h = c.m[apiRequestKey{slug, post}]
	c.mu.RUnlock()
	if h != nil {
		return h, false
	}
	return e.withBrand(goAPIRequest(slug, query, post)), true
}

// keepAPIRequest keeps h, which apiRequest made for a flow found, to be
// shared: a slug of no flow takes no room.
func (e *Executor) keepAPIRequest(slug string, post bool, h *plan.HTTPRequest) {
	c := &e.apiReqs
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[apiRequestKey]*plan.HTTPRequest{}
	}
	if len(c.m) < maxAPIRequests {
		c.m[apiRequestKey{slug, post}] = h
	}
}

// builtinHandlerTypes are the types of Builtin's handlers, which never
// modify a Step's Request.HTTP nor its Query.
var builtinHandlerTypes = sync.OnceValue(func() map[reflect.Type]bool {
	m := map[reflect.Type]bool{reflect.TypeOf(Unsupported("")): true}
	for _, h := range Builtin() {
		m[reflect.TypeOf(h)] = true
	}
	return m
})

// builtinHandler says h is one of Builtin's handlers (or Unsupported's).
func builtinHandler(h Handler) bool { return builtinHandlerTypes()[reflect.TypeOf(h)] }

// cloneHTTPRequest is a copy of h that shares nothing a handler may
// change with it (the brand's attributes are the host's, shared as
// withBrand shares them).
func cloneHTTPRequest(h *plan.HTTPRequest) *plan.HTTPRequest {
	if h == nil {
		return nil
	}
	c := *h
	c.Header = h.Header.Clone()
	if h.Query != nil {
		c.Query = make(url.Values, len(h.Query))
		for k, v := range h.Query {
			c.Query[k] = slices.Clone(v)
		}
	}
	if h.Tenant != nil {
		t := *h.Tenant
		c.Tenant = &t
	}
	return &c
}

// goAPIRequest is the HTTP request policies and prompts see for a Go API
// call whose host gives none: authentik always runs a flow inside one,
// and shipped policies read it (default-user-settings-authorization
// reads http_request.tenant). It is the executor endpoint's request as
// authentik's own interface makes it: the method, the path, the page's
// query string as the query parameter, no headers, an unknown client
// address (ak_client_ip is 255.255.255.255) and the default tenant.
func goAPIRequest(slug, query string, post bool) *plan.HTTPRequest {
	method := http.MethodGet
	if post {
		method = http.MethodPost
	}
	return &plan.HTTPRequest{
		Method: method, Path: "/api/v3/flows/executor/" + slug + "/",
		Query: url.Values{"query": {query}}, Header: http.Header{},
	}
}
