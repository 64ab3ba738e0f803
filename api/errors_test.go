package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/google/uuid"
)

const (
	notFound    = `{"detail": "Not found."}`
	invalidPage = `{"detail": "Invalid page."}`
)

// TestErrorPaths covers every error response of the seed-era API, in
// authentik's exact bodies.
func TestErrorPaths(t *testing.T) {
	f := newFixture(t, nil)
	flow := "/api/v3/flows/instances/" + f.flowSlug + "/"
	uw := "/api/v3/stages/user_write/" + f.userWrite + "/"
	missing := storetest.MissingPK(0).String()

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		header []string
		status int
		want   string // exact JSON, or a prefix of detail when it ends in "..."
		allow  string
	}{
		// 400: malformed JSON, and bodies that are not objects.
		{"malformed JSON", "PATCH", flow, `{"title": `, nil, 400, `JSON parse error - ...`, ""},
		{"trailing data", "PUT", flow, `{"title": "x"} {}`, nil, 400, `JSON parse error - ...`, ""},
		{"whitespace only", "POST", "/api/v3/flows/instances/", " \n", nil, 400, `JSON parse error - ...`, ""},
		{"list body", "PATCH", flow, `[{"title": "x"}]`, nil, 400, `{"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}`, ""},
		{"string body", "PUT", uw, `"name"`, nil, 400, `{"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}`, ""},
		{"int body", "POST", "/api/v3/flows/bindings/", `12`, nil, 400, `{"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]}`, ""},
		{"float body", "POST", "/api/v3/stages/user_write/", `1.5`, nil, 400, `{"non_field_errors": ["Invalid data. Expected a dictionary, but got float."]}`, ""},
		{"bool body", "PATCH", uw, `true`, nil, 400, `{"non_field_errors": ["Invalid data. Expected a dictionary, but got bool."]}`, ""},
		{"null body", "PATCH", flow, `null`, nil, 400, `{"non_field_errors": ["Invalid data. Expected a dictionary, but got NoneType."]}`, ""},
		{"empty POST is {}", "POST", "/api/v3/flows/instances/", "", nil, 400, `{
			"name": ["This field is required."], "slug": ["This field is required."],
			"title": ["This field is required."], "designation": ["This field is required."]}`, ""},
		{"unknown key", "PATCH", flow, `{"colour": "blue"}`, nil, 400, `{"colour": ["Unknown field."]}`, ""},
		{"bad filter", "GET", "/api/v3/flows/instances/?designation=nope", "", nil, 400,
			`{"designation": ["Select a valid choice. nope is not one of the available choices."]}`, ""},
		{"bad uuid filter", "GET", "/api/v3/flows/bindings/?target=xyz", "", nil, 400, `{"target": ["Enter a valid UUID."]}`, ""},

		// 404.
		{"unknown slug", "GET", "/api/v3/flows/instances/nope/", "", nil, 404, notFound, ""},
		{"unknown slug PATCH", "PATCH", "/api/v3/flows/instances/nope/", `{"title": "x"}`, nil, 404, notFound, ""},
		{"unknown slug DELETE", "DELETE", "/api/v3/flows/instances/nope/", "", nil, 404, notFound, ""},
		{"unknown binding", "GET", "/api/v3/flows/bindings/" + missing + "/", "", nil, 404, notFound, ""},
		{"malformed binding uuid", "GET", "/api/v3/flows/bindings/not-a-uuid/", "", nil, 404, notFound, ""},
		{"malformed stage uuid", "PATCH", "/api/v3/stages/user_write/123/", `{}`, nil, 404, notFound, ""},
		{"malformed all uuid", "DELETE", "/api/v3/stages/all/zzz/", "", nil, 404, notFound, ""},
		{"unknown stage", "PUT", "/api/v3/stages/invitation/stages/" + missing + "/", `{"name": "x"}`, nil, 404, notFound, ""},
		{"Duo pk under user_write GET", "GET", "/api/v3/stages/user_write/" + f.duo + "/", "", nil, 404, notFound, ""},
		{"Duo pk under user_write PATCH", "PATCH", "/api/v3/stages/user_write/" + f.duo + "/", `{"name": "hijacked"}`, nil, 404, notFound, ""},
		{"Duo pk under user_write PUT", "PUT", "/api/v3/stages/user_write/" + f.duo + "/", `{"name": "hijacked"}`, nil, 404, notFound, ""},
		{"Duo pk under user_write DELETE", "DELETE", "/api/v3/stages/user_write/" + f.duo + "/", "", nil, 404, notFound, ""},
		{"invitation pk under duo", "GET", "/api/v3/stages/authenticator/duo/" + f.invitation + "/", "", nil, 404, notFound, ""},
		{"unknown route", "GET", "/api/v3/stages/nope/", "", nil, 404, notFound, ""},
		{"unknown kind object", "GET", "/api/v3/stages/nope/" + f.duo + "/", "", nil, 404, notFound, ""},
		{"no trailing slash", "GET", "/api/v3/flows/instances", "", nil, 404, notFound, ""},
		{"outside the prefix", "GET", "/api/v2/flows/instances/", "", nil, 404, notFound, ""},
		{"nested too deep", "GET", flow + "extra/", "", nil, 404, notFound, ""},
		{"page out of range", "GET", "/api/v3/flows/instances/?page=2", "", nil, 404, invalidPage, ""},
		{"page not a number", "GET", "/api/v3/stages/all/?page=two", "", nil, 404, invalidPage, ""},

		// 405, with Allow.
		{"POST /stages/all/", "POST", "/api/v3/stages/all/", `{"name": "x"}`, nil, 405, `{"detail": "Method \"POST\" not allowed."}`, "GET, HEAD"},
		{"PUT /stages/all/{id}/", "PUT", "/api/v3/stages/all/" + f.duo + "/", `{"name": "x"}`, nil, 405, `{"detail": "Method \"PUT\" not allowed."}`, "GET, DELETE, HEAD"},
		{"PATCH /stages/all/{id}/", "PATCH", "/api/v3/stages/all/" + f.duo + "/", `{}`, nil, 405, `{"detail": "Method \"PATCH\" not allowed."}`, "GET, DELETE, HEAD"},
		{"DELETE a collection", "DELETE", "/api/v3/flows/instances/", "", nil, 405, `{"detail": "Method \"DELETE\" not allowed."}`, "GET, POST, HEAD"},
		{"POST an object", "POST", uw, `{}`, nil, 405, `{"detail": "Method \"POST\" not allowed."}`, "GET, PUT, PATCH, DELETE, HEAD"},
		{"OPTIONS", "OPTIONS", "/api/v3/flows/bindings/", "", nil, 405, `{"detail": "Method \"OPTIONS\" not allowed."}`, "GET, POST, HEAD"},

		// 415.
		{"text/plain PATCH", "PATCH", flow, `{"title": "x"}`, []string{"Content-Type", "text/plain"}, 415,
			`{"detail": "Unsupported media type \"text/plain\" in request."}`, ""},
		{"form POST", "POST", "/api/v3/flows/instances/", `name=x`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415,
			`{"detail": "Unsupported media type \"application/x-www-form-urlencoded\" in request."}`, ""},
		{"merge-patch PUT", "PUT", uw, `{"name": "x"}`, []string{"Content-Type", "application/merge-patch+json"}, 415,
			`{"detail": "Unsupported media type \"application/merge-patch+json\" in request."}`, ""},
		{"merge-patch POST", "POST", "/api/v3/stages/user_write/", `{"name": "x"}`, []string{"Content-Type", "application/merge-patch+json"}, 415,
			`{"detail": "Unsupported media type \"application/merge-patch+json\" in request."}`, ""},
		{"malformed media type", "PATCH", flow, `{}`, []string{"Content-Type", "application/json; charset"}, 415,
			`{"detail": "Unsupported media type \"application/json; charset\" in request."}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(tt.method, tt.path, tt.body, tt.header...)
			if prefix, ok := strings.CutSuffix(tt.want, "..."); ok {
				if res.Code != tt.status {
					t.Fatalf("status %d, want %d: %s", res.Code, tt.status, res.Body)
				}
				d, _ := res.object(t)["detail"].(string)
				if !strings.HasPrefix(d, prefix) || len(d) <= len(prefix) || strings.Contains(d, "validate:") {
					t.Errorf("detail %q, want %q and the parser's message", d, tt.want)
				}
				if len(res.object(t)) != 1 {
					t.Errorf("body %s has more than detail", res.Body)
				}
			} else {
				res.expect(t, tt.status, tt.want)
			}
			if got := res.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}

	// Nothing above changed anything.
	fields(t, f.must(200, "GET", "/api/v3/stages/authenticator/duo/"+f.duo+"/", ""), map[string]any{"name": "default-duo-setup"})
	fields(t, f.must(200, "GET", uw, ""), map[string]any{"name": "default-source-enrollment-write"})
}

// TestMediaTypes: PATCH takes JSON and merge-patch JSON, with parameters;
// a body without a Content-Type is read as JSON; an empty PATCH changes
// nothing.
func TestMediaTypes(t *testing.T) {
	f := newFixture(t, nil)
	flow := "/api/v3/flows/instances/" + f.flowSlug + "/"
	for i, ct := range []string{"application/json", "application/merge-patch+json", "application/json; charset=utf-8", "Application/JSON", ""} {
		title := "Title " + string(rune('A'+i))
		got := f.must(http.StatusOK, "PATCH", flow, `{"title": "`+title+`"}`, "Content-Type", ct)
		if got["title"] != title {
			t.Errorf("Content-Type %q: title %v", ct, got["title"])
		}
	}
	got := f.must(http.StatusOK, "PATCH", flow, "", "Content-Type", "text/plain")
	if got["title"] != "Title E" {
		t.Errorf("empty PATCH changed the title to %v", got["title"])
	}
	// A merge patch merges: null resets a nullable field.
	duo := "/api/v3/stages/authenticator/duo/" + f.duo + "/"
	f.must(http.StatusOK, "PATCH", duo, `{"friendly_name": "x", "configure_flow": "`+f.flowPK+`"}`)
	got = f.must(http.StatusOK, "PATCH", duo, `{"configure_flow": null}`, "Content-Type", "application/merge-patch+json")
	fields(t, got, map[string]any{"configure_flow": nil, "friendly_name": "x"})
}

// TestBodyLimit: bodies over Options.MaxBodyBytes get 413, whether the
// length is declared or not, and nothing is written.
func TestBodyLimit(t *testing.T) {
	f := newFixture(t, &api.Options{MaxBodyBytes: 256})
	flow := "/api/v3/flows/instances/" + f.flowSlug + "/"
	big := `{"title": "` + strings.Repeat("x", 400) + `"}`
	want := `{"detail": "Request body too large: the limit is 256 bytes."}`
	f.do("PATCH", flow, big).expect(t, http.StatusRequestEntityTooLarge, want)

	req := httptest.NewRequest("PATCH", flow, struct{ *strings.Reader }{strings.NewReader(big)})
	req.ContentLength = -1 // chunked: the limit is found while reading
	req.Header.Set("Content-Type", "application/json")
	f.send(req).expect(t, http.StatusRequestEntityTooLarge, want)

	if got := f.must(http.StatusOK, "GET", flow, ""); got["title"] != "Welcome to authentik!" {
		t.Errorf("an oversized PATCH was applied: %v", got["title"])
	}
	f.must(http.StatusOK, "PATCH", flow, `{"title": "short"}`)

	// The default limit is 1 MiB.
	d := newFixture(t, nil)
	huge := `{"title": "` + strings.Repeat("x", 1<<20) + `"}`
	d.do("PATCH", flow, huge).expect(t, http.StatusRequestEntityTooLarge, `{"detail": "Request body too large: the limit is 1048576 bytes."}`)
}

// TestClosedStore: every operation on a closed store is a 503 with a
// detail.
func TestClosedStore(t *testing.T) {
	s := newStore(t, nil)
	c := &client{t: t, h: api.NewHandler(s, nil)}
	f := setup(c)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/v3/flows/instances/", ""},
		{"GET", "/api/v3/flows/instances/" + f.flowSlug + "/", ""},
		{"POST", "/api/v3/flows/instances/", `{"name": "x", "slug": "x", "title": "x", "designation": "recovery"}`},
		{"PATCH", "/api/v3/flows/instances/" + f.flowSlug + "/", `{"title": "x"}`},
		{"PUT", "/api/v3/stages/user_write/" + f.userWrite + "/", `{"name": "x"}`},
		{"DELETE", "/api/v3/flows/bindings/" + f.bindPK + "/", ""},
		{"GET", "/api/v3/stages/all/", ""},
	} {
		c.do(r.method, r.path, r.body).expect(t, http.StatusServiceUnavailable, `{"detail": "The configuration store is closed."}`)
	}
}

// TestStoreFailure: an internal failure is a 500 whose body says nothing
// about the cause, which goes to the error log instead.
func TestStoreFailure(t *testing.T) {
	var fail atomic.Bool
	s := newStore(t, &store.Options{NewID: func() (uuid.UUID, error) {
		if fail.Load() {
			return uuid.Nil, errors.New("entropy pool on fire")
		}
		return uuid.NewV7()
	}})
	var logged bytes.Buffer
	c := &client{t: t, h: api.NewHandler(s, &api.Options{ErrorLog: log.New(&logged, "", 0)})}
	fail.Store(true)
	res := c.do("POST", "/api/v3/flows/instances/", `{"name": "x", "slug": "x", "title": "x", "designation": "recovery"}`)
	res.expect(t, http.StatusInternalServerError, `{"detail": "A server error occurred."}`)
	if !strings.Contains(logged.String(), "entropy pool on fire") || !strings.Contains(logged.String(), "POST /api/v3/flows/instances/") {
		t.Errorf("the cause was not logged: %q", logged.String())
	}
	fail.Store(false)
	c.must(http.StatusOK, "GET", "/api/v3/flows/instances/", "")
	if got := c.must(http.StatusOK, "GET", "/api/v3/flows/instances/", ""); got["pagination"].(map[string]any)["count"] != 0.0 {
		t.Errorf("the failed create wrote something: %v", got)
	}
}

// TestLostRace: a write that kept losing the race to commit on an
// optimistic backend (store.ErrLostRace) is a 503 that says to try again,
// and nothing is written.
func TestLostRace(t *testing.T) {
	var lose atomic.Bool
	s := newStore(t, &store.Options{NewID: func() (uuid.UUID, error) {
		if lose.Load() {
			return uuid.Nil, fmt.Errorf("a backend's retries ran out: %w", store.ErrLostRace)
		}
		return uuid.NewV7()
	}})
	c := &client{t: t, h: api.NewHandler(s, nil)}
	lose.Store(true)
	c.do("POST", "/api/v3/flows/instances/", `{"name": "x", "slug": "x", "title": "x", "designation": "recovery"}`).
		expect(t, http.StatusServiceUnavailable, `{"detail": "The store was too busy with other writes: try again."}`)
	lose.Store(false)
	if got := c.must(http.StatusOK, "GET", "/api/v3/flows/instances/", ""); got["pagination"].(map[string]any)["count"] != 0.0 {
		t.Errorf("the lost write wrote something: %v", got)
	}
}

// TestReadOnlyStore: writes to a store opened read-only are 503; reads
// work.
func TestReadOnlyStore(t *testing.T) {
	s := newStore(t, nil)
	path := s.Path()
	setup(&client{t: t, h: api.NewHandler(s, nil)})
	s.Close()
	ro, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	c := &client{t: t, h: api.NewHandler(ro, nil)}
	c.must(http.StatusOK, "GET", "/api/v3/flows/instances/default-authentication-flow/", "")
	c.do("PATCH", "/api/v3/flows/instances/default-authentication-flow/", `{"title": "x"}`).
		expect(t, http.StatusServiceUnavailable, `{"detail": "The configuration store is read-only."}`)
}

// TestCancelledRequest: a request whose context is done before the store
// is reached gets a 503 and writes nothing.
func TestCancelledRequest(t *testing.T) {
	f := newFixture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("PATCH", "/api/v3/flows/instances/"+f.flowSlug+"/", strings.NewReader(`{"title": "x"}`)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	f.send(req).expect(t, http.StatusServiceUnavailable, `{"detail": "The request was cancelled before it completed."}`)
	if got := f.must(http.StatusOK, "GET", "/api/v3/flows/instances/"+f.flowSlug+"/", ""); got["title"] != "Welcome to authentik!" {
		t.Errorf("title %v", got["title"])
	}
}
