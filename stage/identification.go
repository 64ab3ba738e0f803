package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelIdentification is the model name of [Identification].
const ModelIdentification ModelName = "authentik_stages_identification.identificationstage"

// UserField is a user attribute an Identification stage matches the
// identifier against.
type UserField string

// User fields.
const (
	UserFieldEmail    UserField = "email"
	UserFieldUsername UserField = "username"
	UserFieldUPN      UserField = "upn"
)

// MsgIdentificationNoFields is the object rule of [Identification], in
// authentik's words (without a final period).
const MsgIdentificationNoFields = "When no user fields are selected, at least one source must be selected"

// Identification lets the user identify themselves: authentik's
// IdentificationStage, in its 2025.6 form (no webauthn_stage).
type Identification struct {
	// UserFields may be empty when Sources is not. authentik has no
	// default for it (a create without it fails in the database); here it
	// is an empty list, which the object rule then judges.
	UserFields []UserField `json:"user_fields"`
	// PasswordStage is a Password stage that asks for the password on the
	// same page. It is set to null when that stage is deleted.
	PasswordStage *uuid.UUID `json:"password_stage" af:"ref=authentik_stages_password.passwordstage"`
	// CaptchaStage is a Captcha stage shown on the same page. It is set to
	// null when that stage is deleted.
	CaptchaStage            *uuid.UUID `json:"captcha_stage" af:"ref=authentik_stages_captcha.captchastage"`
	CaseInsensitiveMatching bool       `json:"case_insensitive_matching"`
	ShowMatchedUser         bool       `json:"show_matched_user"`
	// EnrollmentFlow, RecoveryFlow and PasswordlessFlow are flows linked
	// from the stage. Deleting such a flow sets the field to its default,
	// null; authentik hides these links from the flow's used_by
	// (related_name "+"), and so does authflow.
	EnrollmentFlow   *uuid.UUID `json:"enrollment_flow" af:"ref=flow,on_delete=set_default,related=+"`
	RecoveryFlow     *uuid.UUID `json:"recovery_flow" af:"ref=flow,on_delete=set_default,related=+"`
	PasswordlessFlow *uuid.UUID `json:"passwordless_flow" af:"ref=flow,on_delete=set_default,related=+"`
	// Sources are the pks of sources offered for login. authflow does not
	// hold sources: any well-formed pk is accepted and kept as given.
	Sources           []uuid.UUID `json:"sources"`
	ShowSourceLabels  bool        `json:"show_source_labels"`
	PretendUserExists bool        `json:"pretend_user_exists"`
	EnableRememberMe  bool        `json:"enable_remember_me"`
}

// DefaultIdentification returns an Identification with authentik's
// defaults (and no user fields: see UserFields).
func DefaultIdentification() Identification {
	return Identification{UserFields: []UserField{}, Sources: []uuid.UUID{}, CaseInsensitiveMatching: true, ShowMatchedUser: true, PretendUserExists: true}
}

// ModelName implements [Config].
func (Identification) ModelName() ModelName { return ModelIdentification }

// Validate checks the user fields.
func (c Identification) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.UserFields, validation.Each(validate.Choice(UserFieldEmail, UserFieldUsername, UserFieldUPN))),
	)
}

// ValidateObject requires a user field or a source. authentik checks
// only the request body, so a patch that sends neither always fails
// there; here the merged object is judged.
func (c Identification) ValidateObject() error {
	if len(c.UserFields) == 0 && len(c.Sources) == 0 {
		return validation.NewError("authflow_identification_fields", MsgIdentificationNoFields)
	}
	return nil
}

var _ Config = Identification{}
