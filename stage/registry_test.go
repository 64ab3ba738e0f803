package stage_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

const greetingModel stage.ModelName = "authflow_test.greetingstage"

// greeting is a custom stage kind, registered only in private registries.
type greeting struct {
	Greeting string          `json:"greeting" af:"required"`
	Loud     bool            `json:"loud"`
	Retries  int32           `json:"retries" af:"min=0,max=5"`
	Language language        `json:"language"`
	Token    validate.Secret `json:"token" af:"writeonly,blank"`
	Next     *uuid.UUID      `json:"next_flow" af:"ref=flow"`
}

type language string

func (greeting) ModelName() stage.ModelName { return greetingModel }

func (g greeting) Validate() error {
	return validation.ValidateStruct(&g, validation.Field(&g.Language, validate.Choice[language]("en", "de")))
}

func (g greeting) ValidateObject() error {
	if g.Loud && g.Retries > 3 {
		return errors.New("A loud greeting may not be retried more than 3 times.")
	}
	return nil
}

func greetingKind() stage.Kind {
	return stage.Kind{
		Model:       greetingModel,
		New:         func() stage.Config { return &greeting{Language: "en", Retries: 1} },
		Component:   "ak-stage-greeting-form",
		VerboseName: "Greeting Stage",
		Path:        "greeting",
		Description: "Says hello.",
	}
}

// other kinds for the panic tests.
type otherModel struct{}

func (otherModel) ModelName() stage.ModelName { return "authflow_test.other" }

type clash struct {
	Name string `json:"name"`
}

func (clash) ModelName() stage.ModelName { return "authflow_test.clash" }

type clashFlowSet struct {
	FlowSet string `json:"flow_set"`
}

func (clashFlowSet) ModelName() stage.ModelName { return "authflow_test.clashflowset" }

type badField struct {
	X complex128 `json:"x"`
}

func (badField) ModelName() stage.ModelName { return "authflow_test.badfield" }

// mustPanic runs f and reports whether it panicked with a message
// containing want.
func mustPanic(t *testing.T, name, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s: Register did not panic", name)
			return
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, want) {
			t.Errorf("%s: panic %q, want it to mention %q", name, msg, want)
		}
	}()
	f()
}

func TestRegisterPanics(t *testing.T) {
	withModel := func(m stage.ModelName) stage.Kind { k := greetingKind(); k.Model = m; return k }
	tests := []struct {
		name string
		kind stage.Kind
		want string
	}{
		{"empty name", withModel(""), "malformed model name"},
		{"no dot", withModel("authflow_testgreetingstage"), "malformed model name"},
		{"two dots", withModel("a.b.c"), "malformed model name"},
		{"upper case", withModel("Authflow_test.greetingstage"), "malformed model name"},
		{"leading digit", withModel("1app.model"), "malformed model name"},
		{"empty model part", withModel("app."), "malformed model name"},
		{"dash", withModel("app.my-model"), "malformed model name"},
		{"nil New", stage.Kind{Model: greetingModel}, "nil New"},
		{"New returns nil", stage.Kind{Model: greetingModel, New: func() stage.Config { return nil }}, "non-nil pointer"},
		{"New returns a typed nil", stage.Kind{Model: greetingModel, New: func() stage.Config { return (*greeting)(nil) }}, "non-nil pointer"},
		{"New returns a value", stage.Kind{Model: greetingModel, New: func() stage.Config { return greeting{} }}, "non-nil pointer"},
		{"New returns another model", stage.Kind{Model: greetingModel, New: func() stage.Config { return &otherModel{} }}, "authflow_test.other"},
		{"field clashes with name", stage.Kind{Model: "authflow_test.clash", New: func() stage.Config { return &clash{} }}, `"name"`},
		{"field clashes with flow_set", stage.Kind{Model: "authflow_test.clashflowset", New: func() stage.Config { return &clashFlowSet{} }}, `"flow_set"`},
		{"unsupported field", stage.Kind{Model: "authflow_test.badfield", New: func() stage.Config { return &badField{} }}, "unsupported type"},
	}
	for _, tt := range tests {
		r := &stage.Registry{}
		mustPanic(t, tt.name, tt.want, func() { r.Register(tt.kind) })
		if len(r.Kinds()) != 0 {
			t.Errorf("%s: a failed Register left %d kinds", tt.name, len(r.Kinds()))
		}
	}

	r := &stage.Registry{}
	r.Register(greetingKind())
	mustPanic(t, "duplicate", "duplicate kind", func() { r.Register(greetingKind()) })
	dupPath := stage.Kind{Model: "authflow_test.other", New: func() stage.Config { return &otherModel{} }, Path: "greeting"}
	mustPanic(t, "duplicate path", `path "greeting"`, func() { r.Register(dupPath) })
	// Paths the router could never reach are refused.
	for _, p := range []string{"all", "all/x", "dummy/", "/dummy", "a//b", "Dummy", "a b"} {
		bad := dupPath
		bad.Path = p
		mustPanic(t, "path "+p, "path", func() { r.Register(bad) })
	}
	// The registry is still usable after the panics (no lock left held).
	if k, ok := r.Lookup(greetingModel); !ok || k.Component != "ak-stage-greeting-form" {
		t.Errorf("Lookup after panics = %+v, %v", k, ok)
	}
	dupPath.Path = ""
	r.Register(dupPath) // an empty path never clashes
	dupPath2 := stage.Kind{Model: "authflow_test.other2", New: func() stage.Config { return &other2{} }}
	r.Register(dupPath2)
	if n := len(r.Kinds()); n != 3 {
		t.Errorf("Kinds() has %d entries, want 3", n)
	}
	if _, ok := r.ByPath(""); ok {
		t.Error(`ByPath("") found a kind`)
	}
}

