package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/google/uuid"
)

// usedByFixture is a fixture whose Duo stage's configure_flow points at
// the flow, so that the flow is used by a binding, a stage (set_null) and
// a bound stage; the store is at hand to compare with.
func usedByFixture(t *testing.T, opts *api.Options) (*fixture, *store.Store) {
	t.Helper()
	s := newStore(t, nil)
	f := setup(&client{t: t, h: api.NewHandler(s, opts)})
	f.must(http.StatusOK, "PATCH", "/api/v3/stages/authenticator/duo/"+f.duo+"/", `{"configure_flow": "`+f.flowPK+`"}`)
	return f, s
}

// usedByList decodes a used_by body, which must be a JSON array.
func usedByList(t *testing.T, res *response) []store.UsedBy {
	t.Helper()
	if res.Code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", res.Code, res.Body)
	}
	var out []store.UsedBy
	if err := json.Unmarshal(res.Body, &out); err != nil || out == nil {
		t.Fatalf("body is not a JSON array (%v): %s", err, res.Body)
	}
	return out
}

// TestUsedBy: GET …/used_by/ on a flow (by slug), a binding, a stage
// under /stages/all/ and under its kind's path answers the store's list
// as an unpaginated array in authentik's shape.
func TestUsedBy(t *testing.T) {
	f, s := usedByFixture(t, nil)
	flowPK, uwPK := uuid.MustParse(f.flowPK), uuid.MustParse(f.userWrite)
	binding := store.UsedBy{App: "authentik_flows", ModelName: "flowstagebinding", PK: f.bindPK,
		Name: "Flow-stage binding #10 to " + f.flowPK, Action: "cascade"}
	flowEntry := store.UsedBy{App: "authentik_flows", ModelName: "flow", PK: f.flowPK,
		Name: "Flow Welcome to authentik! (default-authentication-flow)", Action: "cascade_many"}

	tests := []struct {
		name, path string
		model      string
		pk         uuid.UUID
		check      func(t *testing.T, got []store.UsedBy)
	}{
		{"flow", "/api/v3/flows/instances/" + f.flowSlug + "/used_by/", store.ModelFlow, flowPK, func(t *testing.T, got []store.UsedBy) {
			if len(got) != 3 {
				t.Fatalf("%d entries, want the Duo stage, the binding and the bound stage: %+v", len(got), got)
			}
			want := map[string]string{f.duo: "set_null", f.bindPK: "cascade", f.userWrite: "cascade_many"}
			for _, u := range got {
				if want[u.PK] != u.Action {
					t.Errorf("entry %+v: action %q, want %q", u, u.Action, want[u.PK])
				}
			}
			if !reflect.DeepEqual(got[1], binding) {
				t.Errorf("binding entry %+v, want %+v", got[1], binding)
			}
		}},
		{"binding", "/api/v3/flows/bindings/" + f.bindPK + "/used_by/", store.ModelBinding, uuid.MustParse(f.bindPK), func(t *testing.T, got []store.UsedBy) {
			if len(got) != 0 {
				t.Errorf("a binding without policies is used by nothing: %+v", got)
			}
		}},
		{"all", "/api/v3/stages/all/" + f.userWrite + "/used_by/", store.ModelStage, uwPK, func(t *testing.T, got []store.UsedBy) {
			if want := []store.UsedBy{flowEntry, binding}; !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		}},
		{"user_write", "/api/v3/stages/user_write/" + f.userWrite + "/used_by/", "authentik_stages_user_write.userwritestage", uwPK, func(t *testing.T, got []store.UsedBy) {
			if want := []store.UsedBy{flowEntry, binding}; !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		}},
		{"invitation", "/api/v3/stages/invitation/stages/" + f.invitation + "/used_by/", store.ModelStage, uuid.MustParse(f.invitation), nil},
		{"duo", "/api/v3/stages/authenticator/duo/" + f.duo + "/used_by/", store.ModelStage, uuid.MustParse(f.duo), nil},
		{"all duo", "/api/v3/stages/all/" + f.duo + "/used_by/", store.ModelStage, uuid.MustParse(f.duo), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := usedByList(t, f.do("GET", tt.path, ""))
			want, err := inView(s, func(tx *store.Tx) ([]store.UsedBy, error) { return tx.UsedBy(tt.model, tt.pk) })
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 && len(got) == 0 {
				// both empty; the body is [] (usedByList refused null)
			} else if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nthe store says %+v", got, want)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
			// HEAD is GET (the document has no HEAD operations to check).
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, httptest.NewRequest("HEAD", tt.path, nil))
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("HEAD: %d %v", rec.Code, rec.Header())
			}
		})
	}

	// A flow whose slug is "used_by" is still a flow, with its own used_by.
	f.must(http.StatusCreated, "POST", "/api/v3/flows/instances/", `{"name": "U", "slug": "used_by", "title": "U", "designation": "recovery"}`)
	if got := f.must(http.StatusOK, "GET", "/api/v3/flows/instances/used_by/", ""); got["slug"] != "used_by" {
		t.Errorf("GET the flow used_by: %v", got)
	}
	if got := usedByList(t, f.do("GET", "/api/v3/flows/instances/used_by/used_by/", "")); len(got) != 0 {
		t.Errorf("used_by of the flow used_by: %+v", got)
	}
}

