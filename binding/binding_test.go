package binding_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

var (
	bindingPK = uuid.MustParse("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
	pbmPK     = uuid.MustParse("2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e")
	flowPK    = uuid.MustParse("3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f")
	stagePK   = uuid.MustParse("4d5e6f7a-8b9c-4d0e-9f2a-3b4c5d6e7f8a")
	otherPK   = uuid.MustParse("5e6f7a8b-9c0d-4e1f-8a3b-4c5d6e7f8a9b")
)

func stored() binding.Binding {
	b := binding.New(flowPK, stagePK, 10)
	b.PK, b.PolicyBindingModelPtrID = bindingPK, pbmPK
	return b
}

func TestFieldRules(t *testing.T) {
	tests := []struct {
		name  string
		op    validate.Op
		body  string
		errs  map[string][]string
		check func(t *testing.T, b binding.Binding)
	}{
		{name: "create minimal", op: validate.Create, body: `{"target":"` + flowPK.String() + `","stage":"` + stagePK.String() + `","order":"0"}`, check: func(t *testing.T, b binding.Binding) {
			if want := binding.New(flowPK, stagePK, 0); !reflect.DeepEqual(b, want) {
				t.Errorf("Create = %+v, want %+v", b, want)
			}
		}},
		{name: "create empty", op: validate.Create, body: `{}`, errs: map[string][]string{
			"target": {validate.MsgRequired}, "stage": {validate.MsgRequired}, "order": {validate.MsgRequired},
		}},
		// target and stage
		{name: "target null", op: validate.Patch, body: `{"target":null}`, errs: testutil.One("target", validate.MsgNull)},
		{name: "target empty is null", op: validate.Patch, body: `{"target":""}`, errs: testutil.One("target", validate.MsgNull)},
		{name: "target bool", op: validate.Patch, body: `{"target":true}`, errs: testutil.One("target", validate.MsgPKBool)},
		{name: "target slug", op: validate.Patch, body: `{"target":"default-authentication-flow"}`, errs: testutil.One("target", "“default-authentication-flow” is not a valid UUID.")},
		{name: "target float", op: validate.Patch, body: `{"target":2.5}`, errs: testutil.One("target", "“2.5” is not a valid UUID.")},
		{name: "stage null", op: validate.Patch, body: `{"stage":null}`, errs: testutil.One("stage", validate.MsgNull)},
		{name: "stage false", op: validate.Patch, body: `{"stage":false}`, errs: testutil.One("stage", validate.MsgPKBool)},
		{name: "stage not a uuid", op: validate.Patch, body: `{"stage":"abc"}`, errs: testutil.One("stage", "“abc” is not a valid UUID.")},
		{name: "stage list", op: validate.Patch, body: `{"stage":["` + stagePK.String() + `"]}`, errs: testutil.One("stage", "“['"+stagePK.String()+"']” is not a valid UUID.")},
		{name: "stage set", op: validate.Patch, body: `{"stage":"` + otherPK.String() + `"}`, check: func(t *testing.T, b binding.Binding) {
			if b.Stage != otherPK {
				t.Errorf("Stage = %s", b.Stage)
			}
		}},
		// order
		{name: "order null", op: validate.Patch, body: `{"order":null}`, errs: testutil.One("order", validate.MsgNull)},
		{name: "order word", op: validate.Patch, body: `{"order":"first"}`, errs: testutil.One("order", validate.MsgInteger)},
		{name: "order float", op: validate.Patch, body: `{"order":1.5}`, errs: testutil.One("order", validate.MsgInteger)},
		{name: "order bool", op: validate.Patch, body: `{"order":true}`, errs: testutil.One("order", validate.MsgInteger)},
		{name: "order too big", op: validate.Patch, body: `{"order":2147483648}`, errs: testutil.One("order", "Ensure this value is less than or equal to 2147483647.")},
		{name: "order too small", op: validate.Patch, body: `{"order":-2147483649}`, errs: testutil.One("order", "Ensure this value is greater than or equal to -2147483648.")},
		{name: "order too long", op: validate.Patch, body: `{"order":"` + strings.Repeat("9", 1001) + `"}`, errs: testutil.One("order", validate.MsgIntegerTooLarge)},
		{name: "order bounds", op: validate.Patch, body: `{"order":"-2147483648"}`, check: func(t *testing.T, b binding.Binding) {
			if b.Order != -2147483648 {
				t.Errorf("Order = %d", b.Order)
			}
		}},
		{name: "order coerced", op: validate.Patch, body: `{"order":" 20.0 "}`, check: func(t *testing.T, b binding.Binding) {
			if b.Order != 20 {
				t.Errorf("Order = %d", b.Order)
			}
		}},
		// enums
		{name: "policy_engine_mode invalid", op: validate.Patch, body: `{"policy_engine_mode":"none"}`, errs: testutil.One("policy_engine_mode", `"none" is not a valid choice.`)},
		{name: "policy_engine_mode null", op: validate.Patch, body: `{"policy_engine_mode":null}`, errs: testutil.One("policy_engine_mode", validate.MsgNull)},
		{name: "policy_engine_mode all", op: validate.Patch, body: `{"policy_engine_mode":"all"}`, check: func(t *testing.T, b binding.Binding) {
			if b.PolicyEngineMode != flow.PolicyEngineModeAll {
				t.Errorf("PolicyEngineMode = %q", b.PolicyEngineMode)
			}
		}},
		{name: "invalid_response_action invalid", op: validate.Patch, body: `{"invalid_response_action":"ignore"}`, errs: testutil.One("invalid_response_action", `"ignore" is not a valid choice.`)},
		{name: "invalid_response_action number", op: validate.Patch, body: `{"invalid_response_action":0}`, errs: testutil.One("invalid_response_action", `"0" is not a valid choice.`)},
		{name: "invalid_response_action restart_with_context", op: validate.Patch, body: `{"invalid_response_action":"restart_with_context"}`, check: func(t *testing.T, b binding.Binding) {
			if b.InvalidResponseAction != binding.InvalidResponseRestartWithContext {
				t.Errorf("InvalidResponseAction = %q", b.InvalidResponseAction)
			}
		}},
		// booleans
		{name: "evaluate_on_plan invalid", op: validate.Patch, body: `{"evaluate_on_plan":"sometimes"}`, errs: testutil.One("evaluate_on_plan", validate.MsgBoolean)},
		{name: "evaluate_on_plan null", op: validate.Patch, body: `{"evaluate_on_plan":null}`, errs: testutil.One("evaluate_on_plan", validate.MsgNull)},
		{name: "re_evaluate_policies invalid", op: validate.Patch, body: `{"re_evaluate_policies":[]}`, errs: testutil.One("re_evaluate_policies", validate.MsgBoolean)},
		{name: "booleans spelled", op: validate.Patch, body: `{"evaluate_on_plan":"yes","re_evaluate_policies":0}`, check: func(t *testing.T, b binding.Binding) {
			if !b.EvaluateOnPlan || b.ReEvaluatePolicies {
				t.Errorf("booleans = %v %v", b.EvaluateOnPlan, b.ReEvaluatePolicies)
			}
		}},
		// unknown and read-only keys
		{name: "unknown key", op: validate.Patch, body: `{"flow":"x"}`, errs: testutil.One("flow", validate.MsgUnknownField)},
		{name: "read-only keys ignored", op: validate.Patch, body: `{"pk":"` + otherPK.String() + `","policybindingmodel_ptr_id":1,"stage_obj":{"name":"x"}}`, check: func(t *testing.T, b binding.Binding) {
			if !reflect.DeepEqual(b, stored()) {
				t.Errorf("read-only keys changed the binding: %+v", b)
			}
		}},
		{name: "all errors at once", op: validate.Create, body: `{"target":true,"order":"x","policy_engine_mode":"y","invalid_response_action":"z","evaluate_on_plan":"?","extra":1}`, errs: map[string][]string{
			"target":                  {validate.MsgPKBool},
			"stage":                   {validate.MsgRequired},
			"order":                   {validate.MsgInteger},
			"policy_engine_mode":      {`"y" is not a valid choice.`},
			"invalid_response_action": {`"z" is not a valid choice.`},
			"evaluate_on_plan":        {validate.MsgBoolean},
			"extra":                   {validate.MsgUnknownField},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := stored()
			if tt.op == validate.Create {
				cur = binding.Defaults()
			}
			got, err := binding.Decode(cur, []byte(tt.body), tt.op)
			testutil.WantFields(t, tt.body, err, tt.errs)
			if tt.errs == nil && tt.check != nil {
				tt.check(t, got)
			}
			if tt.op == validate.Patch {
				got2, err2 := binding.ApplyPatch(cur, []byte(tt.body))
				testutil.WantFields(t, "ApplyPatch "+tt.body, err2, tt.errs)
				if err == nil && !reflect.DeepEqual(got, got2) {
					t.Errorf("ApplyPatch = %+v, Decode = %+v", got2, got)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	d := binding.Defaults()
	want := binding.Binding{ReEvaluatePolicies: true, PolicyEngineMode: flow.PolicyEngineModeAny, InvalidResponseAction: binding.InvalidResponseRetry}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Defaults() = %+v", d)
	}
	if err := binding.New(flowPK, stagePK, 0).Validate(); err != nil {
		t.Errorf("New(...).Validate() = %v", err)
	}
	if len(binding.InvalidResponseActions) != 3 {
		t.Errorf("InvalidResponseActions = %q", binding.InvalidResponseActions)
	}
}

func TestReplace(t *testing.T) {
	cur := stored()
	cur.EvaluateOnPlan, cur.InvalidResponseAction = true, binding.InvalidResponseRestart
	got, err := binding.Decode(cur, []byte(`{"target":"`+flowPK.String()+`","stage":"`+otherPK.String()+`","order":5}`), validate.Replace)
	if err != nil {
		t.Fatal(err)
	}
	want := cur
	want.Stage, want.Order = otherPK, 5
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PUT = %+v, want %+v", got, want)
	}
	_, err = binding.Decode(cur, []byte(`{"target":"`+flowPK.String()+`"}`), validate.Replace)
	testutil.WantFields(t, "PUT without stage and order", err, map[string][]string{
		"stage": {validate.MsgRequired}, "order": {validate.MsgRequired},
	})
}

// The cross-field rule is checked on the merged object, not on the patch.
func TestValidateObjectOnMergedObject(t *testing.T) {
	onPlan := stored()
	onPlan.EvaluateOnPlan = true
	got, err := binding.ApplyPatch(onPlan, []byte(`{"re_evaluate_policies": false}`))
	if err != nil {
		t.Fatalf("PATCH re_evaluate_policies=false with evaluate_on_plan=true: %v", err)
	}
	if !got.EvaluateOnPlan || got.ReEvaluatePolicies {
		t.Errorf("PATCH result = %+v", got)
	}

	notOnPlan := stored() // evaluate_on_plan false
	_, err = binding.ApplyPatch(notOnPlan, []byte(`{"re_evaluate_policies": false}`))
	ve := testutil.WantInvalid(t, err, nil, "Either evaluation on plan or evaluation on run must be enabled")
	b, _ := json.Marshal(ve)
	if want := `{"non_field_errors":["Either evaluation on plan or evaluation on run must be enabled"]}`; string(b) != want {
		t.Errorf("body = %s, want %s", b, want)
	}

	// authentik accepts this one (it only sees the body); authflow judges
	// the result.
	neither := stored()
	neither.EvaluateOnPlan, neither.ReEvaluatePolicies = true, false
	_, err = binding.ApplyPatch(neither, []byte(`{"evaluate_on_plan": false}`))
	if ve := testutil.Invalid(t, err); ve == nil || !reflect.DeepEqual(ve.NonField, []string{binding.MsgNoEvaluation}) {
		t.Errorf("PATCH leaving both false = %v", err)
	}
	// Both in one patch, turning one on, is fine.
	if _, err := binding.ApplyPatch(neither, []byte(`{"evaluate_on_plan": false, "re_evaluate_policies": true}`)); err != nil {
		t.Errorf("PATCH enabling re-evaluation: %v", err)
	}
	// Field errors come first: the cross-field rule does not run.
	_, err = binding.ApplyPatch(notOnPlan, []byte(`{"re_evaluate_policies": false, "order": "x"}`))
	if ve := testutil.Invalid(t, err); ve == nil || len(ve.NonField) != 0 || !ve.Has("order") {
		t.Errorf("PATCH with a field error = %+v", ve)
	}

	if err := (binding.Binding{}).ValidateObject(); err == nil {
		t.Error("ValidateObject of both false = nil")
	}
	if oe := validate.CheckObject(binding.Binding{}); oe == nil || !reflect.DeepEqual(oe.NonField, []string{binding.MsgNoEvaluation}) {
		t.Errorf("CheckObject = %+v", oe)
	}
	for _, b := range []binding.Binding{{EvaluateOnPlan: true}, {ReEvaluatePolicies: true}, {EvaluateOnPlan: true, ReEvaluatePolicies: true}} {
		if err := b.ValidateObject(); err != nil {
			t.Errorf("ValidateObject(%v, %v) = %v", b.EvaluateOnPlan, b.ReEvaluatePolicies, err)
		}
	}
}

func TestApplyPatchBodies(t *testing.T) {
	for _, body := range []string{`[]`, `1`, `null`} {
		_, err := binding.ApplyPatch(stored(), []byte(body))
		if ve := testutil.Invalid(t, err); ve == nil || len(ve.NonField) != 1 {
			t.Errorf("ApplyPatch(%s) = %v", body, err)
		}
	}
	if _, err := binding.ApplyPatch(stored(), []byte(`{"order":}`)); !errors.Is(err, validate.ErrSyntax) {
		t.Errorf("malformed = %v", err)
	}
}

func TestString(t *testing.T) {
	b := stored()
	want := "Flow-stage binding #10 to 3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f"
	if got := b.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	b.Order = -5
	if got := fmt.Sprint(b); got != "Flow-stage binding #-5 to 3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f" {
		t.Errorf("Sprint = %q", got)
	}
}

func TestViewJSON(t *testing.T) {
	uw, err := stage.Default.New(stage.ModelUserWrite)
	if err != nil {
		t.Fatal(err)
	}
	uw.PK, uw.Name = stagePK, "default-enrollment-user-write"
	k, _ := stage.Lookup(stage.ModelUserWrite)
	f := flow.New("Enrollment", "default-enrollment-flow", "Sign up", flow.DesignationEnrollment)
	f.PK, f.PolicyBindingModelPtrID = flowPK, otherPK

	b := stored()
	b.EvaluateOnPlan, b.Order = true, -2147483648
	v := binding.View{Binding: b, StageObj: stage.Summary{View: stage.View{Stage: uw, Kind: k, FlowSet: []flow.Set{{Flow: f}}}}}
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, filepath.Join("testdata", "view.json"), got)

	wantKeys := []string{"pk", "policybindingmodel_ptr_id", "target", "stage", "stage_obj", "evaluate_on_plan",
		"re_evaluate_policies", "order", "policy_engine_mode", "invalid_response_action"}
	if k := testutil.Keys(t, got); !reflect.DeepEqual(k, wantKeys) {
		t.Errorf("keys = %q\nwant %q", k, wantKeys)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	wantObjKeys := []string{"pk", "name", "component", "verbose_name", "verbose_name_plural", "meta_model_name", "flow_set"}
	if k := testutil.Keys(t, m["stage_obj"]); !reflect.DeepEqual(k, wantObjKeys) {
		t.Errorf("stage_obj keys = %q, want only the common stage fields", k)
	}

	// GET → PUT round trip of the representation.
	put, err := binding.Decode(b, got, validate.Replace)
	if err != nil {
		t.Fatalf("PUT of the representation: %v", err)
	}
	if !reflect.DeepEqual(put, b) {
		t.Errorf("PUT of the representation = %+v, want %+v", put, b)
	}
}
