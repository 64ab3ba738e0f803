package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelAuthenticatorTOTP is the model name of [AuthenticatorTOTP].
const ModelAuthenticatorTOTP ModelName = "authentik_stages_authenticator_totp.authenticatortotpstage"

// TOTPDigits is the length of a TOTP code. authentik stores it as an
// integer and shows it as a string; a write may send either.
type TOTPDigits string

// TOTP code lengths.
const (
	TOTPDigits6 TOTPDigits = "6"
	TOTPDigits8 TOTPDigits = "8"
)

// AuthenticatorTOTP enrolls a device for time-based one-time passwords:
// authentik's AuthenticatorTOTPStage.
type AuthenticatorTOTP struct {
	// ConfigureFlow is the flow an authenticated user runs to configure
	// this stage. It is set to null when that flow is deleted.
	ConfigureFlow *uuid.UUID `json:"configure_flow" af:"ref=flow"`
	// FriendlyName may be null but, in 2025.6, not blank.
	FriendlyName *string `json:"friendly_name"`
	// Digits has no default: a create must give it.
	Digits TOTPDigits `json:"digits" af:"required"`
}

// ModelName implements [Config].
func (AuthenticatorTOTP) ModelName() ModelName { return ModelAuthenticatorTOTP }

// Validate checks the name and the digits.
func (c AuthenticatorTOTP) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.FriendlyName, validate.NotBlank),
		validation.Field(&c.Digits, validate.Choice(TOTPDigits6, TOTPDigits8)),
	)
}

var _ Config = AuthenticatorTOTP{}
