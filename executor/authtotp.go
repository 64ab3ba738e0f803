package executor

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/otp"
	"github.com/authflow/authflow/stage"
)

// Components of the authenticator setup stages.
const (
	ComponentAuthenticatorTOTP   = "ak-stage-authenticator-totp"
	ComponentAuthenticatorStatic = "ak-stage-authenticator-static"
)

// Messages of the authenticator setup stages.
const (
	// MsgCodeMismatch is the code error of a setup stage's confirmation
	// code that does not match, in authentik's words.
	MsgCodeMismatch = "Code does not match"
	// MsgNoDevices is authflow's: the error_message (and
	// configuration_error event) of a setup stage reached by an executor
	// without a device store (Options.Devices nil and a directory that
	// keeps no devices).
	MsgNoDevices = "This authflow keeps no authenticator devices (executor Options.Devices)."
)

// Context keys of the setup stages: the device being set up, which
// authentik keeps in session keys (totp_device, static_device and
// static_device_tokens) and authflow in the plan context of the
// execution, so that it survives a re-render and is reused while the
// execution lasts; it is removed on success. The inspector shows them
// redacted (they hold a TOTP key, static codes).
const (
	// ContextTOTPDevice is {"key": hex, "digits": n} of the TOTP device
	// being set up.
	ContextTOTPDevice = "authflow/stages/authenticator_totp/totp_device"
	// ContextStaticTokens are the codes of the static device being set
	// up.
	ContextStaticTokens = "authflow/stages/authenticator_static/static_device_tokens"
)

// setupUser is the user a setup stage sets a device up for (authentik's
// get_pending_user): the pending user, else the request's; ok is false
// for none, a stand-in (whose device could not be saved) or a user the
// directory no longer holds, and the stage passes, as authentik's for an
// anonymous user.
// The username is the directory's (the request's may be unknown to a
// host on the Go API).
func setupUser(ctx context.Context, s *Step) (pk int64, username string, ok bool, err error) {
	pk, anonymous := validateUser(s)
	if anonymous || pk == 0 {
		return 0, "", false, nil
	}
	u, err := s.ex.user(ctx, pk)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		return 0, "", false, nil
	case err != nil:
		return 0, "", false, err
	}
	return pk, u.Username, true, nil
}

// noDevices denies a setup stage of an executor without a device store.
func noDevices(s *Step) Result {
	s.Event(EventConfigurationError, MsgNoDevices)
	return Deny(MsgNoDevices)
}

// AuthenticatorTOTPChallenge is ak-stage-authenticator-totp: the
// otpauth:// URI of the device being set up, which holds its key.
type AuthenticatorTOTPChallenge struct {
	Envelope
	UserInfo
	ConfigURL string `json:"config_url"`
}

// authTOTPHandler is authentik's authenticator_totp setup stage.
type authTOTPHandler struct{}

// totpSetup is the TOTP device being set up, from the context.
type totpSetup struct {
	key    []byte
	digits int
}

// stored is the device being set up, if the context holds one.
func (authTOTPHandler) stored(s *Step) (totpSetup, bool) {
	if m, ok := s.Context[ContextTOTPDevice].(map[string]any); ok {
		hk, _ := m["key"].(string)
		d, _ := m["digits"].(float64)
		if key, err := hex.DecodeString(hk); err == nil && len(key) > 0 && (d == 6 || d == 8) {
			return totpSetup{key, int(d)}, true
		}
	}
	return totpSetup{}, false
}

// setup is the device being set up, made on first sight with a new key
// and the stage's digits.
func (h authTOTPHandler) setup(s *Step, cfg stage.AuthenticatorTOTP) (totpSetup, error) {
	if st, ok := h.stored(s); ok {
		return st, nil
	}
	key, err := otp.NewKey()
	if err != nil {
		return totpSetup{}, fmt.Errorf("executor: a TOTP key: %w", err)
	}
	digits, _ := strconv.Atoi(string(cfg.Digits))
	if digits != 8 {
		digits = otp.DefaultDigits
	}
	s.Context[ContextTOTPDevice] = map[string]any{"key": hex.EncodeToString(key), "digits": float64(digits)}
	return totpSetup{key, digits}, nil
}

func (h authTOTPHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	_, username, ok, err := setupUser(ctx, s)
	if err != nil || !ok {
		return Pass(), err
	}
	if s.ex.devices == nil {
		return noDevices(s), nil
	}
	st, err := h.setup(s, s.Stage.Config.(stage.AuthenticatorTOTP))
	if err != nil {
		return Result{}, err
	}
	return Show(&AuthenticatorTOTPChallenge{
		Envelope: s.Envelope(ComponentAuthenticatorTOTP), UserInfo: s.UserInfo(),
		ConfigURL: otp.URI(s.ex.Brand().Title, username, st.key, st.digits),
	}), nil
}

// authTOTPResponse is the challenge's response: the code (DRF's
// IntegerField).
type authTOTPResponse struct {
	Code int64 `json:"code" af:"required"`
}

func (h authTOTPHandler) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	user, _, ok, err := setupUser(ctx, s)
	if err != nil || !ok {
		return Pass(), err
	}
	if s.ex.devices == nil {
		return noDevices(s), nil
	}
	resp, verr, err := DecodeResponse[authTOTPResponse](body)
	if err != nil {
		return Result{}, err
	}
	if verr != nil {
		return Retry(verr), nil
	}
	st, ok := h.stored(s)
	if !ok {
		// No device shown yet (authentik's validate_code without one).
		return Retry(fieldError("code", MsgCodeMismatch)), nil
	}
	dev := directory.Device{Class: directory.DeviceTOTP, User: user, Name: "TOTP Authenticator", Confirmed: true,
		TOTP: &directory.TOTPDevice{Key: st.key, Digits: st.digits, Step: otp.DefaultStep, Tolerance: otp.DefaultTolerance, LastT: -1}}
	if resp.Code < 0 || !checkTOTPCode(&dev, strconv.FormatInt(resp.Code, 10), s.ex.now()) {
		return Retry(fieldError("code", MsgCodeMismatch)), nil
	}
	if _, err := s.ex.devices.CreateDevice(ctx, dev); err != nil {
		return Result{}, fmt.Errorf("executor: saving a TOTP device of user %d: %w", user, err)
	}
	delete(s.Context, ContextTOTPDevice)
	return Pass(), nil
}
