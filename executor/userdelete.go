package executor

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/authflow/authflow/directory"
)

// MsgNoPendingUser is the user_delete stage's message without a user to
// delete, which authentik shows the user (as an error message, an
// EventMessage event here) before denying the flow with "Unknown error".
const MsgNoPendingUser = "No Pending User."

// userDeleteHandler is authentik's user_delete stage: it logs the
// session out, deletes the pending user (else the request's user), and
// removes pending_user from the context.
type userDeleteHandler struct{}

func (userDeleteHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	pk, anonymous := validateUser(s)
	if anonymous {
		s.Event(EventMessage, MsgNoPendingUser)
		return Invalid(""), nil
	}
	if pk == 0 {
		// A stand-in pending user (an unknown identifier's): authentik
		// fails deleting a user it never saved.
		return Invalid(""), nil
	}
	s.logout()
	if err := s.ex.dir.DeleteUser(ctx, pk); err != nil && !errors.Is(err, directory.ErrNotFound) {
		return Result{}, err
	}
	delete(s.Context, directory.ContextPendingUser)
	return Pass(), nil
}

func (h userDeleteHandler) Respond(ctx context.Context, s *Step, _ json.RawMessage) (Result, error) {
	return h.Challenge(ctx, s)
}
