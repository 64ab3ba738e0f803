package executor

import (
	"context"
	"fmt"

	"github.com/authflow/authflow/reputation"
)

// ChangeReputation adds amount to the reputation score of the client's
// address and identifier (Options.Reputation), as authentik's
// update_score: the login path calls it with reputation.LoginFailed for
// a password every backend refused, reputation.IdentificationFailed for
// an identifier that matches no user, and reputation.LoggedIn at a
// login. A host stage that fails a login (authentik sends login_failed
// from authenticator_validate too) calls it with LoginFailed. An unknown
// client address counts as reputation.UnknownIP.
func (s *Step) ChangeReputation(ctx context.Context, identifier string, amount int64) error {
	ip := reputation.UnknownIP
	if s.Request.HTTP != nil && s.Request.HTTP.ClientIP.IsValid() {
		ip = s.Request.HTTP.ClientIP
	}
	if err := s.ex.rep.Add(ctx, ip, identifier, amount); err != nil {
		return fmt.Errorf("executor: changing a reputation score: %w", err)
	}
	return nil
}
