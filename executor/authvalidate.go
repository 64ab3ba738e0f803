package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// ComponentAuthenticatorValidate is the authenticator_validate stage's
// challenge.
const ComponentAuthenticatorValidate = "ak-stage-authenticator-validate"

// Messages of the authenticator_validate stage, in authentik's words
// where authentik has them.
const (
	// MsgNoMFAConfigured is the error_message of not_configured_action
	// deny for a user without an allowed device.
	MsgNoMFAConfigured = "No (allowed) MFA authenticator configured."
	// MsgNoConfigurationStage is the configuration_error event of
	// not_configured_action configure without configuration stages.
	MsgNoConfigurationStage = "Authenticator validation stage is set to configure user but no configuration flow is set."
	// MsgInvalidChallengeSelected is the selected_challenge error of a
	// challenge that was not offered.
	MsgInvalidChallengeSelected = "invalid challenge selected"
	// MsgSelectedStageInvalid is the selected_stage error of a stage
	// that was not offered.
	MsgSelectedStageInvalid = "Selected stage is invalid"
	// MsgNoCompatibleDeviceClass is the error of a code, webauthn or duo
	// answer when no device challenge of its class was offered.
	MsgNoCompatibleDeviceClass = "No compatible device class allowed"
	// MsgEmptyResponse is the non-field error of a response without a
	// code, webauthn or duo answer.
	MsgEmptyResponse = "Empty response"
	// MsgInvalidToken is the code error of a code no device of the user
	// accepts (a wrong code, a replayed one), and the error_message when
	// MaxCodeAttempts codes failed.
	MsgInvalidToken = "Invalid Token. Please ensure the time on your device is accurate and try again."
)

// MaxCodeAttempts bounds the codes one execution of an
// authenticator_validate stage may try: the last wrong one ends the
// flow with MsgInvalidToken (access denied, or the binding's restart).
// Each wrong code is also a login_failed event and lowers the
// reputation of the client and username (reputation.LoginFailed), which
// reputation policies read. authentik throttles per device instead
// (django-otp's doubling delay), keeping a failure count on the device.
const MaxCodeAttempts = 5

// Plan context keys of the authenticator_validate stage (authentik's).
const (
	ContextDeviceChallenges = "goauthentik.io/stages/authenticator_validate/device_challenges"
	// ContextConfigurationStages are the pks (strings) of the
	// configuration stages offered.
	ContextConfigurationStages = "goauthentik.io/stages/authenticator_validate/stages"
	// ContextSelectedStage is the pk (a string) of the configuration
	// stage chosen, or inserted when it is the only one.
	ContextSelectedStage = "goauthentik.io/stages/authenticator_validate/selected_stage"
	// ContextInvalidCodes is authflow's: how many wrong codes this
	// execution of the stage has tried (MaxCodeAttempts).
	ContextInvalidCodes = "authflow/stages/authenticator_validate/invalid_codes"
)

// Devices returns the directory's devices (Options.Devices, else the
// directory's when it keeps devices); nil when there are none.
func (s *Step) Devices() directory.Devices { return s.ex.devices }

// AuthenticatorValidationChallenge is ak-stage-authenticator-validate.
type AuthenticatorValidationChallenge struct {
	Envelope
	UserInfo
	DeviceChallenges    []DeviceChallenge `json:"device_challenges"`
	ConfigurationStages []SelectableStage `json:"configuration_stages"`
}

// DeviceChallenge is one device's challenge.
type DeviceChallenge struct {
	DeviceClass string         `json:"device_class"`
	DeviceUID   string         `json:"device_uid"`
	Challenge   map[string]any `json:"challenge"`
	LastUsed    *time.Time     `json:"last_used"`
}

// SelectableStage is a configuration stage the user may choose.
type SelectableStage struct {
	PK            uuid.UUID `json:"pk"`
	Name          string    `json:"name"`
	VerboseName   string    `json:"verbose_name"`
	MetaModelName string    `json:"meta_model_name"`
}

// authValidateHandler is authentik's authenticator_validate stage: one
// device challenge per allowed class of the user's confirmed devices
// (behaviour by class: deviceClassHandlers), the remembered-MFA cookie,
// and not_configured_action for a user without one.
type authValidateHandler struct{}

// validateUser is the user the stage checks (authentik's
// get_pending_user): the context's pending user, else the request's.
// anonymous says there is none; pk is 0 for a stand-in pending user (an
// unknown identifier's), which has no devices.
func validateUser(s *Step) (pk int64, anonymous bool) { return validateUserOf(s.Context, s.Request) }

