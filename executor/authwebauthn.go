package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/internal/webauthnx"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// ComponentAuthenticatorWebAuthn is the authenticator_webauthn stage's
// challenge.
const ComponentAuthenticatorWebAuthn = "ak-stage-authenticator-webauthn"

// Messages of the WebAuthn stages, in authentik's words where authentik
// has them.
const (
	// MsgNoWebAuthn is authflow's: the error_message (and
	// configuration_error event) of a stage that needs the WebAuthn
	// relying party when Options.WebAuthn is nil.
	MsgNoWebAuthn = "This flow needs WebAuthn, and no WebAuthn relying party (RP id and origins) is configured."
	// MsgWebAuthnRegistrationFailed is the response error of a
	// registration that does not verify; %s says why.
	MsgWebAuthnRegistrationFailed = "Registration failed. Error: %s"
	// MsgWebAuthnCredentialExists is the response error of a credential
	// some device already has.
	MsgWebAuthnCredentialExists = "Credential ID already exists."
	// MsgWebAuthnDeviceExists is the error_message of a credential that
	// another request stored between the check and the write.
	MsgWebAuthnDeviceExists = "Device with Credential ID already exists."
	// MsgWebAuthnInvalidDeviceType is the error of an authenticator whose
	// AAGUID the stage does not allow; %s is the brand's title.
	MsgWebAuthnInvalidDeviceType = "Invalid device type. Contact your %s administrator for help."
	// DefaultWebAuthnDeviceName is the name of a new WebAuthn device
	// whose type has no known description.
	DefaultWebAuthnDeviceName = "WebAuthn Device"
)

// ContextWebAuthnChallenge is the plan context key of the WebAuthn
// ceremony under way: the state of the options last shown (their
// challenge), which the answer is checked against. authentik keeps it in
// the session under the same name; authflow keeps it with the execution,
// so that it lives as long as the flow does and no longer. It holds no
// secret: a challenge is shown to the browser.
const ContextWebAuthnChallenge = "authentik/stages/authenticator_webauthn/challenge"

// unknownDeviceType is authentik's AAGUID of "any authenticator of no
// known type" in a list of allowed device types.
var unknownDeviceType = uuid.Nil

// WebAuthnOptions are the WebAuthn relying party of the executor.
// authentik takes both from each request (its host, its scheme and
// host); authflow has them configured, so that a request's Host header
// does not choose them.
type WebAuthnOptions struct {
	// RPID is the relying party id: the site's host name, without scheme
	// or port ("auth.example.com"; "localhost" in tests). Credentials are
	// bound to it.
	RPID string
	// Origins are the origins the flow pages are served from
	// ("https://auth.example.com"), which the browser reports in every
	// answer.
	Origins []string
}

// AuthenticatorWebAuthnChallenge is ak-stage-authenticator-webauthn:
// the options of navigator.credentials.create.
type AuthenticatorWebAuthnChallenge struct {
	Envelope
	UserInfo
	Registration map[string]any `json:"registration"`
}

// authWebAuthnHandler is authentik's authenticator_webauthn stage: it
// registers a WebAuthn credential of the pending user as a device.
type authWebAuthnHandler struct{}

// webauthnRP is the relying party, or the result that denies the flow
// without one or without devices (MsgNoDevices).
func (s *Step) webauthnRP() (*webauthnx.RP, *Result) {
	var r Result
	switch {
	case s.ex.webauthn == nil:
		s.Event(EventConfigurationError, MsgNoWebAuthn)
		r = Deny(MsgNoWebAuthn)
	case s.ex.devices == nil:
		r = noDevices(s)
	default:
		return s.ex.webauthn, nil
	}
	return nil, &r
}

// webauthnUser is u as WebAuthn names it: the user handle is the bytes
// of the user's uid, as authentik's.
func (s *Step) webauthnUser(u directory.User) webauthnx.User {
	return webauthnx.User{ID: []byte(u.UID(s.ex.s.InstallID())), Name: u.Username, DisplayName: u.Name}
}

// webauthnCredentials are the WebAuthn credentials among devs.
func webauthnCredentials(devs []directory.Device) []webauthnx.Credential {
	var out []webauthnx.Credential
	for _, d := range devs {
		if d.Class == directory.DeviceWebAuthn && d.WebAuthn != nil {
			w := d.WebAuthn
			out = append(out, webauthnx.Credential{ID: w.CredentialID, PublicKey: w.PublicKey, SignCount: w.SignCount, AAGUID: w.AAGUID, Transports: w.Transports})
		}
	}
	return out
}

