package api_test

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/store/storetest"
)

// TestPermissionCodenames: every operation asks Authorize for authentik's
// codename; object operations ask for view first (an object the user may
// not view does not exist for them).
func TestPermissionCodenames(t *testing.T) {
	p := denying()
	f := newFixture(t, &api.Options{Authorize: p.authorize})
	fl := "/api/v3/flows/instances/"
	b := "/api/v3/flows/bindings/"
	uw := "/api/v3/stages/user_write/"
	inv := "/api/v3/stages/invitation/stages/"
	duo := "/api/v3/stages/authenticator/duo/"
	all := "/api/v3/stages/all/"
	const (
		viewFlow  = "authentik_flows.view_flow"
		viewFSB   = "authentik_flows.view_flowstagebinding"
		viewUW    = "authentik_stages_user_write.view_userwritestage"
		viewInv   = "authentik_stages_invitation.view_invitationstage"
		viewDuo   = "authentik_stages_authenticator_duo.view_authenticatorduostage"
		viewStage = "authentik_flows.view_stage"
	)
	tests := []struct {
		method, path, body string
		status             int
		want               []string
	}{
		{"GET", fl, "", 200, []string{viewFlow}},
		{"POST", fl, `{"name": "n", "slug": "n", "title": "t", "designation": "recovery"}`, 201, []string{"authentik_flows.add_flow"}},
		{"GET", fl + "n/", "", 200, []string{viewFlow}},
		{"PUT", fl + "n/", `{"name": "n", "slug": "n", "title": "t2", "designation": "recovery"}`, 200, []string{viewFlow, "authentik_flows.change_flow"}},
		{"PATCH", fl + "n/", `{"title": "t3"}`, 200, []string{viewFlow, "authentik_flows.change_flow"}},
		{"GET", b, "", 200, []string{viewFSB}},
		{"POST", b, `{"target": "` + f.flowPK + `", "stage": "` + f.duo + `", "order": 1}`, 201, []string{"authentik_flows.add_flowstagebinding"}},
		{"GET", b + f.bindPK + "/", "", 200, []string{viewFSB}},
		{"PUT", b + f.bindPK + "/", `{"target": "` + f.flowPK + `", "stage": "` + f.userWrite + `", "order": 11}`, 200, []string{viewFSB, "authentik_flows.change_flowstagebinding"}},
		{"PATCH", b + f.bindPK + "/", `{"order": 12}`, 200, []string{viewFSB, "authentik_flows.change_flowstagebinding"}},
		{"GET", uw, "", 200, []string{viewUW}},
		{"POST", uw, `{"name": "uw2"}`, 201, []string{"authentik_stages_user_write.add_userwritestage"}},
		{"GET", uw + f.userWrite + "/", "", 200, []string{viewUW}},
		{"PUT", uw + f.userWrite + "/", `{"name": "uw1"}`, 200, []string{viewUW, "authentik_stages_user_write.change_userwritestage"}},
		{"PATCH", uw + f.userWrite + "/", `{}`, 200, []string{viewUW, "authentik_stages_user_write.change_userwritestage"}},
		{"GET", inv, "", 200, []string{viewInv}},
		{"PATCH", inv + f.invitation + "/", `{}`, 200, []string{viewInv, "authentik_stages_invitation.change_invitationstage"}},
		{"GET", duo, "", 200, []string{viewDuo}},
		{"PATCH", duo + f.duo + "/", `{}`, 200, []string{viewDuo, "authentik_stages_authenticator_duo.change_authenticatorduostage"}},
		{"GET", all, "", 200, []string{viewStage}},
		{"GET", all + f.duo + "/", "", 200, []string{viewStage}},
		{"DELETE", b + f.bindPK + "/", "", 204, []string{viewFSB, "authentik_flows.delete_flowstagebinding"}},
		{"DELETE", inv + f.invitation + "/", "", 204, []string{viewInv, "authentik_stages_invitation.delete_invitationstage"}},
		{"DELETE", all + f.duo + "/", "", 204, []string{viewStage, "authentik_flows.delete_stage"}},
		{"DELETE", uw + f.userWrite + "/", "", 204, []string{viewUW, "authentik_stages_user_write.delete_userwritestage"}},
		{"DELETE", fl + "n/", "", 204, []string{viewFlow, "authentik_flows.delete_flow"}},
		// Refused before any permission is asked.
		{"POST", all, `{}`, 405, nil},
		{"GET", uw + "bad-uuid/", "", 404, []string{"authentik_stages_user_write.view_userwritestage"}},
	}
	p.take()
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			f.must(tt.status, tt.method, tt.path, tt.body)
			if got := p.take(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("asked %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDenials: a denied write is 403 and changes nothing; a denied view
// of one object is 404, for every method; a denied list is an empty page
// (authentik filters lists down to what the user may view); a denial
// because nobody is authenticated is 403 with authentik's message.
func TestDenials(t *testing.T) {
	p := denying()
	f := newFixture(t, &api.Options{Authorize: p.authorize})
	flow := "/api/v3/flows/instances/" + f.flowSlug + "/"
	bind := "/api/v3/flows/bindings/" + f.bindPK + "/"
	uw := "/api/v3/stages/user_write/" + f.userWrite + "/"
	missingUW := "/api/v3/stages/user_write/" + storetest.MissingPK(0).String() + "/"
	notAuth := `{"detail": "Authentication credentials were not provided."}`

	t.Run("write", func(t *testing.T) {
		p.set("authentik_flows.add_flow", "authentik_flows.delete_flow", "authentik_flows.delete_flowstagebinding",
			"authentik_stages_user_write.delete_userwritestage", "authentik_flows.delete_stage")
		defer p.set()
		f.do("POST", "/api/v3/flows/instances/", `{"name": "n", "slug": "n", "title": "t", "designation": "recovery"}`).expect(t, 403, msgDenied)
		f.do("POST", "/api/v3/flows/instances/", `not even JSON`).expect(t, 403, msgDenied)
		f.do("DELETE", flow, "").expect(t, 403, msgDenied)
		f.do("DELETE", bind, "").expect(t, 403, msgDenied)
		f.do("DELETE", uw, "").expect(t, 403, msgDenied)
		f.do("DELETE", "/api/v3/stages/all/"+f.duo+"/", "").expect(t, 403, msgDenied)
		// A missing object is 404 with or without the permission.
		f.do("DELETE", missingUW, "").expect(t, 404, notFound)
		f.do("DELETE", "/api/v3/flows/instances/nope/", "").expect(t, 404, notFound)
		// And a stage of another kind is missing here.
		f.do("DELETE", "/api/v3/stages/user_write/"+f.duo+"/", "").expect(t, 404, notFound)
		f.must(200, "GET", flow, "")
		f.must(200, "GET", bind, "")
		f.must(200, "GET", uw, "")
		f.must(200, "GET", "/api/v3/stages/all/"+f.duo+"/", "")
		if got := f.must(200, "GET", "/api/v3/flows/instances/", ""); got["pagination"].(map[string]any)["count"] != 1.0 {
			t.Errorf("a denied POST created a flow: %v", got)
		}
	})

	t.Run("permission checked before the body", func(t *testing.T) {
		p.set("authentik_flows.change_flow")
		defer p.set()
		f.do("PATCH", flow, `{"title": `).expect(t, 403, msgDenied)
		f.do("PATCH", flow, `{}`, "Content-Type", "text/plain").expect(t, 403, msgDenied)
	})

	t.Run("view of one object", func(t *testing.T) {
		p.set("authentik_flows.view_flow", "authentik_stages_user_write.view_userwritestage", "authentik_flows.view_flowstagebinding")
		defer p.set()
		for _, r := range []struct{ method, path, body string }{
			{"GET", flow, ""}, {"PATCH", flow, `{"title": "x"}`}, {"PUT", flow, flowBody}, {"DELETE", flow, ""},
			{"GET", bind, ""}, {"DELETE", bind, ""},
			{"GET", uw, ""}, {"PUT", uw, `{"name": "x"}`}, {"DELETE", uw, ""},
		} {
			f.do(r.method, r.path, r.body).expect(t, 404, notFound)
		}
		f.must(200, "GET", "/api/v3/stages/all/"+f.userWrite+"/", "")
	})

	t.Run("list", func(t *testing.T) {
		p.set("authentik_flows.view_flow")
		defer p.set()
		empty := `{"pagination": {"next": 0, "previous": 0, "count": 0, "current": 1, "total_pages": 1, "start_index": 0, "end_index": 0}, "results": [], "autocomplete": {}}`
		f.do("GET", "/api/v3/flows/instances/", "").expect(t, 200, empty)
		f.do("GET", "/api/v3/flows/instances/?page=last&search=welcome", "").expect(t, 200, empty)
		f.do("GET", "/api/v3/flows/instances/?page=2", "").expect(t, 404, invalidPage)
		got := f.must(200, "GET", "/api/v3/flows/bindings/", "")
		if got["pagination"].(map[string]any)["count"] != 1.0 {
			t.Errorf("bindings list: %v", got)
		}
	})

	t.Run("not authenticated", func(t *testing.T) {
		noCreds := &api.Options{Authorize: func(*http.Request, string) error {
			return fmt.Errorf("no session cookie: %w", api.ErrNotAuthenticated)
		}}
		c := &client{t: t, h: api.NewHandler(newStore(t, nil), noCreds)}
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/api/v3/flows/instances/", ""},
			{"GET", "/api/v3/flows/instances/x/", ""},
			{"POST", "/api/v3/flows/instances/", flowBody},
			{"PATCH", "/api/v3/stages/user_write/" + storetest.MissingPK(0).String() + "/", `{}`},
			{"DELETE", "/api/v3/stages/all/" + storetest.MissingPK(1).String() + "/", ""},
			// Nothing about the request is judged before authentication.
			{"GET", "/api/v3/flows/instances/?page=abc", ""},
			{"GET", "/api/v3/flows/bindings/not-a-uuid/", ""},
			{"DELETE", "/api/v3/stages/user_write/not-a-uuid/", ""},
		} {
			c.do(r.method, r.path, r.body).expect(t, 403, notAuth)
		}
	})

	t.Run("wrong credentials", func(t *testing.T) {
		wrong := &api.Options{Authorize: func(*http.Request, string) error {
			return fmt.Errorf("bearer: %w", &api.AuthenticationFailed{Detail: "Token invalid/expired"})
		}}
		c := &client{t: t, h: api.NewHandler(newStore(t, nil), wrong)}
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/api/v3/flows/instances/", ""},
			{"POST", "/api/v3/flows/instances/", flowBody},
			{"GET", "/api/v3/flows/bindings/not-a-uuid/", ""},
			{"DELETE", "/api/v3/stages/all/" + storetest.MissingPK(1).String() + "/", ""},
		} {
			c.do(r.method, r.path, r.body).expect(t, 403, `{"detail":"Token invalid/expired"}`)
		}
	})
}
