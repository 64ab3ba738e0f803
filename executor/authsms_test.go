package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
)

// fakeSMS is a local SMS provider: it keeps the requests it is sent and
// answers status with answer.
type fakeSMS struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []smsRequest
	status int
	answer string
}

// smsRequest is one request a fakeSMS was sent.
type smsRequest struct {
	path, auth, contentType string
	form                    url.Values
	json                    map[string]string
}

func newFakeSMS(t *testing.T) *fakeSMS {
	f := &fakeSMS{status: http.StatusCreated, answer: `{"sid": "SM1"}`}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rq := smsRequest{path: r.URL.Path, auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type")}
		if strings.HasPrefix(rq.contentType, "application/json") {
			_ = json.Unmarshal(body, &rq.json)
		} else {
			rq.form, _ = url.ParseQuery(string(body))
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, rq)
		status, answer := f.status, f.answer
		f.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSMS) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.reqs) }

func (f *fakeSMS) last(t *testing.T) smsRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("no SMS was sent")
	}
	return f.reqs[len(f.reqs)-1]
}

// setupHarness is a flow "f" whose pending user is user 1 ("one", of a
// memdir directory, which keeps the devices), with the entries given.
func setupHarness(t *testing.T, entries string, opts ...harnessOpt) (*harness, *memdir.Dir) {
	t.Helper()
	dir, err := memdir.New(memdir.Options{Policy: testPasswords})
	if err != nil {
		t.Fatal(err)
	}
	u, err := dir.CreateUser(context.Background(), directory.User{Username: "one", Name: "One", IsActive: true, Path: "users", Type: directory.UserTypeInternal})
	if err != nil || u.PK != 1 {
		t.Fatal(u.PK, err)
	}
	opts = append([]harnessOpt{func(o *Options) { o.Directory, o.Plan.Directory = dir, dir }}, opts...)
	return newHarness(t, flowDoc("f", "", entries, policyOn("f", "pending", true)), opts...), dir
}

func smsStage(attrs string) string {
	return stageEntry("authentik_stages_authenticator_sms.authenticatorsmsstage", "f", "sms", 0, attrs, "")
}

func withSMS(f *fakeSMS) harnessOpt {
	return func(o *Options) { o.SMS = HTTPSMS{Client: f.srv.Client(), TwilioURL: f.srv.URL} }
}

