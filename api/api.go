package api

import (
	"errors"
	"log"
	"net/http"
	"strings"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/internal/kind"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

// Prefix is the path under which [NewHandler] serves the API.
const Prefix = "/api/v3/"

// DefaultMaxBodyBytes bounds request bodies when Options.MaxBodyBytes is
// zero: 1 MiB.
const DefaultMaxBodyBytes int64 = 1 << 20

// ErrNotAuthenticated may be returned (or wrapped) by Options.Authorize for
// a request that carries no credentials at all. The handler answers it
// with 403 {"detail": "Authentication credentials were not provided."}, as
// authentik does, on every operation; any other error is a denial.
var ErrNotAuthenticated = errors.New("api: authentication credentials were not provided")

// AuthenticationFailed may be returned by Options.Authorize for a request
// whose credentials are wrong. It is answered as [ErrNotAuthenticated] is
// (403 on every operation, before anything else about the request), with
// Detail as the body's "detail": authentik says "Token invalid/expired"
// for a bearer token it does not know. It matches ErrNotAuthenticated
// with errors.Is.
type AuthenticationFailed struct{ Detail string }

func (e *AuthenticationFailed) Error() string { return "api: authentication failed: " + e.Detail }

// Is reports whether target is ErrNotAuthenticated.
func (e *AuthenticationFailed) Is(target error) bool { return target == ErrNotAuthenticated }

// Options configures [NewHandler]. A nil *Options means the zero Options,
// and every zero field means its default.
type Options struct {
	// Authorize is asked before every operation with the request and
	// authentik's permission codename for it, such as
	// "authentik_flows.change_flow" or
	// "authentik_stages_user_write.view_userwritestage". A nil error
	// allows the operation; any other error denies it (see the package
	// documentation for the status each denial gives). Nil allows
	// everything.
	Authorize func(r *http.Request, permission string) error
	// MaxBodyBytes bounds request bodies; a larger one is answered with
	// 413. Zero (or less) means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// ErrorLog receives internal errors (those answered with 500). Their
	// causes never appear in a response, except the store's report of a
	// damaged record ([store.ErrCorrupt]), which names what is damaged.
	// Nil means the log package's standard logger.
	ErrorLog *log.Logger
	// Creator says which user makes a request, by pk, for the created_by
	// of the invitations it creates (store.WriteOptions.Actor): such an
	// invitation refers to that user, shows it as it is now, and is
	// deleted with it. A host that authenticates requests names the
	// user here. Nil, or a false answer, makes the creator
	// stage.Anonymous; a pk that names no user fails the write, which
	// writes nothing, with 500 (the cause, store.ErrUnknownActor, is
	// logged).
	Creator func(r *http.Request) (userPK int64, ok bool)
	// Blueprint configures POST /flows/instances/import/. Its zero value
	// refuses !Env and !File (an API user could otherwise read the
	// server's environment or files into a stage and read them back),
	// and finds no blueprints for metaapplyblueprint entries. DryRun is
	// ignored.
	Blueprint blueprint.Options
	// Planner configures POST /flows/instances/{slug}/plan/ (its
	// evaluators; nil means plan.Builtin).
	Planner plan.Options
	// PlanCache is the plan cache that plans are made through and that
	// GET /flows/instances/cache_info/ counts and POST
	// /flows/instances/cache_clear/ clears: a host that plans through a
	// cache of its own passes it here, so that the API reports and clears
	// that one. Nil means a cache of the handler's own, made with Planner,
	// which follows s's changes for as long as s is open: a host that
	// makes many handlers for one store should pass one cache to all.
	PlanCache *plan.Cache
	// Executor, when set, runs flows for the handler: it serves
	// authentik's flow executor (GET and POST /flows/executor/{slug}/,
	// which ask for no permission, as authentik's), the flow inspector
	// (GET /flows/inspector/{slug}/, to requests that Authorize allows
	// authentik_flows.inspect_flow; 404 to others, as authentik) and
	// GET /flows/instances/{slug}/execute/ (authentik_flows.view_flow).
	// Nil serves none of them (404). The cancel endpoint, outside the
	// prefix, is the host's to mount (executor.Executor.CancelHandler).
	Executor *executor.Executor
	// ExecutorHTTP configures the executor's endpoints: the session (the
	// host's, or the executor's own cookie) and the request's user.
	ExecutorHTTP executor.HTTPOptions
	// RequestUser says which user makes a request, by pk, for the paths
	// that serve the requesting user's own authenticator devices
	// (/authenticators/{class}/ and /authenticators/all/): a host that
	// authenticates requests names the user here. An error denies the
	// request with 403 (as Authorize's do: an *AuthenticationFailed or
	// ErrNotAuthenticated give their messages). Nil answers those paths
	// 403, "Authentication credentials were not provided.". The admin
	// paths (/authenticators/admin/...) ask Authorize instead.
	RequestUser func(r *http.Request) (userPK int64, err error)
}

// NewHandler returns an http.Handler serving authentik's REST API for
// flows, bindings and stages under [Prefix], backed by s. Mount it on the
// host's mux at that prefix:
//
//	mux.Handle(api.Prefix, api.NewHandler(s, nil))
//
// Stage kinds are found through s.StageKinds(): every kind registered with a
// Path is served at /api/v3/stages/<Path>/. A nil opts means the defaults.
// The handler is safe for concurrent use.
func NewHandler(s *store.Store, opts *Options) http.Handler {
	h := &handler{s: s, reg: s.StageKinds(), maxBody: DefaultMaxBodyBytes}
	if opts != nil {
		h.authorize = opts.Authorize
		if opts.MaxBodyBytes > 0 {
			h.maxBody = opts.MaxBodyBytes
		}
		h.log = opts.ErrorLog
		h.creator = opts.Creator
		h.blueprint = opts.Blueprint
		h.planner = opts.Planner
		h.plans = opts.PlanCache
		h.exec, h.execOpts = opts.Executor, opts.ExecutorHTTP
		h.requestUser = opts.RequestUser
	}
	if h.exec != nil {
		h.execHTTP = h.exec.HTTPHandler(h.execOpts)
		h.inspector = h.exec.InspectorHandler(h.execOpts, func(r *http.Request, _ string) bool {
			return h.ask(r, permInspectFlow) == nil
		})
		h.duoEnroll = h.exec.DuoEnrollmentStatusHandler(h.execOpts)
	}
	if h.plans == nil {
		h.plans = plan.NewCache(s, plan.CacheOptions{Options: h.planner})
	}
	h.blueprint.DryRun = false
	h.fixed = collectionResources(s, map[string]func(*http.Request, any) any{
		store.ModelFlow:  h.withCacheCount,
		store.ModelStage: baseStage,
		store.ModelUser:  includeGroups,
		store.ModelGroup: includeUsers,
	})
	h.directoryActions()
	return h
}

type handler struct {
	s         *store.Store
	reg       *stage.Registry
	authorize func(*http.Request, string) error
	maxBody   int64
	log       *log.Logger
	creator   func(*http.Request) (int64, bool)
	// requestUser is Options.RequestUser.
	requestUser func(*http.Request) (int64, error)
	blueprint   blueprint.Options
	planner     plan.Options
	plans       *plan.Cache
	exec        *executor.Executor
	execOpts    executor.HTTPOptions
	execHTTP    http.Handler
	inspector   http.Handler
	duoEnroll   http.Handler

	// fixed are the collections at fixed paths (without the prefix and
	// the trailing slash); kinds are found through the registries.
	fixed map[string]*resource
}

// ServeHTTP routes a request to its collection, object or object action.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.serveExecutor(w, r) {
		return
	}
	switch r.URL.Path {
	case Prefix + pathStageTypes:
		h.serveTypes(w, r, "authentik_flows.view_stage", typesOf(h.reg.Kinds()))
		return
	case Prefix + pathPolicyTypes:
		h.serveTypes(w, r, "authentik_policies.view_policy", typesOf(h.s.PolicyKinds().Kinds()))
		return
	case Prefix + pathCountries:
		h.serveCountries(w, r)
		return
	case Prefix + pathImport:
		h.serveImport(w, r)
		return
	case Prefix + pathCacheInfo:
		h.serveCacheInfo(w, r)
		return
	case Prefix + pathCacheClear:
		h.serveCacheClear(w, r)
		return
	case Prefix + pathEmailTemplates:
		if k, ok := h.reg.ByPath("email"); ok && k.Model == stage.ModelEmail {
			h.serveEmailTemplates(w, r)
			return
		}
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, Prefix+"flows/instances/"); ok {
		slug, action, ok := strings.Cut(strings.TrimSuffix(rest, "/"), "/")
		if serve := flowActions[action]; ok && serve != nil && slug != "" && strings.HasSuffix(rest, "/") {
			serve(h, w, r, slug)
			return
		}
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, Prefix+pathAuthenticators); ok {
		h.serveAuthenticators(w, r, rest)
		return
	}
	res, key, at, act, ok := h.route(r.URL.Path)
	if !ok {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	switch at {
	case atObject:
		h.serveObject(w, r, res, key)
	case atUsedBy:
		h.serveUsedBy(w, r, res, key)
	case atAction:
		act(h, w, r, res, key)
	default:
		h.serveCollection(w, r, res)
	}
}

