package executor

import (
	"slices"
	"strings"

	"github.com/authflow/authflow/validate"
)

// Challenge components of the executor and of this package's stages.
const (
	ComponentAccessDenied = "ak-stage-access-denied"
	ComponentRedirect     = "xak-flow-redirect"
	ComponentFlowError    = "ak-stage-flow-error"
	ComponentDummy        = "ak-stage-dummy"
)

// CancelURL is every challenge's flow_info.cancel_url: authentik's
// /flows/-/cancel/.
const CancelURL = "/flows/-/cancel/"

// DefaultAvatar is the pending_user_avatar of an anonymous user
// (authentik's default avatar), and of a user Options.Avatar gives none.
const DefaultAvatar = "/static/dist/assets/images/user_default.png"

// Challenge is what a stage asks the client: a struct that embeds
// Envelope and declares its own fields with their JSON names, exactly the
// keys of its schema in authentik's ChallengeTypes (authentik's Go client
// refuses any other key).
type Challenge interface {
	envelope() *Envelope
}

// Envelope holds the keys every challenge has. Handlers set Component;
// the executor sets FlowInfo on the challenges of stages and
// ResponseErrors when a response was invalid.
type Envelope struct {
	FlowInfo       *FlowInfo                `json:"flow_info,omitempty"`
	Component      string                   `json:"component"`
	ResponseErrors map[string][]ErrorDetail `json:"response_errors,omitempty"`
}

func (e *Envelope) envelope() *Envelope { return e }

// FlowInfo is authentik's ContextualFlowInfo.
type FlowInfo struct {
	Title      string `json:"title"`
	Background string `json:"background"`
	CancelURL  string `json:"cancel_url"`
	Layout     string `json:"layout"`
}

// ErrorDetail is one error of response_errors.
type ErrorDetail struct {
	String string `json:"string"`
	Code   string `json:"code"`
}

// ResponseErrors renders a validation error as authentik's
// response_errors: each field's messages, and the non-field ones under
// non_field_errors, each with DRF's code for its message: "required",
// "blank", "null" or "invalid_choice" for DRF's own messages, else
// "invalid" (validate.Error keeps no codes).
func ResponseErrors(e *validate.Error) map[string][]ErrorDetail {
	if e.Empty() {
		return nil
	}
	out := map[string][]ErrorDetail{}
	add := func(k string, msgs []string) {
		for _, m := range msgs {
			out[k] = append(out[k], ErrorDetail{String: m, Code: codeOf(m)})
		}
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		add(k, e.Fields[k])
	}
	add(validate.NonFieldKey, e.NonField)
	return out
}

// UserInfo is the user-info part of the challenges that carry it.
type UserInfo struct {
	PendingUser       string `json:"pending_user"`
	PendingUserAvatar string `json:"pending_user_avatar"`
}

// AccessDenied is ak-stage-access-denied: the flow was denied.
type AccessDenied struct {
	Envelope
	UserInfo
	ErrorMessage string `json:"error_message,omitempty"`
}

// Redirect is xak-flow-redirect: the client goes to To.
type Redirect struct {
	Envelope
	To string `json:"to"`
}

// FlowError is ak-stage-flow-error: something unexpected happened. It
// carries only the request id, which names the event that holds the
// error.
type FlowError struct {
	Envelope
	RequestID string `json:"request_id"`
}

// DummyChallenge is the dummy stage's ak-stage-dummy.
type DummyChallenge struct {
	Envelope
	Name string `json:"name"`
}

// codeOf is DRF's code of a message.
func codeOf(msg string) string {
	switch msg {
	case "This field is required.":
		return "required"
	case "This field may not be blank.":
		return "blank"
	case "This field may not be null.":
		return "null"
	case MsgEmailSentError:
		return MsgEmailSentError
	case MsgDuoDenied:
		return "denied"
	}
	if strings.HasPrefix(msg, `"`) && strings.HasSuffix(msg, `" is not a valid choice.`) {
		return "invalid_choice"
	}
	return "invalid"
}

// Components returns the challenge components the executor and its
// built-in handlers (Builtin) answer with, sorted: a host that renders
// challenges itself (package flowui) checks that it renders each.
func Components() []string {
	return []string{
		ComponentAccessDenied, ComponentAuthenticatorDuo, ComponentAuthenticatorEmail, ComponentAuthenticatorSMS,
		ComponentAuthenticatorStatic, ComponentAuthenticatorTOTP,
		ComponentAuthenticatorValidate, ComponentAuthenticatorWebAuthn, ComponentCaptcha, ComponentConsent,
		ComponentDummy, ComponentEmail, ComponentFlowError, ComponentIdentification,
		ComponentPassword, ComponentPrompt, ComponentUserLogin, ComponentRedirect,
	}
}
