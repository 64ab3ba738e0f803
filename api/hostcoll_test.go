package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// memo is a host's own collection: its Declaration's path is all the
// api needs to serve it, with authentik's permission codenames.
type memo struct {
	PK   uuid.UUID `json:"pk" af:"readonly"`
	Text string    `json:"text" af:"required"`
}

func TestHostCollectionRoute(t *testing.T) {
	s := newStore(t, &store.Options{Collections: []store.Declarer{store.Declaration[memo, memo]{
		Model: "acme_memos.memo", Path: "acme/memos", Defaults: func() memo { return memo{} }, Unique: []string{"text"},
	}}})
	p := denying()
	h := api.NewHandler(s, &api.Options{Authorize: p.authorize})
	do := func(method, path, body string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	w := do("POST", "/api/v3/acme/memos/", `{"text":"hello"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var m memo
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m.Text != "hello" || m.PK == uuid.Nil {
		t.Fatalf("create: %s", w.Body)
	}
	if w := do("POST", "/api/v3/acme/memos/", `{"text":"hello"}`); w.Code != http.StatusBadRequest ||
		!strings.Contains(w.Body.String(), `{"text":["memo with this text already exists."]}`) {
		t.Errorf("duplicate: %d %s", w.Code, w.Body)
	}
	if w := do("GET", "/api/v3/acme/memos/"+m.PK.String()+"/", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"hello"`) {
		t.Errorf("retrieve: %d %s", w.Code, w.Body)
	}
	if w := do("GET", "/api/v3/acme/memos/", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"count":1`) {
		t.Errorf("list: %d %s", w.Code, w.Body)
	}
	if w := do("PATCH", "/api/v3/acme/memos/"+m.PK.String()+"/", `{"text":"bye"}`); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"bye"`) {
		t.Errorf("patch: %d %s", w.Code, w.Body)
	}
	if w := do("DELETE", "/api/v3/acme/memos/"+m.PK.String()+"/", ""); w.Code != http.StatusNoContent {
		t.Errorf("delete: %d %s", w.Code, w.Body)
	}
	asked := p.take()
	for _, want := range []string{"acme_memos.add_memo", "acme_memos.view_memo", "acme_memos.change_memo", "acme_memos.delete_memo"} {
		if !slices.Contains(asked, want) {
			t.Errorf("never asked for %s (asked %v)", want, asked)
		}
	}
}

// member is keyed as authentik's users are: the path names it by the
// number the store gave it.
type member struct {
	PK       int64     `json:"pk" af:"readonly"`
	UUID     uuid.UUID `json:"uuid" af:"readonly"`
	Username string    `json:"username" af:"required"`
}

func TestHostCollectionNumbered(t *testing.T) {
	s := newStore(t, &store.Options{Collections: []store.Declarer{store.Declaration[member, member]{
		Model: "acme_people.member", Path: "acme/members", Sequence: "pk",
		Defaults: func() member { return member{} }, Unique: []string{"username"},
	}}})
	h := api.NewHandler(s, nil)
	do := func(method, path, body string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	for _, name := range []string{"ann", "bob"} {
		if w := do("POST", "/api/v3/acme/members/", `{"username":"`+name+`"}`); w.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", w.Code, w.Body)
		}
	}
	if w := do("GET", "/api/v3/acme/members/2/", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"pk":2,`) || !strings.Contains(w.Body.String(), `"bob"`) {
		t.Errorf("retrieve 2: %d %s", w.Code, w.Body)
	}
	if w := do("PATCH", "/api/v3/acme/members/1/", `{"username":"ann2"}`); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"ann2"`) {
		t.Errorf("patch 1: %d %s", w.Code, w.Body)
	}
	for _, p := range []string{"3", "0", "x", "00000000-0000-0000-0000-000000000001"} {
		if w := do("GET", "/api/v3/acme/members/"+p+"/", ""); w.Code != http.StatusNotFound {
			t.Errorf("retrieve %s: %d %s", p, w.Code, w.Body)
		}
	}
	if w := do("DELETE", "/api/v3/acme/members/2/", ""); w.Code != http.StatusNoContent {
		t.Errorf("delete 2: %d %s", w.Code, w.Body)
	}
}
