package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
)

// SMSSender sends the code of an SMS device through the provider an
// authenticator_sms stage names (its provider, from_number, account_sid,
// auth, auth_password and auth_type), as authentik's
// AuthenticatorSMSStage.send does. A provider's refusal is a
// *validate.Error whose non-field message is the provider's (authentik
// shows it to the user); any other error is unexpected. Its errors
// never hold the code, the stage's credentials, nor a URL.
type SMSSender interface {
	SendSMS(ctx context.Context, cfg stage.AuthenticatorSMS, to, token string) error
}

// MsgNoSMSSender is the error_message of a stage that sends SMS when
// Options.SMS is nil.
const MsgNoSMSSender = "This flow needs an SMS sender, and none is configured."

// MsgSMSMapping is the error_message (and configuration_error event) of
// an authenticator_sms stage with a webhook mapping: authflow holds no
// mappings, so it cannot build the payload the stage asks for.
const MsgSMSMapping = "This SMS stage modifies its payload with a webhook mapping, which authflow does not support."

// MsgSMSError is the configuration_error event of an SMS the provider
// refused or that could not be sent, as authentik's.
const MsgSMSError = "Error sending SMS"

// DefaultTwilioURL is the base of Twilio's REST API.
const DefaultTwilioURL = "https://api.twilio.com"

// maxSMSAnswer bounds the body of a provider's answer that is read.
const maxSMSAnswer = 64 << 10

// maxSMSMessage bounds the provider's text shown to the user.
const maxSMSMessage = 1000

// smsMessage is the text of the SMS, authentik's.
func smsMessage(token string) string {
	return "Use this code to authenticate in authentik: " + token
}

// HTTPSMS is the built-in SMSSender: authentik's two providers over
// HTTP.
//
//   - twilio: a form POST of To, From (from_number) and Body (the
//     message) to Twilio's Messages API of the account account_sid,
//     with HTTP basic authentication (account_sid, auth). Twilio's
//     refusal is "Unable to create record: <Twilio's message>", as
//     authentik's Twilio client words it.
//   - generic: a JSON POST of {"From", "To", "Body" (the code),
//     "Message" (the message)} to the URL account_sid, authenticated
//     with HTTP basic (auth, auth_password) or a bearer token (auth).
//     An answer of 400 or more is refused with the answer's text
//     (bounded, with the code and credentials masked); any other is
//     success, as requests' raise_for_status has it.
type HTTPSMS struct {
	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client
	// TwilioURL is the base of Twilio's API; "" means DefaultTwilioURL
	// (tests point it to a local server).
	TwilioURL string
}

// SendSMS implements SMSSender.
func (h HTTPSMS) SendSMS(ctx context.Context, cfg stage.AuthenticatorSMS, to, token string) error {
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	hide := []string{token, cfg.Auth.Reveal(), cfg.AuthPassword.Reveal()}
	var req *http.Request
	var err error
	switch cfg.Provider {
	case stage.SMSProviderTwilio:
		base := h.TwilioURL
		if base == "" {
			base = DefaultTwilioURL
		}
		u := strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(cfg.AccountSID) + "/Messages.json"
		form := url.Values{"To": {to}, "From": {cfg.FromNumber}, "Body": {smsMessage(token)}}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
		if err != nil {
			return errors.New("executor: sms: twilio: bad request")
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(cfg.AccountSID, cfg.Auth.Reveal())
	case stage.SMSProviderGeneric:
		payload, _ := json.Marshal(map[string]string{"From": cfg.FromNumber, "To": to, "Body": token, "Message": smsMessage(token)})
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, cfg.AccountSID, bytes.NewReader(payload))
		if err != nil {
			// The URL may hold credentials: not named.
			return errors.New("executor: sms: generic: the stage's URL (account_sid) is not a valid URL")
		}
		req.Header.Set("Content-Type", "application/json")
		switch cfg.AuthType {
		case stage.SMSAuthBearer:
			req.Header.Set("Authorization", "Bearer "+cfg.Auth.Reveal())
		case stage.SMSAuthBasic, "":
			req.SetBasicAuth(cfg.Auth.Reveal(), cfg.AuthPassword.Reveal())
		default:
			return fmt.Errorf("executor: sms: invalid auth type %q", cfg.AuthType)
		}
	default:
		return fmt.Errorf("executor: sms: invalid provider %q", cfg.Provider)
	}
	resp, err := doQuiet(ctx, client, req, "sms: "+string(cfg.Provider), hide)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxSMSAnswer))
	if cfg.Provider == stage.SMSProviderTwilio {
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return nil
		}
		msg := "Unable to create record"
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &e) == nil && e.Message != "" {
			msg += ": " + e.Message
		}
		return nonField(bound(mask(msg, hide)))
	}
	if resp.StatusCode >= 400 {
		return nonField(bound(mask(string(body), hide)))
	}
	return nil
}

// doQuiet sends req with client; its error names what (the service),
// never the URL (a url.Error's, which may hold credentials) nor any
// value of hide.
func doQuiet(ctx context.Context, client *http.Client, req *http.Request, what string, hide []string) (*http.Response, error) {
	resp, err := client.Do(req)
	if err == nil {
		return resp, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return nil, fmt.Errorf("executor: %s: %s", what, mask(err.Error(), hide))
}

// mask replaces every non-empty value of hide in s.
func mask(s string, hide []string) string {
	for _, h := range hide {
		if h != "" {
			s = strings.ReplaceAll(s, h, redacted)
		}
	}
	return s
}

// bound cuts s to maxSMSMessage bytes, on a character boundary.
func bound(s string) string {
	if len(s) <= maxSMSMessage {
		return s
	}
	s = s[:maxSMSMessage]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

var _ SMSSender = HTTPSMS{}

// hashPhoneNumber is the form of a number a verify_only stage keeps:
// "hash:" and the hex SHA-256 of the number (authentik's
// hash_phone_number; HashStaticToken is that hash).
func hashPhoneNumber(n string) string { return "hash:" + directory.HashStaticToken(n) }

// sendSMS sends token to the number through Options.SMS, reporting a
// failure as a configuration_error event: ok false with the result to
// answer when it was not sent (a refusal is a Retry with the
// provider's message; no sender, or a mapping, denies the flow).
func sendSMS(ctx context.Context, s *Step, cfg stage.AuthenticatorSMS, to, token string) (Result, bool, error) {
	if r, ok := smsUsable(s, cfg); !ok {
		return r, false, nil
	}
	err := s.ex.sms.SendSMS(ctx, cfg, to, token)
	if err == nil {
		return Result{}, true, nil
	}
	s.Event(EventConfigurationError, MsgSMSError)
	var verr *validate.Error
	if errors.As(err, &verr) {
		return Retry(verr), false, nil
	}
	return Result{}, false, err
}

// smsUsable checks that an SMS can be sent through cfg: ok false with
// the flow denied (and a configuration_error event) when there is no
// sender or the stage has a mapping.
func smsUsable(s *Step, cfg stage.AuthenticatorSMS) (Result, bool) {
	switch {
	case s.ex.sms == nil:
		s.Event(EventConfigurationError, MsgNoSMSSender)
		return Deny(MsgNoSMSSender), false
	case cfg.Mapping != nil && cfg.Provider == stage.SMSProviderGeneric:
		s.Event(EventConfigurationError, MsgSMSMapping)
		return Deny(MsgSMSMapping), false
	}
	return Result{}, true
}
