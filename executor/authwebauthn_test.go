package executor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/authflow/authflow/internal/webauthnx"
	"github.com/authflow/authflow/internal/webauthnx/webauthnxtest"
	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
)

const (
	webauthnStageModel = "authentik_stages_authenticator_webauthn.authenticatorwebauthnstage"
	waRPID             = "auth.example.com"
	waOrigin           = "https://auth.example.com"
)

// waHarness is a harness whose directory is a memdir holding alice
// (alice@example.com), with the WebAuthn relying party waRPID unless
// noRP.
type waHarness struct {
	*harness
	dir   *memdir.Dir
	alice directory.User
}

func newWAHarness(t *testing.T, doc string, noRP bool, opts ...harnessOpt) *waHarness {
	t.Helper()
	dir, err := memdir.New(memdir.Options{Policy: testPasswords})
	if err != nil {
		t.Fatal(err)
	}
	u := directory.DefaultUser()
	u.Username, u.Name, u.Email, u.IsActive = "alice", "Alice A", "alice@example.com", true
	alice, err := dir.CreateUser(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]harnessOpt{func(o *Options) {
		o.Directory, o.Plan.Directory = dir, dir
		if !noRP {
			o.WebAuthn = &WebAuthnOptions{RPID: waRPID, Origins: []string{waOrigin}}
		}
	}}, opts...)
	return &waHarness{harness: newHarness(t, doc, opts...), dir: dir, alice: alice}
}

// waSetupFlow is flow f: identification (email), then the WebAuthn
// setup stage "wa" with attrs.
func waSetupFlow(attrs string) string {
	return identFlow("authentication", "", stageEntry(webauthnStageModel, "f", "wa", 10, attrs, ""))
}

// registration is the options of a WebAuthn setup challenge.
func (r reply) registration(t *testing.T) map[string]any {
	t.Helper()
	r.want(t, ComponentAuthenticatorWebAuthn)
	reg, ok := r.body["registration"].(map[string]any)
	if !ok {
		t.Fatalf("no registration: %s", r.raw)
	}
	return reg
}

// register answers the setup challenge r with a's new credential.
func (h *waHarness) register(t *testing.T, a *webauthnxtest.Authenticator, r reply) reply {
	t.Helper()
	resp, err := a.Register(r.registration(t))
	if err != nil {
		t.Fatal(err)
	}
	return h.post("f", "", `{"component":"ak-stage-authenticator-webauthn","response":`+string(resp)+`}`)
}

func (h *waHarness) devices(t *testing.T) []directory.Device {
	t.Helper()
	devs, err := h.dir.UserDevices(context.Background(), h.alice.PK)
	if err != nil {
		t.Fatal(err)
	}
	return devs
}

// responseError is the first error of field in r's response_errors.
func (r reply) responseError(t *testing.T, field string) string {
	t.Helper()
	errs, _ := r.body["response_errors"].(map[string]any)
	l, _ := errs[field].([]any)
	if len(l) == 0 {
		t.Fatalf("no response error on %s: %s", field, r.raw)
	}
	e, _ := l[0].(map[string]any)
	s, _ := e["string"].(string)
	return s
}

