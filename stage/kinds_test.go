package stage_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

var (
	stagePK    = uuid.MustParse("5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
	groupPK    = uuid.MustParse("6b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e")
	configFlow = uuid.MustParse("7c3d4e5f-6a7b-4c8d-8e9f-1a2b3c4d5e6f")
)

const (
	clientSecret = "duo-client-s3cret"
	adminSecret  = "duo-admin-s3cret"
)

func userWriteStage() stage.Stage {
	c := stage.DefaultUserWrite()
	c.CreateUsersGroup = &groupPK
	c.UserPathTemplate = "users/%(slug)s"
	return stage.Stage{PK: stagePK, Name: "default-source-enrollment-write", Config: c}
}

func invitationStage() stage.Stage {
	return stage.Stage{PK: stagePK, Name: "invite", Config: stage.Invitation{ContinueFlowWithoutInvitation: true}}
}

func denyStage() stage.Stage {
	return stage.Stage{PK: stagePK, Name: "deny", Config: stage.Deny{DenyMessage: "Not <here>."}}
}

func duoStage() stage.Stage {
	name := "Duo"
	return stage.Stage{PK: stagePK, Name: "duo", Config: stage.AuthenticatorDuo{
		ConfigureFlow:       &configFlow,
		FriendlyName:        &name,
		ClientID:            "DIXXXXXXXXXXXXXXXXXX",
		ClientSecret:        validate.NewSecret(clientSecret),
		APIHostname:         "api-1234.duosecurity.com",
		AdminIntegrationKey: "DIADMIN",
		AdminSecretKey:      validate.NewSecret(adminSecret),
	}}
}

type ruleCase struct {
	name  string
	op    validate.Op
	body  string
	errs  map[string][]string
	check func(t *testing.T, s stage.Stage)
}

func runRules(t *testing.T, cur stage.Stage, tests []ruleCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := cur
			if tt.op == validate.Create {
				var err error
				if start, err = stage.Default.New(cur.Model()); err != nil {
					t.Fatal(err)
				}
			}
			got, err := stage.Default.Decode(start, []byte(tt.body), tt.op)
			testutil.WantFields(t, tt.body, err, tt.errs)
			if err == nil && got.PK != start.PK {
				t.Errorf("pk changed to %s", got.PK)
			}
			if tt.errs == nil && tt.check != nil {
				tt.check(t, got)
			}
			if tt.op == validate.Patch {
				got2, err2 := stage.ApplyPatch(start, []byte(tt.body))
				testutil.WantFields(t, "ApplyPatch "+tt.body, err2, tt.errs)
				if err == nil && !reflect.DeepEqual(got, got2) {
					t.Errorf("ApplyPatch = %#v, Decode = %#v", got2, got)
				}
			}
		})
	}
}

// commonRules are the rules of the name every kind has.
func commonRules(requiredBody string) []ruleCase {
	return []ruleCase{
		{name: "name missing", op: validate.Create, body: requiredBody, errs: testutil.One("name", validate.MsgRequired)},
		{name: "name blank", op: validate.Patch, body: `{"name":" "}`, errs: testutil.One("name", validate.MsgBlank)},
		{name: "name null", op: validate.Patch, body: `{"name":null}`, errs: testutil.One("name", validate.MsgNull)},
		{name: "name bool", op: validate.Patch, body: `{"name":false}`, errs: testutil.One("name", validate.MsgNotString)},
		{name: "name trimmed", op: validate.Patch, body: `{"name":" x "}`, check: func(t *testing.T, s stage.Stage) {
			if s.Name != "x" {
				t.Errorf("Name = %q", s.Name)
			}
		}},
		{name: "unknown key", op: validate.Patch, body: `{"nmae":"x"}`, errs: testutil.One("nmae", validate.MsgUnknownField)},
		{name: "read-only keys ignored", op: validate.Patch, body: `{"pk":"x","component":1,"verbose_name":null,"verbose_name_plural":[],"meta_model_name":"a.b","flow_set":[{"pk":"x"}]}`},
	}
}

func TestUserWriteRules(t *testing.T) {
	cur := userWriteStage()
	tests := append(commonRules(`{}`), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"uw"}`, check: func(t *testing.T, s stage.Stage) {
			if want := stage.DefaultUserWrite(); !reflect.DeepEqual(s.Config, want) || s.Name != "uw" {
				t.Errorf("Create = %#v, want %#v", s.Config, want)
			}
			if want := (stage.UserWrite{UserCreationMode: "create_when_required", UserType: "external"}); !reflect.DeepEqual(s.Config, want) {
				t.Errorf("DefaultUserWrite = %#v", s.Config)
			}
		}},
		{name: "user_creation_mode invalid", op: validate.Patch, body: `{"user_creation_mode":"sometimes"}`, errs: testutil.One("user_creation_mode", `"sometimes" is not a valid choice.`)},
		{name: "user_creation_mode empty", op: validate.Patch, body: `{"user_creation_mode":""}`, errs: testutil.One("user_creation_mode", `"" is not a valid choice.`)},
		{name: "user_creation_mode null", op: validate.Patch, body: `{"user_creation_mode":null}`, errs: testutil.One("user_creation_mode", validate.MsgNull)},
		{name: "user_type invalid", op: validate.Patch, body: `{"user_type":"admin"}`, errs: testutil.One("user_type", `"admin" is not a valid choice.`)},
		{name: "user_type number", op: validate.Patch, body: `{"user_type":1}`, errs: testutil.One("user_type", `"1" is not a valid choice.`)},
		{name: "create_users_as_inactive invalid", op: validate.Patch, body: `{"create_users_as_inactive":"sure"}`, errs: testutil.One("create_users_as_inactive", validate.MsgBoolean)},
		{name: "create_users_as_inactive null", op: validate.Patch, body: `{"create_users_as_inactive":null}`, errs: testutil.One("create_users_as_inactive", validate.MsgNull)},
		{name: "create_users_group bool", op: validate.Patch, body: `{"create_users_group":true}`, errs: testutil.One("create_users_group", validate.MsgPKBool)},
		{name: "create_users_group not a uuid", op: validate.Patch, body: `{"create_users_group":"admins"}`, errs: testutil.One("create_users_group", "“admins” is not a valid UUID.")},
		{name: "create_users_group null", op: validate.Patch, body: `{"create_users_group":null}`, check: func(t *testing.T, s stage.Stage) {
			if g := s.Config.(stage.UserWrite).CreateUsersGroup; g != nil {
				t.Errorf("CreateUsersGroup = %v", g)
			}
		}},
		{name: "create_users_group empty is null", op: validate.Patch, body: `{"create_users_group":""}`, check: func(t *testing.T, s stage.Stage) {
			if g := s.Config.(stage.UserWrite).CreateUsersGroup; g != nil {
				t.Errorf("CreateUsersGroup = %v", g)
			}
		}},
		{name: "user_path_template blank", op: validate.Patch, body: `{"user_path_template":"  "}`, check: func(t *testing.T, s stage.Stage) {
			if p := s.Config.(stage.UserWrite).UserPathTemplate; p != "" {
				t.Errorf("UserPathTemplate = %q", p)
			}
		}},
		{name: "user_path_template null", op: validate.Patch, body: `{"user_path_template":null}`, errs: testutil.One("user_path_template", validate.MsgNull)},
		{name: "all values", op: validate.Patch, body: `{"user_creation_mode":"always_create","create_users_as_inactive":"on","create_users_group":"` + configFlow.String() + `","user_type":"internal_service_account","user_path_template":"x"}`, check: func(t *testing.T, s stage.Stage) {
			want := stage.UserWrite{UserCreationMode: stage.UserCreationAlways, CreateUsersAsInactive: true, CreateUsersGroup: &configFlow, UserType: stage.UserTypeInternalServiceAccount, UserPathTemplate: "x"}
			if !reflect.DeepEqual(s.Config, want) {
				t.Errorf("Config = %#v, want %#v", s.Config, want)
			}
		}},
		{name: "all errors at once", op: validate.Create, body: `{"user_creation_mode":"x","user_type":"y","create_users_as_inactive":"z","create_users_group":false}`, errs: map[string][]string{
			"name":                     {validate.MsgRequired},
			"user_creation_mode":       {`"x" is not a valid choice.`},
			"user_type":                {`"y" is not a valid choice.`},
			"create_users_as_inactive": {validate.MsgBoolean},
			"create_users_group":       {validate.MsgPKBool},
		}},
	}...)
	runRules(t, cur, tests)
	for _, m := range []string{"never_create", "create_when_required", "always_create"} {
		if _, err := stage.ApplyPatch(cur, []byte(`{"user_creation_mode":"`+m+`"}`)); err != nil {
			t.Errorf("user_creation_mode %s: %v", m, err)
		}
	}
	for _, u := range []string{"internal", "external", "service_account", "internal_service_account"} {
		if _, err := stage.ApplyPatch(cur, []byte(`{"user_type":"`+u+`"}`)); err != nil {
			t.Errorf("user_type %s: %v", u, err)
		}
	}
}

func TestInvitationRules(t *testing.T) {
	tests := append(commonRules(`{"continue_flow_without_invitation":true}`), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"inv"}`, check: func(t *testing.T, s stage.Stage) {
			if !reflect.DeepEqual(s.Config, stage.Invitation{}) {
				t.Errorf("Create = %#v", s.Config)
			}
		}},
		{name: "bool invalid", op: validate.Patch, body: `{"continue_flow_without_invitation":"perhaps"}`, errs: testutil.One("continue_flow_without_invitation", validate.MsgBoolean)},
		{name: "bool object", op: validate.Patch, body: `{"continue_flow_without_invitation":{}}`, errs: testutil.One("continue_flow_without_invitation", validate.MsgBoolean)},
		{name: "bool null", op: validate.Patch, body: `{"continue_flow_without_invitation":null}`, errs: testutil.One("continue_flow_without_invitation", validate.MsgNull)},
		{name: "bool spelling", op: validate.Patch, body: `{"continue_flow_without_invitation":"f"}`, check: func(t *testing.T, s stage.Stage) {
			if s.Config.(stage.Invitation).ContinueFlowWithoutInvitation {
				t.Error("still true")
			}
		}},
	}...)
	runRules(t, invitationStage(), tests)
}