// userDevices are user 1's devices.
func userDevices(t *testing.T, dir *memdir.Dir) []directory.Device {
	t.Helper()
	devs, err := dir.UserDevices(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return devs
}

// nonFieldOf is a challenge's first non-field error.
func nonFieldOf(r reply) string {
	re, _ := r.body["response_errors"].(map[string]any)
	l, _ := re["non_field_errors"].([]any)
	if len(l) == 0 {
		return ""
	}
	m, _ := l[0].(map[string]any)
	s, _ := m["string"].(string)
	return s
}

// The SMS setup through the generic provider: the number, the code sent
// to it in authentik's payload, a wrong code, the right one; the device
// is saved confirmed and the setup state dropped.
func TestAuthSMSSetupGeneric(t *testing.T) {
	f := newFakeSMS(t)
	h, dir := setupHarness(t, smsStage("provider: generic, from_number: '+1000', account_sid: '"+f.srv.URL+"/send', auth: user, auth_password: pw"), withSMS(f))
	h.get("f", "").want(t, ComponentAuthenticatorSMS, "phone_number_required", true, "pending_user", "one")
	if r := h.post("f", "", `{"component": "ak-stage-authenticator-sms"}`); nonFieldOf(r) != MsgPhoneRequired {
		t.Fatalf("no number: %s", r.raw)
	}
	if f.count() != 0 {
		t.Fatal("sent without a number")
	}
	h.post("f", "", `{"phone_number": "+15550001"}`).want(t, ComponentAuthenticatorSMS, "phone_number_required", false)
	rq := f.last(t)
	token := rq.json["Body"]
	if rq.path != "/send" || rq.json["From"] != "+1000" || rq.json["To"] != "+15550001" || len(token) != 6 ||
		rq.json["Message"] != "Use this code to authenticate in authentik: "+token {
		t.Fatalf("payload %+v", rq)
	}
	if u, p, ok := (&http.Request{Header: http.Header{"Authorization": {rq.auth}}}).BasicAuth(); !ok || u != "user" || p != "pw" {
		t.Fatalf("auth %q", rq.auth)
	}
	// The inspector never shows the code.
	if ins := fmt.Sprint(sanitizeContext(h.execution("f").Context)); strings.Contains(ins, token) {
		t.Fatalf("the code in the inspector: %s", ins)
	}
	wrong := "1"
	if token == "000001" {
		wrong = "2"
	}
	if r := h.post("f", "", `{"code": `+wrong+`}`); nonFieldOf(r) != MsgCodeMismatch {
		t.Fatalf("wrong code: %s", r.raw)
	}
	if len(userDevices(t, dir)) != 0 {
		t.Fatal("a device before the code")
	}
	h.post("f", "", `{"code": "`+token+`"}`).want(t, ComponentRedirect)
	devs := userDevices(t, dir)
	if len(devs) != 1 || devs[0].SMS == nil || devs[0].SMS.Phone != "+15550001" || !devs[0].Confirmed || devs[0].Name != "SMS Device" ||
		devs[0].Stage == [16]byte{} || devs[0].SMS.Token != "" {
		t.Fatalf("devices %+v", devs)
	}
}

// Twilio: a form POST to the account's Messages, basic auth with the
// account and token; verify_only keeps the hash of the number; a number
// of the stage's devices, hashed or not, is refused.
func TestAuthSMSSetupTwilioVerifyOnly(t *testing.T) {
	f := newFakeSMS(t)
	h, dir := setupHarness(t, smsStage("provider: twilio, from_number: '+1000', account_sid: AC1, auth: secret-token, verify_only: true"), withSMS(f))
	h.get("f", "")
	h.post("f", "", `{"phone_number": "+15550001"}`).want(t, ComponentAuthenticatorSMS)
	rq := f.last(t)
	if rq.path != "/2010-04-01/Accounts/AC1/Messages.json" || rq.form.Get("To") != "+15550001" || rq.form.Get("From") != "+1000" ||
		!strings.HasPrefix(rq.form.Get("Body"), "Use this code to authenticate in authentik: ") {
		t.Fatalf("request %+v", rq)
	}
	if u, p, ok := (&http.Request{Header: http.Header{"Authorization": {rq.auth}}}).BasicAuth(); !ok || u != "AC1" || p != "secret-token" {
		t.Fatalf("auth %q", rq.auth)
	}
	token := strings.TrimPrefix(rq.form.Get("Body"), "Use this code to authenticate in authentik: ")
	h.post("f", "", `{"code": `+strings.TrimLeft(token, "0")+`}`).want(t, ComponentRedirect)
	devs := userDevices(t, dir)
	if len(devs) != 1 || devs[0].SMS.Phone != hashPhoneNumber("+15550001") || !strings.HasPrefix(devs[0].SMS.Phone, "hash:") {
		t.Fatalf("devices %+v", devs)
	}
	// Again: the number is the stage's already (hashed).
	h.client = h.newClient()
	h.get("f", "")
	n := f.count()
	if r := h.post("f", "", `{"phone_number": "+15550001"}`); nonFieldOf(r) != MsgInvalidPhone {
		t.Fatalf("duplicate: %s", r.raw)
	}
	if f.count() != n {
		t.Fatal("sent to a duplicate")
	}
}

// A number from prompt_data is sent to at once; a duplicate one is
// dropped and asked for.
func TestAuthSMSPromptPhone(t *testing.T) {
	f := newFakeSMS(t)
	seeds := map[string]func(map[string]any){"phone": func(c map[string]any) {
		c[ContextPromptData] = map[string]any{PromptPhone: "+15550002"}
	}}
	h, dir := setupHarness(t, smsStage("provider: generic, from_number: '+1000', account_sid: '"+f.srv.URL+"', auth: tok, auth_type: bearer")+
		policyOn("f", "seed=phone", true), withSMS(f), withExpressions(seeds))
	h.get("f", "").want(t, ComponentAuthenticatorSMS, "phone_number_required", false)
	rq := f.last(t)
	if rq.json["To"] != "+15550002" || rq.auth != "Bearer tok" {
		t.Fatalf("request %+v", rq)
	}
	h.post("f", "", `{"code": "`+rq.json["Body"]+`"}`).want(t, ComponentRedirect)
	if devs := userDevices(t, dir); len(devs) != 1 || devs[0].SMS.Phone != "+15550002" {
		t.Fatalf("devices %+v", devs)
	}
	h.client = h.newClient()
	h.get("f", "").want(t, ComponentAuthenticatorSMS, "phone_number_required", true)
	if f.count() != 1 {
		t.Fatal("sent to a duplicate")
	}
}

// Wrong codes are bounded: past MaxSetupCodeAttempts even the right code
// fails, and giving the number again sends a new code. A code expires
// after DefaultSMSCodeTTL; the number given again then sends a new one,
// which works.
func TestAuthSMSAttemptsAndExpiry(t *testing.T) {
	f := newFakeSMS(t)
	h, dir := setupHarness(t, smsStage("provider: generic, from_number: '+1000', account_sid: '"+f.srv.URL+"', auth: tok"), withSMS(f))
	h.get("f", "")
	h.post("f", "", `{"phone_number": "+15550003"}`)
	token := f.last(t).json["Body"]
	wrong := fmt.Sprintf("%06d", (atoi(token)+1)%1000000)
	for range MaxSetupCodeAttempts {
		h.post("f", "", `{"code": "`+wrong+`"}`)
	}
	if r := h.post("f", "", `{"code": "`+token+`"}`); nonFieldOf(r) != MsgCodeMismatch {
		t.Fatalf("the right code after the bound: %s", r.raw)
	}
	h.post("f", "", `{"phone_number": "+15550003"}`)
	token2 := f.last(t).json["Body"]
	h.advance(DefaultSMSCodeTTL)
	if r := h.post("f", "", `{"code": "`+token2+`"}`); nonFieldOf(r) != MsgCodeMismatch {
		t.Fatalf("an expired code: %s", r.raw)
	}
	// The number again: a new code, which works for DefaultSMSCodeTTL.
	h.post("f", "", `{"phone_number": "+15550003"}`)
	token3 := f.last(t).json["Body"]
	h.advance(DefaultSMSCodeTTL - time.Second)
	h.post("f", "", `{"code": "`+token3+`"}`).want(t, ComponentRedirect)
	if len(userDevices(t, dir)) != 1 {
		t.Fatal("no device")
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// Without an SMS sender, or with a mapping, the stage denies the flow
// with a configuration_error event; a provider's refusal is shown, with
// the code and the credentials masked, and reported.
func TestAuthSMSErrors(t *testing.T) {
	h, _ := setupHarness(t, smsStage("provider: twilio, from_number: '+1000', account_sid: AC1, auth: tok"))
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoSMSSender)
	if ev := h.lastEvent(t, EventConfigurationError); ev.Message != MsgNoSMSSender {
		t.Fatal(ev)
	}

	f := newFakeSMS(t)
	h, _ = setupHarness(t, smsStage("provider: generic, from_number: '+1000', account_sid: '"+f.srv.URL+"', auth: tok, mapping: 6e1d8c5e-8e0b-4a5e-9a4e-3c1f2b3a4d5e"), withSMS(f))
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgSMSMapping)

	h, _ = setupHarness(t, smsStage("provider: twilio, from_number: '+1000', account_sid: AC1, auth: s3cret"), withSMS(f))
	f.status, f.answer = http.StatusBadRequest, `{"code": 21211, "message": "The 'To' number is not valid (s3cret).", "status": 400}`
	h.get("f", "")
	if r := h.post("f", "", `{"phone_number": "+1"}`); nonFieldOf(r) != "Unable to create record: The 'To' number is not valid (********)." {
		t.Fatalf("refusal: %s", r.raw)
	}
	if ev := h.lastEvent(t, EventConfigurationError); ev.Message != MsgSMSError {
		t.Fatal(ev)
	}
}

// HTTPSMS: the generic provider's refusal is its text with the code and
// credentials masked; an unreachable provider's error names no URL (it
// may hold credentials), nor the code.
func TestHTTPSMSErrors(t *testing.T) {
	f := newFakeSMS(t)
	ctx := context.Background()
	cfg := stage.AuthenticatorSMS{Provider: stage.SMSProviderGeneric, FromNumber: "+1", AccountSID: f.srv.URL,
		Auth: validate.NewSecret("user"), AuthPassword: validate.NewSecret("p4ss"), AuthType: stage.SMSAuthBasic}
	f.status, f.answer = http.StatusForbidden, "bad code 123456 for user:p4ss"
	err := HTTPSMS{Client: f.srv.Client()}.SendSMS(ctx, cfg, "+2", "123456")
	var verr *validate.Error
	if !errors.As(err, &verr) || verr.NonField[0] != "bad code ******** for ********:********" {
		t.Fatalf("refusal %v", err)
	}
	// Below 400 is success (requests' raise_for_status), as authentik.
	f.status = http.StatusFound
	if err := (HTTPSMS{Client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}).SendSMS(ctx, cfg, "+2", "123456"); err != nil {
		t.Fatalf("302: %v", err)
	}
	cfg.Provider = stage.SMSProviderTwilio
	if err := (HTTPSMS{Client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, TwilioURL: f.srv.URL}).SendSMS(ctx, cfg, "+2", "123456"); !isRefusal(err) {
		t.Fatalf("twilio 302: %v", err)
	}
	cfg.Provider = stage.SMSProviderGeneric
	f.srv.Close()
	cfg.AccountSID = "http://user:hunter2@" + strings.TrimPrefix(f.srv.URL, "http://") + "/x?key=k3y"
	err = HTTPSMS{}.SendSMS(ctx, cfg, "+2", "123456")
	if err == nil || isRefusal(err) {
		t.Fatalf("unreachable: %v", err)
	}
	for _, s := range []string{"hunter2", "k3y", "123456", "p4ss", "/x"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q holds %q", err, s)
		}
	}
	cfg.AccountSID = "http://[::1"
	if err := (HTTPSMS{}).SendSMS(ctx, cfg, "+2", "1"); err == nil || strings.Contains(err.Error(), "[::1") {
		t.Fatalf("bad URL: %v", err)
	}
}

