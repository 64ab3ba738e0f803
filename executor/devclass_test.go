package executor

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/authflow/authflow/otp"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
)

// mfaHarness is a harness with alice and devices: a memdir's, with
// alice in both the store and the memdir under one pk, or the store's.
type mfaHarness struct {
	*harness
	devs  directory.Devices
	alice directory.User
}

var totpKey = []byte("12345678901234567890")

func newMFAHarness(t *testing.T, doc string, opts ...harnessOpt) *mfaHarness {
	t.Helper()
	md, err := memdir.New(memdir.Options{Policy: testPasswords})
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, func(o *Options) { o.Devices = md })
	h := &mfaHarness{harness: newHarness(t, doc, opts...), devs: md}
	// The cookie jar keeps cookies by the real clock: the harness's
	// starts now.
	h.clock.Store(time.Now().Truncate(time.Second).UnixNano())
	h.alice = h.userWith("alice", "alice@example.com", nil, true)
	u := directory.DefaultUser()
	u.Username, u.Email = "alice", "alice@example.com"
	mu, err := md.CreateUser(context.Background(), u)
	if err != nil || mu.PK != h.alice.PK {
		t.Fatalf("memdir user %d, store user %d: %v", mu.PK, h.alice.PK, err)
	}
	return h
}

// newStoreMFAHarness is an mfaHarness on the store's own devices.
func newStoreMFAHarness(t *testing.T, doc string, opts ...harnessOpt) *mfaHarness {
	t.Helper()
	h := &mfaHarness{harness: newHarness(t, doc, opts...)}
	h.clock.Store(time.Now().Truncate(time.Second).UnixNano())
	h.alice = h.userWith("alice", "alice@example.com", nil, true)
	h.devs = h.e.devices
	if h.devs == nil {
		t.Fatal("the store's directory keeps no devices")
	}
	return h
}

