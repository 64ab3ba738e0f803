package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelMutualTLS is the model name of [MutualTLS].
const ModelMutualTLS ModelName = "authentik_stages_mtls.mutualtlsstage"

// MutualTLSMode says whether a client certificate is required.
type MutualTLSMode string

// Mutual TLS modes.
const (
	MutualTLSOptional MutualTLSMode = "optional"
	MutualTLSRequired MutualTLSMode = "required"
)

// CertAttribute is the certificate attribute a Mutual TLS stage reads.
type CertAttribute string

// Certificate attributes.
const (
	CertAttributeSubject    CertAttribute = "subject"
	CertAttributeCommonName CertAttribute = "common_name"
	CertAttributeEmail      CertAttribute = "email"
)

// UserAttribute is the user attribute a certificate attribute is matched
// against.
type UserAttribute string

// User attributes.
const (
	UserAttributeUsername UserAttribute = "username"
	UserAttributeEmail    UserAttribute = "email"
)

// MutualTLS authenticates or enrolls users by client certificate:
// authentik's MutualTLSStage (enterprise, 2025.6+). Mode, CertAttribute
// and UserAttribute have no default: a create must give them.
type MutualTLS struct {
	Mode MutualTLSMode `json:"mode" af:"required"`
	// CertificateAuthorities are pks of certificate key pairs. authflow
	// does not hold certificates: any well-formed pk is accepted and kept
	// as given.
	CertificateAuthorities []uuid.UUID   `json:"certificate_authorities"`
	CertAttribute          CertAttribute `json:"cert_attribute" af:"required"`
	UserAttribute          UserAttribute `json:"user_attribute" af:"required"`
}

// DefaultMutualTLS returns a MutualTLS with no certificate authorities
// and no choices made.
func DefaultMutualTLS() MutualTLS { return MutualTLS{CertificateAuthorities: []uuid.UUID{}} }

// ModelName implements [Config].
func (MutualTLS) ModelName() ModelName { return ModelMutualTLS }

// Validate checks the choices.
func (c MutualTLS) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.Mode, validate.Choice(MutualTLSOptional, MutualTLSRequired)),
		validation.Field(&c.CertAttribute, validate.Choice(CertAttributeSubject, CertAttributeCommonName, CertAttributeEmail)),
		validation.Field(&c.UserAttribute, validate.Choice(UserAttributeUsername, UserAttributeEmail)),
	)
}

var _ Config = MutualTLS{}