func TestDenyRules(t *testing.T) {
	tests := append(commonRules(`{"deny_message":"no"}`), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"deny"}`, check: func(t *testing.T, s stage.Stage) {
			if !reflect.DeepEqual(s.Config, stage.Deny{}) {
				t.Errorf("Create = %#v", s.Config)
			}
		}},
		{name: "message blank", op: validate.Patch, body: `{"deny_message":""}`, check: func(t *testing.T, s stage.Stage) {
			if s.Config.(stage.Deny).DenyMessage != "" {
				t.Errorf("DenyMessage = %q", s.Config.(stage.Deny).DenyMessage)
			}
		}},
		{name: "message number", op: validate.Patch, body: `{"deny_message":12}`, check: func(t *testing.T, s stage.Stage) {
			if s.Config.(stage.Deny).DenyMessage != "12" {
				t.Errorf("DenyMessage = %q", s.Config.(stage.Deny).DenyMessage)
			}
		}},
		{name: "message bool", op: validate.Patch, body: `{"deny_message":true}`, errs: testutil.One("deny_message", validate.MsgNotString)},
		{name: "message null", op: validate.Patch, body: `{"deny_message":null}`, errs: testutil.One("deny_message", validate.MsgNull)},
	}...)
	runRules(t, denyStage(), tests)
}

func TestUserLoginAndConsentRules(t *testing.T) {
	bad := func(v string) string { return v + " is not in the correct format of 'hours=3;minutes=1'." }
	login := stage.Stage{PK: stagePK, Name: "login", Config: stage.DefaultUserLogin()}
	runRules(t, login, append(commonRules(`{"session_duration":"hours=1"}`), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"login"}`, check: func(t *testing.T, s stage.Stage) {
			if !reflect.DeepEqual(s.Config, stage.DefaultUserLogin()) {
				t.Errorf("Create = %#v", s.Config)
			}
		}},
		{name: "durations", op: validate.Patch, body: `{"session_duration":"hours=-1;minutes=-2;seconds=-3","remember_me_offset":"days=30"}`, check: func(t *testing.T, s stage.Stage) {
			if c := s.Config.(stage.UserLogin); c.SessionDuration != "hours=-1;minutes=-2;seconds=-3" || c.RememberMeOffset != "days=30" {
				t.Errorf("Patch = %#v", c)
			}
		}},
		{name: "duration with commas", op: validate.Patch, body: `{"session_duration":"hours=1,minutes=2"}`, errs: testutil.One("session_duration", bad("hours=1,minutes=2"))},
		{name: "duration without a known key", op: validate.Patch, body: `{"remember_me_offset":"fortnights=1"}`, errs: testutil.One("remember_me_offset", bad("fortnights=1"))},
		{name: "duration trimmed first", op: validate.Patch, body: `{"session_duration":" nope "}`, errs: testutil.One("session_duration", bad("nope"))},
		{name: "duration blank", op: validate.Patch, body: `{"session_duration":""}`, errs: testutil.One("session_duration", validate.MsgBlank)},
		{name: "bad network binding", op: validate.Patch, body: `{"network_binding":"bind_everything"}`, errs: testutil.One("network_binding", validate.InvalidChoice("bind_everything"))},
		{name: "bad geoip binding", op: validate.Patch, body: `{"geoip_binding":"bind_planet"}`, errs: testutil.One("geoip_binding", validate.InvalidChoice("bind_planet"))},
	}...))

	consent := stage.Stage{PK: stagePK, Name: "consent", Config: stage.DefaultConsent()}
	runRules(t, consent, append(commonRules(`{"mode":"permanent"}`), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"consent"}`, check: func(t *testing.T, s stage.Stage) {
			if c := s.Config.(stage.Consent); c.Mode != stage.ConsentExpiring || c.ConsentExpireIn != "weeks=4" {
				t.Errorf("Create = %#v", c)
			}
		}},
		{name: "bad mode", op: validate.Patch, body: `{"mode":"sometimes"}`, errs: testutil.One("mode", validate.InvalidChoice("sometimes"))},
		{name: "bad expiry", op: validate.Patch, body: `{"consent_expire_in":"weeks=many"}`, errs: testutil.One("consent_expire_in", bad("weeks=many"))},
	}...))
}

var promptPK = uuid.MustParse("9e5f6a7b-8c9d-4e0f-9a1b-3c4d5e6f7a8b")

func promptStage() stage.Stage {
	return stage.Stage{PK: stagePK, Name: "ask", Config: stage.PromptStage{Fields: []uuid.UUID{promptPK}, ValidationPolicies: []uuid.UUID{}}}
}

func TestPromptStageRules(t *testing.T) {
	cur := promptStage()
	id := promptPK.String()
	runRules(t, cur, append(commonRules(`{"fields":["`+id+`"]}`), []ruleCase{
		{name: "fields required", op: validate.Create, body: `{"name":"p"}`, errs: testutil.One("fields", validate.MsgRequired)},
		{name: "fields empty", op: validate.Patch, body: `{"fields":[]}`, errs: testutil.One("fields", validate.MsgEmptyList)},
		{name: "fields not a list", op: validate.Patch, body: `{"fields":"` + id + `"}`, errs: testutil.One("fields", validate.NotAList("str"))},
		{name: "fields bad pk", op: validate.Patch, body: `{"fields":["x"]}`, errs: testutil.One("fields", validate.InvalidUUID("x"))},
		{name: "policies null", op: validate.Patch, body: `{"validation_policies":null}`, errs: testutil.One("validation_policies", validate.MsgNull)},
		{name: "create defaults", op: validate.Create, body: `{"name":"p","fields":["` + id + `"]}`, check: func(t *testing.T, s stage.Stage) {
			if c := s.Config.(stage.PromptStage); len(c.Fields) != 1 || len(c.ValidationPolicies) != 0 {
				t.Errorf("Create = %#v", c)
			}
		}},
	}...))
	if e := (stage.PromptStage{}).Validate(); e == nil {
		t.Error("a prompt stage built in Go without fields passes its rules")
	}
}

// Prompts: required fields, the type choice, and authentik's defaults.
func TestPromptRules(t *testing.T) {
	_, err := stage.DecodePrompt(stage.DefaultPrompt(), []byte(`{"name":" ","type":"alert_info","label":""}`), validate.Create)
	testutil.WantFields(t, "create", err, map[string][]string{
		"name": {validate.MsgBlank}, "field_key": {validate.MsgRequired}, "label": {validate.MsgBlank}, "type": {validate.InvalidChoice("alert_info")},
	})
	p, err := stage.DecodePrompt(stage.DefaultPrompt(), []byte(`{"name":"n","field_key":"attributes.a b-c","label":"L","type":"text","promptstage_set":[1]}`), validate.Create)
	if err != nil || !p.Required || p.FieldKey != "attributes.a b-c" || p.String() != "Prompt field 'attributes.a b-c' type text" {
		t.Errorf("DecodePrompt = %#v, %v", p, err)
	}
}

func TestRedirectRules(t *testing.T) {
	cur := stage.Stage{PK: stagePK, Name: "to-url", Config: stage.Redirect{KeepContext: true, Mode: stage.RedirectStatic, TargetStatic: "https://example.com"}}
	runRules(t, cur, append(commonRules(`{"mode":"static","target_static":"https://example.com"}`), []ruleCase{
		{name: "mode required", op: validate.Create, body: `{"name":"r","target_static":"https://example.com"}`, errs: testutil.One("mode", validate.MsgRequired)},
		{name: "bad mode", op: validate.Patch, body: `{"mode":"teleport"}`, errs: testutil.One("mode", validate.InvalidChoice("teleport"))},
		{name: "flow mode", op: validate.Patch, body: `{"mode":"flow","target_flow":"` + configFlow.String() + `","keep_context":false}`, check: func(t *testing.T, s stage.Stage) {
			c := s.Config.(stage.Redirect)
			if c.Mode != stage.RedirectFlow || c.TargetFlow == nil || *c.TargetFlow != configFlow || c.KeepContext {
				t.Errorf("Patch = %#v", c)
			}
		}},
		{name: "create defaults", op: validate.Create, body: `{"name":"r","mode":"static","target_static":"/x"}`, check: func(t *testing.T, s stage.Stage) {
			if c := s.Config.(stage.Redirect); !c.KeepContext || c.TargetFlow != nil {
				t.Errorf("Create = %#v", c)
			}
		}},
	}...))
}

// Redirect's object rule holds for the merged object: a patch that sends
// only mode flow, or blanks the URL, is refused (authentik checks only
// requests that send mode).
func TestRedirectObjectRule(t *testing.T) {
	cur := stage.Stage{PK: stagePK, Name: "to-url", Config: stage.Redirect{KeepContext: true, Mode: stage.RedirectStatic, TargetStatic: "https://example.com"}}
	for _, tt := range []struct{ body, want string }{
		{`{"mode":"flow"}`, stage.MsgRedirectNoFlow},
		{`{"target_static":""}`, stage.MsgRedirectNoURL},
		{`{"mode":"flow","target_flow":null}`, stage.MsgRedirectNoFlow},
		{`{"mode":"flow","target_flow":"` + configFlow.String() + `"}`, ""},
		{`{"keep_context":false}`, ""},
	} {
		_, err := stage.ApplyPatch(cur, []byte(tt.body))
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.body, err)
			}
			continue
		}
		var ve *validate.Error
		if !errors.As(err, &ve) || len(ve.NonField) != 1 || ve.NonField[0] != tt.want {
			t.Errorf("%s: %v, want the non-field error %q", tt.body, err, tt.want)
		}
	}
	for _, c := range []stage.Redirect{{Mode: stage.RedirectStatic}, {Mode: stage.RedirectFlow, TargetStatic: "/x"}} {
		if validate.CheckObject(c) == nil {
			t.Errorf("CheckObject(%#v) passed", c)
		}
	}
}

func TestPasswordRules(t *testing.T) {
	cur := stage.Stage{PK: stagePK, Name: "pw", Config: stage.Password{Backends: []stage.PasswordBackend{stage.BackendInbuilt}, FailedAttemptsBeforeCancel: 5}}
	runRules(t, cur, append(commonRules(`{"backends":["authentik.core.auth.InbuiltBackend"]}`), []ruleCase{
		{name: "backends required", op: validate.Create, body: `{"name":"pw"}`, errs: testutil.One("backends", validate.MsgRequired)},
		{name: "backends empty", op: validate.Patch, body: `{"backends":[]}`, errs: testutil.One("backends", validate.MsgEmptyList)},
		{name: "backends not a list", op: validate.Patch, body: `{"backends":"x"}`, errs: testutil.One("backends", `Expected a list of items but got type "str".`)},
		{name: "a bad backend", op: validate.Patch, body: `{"backends":["authentik.core.auth.TokenBackend","x"]}`, errs: testutil.One("backends.1", validate.InvalidChoice("x"))},
		{name: "attempts not a number", op: validate.Patch, body: `{"failed_attempts_before_cancel":"many"}`, errs: testutil.One("failed_attempts_before_cancel", validate.MsgInteger)},
		{name: "create defaults", op: validate.Create, body: `{"name":"pw","backends":["authentik.sources.ldap.auth.LDAPBackend","authentik.sources.kerberos.auth.KerberosBackend"]}`, check: func(t *testing.T, s stage.Stage) {
			c := s.Config.(stage.Password)
			if len(c.Backends) != 2 || c.FailedAttemptsBeforeCancel != 5 || c.AllowShowPassword || c.ConfigureFlow != nil {
				t.Errorf("Create = %#v", c)
			}
		}},
	}...))
	if err := validate.CheckObject(stage.DefaultPassword()); err != nil {
		t.Errorf("CheckObject(defaults) = %v", err)
	}
	var errs validate.Error
	if err := validate.Check(stage.DefaultPassword(), &errs); err != nil || !errs.Has("backends") {
		t.Errorf("the defaults' empty backends pass the field rules: %v %v", err, errs)
	}
}

func TestDummyRules(t *testing.T) {
	runRules(t, stage.Stage{PK: stagePK, Name: "dummy", Config: stage.Dummy{}}, append(commonRules(`{"throw_error":true}`), []ruleCase{
		{name: "throw", op: validate.Patch, body: `{"throw_error":"true"}`, check: func(t *testing.T, s stage.Stage) {
			if !s.Config.(stage.Dummy).ThrowError {
				t.Error("throw_error not set")
			}
		}},
		{name: "bad bool", op: validate.Patch, body: `{"throw_error":"loud"}`, errs: testutil.One("throw_error", validate.MsgBoolean)},
	}...))
	if k, _ := stage.Lookup(stage.ModelDummy); !k.Debug {
		t.Error("the dummy kind is not marked Debug")
	}
}

func TestAuthenticatorStaticRules(t *testing.T) {
	cur := stage.Stage{PK: stagePK, Name: "static", Config: stage.DefaultAuthenticatorStatic()}
	runRules(t, cur, append(commonRules(`{"token_count":3}`), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"static"}`, check: func(t *testing.T, s stage.Stage) {
			if !reflect.DeepEqual(s.Config, stage.DefaultAuthenticatorStatic()) {
				t.Errorf("Create = %#v", s.Config)
			}
		}},
		{name: "negative count", op: validate.Patch, body: `{"token_count":-1}`, errs: testutil.One("token_count", validate.MinValue(0))},
		{name: "negative length", op: validate.Patch, body: `{"token_length":-5}`, errs: testutil.One("token_length", validate.MinValue(0))},
		{name: "length beyond int32", op: validate.Patch, body: `{"token_length":2147483648}`, errs: testutil.One("token_length", validate.MaxValue(2147483647))},
		{name: "friendly name blank", op: validate.Patch, body: `{"friendly_name":""}`, errs: testutil.One("friendly_name", validate.MsgBlank)},
		{name: "long tokens", op: validate.Patch, body: `{"token_length":500,"friendly_name":null}`, check: func(t *testing.T, s stage.Stage) {
			if c := s.Config.(stage.AuthenticatorStatic); c.TokenLength != 500 || c.FriendlyName != nil {
				t.Errorf("Patch = %#v", c) // no maximum of 100 before 2025.12
			}
		}},
	}...))
	if err := validate.Check(stage.AuthenticatorStatic{TokenCount: -1}, &validate.Error{}); err != nil {
		t.Fatal(err)
	}
	var errs validate.Error
	_ = validate.Check(stage.AuthenticatorStatic{TokenCount: -1}, &errs)
	if !errs.Has("token_count") {
		t.Errorf("a negative count from Go passes: %v", errs)
	}
	if got := (stage.Stage{Name: "backup", Config: stage.DefaultAuthenticatorStatic()}).String(); got != "Static Authenticator Setup Stage backup" {
		t.Errorf("String = %q", got)
	}
}

