package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelAuthenticatorSMS is the model name of [AuthenticatorSMS].
const ModelAuthenticatorSMS ModelName = "authentik_stages_authenticator_sms.authenticatorsmsstage"

// SMSProvider is the service an SMS stage sends through.
type SMSProvider string

// SMS providers.
const (
	SMSProviderTwilio  SMSProvider = "twilio"
	SMSProviderGeneric SMSProvider = "generic"
)

// SMSAuthType is how the generic provider authenticates.
type SMSAuthType string

// SMS auth types.
const (
	SMSAuthBasic  SMSAuthType = "basic"
	SMSAuthBearer SMSAuthType = "bearer"
)

// AuthenticatorSMS sets up one-time codes sent by SMS: authentik's
// AuthenticatorSMSStage. Auth (the Twilio token, or the generic
// provider's user or bearer token) and AuthPassword are shown in
// responses, as authentik shows them (its schema requires auth in every
// response, and a PUT needs it); they are [validate.Secret] all the same,
// so they never show in a log line or an error, and lists cannot filter
// on them.
type AuthenticatorSMS struct {
	// ConfigureFlow and FriendlyName are as in [AuthenticatorTOTP].
	ConfigureFlow *uuid.UUID      `json:"configure_flow" af:"ref=flow"`
	FriendlyName  *string         `json:"friendly_name"`
	Provider      SMSProvider     `json:"provider" af:"required"`
	FromNumber    string          `json:"from_number" af:"required"`
	AccountSID    string          `json:"account_sid" af:"required"`
	Auth          validate.Secret `json:"auth" af:"required"`
	AuthPassword  validate.Secret `json:"auth_password" af:"blank"`
	AuthType      SMSAuthType     `json:"auth_type"`
	// VerifyOnly checks the number without keeping it on the device.
	VerifyOnly bool `json:"verify_only"`
	// Mapping is the pk of a webhook notification mapping for the generic
	// provider. authflow does not hold mappings: any well-formed pk is
	// accepted and kept as given.
	Mapping *uuid.UUID `json:"mapping"`
}

// DefaultAuthenticatorSMS returns an AuthenticatorSMS with authentik's
// defaults. The provider and its credentials have none: a create must
// give them.
func DefaultAuthenticatorSMS() AuthenticatorSMS { return AuthenticatorSMS{AuthType: SMSAuthBasic} }

// ModelName implements [Config].
func (AuthenticatorSMS) ModelName() ModelName { return ModelAuthenticatorSMS }

// Validate checks the name, the choices and what a Go caller may have
// left blank.
func (c AuthenticatorSMS) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.FriendlyName, validate.NotBlank),
		validation.Field(&c.Provider, validate.Choice(SMSProviderTwilio, SMSProviderGeneric)),
		validation.Field(&c.FromNumber, validate.NotBlank),
		validation.Field(&c.AccountSID, validate.NotBlank),
		validation.Field(&c.Auth, validation.By(notBlankSecret)),
		validation.Field(&c.AuthType, validate.Choice(SMSAuthBasic, SMSAuthBearer)),
	)
}

var _ Config = AuthenticatorSMS{}