type other2 struct{}

func (other2) ModelName() stage.ModelName { return "authflow_test.other2" }

func TestModelName(t *testing.T) {
	m := stage.ModelUserWrite
	if m.App() != "authentik_stages_user_write" || m.Model() != "userwritestage" || !m.Valid() {
		t.Errorf("App/Model/Valid of %s = %q %q %v", m, m.App(), m.Model(), m.Valid())
	}
	if stage.ModelName("nodot").Valid() {
		t.Error(`"nodot" is valid`)
	}
}

func TestKindsSorted(t *testing.T) {
	r := &stage.Registry{}
	if len(r.Kinds()) != 0 {
		t.Fatal("a zero Registry has kinds")
	}
	r.Register(stage.Kind{Model: "authflow_test.other2", New: func() stage.Config { return &other2{} }})
	r.Register(greetingKind())
	r.Register(stage.Kind{Model: "authflow_test.other", New: func() stage.Config { return &otherModel{} }})
	var got []stage.ModelName
	for _, k := range r.Kinds() {
		got = append(got, k.Model)
	}
	want := []stage.ModelName{greetingModel, "authflow_test.other", "authflow_test.other2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Kinds() = %q, want %q", got, want)
	}

	got = nil
	for _, k := range stage.Default.Kinds() {
		got = append(got, k.Model)
	}
	want = []stage.ModelName{stage.ModelAuthenticatorDuo, stage.ModelAuthenticatorEmail, stage.ModelAuthenticatorEndpointGDTC, stage.ModelAuthenticatorSMS,
		stage.ModelAuthenticatorStatic, stage.ModelAuthenticatorTOTP, stage.ModelAuthenticatorValidate, stage.ModelAuthenticatorWebAuthn, stage.ModelCaptcha,
		stage.ModelConsent, stage.ModelDeny, stage.ModelDummy, stage.ModelEmail, stage.ModelIdentification, stage.ModelInvitation, stage.ModelMutualTLS,
		stage.ModelPassword, stage.ModelPromptStage, stage.ModelRedirect, stage.ModelSource, stage.ModelUserDelete, stage.ModelUserLogin, stage.ModelUserLogout, stage.ModelUserWrite}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Default.Kinds() = %q, want %q", got, want)
	}
}

