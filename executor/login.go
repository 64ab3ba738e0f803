package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Challenge components of the login stages.
const (
	ComponentIdentification = "ak-stage-identification"
	ComponentPassword       = "ak-stage-password"
	ComponentUserLogin      = "ak-stage-user-login"
	ComponentCaptcha        = "ak-stage-captcha"
)

// Messages of the login stages, in authentik's words.
const (
	// MsgFailedToAuthenticate is the identification stage's non-field
	// error for an unknown identifier or a wrong password.
	MsgFailedToAuthenticate = "Failed to authenticate."
	// MsgInvalidPassword is the password stage's field error, and the
	// error_message when failed_attempts_before_cancel is reached.
	MsgInvalidPassword = "Invalid password"
	// ContextInvalidTries is the context key of the password stage's
	// count of invalid answers (authentik keeps it in the session under
	// this name).
	ContextInvalidTries = "authentik/stages/password/user_invalid_tries"
)

// IdentificationChallenge is ak-stage-identification.
type IdentificationChallenge struct {
	Envelope
	UserFields        []string          `json:"user_fields"`
	PasswordFields    bool              `json:"password_fields"`
	AllowShowPassword bool              `json:"allow_show_password"`
	ApplicationPre    string            `json:"application_pre,omitempty"`
	FlowDesignation   string            `json:"flow_designation"`
	CaptchaStage      *CaptchaChallenge `json:"captcha_stage"`
	EnrollURL         string            `json:"enroll_url,omitempty"`
	RecoveryURL       string            `json:"recovery_url,omitempty"`
	PasswordlessURL   string            `json:"passwordless_url,omitempty"`
	PrimaryAction     string            `json:"primary_action"`
	Sources           []LoginSource     `json:"sources"`
	ShowSourceLabels  bool              `json:"show_source_labels"`
	EnableRememberMe  bool              `json:"enable_remember_me"`
}

// LoginSource is a source's login button; authflow holds no sources, so
// the list is always empty.
type LoginSource struct {
	Name      string          `json:"name"`
	IconURL   *string         `json:"icon_url"`
	Challenge json.RawMessage `json:"challenge"`
}

// CaptchaChallenge is ak-stage-captcha, also the captcha_stage of an
// identification challenge.
type CaptchaChallenge struct {
	Envelope
	UserInfo
	SiteKey     string `json:"site_key"`
	JSURL       string `json:"js_url"`
	Interactive bool   `json:"interactive"`
}

// PasswordChallenge is ak-stage-password.
type PasswordChallenge struct {
	Envelope
	UserInfo
	RecoveryURL       string `json:"recovery_url,omitempty"`
	AllowShowPassword bool   `json:"allow_show_password"`
}

// identificationHandler is authentik's identification stage.
type identificationHandler struct{}

// flowURL is the page of flow pk with the execution's query, as
// authentik links flows from the identification stage; "" when the flow
// is gone.
func (s *Step) flowURL(ctx context.Context, pk *uuid.UUID) (string, error) {
	if pk == nil {
		return "", nil
	}
	f, err := s.flowBy(ctx, store.PK(*pk))
	if err != nil || f == nil {
		return "", err
	}
	u := "/if/flow/" + url.PathEscape(f.Slug) + "/"
	if s.Request.Query != "" {
		u += "?" + s.Request.Query
	}
	return u, nil
}

// identStages are the password and captcha stages an identification
// stage embeds, when set and not deleted.
func identStages(ctx context.Context, s *Step, cfg stage.Identification) (pw *stage.Password, cap *stage.Captcha, err error) {
	if st, ok, err := s.stageOf(ctx, cfg.PasswordStage); err != nil {
		return nil, nil, err
	} else if ok {
		if c, ok := st.Config.(stage.Password); ok {
			pw = &c
		}
	}
	if st, ok, err := s.stageOf(ctx, cfg.CaptchaStage); err != nil {
		return nil, nil, err
	} else if ok {
		if c, ok := st.Config.(stage.Captcha); ok {
			cap = &c
		}
	}
	return pw, cap, nil
}

// noCaptcha denies a stage that needs a captcha verifier when none is
// configured.
func noCaptcha(s *Step) Result {
	s.Event(EventConfigurationError, MsgNoCaptchaVerifier)
	return Deny(MsgNoCaptchaVerifier)
}

