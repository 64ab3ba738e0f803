package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// The email stage (authentik's stages/email, EXECUTOR.md §4.13).
const (
	// ComponentEmail is the email stage's challenge.
	ComponentEmail = "ak-stage-email"

	// ContextEmailSent is set (true) once the email stage sent its email.
	ContextEmailSent = "email_sent"
	// ContextEmail overrides the recipient of the email stage's email.
	ContextEmail = "email"

	// EventEmailSent is the event of an email sent; its message names the
	// recipient, never the link.
	EventEmailSent = "email_sent"
)

// The bound of the email stage's messages to one user (authflow's
// addition, with the defaults of authentik 2025.8's
// recovery_max_attempts and recovery_cache_timeout): past it, a request
// that would send sends nothing and answers as if it had, so that
// neither a mail bomb nor a flood of flow tokens can be made through a
// known identifier, and the answer still does not tell a known
// identifier from an unknown one.
const (
	// MaxEmailsPerUser is how many messages one user gets in EmailWindow.
	MaxEmailsPerUser = 5
	// EmailWindow is the window, from the first message, of the bound.
	EmailWindow = 5 * time.Minute
)

// Messages of the email stage, in authentik's words but MsgNoMailer.
const (
	// MsgEmailSentError is the non-field error (and its code) of every
	// response to ak-stage-email: the stage waits for the link.
	MsgEmailSentError = "email-sent"
	// MsgEmailNoPendingUser is reported (an EventMessage event) when an
	// email stage is reached without a pending user.
	MsgEmailNoPendingUser = "No pending user."
	// MsgEmailVerified is reported when the link was followed.
	MsgEmailVerified = "Successfully verified Email."
	// MsgEmailResent is reported when a response sent the email again.
	MsgEmailResent = "Email Successfully sent."
	// MsgLinkUsed is the error_message of a link whose token was used
	// (or expired) while its plan was restored.
	MsgLinkUsed = "Link was already used, please request a new link."
	// MsgConfirmEmail is the consent header of the link's confirmation.
	MsgConfirmEmail = "Continue to confirm this email address."
	// MsgEmailLimit is reported (an EventMessage event naming the user)
	// when an email was not sent, MaxEmailsPerUser having been sent to
	// the user within EmailWindow.
	MsgEmailLimit = "Too many emails to this user: none was sent."
	// MsgEmailTemplate is the configuration_error event of a template
	// that cannot be rendered.
	MsgEmailTemplate = "Exception occurred while rendering E-mail template"
	// MsgNoMailer is the error_message of an email stage when
	// Options.Mailer or Options.BaseURL is not set.
	MsgNoMailer = "This flow needs a mailer and the site's base URL to send email, and none is configured."
)

// Mailer sends email: the email stage's link. SendMail sends one
// message, or fails. The executor calls it in the background, from its
// mail queue (DefaultMailQueue), never while a client waits; a failed
// message is tried again (MailAttempts), each try bounded by
// MailTryTimeout, and a message given up is a system_exception event.
// Its errors must not hold the message's bodies, which carry the link.
type Mailer interface {
	SendMail(ctx context.Context, m Mail) error
}

// Mail is one message.
type Mail struct {
	// Settings are the connection of the stage that sends it.
	Settings MailSettings
	// To are the recipients.
	To      []Address
	Subject string
	// Text and HTML are the bodies: the same content, as plain text and
	// as HTML. Both hold the link.
	Text, HTML string
}

// Address is a recipient: a display name and an email address.
type Address struct {
	Name, Email string
}

// MailSettings are the stage's connection: with UseGlobalSettings, the
// host's own (every other field is zero); else the stage's SMTP server
// and sender.
type MailSettings struct {
	UseGlobalSettings bool
	Host              string
	Port              int
	Username          string
	// Password is the SMTP password: reveal it only to authenticate.
	Password       validate.Secret
	UseTLS, UseSSL bool
	Timeout        time.Duration
	// From is the sender's address.
	From string
}

// EmailChallenge is ak-stage-email: the email was sent; every response
// sends it again.
type EmailChallenge struct {
	Envelope
}

