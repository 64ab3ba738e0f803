package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// The invitation stage (authentik's stages/invitation, EXECUTOR.md
// §4.11).
const (
	// ContextInvitationInEffect is set (true) by an invitation stage that
	// found its invitation.
	ContextInvitationInEffect = "invitation_in_effect"
	// ContextInvitation is the invitation found, as the API shows it.
	ContextInvitation = "invitation"
	// EventInvitationUsed is the event of an invitation used; its message
	// names the invitation by its name, never its pk, which is the
	// invitation's secret (authentik's event holds it).
	EventInvitationUsed = "invitation_used"
	// MsgInvalidInvite is the error_message of an invitation stage
	// without a usable invitation (and not
	// continue_flow_without_invitation).
	MsgInvalidInvite = "Invalid invite/invite not found"
)

// invitationHandler is authentik's invitation stage: it has no
// challenge, and passes or denies when reached.
type invitationHandler struct{}

func (invitationHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	cfg := s.Stage.Config.(stage.Invitation)
	inv, ok, err := findInvite(ctx, s)
	if err != nil {
		return Result{}, err
	}
	if ok && inv.SingleUse {
		if testHookInviteFound != nil {
			testHookInviteFound()
		}
		// At once, as authentik does, before the user exists; and
		// before it is used: of two requests racing on it, the one
		// whose delete finds it gone has none.
		err := s.ex.s.Update(ctx, func(tx *store.Tx) error {
			return store.Invites.Delete(tx, store.PK(inv.PK), nil)
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			ok = false
		case err != nil:
			return Result{}, err
		}
	}
	if !ok {
		if cfg.ContinueFlowWithoutInvitation {
			return Pass(), nil
		}
		return Invalid(MsgInvalidInvite), nil
	}
	view, err := inviteMap(inv)
	if err != nil {
		return Result{}, err
	}
	s.Context[ContextInvitationInEffect] = true
	s.Context[ContextInvitation] = view
	merged := map[string]any{}
	if pd, ok := s.Context[ContextPromptData].(map[string]any); ok {
		mergeDeep(merged, pd)
	}
	mergeDeep(merged, inv.FixedData)
	s.Context[ContextPromptData] = merged
	s.Event(EventInvitationUsed, fmt.Sprintf("Invitation %s used", inv.Name))
	return Pass(), nil
}

// testHookInviteFound, when set (by tests), runs between finding a
// single-use invitation and deleting it: where a racing request wins.
var testHookInviteFound func()

func (h invitationHandler) Respond(ctx context.Context, s *Step, _ json.RawMessage) (Result, error) {
	return h.Challenge(ctx, s)
}

// findInvite finds the invitation the query's itoken, else its token,
// else prompt_data's token names: false when there is none, it is not
// a UUID, it is bound to another flow, or it expired.
func findInvite(ctx context.Context, s *Step) (stage.Invite, bool, error) {
	tok := s.Query.Get("itoken")
	if !s.Query.Has("itoken") {
		tok = s.Query.Get("token")
		if !s.Query.Has("token") {
			pd, _ := s.Context[ContextPromptData].(map[string]any)
			tok, _ = pd["token"].(string)
		}
	}
	pk, err := uuid.Parse(tok)
	if tok == "" || err != nil {
		return stage.Invite{}, false, nil
	}
	var inv stage.Invite
	err = s.ex.s.View(ctx, func(tx *store.Tx) error {
		var err error
		inv, err = store.Invites.Get(tx, store.PK(pk))
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return stage.Invite{}, false, nil
	case err != nil:
		return stage.Invite{}, false, err
	}
	if inv.Flow != nil && *inv.Flow != s.Flow.PK {
		return stage.Invite{}, false, nil
	}
	if inv.Expires != nil {
		exp, err := time.Parse(time.RFC3339Nano, *inv.Expires)
		if err == nil && !exp.After(s.ex.now()) {
			return stage.Invite{}, false, nil
		}
	}
	return inv, true, nil
}

// inviteMap is the invitation as its JSON shows it.
func inviteMap(inv stage.Invite) (map[string]any, error) {
	b, err := json.Marshal(inv)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// mergeDeep merges src into dst as deepmerge's always_merger does:
// objects merged key by key, lists appended, anything else replaced.
// Nested objects and lists are copied, never shared with src.
func mergeDeep(dst, src map[string]any) {
	for k, v := range src {
		switch sv := v.(type) {
		case map[string]any:
			if dv, ok := dst[k].(map[string]any); ok {
				mergeDeep(dv, sv)
				continue
			}
			m := map[string]any{}
			mergeDeep(m, sv)
			dst[k] = m
		case []any:
			dv, _ := dst[k].([]any)
			dst[k] = append(append([]any{}, dv...), copyList(sv)...)
		default:
			dst[k] = v
		}
	}
}

func copyList(l []any) []any {
	out := make([]any, len(l))
	for i, v := range l {
		switch x := v.(type) {
		case map[string]any:
			m := map[string]any{}
			mergeDeep(m, x)
			out[i] = m
		case []any:
			out[i] = copyList(x)
		default:
			out[i] = v
		}
	}
	return out
}