func TestAuthenticatorTOTPRules(t *testing.T) {
	cur := stage.Stage{PK: stagePK, Name: "totp", Config: stage.AuthenticatorTOTP{Digits: stage.TOTPDigits6}}
	runRules(t, cur, append(commonRules(`{"digits":"6"}`), []ruleCase{
		{name: "digits required", op: validate.Create, body: `{"name":"totp"}`, errs: testutil.One("digits", validate.MsgRequired)},
		{name: "digits as a number", op: validate.Create, body: `{"name":"totp","digits":8}`, check: func(t *testing.T, s stage.Stage) {
			if d := s.Config.(stage.AuthenticatorTOTP).Digits; d != stage.TOTPDigits8 {
				t.Errorf("Digits = %q", d)
			}
		}},
		{name: "digits 7", op: validate.Patch, body: `{"digits":"7"}`, errs: testutil.One("digits", validate.InvalidChoice("7"))},
		{name: "digits blank", op: validate.Patch, body: `{"digits":""}`, errs: testutil.One("digits", validate.InvalidChoice(""))},
		{name: "friendly name blank", op: validate.Patch, body: `{"friendly_name":" "}`, errs: testutil.One("friendly_name", validate.MsgBlank)},
	}...))
	if got := (stage.Stage{Name: "otp", Config: stage.AuthenticatorTOTP{Digits: "6"}}).String(); got != "TOTP Authenticator Setup Stage otp" {
		t.Errorf("String = %q", got)
	}
}

// User logout and user delete have no settings: any other key is unknown.
func TestSettinglessRules(t *testing.T) {
	for _, cur := range []stage.Stage{
		{PK: stagePK, Name: "logout", Config: stage.UserLogout{}},
		{PK: stagePK, Name: "delete", Config: stage.UserDelete{}},
	} {
		t.Run(string(cur.Model()), func(t *testing.T) {
			runRules(t, cur, append(commonRules(`{}`), []ruleCase{
				{name: "create", op: validate.Create, body: `{"name":"x","pk":"ignored","flow_set":[]}`, check: func(t *testing.T, s stage.Stage) {
					if s.Name != "x" || s.Model() != cur.Model() {
						t.Errorf("Create = %#v", s)
					}
				}},
				{name: "unknown key", op: validate.Patch, body: `{"deny_message":"x"}`, errs: testutil.One("deny_message", validate.MsgUnknownField)},
			}...))
		})
	}
}

func TestDuoRules(t *testing.T) {
	const required = `"client_id":"id","client_secret":"secret","api_hostname":"api.example.com"`
	duo := func(s stage.Stage) stage.AuthenticatorDuo { return s.Config.(stage.AuthenticatorDuo) }
	tests := append(commonRules(`{`+required+`}`), []ruleCase{
		{name: "create minimal", op: validate.Create, body: `{"name":"duo",` + required + `}`, check: func(t *testing.T, s stage.Stage) {
			want := stage.AuthenticatorDuo{ClientID: "id", ClientSecret: validate.NewSecret("secret"), APIHostname: "api.example.com"}
			if !reflect.DeepEqual(s.Config, want) {
				t.Errorf("Create = %#v, want %#v", s.Config, want)
			}
		}},
		{name: "create missing", op: validate.Create, body: `{}`, errs: map[string][]string{
			"name": {validate.MsgRequired}, "client_id": {validate.MsgRequired},
			"client_secret": {validate.MsgRequired}, "api_hostname": {validate.MsgRequired},
		}},
		{name: "client_id blank", op: validate.Patch, body: `{"client_id":""}`, errs: testutil.One("client_id", validate.MsgBlank)},
		{name: "client_id null", op: validate.Patch, body: `{"client_id":null}`, errs: testutil.One("client_id", validate.MsgNull)},
		{name: "client_secret blank", op: validate.Patch, body: `{"client_secret":"  "}`, errs: testutil.One("client_secret", validate.MsgBlank)},
		{name: "client_secret null", op: validate.Patch, body: `{"client_secret":null}`, errs: testutil.One("client_secret", validate.MsgNull)},
		{name: "client_secret bool", op: validate.Patch, body: `{"client_secret":true}`, errs: testutil.One("client_secret", validate.MsgNotString)},
		{name: "api_hostname blank", op: validate.Patch, body: `{"api_hostname":""}`, errs: testutil.One("api_hostname", validate.MsgBlank)},
		{name: "api_hostname list", op: validate.Patch, body: `{"api_hostname":["a"]}`, errs: testutil.One("api_hostname", validate.MsgNotString)},
		{name: "friendly_name null allowed", op: validate.Patch, body: `{"friendly_name":null}`, check: func(t *testing.T, s stage.Stage) {
			if duo(s).FriendlyName != nil {
				t.Errorf("FriendlyName = %q", *duo(s).FriendlyName)
			}
		}},
		{name: "friendly_name blank", op: validate.Patch, body: `{"friendly_name":""}`, errs: testutil.One("friendly_name", "This field may not be blank.")},
		{name: "friendly_name spaces", op: validate.Patch, body: `{"friendly_name":"   "}`, errs: testutil.One("friendly_name", "This field may not be blank.")},
		{name: "friendly_name set", op: validate.Patch, body: `{"friendly_name":" Duo Push "}`, check: func(t *testing.T, s stage.Stage) {
			if f := duo(s).FriendlyName; f == nil || *f != "Duo Push" {
				t.Errorf("FriendlyName = %v", f)
			}
		}},
		{name: "configure_flow not a uuid", op: validate.Patch, body: `{"configure_flow":"default-flow"}`, errs: testutil.One("configure_flow", "“default-flow” is not a valid UUID.")},
		{name: "configure_flow short", op: validate.Patch, body: `{"configure_flow":"7c3d4e5f-6a7b"}`, errs: testutil.One("configure_flow", "“7c3d4e5f-6a7b” is not a valid UUID.")},
		{name: "configure_flow bool", op: validate.Patch, body: `{"configure_flow":true}`, errs: testutil.One("configure_flow", validate.MsgPKBool)},
		{name: "configure_flow object", op: validate.Patch, body: `{"configure_flow":{"pk":"x"}}`, errs: testutil.One("configure_flow", "“{'pk': 'x'}” is not a valid UUID.")},
		{name: "configure_flow empty is null", op: validate.Patch, body: `{"configure_flow":""}`, check: func(t *testing.T, s stage.Stage) {
			if duo(s).ConfigureFlow != nil {
				t.Errorf("ConfigureFlow = %v", duo(s).ConfigureFlow)
			}
		}},
		{name: "configure_flow set", op: validate.Patch, body: `{"configure_flow":"` + strings.ToUpper(groupPK.String()) + `"}`, check: func(t *testing.T, s stage.Stage) {
			if f := duo(s).ConfigureFlow; f == nil || *f != groupPK {
				t.Errorf("ConfigureFlow = %v", f)
			}
		}},
		{name: "admin keys blank allowed", op: validate.Patch, body: `{"admin_integration_key":"","admin_secret_key":" "}`, check: func(t *testing.T, s stage.Stage) {
			if d := duo(s); d.AdminIntegrationKey != "" || !d.AdminSecretKey.IsZero() {
				t.Errorf("admin keys = %q %q", d.AdminIntegrationKey, d.AdminSecretKey.Reveal())
			}
		}},
		{name: "admin keys null", op: validate.Patch, body: `{"admin_integration_key":null,"admin_secret_key":null}`, errs: map[string][]string{
			"admin_integration_key": {validate.MsgNull}, "admin_secret_key": {validate.MsgNull},
		}},
		{name: "patch keeps secrets", op: validate.Patch, body: `{"client_id":"new"}`, check: func(t *testing.T, s stage.Stage) {
			d := duo(s)
			if d.ClientID != "new" || d.ClientSecret.Reveal() != clientSecret || d.AdminSecretKey.Reveal() != adminSecret {
				t.Errorf("PATCH lost a secret: %q %q", d.ClientSecret.Reveal(), d.AdminSecretKey.Reveal())
			}
		}},
		{name: "patch sets secret", op: validate.Patch, body: `{"client_secret":" new "}`, check: func(t *testing.T, s stage.Stage) {
			if d := duo(s); d.ClientSecret.Reveal() != "new" {
				t.Errorf("ClientSecret = %q", d.ClientSecret.Reveal())
			}
		}},
	}...)
	runRules(t, duoStage(), tests)
}

