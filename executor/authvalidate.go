package executor

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
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
	// MsgDevicesUnsupported is authflow's: the error_message (and
	// configuration_error event) of an authenticator_validate stage
	// reached by a user with a device of an allowed class, or without a
	// user in an authentication flow that allows WebAuthn (passwordless),
	// until devices are validated (issue 23). It never skips the stage.
	MsgDevicesUnsupported = "Validating authenticator devices is not supported by authflow yet."
)

// Plan context keys of the authenticator_validate stage (authentik's).
const (
	ContextDeviceChallenges = "goauthentik.io/stages/authenticator_validate/device_challenges"
	// ContextConfigurationStages are the pks (strings) of the
	// configuration stages offered.
	ContextConfigurationStages = "goauthentik.io/stages/authenticator_validate/stages"
	// ContextSelectedStage is the pk (a string) of the configuration
	// stage chosen, or inserted when it is the only one.
	ContextSelectedStage = "goauthentik.io/stages/authenticator_validate/selected_stage"
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

// authValidateHandler is authentik's authenticator_validate stage for
// users without devices: not_configured_action skip, deny and configure.
type authValidateHandler struct{}

// validateUser is the user the stage checks (authentik's
// get_pending_user): the context's pending user, else the request's.
// anonymous says there is none; pk is 0 for a stand-in pending user (an
// unknown identifier's), which has no devices.
func validateUser(s *Step) (pk int64, anonymous bool) {
	if v, ok := s.Context[directory.ContextPendingUser]; ok && v != nil {
		pk, _ := directory.ContextUserPK(v)
		return pk, false
	}
	if s.Request.User.Authenticated && s.Request.User.PK != 0 {
		return s.Request.User.PK, false
	}
	return 0, true
}

func (h authValidateHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	cfg := s.Stage.Config.(stage.AuthenticatorValidate)
	pk, anonymous := validateUser(s)
	if anonymous {
		if s.Flow.Designation != flow.DesignationAuthentication {
			return Pass(), nil
		}
		if slices.Contains(cfg.DeviceClasses, stage.DeviceWebAuthn) {
			// authentik offers a user-less WebAuthn challenge here.
			s.Event(EventConfigurationError, MsgDevicesUnsupported)
			return Deny(MsgDevicesUnsupported), nil
		}
		return Pass(), nil
	}
	if pk != 0 && s.ex.devices != nil {
		devs, err := s.ex.devices.UserDevices(ctx, pk)
		if err != nil {
			return Result{}, err
		}
		for _, d := range devs {
			if slices.Contains(cfg.DeviceClasses, d.Class) {
				s.Event(EventConfigurationError, MsgDevicesUnsupported)
				return Deny(MsgDevicesUnsupported), nil
			}
		}
	}
	s.Context[ContextDeviceChallenges] = []any{}
	switch cfg.NotConfiguredAction {
	case stage.NotConfiguredDeny:
		return Invalid(MsgNoMFAConfigured), nil
	case stage.NotConfiguredConfigure:
		return h.configure(ctx, s, cfg)
	}
	return Pass(), nil
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
func (s *Step) selectable(st stage.Stage) SelectableStage {
	name := st.Name
	var fn struct {
		FriendlyName *string `json:"friendly_name"`
	}
	if b, err := json.Marshal(st.Config); err == nil && json.Unmarshal(b, &fn) == nil && fn.FriendlyName != nil && *fn.FriendlyName != "" {
		name = *fn.FriendlyName
	}
	verbose := string(st.Model())
	if k, ok := s.ex.s.StageKinds().Lookup(st.Model()); ok {
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
	add := func(field, msg string) {
		if _, bad := verr.Fields[field]; bad {
			return
		}
		if verr.Fields == nil {
			verr.Fields = map[string][]string{}
		}
		verr.Fields[field] = []string{msg}
	}
	// No device challenge is ever offered (users without devices): the
	// checks of authentik's validators that follow fail accordingly.
	if resp.SelectedChallenge != nil {
		add("selected_challenge", MsgInvalidChallengeSelected)
	}
	if resp.SelectedStage != nil {
		if _, bad := verr.Fields["selected_stage"]; !bad {
			if slices.Contains(contextStrings(s.Context[ContextConfigurationStages]), *resp.SelectedStage) {
				s.Context[ContextSelectedStage] = *resp.SelectedStage
			} else {
				add("selected_stage", MsgSelectedStageInvalid)
			}
		}
	}
	if resp.Code != nil {
		add("code", MsgNoCompatibleDeviceClass)
	}
	if resp.WebAuthn != nil {
		add("webauthn", MsgNoCompatibleDeviceClass)
	}
	if resp.Duo != nil {
		add("duo", MsgNoCompatibleDeviceClass)
	}
	if verr.Empty() {
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
	return Retry(verr), nil
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