// webauthnSetupUser is the user the setup stage registers a credential
// for (setupUser's); false for none or a stand-in, which authflow
// denies with MsgNoPendingUser (authentik's WebAuthn stage fails with an
// error there).
func (s *Step) webauthnSetupUser(ctx context.Context) (directory.User, bool, error) {
	pk, _, ok, err := setupUser(ctx, s)
	if err != nil || !ok {
		return directory.User{}, false, err
	}
	u, err := s.ex.user(ctx, pk)
	if errors.Is(err, directory.ErrNotFound) {
		return u, false, nil
	}
	return u, err == nil, err
}

func (authWebAuthnHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	rp, deny := s.webauthnRP()
	if deny != nil {
		return *deny, nil
	}
	delete(s.Context, ContextWebAuthnChallenge)
	cfg := s.Stage.Config.(stage.AuthenticatorWebAuthn)
	u, ok, err := s.webauthnSetupUser(ctx)
	if err != nil || !ok {
		return Deny(MsgNoPendingUser), err
	}
	existing, err := s.ex.devices.UserDevices(ctx, u.PK)
	if err != nil {
		return Result{}, err
	}
	reg := webauthnx.Registration{
		RPName: s.ex.Brand().Title, UserVerification: string(cfg.UserVerification), ResidentKey: string(cfg.ResidentKeyRequirement),
		Exclude: webauthnCredentials(existing),
	}
	if cfg.AuthenticatorAttachment != nil {
		reg.Attachment = string(*cfg.AuthenticatorAttachment)
	}
	opts, state, err := rp.BeginRegistration(s.webauthnUser(u), reg)
	if err != nil {
		return Result{}, fmt.Errorf("executor: %s: %w", s.Stage.Name, err)
	}
	s.Context[ContextWebAuthnChallenge] = state
	return Show(&AuthenticatorWebAuthnChallenge{Envelope: s.Envelope(ComponentAuthenticatorWebAuthn), UserInfo: s.UserInfo(), Registration: opts}), nil
}

// authWebAuthnResponse is the challenge's response: the browser's
// PublicKeyCredential as JSON.
type authWebAuthnResponse struct {
	Response map[string]any `json:"response" af:"jsondict,required"`
}

// responseError is a Retry with msg as the error of field.
func responseError(field, msg string) Result {
	return Retry(&validate.Error{Fields: map[string][]string{field: {msg}}})
}

func (authWebAuthnHandler) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	rp, deny := s.webauthnRP()
	if deny != nil {
		return *deny, nil
	}
	cfg := s.Stage.Config.(stage.AuthenticatorWebAuthn)
	resp, verr, err := DecodeResponse[authWebAuthnResponse](body)
	if err != nil {
		return Result{}, err
	}
	if verr != nil {
		return Retry(verr), nil
	}
	u, ok, err := s.webauthnSetupUser(ctx)
	if err != nil || !ok {
		return Deny(MsgNoPendingUser), err
	}
	raw, err := json.Marshal(resp.Response)
	if err != nil {
		return Result{}, err
	}
	state, _ := s.Context[ContextWebAuthnChallenge].(string)
	cred, err := rp.FinishRegistration(state, s.webauthnUser(u), raw)
	if err != nil {
		return responseError("response", fmt.Sprintf(MsgWebAuthnRegistrationFailed, webauthnReason(err))), nil
	}
	if _, err := s.ex.devices.FindDevice(ctx, directory.DeviceFind{CredentialID: cred.ID}); err == nil {
		return responseError("response", MsgWebAuthnCredentialExists), nil
	} else if !errors.Is(err, directory.ErrNotFound) {
		return Result{}, err
	}
	if !deviceTypeAllowed(cfg.DeviceTypeRestrictions, cfg.DeviceTypeRestrictionsObj, cred.AAGUID) {
		return responseError("response", fmt.Sprintf(MsgWebAuthnInvalidDeviceType, s.ex.Brand().Title)), nil
	}
	name := DefaultWebAuthnDeviceName
	if i := slices.IndexFunc(cfg.DeviceTypeRestrictionsObj, func(t stage.WebAuthnDeviceType) bool { return t.AAGUID == cred.AAGUID }); i >= 0 && cfg.DeviceTypeRestrictionsObj[i].Description != "" {
		name = cfg.DeviceTypeRestrictionsObj[i].Description
	}
	_, err = s.ex.devices.CreateDevice(ctx, directory.Device{
		Class: directory.DeviceWebAuthn, User: u.PK, Name: name, Confirmed: true,
		WebAuthn: &directory.WebAuthnDevice{
			CredentialID: cred.ID, PublicKey: cred.PublicKey, SignCount: cred.SignCount, RPID: rp.RPID(),
			AAGUID: cred.AAGUID, Transports: cred.Transports,
		},
	})
	if errors.Is(err, directory.ErrDeviceExists) {
		return Invalid(MsgWebAuthnDeviceExists), nil
	}
	if err != nil {
		return Result{}, err
	}
	delete(s.Context, ContextWebAuthnChallenge)
	return Pass(), nil
}

