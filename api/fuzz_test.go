package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/google/uuid"
)

// FuzzHandler sends arbitrary requests (method, path and query under
// /api/v3/, Content-Type, body) through the handler. Every input runs on
// its own copy of one seeded store (a flow, a Duo stage whose secrets
// start with secretMarker, a User Write stage and a binding), so writes
// never leak from one input into the next. For every input:
//
//   - the handler does not panic;
//   - the status is one the API documents (never 500);
//   - a 204 has no body, every other body is JSON (a HEAD may be empty);
//   - no body contains a write-only secret (secretMarker), unless the
//     request itself put the marker somewhere the API may echo it;
//   - afterwards every binding refers to a flow and a stage that exist,
//     and every Duo configure_flow to a flow that exists.
func FuzzHandler(f *testing.F) {
	// Deterministic keys, so that the seeds below name the same objects in
	// every fuzzing worker process.
	s := newStore(f, &store.Options{NewID: storetest.CounterIDs(1, 1)})
	c := &client{t: f, h: api.NewHandler(s, nil)}
	fl := c.must(http.StatusCreated, "POST", "/api/v3/flows/instances/", flowBody)
	slug, flowPK := fl["slug"].(string), fl["pk"].(string)
	uw := c.must(http.StatusCreated, "POST", "/api/v3/stages/user_write/", userWriteBody)["pk"].(string)
	duo := c.must(http.StatusCreated, "POST", "/api/v3/stages/authenticator/duo/", `{"name": "fuzz-duo",
		"client_id": "DIXXXXXXXXXXXXXXXXXX", "client_secret": "SECRET-fuzz", "api_hostname": "api-xxxxxxxx.duosecurity.com",
		"admin_integration_key": "DIADMIN", "admin_secret_key": "SECRET-admin", "configure_flow": "`+flowPK+`"}`)["pk"].(string)
	bind := c.must(http.StatusCreated, "POST", "/api/v3/flows/bindings/",
		`{"target": "`+flowPK+`", "stage": "`+uw+`", "order": 10}`)["pk"].(string)
	pol := c.must(http.StatusCreated, "POST", "/api/v3/policies/expression/", `{"name": "fuzz-policy", "expression": "return True"}`)["pk"].(string)
	pbind := c.must(http.StatusCreated, "POST", "/api/v3/policies/bindings/",
		`{"target": "`+fl["policybindingmodel_ptr_id"].(string)+`", "policy": "`+pol+`", "order": 0}`)["pk"].(string)
	var template bytes.Buffer
	if _, err := s.Backup(context.Background(), &template); err != nil {
		f.Fatal(err)
	}
	s.Close()

	const (
		json_ = "application/json"
		merge = "application/merge-patch+json"
	)
	flowObj := "flows/instances/" + slug + "/"
	duoObj := "stages/authenticator/duo/" + duo + "/"
	bindObj := "flows/bindings/" + bind + "/"
	for _, seed := range []struct{ method, path, ct, body string }{
		{"GET", "flows/instances/", "", ""},
		{"GET", "flows/instances/?page=1&page_size=1&ordering=-slug,title&search=welcome&designation=authentication", "", ""},
		{"GET", "flows/instances/?page=last&page_size=0&slug=%20" + slug + "%20", "", ""},
		{"GET", "flows/instances/?page=0", "", ""},
		{"GET", "flows/instances/?designation=nope&authentication=require_superuser", "", ""},
		{"HEAD", "flows/instances/?search=%00", "", ""},
		{"POST", "flows/instances/", json_, `{"name": "N", "slug": "n-1", "title": "T", "designation": "enrollment"}`},
		{"POST", "flows/instances/", json_, `{"name":`},
		{"POST", "flows/instances/", json_, `[{"name": "N"}]`},
		{"POST", "flows/instances/", "application/x-www-form-urlencoded", `name=N&slug=n`},
		{"GET", flowObj, "", ""},
		{"HEAD", flowObj, "", ""},
		{"PUT", flowObj, json_, `{"name": "R", "slug": "renamed", "title": "R", "designation": "recovery", "layout": "content_left"}`},
		{"PATCH", flowObj, merge, `{"title": null, "slug": "Bad Slug"}`},
		{"PATCH", flowObj, "text/plain", `{"title": "T"}`},
		{"PATCH", flowObj, json_, `null`},
		{"DELETE", flowObj, "", ""},
		{"OPTIONS", "flows/instances/", "", ""},
		{"WRITE", flowObj, "", ""}, // an other method: W is 7 mod 8
		{"GET", "flows/instances", "", ""},
		{"GET", "flows/bindings/?target=%7B" + flowPK + "%7D&ordering=-order&page_size=1000&evaluate_on_plan=False", "", ""},
		{"GET", "flows/bindings/?stage=not-a-uuid&order=1e1", "", ""},
		{"POST", "flows/bindings/", json_, `{"target": "` + flowPK + `", "stage": "` + duo + `", "order": 20}`},
		{"POST", "flows/bindings/", json_, `{"target": "` + flowPK + `", "stage": "` + uw + `", "order": 10,
			"evaluate_on_plan": false, "re_evaluate_policies": false}`},
		{"GET", "flows/bindings/not-a-uuid/", "", ""},
		{"PATCH", bindObj, json_, `{"order": "x", "stage": "00000000-0000-0000-0000-000000000000"}`},
		{"PUT", bindObj, json_, `{"target": "` + flowPK + `", "stage": "` + duo + `", "order": 2147483648}`},
		{"DELETE", bindObj, "", ""},
		{"GET", "policies/all/?bindings__isnull=true&promptstage__isnull=1&search=fuzz", "", ""},
		{"GET", "policies/all/types/", "", ""},
		{"GET", "policies/geoip_iso3166/", "", ""},
		{"POST", "policies/event_matcher/", json_, `{"name": "e", "action": null, "app": "", "client_ip": " ", "model": 1}`},
		{"POST", "policies/geoip/", json_, `{"name": "g", "countries": ["DE", "XX", null], "asns": [1, "2", 1e99]}`},
		{"PATCH", "policies/expression/" + pol + "/", json_, `{"expression": "", "execution_logging": "yes"}`},
		{"DELETE", "policies/all/" + pol + "/", "", ""},
		{"GET", "policies/bindings/?target=" + flowPK + "&policy__isnull=false&ordering=-order,timeout", "", ""},
		{"POST", "policies/bindings/", json_, `{"target": "` + bind + `", "group": "` + flowPK + `", "user": 1, "order": 1}`},
		{"PATCH", "policies/bindings/" + pbind + "/", json_, `{"policy": null, "user": 7, "target": "` + pol + `"}`},
		{"DELETE", "policies/bindings/" + pbind + "/", "", ""},
		{"GET", "stages/all/?search=duo&ordering=name", "", ""},
		{"GET", "stages/all/" + duo + "/", "", ""},
		{"POST", "stages/all/", json_, `{}`},
		{"DELETE", "stages/all/" + uw + "/", "", ""},
		{"GET", duoObj, "", ""},
		{"PATCH", duoObj, merge, `{"client_secret": "SECRET-new", "admin_secret_key": "", "configure_flow": null}`},
		{"PUT", duoObj, json_, `{"name": "fuzz-duo"}`},
		{"DELETE", duoObj, "", ""},
		{"GET", "stages/user_write/" + duo + "/", "", ""},
		{"POST", "stages/user_write/", json_, `{"name": "uw2", "user_type": "bogus", "create_users_group": "x"}`},
		{"POST", "stages/invitation/stages/", json_, `"string"`},
		{"PATCH", "stages/invitation/stages/" + uw + "/", json_, `{}`},
		{"PATCH", "stages/user_write/" + uw + "/", merge, ``},
		{"GET", "stages/../flows/instances/%2e%2e/", "", ""},
		{"GET", flowObj + "used_by/", "", ""},
		{"DELETE", flowObj + "used_by/", "", ""},
		{"GET", bindObj + "used_by/", "", ""},
		{"GET", duoObj + "used_by/", "", ""},
		{"GET", "stages/all/" + uw + "/used_by/", "", ""},
		{"GET", "stages/user_write/" + duo + "/used_by/", "", ""},
		{"POST", "stages/all/used_by/", json_, `{}`},
	} {
		f.Add(seed.method, seed.path, seed.ct, []byte(seed.body))
	}

	flowID, duoID := uuid.MustParse(flowPK), uuid.MustParse(duo)
	f.Fuzz(func(t *testing.T, method, path, contentType string, body []byte) {
		method = fuzzMethod(method)
		req, err := http.NewRequest(method, api.Prefix+path, bytes.NewReader(body))
		if err != nil {
			t.Skip(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}

		s := openCopy(t, template.Bytes())
		rec := httptest.NewRecorder()
		api.NewHandler(s, nil).ServeHTTP(rec, req)
		got := rec.Body.Bytes()
		what := fmt.Sprintf("%s %q (Content-Type %q, body %q)", method, req.URL.RequestURI(), contentType, body)

		switch rec.Code {
		case 200, 201, 204, 400, 403, 404, 405, 413, 415, 503:
		default:
			t.Errorf("%s: status %d; body %s", what, rec.Code, got)
		}
		switch {
		case rec.Code == http.StatusNoContent:
			if len(got) != 0 {
				t.Errorf("%s: 204 with a body: %s", what, got)
			}
		case method == http.MethodHead && len(got) == 0:
		case !json.Valid(got):
			t.Errorf("%s: status %d, body is not JSON: %q", what, rec.Code, got)
		}
		if bytes.Contains(got, []byte(secretMarker)) && !mayEcho(req, contentType, body) {
			t.Errorf("%s: status %d, a write-only secret is in the response: %s", what, rec.Code, got)
		}
		checkInvariants(t, s, what)

		// The seeded objects are only gone when the input asked so.
		if _, err := inView(s, func(tx *store.Tx) (flow.Flow, error) { return store.Flows.Get(tx, store.PK(flowID)) }); err != nil && method != http.MethodDelete {
			t.Errorf("%s: the seeded flow is gone: %v", what, err)
		}
		if _, err := inView(s, func(tx *store.Tx) (stage.Stage, error) { return store.Stages.Get(tx, store.PK(duoID)) }); err != nil && method != http.MethodDelete {
			t.Errorf("%s: the seeded Duo stage is gone: %v", what, err)
		}
	})
}

// fuzzMethods are the methods FuzzHandler sends; "" stands for any other
// method.
var fuzzMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", ""}

// fuzzMethod maps an input to a method: one of fuzzMethods spelled
// exactly is itself; anything else picks one by its first byte, and the
// pick "other" is the input itself (or PROPFIND when the input cannot be
// a method; http.NewRequest refuses the rest).
func fuzzMethod(in string) string {
	for _, m := range fuzzMethods {
		if m != "" && in == m {
			return m
		}
	}
	if in == "" {
		return http.MethodGet
	}
	if m := fuzzMethods[int(in[0])%len(fuzzMethods)]; m != "" {
		return m
	}
	if strings.ContainsFunc(in, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r) }) {
		return "PROPFIND"
	}
	return in
}

