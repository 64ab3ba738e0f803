package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
)

// Schema conformance: every response a test produces through [client.do]
// is validated against the response schema of its operation in authentik's
// OpenAPI document (required properties, types, enums, formats), keyed by
// method + route template + status. Two things are stricter than the
// document itself:
//
//   - every write-only property of an operation's request schema (Duo's
//     client_secret, ...) is added to the matching response schema as
//     writeOnly, so the validator rejects it in a response;
//   - object schemas that do not say otherwise get additionalProperties
//     false, so no key the document does not list can appear.
//
// Lists may, and must, also carry "autocomplete": {} (see tighten).
//
// A 4xx or 5xx status the document does not list for the operation (404,
// 405, 413, 415, 500, 503, ...) is checked against GenericError, which is
// what authentik answers with; any other undocumented status fails. The
// one exception is authflow's 409 for a delete that a protected reference
// refuses (authentik answers 500): it is checked against GenericError
// with a required protected_by array of UsedBy, and nothing else.

// specPaths are where the OpenAPI documents live: $AUTHFLOW_OPENAPI (a
// list of paths), or the copies of authentik's schema in testdata, one for
// flows and stages, one for policies and one for users and groups, merged
// into one document.
func specPaths() []string {
	if p := os.Getenv("AUTHFLOW_OPENAPI"); p != "" {
		return filepath.SplitList(p)
	}
	return []string{
		filepath.Join("testdata", "openapi-2025.6-flows-stages.yml"),
		filepath.Join("testdata", "openapi-2025.6-policies.yml"),
		filepath.Join("testdata", "openapi-2025.6-core.yml"),
		filepath.Join("testdata", "openapi-2025.6-authenticators.yml"),
	}
}

