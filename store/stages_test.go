package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// TestStageCRUD runs create (typed and JSON), get, patch, replace and
// delete for every built-in kind.
func TestStageCRUD(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	group := newGroup(t, s, "new users")
	tests := []struct {
		model     stage.ModelName
		typed     stage.Config
		body      string // JSON create body, without the name
		component string
		verbose   string
		patch     string
		check     func(t *testing.T, c stage.Config) // after the patch
		put       string                             // without the name
	}{
		{
			model: stage.ModelUserWrite, typed: stage.DefaultUserWrite(),
			body:      `"user_creation_mode":"always_create","user_type":"internal","user_path_template":"users/%(slug)s"`,
			component: "ak-stage-user-write-form", verbose: "User Write Stage",
			patch: `{"create_users_as_inactive":true,"create_users_group":"` + group.String() + `"}`,
			check: func(t *testing.T, c stage.Config) {
				uw := c.(stage.UserWrite)
				if !uw.CreateUsersAsInactive || uw.CreateUsersGroup == nil || *uw.CreateUsersGroup != group || uw.UserType != stage.UserTypeInternal {
					t.Errorf("patched user write: %+v", uw)
				}
			},
			put: `"user_type":"external"`,
		},
		{
			model: stage.ModelInvitation, typed: stage.Invitation{},
			body:      `"continue_flow_without_invitation":"true"`,
			component: "ak-stage-invitation-form", verbose: "Invitation Stage",
			patch: `{"continue_flow_without_invitation":false}`,
			check: func(t *testing.T, c stage.Config) {
				if c.(stage.Invitation).ContinueFlowWithoutInvitation {
					t.Error("patch did not clear continue_flow_without_invitation")
				}
			},
			put: `"continue_flow_without_invitation":1`,
		},
		{
			model:     stage.ModelAuthenticatorDuo,
			typed:     stage.AuthenticatorDuo{ClientID: "id", ClientSecret: validate.NewSecret(duoSecret), APIHostname: "api.example.com"},
			body:      `"client_id":"cid","client_secret":"` + duoSecret + `","api_hostname":"api.example.com","configure_flow":"` + f.PK.String() + `"`,
			component: "ak-stage-authenticator-duo-form", verbose: "Duo Authenticator Setup Stage",
			patch: `{"friendly_name":"My Duo","configure_flow":null}`,
			check: func(t *testing.T, c stage.Config) {
				d := c.(stage.AuthenticatorDuo)
				if d.FriendlyName == nil || *d.FriendlyName != "My Duo" || d.ConfigureFlow != nil || d.ClientID != "cid" {
					t.Errorf("patched duo: %+v", d)
				}
			},
			put: `"client_id":"cid2","client_secret":"other","api_hostname":"api2.example.com"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.model.Model(), func(t *testing.T) {
			name := tt.model.Model()
			typed, err := createIn(ctx, s, store.Stages, stage.Stage{Name: name + "-typed", Config: tt.typed})
			if err != nil {
				t.Fatalf("typed create: %v", err)
			}
			if typed.Model() != tt.model || typed.PK == uuid.Nil {
				t.Errorf("typed create: model %s pk %s", typed.Model(), typed.PK)
			}
			v, err := createJSONIn(ctx, s, store.Stages.Kind(string(tt.model)), []byte(`{"name":"`+name+`",`+tt.body+`}`))
			if err != nil {
				t.Fatalf("JSON create: %v", err)
			}
			m := jsonMap(t, v)
			for k, want := range map[string]any{"pk": v.PK.String(), "name": name, "component": tt.component,
				"verbose_name": tt.verbose, "verbose_name_plural": tt.verbose + "s", "meta_model_name": string(tt.model)} {
				if m[k] != want {
					t.Errorf("%s = %v, want %v", k, m[k], want)
				}
			}
			if fs, ok := m["flow_set"].([]any); !ok || len(fs) != 0 {
				t.Errorf("flow_set = %v, want []", m["flow_set"])
			}
			got, err := viewIn(ctx, s, store.Stages, store.PK(v.PK))
			if err != nil {
				t.Fatal(err)
			}
			if jsonOf(t, got) != jsonOf(t, v) {
				t.Errorf("GetStage = %s\ncreate gave %s", jsonOf(t, got), jsonOf(t, v))
			}

			p, err := patchIn(ctx, s, store.Stages, store.PK(v.PK), []byte(tt.patch))
			if err != nil {
				t.Fatalf("patch: %v", err)
			}
			tt.check(t, p.Config)
			got, _ = viewIn(ctx, s, store.Stages, store.PK(v.PK))
			tt.check(t, got.Config)

			r, err := replaceIn(ctx, s, store.Stages, store.PK(v.PK), []byte(`{"name":"`+name+`-renamed",`+tt.put+`}`))
			if err != nil {
				t.Fatalf("replace: %v", err)
			}
			if r.Name != name+"-renamed" || r.PK != v.PK {
				t.Errorf("replace: name %q pk %s", r.Name, r.PK)
			}

			if err := deleteIn(ctx, s, store.Stages, store.PK(v.PK)); err != nil {
				t.Fatal(err)
			}
			_, err = viewIn(ctx, s, store.Stages, store.PK(v.PK))
			wantNotFound(t, err)
			wantNotFound(t, deleteIn(ctx, s, store.Stages, store.PK(v.PK)))
			_, err = patchIn(ctx, s, store.Stages, store.PK(v.PK), []byte(`{}`))
			wantNotFound(t, err)
			_, err = replaceIn(ctx, s, store.Stages, store.PK(v.PK), []byte(`{}`))
			wantNotFound(t, err)
			// The deleted stage's name is free.
			if _, err := createJSONIn(ctx, s, store.Stages.Kind(string(tt.model)), []byte(`{"name":"`+name+`-renamed",`+tt.body+`}`)); err != nil {
				t.Errorf("name of the deleted stage: %v", err)
			}
		})
	}
}

func TestCreateStageRejected(t *testing.T) {
	s := newTestStore(t)
	missing := storetest.MissingPK(0)
	tests := []struct {
		name     string
		model    stage.ModelName
		body     string
		fields   map[string][]string
		nonField []string
	}{
		{"duo empty", stage.ModelAuthenticatorDuo, `{}`, map[string][]string{
			"name": {validate.MsgRequired}, "client_id": {validate.MsgRequired},
			"client_secret": {validate.MsgRequired}, "api_hostname": {validate.MsgRequired}}, nil},
		{"duo missing flow and field errors together", stage.ModelAuthenticatorDuo,
			`{"name":"d","client_secret":"x","api_hostname":"h","configure_flow":"` + missing.String() + `"}`,
			map[string][]string{"client_id": {validate.MsgRequired}, "configure_flow": {validate.DoesNotExist(missing.String())}}, nil},
		{"duo bad values", stage.ModelAuthenticatorDuo,
			`{"name":"d","client_id":"  ","client_secret":"","api_hostname":true,"friendly_name":"","configure_flow":"nope"}`,
			map[string][]string{"client_id": {validate.MsgBlank}, "client_secret": {validate.MsgBlank},
				"api_hostname": {validate.MsgNotString}, "friendly_name": {validate.MsgBlank},
				"configure_flow": {validate.InvalidUUID("nope")}}, nil},
		{"duo configure_flow bool", stage.ModelAuthenticatorDuo,
			`{"name":"d","client_id":"c","client_secret":"x","api_hostname":"h","configure_flow":true}`,
			map[string][]string{"configure_flow": {validate.MsgPKBool}}, nil},
		{"duo null required", stage.ModelAuthenticatorDuo,
			`{"name":null,"client_id":null,"client_secret":null,"api_hostname":"h"}`,
			map[string][]string{"name": {validate.MsgNull}, "client_id": {validate.MsgNull}, "client_secret": {validate.MsgNull}}, nil},
		{"user write bad choices", stage.ModelUserWrite, `{"name":"u","user_type":"robot","user_creation_mode":""}`,
			map[string][]string{"user_type": {validate.InvalidChoice("robot")}, "user_creation_mode": {validate.InvalidChoice("")}}, nil},
		{"invitation bad bool and unknown key", stage.ModelInvitation, `{"name":"i","continue_flow_without_invitation":"perhaps","x":1}`,
			map[string][]string{"continue_flow_without_invitation": {validate.MsgBoolean}, "x": {validate.MsgUnknownField}}, nil},
		{"blank name", stage.ModelInvitation, `{"name":"   "}`, map[string][]string{"name": {validate.MsgBlank}}, nil},
		{"list body", stage.ModelInvitation, `[]`, nil, []string{"Invalid data. Expected a dictionary, but got list."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wantUnchanged(t, s, func() error {
				_, err := createJSONIn(t.Context(), s, store.Stages.Kind(string(tt.model)), []byte(tt.body))
				return err
			})
			testutil.WantInvalid(t, err, tt.fields, tt.nonField...)
		})
	}
	t.Run("typed duo without secret", func(t *testing.T) {
		err := wantUnchanged(t, s, func() error {
			_, err := createIn(t.Context(), s, store.Stages, stage.Stage{Name: "d", Config: stage.AuthenticatorDuo{ClientID: "c", APIHostname: "h"}})
			return err
		})
		testutil.WantInvalid(t, err, map[string][]string{"client_secret": {validate.MsgBlank}})
	})
	t.Run("typed without config", func(t *testing.T) {
		err := wantUnchanged(t, s, func() error {
			_, err := createIn(t.Context(), s, store.Stages, stage.Stage{Name: "x"})
			return err
		})
		testutil.WantInvalid(t, err, map[string][]string{"meta_model_name": {validate.MsgRequired}})
	})
	t.Run("unknown kind", func(t *testing.T) {
		err := wantUnchanged(t, s, func() error {
			_, err := createJSONIn(t.Context(), s, store.Stages.Kind("authentik_stages_nope.nopestage"), []byte(`{"name":"x"}`))
			return err
		})
		if !errors.Is(err, stage.ErrUnknownKind) {
			t.Errorf("error = %v, want stage.ErrUnknownKind", err)
		}
	})
	t.Run("malformed JSON", func(t *testing.T) {
		err := wantUnchanged(t, s, func() error {
			_, err := createJSONIn(t.Context(), s, store.Stages.Kind(string(stage.ModelInvitation)), []byte(`{"name":"x"`))
			return err
		})
		if !errors.Is(err, validate.ErrSyntax) {
			t.Errorf("error = %v, want validate.ErrSyntax", err)
		}
	})
}

// A nil-UUID configure_flow is a reference like any other: there is no
// such flow.
func TestDuoConfigureFlowNilUUID(t *testing.T) {
	s := newTestStore(t)
	nilID := uuid.Nil
	err := wantUnchanged(t, s, func() error {
		_, err := createJSONIn(t.Context(), s, store.Stages.Kind(string(stage.ModelAuthenticatorDuo)), duoBody("d", &nilID))
		return err
	})
	testutil.WantInvalid(t, err, map[string][]string{"configure_flow": {validate.DoesNotExist(uuid.Nil.String())}})
}

func TestReplaceDuoStage(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	d := mkDuo(t, s, "duo", &f.PK)

	// GET -> PUT fails: the secret is write-only and required.
	get, _ := viewIn(ctx, s, store.Stages, store.PK(d.PK))
	err := wantUnchanged(t, s, func() error {
		_, err := replaceIn(ctx, s, store.Stages, store.PK(d.PK), []byte(jsonOf(t, get)))
		return err
	})
	testutil.WantInvalid(t, err, map[string][]string{"client_secret": {validate.MsgRequired}})
	if strings.Contains(err.Error(), duoSecret) {
		t.Error("the error shows the secret")
	}

	// With the secret sent again, it succeeds, and the omitted optional
	// fields (admin keys, friendly_name, configure_flow) keep their values.
	var body map[string]any
	json.Unmarshal([]byte(jsonOf(t, get)), &body)
	delete(body, "admin_integration_key")
	delete(body, "friendly_name")
	delete(body, "configure_flow")
	body["client_secret"] = "new-secret"
	body["client_id"] = "new-id"
	r, err := replaceIn(ctx, s, store.Stages, store.PK(d.PK), []byte(jsonOf(t, body)))
	if err != nil {
		t.Fatal(err)
	}
	c := duoConfig(t, r)
	if c.ClientID != "new-id" || c.ClientSecret.Reveal() != "new-secret" {
		t.Errorf("replaced: client_id %q, client_secret changed %v", c.ClientID, c.ClientSecret.Reveal() == "new-secret")
	}
	if c.AdminIntegrationKey != "DIADMINXXXXXXXXXXXXX" || c.AdminSecretKey.Reveal() != duoAdminSecret ||
		c.FriendlyName == nil || *c.FriendlyName != "Duo" || c.ConfigureFlow == nil || *c.ConfigureFlow != f.PK {
		t.Errorf("PUT reset omitted optional fields: %+v", c)
	}
	stored, _ := viewIn(ctx, s, store.Stages, store.PK(d.PK))
	if jsonOf(t, stored) != jsonOf(t, r) || duoConfig(t, stored).ClientSecret.Reveal() != "new-secret" {
		t.Error("the stored stage differs from the PUT result")
	}

	// PUT requires the name too.
	err = wantUnchanged(t, s, func() error {
		_, err := replaceIn(ctx, s, store.Stages, store.PK(d.PK), []byte(`{"client_id":"c","client_secret":"s","api_hostname":"h"}`))
		return err
	})
	testutil.WantInvalid(t, err, map[string][]string{"name": {validate.MsgRequired}})
}

func TestPatchDuoStage(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	d := mkDuo(t, s, "duo", &f.PK)

	t.Run("null on nullable fields", func(t *testing.T) {
		v, err := patchIn(ctx, s, store.Stages, store.PK(d.PK), []byte(`{"friendly_name":null,"configure_flow":null}`))
		if err != nil {
			t.Fatal(err)
		}
		c := duoConfig(t, v)
		if c.FriendlyName != nil || c.ConfigureFlow != nil {
			t.Errorf("after nulls: %+v", c)
		}
		m := jsonMap(t, v)
		if v, ok := m["friendly_name"]; !ok || v != nil {
			t.Errorf("friendly_name JSON = %v (present %v), want null", v, ok)
		}
		if v, ok := m["configure_flow"]; !ok || v != nil {
			t.Errorf("configure_flow JSON = %v (present %v), want null", v, ok)
		}
		if c.ClientSecret.Reveal() != duoSecret || c.AdminSecretKey.Reveal() != duoAdminSecret {
			t.Error("a PATCH without secrets changed them")
		}
	})

	t.Run("set again", func(t *testing.T) {
		v, err := patchIn(ctx, s, store.Stages, store.PK(d.PK), []byte(`{"friendly_name":" Phone ","configure_flow":"`+f.PK.String()+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		c := duoConfig(t, v)
		if c.FriendlyName == nil || *c.FriendlyName != "Phone" || c.ConfigureFlow == nil || *c.ConfigureFlow != f.PK {
			t.Errorf("after set: %+v", c)
		}
	})

	t.Run(`"" on configure_flow is null`, func(t *testing.T) {
		v, err := patchIn(ctx, s, store.Stages, store.PK(d.PK), []byte(`{"configure_flow":""}`))
		if err != nil {
			t.Fatal(err)
		}
		if c := duoConfig(t, v); c.ConfigureFlow != nil {
			t.Errorf("configure_flow = %v, want null", c.ConfigureFlow)
		}
	})

	missing := storetest.MissingPK(0)
	rejected := []struct {
		name   string
		patch  string
		fields map[string][]string
	}{
		{"null on non-nullable", `{"client_id":null,"client_secret":null,"admin_integration_key":null,"name":null}`, map[string][]string{
			"client_id": {validate.MsgNull}, "client_secret": {validate.MsgNull},
			"admin_integration_key": {validate.MsgNull}, "name": {validate.MsgNull}}},
		{"blank friendly_name", `{"friendly_name":""}`, map[string][]string{"friendly_name": {validate.MsgBlank}}},
		{"blank secret", `{"client_secret":"  "}`, map[string][]string{"client_secret": {validate.MsgBlank}}},
		{"missing flow", `{"configure_flow":"` + missing.String() + `"}`, map[string][]string{
			"configure_flow": {validate.DoesNotExist(missing.String())}}},
		{"unknown key", `{"client_secrets":"x"}`, map[string][]string{"client_secrets": {validate.MsgUnknownField}}},
		{"nested object", `{"client_id":{"a":{"b":null}}}`, map[string][]string{"client_id": {validate.MsgNotString}}},
	}
	for _, tt := range rejected {
		t.Run(tt.name, func(t *testing.T) {
			err := wantUnchanged(t, s, func() error { _, err := patchIn(ctx, s, store.Stages, store.PK(d.PK), []byte(tt.patch)); return err })
			testutil.WantInvalid(t, err, tt.fields)
		})
	}

	t.Run("read-only keys are ignored", func(t *testing.T) {
		before, _ := viewIn(ctx, s, store.Stages, store.PK(d.PK))
		v, err := patchIn(ctx, s, store.Stages, store.PK(d.PK), []byte(`{"pk":"x","component":"y","verbose_name":"z","verbose_name_plural":"w",
			"meta_model_name":"authentik_stages_invitation.invitationstage","flow_set":[{"pk":"x"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if jsonOf(t, v) != jsonOf(t, before) || v.Model() != stage.ModelAuthenticatorDuo {
			t.Errorf("read-only keys changed the stage:\n%s\n%s", jsonOf(t, v), jsonOf(t, before))
		}
	})

	t.Run("GET, PATCH round trip", func(t *testing.T) {
		before, _ := viewIn(ctx, s, store.Stages, store.PK(d.PK))
		v, err := patchIn(ctx, s, store.Stages, store.PK(d.PK), []byte(jsonOf(t, before)))
		if err != nil {
			t.Fatal(err)
		}
		if jsonOf(t, v) != jsonOf(t, before) {
			t.Errorf("PATCH of the GET body changed the stage")
		}
		if c := duoConfig(t, v); c.ClientSecret.Reveal() != duoSecret {
			t.Error("PATCH of the GET body lost the secret")
		}
	})
}

func TestStageNameUniqueness(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	uw := mkUserWrite(t, s, "shared")
	taken := map[string][]string{"name": {"stage with this name already exists."}}

	// Across kinds.
	for _, model := range []stage.ModelName{stage.ModelUserWrite, stage.ModelInvitation} {
		err := wantUnchanged(t, s, func() error {
			_, err := createJSONIn(ctx, s, store.Stages.Kind(string(model)), []byte(`{"name":"shared"}`))
			return err
		})
		wantConflict(t, err, taken)
	}
	err := wantUnchanged(t, s, func() error {
		_, err := createJSONIn(ctx, s, store.Stages.Kind(string(stage.ModelAuthenticatorDuo)), duoBody("shared", nil))
		return err
	})
	wantConflict(t, err, taken)
	if strings.Contains(fmt.Sprint(err), duoSecret) {
		t.Error("the error shows the secret")
	}
	// A clash and a field error together.
	_, err = createJSONIn(ctx, s, store.Stages.Kind(string(stage.ModelAuthenticatorDuo)), []byte(`{"name":"shared","client_id":"c","client_secret":"s"}`))
	wantConflict(t, err, map[string][]string{"name": {"stage with this name already exists."}, "api_hostname": {validate.MsgRequired}})

	inv := mkInvitation(t, s, "Shared") // case-sensitive
	d := mkDuo(t, s, "duo", nil)
	err = wantUnchanged(t, s, func() error {
		_, err := patchIn(ctx, s, store.Stages, store.PK(d.PK), []byte(`{"name":"shared"}`))
		return err
	})
	wantConflict(t, err, taken)
	err = wantUnchanged(t, s, func() error {
		_, err := replaceIn(ctx, s, store.Stages, store.PK(inv.PK), []byte(`{"name":"shared"}`))
		return err
	})
	wantConflict(t, err, taken)

	// Keeping one's own name is fine; renaming frees the old name.
	if _, err := patchIn(ctx, s, store.Stages, store.PK(uw.PK), []byte(`{"name":"shared"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := patchIn(ctx, s, store.Stages, store.PK(uw.PK), []byte(`{"name":"renamed"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := patchIn(ctx, s, store.Stages, store.PK(d.PK), []byte(`{"name":"shared"}`)); err != nil {
		t.Errorf("the old name is not free: %v", err)
	}
	_, err = createIn(ctx, s, store.Stages, stage.Stage{Name: "renamed", Config: stage.Invitation{}})
	wantConflict(t, err, taken)
	checkInvariants(t, s)
}

func TestDeleteStageCascades(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	g := mkFlow(t, s, "g")
	gone := mkUserWrite(t, s, "gone")
	stays := mkInvitation(t, s, "stays")
	duo := mkDuo(t, s, "duo", &f.PK)
	b1 := mkBinding(t, s, f.PK, gone.PK, 10)
	mkBinding(t, s, f.PK, stays.PK, 20)
	b3 := mkBinding(t, s, f.PK, gone.PK, 30)
	b4 := mkBinding(t, s, g.PK, gone.PK, 10)
	mkBinding(t, s, g.PK, duo.PK, 20)
	checkInvariants(t, s)

	if err := deleteIn(ctx, s, store.Stages, store.PK(gone.PK)); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	for _, b := range []uuid.UUID{b1.PK, b3.PK, b4.PK} {
		_, err := viewIn(ctx, s, store.Bindings, store.PK(b))
		wantNotFound(t, err)
	}
	fv, _ := viewIn(ctx, s, store.Flows, store.PK(f.PK))
	if !equalIDs(fv.Stages, []uuid.UUID{stays.PK}) {
		t.Errorf("f stages = %v, want [stays]", fv.Stages)
	}
	gv, _ := viewIn(ctx, s, store.Flows, store.PK(g.PK))
	if !equalIDs(gv.Stages, []uuid.UUID{duo.PK}) {
		t.Errorf("g stages = %v, want [duo]", gv.Stages)
	}
	page, err := listIn(ctx, s, store.Bindings, store.Query{Filters: map[string]string{"stage": gone.PK.String()}})
	if err != nil || page.Pagination.Count != 0 {
		t.Errorf("bindings of the deleted stage: %d, %v", page.Pagination.Count, err)
	}

	// Deleting a Duo stage leaves the flow it was configured by alone.
	if err := deleteIn(ctx, s, store.Stages, store.PK(duo.PK)); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	if _, err := viewIn(ctx, s, store.Flows, store.PK(f.PK)); err != nil {
		t.Errorf("configure flow: %v", err)
	}
	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "f")); err != nil {
		t.Errorf("deleting the flow the deleted Duo stage pointed at: %v", err)
	}
	checkInvariants(t, s)
}

// Secrets are persisted but never shown: not in JSON, not in fmt output,
// not in errors.
func TestSecretsNeverShown(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	d := mkDuo(t, s, "duo", &f.PK)
	b := mkBinding(t, s, f.PK, d.PK, 1)

	shown := map[string]any{}
	got, _ := viewIn(ctx, s, store.Stages, store.PK(d.PK))
	shown["create"], shown["GetStage"] = d, got
	list, err := listIn(ctx, s, store.Stages.Kind(string(stage.ModelAuthenticatorDuo)), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	shown["ListStages duo"] = list
	all, _ := listIn(ctx, s, store.Stages, store.Query{})
	shown["ListStages all"] = all
	bv, _ := viewIn(ctx, s, store.Bindings, store.PK(b.PK))
	shown["GetBinding"] = bv
	bl, _ := listIn(ctx, s, store.Bindings, store.Query{})
	shown["ListBindings"] = bl
	fb, _ := flowBindingsIn(ctx, s, f.PK)
	shown["FlowBindings"] = fb
	patched, err := patchIn(ctx, s, store.Stages, store.PK(d.PK), []byte(`{"friendly_name":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	shown["PatchStage"] = patched
	replaced, err := replaceIn(ctx, s, store.Stages, store.PK(d.PK), duoBody("duo", &f.PK))
	if err != nil {
		t.Fatal(err)
	}
	shown["ReplaceStage"] = replaced

	// Failed writes that carry the secret.
	failures := map[string]func() error{
		"create duplicate": func() error {
			_, err := createJSONIn(ctx, s, store.Stages.Kind(string(stage.ModelAuthenticatorDuo)), duoBody("duo", nil))
			return err
		},
		"create bad field": func() error {
			_, err := createJSONIn(ctx, s, store.Stages.Kind(string(stage.ModelAuthenticatorDuo)), []byte(`{"name":"n","client_id":true,"client_secret":"`+duoSecret+`","admin_secret_key":"`+duoAdminSecret+`","api_hostname":"h"}`))
			return err
		},
		"replace missing flow": func() error {
			missing := storetest.MissingPK(0)
			_, err := replaceIn(ctx, s, store.Stages, store.PK(d.PK), duoBody("duo", &missing))
			return err
		},
		"patch bad field": func() error {
			_, err := patchIn(ctx, s, store.Stages, store.PK(d.PK), []byte(`{"client_secret":"`+duoSecret+`","admin_secret_key":"`+duoAdminSecret+`","friendly_name":""}`))
			return err
		},
		"patch secret of wrong type": func() error {
			_, err := patchIn(ctx, s, store.Stages, store.PK(d.PK), []byte(`{"client_secret":["`+duoSecret+`"],"admin_secret_key":{"`+duoAdminSecret+`":1}}`))
			return err
		},
	}
	for name, write := range failures {
		err := wantUnchanged(t, s, write)
		if _, ok := err.(*validate.Error); !ok {
			t.Errorf("%s: error %T, want *validate.Error", name, err)
		}
		shown["error of "+name] = err
	}

	for name, v := range shown {
		var texts []string
		if err, ok := v.(error); ok {
			texts = append(texts, err.Error())
		}
		texts = append(texts, jsonOf(t, v), fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%s", v))
		for _, text := range texts {
			for _, secret := range []string{duoSecret, duoAdminSecret} {
				if strings.Contains(text, secret) {
					t.Errorf("%s shows a secret: %s", name, text)
				}
			}
		}
	}
	for _, key := range []string{"client_secret", "admin_secret_key"} {
		if _, ok := jsonMap(t, got)[key]; ok {
			t.Errorf("GetStage JSON has the key %s", key)
		}
	}

	// Yet they are stored: a PATCH without them keeps them.
	if _, err := patchIn(ctx, s, store.Stages, store.PK(d.PK), []byte(`{"client_id":"changed"}`)); err != nil {
		t.Fatal(err)
	}
	after, _ := viewIn(ctx, s, store.Stages, store.PK(d.PK))
	raw, err := stage.Default.Encode(after.Stage)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), duoSecret) || !strings.Contains(string(raw), duoAdminSecret) {
		t.Errorf("the stored stage lost its secrets: %s", raw)
	}
}

func TestListStagesUnknownKind(t *testing.T) {
	s := newTestStore(t)
	_, err := listIn(t.Context(), s, store.Stages.Kind("authentik_stages_nope.nopestage"), store.Query{})
	if !errors.Is(err, stage.ErrUnknownKind) {
		t.Errorf("error = %v, want stage.ErrUnknownKind", err)
	}
}

// Any name the API accepts must be readable once stored, control
// characters included.
func TestStageNameWithControlCharactersReadsBack(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	for _, name := range []string{"\u007f", "a\u0007\u000bb", "\U000e0001", "<&>\"\\"} {
		body, _ := json.Marshal(map[string]any{"name": name})
		created, err := createJSONIn(ctx, s, store.Stages.Kind(string(stage.ModelInvitation)), body)
		if err != nil {
			t.Fatalf("create %q: %v", name, err)
		}
		got, err := viewIn(ctx, s, store.Stages, store.PK(created.PK))
		if err != nil || got.Name != name {
			t.Fatalf("get %q: %q, %v", name, got.Name, err)
		}
	}
	if p, err := listIn(ctx, s, store.Stages, store.Query{}); err != nil || len(p.Results) != 4 {
		t.Fatalf("list: %d results, %v", len(p.Results), err)
	}
}
