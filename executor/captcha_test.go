package executor

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

// authentik's test keys (reCAPTCHA's documented test keys).
const (
	recaptchaPublic  = "6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI"
	recaptchaPrivate = "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe"
)

// fakeService is a captcha service answering status and body, keeping
// the forms it received.
type fakeService struct {
	mu     sync.Mutex
	status int
	body   string
	forms  []url.Values
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forms = append(f.forms, r.PostForm)
	if f.status != 0 {
		w.WriteHeader(f.status)
	}
	_, _ = w.Write([]byte(f.body))
}

// captchaFlow is flow f with a captcha stage (authentik's test keys,
// api_url the fake service) and a dummy stage after it.
func captchaFlow(api, attrs string) string {
	return flowDoc("f", "", stageEntry("authentik_stages_captcha.captchastage", "f", "captcha", 2,
		"public_key: "+recaptchaPublic+", private_key: "+recaptchaPrivate+", api_url: '"+api+"'"+attrs, ""),
		dummy("f", "after", 3, ""))
}

// The captcha stage with authentik's verification (stages/captcha/tests.py
// and the cases of verify_captcha_token).
func TestCaptchaStage(t *testing.T) {
	detail := func(msg string) string {
		return `"response_errors":{"token":[{"string":"` + msg + `","code":"invalid"}]}`
	}
	for _, c := range []struct {
		name, attrs string
		status      int
		answer      string
		err         string // "" passes
	}{
		{"valid", "", 0, `{"success": true, "score": 0.5}`, ""},
		{"invalid score high", "", 0, `{"success": true, "score": 99}`, MsgCaptchaInvalid},
		{"invalid score low", "", 0, `{"success": true, "score": -3}`, MsgCaptchaInvalid},
		{"invalid score low, continue", ", error_on_invalid_score: false", 0, `{"success": true, "score": -3}`, ""},
		{"thresholds off", ", score_min_threshold: -1, score_max_threshold: -1", 0, `{"success": true, "score": 99}`, ""},
		{"score as text", "", 0, `{"success": true, "score": "0.7"}`, ""},
		{"refused, retriable", "", 0, `{"success": false, "error-codes": ["timeout-or-duplicate", "missing-input-response"]}`, MsgCaptchaRetry},
		{"refused", "", 0, `{"success": false, "error-codes": ["invalid-input-secret"]}`, MsgCaptchaInvalid},
		{"refused without codes", "", 0, `{"success": false}`, MsgCaptchaInvalid},
		{"service error", "", 500, `{"success": true}`, MsgCaptchaFailed},
		{"not JSON", "", 0, `<html>`, MsgCaptchaFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			svc := &fakeService{status: c.status, body: c.answer}
			srv := httptest.NewServer(svc)
			defer srv.Close()
			h := newHarness(t, captchaFlow(srv.URL, c.attrs), withCaptcha(HTTPCaptcha{Client: srv.Client()}))
			h.get("f", "").want(t, ComponentCaptcha, "site_key", recaptchaPublic, "js_url", "https://www.recaptcha.net/recaptcha/api.js", "interactive", false)
			r := h.post("f", "", `{"component": "ak-stage-captcha", "token": "PASSED"}`)
			if strings.Contains(string(r.raw), recaptchaPrivate) {
				t.Errorf("the private key shows: %s", r.raw)
			}
			if c.err != "" {
				r.want(t, ComponentCaptcha)
				if !strings.Contains(string(r.raw), detail(c.err)) {
					t.Errorf("want %s: %s", c.err, r.raw)
				}
				return
			}
			r.wantReload(t, h.url("f", ""))
			x := h.execution("f")
			got, _ := json.Marshal(x.Context[ContextCaptcha])
			var want map[string]any
			_ = json.Unmarshal([]byte(c.answer), &want)
			wantJSON, _ := json.Marshal(map[string]any{"response": want, "stage": map[string]any{"name": "captcha", "pk": h.stagePK("captcha")}})
			if string(got) != string(wantJSON) {
				t.Errorf("context captcha %s, want %s", got, wantJSON)
			}
			if len(svc.forms) != 1 || svc.forms[0].Get("secret") != recaptchaPrivate || svc.forms[0].Get("response") != "PASSED" || svc.forms[0].Get("remoteip") == "" {
				t.Errorf("the service received %v", svc.forms)
			}
		})
	}
}

// stagePK is the pk of the stage named name.
func (h *harness) stagePK(name string) string {
	h.t.Helper()
	var st stage.Stage
	err := h.s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		st, err = store.Stages.Get(tx, store.By("name", name))
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return st.PK.String()
}

// The challenge's js_url is the stage's (test_urls); a response without
// a token is DRF's required.
func TestCaptchaChallenge(t *testing.T) {
	h := newHarness(t, captchaFlow("https://test.goauthentik.io/test", ", js_url: 'https://test.goauthentik.io/test.js', interactive: true"), withCaptcha(&fakeCaptcha{}))
	h.get("f", "").want(t, ComponentCaptcha, "js_url", "https://test.goauthentik.io/test.js", "interactive", true, "pending_user", "")
	r := h.post("f", "", `{}`)
	if !strings.Contains(string(r.raw), `"token":[{"string":"This field is required.","code":"required"}]`) {
		t.Errorf("%s", r.raw)
	}
	// A verifier's non-field refusal is the token's, as authentik's.
	r = h.post("f", "", `{"token": "FAILED"}`)
	if !strings.Contains(string(r.raw), `"token":[{"string":"Invalid captcha response","code":"invalid"}]`) {
		t.Errorf("%s", r.raw)
	}
	h.post("f", "", `{"token": "PASSED"}`).wantReload(t, h.url("f", ""))
}

// Without a verifier the stage denies with MsgNoCaptchaVerifier and a
// configuration_error event, neither naming the private key.
func TestCaptchaNoVerifier(t *testing.T) {
	h := newHarness(t, captchaFlow("https://x.invalid/", ""))
	r := h.get("f", "")
	r.want(t, ComponentAccessDenied, "error_message", MsgNoCaptchaVerifier)
	if len(h.events) != 1 || h.events[0].Action != EventConfigurationError || strings.Contains(h.events[0].Message, recaptchaPrivate) {
		t.Errorf("events %+v", h.events)
	}
}

// HTTPCaptcha's errors never hold the private key nor the URL, even when
// the service cannot be reached.
func TestHTTPCaptchaUnreachable(t *testing.T) {
	cfg := stage.DefaultCaptcha()
	cfg.PrivateKey = validate.NewSecret(recaptchaPrivate)
	cfg.APIURL = "http://127.0.0.1:1/" + recaptchaPrivate
	_, err := HTTPCaptcha{}.VerifyCaptcha(context.Background(), cfg, "t", "")
	var verr *validate.Error
	if !errors.As(err, &verr) || len(verr.NonField) != 1 || verr.NonField[0] != MsgCaptchaFailed {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), recaptchaPrivate) {
		t.Errorf("the key shows: %v", err)
	}
}