// A user registers a credential: the options are authentik's (RP id
// and the brand's title, the uid as user handle, the stage's
// requirements, direct attestation), the answer is verified and kept as
// a device named "WebAuthn Device", and a second registration excludes
// the first credential.
func TestAuthWebAuthnSetup(t *testing.T) {
	h := newWAHarness(t, identFlow("authentication", "",
		stageEntry(webauthnStageModel, "f", "wa", 10, "user_verification: required, resident_key_requirement: required, authenticator_attachment: cross-platform", ""),
		dummy("f", "after", 20, "")), false)
	h.identify(t)
	r := h.get("f", "")
	reg := r.registration(t)
	r.want(t, ComponentAuthenticatorWebAuthn, "pending_user", "alice")
	uid := base64.RawURLEncoding.EncodeToString([]byte(h.alice.UID(h.s.InstallID())))
	b, _ := json.Marshal(map[string]any{"rp": reg["rp"], "user": reg["user"], "sel": reg["authenticatorSelection"], "att": reg["attestation"], "ex": reg["excludeCredentials"]})
	want := `{"att":"direct","ex":[],"rp":{"id":"auth.example.com","name":"authentik"},` +
		`"sel":{"authenticatorAttachment":"cross-platform","requireResidentKey":true,"residentKey":"required","userVerification":"required"},` +
		`"user":{"displayName":"Alice A","id":"` + uid + `","name":"alice"}}`
	if string(b) != want {
		t.Errorf("registration\n got %s\nwant %s", b, want)
	}
	if s, _ := h.execution("f").Context[ContextWebAuthnChallenge].(string); s == "" {
		t.Fatal("no ceremony kept with the execution")
	}
	a := &webauthnxtest.Authenticator{Origin: waOrigin, UV: true, Packed: true, AAGUID: uuid.MustParse("2fc0579f-8113-47ea-b116-bb5a8db9202a")}
	h.register(t, a, r).wantReload(t, h.url("f", ""))
	devs := h.devices(t)
	if len(devs) != 1 {
		t.Fatalf("devices %v", devs)
	}
	d := devs[0]
	if d.Class != directory.DeviceWebAuthn || d.Name != DefaultWebAuthnDeviceName || !d.Confirmed || d.WebAuthn == nil ||
		string(d.WebAuthn.CredentialID) != string(a.CredentialID()) || d.WebAuthn.RPID != waRPID || d.WebAuthn.AAGUID != a.AAGUID ||
		strings.Join(d.WebAuthn.Transports, ",") != "usb" || len(d.WebAuthn.PublicKey) == 0 {
		t.Errorf("device %+v %+v", d, d.WebAuthn)
	}
	if _, ok := h.execution("f").Context[ContextWebAuthnChallenge]; ok {
		t.Error("the ceremony outlives the stage")
	}
	h.get("f", "").want(t, ComponentDummy)

	// The same user again: the first credential is excluded.
	h2 := h.harness
	h2.client = h2.newClient()
	h.identify(t)
	reg = h.get("f", "").registration(t)
	ex, _ := reg["excludeCredentials"].([]any)
	if len(ex) != 1 || ex[0].(map[string]any)["id"] != base64.RawURLEncoding.EncodeToString(a.CredentialID()) {
		t.Errorf("excludeCredentials %v", reg["excludeCredentials"])
	}
}

