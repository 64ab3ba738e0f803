package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
)

// The authenticator_email setup stage (authentik's
// stages/authenticator_email, EXECUTOR.md §4.16).
const (
	// ComponentAuthenticatorEmail is its challenge.
	ComponentAuthenticatorEmail = "ak-stage-authenticator-email"
	// ContextEmailDevice is the plan context key of the device being
	// set up (authentik's session key; see sideChannelSetup).
	ContextEmailDevice = "authentik/stages/authenticator_email/email_device"
	// PromptEmail is the prompt_data key of an address an earlier
	// prompt stage asked for.
	PromptEmail = "email"
	// MsgEmailRequired is the non-field error of a response with
	// neither an address nor a code.
	MsgEmailRequired = "email required"
	// MsgInvalidEmail is the non-field error of an address that a
	// device of the user has already.
	MsgInvalidEmail = "Invalid email"
	// MsgNoCodeMailer is the error_message (and configuration_error
	// event) of an email code to send when Options.Mailer is nil.
	MsgNoCodeMailer = "This flow needs a mailer to send email, and none is configured."
	// emailDeviceName is the name of the devices it saves.
	emailDeviceName = "Email Device"
)

// AuthenticatorEmailChallenge is ak-stage-authenticator-email: the
// address is asked for while EmailRequired, then the code. Email is the
// address known, masked (maskEmail), or null.
type AuthenticatorEmailChallenge struct {
	Envelope
	UserInfo
	Email         *string `json:"email"`
	EmailRequired bool    `json:"email_required"`
}

// authEmailHandler is authentik's authenticator_email stage: the
// address (the user's own, else prompt_data["email"], else asked for),
// a code mailed to it through Options.Mailer and the mail queue, and
// the code given back; then the device is saved, confirmed. The code
// works for the stage's token_expiry.
type authEmailHandler struct{}

// usable checks what the stage needs (setupUsable's and a mailer) and
// reads the user.
func (authEmailHandler) usable(ctx context.Context, s *Step) (directory.User, Result, bool, error) {
	pk, r, ok, err := setupUsable(ctx, s)
	if !ok {
		return directory.User{}, r, false, err
	}
	if r, ok := codeMailerUsable(s); !ok {
		return directory.User{}, r, false, nil
	}
	u, err := s.ex.user(ctx, pk)
	return u, Result{}, err == nil, err
}

func (h authEmailHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	cfg := s.Stage.Config.(stage.AuthenticatorEmail)
	u, r, ok, err := h.usable(ctx, s)
	if !ok {
		return r, err
	}
	if _, ok := loadSetup(s.Context, ContextEmailDevice); !ok {
		st, r, ok, err := h.start(s, cfg)
		if err != nil || !ok {
			return r, err
		}
		if addr := h.address(s, u, st); addr != "" {
			st.Address = addr
			r, sent, err := h.send(ctx, s, cfg, u, st)
			switch {
			case err != nil:
				return Result{}, err
			case !sent && r.kind != resultRetry:
				return r, nil
			case !sent:
				// An address of another device: forget it, and ask
				// (authentik asks its user's own address again, and
				// again, without end).
				dropPromptValue(s.Context, PromptEmail)
				st.Address, st.Ask = "", true
			}
		}
		st.save(s.Context, ContextEmailDevice)
	}
	return Show(h.challenge(s, u)), nil
}

// start is a new device's state, with its code, which works for the
// stage's token_expiry.
func (authEmailHandler) start(s *Step, cfg stage.AuthenticatorEmail) (sideChannelSetup, Result, bool, error) {
	var st sideChannelSetup
	secs, ok := validate.ParseTimedelta(cfg.TokenExpiry)
	if !ok {
		s.Event(EventConfigurationError, fmt.Sprintf("Invalid token_expiry %q.", cfg.TokenExpiry))
		return st, Invalid(""), false, nil
	}
	err := newCode(&st.SideChannel, s.ex.now(), time.Duration(secs*float64(time.Second)))
	return st, Result{}, err == nil, err
}

// address is the address known (authentik's _has_email): the user's
// own, else prompt_data["email"], else the device's; "" for none. Once
// the address known beforehand was refused, only the one the user gave.
func (authEmailHandler) address(s *Step, u directory.User, st sideChannelSetup) string {
	if st.Ask {
		return st.Address
	}
	if u.Email != "" {
		return u.Email
	}
	if v := promptValue(s.Context, PromptEmail); v != "" {
		return v
	}
	return st.Address
}

