package api

import (
	"errors"
	"net/http"
	"sort"
)

// pathStageTypes is authentik's list of the stage kinds that can be
// created.
const pathStageTypes = "stages/all/types/"

// typeCreate is one entry of a /types/ list (authentik's TypeCreate).
// authentik also sends "icon_url": null, which its own schema does not
// allow (a string); authflow leaves the key out.
type typeCreate struct {
	Name               string `json:"name"`
	Description        string `json:"description"`
	Component          string `json:"component"`
	ModelName          string `json:"model_name"`
	RequiresEnterprise bool   `json:"requires_enterprise"`
}

// serveStageTypes answers GET /stages/all/types/: every kind the API
// serves, by verbose name, except debugging kinds (stage.Kind.Debug). As in authentik it needs authentication only,
// no permission: Options.Authorize is asked for authentik_flows.view_stage
// and only an ErrNotAuthenticated answer refuses the request.
func (h *handler) serveStageTypes(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET, HEAD")
		return
	}
	if err := h.ask(r, "authentik_flows.view_stage"); errors.Is(err, ErrNotAuthenticated) {
		h.deny(w, err)
		return
	}
	out := []typeCreate{}
	for _, k := range h.reg.Kinds() {
		if k.Path == "" || k.Debug {
			continue // not served over HTTP, or authentik's DEBUG-only kinds
		}
		out = append(out, typeCreate{Name: k.VerboseName, Description: k.Description, Component: k.Component,
			ModelName: k.Model.Model(), RequiresEnterprise: k.Enterprise})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	writeJSON(w, http.StatusOK, out)
}