// openCopy opens a copy of the store file image in t.TempDir().
func openCopy(t *testing.T, image []byte) *store.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "api.db")
	if err := os.WriteFile(path, image, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(path, &store.Options{NoSync: true, NewID: storetest.CounterIDs(1<<20+1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// mayEcho reports whether a request puts secretMarker where a response may
// rightly repeat it: the method (405), the Content-Type (415), the path
// or query (filter errors), or a JSON key or string value outside the
// write-only fields (validation messages and stored objects). A secret
// field's value must never come back.
func mayEcho(req *http.Request, contentType string, body []byte) bool {
	has := func(s string) bool { return strings.Contains(s, secretMarker) }
	if has(req.Method) || has(contentType) || has(req.URL.Path) || has(req.URL.RawQuery) {
		return true
	}
	if q, err := url.QueryUnescape(req.URL.RawQuery); err != nil || has(q) {
		return true
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		// Not JSON: only a parse error message can come back, which
		// quotes no more than a character; stay on the safe side.
		return bytes.Contains(body, []byte(secretMarker)) || bytes.Contains(body, []byte(`\u`))
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return has(v)
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case map[string]any:
			for k, e := range v {
				if has(k) {
					return true
				}
				if k == "client_secret" || k == "admin_secret_key" {
					continue
				}
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// checkInvariants checks that every binding refers to a flow and a stage
// that exist, and every Duo stage's configure_flow to a flow that exists.
func checkInvariants(t *testing.T, s *store.Store, what string) {
	t.Helper()
	err := s.View(context.Background(), func(tx *store.Tx) error {
		for page := 1; ; page++ {
			p, err := store.Bindings.List(tx, store.Query{Page: page, PageSize: store.MaxPageSize})
			if err != nil {
				t.Fatalf("%s: ListBindings: %v", what, err)
			}
			for _, b := range p.Results {
				if _, err := store.Flows.Get(tx, store.PK(b.Target)); err != nil {
					t.Errorf("%s: binding %s targets flow %s: %v", what, b.PK, b.Target, err)
				}
				if _, err := store.Stages.Get(tx, store.PK(b.Stage)); err != nil {
					t.Errorf("%s: binding %s binds stage %s: %v", what, b.PK, b.Stage, err)
				}
			}
			if p.Pagination.Next == 0 {
				break
			}
		}
		p, err := store.Stages.Kind(string(stage.ModelAuthenticatorDuo)).List(tx, store.Query{PageSize: store.MaxPageSize})
		if err != nil {
			t.Fatalf("%s: ListStages: %v", what, err)
		}
		for _, st := range p.Results {
			var cf *uuid.UUID
			switch d := st.Config.(type) {
			case stage.AuthenticatorDuo:
				cf = d.ConfigureFlow
			case *stage.AuthenticatorDuo:
				cf = d.ConfigureFlow
			default:
				t.Fatalf("%s: Duo stage %s has config %T", what, st.PK, st.Config)
			}
			if cf != nil {
				if _, err := store.Flows.Get(tx, store.PK(*cf)); err != nil {
					t.Errorf("%s: Duo stage %s configure_flow %s: %v", what, st.PK, *cf, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