// deviceTypeAllowed says whether an authenticator of AAGUID aaguid may
// be used where allowed are the allowed device types (none: any), as
// authentik's checks: an AAGUID in the list is allowed, and so is one of
// no known type when the list holds the unknown type (the nil AAGUID).
// authflow holds no catalogue of device types: the known ones are those
// described in known (a stage's *_obj list, when a Go caller fills it).
func deviceTypeAllowed(allowed []uuid.UUID, known []stage.WebAuthnDeviceType, aaguid uuid.UUID) bool {
	if len(allowed) == 0 || slices.Contains(allowed, aaguid) {
		return true
	}
	isKnown := slices.ContainsFunc(known, func(t stage.WebAuthnDeviceType) bool { return t.AAGUID == aaguid })
	return slices.Contains(allowed, unknownDeviceType) && !isKnown
}

// webauthnReason is why a WebAuthn answer was refused, without the
// package's prefix.
func webauthnReason(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{webauthnx.ErrVerify, webauthnx.ErrMalformed} {
		if p := sentinel.Error() + ": "; len(msg) > len(p) && msg[:len(p)] == p {
			return msg[len(p):]
		}
	}
	if errors.Is(err, webauthnx.ErrSession) {
		return "no registration under way"
	}
	return msg
}

// Messages of WebAuthn validation, in authentik's words.
const (
	// MsgWebAuthnInvalidDevice is the webauthn error of an answer that is
	// not a credential, or names one no device has, or another user's.
	MsgWebAuthnInvalidDevice = "Invalid device"
	// MsgWebAuthnAssertionFailed is the webauthn error of an assertion
	// that does not verify (with a login_failed event).
	MsgWebAuthnAssertionFailed = "Assertion failed"
)

// AuthMethodWebAuthnPasswordless is the auth_method of a login by
// passwordless WebAuthn (authentik's).
const AuthMethodWebAuthnPasswordless = "auth_webauthn_pwl"

// PasswordlessDeviceUID is the device_uid of the user-less WebAuthn
// challenge (authentik's -1).
const PasswordlessDeviceUID = "-1"

// errNoWebAuthn is a WebAuthn challenge without a relying party, which
// authenticator_validate turns into MsgNoWebAuthn.
var errNoWebAuthn = errors.New("executor: no WebAuthn relying party")

// webauthnTypeRefused says whether the stage refuses dev for its type:
// webauthn_allowed_device_types is set and dev's type is not in it.
// authentik gives a device a type when its AAGUID is in its catalogue of
// authenticator types; authflow holds no catalogue, so every AAGUID
// reported counts as a type, and only a device without one (the nil
// AAGUID, as "none" attestation often gives) has no type and is never
// refused for it.
func webauthnTypeRefused(cfg stage.AuthenticatorValidate, dev directory.Device) bool {
	w := dev.WebAuthn
	return w != nil && w.AAGUID != uuid.Nil && len(cfg.WebAuthnAllowedDeviceTypes) > 0 && !slices.Contains(cfg.WebAuthnAllowedDeviceTypes, w.AAGUID)
}

// webauthnDeviceChallenge is the WebAuthn device challenge: assertion
// options allowing all the user's credentials (all, whatever their
// type), with the stage's webauthn_user_verification; the ceremony is
// kept in the plan context.
func webauthnDeviceChallenge(_ context.Context, s *Step, cfg stage.AuthenticatorValidate, _ directory.Device, all []directory.Device) (map[string]any, error) {
	return s.beginWebAuthnLogin(cfg, webauthnCredentials(all))
}

// beginWebAuthnLogin makes assertion options for allow (none: any
// discoverable credential) and keeps the ceremony.
func (s *Step) beginWebAuthnLogin(cfg stage.AuthenticatorValidate, allow []webauthnx.Credential) (map[string]any, error) {
	if s.ex.webauthn == nil {
		return nil, errNoWebAuthn
	}
	delete(s.Context, ContextWebAuthnChallenge)
	opts, state, err := s.ex.webauthn.BeginLogin(string(cfg.WebAuthnUserVerification), allow)
	if err != nil {
		return nil, fmt.Errorf("executor: %s: %w", s.Stage.Name, err)
	}
	s.Context[ContextWebAuthnChallenge] = state
	return opts, nil
}