// loadDocs loads the documents, tightens each, and merges the paths and
// components of the others into the first.
func loadDocs() (*openapi3.T, error) {
	var doc *openapi3.T
	for _, path := range specPaths() {
		d, err := openapi3.NewLoader().LoadFromFile(path)
		if err != nil {
			return nil, fmt.Errorf("loading the OpenAPI document %s (set AUTHFLOW_OPENAPI to the paths): %w", path, err)
		}
		tighten(d)
		if doc == nil {
			doc = d
			continue
		}
		for p, item := range d.Paths.Map() {
			if doc.Paths.Value(p) == nil {
				doc.Paths.Set(p, item)
			}
		}
		for name, sc := range d.Components.Schemas {
			if _, ok := doc.Components.Schemas[name]; !ok {
				doc.Components.Schemas[name] = sc
			}
		}
	}
	// The flow import answers 200 with its result, as authentik does;
	// authentik's document calls that 204 (a 204 cannot have a body). The
	// 200 is checked against the 204's schema.
	if item := doc.Paths.Value("/flows/instances/import/"); item != nil && item.Post != nil {
		if r := item.Post.Responses.Status(http.StatusNoContent); r != nil {
			item.Post.Responses.Set("200", r)
		}
	}
	// authflow's extension: the plan simulation. Its answer is declared
	// here (strings and objects as the plan package writes them), so its
	// responses are checked like authentik's.
	{
		no := false
		stageSchema := openapi3.NewObjectSchema().
			WithProperty("binding", openapi3.NewUUIDSchema()).WithProperty("stage", openapi3.NewUUIDSchema()).
			WithProperty("name", openapi3.NewStringSchema()).WithProperty("order", openapi3.NewInt32Schema()).
			WithProperty("marker", openapi3.NewStringSchema().WithEnum("stage", "reevaluate")).
			WithRequired([]string{"binding", "stage", "name", "order", "marker"})
		stageSchema.AdditionalProperties.Has = &no
		planSchema := openapi3.NewObjectSchema().
			WithProperty("applicable", openapi3.NewBoolSchema()).
			WithProperty("denied_action", openapi3.NewStringSchema()).
			WithProperty("messages", openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema())).
			WithProperty("stages", openapi3.NewArraySchema().WithItems(stageSchema)).
			WithProperty("trace", openapi3.NewArraySchema().WithItems(openapi3.NewObjectSchema())).
			WithRequired([]string{"applicable", "messages", "stages", "trace"})
		planSchema.AdditionalProperties.Has = &no
		op := openapi3.NewOperation()
		op.OperationID = "authflow_flows_instances_plan"
		op.AddParameter(openapi3.NewPathParameter("slug").WithSchema(openapi3.NewStringSchema()))
		op.AddResponse(200, openapi3.NewResponse().WithDescription("plan").WithJSONSchema(planSchema))
		op.AddResponse(400, openapi3.NewResponse().WithDescription("invalid").WithJSONSchemaRef(doc.Components.Schemas["ValidationError"]))
		doc.Paths.Set("/flows/instances/{slug}/plan/", &openapi3.PathItem{Post: op})
	}
	// authentik answers a user or group list whose attributes filter is
	// not a JSON object with 400 and a bare JSON list of messages
	// (["filter: failed to parse JSON"]); its document says
	// ValidationError. Those two 400s may be either.
	for _, p := range []string{"/core/users/", "/core/groups/", "/core/users/paths/"} {
		item := doc.Paths.Value(p)
		if item == nil || item.Get == nil {
			continue
		}
		if r := item.Get.Responses.Status(http.StatusBadRequest); r != nil && r.Value != nil {
			bare := openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema())
			either := openapi3.NewOneOfSchema(doc.Components.Schemas["ValidationError"].Value, bare)
			r.Value.Content = openapi3.NewContentWithJSONSchema(either)
		}
	}
	// The flow export is a YAML file; authentik's document calls it a
	// binary string of application/json. Its media type is checked, and
	// that it is YAML; its content is the blueprint tests' business.
	if item := doc.Paths.Value("/flows/instances/{slug}/export/"); item != nil && item.Get != nil {
		if r := item.Get.Responses.Status(http.StatusOK); r != nil && r.Value != nil {
			r.Value.Content = openapi3.NewContentWithSchema(openapi3.NewSchema(), []string{"application/yaml"})
		}
	}
	return doc, nil
}

type spec struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
	// protected is the body of authflow's 409: GenericError's detail and
	// protected_by, an array of UsedBy.
	protected *openapi3.Schema
}

var (
	specOnce sync.Once
	theSpec  *spec
	specErr  error

	// checked records every "METHOD template status" validated.
	checkedMu sync.Mutex
	checked   = map[string]int{}
)

func loadSpec() (*spec, error) {
	specOnce.Do(func() {
		doc, err := loadDocs()
		if err != nil {
			specErr = err
			return
		}
		doc.Servers = openapi3.Servers{{URL: "/api/v3"}}
		if err := doc.Validate(context.Background()); err != nil {
			specErr = fmt.Errorf("OpenAPI document: %w", err)
			return
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			specErr = err
			return
		}
		uuidFormat := openapi3.NewCallbackValidator(func(s string) error {
			if id, err := uuid.Parse(s); err != nil || id.String() != s {
				return fmt.Errorf("not a canonical UUID: %q", s)
			}
			return nil
		})
		no := false
		protected := openapi3.NewObjectSchema().
			WithProperty("detail", openapi3.NewStringSchema()).
			WithPropertyRef("protected_by", &openapi3.SchemaRef{Value: openapi3.NewArraySchema().WithItems(doc.Components.Schemas["UsedBy"].Value)}).
			WithRequired([]string{"detail", "protected_by"})
		protected.AdditionalProperties.Has = &no
		theSpec = &spec{doc: doc, router: router, protected: protected, opts: &openapi3filter.Options{
			MultiError:              true,
			IncludeResponseStatus:   true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("uuid", uuidFormat)},
		}}
	})
	return theSpec, specErr
}

