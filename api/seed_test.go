package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
)

// The five operations of the seed pages (/work/shared/seeds), each with
// the request body its page shows, and its 200, 400 and 403 responses.

const msgDenied = `{"detail": "You do not have permission to perform this action."}`

// seedFixture is a fixture whose Authorize allows everything until the
// test denies something with p.set.
func seedFixture(t *testing.T) (*fixture, *perms) {
	t.Helper()
	p := denying()
	return newFixture(t, &api.Options{Authorize: p.authorize}), p
}

// fields checks that got has every key of want with an equal value.
func fields(t *testing.T, got map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing key %q in %v", k, got)
			continue
		}
		if !jsonValueEqual(g, w) {
			t.Errorf("%s = %#v, want %#v", k, g, w)
		}
	}
}

// TestSeedUserWriteUpdate: PUT /stages/user_write/{stage_uuid}/. The
// seed's create_users_group is a group of the store's (a reference: one
// that does not exist is refused).
func TestSeedUserWriteUpdate(t *testing.T) {
	s := newStore(t, nil)
	p := denying()
	f := setup(&client{t: t, h: api.NewHandler(s, &api.Options{Authorize: p.authorize})})
	group, err := inUpdate(s, func(tx *store.Tx) (string, error) {
		g, err := store.Groups.CreateJSON(tx, []byte(`{"name":"engineering"}`), nil)
		return g.PK.String(), err
	})
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v3/stages/user_write/" + f.userWrite + "/"
	body := strings.ReplaceAll(`{
		"name": "default-source-enrollment-write",
		"flow_set": [{"name": "ignored", "slug": "ignored", "title": "ignored", "designation": "enrollment"}],
		"user_creation_mode": "always_create",
		"create_users_as_inactive": true,
		"create_users_group": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
		"user_type": "internal",
		"user_path_template": "goauthentik.io/sources/%(slug)s"
	}`, "3fa85f64-5717-4562-b3fc-2c963f66afa6", group)

	t.Run("200", func(t *testing.T) {
		got := f.must(http.StatusOK, "PUT", path, body)
		fields(t, got, map[string]any{
			"pk":                       f.userWrite,
			"name":                     "default-source-enrollment-write",
			"component":                "ak-stage-user-write-form",
			"verbose_name":             "User Write Stage",
			"verbose_name_plural":      "User Write Stages",
			"meta_model_name":          "authentik_stages_user_write.userwritestage",
			"user_creation_mode":       "always_create",
			"create_users_as_inactive": true,
			"create_users_group":       group,
			"user_type":                "internal",
			"user_path_template":       "goauthentik.io/sources/%(slug)s",
		})
		// flow_set is read-only: it lists the flow the stage is bound
		// into, not what the body sent.
		fs := got["flow_set"].([]any)
		if len(fs) != 1 || fs[0].(map[string]any)["slug"] != f.flowSlug {
			t.Errorf("flow_set = %v, want the one binding's flow", fs)
		}
		again := f.must(http.StatusOK, "GET", path, "")
		jsonEqual(t, mustJSON(t, again), string(mustJSON(t, got)))
	})

	t.Run("400", func(t *testing.T) {
		f.do("PUT", path, `{"name": "", "user_creation_mode": "sometimes", "user_type": "robot", "create_users_as_inactive": "perhaps"}`).
			expect(t, http.StatusBadRequest, `{
				"name": ["This field may not be blank."],
				"user_creation_mode": ["\"sometimes\" is not a valid choice."],
				"user_type": ["\"robot\" is not a valid choice."],
				"create_users_as_inactive": ["Must be a valid boolean."]}`)
		f.do("PUT", path, `{"user_type": "internal"}`).
			expect(t, http.StatusBadRequest, `{"name": ["This field is required."]}`)
		f.do("PUT", path, `{"name": "w", "create_users_group": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}`).
			expect(t, http.StatusBadRequest, `{"create_users_group": ["Invalid pk \"3fa85f64-5717-4562-b3fc-2c963f66afa6\" - object does not exist."]}`)
	})

	t.Run("403", func(t *testing.T) {
		before := f.do("GET", path, "").Body
		p.set("authentik_stages_user_write.change_userwritestage")
		defer p.set()
		f.do("PUT", path, `{"name": "renamed"}`).expect(t, http.StatusForbidden, msgDenied)
		jsonEqual(t, f.do("GET", path, "").Body, string(before))
	})
}

