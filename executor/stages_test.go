package executor

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

// The cases of authentik 2025.6's stages/redirect/tests.py. Expression
// policies that write the context are "target*" policies here.

const (
	redirectURL         = "https://url.test/"
	redirectURLOverride = "https://urloverride.test/"
)

// redirectDoc is the redirect tests' setup: flow "target" with a dummy
// stage, and flow "f" with a redirect stage of mode.
func redirectDoc(mode, targetAttrs string, extra ...string) string {
	doc := flowDoc("target", targetAttrs, dummy("target", "dummy", 0, "")) +
		strings.TrimPrefix(flowDoc("f", ""), "version: 1\nentries:\n") +
		stageEntry("authentik_stages_redirect.redirectstage", "f", "redirect", 0,
			"keep_context: true, mode: "+mode+", target_static: '"+redirectURL+"', target_flow: !KeyOf target", "")
	return doc + strings.Join(extra, "")
}

// targetPolicies sets the context's redirect_stage_target from policies
// named "target=<value>".
func targetPolicies(o *Options) {
	inner := o.Plan.Evaluators[policy.ModelDummy]
	o.Plan.Evaluators[policy.ModelDummy] = plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		if v, ok := strings.CutPrefix(p.Name, "target="); ok {
			req.Context[ContextRedirectTarget] = v
			return plan.Result{Passing: true, Messages: []string{}}, nil
		}
		return inner.Evaluate(ctx, p, req)
	})
}

func TestRedirectStatic(t *testing.T) {
	h := newHarness(t, redirectDoc("static", ""))
	r := h.get("f", "")
	r.want(t, ComponentRedirect, "to", redirectURL)
	if _, ok := r.body["flow_info"]; !ok {
		t.Errorf("a redirect stage's challenge has flow_info: %s", r.raw)
	}
	// Answering it passes the stage; the flow ends.
	h.post("f", "", `{"component":"xak-flow-redirect","to":"`+redirectURL+`"}`).want(t, ComponentRedirect, "to", "/")
}

func TestRedirectFlow(t *testing.T) {
	h := newHarness(t, redirectDoc("flow", ""))
	h.get("f", "").want(t, ComponentRedirect, "to", "/if/flow/target/")
	if x := h.execution("f"); x != nil {
		t.Errorf("the switch replaces the execution: %v", stageNames(x))
	}
	x := h.execution("target")
	if got := stageNames(x); !slices.Equal(got, []string{"dummy"}) || x.Context[ContextIsRedirected] == nil {
		t.Fatalf("target execution %+v", x)
	}
	h.get("target", "").want(t, ComponentDummy, "name", "dummy")
}

func TestRedirectFlowQuery(t *testing.T) {
	h := newHarness(t, redirectDoc("flow", ""))
	h.get("f", "test=foo").want(t, ComponentRedirect, "to", "/if/flow/target/?test=foo")
}

func TestRedirectOverrideStatic(t *testing.T) {
	h := newHarness(t, redirectDoc("static", "", policyOn("b-redirect", "target="+redirectURLOverride, true)), targetPolicies)
	h.get("f", "").want(t, ComponentRedirect, "to", redirectURLOverride)
}

func TestRedirectOverrideFlow(t *testing.T) {
	h := newHarness(t, redirectDoc("static", "", policyOn("b-redirect", "target=ak-flow://target", true)), targetPolicies)
	h.get("f", "").want(t, ComponentRedirect, "to", "/if/flow/target/")
}

func TestRedirectOverrideNonexistentFlow(t *testing.T) {
	h := newHarness(t, redirectDoc("static", "", policyOn("b-redirect", "target=ak-flow://nonexistent", true)), targetPolicies)
	h.get("f", "").want(t, ComponentRedirect, "to", redirectURL)
}

func TestRedirectTargetRequiresRedirect(t *testing.T) {
	h := newHarness(t, redirectDoc("flow", ", authentication: require_redirect"))
	h.get("f", "").want(t, ComponentRedirect, "to", "/if/flow/target/")
}