// tighten adds request-side write-only properties to the response schemas
// and closes object schemas to unknown keys.
func tighten(doc *openapi3.T) {
	schemas := doc.Components.Schemas
	for name, ref := range schemas {
		base, ok := strings.CutSuffix(name, "Request")
		if !ok || ref.Value == nil {
			continue
		}
		resp := schemas[base]
		if resp == nil || resp.Value == nil {
			continue
		}
		for prop, p := range ref.Value.Properties {
			if p.Value != nil && p.Value.WriteOnly {
				if resp.Value.Properties == nil {
					resp.Value.Properties = openapi3.Schemas{}
				}
				resp.Value.Properties[prop] = p
			}
		}
	}
	// authflow's one addition to a response: "autocomplete": {} on every
	// list, which authentik 2025.8 added and its 2025.6 TypeScript client
	// reads. The 2025.6 document does not have it, so each Paginated*List
	// gets it here, required, as an object.
	for name, ref := range schemas {
		if strings.HasPrefix(name, "Paginated") && strings.HasSuffix(name, "List") && ref.Value != nil {
			ref.Value.Properties["autocomplete"] = &openapi3.SchemaRef{Value: openapi3.NewObjectSchema()}
			ref.Value.Required = append(ref.Value.Required, "autocomplete")
		}
	}
	// authentik answers null for a policy binding's policy_obj, group_obj
	// and user_obj when the binding has no policy, group or user; its
	// document marks them required but not nullable. They are made
	// nullable here (and nothing else is loosened).
	// An invitation's flow_obj is null too when it has no flow.
	// A /types/ entry's icon_url is null too, for every stage and policy
	// kind (none has an icon).
	for schema, fields := range map[string][]string{"PolicyBinding": {"policy_obj", "group_obj", "user_obj"}, "Invitation": {"flow_obj"}, "TypeCreate": {"icon_url"}} {
		if sc := schemas[schema]; sc != nil && sc.Value != nil {
			for _, f := range fields {
				if p := sc.Value.Properties[f]; p != nil && p.Value != nil {
					p.Value.Nullable = true
				}
			}
		}
	}
	no := false
	for name, ref := range schemas {
		s := ref.Value
		if s == nil || !s.Type.Is("object") || len(s.Properties) == 0 {
			continue
		}
		if name == "Policy" {
			// Polymorphic: /policies/all/ and policy_obj show each policy
			// in its kind's representation, as authentik does.
			continue
		}
		if s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			s.AdditionalProperties.Has = &no
		}
	}
}

// checkResponse validates one response against the document, failing t
// on a mismatch.
func checkResponse(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	key, err := validateResponse(req, status, header, body)
	if err != nil {
		t.Errorf("%s: %v\nbody: %s", key, err, body)
	}
}

// validateResponse validates one response against the document and
// records its key ("METHOD template status").
func validateResponse(req *http.Request, status int, header http.Header, body []byte) (string, error) {
	sp, err := loadSpec()
	if err != nil {
		return "", err
	}
	template := "(no route)"
	route, params, rerr := sp.router.FindRoute(req)
	if rerr == nil {
		template = route.Path
	} else if errors.Is(rerr, routers.ErrMethodNotAllowed) {
		// Name the path the method is not allowed on.
		for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
			probe := req.Clone(context.Background())
			probe.Method = m
			if r, _, err := sp.router.FindRoute(probe); err == nil {
				template = r.Path
				break
			}
		}
	}
	key := req.Method + " " + template + " " + strconv.Itoa(status)
	checkedMu.Lock()
	checked[key]++
	checkedMu.Unlock()

	documented := rerr == nil && route.Operation != nil && route.Operation.Responses.Status(status) != nil
	switch {
	case documented:
		if status == http.StatusNoContent && len(body) != 0 {
			return key, fmt.Errorf("204 with a body")
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 status,
			Header:                 header,
			Body:                   io.NopCloser(bytes.NewReader(body)),
			Options:                sp.opts,
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			return key, fmt.Errorf("response does not match the OpenAPI document: %w", err)
		}
	case status >= 400:
		if ct := header.Get("Content-Type"); ct != "application/json" {
			return key, fmt.Errorf("Content-Type %q, want application/json", ct)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return key, fmt.Errorf("body is not JSON: %w", err)
		}
		schema, name := sp.doc.Components.Schemas["GenericError"].Value, "GenericError"
		if status == http.StatusConflict {
			schema, name = sp.protected, "protected-delete error"
		}
		if err := schema.VisitJSON(v, openapi3.VisitAsResponse(), openapi3.MultiErrors()); err != nil {
			return key, fmt.Errorf("body is not a %s: %w", name, err)
		}
	default:
		return key, fmt.Errorf("status not documented for the operation")
	}
	return key, nil
}

