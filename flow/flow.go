package flow

import (
	"strings"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// DefaultBackground is the background URL of a flow that has none set.
const DefaultBackground = "/static/dist/assets/images/flow_background.jpg"

// Flow is a stored flow: authentik's Flow model. Its JSON form is the one
// the store persists; the API representation, with computed fields, is
// [View].
type Flow struct {
	// PK is the flow's own id (authentik's flow_uuid).
	PK uuid.UUID `json:"pk" af:"readonly"`
	// PolicyBindingModelPtrID is the id of the policy-binding parent row,
	// generated independently of PK.
	PolicyBindingModelPtrID uuid.UUID `json:"policybindingmodel_ptr_id" af:"readonly"`
	Name                    string    `json:"name" af:"required"`
	// Slug is unique (case-sensitive), at most 50 characters of
	// [-a-zA-Z0-9_], and is the flow's key in URLs.
	Slug        string      `json:"slug" af:"required"`
	Title       string      `json:"title" af:"required"`
	Designation Designation `json:"designation" af:"required"`
	// Background is the stored background name or URL; "" means the
	// default. It is read-only in writes: set it with [Flow.SetBackgroundURL].
	// The representation shows [Flow.BackgroundURL] instead.
	Background        string           `json:"background" af:"readonly"`
	PolicyEngineMode  PolicyEngineMode `json:"policy_engine_mode"`
	CompatibilityMode bool             `json:"compatibility_mode"`
	Layout            Layout           `json:"layout"`
	DeniedAction      DeniedAction     `json:"denied_action"`
	Authentication    Authentication   `json:"authentication"`
}

// Defaults returns a Flow with authentik's defaults for every optional
// field and nothing else set.
func Defaults() Flow {
	return Flow{
		PolicyEngineMode: PolicyEngineModeAny,
		Layout:           LayoutStacked,
		DeniedAction:     DeniedActionMessageContinue,
		Authentication:   AuthenticationNone,
	}
}

// New returns a Flow with the four required fields set and the defaults
// for the rest.
func New(name, slug, title string, d Designation) Flow {
	f := Defaults()
	f.Name, f.Slug, f.Title, f.Designation = name, slug, title, d
	return f
}

// Validate checks the field rules, with authentik's messages. It returns
// invopop/validation errors; convert them with [validate.From].
func (f Flow) Validate() error {
	// validation.Errors by JSON name is what ValidateStruct builds, without
	// its reflection, and made only when a rule fails.
	var errs validation.Errors
	check := func(name string, err error) {
		if err != nil {
			if errs == nil {
				errs = validation.Errors{}
			}
			errs[name] = err
		}
	}
	check("name", validate.Text(f.Name, validate.NotBlank))
	check("slug", validate.Text(f.Slug, validate.NotBlank, slugRule))
	check("title", validate.Text(f.Title, validate.NotBlank))
	check("designation", validate.Text(f.Designation, designationRule))
	check("policy_engine_mode", validate.Text(f.PolicyEngineMode, policyEngineModeRule))
	check("layout", validate.Text(f.Layout, layoutRule))
	check("denied_action", validate.Text(f.DeniedAction, deniedActionRule))
	check("authentication", validate.Text(f.Authentication, authenticationRule))
	if errs == nil {
		return nil
	}
	return errs
}

// The field rules, built once.
var (
	slugRule             = validate.All(validate.MaxLen(50), validate.Slug)
	designationRule      = validate.Choice(Designations...)
	policyEngineModeRule = validate.Choice(PolicyEngineModes...)
	layoutRule           = validate.Choice(Layouts...)
	deniedActionRule     = validate.Choice(DeniedActions...)
	authenticationRule   = validate.Choice(Authentications...)
)

// String is authentik's str(): "Flow <name> (<slug>)".
func (f Flow) String() string { return "Flow " + f.Name + " (" + f.Slug + ")" }

// BackgroundURL is the computed background of the seed era: the default
// image when none is set, the stored value as it is when it starts with
// "http" or "/static", and otherwise the file under /media/public/.
func (f Flow) BackgroundURL() string {
	switch {
	case f.Background == "":
		return DefaultBackground
	case strings.HasPrefix(f.Background, "http"), strings.HasPrefix(f.Background, "/static"):
		return f.Background
	default:
		return "/media/public/" + f.Background
	}
}

// MaxBackgroundLength bounds a background: authentik keeps it in a file
// field of at most 500 characters.
const MaxBackgroundLength = 500

// BackgroundRequest is the body of authentik's set_background_url action,
// {"url": "..."}: url is required, "" restores the default, and it holds
// at most MaxBackgroundLength characters.
type BackgroundRequest struct {
	URL string `json:"url" af:"required,blank"`
}

var backgroundRule = validate.MaxLen(MaxBackgroundLength)

// Validate checks the length of the url.
func (b BackgroundRequest) Validate() error {
	if err := validate.Text(b.URL, backgroundRule); err != nil {
		return validation.Errors{"url": err}
	}
	return nil
}

// DecodeBackgroundRequest reads a set_background_url body and returns its
// url. The error is a [*validate.Error] for rejected input ({"url": ["This
// field is required."]} when the key is missing), or one wrapping
// [validate.ErrSyntax] for a body that is not JSON.
func DecodeBackgroundRequest(body []byte) (string, error) {
	req, err := validate.Apply(BackgroundRequest{}, body, validate.Create, nil)
	return req.URL, err
}

// SetBackgroundURL stores url verbatim as the background, as authentik's
// set_background_url action does; "" restores the default. A url longer
// than MaxBackgroundLength is a [*validate.Error] on "url", and f is left
// as it was.
func (f *Flow) SetBackgroundURL(url string) error {
	if err := (BackgroundRequest{URL: url}).Validate(); err != nil {
		ve, _ := validate.From(err)
		return ve
	}
	f.Background = url
	return nil
}

// ExportURL is the relative URL of the flow's blueprint export.
func (f Flow) ExportURL() string { return "/api/v3/flows/instances/" + f.Slug + "/export/" }

// representation keys that are computed, and so ignored on input.
var computed = validate.Keys("stages", "policies", "cache_count", "export_url")

// Decode applies body to cur as op (see [validate.Apply]) and runs the field
// rules. The error is a [*validate.Error] for rejected input. The store
// adds its own checks (slug uniqueness) before keeping the result.
func Decode(cur Flow, body []byte, op validate.Op) (Flow, error) {
	next, err := validate.Apply(cur, body, op, computed)
	next.PK, next.PolicyBindingModelPtrID, next.Background = cur.PK, cur.PolicyBindingModelPtrID, cur.Background
	return next, err
}

// ApplyPatch applies an RFC 7396 merge patch to the writable representation
// of cur and validates the result. cur is not modified. Read-only keys
// (pk, stages, export_url, ...) are ignored; unknown keys are errors.
func ApplyPatch(cur Flow, patch []byte) (Flow, error) {
	return Decode(cur, patch, validate.Patch)
}
