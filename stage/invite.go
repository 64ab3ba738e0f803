package stage

import (
	"encoding/hex"
	"encoding/json"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelInvite is the model name of [Invite], authentik's Invitation
// object (the invitation stage kind is [Invitation]).
const ModelInvite ModelName = "authentik_stages_invitation.invitation"

// Member is a user as an invitation's created_by shows it (authentik's
// GroupMember, [directory.Member]). The host says which user creates an
// invitation (by pk, the write's store.WriteOptions.Actor), and
// [Anonymous] stands in when it does not.
type Member = directory.Member

// Anonymous is the creator of an invitation that no user was named for:
// authentik's anonymous user, as its later blueprint importer fills
// created_by. Its pk is 0, which is no user, so such an invitation has
// no CreatedByUser.
var Anonymous = Member{Username: "AnonymousUser", IsActive: true, Attributes: map[string]any{}}

// Invite is an invitation: a token (its pk) that lets someone run an
// enrollment flow with data fixed in advance. authentik's Invitation,
// served at /stages/invitation/invitations/.
type Invite struct {
	PK uuid.UUID `json:"pk" af:"readonly"`
	// Name is a slug of at most 50 characters (the seed era's SlugField);
	// it is not unique.
	Name string `json:"name" af:"required"`
	// Expires is the time after which the invitation is void, as DRF
	// shows it (UTC, ISO 8601), or nil for never.
	Expires *string `json:"expires" af:"blank"`
	// FixedData is merged over the prompt data of a flow that uses the
	// invitation.
	FixedData map[string]any `json:"fixed_data" af:"jsondict"`
	// CreatedBy is a copy of the creating user as it was when the
	// invitation was created (or [Anonymous]); it never changes. The API
	// shows it only when CreatedByUser is null.
	CreatedBy Member `json:"created_by" af:"readonly"`
	// CreatedByUser is the creating user's pk, which the store sets when
	// it creates the invitation and checks exists: authentik's
	// created_by foreign key. Deleting the user deletes the invitation
	// (on_delete cascade), and the user's used_by lists it under
	// invitation_set. It is null for the anonymous creator, and in
	// records written before authflow held users. It is stored, never
	// decoded from a write, and not part of the API representation.
	CreatedByUser *int64 `json:"created_by_user" af:"readonly,ref=authentik_core.user,on_delete=cascade"`
	// SingleUse deletes the invitation once it has been used.
	SingleUse bool `json:"single_use"`
	// Flow, when set, is the only flow that may use the invitation.
	// Deleting it sets Flow to null (its default), which lets any flow
	// use the invitation, as in authentik.
	Flow *uuid.UUID `json:"flow" af:"ref=flow,on_delete=set_default"`
}

// DefaultInvite returns an Invite with authentik's defaults.
func DefaultInvite() Invite { return Invite{FixedData: map[string]any{}} }

var inviteNameRule = validate.All(validate.MaxLen(50), validate.Slug)

// Validate checks the name and the expiry.
func (i Invite) Validate() error {
	errs := validation.Errors{"name": validate.Text(i.Name, validate.NotBlank, inviteNameRule)}
	if i.Expires != nil {
		errs["expires"] = validate.Text(*i.Expires, validate.DateTime)
	}
	return errs.Filter()
}

// String is authentik's str(): "Invitation <pk in hex> created by
// <username>", from the stored copy of the creator (the store's str()
// names the user as it is now).
func (i Invite) String() string {
	return "Invitation " + hex.EncodeToString(i.PK[:]) + " created by " + i.CreatedBy.Username
}

var inviteComputed = validate.Keys("flow_obj")

// DecodeInvite applies body to cur as op and runs the field rules. The
// expiry is kept as DRF shows it: UTC, ISO 8601.
func DecodeInvite(cur Invite, body []byte, op validate.Op) (Invite, error) {
	next, err := validate.Apply(cur, body, op, inviteComputed)
	next.PK, next.CreatedBy, next.CreatedByUser = cur.PK, cur.CreatedBy, cur.CreatedByUser
	if next.Expires != nil {
		if t, ok := validate.ParseDateTime(*next.Expires); ok {
			s := validate.FormatDateTime(t)
			next.Expires = &s
		}
	}
	return next, err
}

// InviteView is an invitation as the API shows it, with flow_obj. The
// store renders it with CreatedBy as the user that CreatedByUser names is
// now (authentik's serializer reads the user live), or as stored when
// that is null.
type InviteView struct {
	Invite
	// FlowObj is the flow, or nil.
	FlowObj *flow.View
}

// MarshalJSON renders authentik's InvitationSerializer output, in its
// order.
func (v InviteView) MarshalJSON() ([]byte, error) {
	i := v.Invite
	fixed, by := i.FixedData, i.CreatedBy
	if fixed == nil {
		fixed = map[string]any{}
	}
	if by.Attributes == nil {
		by.Attributes = map[string]any{}
	}
	return json.Marshal(struct {
		PK        uuid.UUID      `json:"pk"`
		Name      string         `json:"name"`
		Expires   *string        `json:"expires"`
		FixedData map[string]any `json:"fixed_data"`
		CreatedBy Member         `json:"created_by"`
		SingleUse bool           `json:"single_use"`
		Flow      *uuid.UUID     `json:"flow"`
		FlowObj   *flow.View     `json:"flow_obj"`
	}{i.PK, i.Name, i.Expires, fixed, by, i.SingleUse, i.Flow, v.FlowObj})
}
