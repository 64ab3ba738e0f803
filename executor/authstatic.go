package executor

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/otp"
	"github.com/authflow/authflow/stage"
)

// AuthenticatorStaticChallenge is ak-stage-authenticator-static: the
// codes of the static device being set up, shown until it is saved.
type AuthenticatorStaticChallenge struct {
	Envelope
	UserInfo
	Codes []string `json:"codes"`
}

// authStaticHandler is authentik's authenticator_static setup stage:
// token_count codes of token_length letters and digits, saved (as
// hashes, directory.HashStaticToken) when the user answers.
type authStaticHandler struct{}

// tokens are the codes being set up, made on first sight.
func (authStaticHandler) tokens(s *Step, cfg stage.AuthenticatorStatic) ([]string, error) {
	if l := contextStrings(s.Context[ContextStaticTokens]); l != nil {
		return l, nil
	}
	codes, err := otp.StaticTokens(int(cfg.TokenCount), int(cfg.TokenLength))
	if err != nil {
		return nil, fmt.Errorf("executor: static codes: %w", err)
	}
	stored := make([]any, len(codes))
	for i, c := range codes {
		stored[i] = c
	}
	s.Context[ContextStaticTokens] = stored
	return codes, nil
}

func (h authStaticHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	if _, _, ok, err := setupUser(ctx, s); err != nil || !ok {
		return Pass(), err
	}
	if s.ex.devices == nil {
		return noDevices(s), nil
	}
	codes, err := h.tokens(s, s.Stage.Config.(stage.AuthenticatorStatic))
	if err != nil {
		return Result{}, err
	}
	return Show(&AuthenticatorStaticChallenge{Envelope: s.Envelope(ComponentAuthenticatorStatic), UserInfo: s.UserInfo(), Codes: codes}), nil
}

func (h authStaticHandler) Respond(ctx context.Context, s *Step, _ json.RawMessage) (Result, error) {
	user, _, ok, err := setupUser(ctx, s)
	if err != nil || !ok {
		return Pass(), err
	}
	if s.ex.devices == nil {
		return noDevices(s), nil
	}
	codes := contextStrings(s.Context[ContextStaticTokens])
	if codes == nil {
		// No codes shown yet: show them first.
		return h.Challenge(ctx, s)
	}
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = directory.HashStaticToken(c)
	}
	dev := directory.Device{Class: directory.DeviceStatic, User: user, Name: "Static Token", Confirmed: true,
		Static: &directory.StaticDevice{TokenHashes: hashes}}
	if _, err := s.ex.devices.CreateDevice(ctx, dev); err != nil {
		return Result{}, fmt.Errorf("executor: saving a static device of user %d: %w", user, err)
	}
	delete(s.Context, ContextStaticTokens)
	return Pass(), nil
}