// validateUserOf is validateUser of a context and a request.
func validateUserOf(ctxm map[string]any, req Request) (pk int64, anonymous bool) {
	if v, ok := ctxm[directory.ContextPendingUser]; ok && v != nil {
		pk, _ := directory.ContextUserPK(v)
		return pk, false
	}
	if req.User.Authenticated && req.User.PK != 0 {
		return req.User.PK, false
	}
	return 0, true
}

// readsDevices: Challenge reads the devices of the user it checks first
// (deviceChallenges).
func (authValidateHandler) readsDevices(post bool) bool { return !post }

// validateUsername is the username of the user the stage checks, for
// login_failed events and reputation.
func validateUsername(s *Step) string {
	if name, ok := s.pendingUsername(); ok {
		return name
	}
	return s.Request.Username
}

// offered are a user's device challenges (authentik's
// get_device_challenges): the first confirmed device of each allowed
// class (SMS devices kept as a hash skipped); allowed are the pks of
// every confirmed device of an allowed class, which the remembered-MFA
// cookie may name.
type offered struct {
	challenges []DeviceChallenge
	allowed    []int64
}

func deviceChallenges(ctx context.Context, s *Step, cfg stage.AuthenticatorValidate, user int64) (offered, error) {
	var o offered
	if user == 0 || s.ex.devices == nil {
		return o, nil
	}
	devs, err := s.userDevices(ctx, user)
	if err != nil {
		return o, fmt.Errorf("executor: reading the devices of user %d: %w", user, err)
	}
	var seen []directory.DeviceClass
	for _, d := range devs {
		if !d.Confirmed || !slices.Contains(cfg.DeviceClasses, d.Class) {
			continue
		}
		if d.SMS != nil && strings.HasPrefix(d.SMS.Phone, "hash:") {
			continue // verify_only: the number cannot be sent to
		}
		o.allowed = append(o.allowed, d.PK)
		h := deviceClassHandlers[d.Class] // New checked that every class has one
		if (h.offer != nil && !h.offer(cfg, d)) || slices.Contains(seen, d.Class) {
			continue
		}
		seen = append(seen, d.Class)
		payload := map[string]any{}
		if h.challenge != nil {
			if payload, err = h.challenge(ctx, s, cfg, d, devs); err != nil {
				return o, err
			}
		}
		var last *time.Time
		if d.LastUsed != nil {
			t := d.LastUsed.UTC().Truncate(time.Microsecond)
			last = &t
		}
		o.challenges = append(o.challenges, DeviceChallenge{DeviceClass: string(d.Class), DeviceUID: strconv.FormatInt(d.PK, 10), Challenge: payload, LastUsed: last})
	}
	return o, nil
}

// threshold is the stage's last_auth_threshold; zero when unset or
// malformed.
func threshold(cfg stage.AuthenticatorValidate) time.Duration {
	sec, ok := validate.ParseTimedelta(cfg.LastAuthThreshold)
	if !ok || sec <= 0 {
		return 0
	}
	return time.Duration(sec * float64(time.Second))
}

func (h authValidateHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	cfg := s.Stage.Config.(stage.AuthenticatorValidate)
	pk, anonymous := validateUser(s)
	if anonymous {
		if s.Flow.Designation != flow.DesignationAuthentication {
			return Pass(), nil
		}
		if slices.Contains(cfg.DeviceClasses, stage.DeviceWebAuthn) {
			// Passwordless: a user-less WebAuthn challenge.
			return s.passwordlessChallenge(cfg)
		}
		return Pass(), nil
	}
	o, err := deviceChallenges(ctx, s, cfg, pk)
	if errors.Is(err, errNoWebAuthn) {
		s.Event(EventConfigurationError, MsgNoWebAuthn)
		return Deny(MsgNoWebAuthn), nil
	}
	if err != nil {
		return Result{}, err
	}
	if s.mfaRemembered(pk, threshold(cfg), o.allowed) {
		return Pass(), nil
	}
	stored := make([]any, len(o.challenges))
	for i, c := range o.challenges {
		stored[i] = map[string]any{"device_class": c.DeviceClass, "device_uid": c.DeviceUID}
	}
	s.Context[ContextDeviceChallenges] = stored
	if len(o.challenges) == 0 {
		switch cfg.NotConfiguredAction {
		case stage.NotConfiguredDeny:
			return Invalid(MsgNoMFAConfigured), nil
		case stage.NotConfiguredConfigure:
			return h.configure(ctx, s, cfg)
		}
		return Pass(), nil
	}
	return Show(&AuthenticatorValidationChallenge{
		Envelope: s.Envelope(ComponentAuthenticatorValidate), UserInfo: s.UserInfo(),
		DeviceChallenges: o.challenges, ConfigurationStages: []SelectableStage{},
	}), nil
}

