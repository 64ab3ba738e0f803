package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/invopop/validation"
)

// ModelEmail is the model name of [Email].
const ModelEmail ModelName = "authentik_stages_email.emailstage"

// EmailTemplate is one of the templates an Email stage can send: its path
// and its label, as GET /stages/email/templates/ lists them.
type EmailTemplate struct {
	Name        string
	Description string
}

// EmailTemplates are authentik 2025.6's built-in email templates, in its
// order. authentik also offers the files mounted in its template
// directories; authflow has none.
var EmailTemplates = []EmailTemplate{
	{"email/password_reset.html", "Password Reset"},
	{"email/account_confirmation.html", "Account Confirmation"},
	{"email/email_otp.html", "Email OTP"},
	{"email/event_notification.html", "Event Notification"},
}

// The default templates of [Email] and [AuthenticatorEmail].
const (
	EmailTemplatePasswordReset = "email/password_reset.html"
	EmailTemplateOTP           = "email/email_otp.html"
)

// Email sends the user an email with a link to confirm their address:
// authentik's EmailStage, in its 2025.6 form (no recovery_max_attempts or
// recovery_cache_timeout). Password is write-only: stored, never shown.
type Email struct {
	// UseGlobalSettings sends through authentik's global email settings,
	// ignoring the connection fields below.
	UseGlobalSettings bool            `json:"use_global_settings"`
	Host              string          `json:"host"`
	Port              int32           `json:"port"`
	Username          string          `json:"username" af:"blank"`
	Password          validate.Secret `json:"password" af:"blank,writeonly"`
	UseTLS            bool            `json:"use_tls"`
	UseSSL            bool            `json:"use_ssl"`
	Timeout           int32           `json:"timeout"`
	// FromAddress is an email address of at most 254 characters.
	FromAddress string `json:"from_address"`
	// TokenExpiry is a timedelta string ([validate.Timedelta]): how long
	// the link works.
	TokenExpiry string `json:"token_expiry"`
	Subject     string `json:"subject"`
	// Template is one of [EmailTemplates].
	Template              string `json:"template"`
	ActivateUserOnSuccess bool   `json:"activate_user_on_success"`
}

// DefaultEmail returns an Email with authentik's defaults.
func DefaultEmail() Email {
	return Email{Host: "localhost", Port: 25, Timeout: 10, FromAddress: defaultFromAddress,
		TokenExpiry: "minutes=30", Subject: "authentik", Template: EmailTemplatePasswordReset}
}

const defaultFromAddress = "system@authentik.local"

// ModelName implements [Config].
func (Email) ModelName() ModelName { return ModelEmail }

// Validate checks the connection, the duration and the template.
func (c Email) Validate() error {
	return validation.ValidateStruct(&c, append(smtpRules(&c.Host, &c.FromAddress, &c.TokenExpiry, &c.Subject),
		validation.Field(&c.Template, validate.NotBlank, validation.By(knownTemplate)),
	)...)
}

// smtpRules are the rules of the fields that [Email] and
// [AuthenticatorEmail] share.
func smtpRules(host, from, expiry, subject *string) []*validation.FieldRules {
	return []*validation.FieldRules{
		validation.Field(host, validate.NotBlank),
		validation.Field(from, validate.NotBlank, validate.All(validate.MaxLen(254), validate.Email)),
		validation.Field(expiry, validate.NotBlank, validate.Timedelta),
		validation.Field(subject, validate.NotBlank),
	}
}

// MsgInvalidTemplate is the message for a template that is not one of
// [EmailTemplates]: authentik's, with the value in single quotes.
func MsgInvalidTemplate(v string) string { return "Invalid template '" + v + "' specified." }

func knownTemplate(v any) error {
	s, _ := v.(string)
	for _, t := range EmailTemplates {
		if t.Name == s {
			return nil
		}
	}
	return validation.NewError("authflow_email_template", MsgInvalidTemplate(s))
}

var _ Config = Email{}
