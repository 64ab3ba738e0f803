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

// directoryImportPerms are what an import needs besides importPerms
// when its document has user or group entries (or may apply other
// documents that have them): a user entry sets a password, and a group
// entry may make its members superusers, which the API itself allows
// only with these permissions. authentik's import asks for none of them;
// authflow refuses an import that would grant more than its caller could
// through the users and groups endpoints.
var directoryImportPerms = []string{
	"authentik_core.add_user", "authentik_core.change_user", "authentik_core.reset_user_password",
	"authentik_core.add_group", "authentik_core.change_group",
	"authentik_core.enable_group_superuser", "authentik_core.disable_group_superuser",
}

// touchesDirectory reports whether bp has a user or group entry, or an
// entry that applies another blueprint from dir (whose entries are not
// known before it is applied).
func touchesDirectory(bp *blueprint.Blueprint, dir string) bool {
	for _, e := range bp.Entries {
		switch e.Model {
		case store.ModelUser, store.ModelGroup:
			return true
		case "authentik_blueprints.metaapplyblueprint":
			if dir != "" {
				return true
			}
		}
	}
	return false
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
	if touchesDirectory(bp, h.blueprint.Dir) {
		for _, p := range directoryImportPerms {
			if !h.allowed(w, r, p) {
				return
			}
		}
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