// requiredChecks are the responses the suite must have validated: the
// 200, 400 and 403 of every seed operation, and the other statuses the
// seed-era API gives.
var requiredChecks = []string{
	"POST /flows/instances/import/ 200",
	"POST /flows/instances/{slug}/plan/ 200",
	"GET /flows/instances/{slug}/diagram/ 200",
	"POST /flows/instances/{slug}/plan/ 400",
	"GET /flows/instances/{slug}/export/ 200",
	"POST /flows/instances/{slug}/set_background_url/ 200",
	"POST /flows/instances/{slug}/set_background_url/ 400",
	"POST /flows/instances/{slug}/set_background_url/ 403",
	"POST /flows/instances/{slug}/set_background_url/ 404",
	"POST /flows/instances/{slug}/set_background/ 400",
	"POST /flows/instances/import/ 400",
	"POST /stages/invitation/invitations/ 201",
	"POST /stages/invitation/invitations/ 400",
	"GET /stages/invitation/invitations/ 200",
	"GET /stages/invitation/invitations/ 400",
	"GET /stages/invitation/invitations/{invite_uuid}/ 200",
	"PATCH /stages/invitation/invitations/{invite_uuid}/ 200",
	"DELETE /stages/invitation/invitations/{invite_uuid}/ 204",
	"GET /stages/invitation/invitations/{invite_uuid}/used_by/ 200",
	"POST /stages/prompt/prompts/ 201",
	"POST /stages/prompt/prompts/ 400",
	"GET /stages/prompt/prompts/ 200",
	"GET /stages/prompt/prompts/{prompt_uuid}/ 200",
	"PATCH /stages/prompt/prompts/{prompt_uuid}/ 200",
	"DELETE /stages/prompt/prompts/{prompt_uuid}/ 204",
	"GET /stages/prompt/prompts/{prompt_uuid}/used_by/ 200",
	"POST /stages/prompt/stages/ 201",
	"POST /stages/prompt/stages/ 400",
	"GET /stages/prompt/stages/ 200",
	"GET /stages/prompt/stages/{stage_uuid}/ 200",
	"POST /policies/expression/ 201",
	"POST /policies/reputation/ 400",
	"PATCH /policies/reputation/{policy_uuid}/ 200",
	"GET /policies/geoip/ 200",
	"GET /policies/all/ 200",
	"GET /policies/all/{policy_uuid}/ 200",
	"DELETE /policies/all/{policy_uuid}/ 204",
	"POST /policies/all/ 405",
	"GET /policies/all/types/ 200",
	"GET /policies/geoip_iso3166/ 200",
	"POST /policies/bindings/ 201",
	"POST /policies/bindings/ 400",
	"PATCH /policies/bindings/{policy_binding_uuid}/ 200",
	"GET /policies/bindings/ 200",
	"GET /policies/expression/{policy_uuid}/used_by/ 200",
	"POST /stages/deny/ 201",
	"PATCH /stages/authenticator/static/{stage_uuid}/ 400",
	"POST /stages/password/ 400",
	"POST /stages/redirect/ 201",
	"GET /stages/all/types/ 200",
	"PATCH /stages/user_login/{stage_uuid}/ 400",
	"GET /stages/consent/ 200",
	"PATCH /stages/deny/{stage_uuid}/ 400",
	"GET /stages/user_logout/ 200",
	"PUT /stages/user_logout/{stage_uuid}/ 200",
	"GET /stages/user_delete/{stage_uuid}/ 200",
	"DELETE /stages/user_delete/{stage_uuid}/ 204",
	"PUT /stages/user_write/{stage_uuid}/ 200",
	"PUT /stages/user_write/{stage_uuid}/ 400",
	"PUT /stages/user_write/{stage_uuid}/ 403",
	"PATCH /stages/invitation/stages/{stage_uuid}/ 200",
	"PATCH /stages/invitation/stages/{stage_uuid}/ 400",
	"PATCH /stages/invitation/stages/{stage_uuid}/ 403",
	"PUT /flows/bindings/{fsb_uuid}/ 200",
	"PUT /flows/bindings/{fsb_uuid}/ 400",
	"PUT /flows/bindings/{fsb_uuid}/ 403",
	"PATCH /flows/instances/{slug}/ 200",
	"PATCH /flows/instances/{slug}/ 400",
	"PATCH /flows/instances/{slug}/ 403",
	"PATCH /stages/authenticator/duo/{stage_uuid}/ 200",
	"PATCH /stages/authenticator/duo/{stage_uuid}/ 400",
	"PATCH /stages/authenticator/duo/{stage_uuid}/ 403",
	"GET /flows/instances/ 200",
	"GET /flows/bindings/ 200",
	"GET /stages/all/ 200",
	"GET /stages/user_write/ 200",
	"GET /stages/invitation/stages/ 200",
	"GET /stages/authenticator/duo/ 200",
	"POST /flows/instances/ 201",
	"POST /flows/bindings/ 201",
	"POST /stages/user_write/ 201",
	"POST /stages/invitation/stages/ 201",
	"POST /stages/authenticator/duo/ 201",
	"GET /flows/instances/{slug}/ 200",
	"GET /flows/bindings/{fsb_uuid}/ 200",
	"GET /stages/all/{stage_uuid}/ 200",
	"DELETE /stages/all/{stage_uuid}/ 204",
	"DELETE /flows/instances/{slug}/ 204",
	"DELETE /flows/bindings/{fsb_uuid}/ 204",
	"DELETE /stages/user_write/{stage_uuid}/ 204",
	"GET /flows/instances/{slug}/ 404",
	"GET /flows/bindings/{fsb_uuid}/ 404",
	"POST /stages/all/ 405",
	"PATCH /flows/instances/{slug}/ 415",
	"PATCH /flows/instances/{slug}/ 413",
	"GET /flows/instances/{slug}/used_by/ 200",
	"GET /flows/bindings/{fsb_uuid}/used_by/ 200",
	"GET /stages/all/{stage_uuid}/used_by/ 200",
	"GET /stages/user_write/{stage_uuid}/used_by/ 200",
	"GET /stages/invitation/stages/{stage_uuid}/used_by/ 200",
	"GET /stages/authenticator/duo/{stage_uuid}/used_by/ 200",
	"GET /flows/instances/{slug}/used_by/ 404",
	"GET /stages/user_write/{stage_uuid}/used_by/ 404",
	"DELETE /flows/instances/{slug}/used_by/ 405",
	"DELETE /flows/instances/{slug}/ 409",
	"DELETE /stages/all/{stage_uuid}/ 409",
	"DELETE /flows/bindings/{fsb_uuid}/ 409",
	"GET /flows/instances/{slug}/ 500",
	// The kinds beyond the seed ones, and the email templates.
	"POST /stages/identification/ 201",
	"POST /stages/identification/ 400",
	"GET /stages/identification/ 200",
	"GET /stages/identification/{stage_uuid}/ 200",
	"PUT /stages/identification/{stage_uuid}/ 200",
	"PATCH /stages/identification/{stage_uuid}/ 200",
	"PATCH /stages/identification/{stage_uuid}/ 400",
	"DELETE /stages/identification/{stage_uuid}/ 204",
	"GET /stages/identification/{stage_uuid}/used_by/ 200",
	"POST /stages/captcha/ 201",
	"GET /stages/captcha/ 200",
	"GET /stages/captcha/{stage_uuid}/ 200",
	"PUT /stages/captcha/{stage_uuid}/ 200",
	"PATCH /stages/captcha/{stage_uuid}/ 200",
	"PATCH /stages/captcha/{stage_uuid}/ 400",
	"DELETE /stages/captcha/{stage_uuid}/ 204",
	"GET /stages/captcha/{stage_uuid}/used_by/ 200",
	"POST /stages/email/ 201",
	"GET /stages/email/ 200",
	"GET /stages/email/{stage_uuid}/ 200",
	"PUT /stages/email/{stage_uuid}/ 200",
	"PATCH /stages/email/{stage_uuid}/ 200",
	"PATCH /stages/email/{stage_uuid}/ 400",
	"DELETE /stages/email/{stage_uuid}/ 204",
	"GET /stages/email/{stage_uuid}/used_by/ 200",
	"POST /stages/authenticator/webauthn/ 201",
	"GET /stages/authenticator/webauthn/ 200",
	"GET /stages/authenticator/webauthn/{stage_uuid}/ 200",
	"PUT /stages/authenticator/webauthn/{stage_uuid}/ 200",
	"PATCH /stages/authenticator/webauthn/{stage_uuid}/ 200",
	"PATCH /stages/authenticator/webauthn/{stage_uuid}/ 400",
	"DELETE /stages/authenticator/webauthn/{stage_uuid}/ 204",
	"GET /stages/authenticator/webauthn/{stage_uuid}/used_by/ 200",
	"POST /stages/authenticator/sms/ 201",
	"GET /stages/authenticator/sms/ 200",
	"GET /stages/authenticator/sms/{stage_uuid}/ 200",
	"PUT /stages/authenticator/sms/{stage_uuid}/ 200",
	"PATCH /stages/authenticator/sms/{stage_uuid}/ 200",
	"PATCH /stages/authenticator/sms/{stage_uuid}/ 400",
	"DELETE /stages/authenticator/sms/{stage_uuid}/ 204",
	"GET /stages/authenticator/sms/{stage_uuid}/used_by/ 200",
	"POST /stages/authenticator/email/ 201",
	"GET /stages/authenticator/email/ 200",
	"GET /stages/authenticator/email/{stage_uuid}/ 200",
	"PUT /stages/authenticator/email/{stage_uuid}/ 200",
	"PATCH /stages/authenticator/email/{stage_uuid}/ 200",
	"PATCH /stages/authenticator/email/{stage_uuid}/ 400",
	"DELETE /stages/authenticator/email/{stage_uuid}/ 204",
	"GET /stages/authenticator/email/{stage_uuid}/used_by/ 200",
	"POST /stages/authenticator/validate/ 201",
	"POST /stages/authenticator/validate/ 400",
	"GET /stages/authenticator/validate/ 200",
	"GET /stages/authenticator/validate/{stage_uuid}/ 200",
	"PUT /stages/authenticator/validate/{stage_uuid}/ 200",
	"PATCH /stages/authenticator/validate/{stage_uuid}/ 200",
	"PATCH /stages/authenticator/validate/{stage_uuid}/ 400",
	"DELETE /stages/authenticator/validate/{stage_uuid}/ 204",
	"GET /stages/authenticator/validate/{stage_uuid}/used_by/ 200",
	"POST /stages/authenticator/endpoint_gdtc/ 201",
	"GET /stages/authenticator/endpoint_gdtc/ 200",
	"GET /stages/authenticator/endpoint_gdtc/{stage_uuid}/ 200",
	"PUT /stages/authenticator/endpoint_gdtc/{stage_uuid}/ 200",
	"PATCH /stages/authenticator/endpoint_gdtc/{stage_uuid}/ 200",
	"PATCH /stages/authenticator/endpoint_gdtc/{stage_uuid}/ 400",
	"DELETE /stages/authenticator/endpoint_gdtc/{stage_uuid}/ 204",
	"GET /stages/authenticator/endpoint_gdtc/{stage_uuid}/used_by/ 200",
	"POST /stages/source/ 201",
	"GET /stages/source/ 200",
	"GET /stages/source/{stage_uuid}/ 200",
	"PUT /stages/source/{stage_uuid}/ 200",
	"PATCH /stages/source/{stage_uuid}/ 200",
	"PATCH /stages/source/{stage_uuid}/ 400",
	"DELETE /stages/source/{stage_uuid}/ 204",
	"GET /stages/source/{stage_uuid}/used_by/ 200",
	"POST /stages/mtls/ 201",
	"GET /stages/mtls/ 200",
	"GET /stages/mtls/{stage_uuid}/ 200",
	"PUT /stages/mtls/{stage_uuid}/ 200",
	"PATCH /stages/mtls/{stage_uuid}/ 200",
	"PATCH /stages/mtls/{stage_uuid}/ 400",
	"DELETE /stages/mtls/{stage_uuid}/ 204",
	"GET /stages/mtls/{stage_uuid}/used_by/ 200",
	"PUT /stages/captcha/{stage_uuid}/ 400",
	"GET /stages/email/templates/ 200",
	// Users and groups.
	"GET /core/users/ 200",
	"GET /core/users/ 400",
	"POST /core/users/ 201",
	"POST /core/users/ 400",
	"GET /core/users/{id}/ 200",
	"PUT /core/users/{id}/ 200",
	"PATCH /core/users/{id}/ 200",
	"DELETE /core/users/{id}/ 204",
	"GET /core/users/{id}/used_by/ 200",
	"POST /core/users/{id}/set_password/ 204",
	"POST /core/users/{id}/set_password/ 400",
	"POST /core/users/{id}/set_password/ 403",
	"POST /core/users/{id}/set_password/ 404",
	"GET /core/users/paths/ 200",
	"GET /core/users/paths/ 400",
	"GET /core/users/me/ 404",
	"POST /core/users/{id}/recovery/ 404",
	"GET /core/groups/ 200",
	"GET /core/groups/ 400",
	"POST /core/groups/ 201",
	"POST /core/groups/ 400",
	"GET /core/groups/{group_uuid}/ 200",
	"PUT /core/groups/{group_uuid}/ 400",
	"PATCH /core/groups/{group_uuid}/ 200",
	"PATCH /core/groups/{group_uuid}/ 400",
	"DELETE /core/groups/{group_uuid}/ 204",
	"GET /core/groups/{group_uuid}/used_by/ 200",
	"POST /core/groups/{group_uuid}/add_user/ 204",
	"POST /core/groups/{group_uuid}/add_user/ 403",
	"POST /core/groups/{group_uuid}/add_user/ 404",
	"POST /core/groups/{group_uuid}/remove_user/ 204",
	"POST /core/groups/{group_uuid}/remove_user/ 404",
}

// TestMain runs the suite, then, when every test ran (no -run), checks
// that the responses in requiredChecks were each validated at least once.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && !filtered() {
		var missing []string
		for _, k := range requiredChecks {
			if checked[k] == 0 {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(os.Stderr, "schema conformance: these responses were never produced and checked:\n\t%s\n", strings.Join(missing, "\n\t"))
			code = 1
		}
	}
	os.Exit(code)
}

// filtered reports whether -run, -skip or -short limited the tests.
func filtered() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := lookupFlag(name); f != "" {
			return true
		}
	}
	return testing.Short()
}
