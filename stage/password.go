package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelPassword is the model name of [Password].
const ModelPassword ModelName = "authentik_stages_password.passwordstage"

// PasswordBackend is a backend a Password stage checks the password
// against: the Python path of authentik's backend class.
type PasswordBackend string

// Password backends.
const (
	BackendInbuilt  PasswordBackend = "authentik.core.auth.InbuiltBackend"
	BackendToken    PasswordBackend = "authentik.core.auth.TokenBackend"
	BackendLDAP     PasswordBackend = "authentik.sources.ldap.auth.LDAPBackend"
	BackendKerberos PasswordBackend = "authentik.sources.kerberos.auth.KerberosBackend"
)

// Password asks for the user's password and checks it against its
// backends: authentik's PasswordStage.
type Password struct {
	// Backends are checked in order; at least one is required.
	Backends []PasswordBackend `json:"backends" af:"required,nonempty"`
	// ConfigureFlow is the flow an authenticated user runs to change the
	// password. It is set to null when that flow is deleted.
	ConfigureFlow              *uuid.UUID `json:"configure_flow" af:"ref=flow"`
	FailedAttemptsBeforeCancel int32      `json:"failed_attempts_before_cancel"`
	AllowShowPassword          bool       `json:"allow_show_password"`
}

// DefaultPassword returns a Password with authentik's defaults. Backends
// has none: a create must give them.
func DefaultPassword() Password {
	return Password{Backends: []PasswordBackend{}, FailedAttemptsBeforeCancel: 5}
}

// ModelName implements [Config].
func (Password) ModelName() ModelName { return ModelPassword }

// Validate checks the backends: a non-empty list of known ones.
func (c Password) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.Backends, nonEmpty(len(c.Backends)), validation.Each(validate.Choice(BackendInbuilt, BackendToken, BackendLDAP, BackendKerberos))),
	)
}

var _ Config = Password{}
