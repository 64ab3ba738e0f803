package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// The authenticator_duo setup stage (authentik's
// stages/authenticator_duo, EXECUTOR.md §4.16).
const (
	// ComponentAuthenticatorDuo is its challenge.
	ComponentAuthenticatorDuo = "ak-stage-authenticator-duo"
	// ContextDuoEnroll is the plan context key of the Duo enrollment
	// made for the user (authentik's session key): Duo's
	// activation_barcode, activation_code, user_id and username.
	ContextDuoEnroll = "authentik/stages/authenticator_duo/enroll"
	// MsgDuoEnrollStatus is the error_message of an enrollment Duo does
	// not report done; %s is Duo's status.
	MsgDuoEnrollStatus = "Invalid enrollment status: %s."
	// MsgDuoDeviceExists is the error_message of an enrollment whose
	// Duo user has a device already.
	MsgDuoDeviceExists = "Device with Credential ID already exists."
	// duoDeviceName is the name of the devices it saves.
	duoDeviceName = "Duo Authenticator"
)

// AuthenticatorDuoChallenge is ak-stage-authenticator-duo: the
// activation to scan with Duo Mobile. The client polls
// enrollment_status, then answers with the component alone.
type AuthenticatorDuoChallenge struct {
	Envelope
	UserInfo
	ActivationBarcode string `json:"activation_barcode"`
	ActivationCode    string `json:"activation_code"`
	StageUUID         string `json:"stage_uuid"`
}

// authDuoHandler is authentik's authenticator_duo stage: the user is
// enrolled at Duo once per execution (kept in ContextDuoEnroll); a
// response asks Duo whether the enrollment is done and saves the Duo
// device. It needs Options.Duo and a device store.
type authDuoHandler struct{}

// duoUsable checks that Duo is configured: ok false with the flow
// denied (and a configuration_error event) when not.
func duoUsable(s *Step) (Result, bool) {
	if s.ex.duo == nil {
		s.Event(EventConfigurationError, MsgNoDuo)
		return Deny(MsgNoDuo), false
	}
	return Result{}, true
}

// usable checks what the stage needs: Duo and setupUsable's.
func (authDuoHandler) usable(ctx context.Context, s *Step) (stage.AuthenticatorDuo, int64, Result, bool, error) {
	cfg := s.Stage.Config.(stage.AuthenticatorDuo)
	if r, ok := duoUsable(s); !ok {
		return cfg, 0, r, false, nil
	}
	pk, r, ok, err := setupUsable(ctx, s)
	return cfg, pk, r, ok, err
}

func (h authDuoHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	cfg, pk, r, ok, err := h.usable(ctx, s)
	if !ok {
		return r, err
	}
	en, ok := loadDuoEnroll(s.Context)
	if !ok {
		u, err := s.ex.user(ctx, pk)
		if err != nil {
			return Result{}, err
		}
		en, err = s.ex.duo.Enroll(ctx, cfg, u.Username)
		if err != nil {
			if ctx.Err() != nil {
				return Result{}, ctx.Err()
			}
			s.ex.event(Event{Action: EventConfigurationError, Message: "Failed to enroll user: " + err.Error(),
				Flow: s.Flow.Slug, Stage: s.Stage.Name, User: u.Username})
			return Invalid(err.Error()), nil
		}
		s.Context[ContextDuoEnroll] = map[string]any{
			"activation_barcode": en.ActivationBarcode, "activation_code": en.ActivationCode,
			"user_id": en.UserID, "username": en.Username,
		}
	}
	return Show(&AuthenticatorDuoChallenge{
		Envelope: s.Envelope(ComponentAuthenticatorDuo), UserInfo: s.UserInfo(),
		ActivationBarcode: en.ActivationBarcode, ActivationCode: en.ActivationCode, StageUUID: s.Stage.PK.String(),
	}), nil
}

// loadDuoEnroll reads the enrollment kept in the context.
func loadDuoEnroll(c map[string]any) (DuoEnrollment, bool) {
	m, ok := c[ContextDuoEnroll].(map[string]any)
	if !ok {
		return DuoEnrollment{}, false
	}
	str := func(k string) string { v, _ := m[k].(string); return v }
	return DuoEnrollment{ActivationBarcode: str("activation_barcode"), ActivationCode: str("activation_code"),
		UserID: str("user_id"), Username: str("username")}, true
}

