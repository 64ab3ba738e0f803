package stage

import (
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelAuthenticatorValidate is the model name of [AuthenticatorValidate].
const ModelAuthenticatorValidate ModelName = "authentik_stages_authenticator_validate.authenticatorvalidatestage"

// NotConfiguredAction is what an Authenticator Validation stage does for a
// user without a usable device.
type NotConfiguredAction string

// Not-configured actions.
const (
	NotConfiguredSkip      NotConfiguredAction = "skip"
	NotConfiguredDeny      NotConfiguredAction = "deny"
	NotConfiguredConfigure NotConfiguredAction = "configure"
)

// DeviceClass is a kind of authenticator device: the directory's, where
// devices are kept.
type DeviceClass = directory.DeviceClass

// Device classes.
const (
	DeviceStatic   = directory.DeviceStatic
	DeviceTOTP     = directory.DeviceTOTP
	DeviceWebAuthn = directory.DeviceWebAuthn
	DeviceDuo      = directory.DeviceDuo
	DeviceSMS      = directory.DeviceSMS
	DeviceEmail    = directory.DeviceEmail
)

// MsgValidateNoConfigurationStage is the rule of [AuthenticatorValidate]
// on not_configured_action, in authentik's words.
const MsgValidateNoConfigurationStage = `When "Not configured action" is set to "Configure", you must set a configuration stage.`

// AuthenticatorValidate checks one of the user's authenticator devices:
// authentik's AuthenticatorValidateStage.
type AuthenticatorValidate struct {
	NotConfiguredAction NotConfiguredAction `json:"not_configured_action"`
	// DeviceClasses may not be empty.
	DeviceClasses []DeviceClass `json:"device_classes" af:"nonempty"`
	// ConfigurationStages are the stages a user without a device runs
	// (not_configured_action "configure"). Deleting such a stage removes
	// it from the list; authentik hides the link from that stage's
	// used_by (related_name "+"), and so does authflow.
	ConfigurationStages []uuid.UUID `json:"configuration_stages" af:"ref=stage,related=+"`
	// LastAuthThreshold is a timedelta string ([validate.Timedelta]): a
	// device used this recently is accepted without a new check.
	LastAuthThreshold        string           `json:"last_auth_threshold"`
	WebAuthnUserVerification UserVerification `json:"webauthn_user_verification"`
	// WebAuthnAllowedDeviceTypes are AAGUIDs. authflow does not hold
	// WebAuthn device types: any well-formed AAGUID is accepted and kept
	// as given.
	WebAuthnAllowedDeviceTypes []uuid.UUID `json:"webauthn_allowed_device_types"`
	// WebAuthnAllowedDeviceTypesObj is read-only, and empty unless a Go
	// caller fills it in: see [AuthenticatorWebAuthn].
	WebAuthnAllowedDeviceTypesObj []WebAuthnDeviceType `json:"webauthn_allowed_device_types_obj" af:"readonly"`
}

// DefaultAuthenticatorValidate returns an AuthenticatorValidate with
// authentik's defaults: every device class.
func DefaultAuthenticatorValidate() AuthenticatorValidate {
	return AuthenticatorValidate{
		NotConfiguredAction:        NotConfiguredSkip,
		DeviceClasses:              []DeviceClass{DeviceStatic, DeviceTOTP, DeviceWebAuthn, DeviceDuo, DeviceSMS, DeviceEmail},
		ConfigurationStages:        []uuid.UUID{},
		LastAuthThreshold:          "seconds=0",
		WebAuthnUserVerification:   UserVerificationPreferred,
		WebAuthnAllowedDeviceTypes: []uuid.UUID{},

		WebAuthnAllowedDeviceTypesObj: []WebAuthnDeviceType{},
	}
}

// ModelName implements [Config].
func (AuthenticatorValidate) ModelName() ModelName { return ModelAuthenticatorValidate }

// Validate checks the choices and the duration.
func (c AuthenticatorValidate) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.NotConfiguredAction, validate.Choice(NotConfiguredSkip, NotConfiguredDeny, NotConfiguredConfigure)),
		validation.Field(&c.DeviceClasses, nonEmpty(len(c.DeviceClasses)), validation.Each(validate.Choice(DeviceStatic, DeviceTOTP, DeviceWebAuthn, DeviceDuo, DeviceSMS, DeviceEmail))),
		validation.Field(&c.LastAuthThreshold, validate.Timedelta),
		validation.Field(&c.WebAuthnUserVerification, userVerificationRule),
	)
}

// ValidateObject requires a configuration stage for the "configure"
// action: an error on not_configured_action, as authentik gives it.
// authentik looks only at the request body, so a patch there must send
// configuration_stages again; here the merged object is judged, and a
// stage whose last configuration stage was deleted fails until it is
// given another or another action.
func (c AuthenticatorValidate) ValidateObject() error {
	if c.NotConfiguredAction == NotConfiguredConfigure && len(c.ConfigurationStages) == 0 {
		return validation.Errors{"not_configured_action": validation.NewError("authflow_validate_configure", MsgValidateNoConfigurationStage)}
	}
	return nil
}

var _ Config = AuthenticatorValidate{}