// configure offers the configuration stages (authentik's
// prepare_stages): none is a configuration_error and stage_invalid; one
// is inserted as the next stage and this one passes; several are shown
// for the user to choose.
func (h authValidateHandler) configure(ctx context.Context, s *Step, cfg stage.AuthenticatorValidate) (Result, error) {
	stages, err := configurationStages(ctx, s, cfg)
	if err != nil {
		return Result{}, err
	}
	switch len(stages) {
	case 0:
		s.Event(EventConfigurationError, MsgNoConfigurationStage)
		return Invalid(""), nil
	case 1:
		s.Context[ContextSelectedStage] = stages[0].PK.String()
		s.insertStage(stages[0])
		return Pass(), nil
	}
	pks := make([]any, len(stages))
	c := &AuthenticatorValidationChallenge{
		Envelope: s.Envelope(ComponentAuthenticatorValidate), UserInfo: s.UserInfo(),
		DeviceChallenges: []DeviceChallenge{}, ConfigurationStages: make([]SelectableStage, len(stages)),
	}
	for i, st := range stages {
		pks[i] = st.PK.String()
		c.ConfigurationStages[i] = s.selectable(st)
	}
	s.Context[ContextConfigurationStages] = pks
	return Show(c), nil
}

// configurationStages reads the stage's configuration stages that still
// exist, in its order.
func configurationStages(ctx context.Context, s *Step, cfg stage.AuthenticatorValidate) ([]stage.Stage, error) {
	var out []stage.Stage
	err := s.ex.s.View(ctx, func(tx *store.Tx) error {
		for _, pk := range cfg.ConfigurationStages {
			st, err := store.Stages.Get(tx, store.PK(pk))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, st)
		}
		return nil
	})
	return out, err
}

// selectable is a configuration stage as the challenge lists it: its
// friendly_name (else its name), its kind's verbose name without "Setup
// Stage", and its model name.
func (s *Step) selectable(st stage.Stage) SelectableStage { return s.ex.selectable(st) }

// selectable is st as a SelectableStage (see Step.selectable).
func (e *Executor) selectable(st stage.Stage) SelectableStage {
	name := st.Name
	var fn struct {
		FriendlyName *string `json:"friendly_name"`
	}
	if b, err := json.Marshal(st.Config); err == nil && json.Unmarshal(b, &fn) == nil && fn.FriendlyName != nil && *fn.FriendlyName != "" {
		name = *fn.FriendlyName
	}
	verbose := string(st.Model())
	if k, ok := e.s.StageKinds().Lookup(st.Model()); ok {
		verbose = k.VerboseName
	}
	return SelectableStage{
		PK: st.PK, Name: name, VerboseName: strings.TrimSpace(strings.ReplaceAll(verbose, "Setup Stage", "")),
		MetaModelName: string(st.Model()),
	}
}

// insertStage makes st the next stage of the plan, after the current
// one (authentik's plan.insert_stage).
func (s *Step) insertStage(st stage.Stage) {
	x := s.run.ex
	i := min(1, len(x.Stages))
	x.Stages = slices.Insert(x.Stages, i, plan.Stage{Stage: st.PK, Name: st.Name, Marker: plan.MarkerStage})
}

// authValidateResponse is the challenge's response.
type authValidateResponse struct {
	SelectedChallenge map[string]any `json:"selected_challenge"`
	SelectedStage     *string        `json:"selected_stage"`
	Code              *string        `json:"code"`
	WebAuthn          map[string]any `json:"webauthn" af:"jsondict"`
	Duo               *int64         `json:"duo"`
}

