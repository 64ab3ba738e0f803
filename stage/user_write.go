package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelUserWrite is the model name of [UserWrite].
const ModelUserWrite ModelName = "authentik_stages_user_write.userwritestage"

// UserCreationMode says whether a User Write stage may create users.
type UserCreationMode string

// User creation modes.
const (
	UserCreationNever        UserCreationMode = "never_create"
	UserCreationWhenRequired UserCreationMode = "create_when_required"
	UserCreationAlways       UserCreationMode = "always_create"
)

// UserType is the type given to users a User Write stage creates.
type UserType string

// User types.
const (
	UserTypeInternal               UserType = "internal"
	UserTypeExternal               UserType = "external"
	UserTypeServiceAccount         UserType = "service_account"
	UserTypeInternalServiceAccount UserType = "internal_service_account"
)

// UserWrite writes pending data into the pending user, creating the user
// when needed: authentik's UserWriteStage.
type UserWrite struct {
	UserCreationMode      UserCreationMode `json:"user_creation_mode"`
	CreateUsersAsInactive bool             `json:"create_users_as_inactive"`
	// CreateUsersGroup is the pk of a group that new users join, or nil.
	// Deleting the group sets it back to its default, nil (authentik's
	// SET_DEFAULT); the group's used_by lists the stage.
	CreateUsersGroup *uuid.UUID `json:"create_users_group" af:"ref=authentik_core.group,on_delete=set_default"`
	UserType         UserType   `json:"user_type"`
	UserPathTemplate string     `json:"user_path_template" af:"blank"`
}

// DefaultUserWrite returns a UserWrite with authentik's defaults.
func DefaultUserWrite() UserWrite {
	return UserWrite{UserCreationMode: UserCreationWhenRequired, UserType: UserTypeExternal}
}

// ModelName implements [Config].
func (UserWrite) ModelName() ModelName { return ModelUserWrite }

// Validate checks the choice fields.
func (c UserWrite) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.UserCreationMode, validate.Choice(UserCreationNever, UserCreationWhenRequired, UserCreationAlways)),
		validation.Field(&c.UserType, validate.Choice(UserTypeInternal, UserTypeExternal, UserTypeServiceAccount, UserTypeInternalServiceAccount)),
	)
}

var _ Config = UserWrite{}