// TestUsedByErrors: a missing object, a malformed key and a stage under
// another kind's path are 404; any method but GET and HEAD is 405 with
// Allow, and changes nothing.
func TestUsedByErrors(t *testing.T) {
	f, _ := usedByFixture(t, nil)
	missing := storetest.MissingPK(0).String()
	for _, path := range []string{
		"/api/v3/flows/instances/nope/used_by/",
		"/api/v3/flows/bindings/" + missing + "/used_by/",
		"/api/v3/flows/bindings/not-a-uuid/used_by/",
		"/api/v3/stages/all/" + missing + "/used_by/",
		"/api/v3/stages/all/zzz/used_by/",
		"/api/v3/stages/user_write/" + missing + "/used_by/",
		"/api/v3/stages/user_write/" + f.duo + "/used_by/",
		"/api/v3/stages/authenticator/duo/" + f.userWrite + "/used_by/",
		"/api/v3/stages/invitation/stages/" + f.duo + "/used_by/",
		"/api/v3/stages/invitation/stages/123/used_by/",
		// Not an object's action.
		"/api/v3/stages/all/used_by/",
		"/api/v3/flows/bindings/used_by/",
		"/api/v3/stages/nope/" + f.duo + "/used_by/",
		"/api/v3/flows/instances/" + f.flowSlug + "/used_by",
		"/api/v3/flows/instances/" + f.flowSlug + "/used_by/extra/",
		"/api/v3/flows/instances/" + f.flowSlug + "/used_by/used_by/",
		"/api/v3/flows/instances/" + f.flowSlug + "/export/extra/", // export itself is served: see TestExportRoute
		"/api/v3/flows/used_by/",
	} {
		f.do("GET", path, "").expect(t, http.StatusNotFound, notFound)
	}

	for _, path := range []string{
		"/api/v3/flows/instances/" + f.flowSlug + "/used_by/",
		"/api/v3/flows/bindings/" + f.bindPK + "/used_by/",
		"/api/v3/stages/all/" + f.userWrite + "/used_by/",
		"/api/v3/stages/user_write/" + f.userWrite + "/used_by/",
		"/api/v3/stages/authenticator/duo/" + f.duo + "/used_by/",
		// 405 comes before the key is judged, as on the other paths.
		"/api/v3/flows/instances/nope/used_by/",
	} {
		for _, method := range []string{"POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			res := f.do(method, path, `{"name": "x"}`)
			res.expect(t, http.StatusMethodNotAllowed, `{"detail": "Method \"`+method+`\" not allowed."}`)
			if got := res.Header.Get("Allow"); got != "GET, HEAD" {
				t.Errorf("%s %s: Allow %q", method, path, got)
			}
		}
	}
	// Nothing was deleted or changed.
	f.must(http.StatusOK, "GET", "/api/v3/flows/instances/"+f.flowSlug+"/", "")
	f.must(http.StatusOK, "GET", "/api/v3/flows/bindings/"+f.bindPK+"/", "")
	fields(t, f.must(http.StatusOK, "GET", "/api/v3/stages/user_write/"+f.userWrite+"/", ""), map[string]any{"name": "default-source-enrollment-write"})
	fields(t, f.must(http.StatusOK, "GET", "/api/v3/stages/authenticator/duo/"+f.duo+"/", ""), map[string]any{"name": "default-duo-setup"})
}