func TestBuiltinKinds(t *testing.T) {
	tests := []struct {
		model                                   stage.ModelName
		path, component, verbose, plural, descr string
	}{
		{stage.ModelUserWrite, "user_write", "ak-stage-user-write-form", "User Write Stage", "User Write Stages",
			"Writes currently pending data into the pending user, or if no user exists,\ncreates a new user with the data."},
		{stage.ModelInvitation, "invitation/stages", "ak-stage-invitation-form", "Invitation Stage", "Invitation Stages",
			"Simplify enrollment; allow users to use a single\nlink to create their user with pre-defined parameters."},
		{stage.ModelAuthenticatorDuo, "authenticator/duo", "ak-stage-authenticator-duo-form", "Duo Authenticator Setup Stage", "Duo Authenticator Setup Stages",
			"Setup Duo authenticator devices"},
		{stage.ModelDeny, "deny", "ak-stage-deny-form", "Deny Stage", "Deny Stages", "Cancels the current flow."},
		{stage.ModelUserLogout, "user_logout", "ak-stage-user-logout-form", "User Logout Stage", "User Logout Stages", "Resets the users current session."},
		{stage.ModelUserLogin, "user_login", "ak-stage-user-login-form", "User Login Stage", "User Login Stages", "Attaches the currently pending user to the current session."},
		{stage.ModelConsent, "consent", "ak-stage-consent-form", "Consent Stage", "Consent Stages", "Prompt the user for confirmation."},
		{stage.ModelAuthenticatorStatic, "authenticator/static", "ak-stage-authenticator-static-form", "Static Authenticator Setup Stage", "Static Authenticator Setup Stages", "Generate static tokens for the user as a backup."},
		{stage.ModelAuthenticatorTOTP, "authenticator/totp", "ak-stage-authenticator-totp-form", "TOTP Authenticator Setup Stage", "TOTP Authenticator Setup Stages", "Enroll a user's device into Time-based OTP."},
		{stage.ModelDummy, "dummy", "ak-stage-dummy-form", "Dummy Stage", "Dummy Stages", "Used for debugging."},
		{stage.ModelPassword, "password", "ak-stage-password-form", "Password Stage", "Password Stages", "Prompts the user for their password, and validates it against the configured backends."},
		{stage.ModelRedirect, "redirect", "ak-stage-redirect-form", "Redirect Stage", "Redirect Stages", "Redirect the user to another flow, potentially with all gathered context"},
		{stage.ModelUserDelete, "user_delete", "ak-stage-user-delete-form", "User Delete Stage", "User Delete Stages",
			"Deletes the currently pending user without confirmation.\nUse with caution."},
		// The kinds below are written out (model names included), so that
		// a slip in a constant shows.
		{"authentik_stages_identification.identificationstage", "identification", "ak-stage-identification-form", "Identification Stage", "Identification Stages",
			"Allows the user to identify themselves for authentication."},
		{"authentik_stages_captcha.captchastage", "captcha", "ak-stage-captcha-form", "Captcha Stage", "Captcha Stages",
			"Verify the user is human using Google's reCaptcha/other compatible CAPTCHA solutions."},
		{"authentik_stages_email.emailstage", "email", "ak-stage-email-form", "Email Stage", "Email Stages",
			"Sends an Email to the user with a token to confirm their Email address."},
		{"authentik_stages_authenticator_webauthn.authenticatorwebauthnstage", "authenticator/webauthn", "ak-stage-authenticator-webauthn-form",
			"WebAuthn Authenticator Setup Stage", "WebAuthn Authenticator Setup Stages", "WebAuthn stage"},
		{"authentik_stages_authenticator_sms.authenticatorsmsstage", "authenticator/sms", "ak-stage-authenticator-sms-form",
			"SMS Authenticator Setup Stage", "SMS Authenticator Setup Stages", "Use SMS-based TOTP instead of authenticator-based."},
		{"authentik_stages_authenticator_email.authenticatoremailstage", "authenticator/email", "ak-stage-authenticator-email-form",
			"Email Authenticator Setup Stage", "Email Authenticator Setup Stages", "Use Email-based authentication instead of authenticator-based."},
		{"authentik_stages_authenticator_validate.authenticatorvalidatestage", "authenticator/validate", "ak-stage-authenticator-validate-form",
			"Authenticator Validation Stage", "Authenticator Validation Stages", "Validate user's configured OTP Device."},
		{"authentik_stages_authenticator_endpoint_gdtc.authenticatorendpointgdtcstage", "authenticator/endpoint_gdtc", "ak-stage-authenticator-endpoint-gdtc-form",
			"Endpoint Authenticator Google Device Trust Connector Stage", "Endpoint Authenticator Google Device Trust Connector Stages", "Setup Google Chrome Device-trust connection"},
		{"authentik_stages_source.sourcestage", "source", "ak-stage-source-form", "Source Stage", "Source Stages",
			"Suspend the current flow execution and send the user to a source,\nafter which this flow execution is resumed."},
		{"authentik_stages_mtls.mutualtlsstage", "mtls", "ak-stage-mtls-form", "Mutual TLS Stage", "Mutual TLS Stages",
			"Authenticate/enroll users using a client-certificate."},
		{"authentik_stages_prompt.promptstage", "prompt/stages", "ak-stage-prompt-form", "Prompt Stage", "Prompt Stages",
			"Define arbitrary prompts for the user."},
	}
	enterprise := map[stage.ModelName]bool{stage.ModelAuthenticatorEndpointGDTC: true, stage.ModelSource: true, stage.ModelMutualTLS: true}
	strs := map[stage.ModelName]string{
		stage.ModelEmail: "Email Stage x", stage.ModelAuthenticatorWebAuthn: "WebAuthn Authenticator Setup Stage x",
		stage.ModelAuthenticatorSMS: "SMS Authenticator Setup Stage x", stage.ModelAuthenticatorEmail: "Email Authenticator Stage x",
		stage.ModelAuthenticatorEndpointGDTC: "Endpoint Authenticator Google Device Trust Connector Stage x",
		stage.ModelIdentification:            "Stage x", stage.ModelCaptcha: "Stage x", stage.ModelAuthenticatorValidate: "Stage x",
		stage.ModelSource: "Stage x", stage.ModelMutualTLS: "Stage x",
	}
	if len(tests) != len(stage.Default.Kinds()) {
		t.Errorf("%d kinds tested, %d registered", len(tests), len(stage.Default.Kinds()))
	}
	for _, tt := range tests {
		if k, ok := stage.Lookup(tt.model); ok && k.Enterprise != enterprise[tt.model] {
			t.Errorf("%s: Enterprise = %v", tt.model, k.Enterprise)
		}
		if want, ok := strs[tt.model]; ok {
			s, _ := stage.Default.New(tt.model)
			s.Name = "x"
			if got := s.String(); got != want {
				t.Errorf("%s: String() = %q, want %q", tt.model, got, want)
			}
		}
	}
	for _, tt := range tests {
		k, ok := stage.Lookup(tt.model)
		if !ok {
			t.Errorf("Lookup(%s) failed", tt.model)
			continue
		}
		if k.Path != tt.path || k.Component != tt.component || k.VerboseName != tt.verbose || k.Plural() != tt.plural || k.Description != tt.descr {
			t.Errorf("%s = %+v", tt.model, k)
		}
		if k.Schema() == nil {
			t.Errorf("%s has no schema", tt.model)
		}
		if byPath, ok := stage.Default.ByPath(tt.path); !ok || byPath.Model != tt.model {
			t.Errorf("ByPath(%q) = %s, %v", tt.path, byPath.Model, ok)
		}
		s, err := stage.Default.New(tt.model)
		if err != nil || s.Model() != tt.model || s.PK != uuid.Nil || s.Name != "" {
			t.Errorf("New(%s) = %+v, %v", tt.model, s, err)
		}
		if reflect.ValueOf(s.Config).Kind() == reflect.Pointer {
			t.Errorf("New(%s) holds a pointer Config %T", tt.model, s.Config)
		}
	}
	if _, ok := stage.Lookup("authentik_stages_nope.nopestage"); ok {
		t.Error("Lookup of an unregistered kind succeeded")
	}
	if _, err := stage.Default.New("authentik_stages_nope.nopestage"); !errors.Is(err, stage.ErrUnknownKind) {
		t.Errorf("New(unknown) = %v, want ErrUnknownKind", err)
	}
	if k := (stage.Kind{VerboseName: "Goose", VerboseNamePlural: "Geese"}); k.Plural() != "Geese" {
		t.Errorf("Plural() = %q", k.Plural())
	}
}

