package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
)

// TestCascades: deleting a stage through the API deletes its bindings and
// takes it out of its flows; deleting a flow deletes its bindings and
// clears Duo's configure_flow.
func TestCascades(t *testing.T) {
	f := newFixture(t, nil)
	flow := "/api/v3/flows/instances/" + f.flowSlug + "/"
	second := f.must(http.StatusCreated, "POST", "/api/v3/flows/bindings/",
		`{"target": "`+f.flowPK+`", "stage": "`+f.invitation+`", "order": 20}`)["pk"].(string)
	fields(t, f.must(http.StatusOK, "GET", flow, ""), map[string]any{"stages": []any{f.userWrite, f.invitation}})

	res := f.do("DELETE", "/api/v3/stages/user_write/"+f.userWrite+"/", "")
	if res.Code != http.StatusNoContent || len(res.Body) != 0 || res.Header.Get("Content-Type") != "" {
		t.Fatalf("DELETE: %d %q %v", res.Code, res.Body, res.Header)
	}
	f.do("GET", "/api/v3/stages/user_write/"+f.userWrite+"/", "").expect(t, http.StatusNotFound, notFound)
	f.do("GET", "/api/v3/stages/all/"+f.userWrite+"/", "").expect(t, http.StatusNotFound, notFound)
	f.do("GET", "/api/v3/flows/bindings/"+f.bindPK+"/", "").expect(t, http.StatusNotFound, notFound)
	f.do("DELETE", "/api/v3/stages/user_write/"+f.userWrite+"/", "").expect(t, http.StatusNotFound, notFound)
	fields(t, f.must(http.StatusOK, "GET", flow, ""), map[string]any{"stages": []any{f.invitation}})
	list := f.must(http.StatusOK, "GET", "/api/v3/flows/bindings/", "")
	if r := list["results"].([]any); len(r) != 1 || r[0].(map[string]any)["pk"] != second {
		t.Errorf("bindings after the stage's delete: %v", r)
	}

	// Through /stages/all/ too.
	f.must(http.StatusNoContent, "DELETE", "/api/v3/stages/all/"+f.invitation+"/", "")
	f.do("GET", "/api/v3/flows/bindings/"+second+"/", "").expect(t, http.StatusNotFound, notFound)
	fields(t, f.must(http.StatusOK, "GET", flow, ""), map[string]any{"stages": []any{}})

	// Deleting a flow sets Duo's configure_flow to null.
	duo := "/api/v3/stages/authenticator/duo/" + f.duo + "/"
	f.must(http.StatusOK, "PATCH", duo, `{"configure_flow": "`+f.flowPK+`"}`)
	third := f.must(http.StatusCreated, "POST", "/api/v3/flows/bindings/",
		`{"target": "`+f.flowPK+`", "stage": "`+f.duo+`", "order": 30}`)["pk"].(string)
	f.must(http.StatusNoContent, "DELETE", flow, "")
	f.do("GET", flow, "").expect(t, http.StatusNotFound, notFound)
	f.do("GET", "/api/v3/flows/bindings/"+third+"/", "").expect(t, http.StatusNotFound, notFound)
	fields(t, f.must(http.StatusOK, "GET", duo, ""), map[string]any{"configure_flow": nil, "flow_set": []any{}})
	f.must(http.StatusNoContent, "DELETE", "/api/v3/stages/authenticator/duo/"+f.duo+"/", "")
	all := f.must(http.StatusOK, "GET", "/api/v3/stages/all/", "")
	if n := all["pagination"].(map[string]any)["count"]; n != 0.0 {
		t.Errorf("stages left: %v", all)
	}
}