func (h authValidateHandler) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	cfg := s.Stage.Config.(stage.AuthenticatorValidate)
	resp, verr, err := DecodeResponse[authValidateResponse](body)
	if err != nil {
		return Result{}, err
	}
	if verr == nil {
		verr = &validate.Error{}
	}
	bad := func(field string) bool { _, b := verr.Fields[field]; return b }
	add := func(field, msg string) {
		if bad(field) {
			return
		}
		if verr.Fields == nil {
			verr.Fields = map[string][]string{}
		}
		verr.Fields[field] = []string{msg}
	}
	user, _ := validateUser(s)
	challenges := contextChallenges(s.Context[ContextDeviceChallenges])
	classOffered := func(ok func(deviceClassHandler) bool) (directory.DeviceClass, bool) {
		for _, c := range challenges {
			if hd, found := deviceClassHandlers[c.class]; found && ok(hd) {
				return c.class, true
			}
		}
		return "", false
	}
	if resp.SelectedChallenge != nil && !bad("selected_challenge") {
		msg, err := selectChallenge(ctx, s, user, challenges, resp.SelectedChallenge)
		if err != nil {
			return Result{}, err
		}
		if msg != "" {
			add("selected_challenge", msg)
		}
	}
	if resp.SelectedStage != nil && !bad("selected_stage") {
		if slices.Contains(contextStrings(s.Context[ContextConfigurationStages]), *resp.SelectedStage) {
			s.Context[ContextSelectedStage] = *resp.SelectedStage
		} else {
			add("selected_stage", MsgSelectedStageInvalid)
		}
	}
	var (
		dev        *directory.Device
		codeFailed bool
	)
	if resp.Code != nil && !bad("code") {
		if _, ok := classOffered(func(hd deviceClassHandler) bool { return hd.checkCode != nil }); !ok {
			add("code", MsgNoCompatibleDeviceClass)
		} else {
			d, ok, err := s.matchCode(ctx, user, *resp.Code)
			switch {
			case err != nil:
				return Result{}, err
			case ok:
				dev = &d
			default:
				codeFailed = true
				s.ex.event(Event{Action: EventLoginFailed, Message: MsgInvalidToken, Flow: s.Flow.Slug, Stage: s.Stage.Name, User: validateUsername(s)})
				if err := s.ChangeReputation(ctx, validateUsername(s), reputation.LoginFailed); err != nil {
					return Result{}, err
				}
				add("code", MsgInvalidToken)
			}
		}
	}
	for _, a := range []struct {
		field string
		raw   any
		set   bool
	}{{"webauthn", resp.WebAuthn, resp.WebAuthn != nil}, {"duo", resp.Duo, resp.Duo != nil}} {
		if !a.set || bad(a.field) {
			continue
		}
		class, ok := classOffered(func(hd deviceClassHandler) bool { return hd.answerField == a.field })
		if !ok {
			add(a.field, MsgNoCompatibleDeviceClass)
			continue
		}
		raw, err := json.Marshal(a.raw)
		if err != nil {
			return Result{}, err
		}
		d, msg, ok, err := deviceClassHandlers[class].answer(ctx, s, cfg, raw, user)
		switch {
		case err != nil:
			return Result{}, err
		case !ok:
			add(a.field, msg)
		case dev == nil:
			if d, err = s.markUsed(ctx, d); err != nil {
				return Result{}, err
			}
			dev = &d
			if user == 0 {
				user = d.User // passwordless: the device's user
			}
		}
	}
	if verr.Empty() && dev == nil {
		verr.NonField = []string{MsgEmptyResponse}
	}
	// authentik's post: a chosen configuration stage runs next, whatever
	// the response's errors.
	if sel, ok := s.Context[ContextSelectedStage].(string); ok && cfg.NotConfiguredAction == stage.NotConfiguredConfigure {
		id, err := uuid.Parse(sel)
		if err != nil {
			return Invalid(""), nil
		}
		st, ok, err := s.stageOf(ctx, &id)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			return Deny(MsgStageGone), nil
		}
		s.insertStage(st)
		return Pass(), nil
	}
	if !verr.Empty() {
		if codeFailed {
			tries := 1
			if n, ok := s.Context[ContextInvalidCodes].(float64); ok {
				tries = int(n) + 1
			}
			if tries >= MaxCodeAttempts {
				delete(s.Context, ContextInvalidCodes)
				return Invalid(MsgInvalidToken), nil
			}
			s.Context[ContextInvalidCodes] = float64(tries)
		}
		return Retry(verr), nil
	}
	delete(s.Context, ContextInvalidCodes)
	if _, set := s.Context[ContextAuthMethod]; !set {
		s.Context[ContextAuthMethod] = "auth_mfa"
	}
	args, ok := s.Context[ContextAuthMethodArgs].(map[string]any)
	if !ok {
		args = map[string]any{}
		s.Context[ContextAuthMethodArgs] = args
	}
	devices, _ := args["mfa_devices"].([]any)
	args["mfa_devices"] = append(devices, deviceRef(*dev))
	s.rememberMFA(user, dev.PK, threshold(cfg))
	return Pass(), nil
}