func TestPrivateRegistryEndToEnd(t *testing.T) {
	r := &stage.Registry{}
	r.Register(greetingKind())
	if _, ok := r.Lookup(stage.ModelUserWrite); ok {
		t.Error("a fresh Registry holds the built-in kinds")
	}
	if _, ok := stage.Lookup(greetingModel); ok {
		t.Error("registering in a private Registry changed Default")
	}

	cur, err := r.New(greetingModel)
	if err != nil {
		t.Fatal(err)
	}
	if want := (greeting{Language: "en", Retries: 1}); !reflect.DeepEqual(cur.Config, want) {
		t.Errorf("New = %#v, want the kind's defaults", cur.Config)
	}

	// Create: every error at once, from the name and the config.
	_, err = r.Decode(cur, []byte(`{"retries":9,"language":"fr","colour":"red","component":"ignored"}`), validate.Create)
	testutil.WantFields(t, "create errors", err, map[string][]string{
		"name":     {validate.MsgRequired},
		"greeting": {validate.MsgRequired},
		"retries":  {validate.MaxValue(5)},
		"language": {`"fr" is not a valid choice.`},
		"colour":   {validate.MsgUnknownField},
	})

	next := "44444444-4444-4444-8444-444444444444"
	s, err := r.Decode(cur, []byte(`{"name":" hello ","greeting":"Hi","loud":"yes","token":"t0k3n","next_flow":"`+next+`","pk":"ignored","flow_set":[{"x":1}],"meta_model_name":"x.y"}`), validate.Create)
	if err != nil {
		t.Fatal(err)
	}
	nextID := uuid.MustParse(next)
	s.PK = uuid.MustParse("55555555-5555-4555-8555-555555555555")
	wantCfg := greeting{Greeting: "Hi", Loud: true, Retries: 1, Language: "en", Token: validate.NewSecret("t0k3n"), Next: &nextID}
	if s.Name != "hello" || !reflect.DeepEqual(s.Config, wantCfg) {
		t.Errorf("Decode = %q %#v, want %#v", s.Name, s.Config, wantCfg)
	}
	if s.String() != "Stage hello" {
		t.Errorf("String() = %q", s.String())
	}

	enc, err := r.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(enc) || !strings.Contains(string(enc), `"token":"t0k3n"`) {
		t.Errorf("Encode = %s: the stored form must keep secrets", enc)
	}
	back, err := r.DecodeStored(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("DecodeStored(Encode(s)) = %#v, want %#v", back, s)
	}
	if _, err := stage.Default.DecodeStored(enc); !errors.Is(err, stage.ErrUnknownKind) {
		t.Errorf("Default.DecodeStored of a private kind = %v, want ErrUnknownKind", err)
	}
	if _, err := stage.Default.Encode(s); !errors.Is(err, stage.ErrUnknownKind) {
		t.Errorf("Default.Encode of a private kind = %v, want ErrUnknownKind", err)
	}
	if _, err := stage.Default.Decode(s, []byte(`{}`), validate.Patch); !errors.Is(err, stage.ErrUnknownKind) {
		t.Errorf("Default.Decode of a private kind = %v, want ErrUnknownKind", err)
	}

	k, _ := r.Lookup(greetingModel)
	view, err := json.Marshal(stage.View{Stage: s, Kind: k})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, filepath.Join("testdata", "view_custom.json"), view)
	if strings.Contains(string(view), "t0k3n") || strings.Contains(string(view), `"token"`) {
		t.Errorf("View shows the write-only token: %s", view)
	}

	// PATCH keeps the secret; PUT of the representation needs no token,
	// since it is not required.
	patched, err := r.Decode(s, []byte(`{"loud":false,"retries":"4"}`), validate.Patch)
	if err != nil {
		t.Fatal(err)
	}
	if g := patched.Config.(greeting); g.Token.Reveal() != "t0k3n" || g.Retries != 4 || g.Loud {
		t.Errorf("PATCH = %#v", g)
	}
	put, err := r.Decode(s, view, validate.Replace)
	if err != nil {
		t.Fatalf("PUT of the representation: %v", err)
	}
	if !reflect.DeepEqual(put, s) {
		t.Errorf("PUT of the representation = %#v, want %#v", put, s)
	}

	// The cross-field rule is the caller's (CheckObject), on the merged
	// object.
	loud, err := r.Decode(s, []byte(`{"retries":4}`), validate.Patch)
	if err != nil {
		t.Fatal(err)
	}
	oe := validate.CheckObject(loud.Config)
	if oe == nil || !reflect.DeepEqual(oe.NonField, []string{"A loud greeting may not be retried more than 3 times."}) {
		t.Errorf("CheckObject = %+v", oe)
	}

	// A config of the wrong type is an internal error, not a field error.
	wrong := stage.Stage{Config: greeting{}}
	uw, _ := stage.Default.New(stage.ModelUserWrite)
	wrong.Config = uw.Config
	if _, err := r.Decode(wrong, []byte(`{}`), validate.Patch); !errors.Is(err, stage.ErrUnknownKind) {
		t.Errorf("Decode of a user write stage in the private registry = %v", err)
	}
}

func TestDecodeStoredErrors(t *testing.T) {
	for _, b := range []string{
		`not json`,
		`{"pk":"55555555-5555-4555-8555-555555555555","name":"x","model":"authentik_stages_nope.nopestage","config":{}}`,
		`{"pk":"55555555-5555-4555-8555-555555555555","name":"x","model":"authentik_stages_invitation.invitationstage","config":{"continue_flow_without_invitation":"yes"}}`,
	} {
		if _, err := stage.Default.DecodeStored([]byte(b)); err == nil {
			t.Errorf("DecodeStored(%s) succeeded", b)
		}
	}
}