func TestRedirectTargetNonApplicable(t *testing.T) {
	h := newHarness(t, redirectDoc("flow", ", authentication: require_authenticated"))
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgUnknownError)
}

// keep_context false plans the target with an empty context (and
// is_redirected).
func TestRedirectFlowWithoutContext(t *testing.T) {
	doc := strings.Replace(redirectDoc("flow", "", policyOn("b-redirect", "target=", true)), "keep_context: true", "keep_context: false", 1)
	h := newHarness(t, doc, targetPolicies)
	h.get("f", "").want(t, ComponentRedirect, "to", "/if/flow/target/")
	x := h.execution("target")
	if _, ok := x.Context[ContextRedirectTarget]; ok || x.Context[ContextIsRedirected] == nil {
		t.Fatalf("target context %v", x.Context)
	}
}

// A redirect's response needs to (DRF's required), and the retry shows
// the challenge again with response_errors.
func TestRedirectRetry(t *testing.T) {
	h := newHarness(t, redirectDoc("static", ""))
	h.get("f", "")
	r := h.post("f", "", `{"component":"xak-flow-redirect"}`)
	r.want(t, ComponentRedirect, "to", redirectURL, "response_errors", "map[to:[map[code:required string:This field is required.]]]")
	r = h.post("f", "", `{"component":"xak-flow-redirect","to":" "}`)
	r.want(t, ComponentRedirect, "response_errors", "map[to:[map[code:blank string:This field may not be blank.]]]")
}

// A policy's flow_plan.redirect inserts a redirect after the current
// stage, at run time as when planning. A re-evaluated binding's policies
// run on every request that reaches its stage, so the GET and the POST
// each insert one, as in authentik.
func TestInsertedRedirect(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "d1", 0, "re_evaluate_policies: true"), dummy("f", "d2", 1, ""),
		policyOn("b-d1", "redirect", true)))
	h.get("f", "").want(t, ComponentDummy, "name", "d1")
	if got := stageNames(h.execution("f")); !slices.Equal(got, []string{"d1", "redirect", "d2"}) {
		t.Fatalf("stages %v", got)
	}
	h.post("f", "", "").wantReload(t, h.url("f", ""))
	if got := stageNames(h.execution("f")); !slices.Equal(got, []string{"redirect", "redirect", "d2"}) {
		t.Fatalf("stages %v", got)
	}
	h.get("f", "").want(t, ComponentRedirect, "to", "/elsewhere")
	h.post("f", "", `{"component":"xak-flow-redirect","to":"/elsewhere"}`).wantReload(t, h.url("f", ""))
	h.post("f", "", `{"component":"xak-flow-redirect","to":"/elsewhere"}`).wantReload(t, h.url("f", ""))
	h.get("f", "").want(t, ComponentDummy, "name", "d2")
}

// Planned by the planner (evaluate_on_plan), the redirect is inserted
// once.
func TestPlannedRedirect(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "d1", 0, ""), dummy("f", "d2", 1, "evaluate_on_plan: true, re_evaluate_policies: false"),
		policyOn("b-d2", "redirect", true)))
	h.get("f", "").want(t, ComponentDummy, "name", "d1")
	if got := stageNames(h.execution("f")); !slices.Equal(got, []string{"d1", "redirect", "d2"}) {
		t.Fatalf("stages %v", got)
	}
	h.post("f", "", "").wantReload(t, h.url("f", ""))
	h.get("f", "").want(t, ComponentRedirect, "to", "/elsewhere")
}

// The deny stage denies with its message, "Unknown error" when blank.
func TestDeny(t *testing.T) {
	h := newHarness(t, flowDoc("f", "",
		stageEntry("authentik_stages_deny.denystage", "f", "deny", 0, "deny_message: Go away", "")))
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", "Go away")
	if x := h.execution("f"); x != nil {
		t.Errorf("a denied flow is cancelled")
	}
	h = newHarness(t, flowDoc("f", "", stageEntry("authentik_stages_deny.denystage", "f", "deny", 0, "", "")))
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgUnknownError)
}