// TestSeedInvitationPartialUpdate: PATCH /stages/invitation/stages/{stage_uuid}/.
func TestSeedInvitationPartialUpdate(t *testing.T) {
	f, p := seedFixture(t)
	path := "/api/v3/stages/invitation/stages/" + f.invitation + "/"

	t.Run("200", func(t *testing.T) {
		got := f.must(http.StatusOK, "PATCH", path, `{"continue_flow_without_invitation": true}`)
		fields(t, got, map[string]any{
			"pk":                               f.invitation,
			"name":                             "default-enrollment-invitation",
			"component":                        "ak-stage-invitation-form",
			"verbose_name":                     "Invitation Stage",
			"verbose_name_plural":              "Invitation Stages",
			"meta_model_name":                  "authentik_stages_invitation.invitationstage",
			"flow_set":                         []any{},
			"continue_flow_without_invitation": true,
		})
		got = f.must(http.StatusOK, "PATCH", path, `{"name": "invite-only"}`)
		fields(t, got, map[string]any{"name": "invite-only", "continue_flow_without_invitation": true})
	})

	t.Run("400", func(t *testing.T) {
		f.do("PATCH", path, `{"continue_flow_without_invitation": "maybe", "name": null}`).
			expect(t, http.StatusBadRequest, `{
				"continue_flow_without_invitation": ["Must be a valid boolean."],
				"name": ["This field may not be null."]}`)
		f.do("PATCH", path, `{"name": "default-source-enrollment-write"}`).
			expect(t, http.StatusBadRequest, `{"name": ["stage with this name already exists."]}`)
	})

	t.Run("403", func(t *testing.T) {
		p.set("authentik_stages_invitation.change_invitationstage")
		defer p.set()
		f.do("PATCH", path, `{"continue_flow_without_invitation": false}`).expect(t, http.StatusForbidden, msgDenied)
		if got := f.must(http.StatusOK, "GET", path, ""); got["continue_flow_without_invitation"] != true {
			t.Errorf("a denied PATCH changed the stage: %v", got)
		}
	})
}

// TestSeedBindingUpdate: PUT /flows/bindings/{fsb_uuid}/.
func TestSeedBindingUpdate(t *testing.T) {
	f, p := seedFixture(t)
	path := "/api/v3/flows/bindings/" + f.bindPK + "/"
	body := `{
		"target": "` + f.flowPK + `",
		"stage": "` + f.invitation + `",
		"evaluate_on_plan": true,
		"re_evaluate_policies": false,
		"order": 20,
		"policy_engine_mode": "all",
		"invalid_response_action": "restart_with_context"
	}`

	t.Run("200", func(t *testing.T) {
		got := f.must(http.StatusOK, "PUT", path, body)
		fields(t, got, map[string]any{
			"pk":                      f.bindPK,
			"target":                  f.flowPK,
			"stage":                   f.invitation,
			"evaluate_on_plan":        true,
			"re_evaluate_policies":    false,
			"order":                   20.0,
			"policy_engine_mode":      "all",
			"invalid_response_action": "restart_with_context",
		})
		obj := got["stage_obj"].(map[string]any)
		fields(t, obj, map[string]any{
			"pk":              f.invitation,
			"name":            "default-enrollment-invitation",
			"component":       "ak-stage-invitation-form",
			"meta_model_name": "authentik_stages_invitation.invitationstage",
		})
		if _, ok := obj["continue_flow_without_invitation"]; ok {
			t.Errorf("stage_obj has kind fields; authentik's is the base StageSerializer: %v", obj)
		}
		fl := f.must(http.StatusOK, "GET", "/api/v3/flows/instances/"+f.flowSlug+"/", "")
		fields(t, fl, map[string]any{"stages": []any{f.invitation}})
	})

	t.Run("400", func(t *testing.T) {
		f.do("PUT", path, `{"target": "`+f.flowPK+`", "stage": "`+f.userWrite+`", "order": 10,
			"evaluate_on_plan": false, "re_evaluate_policies": false}`).
			expect(t, http.StatusBadRequest, `{"non_field_errors": ["Either evaluation on plan or evaluation on run must be enabled"]}`)
		missing := storetest.MissingPK(0).String()
		f.do("PUT", path, `{"stage": "`+missing+`", "order": "soon"}`).
			expect(t, http.StatusBadRequest, `{
				"target": ["This field is required."],
				"stage": ["Invalid pk \"`+missing+`\" - object does not exist."],
				"order": ["A valid integer is required."]}`)
		f.do("PUT", path, `{"target": "`+f.flowPK+`", "stage": "`+f.userWrite+`", "order": 2147483648}`).
			expect(t, http.StatusBadRequest, `{"order": ["Ensure this value is less than or equal to 2147483647."]}`)
	})

	t.Run("403", func(t *testing.T) {
		before := f.do("GET", path, "").Body
		p.set("authentik_flows.change_flowstagebinding")
		defer p.set()
		f.do("PUT", path, `{"target": "`+f.flowPK+`", "stage": "`+f.userWrite+`", "order": 5}`).
			expect(t, http.StatusForbidden, msgDenied)
		jsonEqual(t, f.do("GET", path, "").Body, string(before))
	})
}

