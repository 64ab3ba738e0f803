package binding

import (
	"encoding/json"
	"strconv"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// InvalidResponseAction is what the flow executor does with an invalid
// response to a stage's challenge.
type InvalidResponseAction string

// Invalid response actions.
const (
	InvalidResponseRetry              InvalidResponseAction = "retry"
	InvalidResponseRestart            InvalidResponseAction = "restart"
	InvalidResponseRestartWithContext InvalidResponseAction = "restart_with_context"
)

// InvalidResponseActions lists every [InvalidResponseAction].
var InvalidResponseActions = []InvalidResponseAction{InvalidResponseRetry, InvalidResponseRestart, InvalidResponseRestartWithContext}

// MsgNoEvaluation is the non-field error for a binding whose policies would
// never be evaluated.
const MsgNoEvaluation = "Either evaluation on plan or evaluation on run must be enabled"

// Binding is a stored flow-stage binding: it places a stage in a flow at
// an order. authentik's FlowStageBinding.
type Binding struct {
	PK                      uuid.UUID `json:"pk" af:"readonly"`
	PolicyBindingModelPtrID uuid.UUID `json:"policybindingmodel_ptr_id" af:"readonly"`
	// Target is the pk of the flow. Deleting the flow deletes the binding.
	Target uuid.UUID `json:"target" af:"required,ref=flow,on_delete=cascade"`
	// Stage is the pk of the stage, of any kind. Deleting the stage
	// deletes the binding.
	Stage uuid.UUID `json:"stage" af:"required,ref=stage,on_delete=cascade"`
	// EvaluateOnPlan evaluates the binding's policies while planning.
	EvaluateOnPlan bool `json:"evaluate_on_plan"`
	// ReEvaluatePolicies evaluates them again when the stage is shown.
	ReEvaluatePolicies bool `json:"re_evaluate_policies"`
	// Order places the stage in the flow; ties are broken by pk.
	Order                 int32                 `json:"order" af:"required"`
	PolicyEngineMode      flow.PolicyEngineMode `json:"policy_engine_mode"`
	InvalidResponseAction InvalidResponseAction `json:"invalid_response_action"`
}

// Defaults returns a Binding with authentik's defaults and nothing else.
func Defaults() Binding {
	return Binding{
		ReEvaluatePolicies:    true,
		PolicyEngineMode:      flow.PolicyEngineModeAny,
		InvalidResponseAction: InvalidResponseRetry,
	}
}

// New returns a binding of stage into target at order, with the defaults.
func New(target, stage uuid.UUID, order int32) Binding {
	b := Defaults()
	b.Target, b.Stage, b.Order = target, stage, order
	return b
}

// Validate checks the choice fields.
func (b Binding) Validate() error {
	return validation.Errors{
		"policy_engine_mode":      validate.Text(b.PolicyEngineMode, policyEngineModeRule),
		"invalid_response_action": validate.Text(b.InvalidResponseAction, invalidResponseActionRule),
	}.Filter()
}

var (
	policyEngineModeRule      = validate.Choice(flow.PolicyEngineModes...)
	invalidResponseActionRule = validate.Choice(InvalidResponseActions...)
)

// ValidateObject checks the cross-field rule: at least one of
// evaluate_on_plan and re_evaluate_policies must be true. Unlike authentik,
// it looks at the whole object, so a patch is judged by its result.
func (b Binding) ValidateObject() error {
	if !b.EvaluateOnPlan && !b.ReEvaluatePolicies {
		return validate.NonFieldError(MsgNoEvaluation)
	}
	return nil
}

// String is authentik's str(): "Flow-stage binding #<order> to <target>".
func (b Binding) String() string {
	return "Flow-stage binding #" + strconv.Itoa(int(b.Order)) + " to " + b.Target.String()
}

var computed = validate.Keys("stage_obj")

// Decode applies body to cur as op (see [validate.Apply]) and runs the
// field rules. Cross-field rules are the caller's next step
// ([validate.CheckObject]), after the store's reference and uniqueness
// checks.
func Decode(cur Binding, body []byte, op validate.Op) (Binding, error) {
	next, err := validate.Apply(cur, body, op, computed)
	next.PK, next.PolicyBindingModelPtrID = cur.PK, cur.PolicyBindingModelPtrID
	return next, err
}

// ApplyPatch applies an RFC 7396 merge patch to the writable
// representation of cur and validates the result, the cross-field rule
// included. References are not checked: that needs a store.
func ApplyPatch(cur Binding, patch []byte) (Binding, error) {
	next, err := Decode(cur, patch, validate.Patch)
	if err != nil {
		return next, err
	}
	if oe := validate.CheckObject(next); oe != nil {
		return next, oe
	}
	return next, nil
}

// View is a binding as the API shows it, with stage_obj.
type View struct {
	Binding
	StageObj stage.Summary
}

// MarshalJSON renders authentik's FlowStageBindingSerializer output.
func (v View) MarshalJSON() ([]byte, error) {
	b := v.Binding
	return json.Marshal(struct {
		PK                      uuid.UUID             `json:"pk"`
		PolicyBindingModelPtrID uuid.UUID             `json:"policybindingmodel_ptr_id"`
		Target                  uuid.UUID             `json:"target"`
		Stage                   uuid.UUID             `json:"stage"`
		StageObj                stage.Summary         `json:"stage_obj"`
		EvaluateOnPlan          bool                  `json:"evaluate_on_plan"`
		ReEvaluatePolicies      bool                  `json:"re_evaluate_policies"`
		Order                   int32                 `json:"order"`
		PolicyEngineMode        flow.PolicyEngineMode `json:"policy_engine_mode"`
		InvalidResponseAction   InvalidResponseAction `json:"invalid_response_action"`
	}{b.PK, b.PolicyBindingModelPtrID, b.Target, b.Stage, v.StageObj, b.EvaluateOnPlan,
		b.ReEvaluatePolicies, b.Order, b.PolicyEngineMode, b.InvalidResponseAction})
}
