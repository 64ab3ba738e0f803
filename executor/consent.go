package executor

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
)

// ComponentConsent is the consent stage's challenge.
const ComponentConsent = "ak-stage-consent"

// MsgInvalidConsentToken is the token error of a consent response whose
// token is not the one last shown.
const MsgInvalidConsentToken = "Invalid consent token, re-showing prompt"

// Plan context keys of the consent stage (authentik's).
const (
	// ContextApplication is the application a flow runs for (authentik's
	// PLAN_CONTEXT_APPLICATION): a map with its "pk" (else "slug"), or
	// its pk as a string. Consents are kept per user and application;
	// without one, the consent stage always asks and keeps nothing.
	ContextApplication = "application"
	// ContextConsent is the consent found for the user and application,
	// nil when none.
	ContextConsent = "consent"
	// ContextConsentHeader is the challenge's header_text.
	ContextConsentHeader = "consent_header"
	// ContextConsentPermissions are the permissions asked for: a list of
	// {"id", "name"}.
	ContextConsentPermissions = "consent_permissions"
	// ContextConsentExtraPermissions are the permissions asked for that
	// the stored consent lacks.
	ContextConsentExtraPermissions = "consent_additional_permissions"
	// ContextConsentToken is the token of the consent challenge last
	// shown, which the response must carry (authentik keeps it in the
	// session under this name).
	ContextConsentToken = "authentik/stages/consent/token"
)

// consentForever is how long a permanent consent is kept.
const consentForever = 100 * 365 * 24 * time.Hour

// ConsentChallenge is ak-stage-consent.
type ConsentChallenge struct {
	Envelope
	UserInfo
	HeaderText            *string             `json:"header_text,omitempty"`
	Permissions           []ConsentPermission `json:"permissions"`
	AdditionalPermissions []ConsentPermission `json:"additional_permissions"`
	Token                 string              `json:"token"`
}

// ConsentPermission is a permission asked for.
type ConsentPermission struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// storedConsent is a kept consent (authentik's UserConsent), the data
// of a record of the Consents namespace.
type storedConsent struct {
	User        int64  `json:"user"`
	Application string `json:"application"`
	// Permissions are the granted ids, joined by spaces.
	Permissions string `json:"permissions"`
}

// consentKey is the Consents key of user pk's consent to application.
func consentKey(pk int64, app string) string {
	return strconv.FormatInt(pk, 10) + ":" + app
}

// consentApplication is the context's application key; false when the
// context has none (or one authflow cannot name).
func consentApplication(ctxm map[string]any) (string, bool) {
	switch a := ctxm[ContextApplication].(type) {
	case string:
		return a, a != ""
	case map[string]any:
		for _, k := range []string{"pk", "slug"} {
			switch v := a[k].(type) {
			case string:
				if v != "" {
					return v, true
				}
			case float64:
				return strconv.FormatFloat(v, 'f', -1, 64), true
			}
		}
	}
	return "", false
}

// contextPermissions reads a list of permissions from the context.
func contextPermissions(v any) []ConsentPermission {
	out := []ConsentPermission{}
	l, _ := v.([]any)
	for _, x := range l {
		switch p := x.(type) {
		case map[string]any:
			id, _ := p["id"].(string)
			name, _ := p["name"].(string)
			out = append(out, ConsentPermission{ID: id, Name: name})
		}
	}
	if ps, ok := v.([]ConsentPermission); ok {
		out = append(out, ps...)
	}
	return out
}

func permissionsAny(ps []ConsentPermission) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		out[i] = map[string]any{"id": p.ID, "name": p.Name}
	}
	return out
}

// consentHandler is authentik's consent stage. Consents are kept in the
// run state (namespace Consents), per user and application, until they
// expire: consent_expire_in for mode expiring, a century for permanent.
type consentHandler struct{}

// alwaysPrompt says the stage asks without looking for, or keeping, a
// consent: mode always_require, or no application.
func alwaysPrompt(s *Step) bool {
	if s.Stage.Config.(stage.Consent).Mode == stage.ConsentAlwaysRequire {
		return true
	}
	_, ok := consentApplication(s.Context)
	return !ok
}

// consentUser is the user a consent is looked up for: the context's
// pending user, else the request's; 0 for none.
func consentUser(s *Step) int64 {
	pk, _ := validateUser(s)
	return pk
}