// TestReadOnlyFieldsIgnored: a GET body, edited and PUT back with every
// read-only key (and wrong values for them), round-trips; the read-only
// keys change nothing.
func TestReadOnlyFieldsIgnored(t *testing.T) {
	f := newFixture(t, nil)
	other := storetest.MissingPK(0).String()

	t.Run("flow", func(t *testing.T) {
		path := "/api/v3/flows/instances/" + f.flowSlug + "/"
		before := f.must(http.StatusOK, "GET", path, "")
		body := `{"pk": "` + other + `", "policybindingmodel_ptr_id": "` + other + `",
			"name": "Renamed", "slug": "default-authentication-flow", "title": "Welcome to authentik!",
			"designation": "authentication", "background": "https://evil.example/x.png",
			"stages": ["` + other + `"], "policies": ["` + other + `"], "cache_count": 99,
			"export_url": "/elsewhere/"}`
		got := f.must(http.StatusOK, "PUT", path, body)
		before["name"] = "Renamed"
		jsonEqual(t, mustJSON(t, got), string(mustJSON(t, before)))
	})

	t.Run("stage", func(t *testing.T) {
		path := "/api/v3/stages/user_write/" + f.userWrite + "/"
		got := f.must(http.StatusOK, "GET", path, "")
		got["name"] = "renamed-write"
		got["user_type"] = "service_account"
		want := string(mustJSON(t, got))
		got["pk"] = other
		got["component"] = "ak-stage-invitation-form"
		got["verbose_name"] = "Invitation Stage"
		got["verbose_name_plural"] = "x"
		got["meta_model_name"] = "authentik_stages_invitation.invitationstage"
		got["flow_set"] = []any{}
		res := f.must(http.StatusOK, "PUT", path, string(mustJSON(t, got)))
		jsonEqual(t, mustJSON(t, res), want)
		f.must(http.StatusOK, "GET", "/api/v3/stages/user_write/"+f.userWrite+"/", "")
	})

	t.Run("binding", func(t *testing.T) {
		path := "/api/v3/flows/bindings/" + f.bindPK + "/"
		got := f.must(http.StatusOK, "GET", path, "")
		got["order"] = 15
		want := string(mustJSON(t, got))
		got["pk"] = other
		got["policybindingmodel_ptr_id"] = other
		got["stage_obj"] = map[string]any{"pk": other, "name": "forged"}
		res := f.must(http.StatusOK, "PUT", path, string(mustJSON(t, got)))
		jsonEqual(t, mustJSON(t, res), want)
	})
}

// TestLists: filters, search, ordering and pagination in authentik's
// envelope.
func TestLists(t *testing.T) {
	c := newClient(t, nil)
	for i, d := range []string{"authentication", "enrollment", "recovery", "enrollment", "invalidation"} {
		c.must(http.StatusCreated, "POST", "/api/v3/flows/instances/",
			fmt.Sprintf(`{"name": "Flow %d", "slug": "flow-%d", "title": "Title %d", "designation": %q}`, 5-i, i, i, d))
	}
	slugs := func(m map[string]any) string {
		var out []string
		for _, r := range m["results"].([]any) {
			out = append(out, r.(map[string]any)["slug"].(string))
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		query, slugs string
		pagination   string
	}{
		{"", "flow-0,flow-1,flow-2,flow-3,flow-4",
			`{"next": 0, "previous": 0, "count": 5, "current": 1, "total_pages": 1, "start_index": 1, "end_index": 5}`},
		{"?designation=enrollment", "flow-1,flow-3", ""},
		{"?search=FLOW%203", "flow-2,flow-3", ""}, // every term matches some field
		{"?search=recov", "flow-2", ""},
		{"?ordering=-slug", "flow-4,flow-3,flow-2,flow-1,flow-0", ""},
		{"?ordering=name", "flow-4,flow-3,flow-2,flow-1,flow-0", ""},
		{"?ordering=nonsense", "flow-0,flow-1,flow-2,flow-3,flow-4", ""},
		{"?page_size=2", "flow-0,flow-1",
			`{"next": 2, "previous": 0, "count": 5, "current": 1, "total_pages": 3, "start_index": 1, "end_index": 2}`},
		{"?page_size=2&page=2", "flow-2,flow-3",
			`{"next": 3, "previous": 1, "count": 5, "current": 2, "total_pages": 3, "start_index": 3, "end_index": 4}`},
		{"?page_size=2&page=last", "flow-4",
			`{"next": 0, "previous": 2, "count": 5, "current": 3, "total_pages": 3, "start_index": 5, "end_index": 5}`},
		{"?slug=none", "",
			`{"next": 0, "previous": 0, "count": 0, "current": 1, "total_pages": 1, "start_index": 0, "end_index": 0}`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := c.must(http.StatusOK, "GET", "/api/v3/flows/instances/"+tt.query, "")
			if s := slugs(got); s != tt.slugs {
				t.Errorf("slugs %q, want %q", s, tt.slugs)
			}
			if tt.pagination != "" {
				jsonEqual(t, mustJSON(t, got["pagination"]), tt.pagination)
			}
		})
	}

	// Stage lists filter on the kind's fields; /stages/all/ lists every
	// kind in the base representation.
	c.must(http.StatusCreated, "POST", "/api/v3/stages/user_write/", `{"name": "w-internal", "user_type": "internal"}`)
	c.must(http.StatusCreated, "POST", "/api/v3/stages/user_write/", `{"name": "w-external"}`)
	c.must(http.StatusCreated, "POST", "/api/v3/stages/invitation/stages/", `{"name": "invite", "continue_flow_without_invitation": true}`)
	names := func(m map[string]any) string {
		var out []string
		for _, r := range m["results"].([]any) {
			out = append(out, r.(map[string]any)["name"].(string))
		}
		return strings.Join(out, ",")
	}
	if got := names(c.must(http.StatusOK, "GET", "/api/v3/stages/user_write/", "")); got != "w-external,w-internal" {
		t.Errorf("user_write list %q", got)
	}
	if got := names(c.must(http.StatusOK, "GET", "/api/v3/stages/user_write/?user_type=internal", "")); got != "w-internal" {
		t.Errorf("user_type filter %q", got)
	}
	if got := names(c.must(http.StatusOK, "GET", "/api/v3/stages/invitation/stages/?continue_flow_without_invitation=true&no_flows=true", "")); got != "invite" {
		t.Errorf("invitation filter %q", got)
	}
	if got := names(c.must(http.StatusOK, "GET", "/api/v3/stages/all/?ordering=name", "")); got != "invite,w-external,w-internal" {
		t.Errorf("all stages %q", got)
	}
	if got := names(c.must(http.StatusOK, "GET", "/api/v3/stages/all/?search=w-", "")); got != "w-internal,w-external" {
		t.Errorf("all stages search %q", got)
	}
}

