package plan

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
)

// HTTPRequest is what policies see of the HTTP request a flow runs in:
// authentik's http_request. The executor sets it; a plan made outside
// one (the API's plan endpoint, "authflow plan") may give it in its
// request's JSON as "http_request" or leave it out, and a policy that
// reads an absent one fails, naming it.
type HTTPRequest struct {
	// Method and Path are the request's ("GET", "/if/flow/x/").
	Method string `json:"method"`
	Path   string `json:"path"`
	// Query is the parsed query string: http_request.GET.
	Query url.Values `json:"query"`
	// Header holds the request's headers, in canonical form.
	Header http.Header `json:"headers"`
	// ClientIP is the client's address as the host determined it
	// (behind its trusted proxies): ak_client_ip. The zero Addr means
	// unknown, which authentik shows as 255.255.255.255.
	ClientIP netip.Addr `json:"client_ip"`
	// Tenant is the installation's settings that expressions read
	// (http_request.tenant); nil means authentik's defaults
	// (DefaultTenant).
	Tenant *Tenant `json:"tenant,omitempty"`
	// BrandAttributes are the current brand's attributes, merged first
	// by user.group_attributes(http_request) (DIRECTORY.md §2.2); nil
	// for none.
	BrandAttributes map[string]any `json:"brand_attributes,omitempty"`
}

// Tenant holds the settings of authentik's tenant that expressions read
// through http_request.tenant.
type Tenant struct {
	DefaultUserChangeName     bool `json:"default_user_change_name"`
	DefaultUserChangeEmail    bool `json:"default_user_change_email"`
	DefaultUserChangeUsername bool `json:"default_user_change_username"`
}

// DefaultTenant returns authentik 2025.6's defaults
// (tenants/models.py:59-67): users may change their name, not their
// email address or username.
func DefaultTenant() Tenant {
	return Tenant{DefaultUserChangeName: true}
}

// FlowPlan is the plan a policy is evaluated in, which it may change:
// authentik's context["flow_plan"]. The planner gives one to the
// policies of the bindings it evaluates while planning; the executor to
// those it evaluates when a stage is reached. A flow's own policies are
// evaluated before there is a plan and have none (nil), as in authentik.
type FlowPlan interface {
	// Redirect inserts a redirect to the URL as the plan's next stage
	// (flow_plan.redirect, planner.py:84-88).
	Redirect(to string)
}

// Update is a write to the store that a policy asks for and a plan
// cannot make, as it reads through one read transaction: authentik's
// initial-setup flow marks itself used through Django's ORM
// (Flow.objects.filter(slug=...).update(authentication=...)). The
// planner collects them in Plan.Updates; the executor applies them with
// ApplyUpdates once the step that planned them has committed.
type Update struct {
	// Policy names the policy that asked for it.
	Policy string `json:"policy"`
	// Model is the model written: store.ModelFlow, "authentik_flows.flow",
	// the only one ApplyUpdates writes (UpdateFields).
	Model string `json:"model"`
	// Filter selects the objects by field, exactly; Set is the fields
	// written. Both name fields as the store's JSON form does ("pk",
	// "slug", "authentication"), with their JSON values.
	Filter map[string]any `json:"filter"`
	Set    map[string]any `json:"set"`
}

// CallPolicy is how an evaluator evaluates another policy by name
// (authentik's ak_call_policy): with req (whose Context the caller has
// filled), under a binding with authentik's defaults (not negated,
// failure_result false), so that an error is a failing Result with the
// error's text, not an error. The called policy runs within ctx, the
// caller's: the planner gives it no timeout of its own (authentik's
// default binding timeout, 30 s, is never enforced there either). An unknown name is
// an error wrapping ErrUnknownPolicy; so deep a chain of calls that it
// passes MaxCallDepth is ErrCallDepth.
type CallPolicy func(ctx context.Context, name string, req PolicyRequest) (Result, error)

// MaxCallDepth bounds how deep policies may call policies (a policy
// that calls itself would otherwise never end).
const MaxCallDepth = 8

// Errors of CallPolicy.
var (
	// ErrUnknownPolicy: no policy has the name.
	ErrUnknownPolicy = errors.New("plan: no policy has this name")
	// ErrCallDepth: policies called policies more than MaxCallDepth deep.
	ErrCallDepth = errors.New("plan: policies call policies too deep")
)