// TestSeedFlowPartialUpdate: PATCH /flows/instances/{slug}/.
func TestSeedFlowPartialUpdate(t *testing.T) {
	f, p := seedFixture(t)
	path := "/api/v3/flows/instances/" + f.flowSlug + "/"

	t.Run("200", func(t *testing.T) {
		got := f.must(http.StatusOK, "PATCH", path, `{
			"title": "Welcome back!", "policy_engine_mode": "all", "compatibility_mode": true,
			"layout": "sidebar_left", "denied_action": "message", "authentication": "require_unauthenticated"}`)
		fields(t, got, map[string]any{
			"pk":                 f.flowPK,
			"name":               "Welcome to authentik!",
			"slug":               "default-authentication-flow",
			"title":              "Welcome back!",
			"designation":        "authentication",
			"background":         "/static/dist/assets/images/flow_background.jpg",
			"stages":             []any{f.userWrite},
			"policies":           []any{},
			"cache_count":        0.0,
			"policy_engine_mode": "all",
			"compatibility_mode": true,
			"export_url":         "/api/v3/flows/instances/default-authentication-flow/export/",
			"layout":             "sidebar_left",
			"denied_action":      "message",
			"authentication":     "require_unauthenticated",
		})
	})

	t.Run("400", func(t *testing.T) {
		f.do("PATCH", path, `{"slug": "Not A Slug", "designation": "nope", "title": ""}`).
			expect(t, http.StatusBadRequest, `{
				"slug": ["Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens."],
				"designation": ["\"nope\" is not a valid choice."],
				"title": ["This field may not be blank."]}`)
		f.must(http.StatusCreated, "POST", "/api/v3/flows/instances/",
			`{"name": "Other", "slug": "other", "title": "Other", "designation": "enrollment"}`)
		f.do("PATCH", path, `{"slug": "other"}`).
			expect(t, http.StatusBadRequest, `{"slug": ["Flow with this slug already exists."]}`)
	})

	t.Run("403", func(t *testing.T) {
		p.set("authentik_flows.change_flow")
		defer p.set()
		f.do("PATCH", path, `{"title": "Denied"}`).expect(t, http.StatusForbidden, msgDenied)
		if got := f.must(http.StatusOK, "GET", path, ""); got["title"] != "Welcome back!" {
			t.Errorf("a denied PATCH changed the flow: %v", got["title"])
		}
	})

	t.Run("slug change moves the URL", func(t *testing.T) {
		f.must(http.StatusOK, "PATCH", path, `{"slug": "renamed-flow"}`)
		f.must(http.StatusNotFound, "GET", path, "")
		got := f.must(http.StatusOK, "GET", "/api/v3/flows/instances/renamed-flow/", "")
		fields(t, got, map[string]any{"pk": f.flowPK, "export_url": "/api/v3/flows/instances/renamed-flow/export/"})
	})
}

