package stage

// ModelInvitation is the model name of [Invitation].
const ModelInvitation ModelName = "authentik_stages_invitation.invitationstage"

// Invitation lets users enroll through a single link that carries
// pre-defined data: authentik's InvitationStage.
type Invitation struct {
	// ContinueFlowWithoutInvitation skips the stage when no invitation is
	// given; when false (the default) the flow is cancelled.
	ContinueFlowWithoutInvitation bool `json:"continue_flow_without_invitation"`
}

// ModelName implements [Config].
func (Invitation) ModelName() ModelName { return ModelInvitation }

var _ Config = Invitation{}