// Answers that do not verify, or name a known credential, or come from
// an authenticator of a type the stage does not allow, are refused with
// authentik's messages, and nothing is stored.
func TestAuthWebAuthnSetupRefused(t *testing.T) {
	allowed := uuid.MustParse("cb69481e-8ff7-4039-93ec-0a2729a154a8")
	t.Run("origin", func(t *testing.T) {
		h := newWAHarness(t, waSetupFlow(""), false)
		h.identify(t)
		r := h.register(t, &webauthnxtest.Authenticator{Origin: "https://evil.example.com"}, h.get("f", ""))
		if msg := r.responseError(t, "response"); !strings.HasPrefix(msg, "Registration failed. Error: ") || !strings.Contains(msg, "evil.example.com") {
			t.Errorf("error %q", msg)
		}
		r.registration(t) // new options to try again
		if len(h.devices(t)) != 0 {
			t.Error("stored")
		}
	})
	t.Run("user verification", func(t *testing.T) {
		h := newWAHarness(t, waSetupFlow("user_verification: required"), false)
		h.identify(t)
		r := h.register(t, &webauthnxtest.Authenticator{Origin: waOrigin}, h.get("f", ""))
		if msg := r.responseError(t, "response"); !strings.HasPrefix(msg, "Registration failed. Error: ") {
			t.Errorf("error %q", msg)
		}
	})
	t.Run("not JSON of a credential", func(t *testing.T) {
		h := newWAHarness(t, waSetupFlow(""), false)
		h.identify(t)
		h.get("f", "")
		r := h.post("f", "", `{"response":{"id":"x"}}`)
		if msg := r.responseError(t, "response"); !strings.HasPrefix(msg, "Registration failed. Error: ") {
			t.Errorf("error %q", msg)
		}
		r = h.post("f", "", `{}`)
		if msg := r.responseError(t, "response"); msg != "This field is required." {
			t.Errorf("error %q", msg)
		}
	})
	t.Run("credential exists", func(t *testing.T) {
		h := newWAHarness(t, waSetupFlow(""), false)
		id := []byte("an existing credential id")
		if _, err := h.dir.CreateDevice(context.Background(), directory.Device{Class: directory.DeviceWebAuthn, User: h.alice.PK, Name: "x", Confirmed: true,
			WebAuthn: &directory.WebAuthnDevice{CredentialID: id, PublicKey: []byte{1}}}); err != nil {
			t.Fatal(err)
		}
		h.identify(t)
		r := h.register(t, &webauthnxtest.Authenticator{Origin: waOrigin, ID: id}, h.get("f", ""))
		if msg := r.responseError(t, "response"); msg != MsgWebAuthnCredentialExists {
			t.Errorf("error %q", msg)
		}
		if len(h.devices(t)) != 1 {
			t.Error("stored")
		}
	})
	t.Run("device type", func(t *testing.T) {
		h := newWAHarness(t, waSetupFlow("device_type_restrictions: ["+allowed.String()+"]"), false)
		h.identify(t)
		r := h.register(t, &webauthnxtest.Authenticator{Origin: waOrigin, AAGUID: uuid.MustParse("2fc0579f-8113-47ea-b116-bb5a8db9202a")}, h.get("f", ""))
		if msg := r.responseError(t, "response"); msg != "Invalid device type. Contact your authentik administrator for help." {
			t.Errorf("error %q", msg)
		}
		h.register(t, &webauthnxtest.Authenticator{Origin: waOrigin, AAGUID: allowed}, r).want(t, ComponentRedirect, "to", "/")
		if len(h.devices(t)) != 1 {
			t.Error("not stored")
		}
	})
}

// authentik's rules for allowed device types, with the unknown type
// (the nil AAGUID) allowing any authenticator of no known type.
func TestDeviceTypeAllowed(t *testing.T) {
	a, b := uuid.MustParse("cb69481e-8ff7-4039-93ec-0a2729a154a8"), uuid.MustParse("2fc0579f-8113-47ea-b116-bb5a8db9202a")
	known := []stage.WebAuthnDeviceType{{AAGUID: b, Description: "Key B"}}
	for _, c := range []struct {
		allowed []uuid.UUID
		aaguid  uuid.UUID
		want    bool
	}{
		{nil, a, true},
		{[]uuid.UUID{a}, a, true},
		{[]uuid.UUID{a}, b, false},
		{[]uuid.UUID{a}, uuid.Nil, false},
		{[]uuid.UUID{uuid.Nil}, a, true},  // of no known type
		{[]uuid.UUID{uuid.Nil}, b, false}, // a known type, not listed
		{[]uuid.UUID{uuid.Nil, b}, b, true},
	} {
		if got := deviceTypeAllowed(c.allowed, known, c.aaguid); got != c.want {
			t.Errorf("allowed %v, %v: %v, want %v", c.allowed, c.aaguid, got, c.want)
		}
	}
}

// Without a relying party, or without a user, the stage denies the flow
// with a clear message.
func TestAuthWebAuthnSetupDenied(t *testing.T) {
	t.Run("no relying party", func(t *testing.T) {
		h := newWAHarness(t, waSetupFlow(""), true)
		h.identify(t)
		h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoWebAuthn)
		if ev := h.lastEvent(t, EventConfigurationError); ev.Message != MsgNoWebAuthn {
			t.Errorf("event %+v", ev)
		}
	})
	t.Run("no user", func(t *testing.T) {
		h := newWAHarness(t, designatedDoc("g", "stage_configuration", stageEntry(webauthnStageModel, "g", "wa", 0, "", "")), false)
		h.get("g", "").want(t, ComponentAccessDenied, "error_message", MsgNoPendingUser)
	})
	t.Run("bad configuration", func(t *testing.T) {
		if _, err := New(newWAHarness(t, "", true).s, Options{WebAuthn: &WebAuthnOptions{RPID: waRPID}}); err == nil {
			t.Error("New accepted a relying party without origins")
		}
	})
}

