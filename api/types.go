package api

import (
	"errors"
	"net/http"
	"sort"

	"github.com/authflow/authflow/stage"
)

// pathStageTypes is authentik's list of the stage kinds that can be
// created.
const pathStageTypes = "stages/all/types/"

// pathEmailTemplates is authentik's list of the templates an email stage
// can send.
const pathEmailTemplates = "stages/email/templates/"

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
	if !h.typesRequest(w, r, "authentik_flows.view_stage") {
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

// serveEmailTemplates answers GET /stages/email/templates/: the built-in
// templates (stage.EmailTemplates), each as authentik sends it, a
// TypeCreate whose name is the path, description the label, and component
// and model_name empty. authflow has no custom templates. It needs
// authentication only, as /stages/all/types/ does.
func (h *handler) serveEmailTemplates(w http.ResponseWriter, r *http.Request) {
	if !h.typesRequest(w, r, "authentik_stages_email.view_emailstage") {
		return
	}
	out := make([]typeCreate, 0, len(stage.EmailTemplates))
	for _, t := range stage.EmailTemplates {
		out = append(out, typeCreate{Name: t.Name, Description: t.Description})
	}
	writeJSON(w, http.StatusOK, out)
}

// typesRequest admits a GET or HEAD from an authenticated caller, asking
// Options.Authorize for perm and refusing only on ErrNotAuthenticated, and
// answers anything else. It reports whether the request may go on.
func (h *handler) typesRequest(w http.ResponseWriter, r *http.Request, perm string) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET, HEAD")
		return false
	}
	if err := h.ask(r, perm); errors.Is(err, ErrNotAuthenticated) {
		h.deny(w, err)
		return false
	}
	return true
}