// invalid_response_action restart re-plans with an empty context, and
// restart_with_context with the old one; both answer 302 to self.
func TestRestart(t *testing.T) {
	for _, tc := range []struct {
		action string
		keep   bool
	}{{"restart", false}, {"restart_with_context", true}} {
		t.Run(tc.action, func(t *testing.T) {
			h := newHarness(t, flowDoc("f", "",
				dummy("f", "d1", 0, ""),
				stageEntry("authentik_stages_deny.denystage", "f", "deny", 1, "", "invalid_response_action: "+tc.action)),
				func(o *Options) { o.Handlers = Builtin(); o.Handlers[stage.ModelDummy] = marking{} })
			h.get("f", "").want(t, ComponentDummy)
			h.post("f", "", "").wantReload(t, h.url("f", ""))
			if x := h.execution("f"); x.Context["mark"] != "x" {
				t.Fatalf("context %v", x.Context)
			}
			h.get("f", "").wantReload(t, h.url("f", ""))
			x := h.execution("f")
			if got := stageNames(x); !slices.Equal(got, []string{"d1", "deny"}) {
				t.Fatalf("stages %v", got)
			}
			if _, kept := x.Context["mark"]; kept != tc.keep {
				t.Errorf("context %v after %s", x.Context, tc.action)
			}
		})
	}
}

// marking is a dummy handler that writes the context when answered.
type marking struct{ dummyHandler }

func (marking) Respond(_ context.Context, s *Step, _ json.RawMessage) (Result, error) {
	s.Context["mark"] = "x"
	return Pass(), nil
}

// A stage kind without a handler yet denies with a clear message and a
// configuration_error event.
func TestUnsupportedStage(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", stageEntry("authentik_stages_mtls.mutualtlsstage", "f", "out", 0, "mode: optional, cert_attribute: subject, user_attribute: username", "")))
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", "The stage kind Mutual TLS Stage is not supported by authflow yet.")
	if len(h.events) != 1 || h.events[0].Action != EventConfigurationError || h.events[0].Stage != "out" {
		t.Errorf("events %+v", h.events)
	}
}

// New refuses a served stage kind without a handler, naming it.
func TestNewRefusesKindWithoutHandler(t *testing.T) {
	reg := &stage.Registry{}
	for _, k := range stage.Default.Kinds() {
		reg.Register(k)
	}
	reg.Register(stage.Kind{Model: "authflow_test.hoststage", New: func() stage.Config { return &hostStage{} },
		Component: "ak-stage-host-form", VerboseName: "Host Stage"})
	s, err := store.Open(filepath.Join(t.TempDir(), "x.db"), &store.Options{NoSync: true, StageKinds: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := New(s, Options{}); !errors.Is(err, ErrNoHandler) || !strings.Contains(err.Error(), "authflow_test.hoststage") {
		t.Fatalf("New: %v", err)
	}
	hs := Builtin()
	hs["authflow_test.hoststage"] = dummyHandler{}
	e, err := New(s, Options{Handlers: hs})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
}

type hostStage struct{}

func (hostStage) ModelName() stage.ModelName { return "authflow_test.hoststage" }

// Builtin has a handler for every built-in kind.
func TestBuiltinCoversDefaultKinds(t *testing.T) {
	hs := Builtin()
	for _, k := range stage.Default.Kinds() {
		if hs[k.Model] == nil {
			t.Errorf("no handler for %s", k.Model)
		}
	}
}

// An unexpected error is ak-stage-flow-error with a request id and a
// system_exception event holding the error; the client does not see its
// text, and the execution stays.
func TestFlowError(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "d0", 0, ""), stageEntry("authentik_stages_dummy.dummystage", "f", "d", 1, "throw_error: true", "")))
	h.get("f", "").want(t, ComponentDummy)
	h.post("f", "", "").wantReload(t, h.url("f", ""))
	r := h.get("f", "")
	r.want(t, ComponentFlowError)
	id, _ := r.body["request_id"].(string)
	if len(id) != 32 || r.header.Get("X-authentik-id") != id || strings.Contains(string(r.raw), MsgDummyError) {
		t.Errorf("flow error %s", r.raw)
	}
	if len(h.events) != 1 || h.events[0].Action != EventSystemException || h.events[0].RequestID != id || !strings.Contains(h.events[0].Message, MsgDummyError) {
		t.Errorf("events %+v", h.events)
	}
	if got := stageNames(h.execution("f")); !slices.Equal(got, []string{"d"}) {
		t.Errorf("stages %v", got)
	}
}

