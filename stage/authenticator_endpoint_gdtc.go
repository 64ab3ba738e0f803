package stage

import (
	"encoding/json"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelAuthenticatorEndpointGDTC is the model name of
// [AuthenticatorEndpointGDTC].
const ModelAuthenticatorEndpointGDTC ModelName = "authentik_stages_authenticator_endpoint_gdtc.authenticatorendpointgdtcstage"

// AuthenticatorEndpointGDTC connects Google Chrome Device Trust:
// authentik's AuthenticatorEndpointGDTCStage (enterprise), in its 2025.6
// form, where credentials is any JSON value (an object from 2025.8).
type AuthenticatorEndpointGDTC struct {
	// ConfigureFlow and FriendlyName are as in [AuthenticatorTOTP].
	ConfigureFlow *uuid.UUID `json:"configure_flow" af:"ref=flow"`
	FriendlyName  *string    `json:"friendly_name"`
	// Credentials are the Google service account's, any JSON but null. A
	// merge patch merges an object into an object.
	Credentials json.RawMessage `json:"credentials" af:"required"`
}

// ModelName implements [Config].
func (AuthenticatorEndpointGDTC) ModelName() ModelName { return ModelAuthenticatorEndpointGDTC }

// Validate checks the name.
func (c AuthenticatorEndpointGDTC) Validate() error {
	return validation.ValidateStruct(&c, validation.Field(&c.FriendlyName, validate.NotBlank))
}

var _ Config = AuthenticatorEndpointGDTC{}