func (h consentHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	if alwaysPrompt(s) {
		return h.show(s), nil
	}
	app, _ := consentApplication(s.Context)
	pk := consentUser(s)
	s.Context[ContextConsent] = nil
	if pk == 0 {
		return h.show(s), nil
	}
	rec, err := s.ex.rs.Load(ctx, Consents, consentKey(pk, app))
	switch {
	case errors.Is(err, ErrNotFound):
		return h.show(s), nil
	case errors.Is(err, ErrExpired):
		// authentik deletes an expired consent when it finds it.
		if err := s.ex.rs.Delete(ctx, Consents, consentKey(pk, app)); err != nil {
			return Result{}, err
		}
		return h.show(s), nil
	case err != nil:
		return Result{}, err
	}
	var c storedConsent
	if err := json.Unmarshal(rec.Data, &c); err != nil {
		return Result{}, fmt.Errorf("executor: a malformed consent: %w", err)
	}
	s.Context[ContextConsent] = map[string]any{"user": float64(c.User), "application": c.Application, "permissions": c.Permissions}
	var allowed []string
	if c.Permissions != "" {
		allowed = strings.Split(c.Permissions, " ")
	}
	perms := contextPermissions(s.Context[ContextConsentPermissions])
	requested := make([]string, 0, len(perms))
	for _, p := range perms {
		requested = append(requested, p.ID)
	}
	if !sameStrings(allowed, requested) {
		var granted, extra []ConsentPermission
		for _, p := range perms {
			if slices.Contains(allowed, p.ID) {
				granted = append(granted, p)
			} else {
				extra = append(extra, p)
			}
		}
		s.Context[ContextConsentPermissions] = permissionsAny(granted)
		s.Context[ContextConsentExtraPermissions] = permissionsAny(extra)
		return h.show(s), nil
	}
	return Pass(), nil
}

// sameStrings says whether a and b hold the same strings.
func sameStrings(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

// show is the challenge, with a new token.
func (consentHandler) show(s *Step) Result {
	token := uuid.NewString()
	s.Context[ContextConsentToken] = token
	c := &ConsentChallenge{
		Envelope: s.Envelope(ComponentConsent), UserInfo: s.UserInfo(),
		Permissions:           contextPermissions(s.Context[ContextConsentPermissions]),
		AdditionalPermissions: contextPermissions(s.Context[ContextConsentExtraPermissions]),
		Token:                 token,
	}
	if ht, ok := s.Context[ContextConsentHeader].(string); ok {
		c.HeaderText = &ht
	}
	return Show(c)
}

type consentResponse struct {
	Token string `json:"token" af:"required"`
}

// checkConsent decodes a consent response and checks its token against
// the challenge's: a nil Result means it holds, and the token is used.
// The consent stage and the email link's confirmation share it.
func checkConsent(s *Step, body json.RawMessage) (*Result, error) {
	resp, verr, err := DecodeResponse[consentResponse](body)
	switch {
	case err != nil:
		return nil, err
	case verr != nil:
		r := Retry(verr)
		return &r, nil
	}
	// Compared in constant time, as authentik 2026.2's compare_digest.
	if want, _ := s.Context[ContextConsentToken].(string); want == "" || subtle.ConstantTimeCompare([]byte(resp.Token), []byte(want)) != 1 {
		r := Retry(fieldError("token", MsgInvalidConsentToken))
		return &r, nil
	}
	delete(s.Context, ContextConsentToken)
	return nil, nil
}

func (h consentHandler) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	if r, err := checkConsent(s, body); r != nil || err != nil {
		if err != nil {
			return Result{}, err
		}
		return *r, nil
	}
	if alwaysPrompt(s) {
		return Pass(), nil
	}
	cfg := s.Stage.Config.(stage.Consent)
	app, _ := consentApplication(s.Context)
	// authentik updates the consent found, else keeps one for the
	// request's user; authflow keeps it for the pending user when the
	// request is anonymous (authentik fails there).
	var pk int64
	if c, ok := s.Context[ContextConsent].(map[string]any); ok {
		if u, ok := c["user"].(float64); ok {
			pk = int64(u)
		}
	}
	if pk == 0 && s.Request.User.Authenticated {
		pk = s.Request.User.PK
	}
	if pk == 0 {
		pk, _ = directory.ContextUserPK(s.Context[directory.ContextPendingUser])
	}
	if pk == 0 {
		return Pass(), nil
	}
	perms := append(contextPermissions(s.Context[ContextConsentPermissions]), contextPermissions(s.Context[ContextConsentExtraPermissions])...)
	ids := make([]string, len(perms))
	for i, p := range perms {
		ids[i] = p.ID
	}
	data, err := json.Marshal(storedConsent{User: pk, Application: app, Permissions: strings.Join(ids, " ")})
	if err != nil {
		return Result{}, err
	}
	expires := s.ex.now().Add(consentForever)
	if cfg.Mode == stage.ConsentExpiring {
		expires = s.ex.now().Add(seconds(cfg.ConsentExpireIn))
	}
	if !expires.After(s.ex.now()) {
		return Pass(), nil // expired at once, as authentik's would be
	}
	key := consentKey(pk, app)
	if err := s.ex.rs.Delete(ctx, Consents, key); err != nil {
		return Result{}, err
	}
	if _, err := s.ex.rs.Save(ctx, Consents, key, Record{Data: data, Expires: expires}); err != nil && !errors.Is(err, ErrConflict) {
		return Result{}, fmt.Errorf("executor: keeping a consent: %w", err)
	}
	delete(s.Context, ContextConsentToken)
	return Pass(), nil
}