// A POST whose component names another challenge than the one shown is
// answered with the current challenge and a non-field error, and not
// submitted.
func TestOtherStageComponent(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "d1", 0, ""), dummy("f", "d2", 1, "")))
	h.get("f", "").want(t, ComponentDummy, "name", "d1")
	r := h.post("f", "", `{"component":"ak-stage-password","password":"x"}`)
	r.want(t, ComponentDummy, "name", "d1")
	errs, _ := r.body["response_errors"].(map[string]any)
	if nf, _ := errs["non_field_errors"].([]any); len(nf) != 1 || !strings.Contains(nf[0].(map[string]any)["string"].(string), "ak-stage-password") {
		t.Errorf("response_errors %v", errs)
	}
	if got := stageNames(h.execution("f")); !slices.Equal(got, []string{"d1", "d2"}) {
		t.Errorf("stages %v", got)
	}
}

// Updates policies ask for are applied once the step is saved.
func TestUpdatesApplied(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "d1", 0, "re_evaluate_policies: true"), policyOn("b-d1", "update", true)))
	h.get("f", "").want(t, ComponentDummy)
	if len(h.applied) != 1 || h.applied[0].Policy != "update" {
		t.Fatalf("applied %+v", h.applied)
	}
	// By default plan.ApplyUpdates writes them to the store.
	h = newHarness(t, flowDoc("f", "", dummy("f", "d1", 0, "re_evaluate_policies: true"), policyOn("b-d1", "update", true)),
		func(o *Options) { o.ApplyUpdates = nil })
	h.get("f", "").want(t, ComponentDummy)
	var title string
	if err := h.s.View(t.Context(), func(tx *store.Tx) error {
		f, err := store.Flows.Get(tx, store.By("slug", "f"))
		title = f.Title
		return err
	}); err != nil || title != "used" {
		t.Errorf("title %q, %v: the update was not applied", title, err)
	}
}

// Unknown flows are 404; other methods 405.
func TestHTTPErrors(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "d1", 0, "")))
	if r := h.get("nope", ""); r.status != http.StatusNotFound {
		t.Errorf("unknown flow: %d", r.status)
	}
	if r := h.do(h.client, "PUT", h.url("f", ""), "{}"); r.status != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d", r.status)
	}
	h.get("f", "").want(t, ComponentDummy)
	// A body that is not a JSON object, or too large, is a flow error.
	h.post("f", "", `[1]`).want(t, ComponentFlowError)
	h.post("f", "", `{"a":"`+strings.Repeat("x", DefaultMaxBody)+`"}`).want(t, ComponentFlowError)
	h.get("f", "").want(t, ComponentDummy, "name", "d1")
}