// TestSeedDuoPartialUpdate: PATCH /stages/authenticator/duo/{stage_uuid}/.
func TestSeedDuoPartialUpdate(t *testing.T) {
	f, p := seedFixture(t)
	path := "/api/v3/stages/authenticator/duo/" + f.duo + "/"

	t.Run("200", func(t *testing.T) {
		res := f.do("PATCH", path, `{
			"configure_flow": "`+f.flowPK+`",
			"friendly_name": "Duo Security",
			"client_secret": "SECRET-rotated-client",
			"admin_integration_key": "DIADMINXXXXXXXXXXXXX",
			"admin_secret_key": "SECRET-admin"}`)
		if res.Code != http.StatusOK {
			t.Fatalf("status %d: %s", res.Code, res.Body)
		}
		got := res.object(t)
		fields(t, got, map[string]any{
			"pk":                    f.duo,
			"name":                  "default-duo-setup",
			"component":             "ak-stage-authenticator-duo-form",
			"verbose_name":          "Duo Authenticator Setup Stage",
			"verbose_name_plural":   "Duo Authenticator Setup Stages",
			"meta_model_name":       "authentik_stages_authenticator_duo.authenticatorduostage",
			"flow_set":              []any{},
			"configure_flow":        f.flowPK,
			"friendly_name":         "Duo Security",
			"client_id":             "DIXXXXXXXXXXXXXXXXXX",
			"api_hostname":          "api-xxxxxxxx.duosecurity.com",
			"admin_integration_key": "DIADMINXXXXXXXXXXXXX",
		})
		for _, k := range []string{"client_secret", "admin_secret_key"} {
			if _, ok := got[k]; ok {
				t.Errorf("write-only %s in the response", k)
			}
		}
		got = f.must(http.StatusOK, "PATCH", path, `{"friendly_name": null}`)
		fields(t, got, map[string]any{"friendly_name": nil, "configure_flow": f.flowPK})
	})

	t.Run("400", func(t *testing.T) {
		missing := storetest.MissingPK(0).String()
		f.do("PATCH", path, `{"friendly_name": "", "client_id": "  ", "client_secret": "", "configure_flow": "`+missing+`"}`).
			expect(t, http.StatusBadRequest, `{
				"friendly_name": ["This field may not be blank."],
				"client_id": ["This field may not be blank."],
				"client_secret": ["This field may not be blank."],
				"configure_flow": ["Invalid pk \"`+missing+`\" - object does not exist."]}`)
	})

	t.Run("403", func(t *testing.T) {
		p.set("authentik_stages_authenticator_duo.change_authenticatorduostage")
		defer p.set()
		f.do("PATCH", path, `{"client_id": "DIDENIED"}`).expect(t, http.StatusForbidden, msgDenied)
		if got := f.must(http.StatusOK, "GET", path, ""); got["client_id"] != "DIXXXXXXXXXXXXXXXXXX" {
			t.Errorf("a denied PATCH changed the stage: %v", got["client_id"])
		}
	})
}

// TestSecretsNeverInResponses sends secrets through every write of a Duo
// stage and reads it back every way; [client.send] checks that no
// response anywhere in the suite contains a secret value.
func TestSecretsNeverInResponses(t *testing.T) {
	f := newFixture(t, nil)
	duo := "/api/v3/stages/authenticator/duo/"
	obj := f.must(http.StatusCreated, "POST", duo, `{"name": "duo-2", "client_id": "id", "api_hostname": "h",
		"client_secret": "SECRET-create", "admin_secret_key": "SECRET-create-admin"}`)
	path := duo + obj["pk"].(string) + "/"
	f.must(http.StatusOK, "PUT", path, `{"name": "duo-2", "client_id": "id", "api_hostname": "h",
		"client_secret": "SECRET-put", "admin_secret_key": "SECRET-put-admin"}`)
	f.must(http.StatusOK, "PATCH", path, `{"client_secret": "SECRET-patch"}`)
	// A rejected write must not echo the secret either.
	f.must(http.StatusBadRequest, "PATCH", path, `{"client_secret": "SECRET-bad", "client_id": ""}`)
	f.must(http.StatusBadRequest, "PATCH", path, `{"client_secret": ["SECRET-list"]}`)
	f.must(http.StatusCreated, "POST", "/api/v3/flows/bindings/", `{"target": "`+f.flowPK+`", "stage": "`+obj["pk"].(string)+`", "order": 30}`)
	for _, p := range []string{path, duo, "/api/v3/stages/all/", "/api/v3/stages/all/" + obj["pk"].(string) + "/", "/api/v3/flows/bindings/"} {
		res := f.do("GET", p, "")
		if res.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", p, res.Code)
		}
		if strings.Contains(string(res.Body), "secret_key\"") || strings.Contains(string(res.Body), "client_secret") {
			t.Errorf("GET %s shows a write-only key: %s", p, res.Body)
		}
	}
	// The secret was stored: a PUT without it is rejected, as in
	// authentik, because it is required and write-only.
	f.do("PUT", path, `{"name": "duo-2", "client_id": "id", "api_hostname": "h"}`).
		expect(t, http.StatusBadRequest, `{"client_secret": ["This field is required."]}`)
}
