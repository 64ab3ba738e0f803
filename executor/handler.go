package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
)

// Handler runs the stages of one kind. The executor calls Challenge when
// a GET reaches the stage (and to build the challenge again after an
// invalid response), and Respond with the body of a POST. A returned
// error is unexpected: the client sees ak-stage-flow-error and the
// execution stays where it was. Handlers are called concurrently. The
// *Step is the handler's only while the call runs (see Step).
type Handler interface {
	Challenge(ctx context.Context, s *Step) (Result, error)
	Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error)
}

// Step is what a handler sees of the execution it runs in. Context is the
// plan context, which the handler may change; the changes are kept when
// the step is saved. The values a handler puts into it are the
// executor's from then on, kept as they are, not copied, and changed in
// place by the steps that follow: once the step returns, the handler
// neither changes nor reads them (a map it shares with other code goes
// in as a copy, and a challenge copies what it shows of one).
//
// A Step is valid only while the handler it is given to runs: the
// executor reuses it (and the request's other state) for a later
// request, so a handler keeps neither the *Step nor a pointer into it
// once it returns, nor uses it from a goroutine that outlives the call.
// What it keeps, it copies (a field's value: Flow, Stage, Planned, a
// string of Query).
type Step struct {
	// Flow is the flow running, read on this request.
	Flow flow.Flow
	// Stage is the stage reached, read on this request; its Config is of
	// the handler's kind. It is the zero Stage for a stage a policy
	// inserted (Planned.Redirect).
	Stage stage.Stage
	// Planned is the plan's entry for the stage.
	Planned plan.Stage
	// Context is the plan context.
	Context map[string]any
	// Query is the client's query string (the query parameter), parsed:
	// a handler not of Builtin may change it; Builtin's, which only read
	// it, are given nil for an empty query.
	Query url.Values
	// Request is the request being answered. A handler not of Builtin
	// may change it: its HTTP is the handler's own.
	Request Request

	ex  *Executor
	run *run
}

// Event reports an event about this step to the host (Options.Events).
func (s *Step) Event(action, message string) {
	s.ex.event(Event{Action: action, Message: message, Flow: s.Flow.Slug, Stage: s.Stage.Name})
}

// Envelope returns the envelope of a challenge of this step's stage:
// the component and the flow's flow_info.
func (s *Step) Envelope(component string) Envelope {
	return Envelope{FlowInfo: s.ex.flowInfo(s.Flow, s.Context, s.Request), Component: component}
}

// UserInfo is the user-info part of a challenge: the display user's
// name (the context's pending_user_identifier, else the request's
// user's) and avatar.
func (s *Step) UserInfo() UserInfo { return s.ex.displayInfo(s.Context, s.Request) }

// Result is a handler's answer. Build one with Show, Pass, Invalid, Deny
// or Retry.
type Result struct {
	kind      resultKind
	challenge Challenge
	message   string
	errs      *validate.Error
}

type resultKind uint8

const (
	resultShow resultKind = iota + 1
	resultPass
	resultInvalid
	resultDeny
	resultRetry
)

// Show answers with a challenge; its envelope should come from
// Step.Envelope.
func Show(c Challenge) Result { return Result{kind: resultShow, challenge: c} }

// Pass says the stage passed (authentik's stage_ok): the next stage is
// reached, or the flow ends.
func Pass() Result { return Result{kind: resultPass} }

// Invalid says the answer is no (authentik's stage_invalid): the binding's
// invalid_response_action restart or restart_with_context restarts the
// flow; otherwise the execution ends with ak-stage-access-denied showing
// message ("Unknown error" when empty).
func Invalid(message string) Result { return Result{kind: resultInvalid, message: message} }

// Deny ends the execution with ak-stage-access-denied showing message,
// whatever the binding's invalid_response_action (a restart would reach
// the same stage again).
func Deny(message string) Result { return Result{kind: resultDeny, message: message} }

// Retry says the response was invalid: with the binding's
// invalid_response_action retry, the stage's challenge is built again
// (Challenge) and shown with errs as response_errors; with restart or
// restart_with_context the flow restarts.
func Retry(errs *validate.Error) Result { return Result{kind: resultRetry, errs: errs} }

// MsgUnsupportedStage is the message of a stage kind authflow cannot run
// yet; %s is the kind's verbose name.
const MsgUnsupportedStage = "The stage kind %s is not supported by authflow yet."

