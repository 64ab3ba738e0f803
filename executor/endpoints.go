package executor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// Paths of the endpoints around the executor.
const (
	// InspectorPath is authentik's flow inspector:
	// GET InspectorPath + "{slug}/".
	InspectorPath = "/api/v3/flows/inspector/"
	// InvalidationURL is where the cancel endpoint redirects, as
	// authentik's does: DefaultFlowHandler's redirect to the brand's
	// invalidation flow.
	InvalidationURL = "/flows/-/default/invalidation/"
	// FlowInterfacePath is the page of authentik's flow interface, which
	// execute links to: FlowInterfacePath + "{slug}/". Package flowui
	// serves it.
	FlowInterfacePath = "/if/flow/"
	// MsgNotApplicableExecute prefixes execute's 400 (authentik's words).
	MsgNotApplicableExecute = "Flow not applicable to current user/request: "
)

// NotApplicableError is a plan that Execute found denied; Messages are
// its policies' messages joined by newlines, or MsgNotApplicable.
type NotApplicableError struct{ Messages string }

func (e *NotApplicableError) Error() string { return MsgNotApplicableExecute + e.Messages }

// Cancel drops the session's executions, of every flow, as authentik's
// /flows/-/cancel/ drops the session's plan. The inspector's history is
// kept, as authentik keeps it.
func (e *Executor) Cancel(ctx context.Context, session string) error {
	if session == "" {
		return ErrNoSession
	}
	slugs, err := e.flowSlugs(ctx)
	if err != nil {
		return err
	}
	for _, slug := range slugs {
		key := ExecutionKey(session, slug)
		if _, err := e.rs.Load(ctx, Executions, key); errors.Is(err, ErrNotFound) {
			continue
		}
		if err := e.rs.Delete(ctx, Executions, key); err != nil {
			return err
		}
	}
	return nil
}

// flowSlugs are the slugs of every flow of the store, for the walks
// over a session's executions (one per flow).
func (e *Executor) flowSlugs(ctx context.Context) ([]string, error) {
	var slugs []string
	err := e.s.View(ctx, func(tx *store.Tx) error {
		for page := 1; page != 0; {
			p, err := store.Flows.List(tx, store.Query{Page: page, PageSize: 1000})
			if err != nil {
				return err
			}
			for _, f := range p.Results {
				slugs = append(slugs, f.Slug)
			}
			page = p.Pagination.Next
		}
		return nil
	})
	return slugs, err
}

// Execute plans the flow with slug now for the request's user (the
// context's pending_user, when the request has one) and keeps it as the
// session's execution of the flow, replacing any, so that the next Get
// answers its first stage: authentik's flows/instances/{slug}/execute/. It
// clears the session's inspector history of the flow. It fails with
// ErrUnknownFlow, or with a *NotApplicableError when the plan is denied.
func (e *Executor) Execute(ctx context.Context, slug string, req Request) error {
	if req.Session == "" {
		return ErrNoSession
	}
	req.HTTP = e.withBrand(req.HTTP)
	r := &run{e: e, ctx: ctx, req: req, key: ExecutionKey(req.Session, slug)}
	var pending map[string]any
	err := e.s.View(ctx, func(tx *store.Tx) error {
		var err error
		if r.f, err = store.Flows.Get(tx, store.By("slug", slug)); err != nil {
			return err
		}
		if req.User.PK == 0 || !req.User.Authenticated {
			return nil
		}
		u, err := store.Users.Get(tx, store.By("pk", strconv.FormatInt(req.User.PK, 10)))
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		pending = directory.ContextUser(u)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %q", ErrUnknownFlow, slug)
	}
	if err != nil {
		return err
	}
	e.hist.clear(r.key)
	ctxm := map[string]any{}
	if pending != nil {
		ctxm[directory.ContextPendingUser] = pending
	}
	p, err := r.planFor(ctxm)
	switch {
	case errors.Is(err, plan.ErrEmptyFlow):
	case err != nil:
		return err
	case !p.Applicable:
		msg := strings.Join(p.Messages, "\n")
		if msg == "" {
			msg = MsgNotApplicable
		}
		return &NotApplicableError{Messages: msg}
	}
	r.updates = p.Updates
	r.ex = &execution{Flow: r.f.PK, Context: ctxm, Query: req.Query, Stages: p.Stages}
	if err := e.rs.Delete(ctx, Executions, r.key); err != nil {
		return err
	}
	_, err = r.save(Response{})
	return err
}

// Designation returns the designation of the flow with slug, as a host
// asks before it shows the flow's page (a flow of DesignationUnenrollment
// deletes its user at its first GET); it fails with ErrUnknownFlow for an
// unknown slug.
func (e *Executor) Designation(ctx context.Context, slug string) (flow.Designation, error) {
	var f flow.Flow
	err := e.s.View(ctx, func(tx *store.Tx) error {
		var err error
		f, err = e.conf.flow(tx, slug)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%w: %q", ErrUnknownFlow, slug)
	}
	return f.Designation, err
}

// Running says whether the session has an execution of the flow with
// slug under way: one a Get or Execute started that has not ended,
// been cancelled or expired. A host that starts a flow for its user
// (Execute) when it has none, as its page is opened, asks it first.
func (e *Executor) Running(ctx context.Context, slug, session string) (bool, error) {
	if session == "" {
		return false, nil
	}
	_, err := e.loadExecution(ctx, ExecutionKey(session, slug))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrExpired):
		return false, nil
	}
	return false, err
}

