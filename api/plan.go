package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

// servePlan answers POST /flows/instances/{slug}/plan/, an authflow
// extension: the plan the flow would make for the described request, and
// its trace, writing nothing. A plan with no stages is not applicable,
// with the reason as its message; a policy whose kind has no evaluator
// is a 400 naming it, and so is a user pk the directory does not hold
// or facts given for a user without a pk (the planner reads a user's
// groups, superuser status and attributes from the directory).
func (h *handler) servePlan(w http.ResponseWriter, r *http.Request, slug string) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, "POST")
		return
	}
	if !h.allowed(w, r, "authentik_flows.view_flow") {
		return
	}
	body, ok := h.body(w, r, false)
	if !ok {
		return
	}
	req, err := plan.ParseRequest(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, validate.NonFieldError(strings.TrimPrefix(err.Error(), "plan: request: ")))
		return
	}
	p, err := h.plans.Make(r.Context(), slug, req)
	if errors.Is(err, plan.ErrEmptyFlow) {
		msg := err.Error()
		err = h.s.View(r.Context(), func(tx *store.Tx) error {
			f, err := store.Flows.Get(tx, store.By("slug", slug))
			p = plan.Plan{DeniedAction: string(f.DeniedAction), Messages: []string{msg}, Stages: []plan.Stage{}, Trace: []plan.Step{}}
			return err
		})
	}
	if errors.Is(err, plan.ErrNoEvaluator) || errors.Is(err, plan.ErrUnknownUser) {
		writeJSON(w, http.StatusBadRequest, validate.NonFieldError(err.Error()))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// serveDiagram answers GET /flows/instances/{slug}/diagram/ with
// authentik's Mermaid drawing of the flow (plan.Diagram), or with
// ?semantics=planner (an authflow extension) the planner's own
// (plan.PlannerDiagram).
func (h *handler) serveDiagram(w http.ResponseWriter, r *http.Request, slug string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET, HEAD")
		return
	}
	if !h.allowed(w, r, "authentik_flows.view_flow") {
		return
	}
	var d string
	err := h.s.View(r.Context(), func(tx *store.Tx) error {
		var err error
		if r.URL.Query().Get("semantics") == "planner" {
			d, err = plan.PlannerDiagram(tx, slug)
		} else {
			d, err = plan.Diagram(tx, slug)
		}
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Diagram string `json:"diagram"`
	}{d})
}

// The flow plan cache's endpoints.
const (
	pathCacheInfo  = "flows/instances/cache_info/"
	pathCacheClear = "flows/instances/cache_clear/"
)

// serveCacheInfo answers GET /flows/instances/cache_info/ with
// {"count": n}, the plans in the cache.
func (h *handler) serveCacheInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET, HEAD")
		return
	}
	if !h.allowed(w, r, "authentik_flows.view_flow_cache") {
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": h.plans.Len()})
}

// serveCacheClear answers POST /flows/instances/cache_clear/: it empties
// the cache, 204.
func (h *handler) serveCacheClear(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, "POST")
		return
	}
	if !h.allowed(w, r, "authentik_flows.clear_flow_cache") {
		return
	}
	h.plans.Clear()
	w.WriteHeader(http.StatusNoContent)
}
