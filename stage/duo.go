package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelAuthenticatorDuo is the model name of [AuthenticatorDuo].
const ModelAuthenticatorDuo ModelName = "authentik_stages_authenticator_duo.authenticatorduostage"

// AuthenticatorDuo sets up Duo authenticator devices: authentik's
// AuthenticatorDuoStage. ClientSecret and AdminSecretKey are write-only:
// stored, never shown.
type AuthenticatorDuo struct {
	// ConfigureFlow is the flow an authenticated user runs to configure
	// this stage. It is set to null when that flow is deleted.
	ConfigureFlow *uuid.UUID `json:"configure_flow" af:"ref=flow"`
	// FriendlyName may be null but, in the seed era, not blank.
	FriendlyName        *string         `json:"friendly_name"`
	ClientID            string          `json:"client_id" af:"required"`
	ClientSecret        validate.Secret `json:"client_secret" af:"required,writeonly"`
	APIHostname         string          `json:"api_hostname" af:"required"`
	AdminIntegrationKey string          `json:"admin_integration_key" af:"blank"`
	AdminSecretKey      validate.Secret `json:"admin_secret_key" af:"blank,writeonly"`
}

// ModelName implements [Config].
func (AuthenticatorDuo) ModelName() ModelName { return ModelAuthenticatorDuo }

// Validate checks the fields that a Go caller may have left blank.
func (c AuthenticatorDuo) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.FriendlyName, validate.NotBlank),
		validation.Field(&c.ClientID, validate.NotBlank),
		validation.Field(&c.ClientSecret, validation.By(notBlankSecret)),
		validation.Field(&c.APIHostname, validate.NotBlank),
	)
}

func notBlankSecret(v any) error {
	if s, ok := v.(validate.Secret); ok && s.IsZero() {
		return validation.NewError(validate.CodeBlank, validate.MsgBlank)
	}
	return nil
}

var _ Config = AuthenticatorDuo{}