// TestHead answers HEAD like GET, without a body on the wire.
func TestHead(t *testing.T) {
	f := newFixture(t, nil)
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	res, err := http.Head(srv.URL + "/api/v3/flows/instances/" + f.flowSlug + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" || res.ContentLength <= 0 {
		t.Errorf("HEAD: %d %v %d", res.StatusCode, res.Header, res.ContentLength)
	}
}

// dummy is a stage kind a host application registers in a registry of its
// own (the shape of authentik's DummyStage, which is also built in),
// served at /stages/dummy/ without any change to the router.
type dummy struct {
	ThrowError bool `json:"throw_error"`
}

func (dummy) ModelName() stage.ModelName { return "authentik_stages_dummy.dummystage" }

// TestRegisteredKind: a kind registered with a Path is served, with its
// permission codenames, and its stages appear in /stages/all/ and as
// binding stage_obj.
func TestRegisteredKind(t *testing.T) {
	reg := &stage.Registry{}
	reg.Register(stage.Kind{
		Model:       "authentik_stages_dummy.dummystage",
		New:         func() stage.Config { return &dummy{} },
		Component:   "ak-stage-dummy-form",
		VerboseName: "Dummy Stage",
		Path:        "dummy",
	})
	p := denying()
	c := &client{t: t, h: api.NewHandler(newStore(t, &store.Options{StageKinds: reg}), &api.Options{Authorize: p.authorize})}
	got := c.must(http.StatusCreated, "POST", "/api/v3/stages/dummy/", `{"name": "dummy", "throw_error": true}`)
	fields(t, got, map[string]any{
		"name": "dummy", "component": "ak-stage-dummy-form", "verbose_name": "Dummy Stage",
		"verbose_name_plural": "Dummy Stages", "meta_model_name": "authentik_stages_dummy.dummystage",
		"flow_set": []any{}, "throw_error": true,
	})
	path := "/api/v3/stages/dummy/" + got["pk"].(string) + "/"
	fields(t, c.must(http.StatusOK, "PATCH", path, `{"throw_error": false}`), map[string]any{"throw_error": false})
	c.do("PATCH", path, `{"throw_error": "loud"}`).expect(t, http.StatusBadRequest, `{"throw_error": ["Must be a valid boolean."]}`)
	if got := p.take(); got[0] != "authentik_stages_dummy.add_dummystage" || got[len(got)-1] != "authentik_stages_dummy.change_dummystage" {
		t.Errorf("permissions asked: %q", got)
	}
	fl := c.must(http.StatusCreated, "POST", "/api/v3/flows/instances/", flowBody)
	b := c.must(http.StatusCreated, "POST", "/api/v3/flows/bindings/", `{"target": "`+fl["pk"].(string)+`", "stage": "`+got["pk"].(string)+`", "order": 0}`)
	fields(t, b["stage_obj"].(map[string]any), map[string]any{"component": "ak-stage-dummy-form", "name": "dummy"})
	c.must(http.StatusOK, "GET", "/api/v3/stages/all/", "")
	// The built-in kinds are not in this registry, so not served.
	c.do("GET", "/api/v3/stages/user_write/", "").expect(t, http.StatusNotFound, notFound)
	c.must(http.StatusNoContent, "DELETE", path, "")
}