func (h authEmailHandler) challenge(s *Step, u directory.User) *AuthenticatorEmailChallenge {
	st, _ := loadSetup(s.Context, ContextEmailDevice)
	addr := h.address(s, u, st)
	c := &AuthenticatorEmailChallenge{Envelope: s.Envelope(ComponentAuthenticatorEmail), UserInfo: s.UserInfo(), EmailRequired: addr == ""}
	if m, ok := maskEmail(addr); ok {
		c.Email = &m
	}
	return c
}

// send checks that no device of the user has st's address and mails
// st's code to it (authentik's validate_and_send): sent false with the
// result to answer when not.
func (authEmailHandler) send(ctx context.Context, s *Step, cfg stage.AuthenticatorEmail, u directory.User, st sideChannelSetup) (Result, bool, error) {
	_, err := s.ex.devices.FindDevice(ctx, directory.DeviceFind{User: u.PK, Email: st.Address})
	if err == nil {
		return Retry(nonField(MsgInvalidEmail)), false, nil
	}
	if !errors.Is(err, directory.ErrNotFound) {
		return Result{}, false, err
	}
	if r, ok, err := countCode(ctx, s, "email-code:", u.PK); !ok || err != nil {
		return r, false, err
	}
	return mailCode(ctx, s, cfg, u, st.Address, st.SideChannel)
}

// mailCode queues the message of an email device's code to address to;
// ok false with the result to answer when it cannot be sent.
func mailCode(ctx context.Context, s *Step, cfg stage.AuthenticatorEmail, u directory.User, to string, sc directory.SideChannel) (Result, bool, error) {
	if r, ok := codeMailerUsable(s); !ok {
		return r, false, nil
	}
	text, htm, ok := renderCodeEmail(cfg.Template, u, sc)
	if !ok {
		s.Event(EventConfigurationError, MsgEmailTemplate)
		return Invalid(""), false, nil
	}
	addr, rcpt := mailRecipient(u, to)
	settings := mailSettings(stage.Email{
		UseGlobalSettings: cfg.UseGlobalSettings, Host: cfg.Host, Port: cfg.Port, Username: cfg.Username, Password: cfg.Password,
		UseTLS: cfg.UseTLS, UseSSL: cfg.UseSSL, Timeout: cfg.Timeout, FromAddress: cfg.FromAddress,
	})
	m := Mail{Settings: settings, To: []Address{addr}, Subject: cfg.Subject, Text: text, HTML: htm}
	s.ex.mail.enqueue(ctx, m, rcpt, Event{Flow: s.Flow.Slug, Stage: s.Stage.Name, User: u.Username})
	return Result{}, true, nil
}

// codeMailerUsable checks that codes can be mailed: ok false with the
// flow denied (and a configuration_error event) without a mailer.
func codeMailerUsable(s *Step) (Result, bool) {
	if s.ex.mailer == nil {
		s.Event(EventConfigurationError, MsgNoCodeMailer)
		return Deny(MsgNoCodeMailer), false
	}
	return Result{}, true
}

func (h authEmailHandler) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	cfg := s.Stage.Config.(stage.AuthenticatorEmail)
	u, r, ok, err := h.usable(ctx, s)
	if !ok {
		return r, err
	}
	resp, verr, err := DecodeResponse[setupResponse](body)
	if err != nil {
		return Result{}, err
	} else if verr != nil {
		return Retry(verr), nil
	}
	pk := u.PK
	st, ok := loadSetup(s.Context, ContextEmailDevice)
	if !ok {
		var r Result
		if st, r, ok, err = h.start(s, cfg); err != nil || !ok {
			return r, err
		}
	}
	if resp.Code == nil {
		if resp.Email == nil {
			return Retry(nonField(MsgEmailRequired)), nil
		}
		st.Address = *resp.Email
		if st.stale(s.ex.now()) {
			n, r, ok, err := h.start(s, cfg)
			if err != nil || !ok {
				return r, err
			}
			st.SideChannel, st.Attempts = n.SideChannel, 0
		}
		r, sent, err := h.send(ctx, s, cfg, u, st)
		if err != nil || !sent {
			return r, err
		}
		st.save(s.Context, ContextEmailDevice)
		return Show(h.challenge(s, u)), nil
	}
	return confirmSetup(ctx, s, st, ContextEmailDevice, *resp.Code, directory.Device{
		Class: directory.DeviceEmail, User: pk, Name: emailDeviceName, Confirmed: true, Stage: s.Stage.PK,
		Email: &directory.EmailDevice{Email: st.Address},
	}, MsgInvalidEmail)
}

