package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

const (
	staticModel = "authentik_stages_authenticator_static.authenticatorstaticstage"
	totpModel   = "authentik_stages_authenticator_totp.authenticatortotpstage"
)

// mfaFlow is flow f (designation) with an identification stage (email)
// and then an authenticator_validate stage "mfa" with attrs.
func mfaFlow(designation, attrs string, extra ...string) string {
	return identFlow(designation, "", append(extra, stageEntry("authentik_stages_authenticator_validate.authenticatorvalidatestage", "f", "mfa", 10, attrs, ""))...)
}

// unbound is a stage entry bound to no flow.
func unbound(model, name, attrs string) string {
	s := "- model: " + model + "\n  id: " + name + "\n  identifiers: {name: " + name + "}\n"
	if attrs != "" {
		s += "  attrs: {" + attrs + "}\n"
	}
	return s
}

// namedDummy shows ak-stage-dummy with the stage's name, for the setup
// stages authflow cannot run yet: it tells which stage was reached.
type namedDummy struct{}

func (namedDummy) Challenge(_ context.Context, s *Step) (Result, error) {
	return Show(&DummyChallenge{Envelope: s.Envelope(ComponentDummy), Name: s.Stage.Name}), nil
}
func (namedDummy) Respond(context.Context, *Step, json.RawMessage) (Result, error) {
	return Pass(), nil
}

// identify answers the identification stage of f with alice's email.
func (h *harness) identify(t *testing.T) {
	t.Helper()
	h.get("f", "").want(t, ComponentIdentification)
	h.post("f", "", postJSON(map[string]any{"uid_field": "alice@example.com"})).wantReload(t, h.url("f", ""))
}

// A user without devices: skip passes the stage, deny ends the flow with
// authentik's message.
func TestAuthValidateNotConfigured(t *testing.T) {
	t.Run("skip", func(t *testing.T) {
		h := newHarness(t, mfaFlow("authentication", "not_configured_action: skip"))
		h.userWith("alice", "alice@example.com", nil, true)
		h.identify(t)
		h.get("f", "").want(t, ComponentRedirect, "to", "/")
	})
	t.Run("deny", func(t *testing.T) {
		h := newHarness(t, mfaFlow("authentication", "not_configured_action: deny"))
		h.userWith("alice", "alice@example.com", nil, true)
		h.identify(t)
		h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoMFAConfigured, "pending_user", "alice")
	})
	t.Run("deny, stand-in user", func(t *testing.T) {
		// pretend_user_exists: the unknown identifier's stand-in has no
		// devices either.
		h := newHarness(t, identFlow("authentication", ", pretend_user_exists: true",
			stageEntry("authentik_stages_authenticator_validate.authenticatorvalidatestage", "f", "mfa", 10, "not_configured_action: deny", "")))
		h.get("f", "")
		h.post("f", "", postJSON(map[string]any{"uid_field": "nobody@example.com"})).wantReload(t, h.url("f", ""))
		h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoMFAConfigured)
	})
}

// Without a user: a flow that is not an authentication flow passes; an
// authentication flow passes unless WebAuthn is allowed, where
// authentik offers passwordless WebAuthn, which without a WebAuthn
// relying party (Options.WebAuthn) is a configuration_error and access
// denied (TestAuthValidatePasswordless has one).
func TestAuthValidateNoUser(t *testing.T) {
	for _, c := range []struct {
		designation, classes string
		denied               bool
	}{
		{"enrollment", "[webauthn]", false},
		{"authentication", "[totp, static]", false},
		{"authentication", "[webauthn]", true},
	} {
		t.Run(c.designation+c.classes, func(t *testing.T) {
			h := newHarness(t, designatedDoc("g", c.designation, stageEntry("authentik_stages_authenticator_validate.authenticatorvalidatestage", "g", "mfa", 0,
				"not_configured_action: deny, device_classes: "+c.classes, "")))
			r := h.get("g", "")
			if c.denied {
				r.want(t, ComponentAccessDenied, "error_message", MsgNoWebAuthn)
				if len(h.events) != 1 || h.events[0].Action != EventConfigurationError {
					t.Errorf("events %+v", h.events)
				}
				return
			}
			r.want(t, ComponentRedirect, "to", "/")
		})
	}
}

// designatedDoc is a blueprint of flow slug of the designation with the
// given extra entries.
func designatedDoc(slug, designation string, entries ...string) string {
	return "version: 1\nentries:\n- model: authentik_flows.flow\n  id: " + slug + "\n  identifiers: {slug: " + slug +
		"}\n  attrs: {name: " + slug + ", title: Welcome " + slug + ", designation: " + designation + "}\n" + strings.Join(entries, "")
}

// fakeDevices gives every user the devices listed.
type fakeDevices struct {
	directory.Devices
	devs []directory.Device
}

func (f fakeDevices) UserDevices(context.Context, int64) ([]directory.Device, error) {
	return f.devs, nil
}

