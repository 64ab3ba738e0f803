package api

import (
	"errors"
	"log"
	"net/http"
	"strings"

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
	// ErrorLog receives internal errors (those answered with 500), which
	// never appear in a response. Nil means the log package's standard
	// logger.
	ErrorLog *log.Logger
}

// NewHandler returns an http.Handler serving authentik's REST API for
// flows, bindings and stages under [Prefix], backed by s. Mount it on the
// host's mux at that prefix:
//
//	mux.Handle(api.Prefix, api.NewHandler(s, nil))
//
// Stage kinds are found through s.Registry(): every kind registered with a
// Path is served at /api/v3/stages/<Path>/. A nil opts means the defaults.
// The handler is safe for concurrent use.
func NewHandler(s *store.Store, opts *Options) http.Handler {
	h := &handler{s: s, reg: s.Registry(), maxBody: DefaultMaxBodyBytes}
	if opts != nil {
		h.authorize = opts.Authorize
		if opts.MaxBodyBytes > 0 {
			h.maxBody = opts.MaxBodyBytes
		}
		h.log = opts.ErrorLog
	}
	h.flows = flowResource(s)
	h.bindings = bindingResource(s)
	h.allStages = allStagesResource(s)
	return h
}

type handler struct {
	s         *store.Store
	reg       *stage.Registry
	authorize func(*http.Request, string) error
	maxBody   int64
	log       *log.Logger

	flows, bindings, allStages *resource
}

// ServeHTTP routes a request to its collection or object.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	res, key, detail, ok := h.route(r.URL.Path)
	if !ok {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	if detail {
		h.serveObject(w, r, res, key)
	} else {
		h.serveCollection(w, r, res)
	}
}

// route maps a path to its resource. detail is true for an object path,
// whose last segment is key.
func (h *handler) route(path string) (res *resource, key string, detail, ok bool) {
	rest, found := strings.CutPrefix(path, Prefix)
	if !found || !strings.HasSuffix(rest, "/") {
		return nil, "", false, false
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return nil, "", false, false
	}
	dir, last := rest, ""
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		dir, last = rest[:i], rest[i+1:]
	}
	switch {
	case rest == "flows/instances":
		return h.flows, "", false, true
	case dir == "flows/instances":
		return h.flows, last, true, true
	case rest == "flows/bindings":
		return h.bindings, "", false, true
	case dir == "flows/bindings":
		return h.bindings, last, true, true
	case rest == "stages/all":
		return h.allStages, "", false, true
	case dir == "stages/all":
		return h.allStages, last, true, true
	}
	kindPath, isStage := strings.CutPrefix(rest, "stages/")
	if !isStage {
		return nil, "", false, false
	}
	if k, ok := h.reg.ByPath(kindPath); ok {
		return stageResource(h.s, k), "", false, true
	}
	if kindDir, isObj := strings.CutPrefix(dir, "stages/"); isObj {
		if k, ok := h.reg.ByPath(kindDir); ok {
			return stageResource(h.s, k), last, true, true
		}
	}
	return nil, "", false, false
}