// renderCodeEmail renders the message of an email device's code, in
// authflow's words: false for a template authflow cannot render (only
// authentik's email/email_otp.html is known).
func renderCodeEmail(template string, u directory.User, sc directory.SideChannel) (text, htm string, ok bool) {
	if template != stage.EmailTemplateOTP {
		return "", "", false
	}
	until := sc.ValidUntil.UTC().Format("2 January 2006, 15:04 UTC")
	intro := "Hello " + u.Username + ","
	action := "Your sign-in code:"
	outro := "The code works until " + until + ". If you did not ask for it, ignore this email."
	text = intro + "\n\n" + action + "\n" + sc.Token + "\n\n" + outro + "\n"
	e := html.EscapeString
	htm = "<!DOCTYPE html>\n<html><body>\n<p>" + e(intro) + "</p>\n<p>" + e(action) + "</p>\n<p><strong>" + e(sc.Token) +
		"</strong></p>\n<p>" + e(outro) + "</p>\n</body></html>\n"
	return text, htm, true
}

// maskEmail masks an address as authentik's mask_email does: of the
// local part and of each domain label but the last, the first character
// kept and the others starred, or all starred when it has at most two
// characters; the top-level label kept. False for "" and for what is
// not an address of that shape (authentik fails on it).
func maskEmail(addr string) (string, bool) {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || strings.Contains(domain, "@") || local == "" || domain == "" {
		return "", false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 || labels[len(labels)-1] == "" {
		return "", false
	}
	part := func(p string) string {
		n := len([]rune(p))
		if n <= 2 {
			return strings.Repeat("*", n)
		}
		return string([]rune(p)[:1]) + strings.Repeat("*", n-1)
	}
	out := make([]string, len(labels))
	for i, l := range labels[:len(labels)-1] {
		if l == "" {
			return "", false
		}
		out[i] = part(l)
	}
	out[len(out)-1] = labels[len(labels)-1]
	return part(local) + "@" + strings.Join(out, "."), true
}

// selectEmail is the email class's selected hook of
// authenticator_validate (authentik's select_challenge_email): a new
// code for the device, valid for its setup stage's token_expiry, mailed
// to its address.
func selectEmail(ctx context.Context, s *Step, dev directory.Device) error {
	st, ok, err := s.stageOf(ctx, &dev.Stage)
	if err != nil {
		return err
	}
	cfg, isEmail := st.Config.(stage.AuthenticatorEmail)
	if !ok || !isEmail {
		return nonField(MsgStageGone)
	}
	if r, ok := codeMailerUsable(s); !ok {
		return nonField(r.message)
	}
	secs, ok := validate.ParseTimedelta(cfg.TokenExpiry)
	if !ok {
		msg := fmt.Sprintf("Invalid token_expiry %q.", cfg.TokenExpiry)
		s.Event(EventConfigurationError, msg)
		return nonField(msg)
	}
	if _, ok, err := countCode(ctx, s, "email-code:", dev.User); err != nil {
		return err
	} else if !ok {
		return nonField(MsgCodesLimit)
	}
	u, err := s.ex.user(ctx, dev.User)
	if err != nil {
		return err
	}
	if dev, err = newDeviceCode(ctx, s, dev, time.Duration(secs*float64(time.Second))); err != nil {
		return err
	}
	r, sent, err := mailCode(ctx, s, cfg, u, dev.Email.Email, dev.Email.SideChannel)
	if err != nil {
		return err
	}
	if !sent {
		if r.message == "" {
			return nonField(MsgEmailTemplate)
		}
		return nonField(r.message)
	}
	return nil
}

// checkEmailCode is the email class's checkCode.
func checkEmailCode(dev *directory.Device, code string, now time.Time) bool {
	return dev.Email != nil && checkSideChannel(&dev.Email.SideChannel, code, now)
}

// emailChallenge is the email class's device challenge: the device's
// address, masked (null when it cannot be).
func emailChallenge(_ context.Context, _ *Step, _ stage.AuthenticatorValidate, dev directory.Device, _ []directory.Device) (map[string]any, error) {
	if m, ok := maskEmail(dev.Email.Email); ok {
		return map[string]any{"email": m}, nil
	}
	return map[string]any{"email": nil}, nil
}