// flowActions serve the actions on one flow,
// /flows/instances/{slug}/{action}/, by action. used_by is not among
// them: it is every resource's, see route.
var flowActions = map[string]func(h *handler, w http.ResponseWriter, r *http.Request, slug string){
	"export":             (*handler).serveExport,
	"plan":               (*handler).servePlan,
	"diagram":            (*handler).serveDiagram,
	"set_background_url": (*handler).serveSetBackgroundURL,
	"set_background":     (*handler).serveSetBackground,
	"execute":            (*handler).serveExecute,
}

// target is what a path names: a collection, one of its objects, or an
// object's used_by action.
type target int

const (
	atCollection target = iota
	atObject
	atUsedBy
	// atAction is one of a resource's actions (see resource.actions and
	// resource.collectionActions).
	atAction
)

// actionUsedBy is the last segment of an object's used_by path.
const actionUsedBy = "used_by"

// route maps a path to its resource. For an object or its action, key is
// the object's path segment; for an action, act serves it. A path is
// first matched as a collection action (whose name no object key can be),
// then as a collection or an object (so that a flow whose slug is
// "used_by" is still found), and only then as an object's action.
func (h *handler) route(path string) (res *resource, key string, at target, act action, ok bool) {
	rest, found := strings.CutPrefix(path, Prefix)
	if !found || !strings.HasSuffix(rest, "/") {
		return nil, "", 0, nil, false
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return nil, "", 0, nil, false
	}
	if res, key, at, ok := h.routeObject(rest); ok {
		if a := res.collectionActions[key]; at == atObject && a != nil {
			return res, "", atAction, a, true
		}
		return res, key, at, nil, true
	}
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		obj, name := rest[:i], rest[i+1:]
		if res, key, at, ok := h.routeObject(obj); ok && at == atObject {
			if name == actionUsedBy {
				return res, key, atUsedBy, nil, true
			}
			if a := res.actions[name]; a != nil {
				return res, key, atAction, a, true
			}
		}
	}
	return nil, "", 0, nil, false
}