// TestSchemaChecker: the conformance check rejects what it should, so the
// suite's passing responses mean something.
func TestSchemaChecker(t *testing.T) {
	f := newFixture(t, nil)
	duoPath := "/api/v3/stages/authenticator/duo/" + f.duo + "/"
	duo := f.must(http.StatusOK, "GET", duoPath, "")
	flowPath := "/api/v3/flows/instances/" + f.flowSlug + "/"
	flow := f.must(http.StatusOK, "GET", flowPath, "")
	with := func(m map[string]any, k string, v any) string {
		c := map[string]any{}
		for kk, vv := range m {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return string(mustJSON(t, c))
	}
	hdr := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name, method, path string
		status             int
		body               string
		want               string
	}{
		{"write-only secret", "GET", duoPath, 200, with(duo, "client_secret", "s"), `writeOnly property "client_secret"`},
		{"missing required", "GET", duoPath, 200, with(duo, "client_id", nil), `property "client_id" is missing`},
		{"unknown key", "GET", duoPath, 200, with(duo, "model", "x"), `property "model" is unsupported`},
		{"not a uuid", "GET", duoPath, 200, with(duo, "pk", "3fa85f64"), "uuid"},
		{"bad enum", "PATCH", flowPath, 200, with(flow, "layout", "diagonal"), "layout"},
		{"wrong type", "PATCH", flowPath, 200, with(flow, "stages", "none"), "stages"},
		{"validation error shape", "PATCH", flowPath, 400, `{"non_field_errors": "x"}`, "non_field_errors"},
		{"403 without detail", "PATCH", flowPath, 403, `{}`, `property "detail" is missing`},
		{"404 with another key", "GET", flowPath, 404, `{"detail": "Not found.", "message": "x"}`, `property "message" is unsupported`},
		{"405 without detail", "POST", "/api/v3/stages/all/", 405, `[]`, "GenericError"},
		{"undocumented success", "GET", flowPath, 201, string(mustJSON(t, flow)), "not documented"},
		{"204 with a body", "DELETE", flowPath, 204, `{}`, "204"},
		{"used_by not an array", "GET", flowPath + "used_by/", 200, `{"results": []}`, "array"},
		{"used_by bad action", "GET", flowPath + "used_by/", 200,
			`[{"app": "a", "model_name": "m", "pk": "1", "name": "n", "action": "protect"}]`, "action"},
		{"409 without protected_by", "DELETE", flowPath, 409, `{"detail": "x"}`, `property "protected_by" is missing`},
		{"409 with another key", "DELETE", flowPath, 409, `{"detail": "x", "protected_by": [], "blockers": []}`, `property "blockers" is unsupported`},
		{"409 bad entry", "DELETE", flowPath, 409, `{"detail": "x", "protected_by": [{"app": "a"}]}`, `property "model_name" is missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			_, err := validateResponse(req, tt.status, hdr, []byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// TestConcurrentRequests: the handler is safe for concurrent use; every
// writer's last patch is what it reads back.
func TestConcurrentRequests(t *testing.T) {
	c := newClient(t, nil)
	const writers, rounds = 4, 10
	for w := 0; w < writers; w++ {
		c.must(http.StatusCreated, "POST", "/api/v3/flows/instances/",
			fmt.Sprintf(`{"name": "F%d", "slug": "f-%d", "title": "t", "designation": "recovery"}`, w, w))
	}
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			path := fmt.Sprintf("/api/v3/flows/instances/f-%d/", w)
			for i := 0; i < rounds; i++ {
				if res := c.do("PATCH", path, fmt.Sprintf(`{"title": "round %d"}`, i)); res.Code != http.StatusOK {
					t.Errorf("PATCH %s: %d", path, res.Code)
				}
				if res := c.do("GET", "/api/v3/flows/instances/?search=f-", ""); res.Code != http.StatusOK {
					t.Errorf("list: %d", res.Code)
				}
			}
		}(w)
	}
	wg.Wait()
	for w := 0; w < writers; w++ {
		got := c.must(http.StatusOK, "GET", fmt.Sprintf("/api/v3/flows/instances/f-%d/", w), "")
		if got["title"] != fmt.Sprintf("round %d", rounds-1) {
			t.Errorf("f-%d: title %v", w, got["title"])
		}
	}
}