// DecodeResponse decodes with validate, ignoring undeclared keys as DRF
// does; a body that is not JSON is an error, not a field error.
func TestDecodeResponse(t *testing.T) {
	v, verr, err := DecodeResponse[redirectResponse](json.RawMessage(`{"component":"xak-flow-redirect","to":"/x","other":1}`))
	if err != nil || verr != nil || v.To != "/x" {
		t.Errorf("%+v %v %v", v, verr, err)
	}
	if _, verr, err = DecodeResponse[redirectResponse](json.RawMessage(`{"to":null}`)); err != nil || ResponseErrors(verr)["to"][0] != (ErrorDetail{"This field may not be null.", "null"}) {
		t.Errorf("null: %v %v", verr, err)
	}
	if _, verr, err = DecodeResponse[redirectResponse](json.RawMessage(`[1]`)); err != nil || len(verr.NonField) != 1 {
		t.Errorf("a list: %v %v", verr, err)
	}
	if _, verr, err = DecodeResponse[redirectResponse](json.RawMessage(`{`)); err == nil || verr != nil {
		t.Errorf("not JSON: %v %v", verr, err)
	}
}

// A redirect stage whose target is its own flow starts the flow over in
// the same record.
func TestRedirectToItself(t *testing.T) {
	doc := flowDoc("f", "", dummy("f", "d0", 0, "")) +
		stageEntry("authentik_stages_redirect.redirectstage", "f", "redirect", 1, "keep_context: false, mode: flow, target_flow: !KeyOf f", "")
	h := newHarness(t, doc)
	h.get("f", "")
	h.post("f", "", "").wantReload(t, h.url("f", ""))
	h.get("f", "").want(t, ComponentRedirect, "to", "/if/flow/f/")
	x := h.execution("f")
	if got := stageNames(x); !slices.Equal(got, []string{"d0", "redirect"}) || x.Shown != "" || x.Context[ContextIsRedirected] == nil {
		t.Fatalf("execution %+v", x)
	}
	h.get("f", "").want(t, ComponentDummy, "name", "d0")
}

// A stage deleted while its flow runs ends the execution; a flow deleted
// and created again under its slug starts over.
func TestConfigurationChangesWhileRunning(t *testing.T) {
	doc := flowDoc("f", "", dummy("f", "d1", 0, ""), dummy("f", "d2", 1, ""))
	h := newHarness(t, doc)
	ctx := context.Background()
	h.get("f", "")
	h.post("f", "", "").wantReload(t, h.url("f", ""))
	if err := h.s.Update(ctx, func(tx *store.Tx) error { return store.Stages.Delete(tx, store.By("name", "d2"), nil) }); err != nil {
		t.Fatal(err)
	}
	// The binding went with the stage, but the execution holds the plan.
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgStageGone)
	if h.execution("f") != nil {
		t.Error("the execution stays")
	}

	h = newHarness(t, doc)
	h.get("f", "")
	h.post("f", "", "").wantReload(t, h.url("f", ""))
	old := h.execution("f").Flow
	if err := h.s.Update(ctx, func(tx *store.Tx) error { return store.Flows.Delete(tx, store.By("slug", "f"), nil) }); err != nil {
		t.Fatal(err)
	}
	if _, err := blueprint.Load(ctx, h.s, strings.NewReader(doc), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	h.get("f", "").want(t, ComponentDummy, "name", "d1")
	if x := h.execution("f"); x.Flow == old || !slices.Equal(stageNames(x), []string{"d1", "d2"}) {
		t.Errorf("execution %+v", x)
	}
}

// Re-evaluated policies see the context's pending user, as authentik's
// markers do, not the (anonymous) request's user.
func TestPendingUserForPolicies(t *testing.T) {
	h := newHarness(t, flowDoc("f", "",
		dummy("f", "d1", 0, "re_evaluate_policies: true"), policyOn("b-d1", "pending", true),
		dummy("f", "d2", 1, "re_evaluate_policies: true"), policyOn("b-d2", "is-one", true),
		dummy("f", "d3", 2, "")))
	if err := h.s.Update(t.Context(), func(tx *store.Tx) error {
		_, err := store.Users.CreateJSON(tx, []byte(`{"username":"one","name":"One"}`), nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	h.get("f", "").want(t, ComponentDummy, "name", "d1")
	h.post("f", "", `{"component":"ak-stage-dummy"}`).wantReload(t, h.url("f", ""))
	h.get("f", "").want(t, ComponentDummy, "name", "d2")
}