// routeObject maps a path without the prefix and the trailing slash to a
// collection or an object.
func (h *handler) routeObject(rest string) (res *resource, key string, at target, ok bool) {
	dir, last := rest, ""
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		dir, last = rest[:i], rest[i+1:]
	}
	if res, ok := h.fixed[rest]; ok {
		return res, "", atCollection, true
	}
	if res, ok := h.fixed[dir]; ok {
		return res, last, atObject, true
	}
	if res, key, at, ok := routeKind(h.reg.ByPath, "stages/", rest, dir, last); ok {
		return res, key, at, true
	}
	return routeKind(h.s.PolicyKinds().ByPath, "policies/", rest, dir, last)
}

// routeKind maps a path under root ("stages/") to a kind's collection or
// object.
func routeKind[C kind.Config](byPath func(string) (kind.Kind[C], bool), root, rest, dir, last string) (res *resource, key string, at target, ok bool) {
	kindPath, found := strings.CutPrefix(rest, root)
	if !found {
		return nil, "", 0, false
	}
	if k, ok := byPath(kindPath); ok {
		return kindResource(k), "", atCollection, true
	}
	if kindDir, isObj := strings.CutPrefix(dir, root); isObj {
		if k, ok := byPath(kindDir); ok {
			return kindResource(k), last, atObject, true
		}
	}
	return nil, "", 0, false
}