// offeredChallenge is a device challenge kept in the plan context.
type offeredChallenge struct {
	class directory.DeviceClass
	uid   string
}

// contextChallenges reads the device challenges offered from the plan
// context.
func contextChallenges(v any) []offeredChallenge {
	l, _ := v.([]any)
	out := make([]offeredChallenge, 0, len(l))
	for _, x := range l {
		m, _ := x.(map[string]any)
		class, _ := m["device_class"].(string)
		uid, _ := m["device_uid"].(string)
		out = append(out, offeredChallenge{directory.DeviceClass(class), uid})
	}
	return out
}

// selectChallenge checks a selected_challenge against those offered and
// runs its class's selected hook (an SMS or email code sent); it returns
// the field's message when the selection is invalid.
func selectChallenge(ctx context.Context, s *Step, user int64, offered []offeredChallenge, sel map[string]any) (string, error) {
	class, uid := jsonText(sel["device_class"]), jsonText(sel["device_uid"])
	if !slices.Contains(offered, offeredChallenge{directory.DeviceClass(class), uid}) {
		return MsgInvalidChallengeSelected, nil
	}
	hd := deviceClassHandlers[directory.DeviceClass(class)]
	if hd.selected == nil {
		return "", nil
	}
	pk, err := strconv.ParseInt(uid, 10, 64)
	if err != nil {
		return MsgInvalidChallengeSelected, nil
	}
	d, err := s.ex.devices.Device(ctx, directory.DeviceClass(class), pk)
	if errors.Is(err, directory.ErrNotFound) || (err == nil && d.User != user) {
		return MsgInvalidChallengeSelected, nil
	}
	if err != nil {
		return "", err
	}
	// A refusal (an SMS provider's, a bound reached) is the field's
	// message, as authentik's ValidationError in the field's validator.
	var verr *validate.Error
	if err := hd.selected(ctx, s, d); errors.As(err, &verr) && len(verr.NonField) > 0 {
		return verr.NonField[0], nil
	} else if err != nil {
		return "", err
	}
	return "", nil
}

// jsonText is a JSON string or number as DRF's CharField reads it.
func jsonText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return ""
}

// matchCode checks code against every confirmed device of user whose
// class answers codes, as authentik's match_token (the user does not
// choose between TOTP and static codes): the first device that accepts
// it, changed atomically (Devices.UpdateDevice) with last_used now.
func (s *Step) matchCode(ctx context.Context, user int64, code string) (directory.Device, bool, error) {
	if user == 0 || s.ex.devices == nil {
		return directory.Device{}, false, nil
	}
	devs, err := s.ex.devices.UserDevices(ctx, user)
	if err != nil {
		return directory.Device{}, false, fmt.Errorf("executor: reading the devices of user %d: %w", user, err)
	}
	now := s.ex.now()
	for _, d := range devs {
		hd, ok := deviceClassHandlers[d.Class]
		if !ok || hd.checkCode == nil || !d.Confirmed {
			continue
		}
		got, err := s.ex.devices.UpdateDevice(ctx, d.Class, d.PK, func(x *directory.Device) error {
			if !x.Confirmed || x.User != user || !hd.checkCode(x, code, now) {
				return directory.ErrDeviceUnchanged
			}
			used := now.UTC()
			x.LastUsed = &used
			return nil
		})
		switch {
		case err == nil:
			return got, true, nil
		case errors.Is(err, directory.ErrDeviceUnchanged), errors.Is(err, directory.ErrNotFound):
			continue
		}
		return directory.Device{}, false, fmt.Errorf("executor: checking a code on %s: %w", d, err)
	}
	return directory.Device{}, false, nil
}

// markUsed sets a device's last_used to now.
func (s *Step) markUsed(ctx context.Context, d directory.Device) (directory.Device, error) {
	now := s.ex.now().UTC()
	got, err := s.ex.devices.UpdateDevice(ctx, d.Class, d.PK, func(x *directory.Device) error {
		x.LastUsed = &now
		return nil
	})
	if err != nil {
		return directory.Device{}, fmt.Errorf("executor: marking %s used: %w", d, err)
	}
	return got, nil
}

// contextStrings reads a list of strings from the plan context.
func contextStrings(v any) []string {
	var out []string
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