func (identificationHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	cfg := s.Stage.Config.(stage.Identification)
	pw, cap, err := identStages(ctx, s, cfg)
	if err != nil {
		return Result{}, err
	}
	if cap != nil && s.ex.captcha == nil {
		return noCaptcha(s), nil
	}
	c := &IdentificationChallenge{
		Envelope:         s.Envelope(ComponentIdentification),
		UserFields:       make([]string, 0, len(cfg.UserFields)),
		PasswordFields:   pw != nil,
		FlowDesignation:  string(s.Flow.Designation),
		PrimaryAction:    "Continue",
		Sources:          []LoginSource{},
		ShowSourceLabels: cfg.ShowSourceLabels,
		EnableRememberMe: cfg.EnableRememberMe,
	}
	for _, f := range cfg.UserFields {
		c.UserFields = append(c.UserFields, string(f))
	}
	if pw != nil {
		c.AllowShowPassword = pw.AllowShowPassword
	}
	if s.Flow.Designation == flow.DesignationAuthentication {
		c.PrimaryAction = "Log in"
	}
	if cap != nil {
		c.CaptchaStage = &CaptchaChallenge{
			Envelope: Envelope{Component: ComponentCaptcha}, UserInfo: UserInfo{PendingUserAvatar: DefaultAvatar},
			SiteKey: cap.PublicKey, JSURL: cap.JSURL, Interactive: cap.Interactive,
		}
	}
	for _, l := range []struct {
		pk  *uuid.UUID
		dst *string
	}{{cfg.EnrollmentFlow, &c.EnrollURL}, {cfg.RecoveryFlow, &c.RecoveryURL}, {cfg.PasswordlessFlow, &c.PasswordlessURL}} {
		if *l.dst, err = s.flowURL(ctx, l.pk); err != nil {
			return Result{}, err
		}
	}
	return Show(c), nil
}

// identificationResponse is the identification challenge's response.
// The password is trimmed, as authentik's CharField there does.
type identificationResponse struct {
	UIDField     string  `json:"uid_field" af:"required"`
	Password     *string `json:"password" af:"blank"`
	CaptchaToken *string `json:"captcha_token" af:"blank"`
}

// identRead is an identification response decoded and the user it
// names found (FindUser's answer), read with the current stage for
// Respond (prefetch).
type identRead struct {
	resp identificationResponse
	user directory.User
	err  error
}

// identFind is the directory query of an identification stage for the
// identifier id.
func identFind(cfg stage.Identification, id string) directory.Find {
	q := directory.Find{Identifier: id, CaseSensitive: !cfg.CaseInsensitiveMatching, Fields: make([]directory.Field, 0, len(cfg.UserFields))}
	for _, f := range cfg.UserFields {
		q.Fields = append(q.Fields, directory.Field(f))
	}
	return q
}

// findsUser: without a captcha stage, which verifies its token before
// the lookup, Respond decodes the response and finds the user it names
// before it writes anything. ok is false when it would not (a response
// that does not decode, no user fields).
func (identificationHandler) findsUser(ctx context.Context, tx *store.Tx, st stage.Stage, body json.RawMessage) (v identRead, ok bool) {
	cfg, _ := st.Config.(stage.Identification)
	if len(cfg.UserFields) == 0 || cfg.CaptchaStage != nil {
		return v, false
	}
	resp, verr, err := DecodeResponse[identificationResponse](body)
	if err != nil || verr != nil {
		return v, false
	}
	v.resp = resp
	v.user, v.err = tx.Directory().FindUser(ctx, identFind(cfg, resp.UIDField))
	return v, true
}

func (identificationHandler) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	cfg := s.Stage.Config.(stage.Identification)
	var pre *identRead
	if s.run != nil {
		pre, s.run.ident = s.run.ident, nil
	}
	var resp identificationResponse
	if pre != nil {
		resp = pre.resp
	} else {
		var verr *validate.Error
		var err error
		resp, verr, err = DecodeResponse[identificationResponse](body)
		switch {
		case err != nil:
			return Result{}, err
		case verr != nil:
			return Retry(verr), nil
		}
	}
	pw, cap, err := identStages(ctx, s, cfg)
	if err != nil {
		return Result{}, err
	}
	if cap != nil && s.ex.captcha == nil {
		return noCaptcha(s), nil
	}
	password := ""
	if resp.Password != nil {
		password = *resp.Password
	}
	if cap != nil {
		// Every identifier, known or not, before it is looked up
		// (authentik checks known ones only, so that a refused token
		// tells a known identifier from an unknown one, and an
		// unknown one costs no verification).
		token := ""
		if resp.CaptchaToken != nil {
			token = *resp.CaptchaToken
		}
		answer, err := s.ex.captcha.VerifyCaptcha(ctx, *cap, token, s.ClientIP())
		var verr *validate.Error
		if errors.As(err, &verr) {
			return Retry(verr), nil
		}
		if err != nil {
			return Result{}, err
		}
		_ = answer // authentik's combined check keeps no captcha context
	}
	var (
		u     directory.User
		found bool
	)
	if len(cfg.UserFields) > 0 {
		if pre != nil {
			u, err = pre.user, pre.err
		} else {
			u, err = s.ex.dir.FindUser(ctx, identFind(cfg, resp.UIDField))
		}
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, directory.ErrNotFound):
			return Result{}, err
		}
	}
	if !found {
		if pw != nil {
			// A known user's answer costs a password check: so does
			// this one, in place of authentik's wait, which would make
			// it slower than a known user's.
			s.ex.dummyCheck(password)
		} else {
			s.ex.sleep(ctx, enumerationDelay())
		}
		// authentik's identification_failed: the reputation of the
		// client and the identifier drops by one.
		if err := s.ChangeReputation(ctx, resp.UIDField, reputation.IdentificationFailed); err != nil {
			return Result{}, err
		}
		// The stand-in authentik keeps even though the answer fails.
		s.Context[directory.ContextPendingUser] = directory.ContextUser(directory.User{Username: resp.UIDField, Email: resp.UIDField, IsActive: true})
		if !cfg.ShowMatchedUser {
			s.Context[ContextPendingUserIdentifier] = resp.UIDField
		}
		if cfg.PretendUserExists && pw == nil {
			return Pass(), nil
		}
		return Retry(nonField(MsgFailedToAuthenticate)), nil
	}
	backend := ""
	if pw != nil {
		au, b, ok, err := s.authenticate(ctx, pw.Backends, u.Username, password)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			return Retry(nonField(MsgFailedToAuthenticate)), nil
		}
		u, backend = au, b
	}
	s.SetPendingUser(u, backend)
	if !cfg.ShowMatchedUser {
		s.Context[ContextPendingUserIdentifier] = resp.UIDField
	}
	return Pass(), nil
}