// enroll registers a new credential of a for alice, as the setup stage
// would, and stores it as her device.
func (h *waHarness) enroll(t *testing.T, a *webauthnxtest.Authenticator) directory.Device {
	t.Helper()
	rp, err := webauthnx.New(waRPID, []string{waOrigin})
	if err != nil {
		t.Fatal(err)
	}
	u := webauthnx.User{ID: []byte(h.alice.UID(h.s.InstallID())), Name: "alice"}
	opts, state, err := rp.BeginRegistration(u, webauthnx.Registration{UserVerification: "preferred", ResidentKey: "preferred", RPName: "x"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Register(opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rp.FinishRegistration(state, u, resp)
	if err != nil {
		t.Fatal(err)
	}
	d, err := h.dir.CreateDevice(context.Background(), directory.Device{Class: directory.DeviceWebAuthn, User: h.alice.PK, Name: "key", Confirmed: true,
		WebAuthn: &directory.WebAuthnDevice{CredentialID: c.ID, PublicKey: c.PublicKey, SignCount: c.SignCount, RPID: waRPID, AAGUID: c.AAGUID}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// waValidateFlow is flow f: identification, authenticator_validate
// "mfa" with attrs, and a dummy stage to look at the context with.
func waValidateFlow(attrs string) string {
	return identFlow("authentication", "", stageEntry("authentik_stages_authenticator_validate.authenticatorvalidatestage", "f", "mfa", 10, attrs, ""),
		dummy("f", "after", 20, ""))
}

// webauthnChallenge is the WebAuthn device challenge of r.
func (r reply) webauthnChallenge(t *testing.T) (uid string, opts map[string]any) {
	t.Helper()
	r.want(t, ComponentAuthenticatorValidate)
	l, _ := r.body["device_challenges"].([]any)
	for _, x := range l {
		m := x.(map[string]any)
		if m["device_class"] == "webauthn" {
			return m["device_uid"].(string), m["challenge"].(map[string]any)
		}
	}
	t.Fatalf("no webauthn challenge: %s", r.raw)
	return "", nil
}

// assert answers the validation challenge opts with a's credential.
func (h *waHarness) assert(t *testing.T, a *webauthnxtest.Authenticator, opts map[string]any) reply {
	t.Helper()
	resp, err := a.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h.post("f", "", `{"component":"ak-stage-authenticator-validate","webauthn":`+string(resp)+`}`)
}

// A user with WebAuthn devices gets one WebAuthn challenge allowing all
// of them; an assertion of one passes the stage (auth_mfa, the device
// in mfa_devices), and stores its new signature count and last use.
func TestAuthValidateWebAuthn(t *testing.T) {
	h := newWAHarness(t, waValidateFlow("not_configured_action: deny, device_classes: [webauthn], webauthn_user_verification: discouraged"), false)
	a := &webauthnxtest.Authenticator{Origin: waOrigin, SignCount: 7}
	d := h.enroll(t, a)
	other := h.enroll(t, &webauthnxtest.Authenticator{Origin: waOrigin})
	h.identify(t)
	uid, opts := h.get("f", "").webauthnChallenge(t)
	if uid != "1" || opts["userVerification"] != "discouraged" || opts["rpId"] != waRPID {
		t.Errorf("challenge %s %v", uid, opts)
	}
	allow, _ := opts["allowCredentials"].([]any)
	var ids []string
	for _, c := range allow {
		ids = append(ids, c.(map[string]any)["id"].(string))
	}
	b64 := base64.RawURLEncoding.EncodeToString
	if strings.Join(ids, " ") != b64(d.WebAuthn.CredentialID)+" "+b64(other.WebAuthn.CredentialID) {
		t.Errorf("allowCredentials %v", allow)
	}
	h.assert(t, a, opts).wantReload(t, h.url("f", ""))
	ctx := h.execution("f").Context
	args, _ := ctx[ContextAuthMethodArgs].(map[string]any)
	if ctx[ContextAuthMethod] != "auth_mfa" || fmt.Sprint(args["mfa_devices"]) != "[map[app:authentik_stages_authenticator_webauthn model_name:webauthndevice name:key pk:1]]" {
		t.Errorf("context %v", ctx)
	}
	got, err := h.dir.Device(context.Background(), directory.DeviceWebAuthn, d.PK)
	if err != nil {
		t.Fatal(err)
	}
	if got.WebAuthn.SignCount != 8 || got.LastUsed == nil {
		t.Errorf("device after use: count %d, last used %v", got.WebAuthn.SignCount, got.LastUsed)
	}
	h.get("f", "").want(t, ComponentDummy)
}

// Answers that are not credentials, or another user's, or of a refused
// type, or that do not verify, get authentik's messages; a failed
// assertion is a login_failed event.
func TestAuthValidateWebAuthnRefused(t *testing.T) {
	start := func(t *testing.T, attrs string) (*waHarness, *webauthnxtest.Authenticator, map[string]any) {
		h := newWAHarness(t, waValidateFlow("not_configured_action: deny, device_classes: [webauthn]"+attrs), false)
		a := &webauthnxtest.Authenticator{Origin: waOrigin, SignCount: 1}
		h.enroll(t, a)
		h.identify(t)
		_, opts := h.get("f", "").webauthnChallenge(t)
		return h, a, opts
	}
	t.Run("not a credential", func(t *testing.T) {
		h, _, _ := start(t, "")
		r := h.post("f", "", `{"webauthn":{"id":"AQID"}}`)
		if msg := r.responseError(t, "webauthn"); msg != MsgWebAuthnInvalidDevice {
			t.Errorf("error %q", msg)
		}
	})
	t.Run("unknown credential", func(t *testing.T) {
		h, _, opts := start(t, "")
		stranger := &webauthnxtest.Authenticator{Origin: waOrigin}
		if _, err := stranger.Register(map[string]any{"rp": map[string]any{"id": waRPID}, "user": map[string]any{"id": "AQID"}, "challenge": "AAAA"}); err != nil {
			t.Fatal(err)
		}
		if msg := h.assert(t, stranger, opts).responseError(t, "webauthn"); msg != MsgWebAuthnInvalidDevice {
			t.Errorf("error %q", msg)
		}
	})
	t.Run("another user's", func(t *testing.T) {
		h, _, opts := start(t, "")
		bob := directory.DefaultUser()
		bob.Username = "bob"
		bob, err := h.dir.CreateUser(context.Background(), bob)
		if err != nil {
			t.Fatal(err)
		}
		b := &webauthnxtest.Authenticator{Origin: waOrigin}
		d := h.enroll(t, b)
		if err := h.dir.DeleteDevice(context.Background(), d.Class, d.PK); err != nil {
			t.Fatal(err)
		}
		d.User = bob.PK
		if _, err := h.dir.CreateDevice(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		if msg := h.assert(t, b, opts).responseError(t, "webauthn"); msg != MsgWebAuthnInvalidDevice {
			t.Errorf("error %q", msg)
		}
	})
	t.Run("refused type", func(t *testing.T) {
		allowed := uuid.MustParse("cb69481e-8ff7-4039-93ec-0a2729a154a8")
		h := newWAHarness(t, waValidateFlow("not_configured_action: deny, device_classes: [webauthn], webauthn_allowed_device_types: ["+allowed.String()+"]"), false)
		h.enroll(t, &webauthnxtest.Authenticator{Origin: waOrigin, AAGUID: allowed})
		refused := &webauthnxtest.Authenticator{Origin: waOrigin, AAGUID: uuid.MustParse("2fc0579f-8113-47ea-b116-bb5a8db9202a")}
		h.enroll(t, refused)
		h.identify(t)
		_, opts := h.get("f", "").webauthnChallenge(t)
		if l, _ := opts["allowCredentials"].([]any); len(l) != 2 {
			t.Errorf("allowCredentials lists %d credentials, want all 2", len(l))
		}
		if msg := h.assert(t, refused, opts).responseError(t, "webauthn"); msg != "Invalid device type. Contact your authentik administrator for help." {
			t.Errorf("error %q", msg)
		}
	})
	t.Run("only a refused type", func(t *testing.T) {
		h := newWAHarness(t, waValidateFlow("not_configured_action: deny, device_classes: [webauthn], webauthn_allowed_device_types: [cb69481e-8ff7-4039-93ec-0a2729a154a8]"), false)
		h.enroll(t, &webauthnxtest.Authenticator{Origin: waOrigin, AAGUID: uuid.MustParse("2fc0579f-8113-47ea-b116-bb5a8db9202a")})
		h.identify(t)
		h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoMFAConfigured)
	})
	for name, c := range map[string]struct {
		attrs  string
		mutate func(*webauthnxtest.Authenticator)
	}{
		"wrong origin":               {"", func(a *webauthnxtest.Authenticator) { a.Origin = "https://evil.example.com" }},
		"user verification required": {", webauthn_user_verification: required", func(*webauthnxtest.Authenticator) {}},
		"sign count went back":       {"", func(a *webauthnxtest.Authenticator) { a.SignCount = 0 }},
	} {
		t.Run(name, func(t *testing.T) {
			h, a, opts := start(t, c.attrs)
			c.mutate(a)
			if msg := h.assert(t, a, opts).responseError(t, "webauthn"); msg != MsgWebAuthnAssertionFailed {
				t.Errorf("error %q", msg)
			}
			if ev := h.lastEvent(t, EventLoginFailed); ev.User != "alice" || ev.Message != MsgWebAuthnAssertionFailed {
				t.Errorf("event %+v", ev)
			}
		})
	}
	t.Run("replayed", func(t *testing.T) {
		h, a, opts := start(t, "")
		resp, err := a.Assert(opts)
		if err != nil {
			t.Fatal(err)
		}
		body := `{"webauthn":` + string(resp) + `}`
		h.post("f", "", body).wantReload(t, h.url("f", ""))
		h.get("f", "").want(t, ComponentDummy)
		// A new login: the same answer does not open it.
		h.client = h.newClient()
		h.identify(t)
		h.get("f", "").webauthnChallenge(t)
		if msg := h.post("f", "", body).responseError(t, "webauthn"); msg != MsgWebAuthnAssertionFailed {
			t.Errorf("error %q", msg)
		}
	})
	t.Run("no relying party", func(t *testing.T) {
		h := newWAHarness(t, waValidateFlow("not_configured_action: skip, device_classes: [webauthn]"), true)
		h.enroll(t, &webauthnxtest.Authenticator{Origin: waOrigin})
		h.identify(t)
		h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoWebAuthn)
	})
}

// Without a user, an authentication flow allowing WebAuthn offers the
// user-less challenge (device_uid -1, no allowed credentials); an
// assertion of a discoverable credential makes its user the pending
// user, with auth_method auth_webauthn_pwl.
func TestAuthValidatePasswordless(t *testing.T) {
	doc := flowDoc("f", "", stageEntry("authentik_stages_authenticator_validate.authenticatorvalidatestage", "f", "mfa", 0,
		"not_configured_action: deny, device_classes: [webauthn]", ""), dummy("f", "after", 10, ""))
	h := newWAHarness(t, doc, false)
	a := &webauthnxtest.Authenticator{Origin: waOrigin, UV: true}
	d := h.enroll(t, a)
	r := h.get("f", "")
	uid, opts := r.webauthnChallenge(t)
	if l, ok := opts["allowCredentials"].([]any); uid != PasswordlessDeviceUID || !ok || len(l) != 0 {
		t.Fatalf("challenge %s", r.raw)
	}
	stranger := &webauthnxtest.Authenticator{Origin: waOrigin}
	if _, err := stranger.Register(map[string]any{"rp": map[string]any{"id": waRPID}, "user": map[string]any{"id": "AQID"}, "challenge": "AAAA"}); err != nil {
		t.Fatal(err)
	}
	if msg := h.assert(t, stranger, opts).responseError(t, "webauthn"); msg != MsgWebAuthnInvalidDevice {
		t.Errorf("unknown credential: %q", msg)
	}
	_, opts = h.get("f", "").webauthnChallenge(t)
	h.assert(t, a, opts).wantReload(t, h.url("f", ""))
	ctx := h.execution("f").Context
	pk, _ := directory.ContextUserPK(ctx[directory.ContextPendingUser])
	args, _ := ctx[ContextAuthMethodArgs].(map[string]any)
	if pk != h.alice.PK || ctx[ContextAuthMethod] != AuthMethodWebAuthnPasswordless ||
		fmt.Sprint(args["device"]) != fmt.Sprintf("map[app:authentik_stages_authenticator_webauthn model_name:webauthndevice name:key pk:%d]", d.PK) {
		t.Errorf("context %v", ctx)
	}
	h.get("f", "").want(t, ComponentDummy)
}

// hideDevices is a directory that keeps no devices.
type hideDevices struct{ directory.Directory }

// Without a device store, the WebAuthn setup stage and passwordless
// WebAuthn deny the flow with a configuration_error, never a panic.
func TestWebAuthnWithoutDevices(t *testing.T) {
	noDevices := func(o *Options) { o.Directory = hideDevices{o.Directory} }
	h := newWAHarness(t, waSetupFlow(""), false, noDevices)
	h.identify(t)
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoDevices)
	if ev := h.lastEvent(t, EventConfigurationError); ev.Message != MsgNoDevices {
		t.Errorf("event %+v", ev)
	}
	h = newWAHarness(t, designatedDoc("g", "authentication", stageEntry("authentik_stages_authenticator_validate.authenticatorvalidatestage", "g", "mfa", 0,
		"device_classes: [webauthn]", "")), false, noDevices)
	h.get("g", "").want(t, ComponentAccessDenied, "error_message", MsgNoDevices)
}

// Setup and validation on the store's own devices (the default
// directory): the credential registered opens the next login.
func TestWebAuthnStoreDevices(t *testing.T) {
	h := newHarness(t, identFlow("authentication", "",
		stageEntry(webauthnStageModel, "f", "wa", 10, "", ""),
		stageEntry("authentik_stages_authenticator_validate.authenticatorvalidatestage", "f", "mfa", 20, "not_configured_action: deny, device_classes: [webauthn]", ""),
		dummy("f", "after", 30, "")),
		func(o *Options) { o.WebAuthn = &WebAuthnOptions{RPID: waRPID, Origins: []string{waOrigin}} })
	alice := h.userWith("alice", "alice@example.com", nil, true)
	a := &webauthnxtest.Authenticator{Origin: waOrigin, SignCount: 1}
	h.identify(t)
	reg := h.get("f", "").registration(t)
	resp, err := a.Register(reg)
	if err != nil {
		t.Fatal(err)
	}
	h.post("f", "", `{"response":`+string(resp)+`}`).wantReload(t, h.url("f", ""))
	_, opts := h.get("f", "").webauthnChallenge(t)
	resp, err = a.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.post("f", "", `{"webauthn":`+string(resp)+`}`).wantReload(t, h.url("f", ""))
	h.get("f", "").want(t, ComponentDummy)
	devs, err := h.e.devices.UserDevices(context.Background(), alice.PK)
	if err != nil || len(devs) != 1 || devs[0].WebAuthn == nil || devs[0].WebAuthn.SignCount != 2 || devs[0].LastUsed == nil {
		t.Errorf("devices %v %v", devs, err)
	}
}