// Only confirmed devices of the stage's classes are offered: an
// unconfirmed device, or one of another class, counts as none.
func TestAuthValidateDevicesSeam(t *testing.T) {
	for _, c := range []struct {
		dev  directory.Device
		want string
	}{
		{directory.Device{Class: stage.DeviceTOTP, PK: 1, Confirmed: true, TOTP: &directory.TOTPDevice{}}, ComponentAuthenticatorValidate},
		{directory.Device{Class: stage.DeviceTOTP, PK: 1, TOTP: &directory.TOTPDevice{}}, ComponentRedirect},
		{directory.Device{Class: stage.DeviceSMS, PK: 1, Confirmed: true, SMS: &directory.SMSDevice{}}, ComponentRedirect},
	} {
		h := newHarness(t, mfaFlow("authentication", "not_configured_action: skip, device_classes: [totp, static, webauthn, duo]"),
			func(o *Options) { o.Devices = fakeDevices{devs: []directory.Device{c.dev}} })
		h.userWith("alice", "alice@example.com", nil, true)
		h.identify(t)
		h.get("f", "").want(t, c.want)
	}
}

// configure with one configuration stage inserts it after this one
// (authentik's test_not_configured_action).
func TestAuthValidateConfigureOne(t *testing.T) {
	h := newHarness(t, mfaFlow("authentication", "not_configured_action: configure, configuration_stages: [!KeyOf setup]",
		unbound(staticModel, "setup", "")), withHandler(staticModel, namedDummy{}))
	h.userWith("alice", "alice@example.com", nil, true)
	h.identify(t)
	h.get("f", "").wantReload(t, h.url("f", ""))
	if got := strings.Join(stageNames(h.execution("f")), " "); got != "setup" {
		t.Errorf("stages left %q, want setup", got)
	}
	h.get("f", "").want(t, ComponentDummy, "name", "setup")
	h.post("f", "", `{}`).want(t, ComponentRedirect, "to", "/")
}

// configure with several configuration stages asks which
// (test_not_configured_action_multiple), and checks the answer.
func TestAuthValidateConfigureSeveral(t *testing.T) {
	h := newHarness(t, mfaFlow("authentication", "not_configured_action: configure, configuration_stages: [!KeyOf setup1, !KeyOf setup2]",
		unbound(staticModel, "setup1", "friendly_name: Backup codes"), unbound(totpModel, "setup2", "digits: 6")),
		withHandler(staticModel, namedDummy{}), withHandler(totpModel, namedDummy{}))
	h.userWith("alice", "alice@example.com", nil, true)
	h.identify(t)
	r := h.get("f", "")
	r.want(t, ComponentAuthenticatorValidate, "device_challenges", "[]", "pending_user", "alice")
	var pks []string
	var listed []string
	for _, x := range r.body["configuration_stages"].([]any) {
		m := x.(map[string]any)
		pks = append(pks, m["pk"].(string))
		listed = append(listed, fmt.Sprintf("%v|%v|%v", m["name"], m["verbose_name"], m["meta_model_name"]))
	}
	if want := "Backup codes|Static Authenticator|" + staticModel + " setup2|TOTP Authenticator|" + totpModel; strings.Join(listed, " ") != want {
		t.Errorf("configuration_stages %v, want %s", listed, want)
	}

	errsOf := func(body string) map[string]any {
		t.Helper()
		r := h.post("f", "", body)
		r.want(t, ComponentAuthenticatorValidate)
		m, _ := r.body["response_errors"].(map[string]any)
		return m
	}
	detail := func(msg string) []any { return []any{map[string]any{"string": msg, "code": "invalid"}} }
	for _, c := range []struct {
		body string
		want map[string]any
	}{
		{`{}`, map[string]any{"non_field_errors": detail(MsgEmptyResponse)}},
		{`{"selected_stage": "` + h.e.now().String() + `"}`, map[string]any{"selected_stage": detail(MsgSelectedStageInvalid)}},
		{`{"selected_challenge": {"device_class": "baz", "device_uid": "quox", "challenge": {}, "last_used": null}}`,
			map[string]any{"selected_challenge": detail(MsgInvalidChallengeSelected)}},
		{`{"code": "123456"}`, map[string]any{"code": detail(MsgNoCompatibleDeviceClass)}},
		{`{"webauthn": {}, "duo": 1}`, map[string]any{"webauthn": detail(MsgNoCompatibleDeviceClass), "duo": detail(MsgNoCompatibleDeviceClass)}},
		{`{"duo": "x"}`, map[string]any{"duo": detail("A valid integer is required.")}},
	} {
		got := errsOf(c.body)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: response_errors %v, want %v", c.body, got, c.want)
		}
	}
	// The second stage chosen: it runs next, though the response has no
	// code (authentik answers ok despite "Empty response").
	h.post("f", "", `{"component": "ak-stage-authenticator-validate", "selected_stage": "`+pks[1]+`"}`).wantReload(t, h.url("f", ""))
	h.get("f", "").want(t, ComponentDummy, "name", "setup2")
}

// configure whose configuration stages were all deleted: a
// configuration_error event and "Unknown error".
func TestAuthValidateConfigureNone(t *testing.T) {
	h := newHarness(t, mfaFlow("authentication", "not_configured_action: configure, configuration_stages: [!KeyOf setup]",
		unbound(staticModel, "setup", "")))
	h.userWith("alice", "alice@example.com", nil, true)
	err := h.s.Update(context.Background(), func(tx *store.Tx) error {
		return store.Stages.Delete(tx, store.By("name", "setup"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.identify(t)
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgUnknownError)
	if len(h.events) != 1 || h.events[0].Action != EventConfigurationError || h.events[0].Message != MsgNoConfigurationStage {
		t.Errorf("events %+v", h.events)
	}
}