// emailConsentMarker marks the in-memory consent stage of an email's
// link (authentik's EmailTokenRevocationConsentStageView), in a plan
// entry's Redirect, which no policy can give.
const emailConsentMarker = "\x00email-token-consent"

// emailHandler is authentik's email stage.
type emailHandler struct{}

func (emailHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	cfg := s.Stage.Config.(stage.Email)
	if _, tokenUser, ok := restoredToken(s.Context); ok {
		// Back from the link.
		pk, _ := directory.ContextUserPK(s.Context[directory.ContextPendingUser])
		if _, set := s.Context[directory.ContextPendingUser]; !set && s.Request.User.Authenticated {
			pk = s.Request.User.PK
		}
		if tokenUser != pk {
			return Invalid(""), nil
		}
		s.Event(EventMessage, MsgEmailVerified)
		if cfg.ActivateUserOnSuccess {
			if err := activate(ctx, s); err != nil {
				return Result{}, err
			}
		}
		return Pass(), nil
	}
	if _, ok := s.Context[directory.ContextPendingUser]; !ok {
		s.Event(EventMessage, MsgEmailNoPendingUser)
		return Invalid(""), nil
	}
	if _, sent := s.Context[ContextEmailSent]; !sent {
		if res, ok, err := sendEmail(ctx, s, cfg); !ok || err != nil {
			return res, err
		}
		s.Context[ContextEmailSent] = true
	}
	return Show(&EmailChallenge{Envelope: s.Envelope(ComponentEmail)}), nil
}

func (emailHandler) Respond(ctx context.Context, s *Step, _ json.RawMessage) (Result, error) {
	if _, ok := s.Context[directory.ContextPendingUser]; !ok {
		s.Event(EventMessage, MsgEmailNoPendingUser)
		return Retry(nonField(MsgEmailSentError)), nil
	}
	if res, ok, err := sendEmail(ctx, s, s.Stage.Config.(stage.Email)); !ok || err != nil {
		return res, err
	}
	s.Context[ContextEmailSent] = true
	s.Event(EventMessage, MsgEmailResent)
	return Retry(nonField(MsgEmailSentError)), nil
}

// activate makes the pending user active.
func activate(ctx context.Context, s *Step) error {
	u, ok, err := s.PendingUser(ctx)
	if err != nil || !ok || u.IsActive {
		return err
	}
	u.IsActive = true
	if _, err := s.ex.dir.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("activating user %d: %w", u.PK, err)
	}
	return nil
}

// sendEmail sends the stage's email with a new link (authentik's
// send_email); ok false with the result to answer when it did not.
func sendEmail(ctx context.Context, s *Step, cfg stage.Email) (Result, bool, error) {
	if s.ex.mailer == nil || s.ex.baseURL == "" {
		s.Event(EventConfigurationError, MsgNoMailer)
		return Deny(MsgNoMailer), false, nil
	}
	_, saved := directory.ContextUserPK(s.Context[directory.ContextPendingUser])
	if !saved && s.Flow.Designation == flow.DesignationRecovery {
		// An unknown identifier: pretend, so as not to tell.
		return Result{}, true, nil
	}
	var u directory.User
	if saved {
		var ok bool
		var err error
		if u, ok, err = s.PendingUser(ctx); err != nil {
			return Result{}, false, err
		} else if !ok {
			saved = false
		}
	}
	if !saved {
		// authentik fails: a flow token needs a stored user.
		return Invalid(""), false, nil
	}
	to, _ := s.Context[ContextEmail].(string)
	if to == "" {
		to = u.Email
	}
	if to == "" {
		s.Event(EventConfigurationError, fmt.Sprintf("User %s has no email address; no email was sent.", u.Username))
		return Result{}, true, nil
	}
	if ok, err := s.ex.countEmail(ctx, u.PK); err != nil || !ok {
		if err == nil {
			s.ex.event(Event{Action: EventMessage, Message: MsgEmailLimit, Flow: s.Flow.Slug, Stage: s.Stage.Name, User: u.Username})
		}
		return Result{}, err == nil, err
	}
	secs, ok := validate.ParseTimedelta(cfg.TokenExpiry)
	if !ok {
		s.Event(EventConfigurationError, fmt.Sprintf("Invalid token_expiry %q.", cfg.TokenExpiry))
		return Invalid(""), false, nil
	}
	// One minute more, as authentik gives.
	expires := s.ex.now().Add(time.Duration(secs*float64(time.Second)) + time.Minute)
	x, err := copyExecution(s.run.ex)
	if err != nil {
		return Result{}, false, err
	}
	x.Stages = append([]plan.Stage{inMemoryStage("email-token-consent", emailConsentMarker)}, x.Stages...)
	x.Context[ContextConsentHeader] = MsgConfirmEmail
	delete(x.Context, ContextIsRestored)
	x.Shown = ""
	ident := slugify("ak-email-stage-" + s.Stage.Name + "-" + uuid.NewString())
	key, err := s.ex.suspend(ctx, s.Flow, x, FlowToken{Identifier: ident, User: u.PK, Expires: expires})
	if err != nil {
		return Result{}, false, err
	}
	link := s.ex.baseURL + FlowInterfacePath + s.Flow.Slug + "/?" + withoutParam(s.run.ex.Query, QueryFlowToken) + QueryFlowToken + "=" + key
	text, htm, ok := renderEmail(cfg.Template, u, link, expires)
	if !ok {
		s.Event(EventConfigurationError, MsgEmailTemplate)
		return Invalid(""), false, nil
	}
	addr, rcpt := mailRecipient(u, to)
	m := Mail{Settings: mailSettings(cfg), To: []Address{addr}, Subject: cfg.Subject, Text: text, HTML: htm}
	s.ex.mail.enqueue(ctx, m, rcpt, Event{Flow: s.Flow.Slug, Stage: s.Stage.Name, User: u.Username})
	return Result{}, true, nil
}