// passwordlessChallenge is authenticator_validate's challenge without a
// user: one WebAuthn challenge for any discoverable credential.
func (s *Step) passwordlessChallenge(cfg stage.AuthenticatorValidate) (Result, error) {
	if _, deny := s.webauthnRP(); deny != nil {
		return *deny, nil
	}
	opts, err := s.beginWebAuthnLogin(cfg, nil)
	if err != nil {
		return Result{}, err
	}
	s.Context[ContextDeviceChallenges] = []any{map[string]any{"device_class": string(directory.DeviceWebAuthn), "device_uid": PasswordlessDeviceUID}}
	return Show(&AuthenticatorValidationChallenge{
		Envelope: s.Envelope(ComponentAuthenticatorValidate), UserInfo: s.UserInfo(),
		DeviceChallenges:    []DeviceChallenge{{DeviceClass: string(directory.DeviceWebAuthn), DeviceUID: PasswordlessDeviceUID, Challenge: opts}},
		ConfigurationStages: []SelectableStage{},
	}), nil
}

// errSignCount is an assertion whose signature count another use of
// the credential overtook.
var errSignCount = errors.New("executor: sign count not greater than the stored one")

// answerWebAuthn checks a webauthn answer (authentik's
// validate_challenge_webauthn) for user, or for any user when user is 0
// (passwordless: the device's user becomes the pending user, with
// auth_method auth_webauthn_pwl). A verified assertion stores the new
// signature count, atomically: of two answers with the same count one
// fails.
func answerWebAuthn(ctx context.Context, s *Step, cfg stage.AuthenticatorValidate, raw json.RawMessage, user int64) (directory.Device, string, bool, error) {
	rp := s.ex.webauthn
	if rp == nil || s.ex.devices == nil {
		// Never offered so: a challenge needs both.
		return directory.Device{}, "", false, errNoWebAuthn
	}
	a, err := webauthnx.ParseAssertion(raw)
	if err != nil {
		return directory.Device{}, MsgWebAuthnInvalidDevice, false, nil
	}
	dev, err := s.ex.devices.FindDevice(ctx, directory.DeviceFind{CredentialID: a.CredentialID})
	if errors.Is(err, directory.ErrNotFound) || (err == nil && (dev.Class != directory.DeviceWebAuthn || dev.WebAuthn == nil || (user != 0 && dev.User != user))) {
		return directory.Device{}, MsgWebAuthnInvalidDevice, false, nil
	}
	if err != nil {
		return directory.Device{}, "", false, err
	}
	if webauthnTypeRefused(cfg, dev) {
		return directory.Device{}, fmt.Sprintf(MsgWebAuthnInvalidDeviceType, s.ex.Brand().Title), false, nil
	}
	owner, err := s.ex.user(ctx, dev.User)
	if err != nil {
		return directory.Device{}, "", false, err
	}
	all, err := s.ex.devices.UserDevices(ctx, dev.User)
	if err != nil {
		return directory.Device{}, "", false, err
	}
	state, _ := s.Context[ContextWebAuthnChallenge].(string)
	used, err := rp.FinishLogin(state, a, s.webauthnUser(owner), webauthnCredentials(all))
	if err == nil {
		dev, err = s.ex.devices.UpdateDevice(ctx, dev.Class, dev.PK, func(x *directory.Device) error {
			if x.WebAuthn == nil || (used.SignCount > 0 && used.SignCount <= x.WebAuthn.SignCount) {
				return errSignCount
			}
			x.WebAuthn.SignCount = used.SignCount
			return nil
		})
	}
	if errors.Is(err, webauthnx.ErrVerify) || errors.Is(err, webauthnx.ErrSession) || errors.Is(err, errSignCount) {
		name := validateUsername(s)
		s.ex.event(Event{Action: EventLoginFailed, Message: MsgWebAuthnAssertionFailed, Flow: s.Flow.Slug, Stage: s.Stage.Name, User: name})
		if err := s.ChangeReputation(ctx, name, reputation.LoginFailed); err != nil {
			return directory.Device{}, "", false, err
		}
		return directory.Device{}, MsgWebAuthnAssertionFailed, false, nil
	}
	if err != nil {
		return directory.Device{}, "", false, err
	}
	delete(s.Context, ContextWebAuthnChallenge)
	if user == 0 {
		s.SetPendingUser(owner, "")
		s.Context[ContextAuthMethod] = AuthMethodWebAuthnPasswordless
		args, ok := s.Context[ContextAuthMethodArgs].(map[string]any)
		if !ok {
			args = map[string]any{}
			s.Context[ContextAuthMethodArgs] = args
		}
		args["device"], args["device_type"] = deviceRef(dev), nil
	}
	return dev, "", true, nil
}
