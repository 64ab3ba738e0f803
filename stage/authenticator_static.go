package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelAuthenticatorStatic is the model name of [AuthenticatorStatic].
const ModelAuthenticatorStatic ModelName = "authentik_stages_authenticator_static.authenticatorstaticstage"

// AuthenticatorStatic generates static backup tokens for the user:
// authentik's AuthenticatorStaticStage, in its 2025.6 form (no maximum on
// token_length).
type AuthenticatorStatic struct {
	// ConfigureFlow is the flow an authenticated user runs to configure
	// this stage. It is set to null when that flow is deleted.
	ConfigureFlow *uuid.UUID `json:"configure_flow" af:"ref=flow"`
	// FriendlyName may be null but, in 2025.6, not blank.
	FriendlyName *string `json:"friendly_name"`
	TokenCount   int32   `json:"token_count" af:"min=0"`
	TokenLength  int32   `json:"token_length" af:"min=0"`
}

// DefaultAuthenticatorStatic returns an AuthenticatorStatic with
// authentik's defaults.
func DefaultAuthenticatorStatic() AuthenticatorStatic {
	return AuthenticatorStatic{TokenCount: 6, TokenLength: 12}
}

// ModelName implements [Config].
func (AuthenticatorStatic) ModelName() ModelName { return ModelAuthenticatorStatic }

// Validate checks what a Go caller may have set out of range.
func (c AuthenticatorStatic) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.FriendlyName, validate.NotBlank),
		validation.Field(&c.TokenCount, validation.Min(int32(0)).Error(validate.MinValue(0))),
		validation.Field(&c.TokenLength, validation.Min(int32(0)).Error(validate.MinValue(0))),
	)
}

var _ Config = AuthenticatorStatic{}