// mailRecipient is the recipient of a message to u at address to, and
// how events name it. No line breaks in a header, as Django sanitizes;
// a name that is not ASCII is dropped, the address alone kept, as
// authentik's send_mail does with a name Django had to encode.
func mailRecipient(u directory.User, to string) (Address, string) {
	name := strings.NewReplacer("\r", " ", "\n", " ").Replace(u.Name)
	if !isASCII(name) {
		name = ""
	}
	rcpt := to
	if name != "" {
		rcpt = name + " <" + to + ">"
	}
	return Address{Name: name, Email: to}, rcpt
}

// countEmail counts a message to user pk against MaxEmailsPerUser in
// EmailWindow: false when the bound is reached.
func (e *Executor) countEmail(ctx context.Context, pk int64) (bool, error) {
	return e.countSent(ctx, "mail:", pk)
}

// countSent counts a message of a kind (its key prefix: "mail:" for the
// email stage's, "sms:" and "email-code:" for the codes of the SMS and
// email devices) to user pk against MaxEmailsPerUser in EmailWindow (a
// record in the FlowTokens namespace, beside the tokens, whose keys are
// hashes and never hold ":"): false when the bound is reached.
func (e *Executor) countSent(ctx context.Context, prefix string, pk int64) (bool, error) {
	key := prefix + strconv.FormatInt(pk, 10)
	for range 16 {
		var (
			n       uint64
			version uint64
			exp     = e.now().Add(EmailWindow)
		)
		rec, err := e.rs.Load(ctx, FlowTokens, key)
		switch {
		case err == nil:
			n, _ = strconv.ParseUint(string(rec.Data), 10, 64)
			version, exp = rec.Version, rec.Expires
		case errors.Is(err, ErrExpired):
			if err := e.rs.Delete(ctx, FlowTokens, key); err != nil {
				return false, err
			}
		case !errors.Is(err, ErrNotFound):
			return false, err
		}
		if n >= MaxEmailsPerUser {
			return false, nil
		}
		_, err = e.rs.Save(ctx, FlowTokens, key, Record{Data: strconv.AppendUint(nil, n+1, 10), Expires: exp, Version: version})
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, ErrConflict), errors.Is(err, ErrExpired):
			continue
		default:
			return false, err
		}
	}
	return false, fmt.Errorf("executor: counting the messages of user %d: %w", pk, ErrConflict)
}