// checkSideChannel uses a code once, before it expires, and never an
// empty one.
func TestCheckSideChannel(t *testing.T) {
	now := time.Unix(1000, 0)
	sc := directory.SideChannel{Token: "123456", ValidUntil: now.Add(time.Minute)}
	if checkSideChannel(&sc, "123457", now) || checkSideChannel(&sc, "", now) {
		t.Fatal("a wrong code")
	}
	if !checkSideChannel(&sc, "123456", now) || sc.Token != "" || !sc.ValidUntil.Equal(now) {
		t.Fatalf("the code: %+v", sc)
	}
	if checkSideChannel(&sc, "123456", now) || checkSideChannel(&sc, "", now) {
		t.Fatal("used twice")
	}
	sc = directory.SideChannel{Token: "123456", ValidUntil: now}
	if checkSideChannel(&sc, "123456", now) {
		t.Fatal("expired")
	}
}

// Giving the number again sends the code again, up to MaxEmailsPerUser
// per EmailWindow: then MsgCodesLimit, nothing sent.
func TestAuthSMSSendBound(t *testing.T) {
	f := newFakeSMS(t)
	h, _ := setupHarness(t, smsStage("provider: generic, from_number: '+1000', account_sid: '"+f.srv.URL+"', auth: tok"), withSMS(f))
	h.get("f", "")
	for range MaxEmailsPerUser {
		h.post("f", "", `{"phone_number": "+15550004"}`).want(t, ComponentAuthenticatorSMS, "phone_number_required", false)
	}
	if r := h.post("f", "", `{"phone_number": "+15550004"}`); nonFieldOf(r) != MsgCodesLimit || f.count() != MaxEmailsPerUser {
		t.Fatalf("past the bound: %s (%d sent)", r.raw, f.count())
	}
}