// PUT requires the write-only client_secret again; PATCH does not.
func TestDuoReplaceNeedsSecret(t *testing.T) {
	cur := duoStage()
	k, _ := stage.Lookup(stage.ModelAuthenticatorDuo)
	rep, err := json.Marshal(stage.View{Stage: cur, Kind: k})
	if err != nil {
		t.Fatal(err)
	}
	_, err = stage.Default.Decode(cur, rep, validate.Replace)
	testutil.WantFields(t, "PUT of the representation", err, testutil.One("client_secret", validate.MsgRequired))

	var m map[string]any
	if err := json.Unmarshal(rep, &m); err != nil {
		t.Fatal(err)
	}
	m["client_secret"] = "again"
	body, _ := json.Marshal(m)
	got, err := stage.Default.Decode(cur, body, validate.Replace)
	if err != nil {
		t.Fatalf("PUT with the secret: %v", err)
	}
	want := cur
	c := want.Config.(stage.AuthenticatorDuo)
	c.ClientSecret = validate.NewSecret("again")
	want.Config = c
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PUT = %#v\nwant %#v", got, want)
	}
	if got.Config.(stage.AuthenticatorDuo).AdminSecretKey.Reveal() != adminSecret {
		t.Error("PUT without admin_secret_key lost it")
	}

	got, err = stage.ApplyPatch(cur, rep)
	if err != nil {
		t.Fatalf("PATCH of the representation: %v", err)
	}
	if !reflect.DeepEqual(got, cur) {
		t.Errorf("PATCH of the representation = %#v\nwant %#v", got, cur)
	}

	// Replace of another kind: every required field, and omitted optional
	// fields keep their values.
	uw := userWriteStage()
	got, err = stage.Default.Decode(uw, []byte(`{"name":"renamed"}`), validate.Replace)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "renamed" || !reflect.DeepEqual(got.Config, uw.Config) {
		t.Errorf("PUT = %#v", got)
	}
	_, err = stage.Default.Decode(uw, []byte(`{"user_type":"internal"}`), validate.Replace)
	testutil.WantFields(t, "PUT without name", err, testutil.One("name", validate.MsgRequired))
}

func TestApplyPatchDoesNotModifyCurrent(t *testing.T) {
	cur := duoStage()
	before := *cur.Config.(stage.AuthenticatorDuo).FriendlyName
	beforeFlow := *cur.Config.(stage.AuthenticatorDuo).ConfigureFlow
	if _, err := stage.ApplyPatch(cur, []byte(`{"friendly_name":"changed","configure_flow":"`+groupPK.String()+`"}`)); err != nil {
		t.Fatal(err)
	}
	d := cur.Config.(stage.AuthenticatorDuo)
	if *d.FriendlyName != before || *d.ConfigureFlow != beforeFlow {
		t.Errorf("ApplyPatch changed its argument: %q %s", *d.FriendlyName, *d.ConfigureFlow)
	}
}

func TestDecodeBodies(t *testing.T) {
	cur := invitationStage()
	for _, body := range []string{`[]`, `"x"`, `null`, `1.5`} {
		_, err := stage.Default.Decode(cur, []byte(body), validate.Patch)
		ve := testutil.Invalid(t, err)
		if ve == nil || len(ve.NonField) != 1 || len(ve.Fields) != 0 {
			t.Errorf("Decode(%s) = %v", body, err)
		}
	}
	if _, err := stage.Default.Decode(cur, []byte(`{`), validate.Patch); !errors.Is(err, validate.ErrSyntax) {
		t.Errorf("Decode({) = %v, want ErrSyntax", err)
	}
}

func flowSet() []flow.Set {
	f := flow.New("Duo setup", "duo-setup", "Set up Duo", flow.DesignationStageConfiguration)
	f.PK = configFlow
	f.PolicyBindingModelPtrID = uuid.MustParse("8d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f7a")
	return []flow.Set{{Flow: f}}
}

func TestViewJSON(t *testing.T) {
	common := []string{"pk", "name", "component", "verbose_name", "verbose_name_plural", "meta_model_name", "flow_set"}
	tests := []struct {
		file  string
		stage stage.Stage
		keys  []string
	}{
		{"view_user_write.json", userWriteStage(), []string{"user_creation_mode", "create_users_as_inactive", "create_users_group", "user_type", "user_path_template"}},
		{"view_invitation.json", invitationStage(), []string{"continue_flow_without_invitation"}},
		{"view_duo.json", duoStage(), []string{"configure_flow", "friendly_name", "client_id", "api_hostname", "admin_integration_key"}},
		{"view_deny.json", denyStage(), []string{"deny_message"}},
		{"view_authenticator_totp.json", stage.Stage{PK: stagePK, Name: "totp", Config: stage.AuthenticatorTOTP{Digits: stage.TOTPDigits8}}, []string{"configure_flow", "friendly_name", "digits"}},
		{"view_authenticator_static.json", stage.Stage{PK: stagePK, Name: "static", Config: stage.AuthenticatorStatic{ConfigureFlow: &configFlow, TokenCount: 6, TokenLength: 12}}, []string{"configure_flow", "friendly_name", "token_count", "token_length"}},
		{"view_dummy.json", stage.Stage{PK: stagePK, Name: "dummy", Config: stage.Dummy{ThrowError: true}}, []string{"throw_error"}},
		{"view_password.json", stage.Stage{PK: stagePK, Name: "pw", Config: stage.Password{Backends: []stage.PasswordBackend{stage.BackendInbuilt, stage.BackendToken}, ConfigureFlow: &configFlow, FailedAttemptsBeforeCancel: 5}}, []string{"backends", "configure_flow", "failed_attempts_before_cancel", "allow_show_password"}},
		{"view_redirect.json", stage.Stage{PK: stagePK, Name: "to-flow", Config: stage.Redirect{KeepContext: true, Mode: stage.RedirectFlow, TargetFlow: &configFlow}}, []string{"keep_context", "mode", "target_static", "target_flow"}},
		{"view_user_login.json", stage.Stage{PK: stagePK, Name: "login", Config: stage.DefaultUserLogin()}, []string{"session_duration", "terminate_other_sessions", "remember_me_offset", "network_binding", "geoip_binding"}},
		{"view_consent.json", stage.Stage{PK: stagePK, Name: "consent", Config: stage.DefaultConsent()}, []string{"mode", "consent_expire_in"}},
		{"view_user_logout.json", stage.Stage{PK: stagePK, Name: "logout", Config: stage.UserLogout{}}, nil},
		{"view_user_delete.json", stage.Stage{PK: stagePK, Name: "delete", Config: stage.UserDelete{}}, nil},
		{"view_identification.json", identificationStage(), []string{"user_fields", "password_stage", "captcha_stage", "case_insensitive_matching", "show_matched_user",
			"enrollment_flow", "recovery_flow", "passwordless_flow", "sources", "show_source_labels", "pretend_user_exists", "enable_remember_me"}},
		{"view_captcha.json", captchaStage(), []string{"public_key", "js_url", "api_url", "interactive", "score_min_threshold", "score_max_threshold", "error_on_invalid_score"}},
		{"view_email.json", emailStage(), []string{"use_global_settings", "host", "port", "username", "use_tls", "use_ssl", "timeout", "from_address", "token_expiry",
			"subject", "template", "activate_user_on_success"}},
		{"view_authenticator_webauthn.json", webauthnStage(), []string{"configure_flow", "friendly_name", "user_verification", "authenticator_attachment",
			"resident_key_requirement", "device_type_restrictions", "device_type_restrictions_obj"}},
		{"view_authenticator_sms.json", smsStage(), []string{"configure_flow", "friendly_name", "provider", "from_number", "account_sid", "auth", "auth_password",
			"auth_type", "verify_only", "mapping"}},
		{"view_authenticator_email.json", authEmailStage(), []string{"configure_flow", "friendly_name", "use_global_settings", "host", "port", "username", "password",
			"use_tls", "use_ssl", "timeout", "from_address", "subject", "token_expiry", "template"}},
		{"view_authenticator_validate.json", validateStage(), []string{"not_configured_action", "device_classes", "configuration_stages", "last_auth_threshold",
			"webauthn_user_verification", "webauthn_allowed_device_types", "webauthn_allowed_device_types_obj"}},
		{"view_authenticator_endpoint_gdtc.json", gdtcStage(), []string{"configure_flow", "friendly_name", "credentials"}},
		{"view_source.json", stage.Stage{PK: stagePK, Name: "source", Config: stage.Source{Source: sourcePK, ResumeTimeout: "minutes=10"}}, []string{"source", "resume_timeout"}},
		{"view_mtls.json", mtlsStage(), []string{"mode", "certificate_authorities", "cert_attribute", "user_attribute"}},
		{"view_prompt.json", promptStage(), []string{"fields", "validation_policies"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			k, ok := stage.Lookup(tt.stage.Model())
			if !ok {
				t.Fatal("kind not registered")
			}
			view := stage.View{Stage: tt.stage, Kind: k, FlowSet: flowSet()}
			got, err := json.Marshal(view)
			if err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, filepath.Join("testdata", tt.file), got)
			if k := testutil.Keys(t, got); !reflect.DeepEqual(k, append(append([]string{}, common...), tt.keys...)) {
				t.Errorf("keys = %q", k)
			}
			for _, secret := range []string{clientSecret, adminSecret, "client_secret", "admin_secret_key", captchaSecret, "private_key", emailSecret} {
				if strings.Contains(string(got), secret) {
					t.Errorf("View JSON contains %q: %s", secret, got)
				}
			}

			sum, err := json.Marshal(stage.Summary{View: view})
			if err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, filepath.Join("testdata", strings.Replace(tt.file, "view_", "summary_", 1)), sum)
			if k := testutil.Keys(t, sum); !reflect.DeepEqual(k, common) {
				t.Errorf("Summary keys = %q, want %q", k, common)
			}

			// Without flows, flow_set is an empty list, not null.
			empty, err := json.Marshal(stage.View{Stage: tt.stage, Kind: k})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(empty), `"flow_set":[]`) {
				t.Errorf("no flow_set list: %s", empty)
			}
		})
	}
}