func (h authDuoHandler) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	cfg, pk, r, ok, err := h.usable(ctx, s)
	if !ok {
		return r, err
	}
	if _, verr, err := DecodeResponse[struct{}](body); err != nil {
		return Result{}, err
	} else if verr != nil {
		return Retry(verr), nil
	}
	en, ok := loadDuoEnroll(s.Context)
	if !ok {
		// A response before the challenge: authentik fails.
		return Invalid(""), nil
	}
	status, err := s.ex.duo.EnrollStatus(ctx, cfg, en.UserID, en.ActivationCode)
	if err != nil {
		return Result{}, fmt.Errorf("executor: duo enrollment status: %w", err)
	}
	if status != "success" {
		return Invalid(fmt.Sprintf(MsgDuoEnrollStatus, status)), nil
	}
	devs, err := s.ex.devices.UserDevices(ctx, pk)
	if err != nil {
		return Result{}, err
	}
	delete(s.Context, ContextDuoEnroll)
	for _, d := range devs {
		if d.Duo != nil && d.Duo.DuoUserID == en.UserID {
			return Invalid(MsgDuoDeviceExists), nil
		}
	}
	if _, err := s.ex.devices.CreateDevice(ctx, directory.Device{
		Class: directory.DeviceDuo, User: pk, Name: duoDeviceName, Confirmed: true, Stage: s.Stage.PK,
		Duo: &directory.DuoDevice{DuoUserID: en.UserID},
	}); err != nil {
		return Result{}, err
	}
	return Pass(), nil
}

// MsgDuoDenied is the "duo" field's error (code "denied") of a login
// Duo denied, or that Duo could not be asked about.
const MsgDuoDenied = "Duo denied access"

// errDuoDevice is the error of a "duo" answer naming no device of the
// user: authentik answers 404, which its executor shows as a flow
// error.
var errDuoDevice = errors.New("executor: the duo answer names no Duo device of the user")

// answerDuo is the Duo class's answer of authenticator_validate
// (authentik's validate_challenge_duo): the device (its pk, in the
// "duo" field) of the user, and a synchronous push through its setup
// stage's integration, approved.
func answerDuo(ctx context.Context, s *Step, _ stage.AuthenticatorValidate, raw json.RawMessage, user int64) (directory.Device, string, bool, error) {
	var pk int64
	if err := json.Unmarshal(raw, &pk); err != nil {
		return directory.Device{}, "", false, fmt.Errorf("%w: %s", errDuoDevice, raw)
	}
	dev, err := s.ex.devices.Device(ctx, directory.DeviceDuo, pk)
	if errors.Is(err, directory.ErrNotFound) || (err == nil && (dev.User != user || user == 0 || dev.Duo == nil)) {
		return directory.Device{}, "", false, fmt.Errorf("%w: %d", errDuoDevice, pk)
	}
	if err != nil {
		return directory.Device{}, "", false, err
	}
	username := validateUsername(s)
	fail := func(msg string) (directory.Device, string, bool, error) {
		s.ex.event(Event{Action: EventConfigurationError, Message: "Failed to DUO authenticate user: " + msg, Flow: s.Flow.Slug, Stage: s.Stage.Name, User: username})
		return directory.Device{}, MsgDuoDenied, false, nil
	}
	if s.ex.duo == nil {
		return fail(MsgNoDuo)
	}
	st, ok, err := s.stageOf(ctx, &dev.Stage)
	if err != nil {
		return directory.Device{}, "", false, err
	}
	cfg, isDuo := st.Config.(stage.AuthenticatorDuo)
	if !ok || !isDuo {
		return fail(MsgStageGone)
	}
	info := url.Values{}
	if host := s.requestHost(); host != "" {
		info.Set("Domain", host)
	}
	res, err := s.ex.duo.Auth(ctx, cfg, DuoAuthRequest{
		UserID: dev.Duo.DuoUserID, IPAddr: s.ClientIP(), Type: s.ex.Brand().Title + " Login request",
		DisplayUsername: username, PushInfo: info.Encode(),
	})
	if err != nil {
		if ctx.Err() != nil {
			return directory.Device{}, "", false, ctx.Err()
		}
		return fail(err.Error())
	}
	if res.Result == "deny" {
		s.ex.event(Event{Action: EventLoginFailed, Message: MsgDuoDenied, Flow: s.Flow.Slug, Stage: s.Stage.Name, User: username})
		if err := s.ChangeReputation(ctx, username, reputation.LoginFailed); err != nil {
			return directory.Device{}, "", false, err
		}
		return directory.Device{}, MsgDuoDenied, false, nil
	}
	return dev, "", true, nil
}