// CancelHandler serves authentik's GET /flows/-/cancel/ (CancelURL, every
// challenge's cancel_url): it drops the session's executions (Cancel) and
// redirects (302) to InvalidationURL. The session is found as
// HTTPHandler finds it, with the same options; a request without one
// changes nothing. Other methods are 405.
func (e *Executor) CancelHandler(o HTTPOptions) http.Handler {
	h := e.httpSessions(o)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !getOnly(w, r) {
			return
		}
		if session := h.existing(r); session != "" {
			if err := e.Cancel(r.Context(), session); err != nil {
				h.fail(w, "", err)
				return
			}
		}
		http.Redirect(w, r, InvalidationURL, http.StatusFound)
	})
}

// ExecuteHandler serves authentik's GET
// /api/v3/flows/instances/{slug}/execute/ for the flow slug (the caller
// routes and authorizes): 200 {"link": absolute URL of
// FlowInterfacePath+slug+"/"} after Execute, 404 for an unknown flow, 403
// (MsgCrossOrigin) from another origin, as HTTPHandler, and
// 400 {"detail": "Flow not applicable to current user/request: …"} for a
// denied plan (authentik answers an HTML error page).
func (e *Executor) ExecuteHandler(o HTTPOptions, slug string) http.Handler {
	h := e.httpSessions(o)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// It replaces the session's execution: not from another site.
		if err := h.crossOrigin(r); err != nil {
			writeJSON(w, http.StatusForbidden, map[string]string{"detail": fmt.Sprintf(MsgCrossOrigin, r.Header.Get("Sec-Fetch-Site"))})
			return
		}
		session, _ := h.session(w, r)
		req := Request{Session: session, HTTP: httpRequest(r)}
		err := h.user(r, &req)
		if err == nil {
			err = e.Execute(r.Context(), slug, req)
		}
		var na *NotApplicableError
		switch {
		case errors.Is(err, ErrUnknownFlow):
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
		case errors.As(err, &na):
			writeJSON(w, http.StatusBadRequest, map[string]string{"detail": na.Error()})
		case err != nil:
			h.fail(w, slug, err)
		default:
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			writeJSON(w, http.StatusOK, map[string]string{"link": scheme + "://" + r.Host + FlowInterfacePath + slug + "/"})
		}
	})
}

// InspectorHandler serves authentik's GET
// /api/v3/flows/inspector/{slug}/ (InspectorPath): 200 with the
// session's Inspection, 400 with an empty body when the session has no
// plan of the flow, and 404 for an unknown flow. allow says whether the
// request may inspect the flow (authentik's inspect_flow permission, or
// DEBUG); when it says no, the answer is 404, as authentik's. A nil
// allow refuses every request.
func (e *Executor) InspectorHandler(o HTTPOptions, allow func(r *http.Request, slug string) bool) http.Handler {
	h := e.httpSessions(o)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, InspectorPath)
		slug, ok2 := strings.CutSuffix(rest, "/")
		if !ok || !ok2 || slug == "" || strings.Contains(slug, "/") || allow == nil || !allow(r, slug) {
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
			return
		}
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": `Method "` + r.Method + `" not allowed.`})
			return
		}
		w.Header()["X-Frame-Options"] = sameOrigin
		got, err := Inspection{}, ErrNoPlan
		if session := h.existing(r); session != "" {
			got, err = e.Inspect(r.Context(), slug, session)
		}
		switch {
		case errors.Is(err, ErrUnknownFlow):
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
		case errors.Is(err, ErrNoPlan):
			w.WriteHeader(http.StatusBadRequest)
		case err != nil:
			h.fail(w, slug, err)
		default:
			writeJSON(w, http.StatusOK, got)
		}
	})
}

// httpSessions finds sessions as HTTPHandler does, with o's defaults.
func (e *Executor) httpSessions(o HTTPOptions) *HTTPSessions { return e.HTTPSessions(o) }

// existing returns the request's session without making one: the host's,
// or the cookie's when it is one the handler could have made.
func (h *HTTPSessions) existing(r *http.Request) string {
	if h.o.Session != nil {
		return h.o.Session(r)
	}
	if v, ok := h.sessionCookie(r); ok && validSessionID(v) {
		return v
	}
	return ""
}

// fail answers an unexpected error as the executor does: a 500 with a
// request id, the error only in the system_exception event.
func (h *HTTPSessions) fail(w http.ResponseWriter, slug string, err error) {
	id := h.FlowError(slug, err).RequestID
	w.Header().Set("X-authentik-id", id)
	writeJSON(w, http.StatusInternalServerError, map[string]string{"detail": "internal error", "request_id": id})
}

// getOnly answers 405 to a request that is not a GET or HEAD, and says
// whether it is one.
func getOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": `Method "` + r.Method + `" not allowed.`})
	return false
}

// toFlowPage redirects (302) to the page of flow slug
// (FlowInterfacePath), keeping r's query string.
func toFlowPage(w http.ResponseWriter, r *http.Request, slug string) {
	to := FlowInterfacePath + url.PathEscape(slug) + "/"
	if r.URL.RawQuery != "" {
		to += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", to)
	w.WriteHeader(http.StatusFound)
}

// newRequestID is a request id as authentik's: a UUID's hex.
func newRequestID() string { return strings.ReplaceAll(uuid.NewString(), "-", "") }