// TestUsedByPermissions: used_by asks for the object's view permission,
// as a retrieve does (denied: 404; unauthenticated: 403), then lists only
// the entries whose model the user may view, asking once per model.
func TestUsedByPermissions(t *testing.T) {
	p := denying()
	f, _ := usedByFixture(t, &api.Options{Authorize: p.authorize})
	const (
		viewFlow  = "authentik_flows.view_flow"
		viewFSB   = "authentik_flows.view_flowstagebinding"
		viewUW    = "authentik_stages_user_write.view_userwritestage"
		viewDuo   = "authentik_stages_authenticator_duo.view_authenticatorduostage"
		viewInv   = "authentik_stages_invitation.view_invitationstage"
		viewStage = "authentik_flows.view_stage"
	)
	flow := "/api/v3/flows/instances/" + f.flowSlug + "/used_by/"
	uw := "/api/v3/stages/user_write/" + f.userWrite + "/used_by/"
	all := "/api/v3/stages/all/" + f.userWrite + "/used_by/"
	bind := "/api/v3/flows/bindings/" + f.bindPK + "/used_by/"
	inv := "/api/v3/stages/invitation/stages/" + f.invitation + "/used_by/"

	p.take()
	t.Run("asked", func(t *testing.T) {
		for _, tt := range []struct {
			path string
			want []string
		}{
			// The object's view, then each listed model's view once.
			{flow, []string{viewFlow, viewDuo, viewFSB, viewStage}}, // bound stages are authentik_flows.stage
			{uw, []string{viewUW, viewFlow, viewFSB}},
			{all, []string{viewStage, viewFlow, viewFSB}},
			{bind, []string{viewFSB}},
			{inv, []string{viewInv}},
			{"/api/v3/stages/user_write/bad-uuid/used_by/", []string{viewUW}},
		} {
			f.do("GET", tt.path, "")
			if got := p.take(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("GET %s asked %q, want %q", tt.path, got, tt.want)
			}
		}
		f.do("DELETE", flow, "")
		if got := p.take(); got != nil {
			t.Errorf("a 405 asked %q", got)
		}
	})

	t.Run("object not viewable", func(t *testing.T) {
		p.set(viewFlow, viewUW, viewFSB)
		defer p.set()
		for _, path := range []string{flow, uw, bind} {
			f.do("GET", path, "").expect(t, http.StatusNotFound, notFound)
		}
		// /stages/all/ asks for authentik_flows.view_stage instead; its
		// entries need view_flow and view_flowstagebinding.
		if got := usedByList(t, f.do("GET", all, "")); len(got) != 0 {
			t.Errorf("entries the user may not view: %+v", got)
		}
	})

	t.Run("entries filtered", func(t *testing.T) {
		p.set(viewDuo, viewStage)
		defer p.set()
		got := usedByList(t, f.do("GET", flow, ""))
		if len(got) != 1 || got[0].PK != f.bindPK {
			t.Errorf("with the stages hidden, want only the binding: %+v", got)
		}
	})

	t.Run("not authenticated", func(t *testing.T) {
		c := &client{t: t, h: api.NewHandler(newStore(t, nil), &api.Options{Authorize: func(*http.Request, string) error {
			return api.ErrNotAuthenticated
		}})}
		for _, path := range []string{flow, bind, uw, all, "/api/v3/flows/bindings/not-a-uuid/used_by/"} {
			c.do("GET", path, "").expect(t, http.StatusForbidden, `{"detail": "Authentication credentials were not provided."}`)
		}
	})
}
