package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelRedirect is the model name of [Redirect].
const ModelRedirect ModelName = "authentik_stages_redirect.redirectstage"

// RedirectMode says where a Redirect stage sends the user.
type RedirectMode string

// Redirect modes.
const (
	RedirectStatic RedirectMode = "static"
	RedirectFlow   RedirectMode = "flow"
)

// The object rules of [Redirect], in authentik's words.
const (
	MsgRedirectNoURL  = "Target URL should be present when mode is Static."
	MsgRedirectNoFlow = "Target Flow should be present when mode is Flow."
)

// Redirect sends the user to a URL or to another flow: authentik's
// RedirectStage.
type Redirect struct {
	// KeepContext carries the flow's context over to the target flow.
	KeepContext bool         `json:"keep_context"`
	Mode        RedirectMode `json:"mode" af:"required"`
	// TargetStatic is the URL of the static mode.
	TargetStatic string `json:"target_static" af:"blank"`
	// TargetFlow is the flow of the flow mode. It is set to null when that
	// flow is deleted, after which the stage fails its object rule until
	// it is given another.
	TargetFlow *uuid.UUID `json:"target_flow" af:"ref=flow"`
}

// DefaultRedirect returns a Redirect with authentik's defaults. Mode has
// none: a create must give it.
func DefaultRedirect() Redirect { return Redirect{KeepContext: true} }

// ModelName implements [Config].
func (Redirect) ModelName() ModelName { return ModelRedirect }

// Validate checks the mode.
func (c Redirect) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.Mode, validate.Choice(RedirectStatic, RedirectFlow)),
	)
}

// ValidateObject requires the target of the mode. authentik checks this
// only when a request sends mode; here it holds for the merged object, so
// a patch cannot leave a stage without its target.
func (c Redirect) ValidateObject() error {
	switch {
	case c.Mode == RedirectStatic && c.TargetStatic == "":
		return validation.NewError("authflow_redirect_target", MsgRedirectNoURL)
	case c.Mode == RedirectFlow && c.TargetFlow == nil:
		return validation.NewError("authflow_redirect_target", MsgRedirectNoFlow)
	}
	return nil
}

var _ Config = Redirect{}