// passwordHandler is authentik's password stage.
type passwordHandler struct{}

func (passwordHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	cfg := s.Stage.Config.(stage.Password)
	recovery, err := s.brandRecoveryURL(ctx)
	if err != nil {
		return Result{}, err
	}
	return Show(&PasswordChallenge{Envelope: s.Envelope(ComponentPassword), UserInfo: s.UserInfo(), AllowShowPassword: cfg.AllowShowPassword, RecoveryURL: recovery}), nil
}

// decodePassword reads the password field as DRF's CharField with
// trim_whitespace off does: required, not null, not blank, a string (a
// number is taken as its text).
func decodePassword(body json.RawMessage) (string, *validate.Error, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		// Not an object: DecodeResponse says so in DRF's words.
		_, verr, err := DecodeResponse[struct{}](body)
		if verr == nil && err == nil {
			err = errors.New("executor: a password response that is not a JSON object")
		}
		return "", verr, err
	}
	raw, ok := m["password"]
	if !ok {
		return "", fieldError("password", "This field is required."), nil
	}
	if len(raw) > 0 && raw[0] == '"' {
		// A string, the usual answer, without a Decoder's buffer.
		var x string
		switch {
		case json.Unmarshal(raw, &x) != nil:
			return "", fieldError("password", "Not a valid string."), nil
		case x == "":
			return "", fieldError("password", "This field may not be blank."), nil
		}
		return x, nil, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", fieldError("password", "Not a valid string."), nil
	}
	switch x := v.(type) {
	case nil:
		return "", fieldError("password", "This field may not be null."), nil
	case string:
		if x == "" {
			return "", fieldError("password", "This field may not be blank."), nil
		}
		return x, nil, nil
	case json.Number:
		return x.String(), nil, nil
	}
	return "", fieldError("password", "Not a valid string."), nil
}

func (h passwordHandler) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	cfg := s.Stage.Config.(stage.Password)
	password, verr, err := decodePassword(body)
	if err != nil {
		return Result{}, err
	}
	if verr == nil {
		username, ok := s.pendingUsername()
		if !ok {
			return Invalid(""), nil
		}
		u, backend, ok, err := s.authenticate(ctx, cfg.Backends, username, password)
		if err != nil {
			return Result{}, err
		}
		if ok {
			s.SetPendingUser(u, backend)
			s.Context[ContextUserBackend] = backend
			return Pass(), nil
		}
		verr = fieldError("password", MsgInvalidPassword)
	}
	tries := 1
	if n, ok := s.Context[ContextInvalidTries].(float64); ok {
		tries = int(n) + 1
	}
	if tries >= int(cfg.FailedAttemptsBeforeCancel) {
		delete(s.Context, ContextInvalidTries)
		return Invalid(MsgInvalidPassword), nil
	}
	s.Context[ContextInvalidTries] = float64(tries)
	return Retry(verr), nil
}

// readsPendingUser: Respond reads the pending user first
// (Step.authenticate).
func (passwordHandler) readsPendingUser(post bool) bool { return post }

// checksPassword: Respond then checks its password (Step.authenticate).
func (passwordHandler) checksPassword(post bool) bool { return post }
