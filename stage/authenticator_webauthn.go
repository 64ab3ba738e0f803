package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelAuthenticatorWebAuthn is the model name of [AuthenticatorWebAuthn].
const ModelAuthenticatorWebAuthn ModelName = "authentik_stages_authenticator_webauthn.authenticatorwebauthnstage"

// UserVerification says whether a WebAuthn authenticator must verify the
// user.
type UserVerification string

// User verification requirements.
const (
	UserVerificationRequired    UserVerification = "required"
	UserVerificationPreferred   UserVerification = "preferred"
	UserVerificationDiscouraged UserVerification = "discouraged"
)

// ResidentKeyRequirement says whether a WebAuthn authenticator must
// create a discoverable credential.
type ResidentKeyRequirement string

// Resident key requirements.
const (
	ResidentKeyDiscouraged ResidentKeyRequirement = "discouraged"
	ResidentKeyPreferred   ResidentKeyRequirement = "preferred"
	ResidentKeyRequired    ResidentKeyRequirement = "required"
)

// AuthenticatorAttachment restricts WebAuthn to built-in or roaming
// authenticators.
type AuthenticatorAttachment string

// Authenticator attachments.
const (
	AttachmentPlatform      AuthenticatorAttachment = "platform"
	AttachmentCrossPlatform AuthenticatorAttachment = "cross-platform"
)

// WebAuthnDeviceType is a kind of WebAuthn authenticator, by its AAGUID,
// as the read-only *_obj lists show it (authentik's WebAuthnDeviceType).
type WebAuthnDeviceType struct {
	AAGUID      uuid.UUID `json:"aaguid"`
	Description string    `json:"description"`
}

// AuthenticatorWebAuthn sets up WebAuthn authenticators: authentik's
// AuthenticatorWebAuthnStage, in its 2025.6 form (no max_attempts).
type AuthenticatorWebAuthn struct {
	// ConfigureFlow and FriendlyName are as in [AuthenticatorTOTP].
	ConfigureFlow           *uuid.UUID               `json:"configure_flow" af:"ref=flow"`
	FriendlyName            *string                  `json:"friendly_name"`
	UserVerification        UserVerification         `json:"user_verification"`
	AuthenticatorAttachment *AuthenticatorAttachment `json:"authenticator_attachment"`
	ResidentKeyRequirement  ResidentKeyRequirement   `json:"resident_key_requirement"`
	// DeviceTypeRestrictions are the AAGUIDs of the device types allowed
	// (none: any). authflow does not hold WebAuthn device types: any
	// well-formed AAGUID is accepted and kept as given.
	DeviceTypeRestrictions []uuid.UUID `json:"device_type_restrictions"`
	// DeviceTypeRestrictionsObj is read-only. authentik describes each
	// restriction here; authflow, holding no device types, leaves it
	// empty unless a Go caller fills it in.
	DeviceTypeRestrictionsObj []WebAuthnDeviceType `json:"device_type_restrictions_obj" af:"readonly"`
}

// DefaultAuthenticatorWebAuthn returns an AuthenticatorWebAuthn with
// authentik's defaults.
func DefaultAuthenticatorWebAuthn() AuthenticatorWebAuthn {
	return AuthenticatorWebAuthn{UserVerification: UserVerificationPreferred, ResidentKeyRequirement: ResidentKeyPreferred,
		DeviceTypeRestrictions: []uuid.UUID{}, DeviceTypeRestrictionsObj: []WebAuthnDeviceType{}}
}

// ModelName implements [Config].
func (AuthenticatorWebAuthn) ModelName() ModelName { return ModelAuthenticatorWebAuthn }

var userVerificationRule = validate.Choice(UserVerificationRequired, UserVerificationPreferred, UserVerificationDiscouraged)

// Validate checks the name and the choices.
func (c AuthenticatorWebAuthn) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.FriendlyName, validate.NotBlank),
		validation.Field(&c.UserVerification, userVerificationRule),
		validation.Field(&c.AuthenticatorAttachment, validate.Choice(AttachmentPlatform, AttachmentCrossPlatform)),
		validation.Field(&c.ResidentKeyRequirement, validate.Choice(ResidentKeyDiscouraged, ResidentKeyPreferred, ResidentKeyRequired)),
	)
}

var _ Config = AuthenticatorWebAuthn{}
