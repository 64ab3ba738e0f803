package stage

// The stage kinds with no configuration beyond a message, or none at all.

// Model names of [Deny], [Dummy], [UserLogout] and [UserDelete].
const (
	ModelDeny       ModelName = "authentik_stages_deny.denystage"
	ModelDummy      ModelName = "authentik_stages_dummy.dummystage"
	ModelUserLogout ModelName = "authentik_stages_user_logout.userlogoutstage"
	ModelUserDelete ModelName = "authentik_stages_user_delete.userdeletestage"
)

// Deny cancels the flow: authentik's DenyStage.
type Deny struct {
	// DenyMessage is shown to the user; blank means authentik's default
	// text.
	DenyMessage string `json:"deny_message" af:"blank"`
}

// ModelName implements [Config].
func (Deny) ModelName() ModelName { return ModelDeny }

// Dummy is authentik's DummyStage, for debugging: it passes, or fails
// with an error when ThrowError is set.
type Dummy struct {
	ThrowError bool `json:"throw_error"`
}

// ModelName implements [Config].
func (Dummy) ModelName() ModelName { return ModelDummy }

// UserLogout ends the user's current session: authentik's
// UserLogoutStage. It has no settings.
type UserLogout struct{}

// ModelName implements [Config].
func (UserLogout) ModelName() ModelName { return ModelUserLogout }

// UserDelete deletes the pending user without asking: authentik's
// UserDeleteStage. It has no settings.
type UserDelete struct{}

// ModelName implements [Config].
func (UserDelete) ModelName() ModelName { return ModelUserDelete }

var _ = []Config{Deny{}, Dummy{}, UserLogout{}, UserDelete{}}