// Builtin returns the handlers of authentik's 24 stage kinds: dummy,
// deny, redirect, identification, password, user_login, user_logout,
// prompt, user_write, authenticator_validate (TOTP, static, WebAuthn,
// SMS, email and Duo devices), authenticator_totp, authenticator_static,
// authenticator_webauthn, authenticator_sms, authenticator_email,
// authenticator_duo, consent,
// user_delete, captcha, email and invitation run;
// every other kind has a handler that denies the flow with
// MsgUnsupportedStage and a
// configuration_error event, until its handler is written.
func Builtin() map[stage.ModelName]Handler {
	h := map[stage.ModelName]Handler{
		stage.ModelDummy:    dummyHandler{},
		stage.ModelDeny:     denyHandler{},
		stage.ModelRedirect: redirectHandler{},

		stage.ModelIdentification: identificationHandler{},
		stage.ModelPassword:       passwordHandler{},
		stage.ModelUserLogin:      userLoginHandler{},
		stage.ModelUserLogout:     userLogoutHandler{},
		// The enrollment stages (prompt.go, userwrite.go).
		stage.ModelPromptStage: promptHandler{},
		stage.ModelUserWrite:   userWriteHandler{},
		// authenticator_validate, consent, user_delete
		// and captcha (authvalidate.go, consent.go, userdelete.go,
		// captcha.go).
		stage.ModelAuthenticatorValidate: authValidateHandler{},
		stage.ModelConsent:               consentHandler{},
		stage.ModelUserDelete:            userDeleteHandler{},
		stage.ModelCaptcha:               captchaHandler{},
		// Flow tokens and invitations (email.go, invitation.go).
		stage.ModelEmail:      emailHandler{},
		stage.ModelInvitation: invitationHandler{},
		// The authenticator setup stages (authtotp.go, authstatic.go,
		// authwebauthn.go, authsms.go, authemail.go, authduo.go).
		stage.ModelAuthenticatorTOTP:     authTOTPHandler{},
		stage.ModelAuthenticatorStatic:   authStaticHandler{},
		stage.ModelAuthenticatorWebAuthn: authWebAuthnHandler{},
		stage.ModelAuthenticatorSMS:      authSMSHandler{},
		stage.ModelAuthenticatorEmail:    authEmailHandler{},
		stage.ModelAuthenticatorDuo:      authDuoHandler{},
	}
	for _, m := range []stage.ModelName{
		stage.ModelAuthenticatorEndpointGDTC, stage.ModelMutualTLS, stage.ModelSource,
	} {
		h[m] = Unsupported(m)
	}
	return h
}

// Unsupported returns the handler of a stage kind that cannot run: on
// reaching the stage it reports a configuration_error event and denies
// the flow with MsgUnsupportedStage, naming the kind by its verbose name
// (its model name when it is not registered).
func Unsupported(m stage.ModelName) Handler { return unsupported{m} }

type unsupported struct{ m stage.ModelName }

func (u unsupported) deny(s *Step) (Result, error) {
	name := string(u.m)
	if k, ok := s.ex.s.StageKinds().Lookup(u.m); ok {
		name = k.VerboseName
	}
	msg := fmt.Sprintf(MsgUnsupportedStage, name)
	s.Event(EventConfigurationError, msg)
	return Deny(msg), nil
}

func (u unsupported) Challenge(_ context.Context, s *Step) (Result, error) { return u.deny(s) }

func (u unsupported) Respond(_ context.Context, s *Step, _ json.RawMessage) (Result, error) {
	return u.deny(s)
}

// DecodeResponse decodes a challenge response onto a T, a struct whose
// fields carry "json" and "af" tags, with package validate: the rules of
// its fields, with DRF's messages. Keys T does not declare ("component"
// among them) are ignored, as DRF's serializers ignore them. Rejected
// input, a body that is not a JSON object included, is a
// *validate.Error (render it with Retry); err is anything else (a body
// that is not JSON, a T validate cannot describe).
func DecodeResponse[T any](body json.RawMessage) (T, *validate.Error, error) {
	var zero T
	sc, err := validate.SchemaOf(zero)
	if err != nil {
		return zero, nil, err
	}
	v, err := validate.Apply(zero, body, validate.Create, func(k string) bool { return !sc.Has(k) })
	var verr *validate.Error
	switch {
	case errors.As(err, &verr):
		return v, verr, nil
	case err != nil:
		return v, nil, err
	}
	return v, nil, nil
}
