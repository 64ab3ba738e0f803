package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"

	"github.com/authflow/authflow/internal/kind"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
)

// The /types/ lists of the kinds that can be created, and the GeoIP
// country list.
const (
	pathStageTypes  = "stages/all/types/"
	pathPolicyTypes = "policies/all/types/"
	pathCountries   = "policies/geoip_iso3166/"
	// pathEmailTemplates is authentik's list of the templates an email
	// stage can send.
	pathEmailTemplates = "stages/email/templates/"
)

// typeCreate is one entry of a /types/ list (authentik's TypeCreate).
// IconURL is what authentik sends as icon_url: null for a kind (no stage
// or policy kind has an icon; authentik's own schema calls it a string,
// but its generated clients read the null), and nothing at all for an
// email template, whose entry authentik builds without the key.
type typeCreate struct {
	Name               string          `json:"name"`
	Description        string          `json:"description"`
	Component          string          `json:"component"`
	ModelName          string          `json:"model_name"`
	IconURL            json.RawMessage `json:"icon_url,omitempty"`
	RequiresEnterprise bool            `json:"requires_enterprise"`
}

// noIcon is the icon_url of a kind: null.
var noIcon = json.RawMessage("null")

// typesOf lists the kinds the API serves, by verbose name, except
// debugging kinds (Kind.Debug), as authentik leaves them out without
// DEBUG.
func typesOf[C kind.Config](ks []kind.Kind[C]) []typeCreate {
	out := []typeCreate{}
	for _, k := range ks {
		if k.Path == "" || k.Debug {
			continue
		}
		out = append(out, typeCreate{Name: k.VerboseName, Description: k.Description, Component: k.Component,
			ModelName: k.Model.Model(), IconURL: noIcon, RequiresEnterprise: k.Enterprise})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// serveTypes answers GET of a /types/ list. As in authentik it needs
// authentication only, no permission: Options.Authorize is asked for
// perm and only an ErrNotAuthenticated answer refuses the request.
func (h *handler) serveTypes(w http.ResponseWriter, r *http.Request, perm string, types []typeCreate) {
	if !h.typesRequest(w, r, perm) {
		return
	}
	writeJSON(w, http.StatusOK, types)
}

// serveCountries answers GET /policies/geoip_iso3166/: every ISO 3166-1
// country, unpaginated. authentik allows anyone; so does authflow.
func (h *handler) serveCountries(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET, HEAD")
		return
	}
	writeJSON(w, http.StatusOK, policy.Countries)
}

// serveEmailTemplates answers GET /stages/email/templates/: the built-in
// templates (stage.EmailTemplates), each as authentik sends it, a
// TypeCreate whose name is the path, description the label, and component
// and model_name empty. authflow has no custom templates. It needs
// authentication only, as /stages/all/types/ does.
func (h *handler) serveEmailTemplates(w http.ResponseWriter, r *http.Request) {
	out := make([]typeCreate, 0, len(stage.EmailTemplates))
	for _, t := range stage.EmailTemplates {
		out = append(out, typeCreate{Name: t.Name, Description: t.Description})
	}
	h.serveTypes(w, r, "authentik_stages_email.view_emailstage", out)
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