func TestStageString(t *testing.T) {
	tests := []struct {
		stage stage.Stage
		want  string
	}{
		{userWriteStage(), "Stage default-source-enrollment-write"},
		{invitationStage(), "Stage invite"},
		{duoStage(), "Duo Authenticator Setup Stage duo"},
		{stage.Stage{Name: "bare"}, "Stage bare"},
	}
	for _, tt := range tests {
		if got := tt.stage.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		if got := fmt.Sprint(tt.stage); got != tt.want {
			t.Errorf("Sprint = %q, want %q", got, tt.want)
		}
	}
	if (stage.Stage{}).Model() != "" {
		t.Error("Model() of a Stage without Config is not empty")
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	s := duoStage()
	cfg := s.Config.(stage.AuthenticatorDuo)
	values := []any{s, &s, cfg, &cfg, []stage.Stage{s}, stage.View{Stage: s}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range values {
			out := fmt.Sprintf(verb, v)
			for _, secret := range []string{clientSecret, adminSecret, fmt.Sprintf("%x", clientSecret), fmt.Sprintf("%x", adminSecret)} {
				if strings.Contains(out, secret) {
					t.Errorf("Sprintf(%q, %T) = %s leaks a secret", verb, v, out)
				}
			}
		}
	}
	if out := fmt.Sprintf("%#v", cfg); !strings.Contains(out, "ClientSecret:[redacted]") || !strings.Contains(out, "AdminSecretKey:[redacted]") {
		t.Errorf("%%#v = %s", out)
	}

	// Nor in validation errors about them, nor in their JSON.
	for _, body := range []string{
		`{"client_secret":"` + clientSecret + `\u0000"}`,
		`{"client_secret":["` + clientSecret + `"],"admin_secret_key":{"k":"` + adminSecret + `"}}`,
	} {
		_, err := stage.ApplyPatch(s, []byte(body))
		ve := testutil.Invalid(t, err)
		if ve == nil {
			t.Fatalf("ApplyPatch(%s) succeeded", body)
		}
		b, _ := json.Marshal(ve)
		for _, out := range []string{err.Error(), string(b), fmt.Sprintf("%+v", err)} {
			if strings.Contains(out, clientSecret) || strings.Contains(out, adminSecret) {
				t.Errorf("error %q shows a secret", out)
			}
		}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), clientSecret) || strings.Contains(string(b), adminSecret) {
		t.Errorf("json.Marshal(config) = %s", b)
	}
}

func TestEncodeDecodeStoredBuiltins(t *testing.T) {
	for _, s := range []stage.Stage{userWriteStage(), invitationStage(), duoStage(), denyStage(),
		{PK: stagePK, Name: "logout", Config: stage.UserLogout{}}, {PK: stagePK, Name: "delete", Config: stage.UserDelete{}},
		{PK: stagePK, Name: "login", Config: stage.DefaultUserLogin()}, {PK: stagePK, Name: "consent", Config: stage.DefaultConsent()},
		{PK: stagePK, Name: "to-flow", Config: stage.Redirect{Mode: stage.RedirectFlow, TargetFlow: &configFlow}},
		{PK: stagePK, Name: "pw", Config: stage.Password{Backends: []stage.PasswordBackend{stage.BackendLDAP}, FailedAttemptsBeforeCancel: -3}},
		{PK: stagePK, Name: "dummy", Config: stage.Dummy{ThrowError: true}},
		{PK: stagePK, Name: "static", Config: stage.AuthenticatorStatic{ConfigureFlow: &configFlow, TokenCount: 1, TokenLength: 0}},
		{PK: stagePK, Name: "totp", Config: stage.AuthenticatorTOTP{Digits: stage.TOTPDigits6}},
		identificationStage(), captchaStage(), emailStage(), webauthnStage(), smsStage(), authEmailStage(), validateStage(), gdtcStage(), mtlsStage(),
		{PK: stagePK, Name: "source", Config: stage.Source{Source: sourcePK, ResumeTimeout: "minutes=10"}},
		{PK: stagePK, Name: "zero", Config: stage.Captcha{}}, {PK: stagePK, Name: "read-only filled in", Config: stage.AuthenticatorWebAuthn{
			DeviceTypeRestrictions: []uuid.UUID{groupPK}, DeviceTypeRestrictionsObj: []stage.WebAuthnDeviceType{{AAGUID: groupPK, Description: "Key"}}}}} {
		b, err := stage.Default.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) {
			t.Fatalf("Encode = %s", b)
		}
		back, err := stage.Default.DecodeStored(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, s) {
			t.Errorf("round trip = %#v\nwant %#v", back, s)
		}
	}
	// Zero values: a nil list is stored as [] and read back empty.
	for _, c := range []stage.Config{stage.Identification{}, stage.AuthenticatorValidate{}, stage.AuthenticatorWebAuthn{}, stage.MutualTLS{}, stage.AuthenticatorEndpointGDTC{}} {
		b, err := stage.Default.Encode(stage.Stage{PK: stagePK, Name: "zero", Config: c})
		if err != nil {
			t.Fatal(err)
		}
		back, err := stage.Default.DecodeStored(b)
		if err != nil {
			t.Fatalf("DecodeStored(%s): %v", b, err)
		}
		if b2, _ := stage.Default.Encode(back); string(b2) != string(b) {
			t.Errorf("round trip of %s = %s", b, b2)
		}
	}
	b, _ := stage.Default.Encode(duoStage())
	if !strings.Contains(string(b), `"client_secret":"`+clientSecret+`"`) {
		t.Errorf("the stored form must keep the secret: %s", b)
	}
	for _, s := range []stage.Stage{captchaStage(), emailStage()} {
		b, _ := stage.Default.Encode(s)
		if !strings.Contains(string(b), `"`+captchaSecret+`"`) && !strings.Contains(string(b), `"`+emailSecret+`"`) {
			t.Errorf("the stored form must keep the secret: %s", b)
		}
	}
	if _, err := stage.Default.Encode(stage.Stage{}); !errors.Is(err, stage.ErrUnknownKind) {
		t.Errorf("Encode(no config) = %v", err)
	}
}

// A name or string field may hold any character the API accepts; the
// stored form must still be JSON that DecodeStored reads back.
func TestEncodeDecodeStoredControlCharacters(t *testing.T) {
	for _, s := range []string{"\x7f", "a\a\vb", "\u0085", "\U000e0001", "\u2028", `<&>"\`} {
		st := duoStage()
		st.Name = s
		d := st.Config.(stage.AuthenticatorDuo)
		d.FriendlyName = &s
		st.Config = d
		b, err := stage.Default.Encode(st)
		if err != nil {
			t.Fatalf("Encode(name %q): %v", s, err)
		}
		if !json.Valid(b) {
			t.Errorf("Encode(name %q) = %s, not JSON", s, b)
			continue
		}
		back, err := stage.Default.DecodeStored(b)
		if err != nil || !reflect.DeepEqual(back, st) {
			t.Errorf("DecodeStored(Encode(name %q)) = %#v, %v", s, back, err)
		}
	}
}

var (
	passwordPK = uuid.MustParse("9e5f6a7b-8c9d-4e0f-9a1b-3c4d5e6f7a8b")
	sourcePK   = uuid.MustParse("af6a7b8c-9d0e-4f1a-8b2c-4d5e6f7a8b9c")
)

// noDefaultsCheck is a check that the created config equals want.
func createdAs(want stage.Config) func(t *testing.T, s stage.Stage) {
	return func(t *testing.T, s stage.Stage) {
		t.Helper()
		if !reflect.DeepEqual(s.Config, want) {
			t.Errorf("Create = %#v\nwant %#v", s.Config, want)
		}
	}
}

func tdBad(v string) string { return v + " is not in the correct format of 'hours=3;minutes=1'." }

func wantNonField(t *testing.T, name string, err error, want string) {
	t.Helper()
	var ve *validate.Error
	if want == "" {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		return
	}
	if !errors.As(err, &ve) || len(ve.NonField) != 1 || ve.NonField[0] != want || len(ve.Fields) != 0 {
		t.Errorf("%s: %v, want the non-field error %q", name, err, want)
	}
}

func TestIdentificationRules(t *testing.T) {
	cur := stage.Stage{PK: stagePK, Name: "id", Config: stage.Identification{UserFields: []stage.UserField{stage.UserFieldEmail}, Sources: []uuid.UUID{}, CaseInsensitiveMatching: true}}
	runRules(t, cur, append(commonRules(`{"user_fields":["email"]}`), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"id","user_fields":["username","email","upn"]}`, check: createdAs(stage.Identification{
			UserFields: []stage.UserField{"username", "email", "upn"}, Sources: []uuid.UUID{}, CaseInsensitiveMatching: true, ShowMatchedUser: true, PretendUserExists: true})},
		{name: "bad user field", op: validate.Patch, body: `{"user_fields":["email","phone"]}`, errs: testutil.One("user_fields.1", validate.InvalidChoice("phone"))},
		{name: "user fields null", op: validate.Patch, body: `{"user_fields":null}`, errs: testutil.One("user_fields", validate.MsgNull)},
		{name: "user fields not a list", op: validate.Patch, body: `{"user_fields":"email"}`, errs: testutil.One("user_fields", validate.NotAList("str"))},
		{name: "sources not uuids", op: validate.Patch, body: `{"sources":["google"]}`, errs: testutil.One("sources", validate.InvalidUUID("google"))},
		{name: "password stage not a uuid", op: validate.Patch, body: `{"password_stage":"pw"}`, errs: testutil.One("password_stage", validate.InvalidUUID("pw"))},
		{name: "captcha stage bool", op: validate.Patch, body: `{"captcha_stage":true}`, errs: testutil.One("captcha_stage", validate.MsgPKBool)},
		{name: "enrollment flow not a uuid", op: validate.Patch, body: `{"enrollment_flow":"enroll"}`, errs: testutil.One("enrollment_flow", validate.InvalidUUID("enroll"))},
		{name: "bools", op: validate.Patch, body: `{"case_insensitive_matching":"maybe","show_matched_user":null}`, errs: map[string][]string{
			"case_insensitive_matching": {validate.MsgBoolean}, "show_matched_user": {validate.MsgNull}}},
		{name: "references and sources", op: validate.Patch, body: `{"password_stage":"` + passwordPK.String() + `","captcha_stage":"","recovery_flow":"` + configFlow.String() +
			`","sources":["` + sourcePK.String() + `"],"enable_remember_me":true,"show_source_labels":"yes","pretend_user_exists":false}`, check: func(t *testing.T, s stage.Stage) {
			c := s.Config.(stage.Identification)
			if c.PasswordStage == nil || *c.PasswordStage != passwordPK || c.CaptchaStage != nil || c.RecoveryFlow == nil || *c.RecoveryFlow != configFlow ||
				!reflect.DeepEqual(c.Sources, []uuid.UUID{sourcePK}) || !c.EnableRememberMe || !c.ShowSourceLabels || c.PretendUserExists {
				t.Errorf("Patch = %#v", c)
			}
		}},
	}...))
	k, _ := stage.Lookup(stage.ModelIdentification)
	refs := k.Schema().RefFields()
	got := map[string]string{}
	for _, r := range refs {
		got[r.Field] = r.Target + " " + string(r.OnDelete) + " " + r.Related
	}
	want := map[string]string{
		"password_stage": "authentik_stages_password.passwordstage set_null ", "captcha_stage": "authentik_stages_captcha.captchastage set_null ",
		"enrollment_flow": "flow set_default +", "recovery_flow": "flow set_default +", "passwordless_flow": "flow set_default +",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("references = %q, want %q", got, want)
	}
}

