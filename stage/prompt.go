package stage

import (
	"encoding/json"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelPromptStage is the model name of [PromptStage]; ModelPrompt is
// that of the [Prompt] objects it shows.
const (
	ModelPromptStage ModelName = "authentik_stages_prompt.promptstage"
	ModelPrompt      ModelName = "authentik_stages_prompt.prompt"
)

// MsgUniqueInKind is the message of a stage name that is taken, for a kind
// whose serializer checks the name among its own kind only (the prompt
// stage): see [Kind.UniqueMessage].
const MsgUniqueInKind = "This field must be unique."

// PromptStage shows prompts and validates the answers with policies:
// authentik's PromptStage.
type PromptStage struct {
	// Fields are the prompts shown, at least one. Deleting a prompt
	// removes it from the list.
	Fields []uuid.UUID `json:"fields" af:"required,nonempty,ref=prompt"`
	// ValidationPolicies check the answers. Deleting a policy removes it
	// from the list.
	ValidationPolicies []uuid.UUID `json:"validation_policies" af:"ref=policy"`
}

// ModelName implements [Config].
func (PromptStage) ModelName() ModelName { return ModelPromptStage }

// Validate requires a prompt, for a stage built in Go (a write already
// refuses an empty list).
func (c PromptStage) Validate() error {
	return validation.Errors{"fields": validate.Rules(c.Fields, nonEmpty(len(c.Fields)))}.Filter()
}

// PromptType is the kind of input a prompt is.
type PromptType string

// PromptTypes are authentik 2025.6's prompt types.
var PromptTypes = []PromptType{
	"text", "text_area", "text_read_only", "text_area_read_only", "username", "email", "password", "number",
	"checkbox", "radio-button-group", "dropdown", "date", "date-time", "file", "separator", "hidden", "static", "ak-locale",
}

var promptTypeRule = validate.Choice(PromptTypes...)

// Prompt is one input of a prompt stage: authentik's Prompt, served at
// /stages/prompt/prompts/. Its name is unique among prompts. Placeholder
// and InitialValue may hold Python expressions (PlaceholderExpression,
// InitialValueExpression), which authflow stores verbatim and does not
// check, as authentik checks them only when they are evaluated.
type Prompt struct {
	PK uuid.UUID `json:"pk" af:"readonly"`
	// Name is unique among prompts.
	Name string `json:"name" af:"required"`
	// FieldKey names the form field and where its value is kept; any
	// text is accepted (dots, dashes and spaces too), as in authentik.
	FieldKey               string     `json:"field_key" af:"required"`
	Label                  string     `json:"label" af:"required"`
	Type                   PromptType `json:"type" af:"required"`
	Required               bool       `json:"required"`
	Placeholder            string     `json:"placeholder" af:"blank"`
	InitialValue           string     `json:"initial_value" af:"blank"`
	Order                  int32      `json:"order"`
	SubText                string     `json:"sub_text" af:"blank"`
	PlaceholderExpression  bool       `json:"placeholder_expression"`
	InitialValueExpression bool       `json:"initial_value_expression"`
}

// DefaultPrompt returns a Prompt with authentik's defaults.
func DefaultPrompt() Prompt { return Prompt{Required: true} }

// Validate checks the type.
func (p Prompt) Validate() error {
	return validation.Errors{"type": validate.Text(p.Type, promptTypeRule)}.Filter()
}

// String is authentik's str(): the name and the field key.
func (p Prompt) String() string { return `Prompt field '` + p.FieldKey + `' type ` + string(p.Type) }

var promptComputed = validate.Keys("promptstage_set")

// DecodePrompt applies body to cur as op and runs the field rules. The
// seed era's writable nested promptstage_set is read-only here, as
// authentik could not write it either.
func DecodePrompt(cur Prompt, body []byte, op validate.Op) (Prompt, error) {
	next, err := validate.Apply(cur, body, op, promptComputed)
	next.PK = cur.PK
	return next, err
}

// PromptView is a prompt as the API shows it, with promptstage_set: the
// prompt stages that show it.
type PromptView struct {
	Prompt
	Stages []Summary
}

// MarshalJSON renders authentik's PromptSerializer output, in its order.
func (v PromptView) MarshalJSON() ([]byte, error) {
	p, stages := v.Prompt, v.Stages
	if stages == nil {
		stages = []Summary{}
	}
	return json.Marshal(struct {
		PK                     uuid.UUID  `json:"pk"`
		Name                   string     `json:"name"`
		FieldKey               string     `json:"field_key"`
		Label                  string     `json:"label"`
		Type                   PromptType `json:"type"`
		Required               bool       `json:"required"`
		Placeholder            string     `json:"placeholder"`
		InitialValue           string     `json:"initial_value"`
		Order                  int32      `json:"order"`
		PromptStageSet         []Summary  `json:"promptstage_set"`
		SubText                string     `json:"sub_text"`
		PlaceholderExpression  bool       `json:"placeholder_expression"`
		InitialValueExpression bool       `json:"initial_value_expression"`
	}{p.PK, p.Name, p.FieldKey, p.Label, p.Type, p.Required, p.Placeholder, p.InitialValue, p.Order, stages, p.SubText, p.PlaceholderExpression, p.InitialValueExpression})
}

var _ Config = PromptStage{}