// requestHost is the host the client asked for (the request's Host
// header), else the site's (Options.BaseURL); "" when neither is known.
func (s *Step) requestHost() string {
	if s.Request.HTTP != nil {
		if h := s.Request.HTTP.Header.Get("Host"); h != "" {
			return h
		}
	}
	if u, err := url.Parse(s.ex.baseURL); err == nil {
		return u.Host
	}
	return ""
}

// DuoEnrollmentPath is where DuoEnrollmentStatusHandler serves, before
// the stage's pk: authentik's POST
// /api/v3/stages/authenticator/duo/{stage_uuid}/enrollment_status/.
const DuoEnrollmentPath = "/api/v3/stages/authenticator/duo/"

// duoEnrollmentSuffix ends DuoEnrollmentPath's paths.
const duoEnrollmentSuffix = "/enrollment_status/"

// ErrNoDuoEnrollment means the session has no Duo enrollment under way.
var ErrNoDuoEnrollment = errors.New("executor: no Duo enrollment in the session")

// ErrUnknownStage means no authenticator_duo stage has the pk given.
var ErrUnknownStage = errors.New("executor: no such stage")

// DuoEnrollmentStatus asks Duo whether the enrollment an
// authenticator_duo stage made in one of the session's executions is
// done (Duo's "success", "waiting" or "invalid"), through stagePK's
// integration, as authentik's enrollment_status does with the
// session's enrollment. It fails with ErrUnknownStage when stagePK is
// not an authenticator_duo stage, and ErrNoDuoEnrollment when no
// execution of the session holds an enrollment.
func (e *Executor) DuoEnrollmentStatus(ctx context.Context, session string, stagePK uuid.UUID) (string, error) {
	var st stage.Stage
	err := e.s.View(ctx, func(tx *store.Tx) error {
		var err error
		st, err = store.Stages.Get(tx, store.PK(stagePK))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%w: %s", ErrUnknownStage, stagePK)
	} else if err != nil {
		return "", err
	}
	cfg, ok := st.Config.(stage.AuthenticatorDuo)
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrUnknownStage, stagePK)
	}
	if session == "" {
		return "", ErrNoDuoEnrollment
	}
	slugs, err := e.flowSlugs(ctx)
	if err != nil {
		return "", err
	}
	for _, slug := range slugs {
		rec, err := e.rs.Load(ctx, Executions, ExecutionKey(session, slug))
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrExpired) {
			continue
		} else if err != nil {
			return "", err
		}
		x, err := decodeExecution(rec.Data)
		if err != nil {
			return "", err
		}
		en, ok := loadDuoEnroll(x.Context)
		if !ok {
			continue
		}
		if e.duo == nil {
			return "", errors.New("executor: duo enrollment status: " + MsgNoDuo)
		}
		return e.duo.EnrollStatus(ctx, cfg, en.UserID, en.ActivationCode)
	}
	return "", ErrNoDuoEnrollment
}

// DuoEnrollmentStatusHandler serves DuoEnrollmentStatus over HTTP as
// authentik's POST /api/v3/stages/authenticator/duo/{stage_uuid}/enrollment_status/,
// for the request's session (found as HTTPHandler finds it): 200
// {"duo_response": status}, 404 for an unknown stage, 400 without an
// enrollment, and a flow error's answer when Duo fails.
func (e *Executor) DuoEnrollmentStatusHandler(o HTTPOptions) http.Handler {
	h := e.httpSessions(o)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, DuoEnrollmentPath)
		id, ok2 := strings.CutSuffix(rest, duoEnrollmentSuffix)
		pk, err := uuid.Parse(id)
		if !ok || !ok2 || err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": `Method "` + r.Method + `" not allowed.`})
			return
		}
		status, err := e.DuoEnrollmentStatus(r.Context(), h.existing(r), pk)
		switch {
		case errors.Is(err, ErrUnknownStage):
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
		case errors.Is(err, ErrNoDuoEnrollment):
			w.WriteHeader(http.StatusBadRequest)
		case err != nil:
			h.fail(w, "", err)
		default:
			writeJSON(w, http.StatusOK, map[string]string{"duo_response": status})
		}
	})
}

// IsDuoEnrollmentPath reports whether path is one that
// DuoEnrollmentStatusHandler serves.
func IsDuoEnrollmentPath(path string) bool {
	rest, ok := strings.CutPrefix(path, DuoEnrollmentPath)
	id, ok2 := strings.CutSuffix(rest, duoEnrollmentSuffix)
	return ok && ok2 && !strings.Contains(id, "/")
}