// A user field or a source is required of the merged object: a create
// without either, and a patch that empties the last one, are refused; a
// patch that leaves one is not, whatever it sends.
func TestIdentificationObjectRule(t *testing.T) {
	_, err := stage.Default.Decode(stage.Stage{Config: stage.DefaultIdentification()}, []byte(`{"name":"id"}`), validate.Create)
	if err != nil {
		t.Fatal(err) // the field rules pass; the object rule is the store's next step
	}
	if validate.CheckObject(stage.DefaultIdentification()) == nil {
		t.Error("the defaults (no user fields, no sources) pass the object rule")
	}
	cur := stage.Stage{PK: stagePK, Name: "id", Config: stage.Identification{UserFields: []stage.UserField{stage.UserFieldEmail}, Sources: []uuid.UUID{sourcePK}}}
	for _, tt := range []struct{ body, want string }{
		{`{"user_fields":[]}`, ""},
		{`{"sources":[]}`, ""},
		{`{"user_fields":[],"sources":[]}`, stage.MsgIdentificationNoFields},
		{`{"show_matched_user":false}`, ""}, // authentik refuses this patch
	} {
		_, err := stage.ApplyPatch(cur, []byte(tt.body))
		wantNonField(t, tt.body, err, tt.want)
	}
	one := cur
	one.Config = stage.Identification{UserFields: []stage.UserField{}, Sources: []uuid.UUID{sourcePK}}
	_, err = stage.ApplyPatch(one, []byte(`{"sources":[]}`))
	wantNonField(t, "last source removed", err, stage.MsgIdentificationNoFields)
}

func TestCaptchaRules(t *testing.T) {
	const required = `"public_key":"pub","private_key":"priv"`
	cur := stage.Stage{PK: stagePK, Name: "captcha", Config: func() stage.Captcha {
		c := stage.DefaultCaptcha()
		c.PublicKey, c.PrivateKey = "pub", validate.NewSecret("captcha-s3cret")
		return c
	}()}
	want := stage.DefaultCaptcha()
	want.PublicKey, want.PrivateKey = "pub", validate.NewSecret("priv")
	runRules(t, cur, append(commonRules(`{`+required+`}`), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"c",` + required + `}`, check: createdAs(want)},
		{name: "create missing", op: validate.Create, body: `{"name":"c"}`, errs: map[string][]string{"public_key": {validate.MsgRequired}, "private_key": {validate.MsgRequired}}},
		{name: "keys blank", op: validate.Patch, body: `{"public_key":" ","private_key":""}`, errs: map[string][]string{"public_key": {validate.MsgBlank}, "private_key": {validate.MsgBlank}}},
		{name: "urls blank", op: validate.Patch, body: `{"js_url":"","api_url":null}`, errs: map[string][]string{"js_url": {validate.MsgBlank}, "api_url": {validate.MsgNull}}},
		{name: "thresholds", op: validate.Patch, body: `{"score_min_threshold":"0.25","score_max_threshold":0.75,"interactive":true,"error_on_invalid_score":false}`, check: func(t *testing.T, s stage.Stage) {
			c := s.Config.(stage.Captcha)
			if c.ScoreMinThreshold != 0.25 || c.ScoreMaxThreshold != 0.75 || !c.Interactive || c.ErrorOnInvalidScore || c.PrivateKey.Reveal() != "captcha-s3cret" {
				t.Errorf("Patch = %#v", c)
			}
		}},
		{name: "threshold not a number", op: validate.Patch, body: `{"score_min_threshold":"high"}`, errs: testutil.One("score_min_threshold", validate.MsgNumber)},
		{name: "threshold a list", op: validate.Patch, body: `{"score_max_threshold":[1]}`, errs: testutil.One("score_max_threshold", validate.MsgNumber)},
		{name: "threshold null", op: validate.Patch, body: `{"score_max_threshold":null}`, errs: testutil.One("score_max_threshold", validate.MsgNull)},
		{name: "threshold infinite", op: validate.Patch, body: `{"score_max_threshold":"inf"}`, errs: testutil.One("score_max_threshold", validate.MsgNumber)},
		{name: "threshold a boolean", op: validate.Patch, body: `{"score_max_threshold":true}`, check: func(t *testing.T, s stage.Stage) {
			if c := s.Config.(stage.Captcha); c.ScoreMaxThreshold != 1 {
				t.Errorf("true = %v", c.ScoreMaxThreshold) // Python's float(True)
			}
		}},
	}...))
}

// smtpRuleCases are the rules of the connection fields that the email
// stage and the email authenticator share.
func smtpRuleCases() []ruleCase {
	return []ruleCase{
		{name: "bad address", op: validate.Patch, body: `{"from_address":"authentik"}`, errs: testutil.One("from_address", validate.MsgEmail)},
		{name: "long bad address", op: validate.Patch, body: `{"from_address":"` + strings.Repeat("a", 330) + `"}`, errs: testutil.One("from_address", validate.MaxLength(254), validate.MsgEmail)},
		{name: "long address", op: validate.Patch, body: `{"from_address":"` + strings.Repeat("a", 250) + `@b.de"}`, errs: testutil.One("from_address", validate.MaxLength(254))},
		{name: "address blank", op: validate.Patch, body: `{"from_address":" "}`, errs: testutil.One("from_address", validate.MsgBlank)},
		{name: "bad expiry", op: validate.Patch, body: `{"token_expiry":"30"}`, errs: testutil.One("token_expiry", tdBad("30"))},
		{name: "host and subject blank", op: validate.Patch, body: `{"host":"","subject":"  "}`, errs: map[string][]string{"host": {validate.MsgBlank}, "subject": {validate.MsgBlank}}},
		{name: "port", op: validate.Patch, body: `{"port":"x","timeout":2147483648}`, errs: map[string][]string{"port": {validate.MsgInteger}, "timeout": {validate.MaxValue(2147483647)}}},
		{name: "username and password blank", op: validate.Patch, body: `{"username":"","password":""}`},
		{name: "address without a dot", op: validate.Patch, body: `{"from_address":"a@b"}`, errs: testutil.One("from_address", validate.MsgEmail)},
	}
}

func TestEmailRules(t *testing.T) {
	cur := stage.Stage{PK: stagePK, Name: "mail", Config: stage.DefaultEmail()}
	runRules(t, cur, append(append(commonRules(`{}`), smtpRuleCases()...), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"mail"}`, check: createdAs(stage.Email{Host: "localhost", Port: 25, Timeout: 10,
			FromAddress: "system@authentik.local", TokenExpiry: "minutes=30", Subject: "authentik", Template: "email/password_reset.html"})},
		{name: "templates", op: validate.Patch, body: `{"template":"email/account_confirmation.html"}`},
		{name: "unknown template", op: validate.Patch, body: `{"template":"foobar"}`, errs: testutil.One("template", "Invalid template 'foobar' specified.")},
		{name: "template blank", op: validate.Patch, body: `{"template":""}`, errs: testutil.One("template", validate.MsgBlank)},
		{name: "connection", op: validate.Patch, body: `{"use_global_settings":true,"host":"smtp.example.com","port":587,"username":"u","password":"mail-s3cret","use_tls":true,"use_ssl":false,"timeout":-1,"from_address":"a@b.de","token_expiry":"hours=1","subject":"Hi","activate_user_on_success":true}`,
			check: func(t *testing.T, s stage.Stage) {
				c := s.Config.(stage.Email)
				if !c.UseGlobalSettings || c.Host != "smtp.example.com" || c.Port != 587 || c.Password.Reveal() != "mail-s3cret" || !c.UseTLS || c.Timeout != -1 ||
					c.FromAddress != "a@b.de" || c.TokenExpiry != "hours=1" || c.Subject != "Hi" || !c.ActivateUserOnSuccess {
					t.Errorf("Patch = %#v", c)
				}
			}},
	}...))
	if len(stage.EmailTemplates) != 4 {
		t.Errorf("EmailTemplates = %v", stage.EmailTemplates)
	}
}

