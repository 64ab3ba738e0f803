package executor

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
)

// Messages of captcha verification, in authentik's words.
const (
	// MsgCaptchaInvalid refuses a token, or a score out of bounds.
	MsgCaptchaInvalid = "Invalid captcha response"
	// MsgCaptchaRetry refuses a token that a new one may fix (expired,
	// duplicate, missing).
	MsgCaptchaRetry = "Invalid captcha response. Retrying may solve this issue."
	// MsgCaptchaFailed is a service that could not be asked or answered
	// something else than a JSON object.
	MsgCaptchaFailed = "Failed to validate token"
)

// ContextCaptcha is the plan context key of the captcha stage's result:
// {"response": the service's answer, "stage": {"pk", "name"}}, which
// policies read the score from. The stage's keys are never in it.
const ContextCaptcha = "captcha"

// maxCaptchaAnswer bounds the body of a captcha service's answer.
const maxCaptchaAnswer = 1 << 20

// retriableCaptchaCodes are the error codes that a new token may fix.
var retriableCaptchaCodes = []string{
	"missing-input-response", "invalid-input-response", "timeout-or-duplicate",
	"expired-input-response", "already-seen-response",
}

// HTTPCaptcha is a CaptchaVerifier that asks the stage's service, as
// authentik's verify_captcha_token does (reCAPTCHA, hCaptcha and
// Turnstile speak the same protocol): a form POST of secret (the
// private key), response (the token) and remoteip to api_url. A
// service that cannot be reached, answers other than 2xx or with
// something else than a JSON object is MsgCaptchaFailed. With
// error_on_invalid_score, success false is MsgCaptchaRetry when every
// error code is one a new token may fix, else MsgCaptchaInvalid, and a
// score above score_max_threshold or below score_min_threshold (each
// unchecked when -1) is MsgCaptchaInvalid; without it, any answer
// passes and policies read the score from the context. Its errors never
// hold the private key nor the service's URL.
type HTTPCaptcha struct {
	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client
}

// VerifyCaptcha implements CaptchaVerifier.
func (h HTTPCaptcha) VerifyCaptcha(ctx context.Context, cfg stage.Captcha, token, clientIP string) (map[string]any, error) {
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	form := url.Values{"secret": {cfg.PrivateKey.Reveal()}, "response": {token}, "remoteip": {clientIP}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.APIURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nonField(MsgCaptchaFailed)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, nonField(MsgCaptchaFailed)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCaptchaAnswer))
	var data map[string]any
	if err != nil || resp.StatusCode < 200 || resp.StatusCode > 299 || json.Unmarshal(body, &data) != nil || data == nil {
		return nil, nonField(MsgCaptchaFailed)
	}
	if !cfg.ErrorOnInvalidScore {
		return data, nil
	}
	if ok, _ := data["success"].(bool); !ok {
		codes := []any{"unknown-error"}
		if c, present := data["error-codes"]; present {
			l, isList := c.([]any)
			if !isList {
				return nil, nonField(MsgCaptchaFailed)
			}
			codes = l
		}
		for _, c := range codes {
			if s, _ := c.(string); !slices.Contains(retriableCaptchaCodes, s) {
				return nil, nonField(MsgCaptchaInvalid)
			}
		}
		return nil, nonField(MsgCaptchaRetry)
	}
	if raw, present := data["score"]; present {
		var score float64
		switch v := raw.(type) {
		case float64:
			score = v
		case string:
			if score, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
				return nil, nonField(MsgCaptchaFailed)
			}
		default:
			return nil, nonField(MsgCaptchaFailed)
		}
		if cfg.ScoreMaxThreshold > -1 && score > cfg.ScoreMaxThreshold {
			return nil, nonField(MsgCaptchaInvalid)
		}
		if cfg.ScoreMinThreshold > -1 && score < cfg.ScoreMinThreshold {
			return nil, nonField(MsgCaptchaInvalid)
		}
	}
	return data, nil
}

// captchaHandler is authentik's captcha stage: ak-stage-captcha, and a
// response's token verified with Options.Captcha. Without a verifier
// it denies the flow with MsgNoCaptchaVerifier and a
// configuration_error event.
type captchaHandler struct{}

func (captchaHandler) Challenge(_ context.Context, s *Step) (Result, error) {
	if s.ex.captcha == nil {
		return noCaptcha(s), nil
	}
	cfg := s.Stage.Config.(stage.Captcha)
	return Show(&CaptchaChallenge{
		Envelope: s.Envelope(ComponentCaptcha), UserInfo: s.UserInfo(),
		SiteKey: cfg.PublicKey, JSURL: cfg.JSURL, Interactive: cfg.Interactive,
	}), nil
}

type captchaResponse struct {
	Token string `json:"token" af:"required"`
}

func (captchaHandler) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	if s.ex.captcha == nil {
		return noCaptcha(s), nil
	}
	cfg := s.Stage.Config.(stage.Captcha)
	resp, verr, err := DecodeResponse[captchaResponse](body)
	switch {
	case err != nil:
		return Result{}, err
	case verr != nil:
		return Retry(verr), nil
	}
	answer, err := s.ex.captcha.VerifyCaptcha(ctx, cfg, resp.Token, s.ClientIP())
	if errors.As(err, &verr) {
		// authentik's validate_token: the messages are the token's.
		msgs := append(slices.Clone(verr.NonField), verr.Fields["token"]...)
		if len(msgs) == 0 {
			msgs = []string{MsgCaptchaInvalid}
		}
		return Retry(&validate.Error{Fields: map[string][]string{"token": msgs}}), nil
	}
	if err != nil {
		return Result{}, err
	}
	if answer == nil {
		answer = map[string]any{}
	}
	s.Context[ContextCaptcha] = map[string]any{
		"response": answer,
		"stage":    map[string]any{"pk": s.Stage.PK.String(), "name": s.Stage.Name},
	}
	return Pass(), nil
}
