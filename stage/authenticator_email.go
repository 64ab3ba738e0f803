package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelAuthenticatorEmail is the model name of [AuthenticatorEmail].
const ModelAuthenticatorEmail ModelName = "authentik_stages_authenticator_email.authenticatoremailstage"

// AuthenticatorEmail sets up email one-time codes: authentik's
// AuthenticatorEmailStage. Its connection fields are [Email]'s, except
// that authentik shows Password in responses (it is not write-only), and
// so does authflow; it is a [validate.Secret] all the same, so it never
// shows in a log line or an error. Template is any non-blank text:
// authentik does not check it against the template list here.
type AuthenticatorEmail struct {
	// ConfigureFlow and FriendlyName are as in [AuthenticatorTOTP].
	ConfigureFlow     *uuid.UUID      `json:"configure_flow" af:"ref=flow"`
	FriendlyName      *string         `json:"friendly_name"`
	UseGlobalSettings bool            `json:"use_global_settings"`
	Host              string          `json:"host"`
	Port              int32           `json:"port"`
	Username          string          `json:"username" af:"blank"`
	Password          validate.Secret `json:"password" af:"blank"`
	UseTLS            bool            `json:"use_tls"`
	UseSSL            bool            `json:"use_ssl"`
	Timeout           int32           `json:"timeout"`
	FromAddress       string          `json:"from_address"`
	Subject           string          `json:"subject"`
	// TokenExpiry is a timedelta string ([validate.Timedelta]): how long
	// a code works.
	TokenExpiry string `json:"token_expiry"`
	Template    string `json:"template"`
}

// DefaultAuthenticatorEmail returns an AuthenticatorEmail with
// authentik's defaults.
func DefaultAuthenticatorEmail() AuthenticatorEmail {
	return AuthenticatorEmail{Host: "localhost", Port: 25, Timeout: 10, FromAddress: defaultFromAddress,
		Subject: "authentik Sign-in code", TokenExpiry: "minutes=30", Template: EmailTemplateOTP}
}

// ModelName implements [Config].
func (AuthenticatorEmail) ModelName() ModelName { return ModelAuthenticatorEmail }

// Validate checks the name, the connection and the duration.
func (c AuthenticatorEmail) Validate() error {
	return validation.ValidateStruct(&c, append(smtpRules(&c.Host, &c.FromAddress, &c.TokenExpiry, &c.Subject),
		validation.Field(&c.FriendlyName, validate.NotBlank),
		validation.Field(&c.Template, validate.NotBlank),
	)...)
}

var _ Config = AuthenticatorEmail{}