func TestAuthenticatorEmailRules(t *testing.T) {
	cur := stage.Stage{PK: stagePK, Name: "otp-mail", Config: stage.DefaultAuthenticatorEmail()}
	runRules(t, cur, append(append(commonRules(`{}`), smtpRuleCases()...), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"otp-mail"}`, check: createdAs(stage.AuthenticatorEmail{Host: "localhost", Port: 25, Timeout: 10,
			FromAddress: "system@authentik.local", Subject: "authentik Sign-in code", TokenExpiry: "minutes=30", Template: "email/email_otp.html"})},
		{name: "any template", op: validate.Patch, body: `{"template":"custom/otp.html"}`},
		{name: "template blank", op: validate.Patch, body: `{"template":""}`, errs: testutil.One("template", validate.MsgBlank)},
		{name: "friendly name blank", op: validate.Patch, body: `{"friendly_name":""}`, errs: testutil.One("friendly_name", validate.MsgBlank)},
		{name: "configure flow", op: validate.Patch, body: `{"configure_flow":"` + configFlow.String() + `","password":"p","friendly_name":null}`, check: func(t *testing.T, s stage.Stage) {
			if c := s.Config.(stage.AuthenticatorEmail); c.ConfigureFlow == nil || *c.ConfigureFlow != configFlow || c.Password.Reveal() != "p" || c.FriendlyName != nil {
				t.Errorf("Patch = %#v", c)
			}
		}},
	}...))
}

func TestAuthenticatorWebAuthnRules(t *testing.T) {
	cur := stage.Stage{PK: stagePK, Name: "webauthn", Config: stage.DefaultAuthenticatorWebAuthn()}
	runRules(t, cur, append(commonRules(`{}`), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"w"}`, check: createdAs(stage.AuthenticatorWebAuthn{
			UserVerification: "preferred", ResidentKeyRequirement: "preferred", DeviceTypeRestrictions: []uuid.UUID{}, DeviceTypeRestrictionsObj: []stage.WebAuthnDeviceType{}})},
		{name: "bad verification", op: validate.Patch, body: `{"user_verification":"always"}`, errs: testutil.One("user_verification", validate.InvalidChoice("always"))},
		{name: "bad resident key", op: validate.Patch, body: `{"resident_key_requirement":""}`, errs: testutil.One("resident_key_requirement", validate.InvalidChoice(""))},
		{name: "bad attachment", op: validate.Patch, body: `{"authenticator_attachment":"usb"}`, errs: testutil.One("authenticator_attachment", validate.InvalidChoice("usb"))},
		{name: "attachment and restrictions", op: validate.Patch, body: `{"authenticator_attachment":"cross-platform","device_type_restrictions":["` + groupPK.String() + `"],"device_type_restrictions_obj":[{"aaguid":"x"}]}`, check: func(t *testing.T, s stage.Stage) {
			c := s.Config.(stage.AuthenticatorWebAuthn)
			if c.AuthenticatorAttachment == nil || *c.AuthenticatorAttachment != stage.AttachmentCrossPlatform || !reflect.DeepEqual(c.DeviceTypeRestrictions, []uuid.UUID{groupPK}) || len(c.DeviceTypeRestrictionsObj) != 0 {
				t.Errorf("Patch = %#v", c)
			}
		}},
		{name: "attachment null", op: validate.Patch, body: `{"authenticator_attachment":null}`},
		{name: "restrictions not uuids", op: validate.Patch, body: `{"device_type_restrictions":[1.5]}`, errs: testutil.One("device_type_restrictions", validate.InvalidUUID("1.5"))},
		{name: "friendly name blank", op: validate.Patch, body: `{"friendly_name":" "}`, errs: testutil.One("friendly_name", validate.MsgBlank)},
	}...))
}

func TestAuthenticatorSMSRules(t *testing.T) {
	const required = `"provider":"twilio","from_number":"+15550100","account_sid":"AC1","auth":"sms-t0ken"`
	cur := stage.Stage{PK: stagePK, Name: "sms", Config: stage.AuthenticatorSMS{Provider: stage.SMSProviderTwilio, FromNumber: "+1", AccountSID: "AC", Auth: validate.NewSecret("tok"), AuthType: stage.SMSAuthBasic}}
	runRules(t, cur, append(commonRules(`{`+required+`}`), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"sms",` + required + `}`, check: createdAs(stage.AuthenticatorSMS{
			Provider: "twilio", FromNumber: "+15550100", AccountSID: "AC1", Auth: validate.NewSecret("sms-t0ken"), AuthType: "basic"})},
		{name: "create missing", op: validate.Create, body: `{"name":"sms"}`, errs: map[string][]string{
			"provider": {validate.MsgRequired}, "from_number": {validate.MsgRequired}, "account_sid": {validate.MsgRequired}, "auth": {validate.MsgRequired}}},
		{name: "bad provider", op: validate.Patch, body: `{"provider":"aws"}`, errs: testutil.One("provider", validate.InvalidChoice("aws"))},
		{name: "bad auth type", op: validate.Patch, body: `{"auth_type":"digest"}`, errs: testutil.One("auth_type", validate.InvalidChoice("digest"))},
		{name: "blanks", op: validate.Patch, body: `{"from_number":"","account_sid":" ","auth":""}`, errs: map[string][]string{
			"from_number": {validate.MsgBlank}, "account_sid": {validate.MsgBlank}, "auth": {validate.MsgBlank}}},
		{name: "generic", op: validate.Patch, body: `{"provider":"generic","auth_type":"bearer","auth_password":"","verify_only":true,"mapping":"` + groupPK.String() + `"}`, check: func(t *testing.T, s stage.Stage) {
			c := s.Config.(stage.AuthenticatorSMS)
			if c.Provider != stage.SMSProviderGeneric || c.AuthType != stage.SMSAuthBearer || !c.VerifyOnly || c.Mapping == nil || *c.Mapping != groupPK || c.Auth.Reveal() != "tok" {
				t.Errorf("Patch = %#v", c)
			}
		}},
		{name: "mapping not a uuid", op: validate.Patch, body: `{"mapping":"m"}`, errs: testutil.One("mapping", validate.InvalidUUID("m"))},
	}...))
}

func TestAuthenticatorValidateRules(t *testing.T) {
	totpPK := passwordPK
	cur := stage.Stage{PK: stagePK, Name: "mfa", Config: stage.DefaultAuthenticatorValidate()}
	runRules(t, cur, append(commonRules(`{}`), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"mfa"}`, check: createdAs(stage.AuthenticatorValidate{NotConfiguredAction: "skip",
			DeviceClasses: []stage.DeviceClass{"static", "totp", "webauthn", "duo", "sms", "email"}, ConfigurationStages: []uuid.UUID{},
			LastAuthThreshold: "seconds=0", WebAuthnUserVerification: "preferred", WebAuthnAllowedDeviceTypes: []uuid.UUID{},
			WebAuthnAllowedDeviceTypesObj: []stage.WebAuthnDeviceType{}})},
		{name: "device classes empty", op: validate.Patch, body: `{"device_classes":[]}`, errs: testutil.One("device_classes", validate.MsgEmptyList)},
		{name: "bad device class", op: validate.Patch, body: `{"device_classes":["totp","u2f"]}`, errs: testutil.One("device_classes.1", validate.InvalidChoice("u2f"))},
		{name: "bad action", op: validate.Patch, body: `{"not_configured_action":"ask"}`, errs: testutil.One("not_configured_action", validate.InvalidChoice("ask"))},
		{name: "bad threshold", op: validate.Patch, body: `{"last_auth_threshold":"days"}`, errs: testutil.One("last_auth_threshold", tdBad("days"))},
		{name: "bad verification", op: validate.Patch, body: `{"webauthn_user_verification":"never"}`, errs: testutil.One("webauthn_user_verification", validate.InvalidChoice("never"))},
		{name: "configuration stages not uuids", op: validate.Patch, body: `{"configuration_stages":[true]}`, errs: testutil.One("configuration_stages", validate.MsgPKBool)},
		{name: "configure", op: validate.Patch, body: `{"not_configured_action":"configure","configuration_stages":["` + totpPK.String() + `"],"webauthn_allowed_device_types":["` + groupPK.String() + `"]}`, check: func(t *testing.T, s stage.Stage) {
			c := s.Config.(stage.AuthenticatorValidate)
			if c.NotConfiguredAction != stage.NotConfiguredConfigure || !reflect.DeepEqual(c.ConfigurationStages, []uuid.UUID{totpPK}) || !reflect.DeepEqual(c.WebAuthnAllowedDeviceTypes, []uuid.UUID{groupPK}) {
				t.Errorf("Patch = %#v", c)
			}
		}},
	}...))
	k, _ := stage.Lookup(stage.ModelAuthenticatorValidate)
	if refs := k.Schema().RefFields(); len(refs) != 1 || refs[0].Field != "configuration_stages" || refs[0].Target != "stage" || !refs[0].Many ||
		refs[0].OnDelete != validate.CascadeMany || refs[0].Related != "+" {
		t.Errorf("references = %+v", refs)
	}
}

// "configure" needs a configuration stage in the merged object: an error
// on not_configured_action, whichever key the patch sends.
func TestAuthenticatorValidateObjectRule(t *testing.T) {
	withStage := stage.DefaultAuthenticatorValidate()
	withStage.ConfigurationStages = []uuid.UUID{passwordPK}
	for _, tt := range []struct {
		cur  stage.AuthenticatorValidate
		body string
		bad  bool
	}{
		{stage.DefaultAuthenticatorValidate(), `{"not_configured_action":"configure"}`, true},
		{stage.DefaultAuthenticatorValidate(), `{"not_configured_action":"deny"}`, false},
		{withStage, `{"not_configured_action":"configure"}`, false}, // authentik refuses this patch
		{withStage, `{"configuration_stages":[]}`, false},
		{func() stage.AuthenticatorValidate {
			c := withStage
			c.NotConfiguredAction = stage.NotConfiguredConfigure
			return c
		}(), `{"configuration_stages":[]}`, true},
	} {
		_, err := stage.ApplyPatch(stage.Stage{PK: stagePK, Name: "mfa", Config: tt.cur}, []byte(tt.body))
		var want map[string][]string
		if tt.bad {
			want = testutil.One("not_configured_action", stage.MsgValidateNoConfigurationStage)
		}
		testutil.WantFields(t, tt.body, err, want)
	}
}