// mailSettings are the connection of an email stage.
func mailSettings(cfg stage.Email) MailSettings {
	if cfg.UseGlobalSettings {
		return MailSettings{UseGlobalSettings: true}
	}
	return MailSettings{
		Host: cfg.Host, Port: int(cfg.Port), Username: cfg.Username, Password: cfg.Password,
		UseTLS: cfg.UseTLS, UseSSL: cfg.UseSSL, Timeout: time.Duration(cfg.Timeout) * time.Second, From: cfg.FromAddress,
	}
}

// withoutParam is query without the parameter name, in its order,
// ending with "&" when not empty.
func withoutParam(query, name string) string {
	var b strings.Builder
	for _, p := range strings.Split(query, "&") {
		k, _, _ := strings.Cut(p, "=")
		if p == "" || k == name {
			continue
		}
		b.WriteString(p)
		b.WriteByte('&')
	}
	return b.String()
}

// slugify is Django's slugify of an ASCII string: lower case, letters,
// digits, "_" and "-" kept, runs of spaces and dashes one dash.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(c)
		case c == '-' || c == ' ':
			dash = true
		}
	}
	return b.String()
}

// renderEmail renders the template's message, authflow's own words with
// the link: false for a template authflow cannot render.
func renderEmail(template string, u directory.User, link string, expires time.Time) (text, htm string, ok bool) {
	until := expires.UTC().Format("2 January 2006, 15:04 UTC")
	var intro, action, outro string
	switch template {
	case stage.EmailTemplatePasswordReset:
		intro = "Hello " + u.Username + ","
		action = "Someone asked to reset the password of your account. Open this link to choose a new password:"
		outro = "The link works until " + until + ". If you did not ask for it, ignore this email."
	case emailTemplateAccountConfirmation:
		intro = "Welcome!"
		action = "Open this link to confirm your account:"
		outro = "The link works until " + until + "."
	default:
		known := false
		for _, t := range stage.EmailTemplates {
			known = known || t.Name == template
		}
		if !known {
			return "", "", false
		}
		intro = "Hello " + u.Username + ","
		action = "Open this link to continue:"
		outro = "The link works until " + until + "."
	}
	text = intro + "\n\n" + action + "\n" + link + "\n\n" + outro + "\n"
	e := html.EscapeString
	htm = "<!DOCTYPE html>\n<html><body>\n<p>" + e(intro) + "</p>\n<p>" + e(action) + "</p>\n<p><a href=\"" + e(link) + "\">" + e(link) +
		"</a></p>\n<p>" + e(outro) + "</p>\n</body></html>\n"
	return text, htm, true
}

// emailTemplateAccountConfirmation is authentik's account confirmation
// template.
const emailTemplateAccountConfirmation = "email/account_confirmation.html"

// emailConsentHandler is the consent the email's link asks before it
// confirms the address, so that a mail scanner opening the link does not
// use it: it removes the token when confirmed.
type emailConsentHandler struct{}

func (emailConsentHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	hash, _, ok := restoredToken(s.Context)
	if !ok {
		return Invalid(MsgLinkUsed), nil
	}
	if _, err := s.ex.rs.Load(ctx, FlowTokens, hash); errors.Is(err, ErrNotFound) || errors.Is(err, ErrExpired) {
		return Invalid(MsgLinkUsed), nil
	} else if err != nil {
		return Result{}, err
	}
	// The consent stage's own challenge, with the header the link set.
	return consentHandler{}.show(s), nil
}

func (emailConsentHandler) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	if r, err := checkConsent(s, body); r != nil || err != nil {
		if err != nil {
			return Result{}, err
		}
		return *r, nil
	}
	hash, _, ok := restoredToken(s.Context)
	if !ok {
		return Invalid(MsgLinkUsed), nil
	}
	// Taken, not deleted: of two browsers that opened the link, or two
	// racing confirmations, one goes on.
	if _, err := s.ex.rs.Take(ctx, FlowTokens, hash); errors.Is(err, ErrNotFound) || errors.Is(err, ErrExpired) {
		return Invalid(MsgLinkUsed), nil
	} else if err != nil {
		return Result{}, err
	}
	return Pass(), nil
}

// isASCII reports whether s holds ASCII characters only.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