// addTOTP gives alice a confirmed TOTP device with totpKey.
func (h *mfaHarness) addTOTP(t *testing.T) directory.Device {
	t.Helper()
	d, err := h.devs.CreateDevice(context.Background(), directory.Device{Class: directory.DeviceTOTP, User: h.alice.PK, Name: "phone", Confirmed: true,
		TOTP: &directory.TOTPDevice{Key: totpKey, Digits: 6, Step: 30, Tolerance: 1, LastT: -1}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// addStatic gives alice a confirmed static device with codes.
func (h *mfaHarness) addStatic(t *testing.T, codes ...string) directory.Device {
	t.Helper()
	var hashes []string
	for _, c := range codes {
		hashes = append(hashes, directory.HashStaticToken(c))
	}
	d, err := h.devs.CreateDevice(context.Background(), directory.Device{Class: directory.DeviceStatic, User: h.alice.PK, Name: "backup", Confirmed: true,
		Static: &directory.StaticDevice{TokenHashes: hashes}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// login starts flow f afresh and identifies alice: the validation
// stage's challenge (or what follows it) is the next GET's.
func (h *mfaHarness) login(t *testing.T) {
	t.Helper()
	if sid := h.sessionID(); sid != "" {
		if err := h.rs.Delete(context.Background(), Executions, ExecutionKey(sid, "f")); err != nil {
			t.Fatal(err)
		}
	}
	h.identify(t)
}

// code is the TOTP code of totpKey at the harness's time.
func (h *mfaHarness) code() string {
	return otp.TOTP{Key: totpKey}.Code(h.e.now())
}

// codeErr posts code and returns the code field's message.
func (h *mfaHarness) codeErr(t *testing.T, code string) string {
	t.Helper()
	r := h.post("f", "", postJSON(map[string]any{"code": code}))
	r.want(t, ComponentAuthenticatorValidate)
	errs, _ := r.body["response_errors"].(map[string]any)
	l, _ := errs["code"].([]any)
	if len(l) != 1 {
		t.Fatalf("response_errors %v", r.body["response_errors"])
	}
	return l[0].(map[string]any)["string"].(string)
}

// A TOTP device: one challenge for its class, a wrong code and a replayed
// one refused with authentik's message (a login_failed event, the
// reputation lowered), the right one accepted once, auth_method auth_mfa
// and the device in auth_method_args.
func TestValidateTOTP(t *testing.T) {
	h := newMFAHarness(t, mfaFlow("authentication", "not_configured_action: deny, device_classes: [totp, static, webauthn]",
		dummy("f", "after", 20, "")))
	dev := h.addTOTP(t)
	h.login(t)
	r := h.get("f", "")
	r.want(t, ComponentAuthenticatorValidate, "pending_user", "alice", "configuration_stages", "[]")
	if got := string(mustJSON(t, r.body["device_challenges"])); got != `[{"challenge":{},"device_class":"totp","device_uid":"1","last_used":null}]` {
		t.Fatalf("device_challenges %s", got)
	}
	if msg := h.codeErr(t, "000000"); msg != MsgInvalidToken {
		t.Fatalf("wrong code: %q", msg)
	}
	if ev := h.lastEvent(t, EventLoginFailed); ev.User != "alice" || ev.Stage != "mfa" {
		t.Errorf("login_failed %+v", ev)
	}
	if n, _ := h.e.rep.Sum(context.Background(), reputation.Query{Identifier: "alice", CheckIdentifier: true}); n != reputation.LoginFailed {
		t.Errorf("reputation %d", n)
	}
	code := h.code()
	h.post("f", "", postJSON(map[string]any{"code": code})).wantReload(t, h.url("f", ""))
	x := h.execution("f")
	if x.Context[ContextAuthMethod] != "auth_mfa" {
		t.Errorf("auth_method %v", x.Context[ContextAuthMethod])
	}
	if got := string(mustJSON(t, x.Context[ContextAuthMethodArgs])); got != `{"mfa_devices":[{"app":"authentik_stages_authenticator_totp","model_name":"totpdevice","name":"phone","pk":1}]}` {
		t.Errorf("auth_method_args %s", got)
	}
	stored, _ := h.devs.Device(context.Background(), directory.DeviceTOTP, dev.PK)
	if stored.LastUsed == nil || !stored.LastUsed.Equal(h.e.now()) || stored.TOTP.LastT != (otp.TOTP{Key: totpKey}).T(h.e.now()) {
		t.Errorf("device after use: last_used %v last_t %d", stored.LastUsed, stored.TOTP.LastT)
	}
	h.get("f", "").want(t, ComponentDummy)
	h.post("f", "", `{}`).want(t, ComponentRedirect)

	// The same code again, in a new login: refused (last_t).
	h.login(t)
	h.get("f", "")
	if msg := h.codeErr(t, code); msg != MsgInvalidToken {
		t.Fatalf("replayed code: %q", msg)
	}
	// The next step's code is accepted.
	h.advance(30 * time.Second)
	h.post("f", "", postJSON(map[string]any{"code": h.code()})).wantReload(t, h.url("f", ""))
}

// A static code opens once; the user does not choose between devices
// (authentik's match_token tries each).
func TestValidateStatic(t *testing.T) {
	h := newMFAHarness(t, mfaFlow("authentication", "not_configured_action: deny, device_classes: [totp, static]"))
	h.addTOTP(t)
	dev := h.addStatic(t, "aaaaaaaaaaaa", "bbbbbbbbbbbb")
	h.login(t)
	r := h.get("f", "")
	if got := string(mustJSON(t, r.body["device_challenges"])); got != `[{"challenge":{},"device_class":"static","device_uid":"1","last_used":null},{"challenge":{},"device_class":"totp","device_uid":"1","last_used":null}]` {
		t.Fatalf("device_challenges %s", got)
	}
	h.post("f", "", postJSON(map[string]any{"code": "bbbbbbbbbbbb"})).want(t, ComponentRedirect, "to", "/")
	stored, _ := h.devs.Device(context.Background(), directory.DeviceStatic, dev.PK)
	if len(stored.Static.TokenHashes) != 1 || stored.Static.TokenHashes[0] != directory.HashStaticToken("aaaaaaaaaaaa") {
		t.Fatalf("codes left %v", stored.Static.TokenHashes)
	}
	h.login(t)
	h.get("f", "")
	if msg := h.codeErr(t, "bbbbbbbbbbbb"); msg != MsgInvalidToken {
		t.Fatalf("a used static code: %q", msg)
	}
	h.post("f", "", postJSON(map[string]any{"code": "aaaaaaaaaaaa"})).want(t, ComponentRedirect, "to", "/")
}

// MaxCodeAttempts wrong codes end the flow with authentik's message; a
// right code before the last resets the count.
func TestValidateAttempts(t *testing.T) {
	h := newMFAHarness(t, mfaFlow("authentication", "not_configured_action: deny, device_classes: [totp]"))
	h.addTOTP(t)
	h.login(t)
	h.get("f", "")
	for range MaxCodeAttempts - 1 {
		if msg := h.codeErr(t, "000000"); msg != MsgInvalidToken {
			t.Fatal(msg)
		}
	}
	h.post("f", "", postJSON(map[string]any{"code": "000000"})).want(t, ComponentAccessDenied, "error_message", MsgInvalidToken)
	if n, _ := h.e.rep.Sum(context.Background(), reputation.Query{Identifier: "alice", CheckIdentifier: true}); n != MaxCodeAttempts*reputation.LoginFailed {
		t.Errorf("reputation %d", n)
	}
	// Not a TOTP code at all, after a restart: still counted as wrong.
	h.login(t)
	h.get("f", "")
	if msg := h.codeErr(t, "abc"); msg != MsgInvalidToken {
		t.Fatal(msg)
	}
}

// The response's other answers: a code where only another class was
// offered, a selected challenge not offered, one offered (no code yet:
// "Empty response").
func TestValidateAnswers(t *testing.T) {
	h := newMFAHarness(t, mfaFlow("authentication", "not_configured_action: deny, device_classes: [totp, webauthn]"))
	h.addTOTP(t)
	h.login(t)
	h.get("f", "")
	detail := func(msg string) []any { return []any{map[string]any{"string": msg, "code": "invalid"}} }
	for _, c := range []struct {
		body string
		want map[string]any
	}{
		{`{"webauthn": {}}`, map[string]any{"webauthn": detail(MsgNoCompatibleDeviceClass)}},
		{`{"duo": 1}`, map[string]any{"duo": detail(MsgNoCompatibleDeviceClass)}},
		{`{"selected_challenge": {"device_class": "totp", "device_uid": "2", "challenge": {}, "last_used": null}}`,
			map[string]any{"selected_challenge": detail(MsgInvalidChallengeSelected)}},
		{`{"selected_challenge": {"device_class": "totp", "device_uid": 1, "challenge": {}, "last_used": null}}`,
			map[string]any{"non_field_errors": detail(MsgEmptyResponse)}},
	} {
		r := h.post("f", "", c.body)
		r.want(t, ComponentAuthenticatorValidate)
		if got, want := string(mustJSON(t, r.body["response_errors"])), string(mustJSON(t, c.want)); got != want {
			t.Errorf("%s: response_errors %s, want %s", c.body, got, want)
		}
	}
	// A user with only a static device and a stage allowing TOTP: no
	// challenge, so not_configured_action.
	h2 := newMFAHarness(t, mfaFlow("authentication", "not_configured_action: deny, device_classes: [totp]"))
	h2.addStatic(t, "aaaaaaaaaaaa")
	h2.identify(t)
	h2.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoMFAConfigured)
}

// configure with devices present: the device challenges, no
// configuration stage.
func TestValidateConfigureWithDevices(t *testing.T) {
	h := newMFAHarness(t, mfaFlow("authentication", "not_configured_action: configure, device_classes: [totp], configuration_stages: [!KeyOf setup]",
		unbound(staticModel, "setup", "")), withHandler(staticModel, namedDummy{}))
	h.addTOTP(t)
	h.login(t)
	r := h.get("f", "")
	r.want(t, ComponentAuthenticatorValidate, "configuration_stages", "[]")
	if l, _ := r.body["device_challenges"].([]any); len(l) != 1 {
		t.Fatalf("%s", r.raw)
	}
	h.post("f", "", postJSON(map[string]any{"code": h.code()})).want(t, ComponentRedirect, "to", "/")
}

// last_auth_threshold: a validated device is remembered by the signed
// cookie, which skips the stage within the threshold and not after; a
// cookie for another stage, user or signature does nothing.
func TestValidateThreshold(t *testing.T) {
	h := newMFAHarness(t, mfaFlow("authentication", "not_configured_action: deny, device_classes: [totp], last_auth_threshold: hours=1"))
	h.addTOTP(t)
	h.login(t)
	h.get("f", "")
	r := h.post("f", "", postJSON(map[string]any{"code": h.code()}))
	r.want(t, ComponentRedirect)
	var set *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == CookieMFA {
			set = c
		}
	}
	if set == nil || !set.HttpOnly || set.Path != "/" || !set.Expires.Equal(h.e.now().Add(time.Hour).Truncate(time.Second)) {
		t.Fatalf("cookie %+v", set)
	}
	claims, ok := readMFA(h.e.mfaKey(uuid.MustParse(h.stagePK("mfa")), h.alice.PK), set.Value)
	if !ok || claims.Device != 1 || claims.Stage != hexPK(uuid.MustParse(h.stagePK("mfa"))) || claims.Exp != float64(h.e.now().Add(time.Hour).Unix()) {
		t.Fatalf("claims %+v %v", claims, ok)
	}
	// Within the threshold: skipped.
	h.advance(59 * time.Minute)
	h.login(t)
	h.get("f", "").want(t, ComponentRedirect, "to", "/")
	// Forged: another key, a changed payload.
	good := h.cookie(CookieMFA)
	for _, bad := range []string{
		signMFA([]byte("other"), claims),
		good[:strings.LastIndex(good, ".")-2] + "xx" + good[strings.LastIndex(good, "."):],
		signMFA(h.e.mfaKey(uuid.MustParse(h.stagePK("mfa")), h.alice.PK+1), claims),
		"", "a.b.c", strings.Repeat("a", 5000),
	} {
		u, _ := url.Parse(h.srv.URL)
		h.client.Jar.SetCookies(u, []*http.Cookie{{Name: CookieMFA, Value: bad, Path: "/"}})
		h.login(t)
		h.get("f", "").want(t, ComponentAuthenticatorValidate)
	}
	// After the threshold: asked again.
	u, _ := url.Parse(h.srv.URL)
	h.client.Jar.SetCookies(u, []*http.Cookie{{Name: CookieMFA, Value: good, Path: "/"}})
	h.login(t)
	h.get("f", "").want(t, ComponentRedirect)
	h.advance(2 * time.Minute)
	h.login(t)
	h.get("f", "").want(t, ComponentAuthenticatorValidate)
}

// A cookie names one stage: another validation stage asks again.
func TestValidateThresholdOtherStage(t *testing.T) {
	h := newMFAHarness(t, mfaFlow("authentication", "not_configured_action: deny, device_classes: [totp], last_auth_threshold: hours=1"))
	h.addTOTP(t)
	claims := mfaClaims{Device: 1, Stage: hexPK(uuid.MustParse(h.stagePK("ident"))), Exp: float64(h.e.now().Add(time.Minute).Unix())}
	u, _ := url.Parse(h.srv.URL)
	h.client.Jar.SetCookies(u, []*http.Cookie{{Name: CookieMFA, Value: signMFA(h.e.mfaKey(uuid.MustParse(h.stagePK("mfa")), h.alice.PK), claims), Path: "/"}})
	h.login(t)
	h.get("f", "").want(t, ComponentAuthenticatorValidate)
	claims.Stage = hexPK(uuid.MustParse(h.stagePK("mfa")))
	claims.Exp = float64(h.e.now().Add(2 * time.Hour).Unix()) // beyond the threshold
	h.client.Jar.SetCookies(u, []*http.Cookie{{Name: CookieMFA, Value: signMFA(h.e.mfaKey(uuid.MustParse(h.stagePK("mfa")), h.alice.PK), claims), Path: "/"}})
	h.login(t)
	h.get("f", "").want(t, ComponentAuthenticatorValidate)
}

func TestCheckDeviceClassHandlers(t *testing.T) {
	code := func(*directory.Device, string, time.Time) bool { return false }
	ans := func(context.Context, *Step, stage.AuthenticatorValidate, json.RawMessage, int64) (directory.Device, string, bool, error) {
		return directory.Device{}, "", false, nil
	}
	// Each case breaks the real map in one way; the check must catch it.
	for name, change := range map[string]func(m map[directory.DeviceClass]deviceClassHandler){
		"unknown class": func(m map[directory.DeviceClass]deviceClassHandler) {
			m["hotp"] = deviceClassHandler{checkCode: code}
		},
		"missing class": func(m map[directory.DeviceClass]deviceClassHandler) { delete(m, directory.DeviceDuo) },
		"no answer": func(m map[directory.DeviceClass]deviceClassHandler) {
			m[directory.DeviceTOTP] = deviceClassHandler{}
		},
		"answer, no field": func(m map[directory.DeviceClass]deviceClassHandler) {
			m[directory.DeviceWebAuthn] = deviceClassHandler{answer: ans}
		},
		"answer on code": func(m map[directory.DeviceClass]deviceClassHandler) {
			m[directory.DeviceWebAuthn] = deviceClassHandler{answer: ans, answerField: "code"}
		},
		"same field": func(m map[directory.DeviceClass]deviceClassHandler) {
			m[directory.DeviceWebAuthn] = deviceClassHandler{answer: ans, answerField: "duo"}
		},
	} {
		m := maps.Clone(deviceClassHandlers)
		change(m)
		if checkDeviceClassHandlers(m) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := checkDeviceClassHandlers(deviceClassHandlers); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A code is accepted once however many requests race with it, on
// memdir's devices and the store's (Devices.UpdateDevice is atomic).
func TestCodeAcceptedOnce(t *testing.T) {
	for name, newH := range map[string]func(*testing.T, string, ...harnessOpt) *mfaHarness{"memdir": newMFAHarness, "store": newStoreMFAHarness} {
		t.Run(name, func(t *testing.T) {
			h := newH(t, mfaFlow("authentication", "device_classes: [totp, static]"))
			h.addTOTP(t)
			h.addStatic(t, "aaaaaaaaaaaa")
			s := &Step{ex: h.e}
			for _, code := range []string{h.code(), "aaaaaaaaaaaa"} {
				var (
					wins atomic.Int32
					wg   sync.WaitGroup
				)
				for range 16 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, ok, err := s.matchCode(context.Background(), h.alice.PK, code)
						if err != nil {
							t.Error(err)
						}
						if ok {
							wins.Add(1)
						}
					}()
				}
				wg.Wait()
				if wins.Load() != 1 {
					t.Errorf("%s accepted %d times", code, wins.Load())
				}
			}
		})
	}
}