func TestAuthenticatorEndpointGDTCRules(t *testing.T) {
	cur := stage.Stage{PK: stagePK, Name: "gdtc", Config: stage.AuthenticatorEndpointGDTC{Credentials: json.RawMessage(`{"type":"service_account","key":"k"}`)}}
	runRules(t, cur, append(commonRules(`{"credentials":{}}`), []ruleCase{
		{name: "credentials required", op: validate.Create, body: `{"name":"g"}`, errs: testutil.One("credentials", validate.MsgRequired)},
		{name: "credentials null", op: validate.Patch, body: `{"credentials":null}`, errs: testutil.One("credentials", validate.MsgNull)},
		{name: "credentials any JSON", op: validate.Create, body: `{"name":"g","credentials":"a string"}`, check: createdAs(stage.AuthenticatorEndpointGDTC{Credentials: json.RawMessage(`"a string"`)})},
		{name: "credentials merged", op: validate.Patch, body: `{"credentials":{"key":null,"project":"p"}}`, check: func(t *testing.T, s stage.Stage) {
			if got := string(s.Config.(stage.AuthenticatorEndpointGDTC).Credentials); got != `{"project":"p","type":"service_account"}` {
				t.Errorf("Credentials = %s", got)
			}
		}},
		{name: "friendly name blank", op: validate.Patch, body: `{"friendly_name":""}`, errs: testutil.One("friendly_name", validate.MsgBlank)},
	}...))
}

func TestSourceRules(t *testing.T) {
	cur := stage.Stage{PK: stagePK, Name: "src", Config: stage.Source{Source: sourcePK, ResumeTimeout: "minutes=10"}}
	runRules(t, cur, append(commonRules(`{"source":"`+sourcePK.String()+`"}`), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"src","source":"` + sourcePK.String() + `"}`, check: createdAs(stage.Source{Source: sourcePK, ResumeTimeout: "minutes=10"})},
		{name: "source required", op: validate.Create, body: `{"name":"src"}`, errs: testutil.One("source", validate.MsgRequired)},
		{name: "source null", op: validate.Patch, body: `{"source":null}`, errs: testutil.One("source", validate.MsgNull)},
		{name: "source empty is null", op: validate.Patch, body: `{"source":""}`, errs: testutil.One("source", validate.MsgNull)},
		{name: "source not a uuid", op: validate.Patch, body: `{"source":"google"}`, errs: testutil.One("source", validate.InvalidUUID("google"))},
		{name: "bad timeout", op: validate.Patch, body: `{"resume_timeout":"10"}`, errs: testutil.One("resume_timeout", tdBad("10"))},
	}...))
}

func TestMutualTLSRules(t *testing.T) {
	const required = `"mode":"required","cert_attribute":"common_name","user_attribute":"username"`
	cur := stage.Stage{PK: stagePK, Name: "mtls", Config: stage.MutualTLS{Mode: stage.MutualTLSOptional, CertificateAuthorities: []uuid.UUID{}, CertAttribute: stage.CertAttributeEmail, UserAttribute: stage.UserAttributeEmail}}
	runRules(t, cur, append(commonRules(`{`+required+`}`), []ruleCase{
		{name: "create defaults", op: validate.Create, body: `{"name":"m",` + required + `}`, check: createdAs(stage.MutualTLS{Mode: "required", CertificateAuthorities: []uuid.UUID{}, CertAttribute: "common_name", UserAttribute: "username"})},
		{name: "create missing", op: validate.Create, body: `{"name":"m"}`, errs: map[string][]string{"mode": {validate.MsgRequired}, "cert_attribute": {validate.MsgRequired}, "user_attribute": {validate.MsgRequired}}},
		{name: "bad choices", op: validate.Patch, body: `{"mode":"sometimes","cert_attribute":"issuer","user_attribute":"upn"}`, errs: map[string][]string{
			"mode": {validate.InvalidChoice("sometimes")}, "cert_attribute": {validate.InvalidChoice("issuer")}, "user_attribute": {validate.InvalidChoice("upn")}}},
		{name: "authorities", op: validate.Patch, body: `{"certificate_authorities":["` + groupPK.String() + `"]}`, check: func(t *testing.T, s stage.Stage) {
			if c := s.Config.(stage.MutualTLS); !reflect.DeepEqual(c.CertificateAuthorities, []uuid.UUID{groupPK}) {
				t.Errorf("Patch = %#v", c)
			}
		}},
		{name: "authorities null", op: validate.Patch, body: `{"certificate_authorities":null}`, errs: testutil.One("certificate_authorities", validate.MsgNull)},
	}...))
}

const (
	captchaSecret = "captcha-priv-s3cret"
	emailSecret   = "smtp-s3cret"
)

func identificationStage() stage.Stage {
	c := stage.DefaultIdentification()
	c.UserFields = []stage.UserField{stage.UserFieldEmail, stage.UserFieldUsername}
	c.PasswordStage, c.EnrollmentFlow = &passwordPK, &configFlow
	c.Sources = []uuid.UUID{sourcePK}
	return stage.Stage{PK: stagePK, Name: "default-authentication-identification", Config: c}
}

func captchaStage() stage.Stage {
	c := stage.DefaultCaptcha()
	c.PublicKey, c.PrivateKey, c.ScoreMinThreshold = "6LeIxAcT", validate.NewSecret(captchaSecret), 0.3
	return stage.Stage{PK: stagePK, Name: "captcha", Config: c}
}

func emailStage() stage.Stage {
	c := stage.DefaultEmail()
	c.Username, c.Password, c.UseTLS = "mailer", validate.NewSecret(emailSecret), true
	return stage.Stage{PK: stagePK, Name: "recovery-email", Config: c}
}

func webauthnStage() stage.Stage {
	c := stage.DefaultAuthenticatorWebAuthn()
	attach := stage.AttachmentPlatform
	c.ConfigureFlow, c.AuthenticatorAttachment, c.DeviceTypeRestrictions = &configFlow, &attach, []uuid.UUID{groupPK}
	return stage.Stage{PK: stagePK, Name: "webauthn", Config: c}
}

func smsStage() stage.Stage {
	name := "SMS"
	return stage.Stage{PK: stagePK, Name: "sms", Config: stage.AuthenticatorSMS{FriendlyName: &name, Provider: stage.SMSProviderGeneric, FromNumber: "+15550100",
		AccountSID: "https://sms.example.com/send", Auth: validate.NewSecret("sms-user"), AuthPassword: validate.NewSecret("sms-pass"), AuthType: stage.SMSAuthBasic, Mapping: &groupPK}}
}

func authEmailStage() stage.Stage {
	c := stage.DefaultAuthenticatorEmail()
	c.Password = validate.NewSecret("otp-mail-pass")
	return stage.Stage{PK: stagePK, Name: "email-otp", Config: c}
}

func validateStage() stage.Stage {
	c := stage.DefaultAuthenticatorValidate()
	c.NotConfiguredAction, c.ConfigurationStages = stage.NotConfiguredConfigure, []uuid.UUID{passwordPK}
	return stage.Stage{PK: stagePK, Name: "mfa", Config: c}
}

func gdtcStage() stage.Stage {
	return stage.Stage{PK: stagePK, Name: "gdtc", Config: stage.AuthenticatorEndpointGDTC{Credentials: json.RawMessage(`{"type":"service_account"}`)}}
}

func mtlsStage() stage.Stage {
	return stage.Stage{PK: stagePK, Name: "mtls", Config: stage.MutualTLS{Mode: stage.MutualTLSOptional, CertificateAuthorities: []uuid.UUID{groupPK},
		CertAttribute: stage.CertAttributeCommonName, UserAttribute: stage.UserAttributeUsername}}
}

// Invitations: the name is a slug of at most 50 characters, the expiry
// reads as DRF reads it and is kept in UTC, fixed_data is an object merged
// by a patch, and created_by cannot be written.
func TestInviteRules(t *testing.T) {
	_, err := stage.DecodeInvite(stage.DefaultInvite(), []byte(`{"name":"`+strings.Repeat("a", 51)+`","expires":"","fixed_data":"x"}`), validate.Create)
	testutil.WantFields(t, "create", err, map[string][]string{
		"name": {validate.MaxLength(50)}, "expires": {validate.MsgDateTime}, "fixed_data": {validate.MsgJSONDict},
	})
	cur := stage.DefaultInvite()
	cur.PK, cur.CreatedBy = stagePK, stage.Member{Username: "akadmin"}
	i, err := stage.DecodeInvite(cur, []byte(`{"name":"a-b_1","expires":"2030-06-01T12:00:00-02:00","fixed_data":{"a":{"b":1}},"created_by":{"username":"x"},"flow_obj":{}}`), validate.Replace)
	if err != nil || *i.Expires != "2030-06-01T14:00:00Z" || i.CreatedBy.Username != "akadmin" || i.PK != stagePK {
		t.Fatalf("DecodeInvite = %#v, %v", i, err)
	}
	i, err = stage.DecodeInvite(i, []byte(`{"fixed_data":{"a":{"c":2}},"expires":null}`), validate.Patch)
	if b, _ := json.Marshal(i.FixedData); err != nil || string(b) != `{"a":{"b":1,"c":2}}` || i.Expires != nil {
		t.Errorf("patch = %s, %v, %v", b, i.Expires, err)
	}
	if s := i.String(); s != "Invitation 5a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d created by akadmin" {
		t.Errorf("str = %q", s)
	}
	b, err := json.Marshal(stage.InviteView{Invite: i})
	if err != nil {
		t.Fatal(err)
	}
	if k := testutil.Keys(t, b); !reflect.DeepEqual(k, []string{"pk", "name", "expires", "fixed_data", "created_by", "single_use", "flow", "flow_obj"}) {
		t.Errorf("keys = %q", k)
	}
}

// The representations of a prompt and an invitation, byte for byte.
func TestObjectViewJSON(t *testing.T) {
	p := stage.DefaultPrompt()
	p.PK, p.Name, p.FieldKey, p.Label, p.Type, p.Order = promptPK, "default-enrollment-field-username", "username", "Username", "username", 100
	k, _ := stage.Lookup(stage.ModelPromptStage)
	got, err := json.Marshal(stage.PromptView{Prompt: p, Stages: []stage.Summary{{View: stage.View{Stage: promptStage(), Kind: k}}}})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, filepath.Join("testdata", "prompt.json"), got)

	i := stage.DefaultInvite()
	exp := "2030-01-02T03:04:05Z"
	i.PK, i.Name, i.Expires, i.FixedData, i.CreatedBy, i.Flow = stagePK, "team-a", &exp, map[string]any{"email": "a@example.com"}, stage.Anonymous, &configFlow
	got, err = json.Marshal(stage.InviteView{Invite: i, FlowObj: &flow.View{Flow: flowSet()[0].Flow, Stages: []uuid.UUID{}, Policies: []uuid.UUID{}}})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, filepath.Join("testdata", "invite.json"), got)
}
