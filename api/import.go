package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/store"
)

// pathImport is authentik's flow import: a blueprint uploaded as the
// multipart field "file".
const pathImport = "flows/instances/import/"

// importPerms are the permissions an import needs, as in authentik.
var importPerms = []string{
	"authentik_flows.add_flow", "authentik_flows.change_flow",
	"authentik_flows.add_flowstagebinding", "authentik_flows.change_flowstagebinding",
	"authentik_flows.add_stage", "authentik_flows.change_stage",
	"authentik_policies.add_policy", "authentik_policies.change_policy",
	"authentik_policies.add_policybinding", "authentik_policies.change_policybinding",
	"authentik_stages_prompt.add_prompt", "authentik_stages_prompt.change_prompt",
}

// importResult is authentik's FlowImportResult.
type importResult struct {
	Logs    []blueprint.LogEvent `json:"logs"`
	Success bool                 `json:"success"`
}

// serveImport answers POST /flows/instances/import/: the uploaded
// blueprint is imported in one transaction, or not at all. The answer is
// 200 with the import's result, as authentik's: "success" true and the
// import's events, or false with every error of the document, each naming
// its entry and field, and nothing written. A document that cannot be
// read is a failed import too (authentik answers 500), with one event
// saying why. Only a request without a file is a 400, as in authentik.
func (h *handler) serveImport(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, "POST")
		return
	}
	for _, p := range importPerms {
		if !h.allowed(w, r, p) {
			return
		}
	}
	if r.ContentLength > h.maxBody {
		h.tooLarge(w)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
	fail := func(status int, event string) {
		logs := []blueprint.LogEvent{}
		if event != "" {
			logs = append(logs, blueprint.LogEvent{LogLevel: "error", Event: event, Logger: "authflow.blueprint",
				Timestamp: time.Now().UTC().Format(time.RFC3339Nano), Attributes: map[string]any{}})
		}
		writeJSON(w, status, importResult{Logs: logs, Success: false})
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.tooLarge(w)
			return
		}
		fail(http.StatusBadRequest, "")
		return
	}
	defer f.Close()
	bp, err := blueprint.Parse(f, h.blueprint.Limits)
	if err != nil {
		fail(http.StatusOK, err.Error())
		return
	}
	opts := h.blueprint
	opts.Actor = h.actor(r)
	res, err := blueprint.Apply(r.Context(), h.s, bp, opts)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, importResult{Logs: res.Logs, Success: res.Success})
}

// serveExport answers GET /flows/instances/{slug}/export/: the flow as
// authentik's seed-era export writes it (see blueprint.Export), as a YAML
// attachment named after the slug.
func (h *handler) serveExport(w http.ResponseWriter, r *http.Request, slug string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET, HEAD")
		return
	}
	if !h.allowed(w, r, "authentik_flows.export_flow") {
		return
	}
	var out []byte
	err := h.s.View(r.Context(), func(tx *store.Tx) error {
		var err error
		out, err = blueprint.Export(tx, slug, time.Now())
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+slug+`.yaml"`)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(out)
	}
}
