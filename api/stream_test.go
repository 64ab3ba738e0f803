package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// writeCounter is a ResponseWriter that keeps every Write apart, and can
// fail the writes after the first n (a client that went away).
type writeCounter struct {
	*httptest.ResponseRecorder
	writes int
	failAt int
}

func (w *writeCounter) Write(b []byte) (int, error) {
	w.writes++
	if w.failAt > 0 && w.writes > w.failAt {
		return 0, errors.New("client gone")
	}
	return w.ResponseRecorder.Write(b)
}

// A list response is written as a stream: one piece per result (and the
// envelope around them), never the page rendered in one buffer, and its
// bytes are the page's JSON as before.
func TestListStreams(t *testing.T) {
	c := newClient(t, nil)
	f := setup(c)
	for i := range 5 {
		c.must(http.StatusCreated, "POST", "/api/v3/flows/bindings/",
			fmt.Sprintf(`{"target": %q, "stage": %q, "order": %d}`, f.flowPK, f.invitation, 20+i))
	}
	w := &writeCounter{ResponseRecorder: httptest.NewRecorder()}
	c.h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v3/flows/bindings/?ordering=order", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var page struct {
		Pagination   map[string]any   `json:"pagination"`
		Results      []map[string]any `json:"results"`
		Autocomplete map[string]any   `json:"autocomplete"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
		t.Fatalf("the streamed body is not JSON: %v: %s", err, w.Body)
	}
	if len(page.Results) != 6 || page.Pagination["count"] != float64(6) || page.Autocomplete == nil {
		t.Fatalf("page: %s", w.Body)
	}
	if w.writes < len(page.Results)+2 {
		t.Errorf("%d writes for %d results: the page was not streamed", w.writes, len(page.Results))
	}
	if w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("content type %q", w.Header().Get("Content-Type"))
	}
	// The bytes are those of the page as one JSON value: the same
	// response a client got before the stream.
	again := c.do("GET", "/api/v3/flows/bindings/?ordering=order", "")
	if string(again.Body) != w.Body.String() {
		t.Errorf("two reads differ:\n%s\n%s", again.Body, w.Body)
	}

	// An empty page is a whole document too.
	empty := c.do("GET", "/api/v3/flows/bindings/?order=999", "")
	if string(empty.Body) != `{"pagination":{"next":0,"previous":0,"count":0,"current":1,"total_pages":1,"start_index":0,"end_index":0},"results":[],"autocomplete":{}}` {
		t.Errorf("empty page: %s", empty.Body)
	}

	// A client that goes away mid-page ends the stream: the handler
	// stops rendering and aborts the response.
	gone := &writeCounter{ResponseRecorder: httptest.NewRecorder(), failAt: 3}
	func() {
		defer func() {
			if r := recover(); r != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler", r)
			}
		}()
		c.h.ServeHTTP(gone, httptest.NewRequest("GET", "/api/v3/flows/bindings/", nil))
	}()
	if gone.writes != 4 {
		t.Errorf("%d writes after the client went away at the 4th, want the stream to stop there", gone.writes)
	}
}

// A result that fails to render (damage: a binding whose stage is gone)
// is a 500 naming the damage when it is the first, before any byte of
// the page; after the first byte the response ends short (the handler
// aborts) and the failure is logged, never a whole-looking page.
func TestListDamageMidStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stream.db")
	s, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, h: api.NewHandler(s, nil)}
	flowPK := c.must(http.StatusCreated, "POST", "/api/v3/flows/instances/", flowBody)["pk"].(string)
	var stages []string
	for i := range 2 {
		st := c.must(http.StatusCreated, "POST", "/api/v3/stages/user_login/", fmt.Sprintf(`{"name": "s%d"}`, i))["pk"].(string)
		c.must(http.StatusCreated, "POST", "/api/v3/flows/bindings/", fmt.Sprintf(`{"target": %q, "stage": %q, "order": %d}`, flowPK, st, i))
		stages = append(stages, st)
	}
	gone := uuid.MustParse(stages[1]) // the stage of the binding of order 1
	s = damageFile(t, s, path, func(tx *bolt.Tx) error { return tx.Bucket([]byte("stages")).Delete(gone[:]) })
	defer s.Close()
	var logged bytes.Buffer
	h := api.NewHandler(s, &api.Options{ErrorLog: log.New(&logged, "", 0)})

	serve := func(query string) (w *httptest.ResponseRecorder, aborted bool) {
		w = httptest.NewRecorder()
		defer func() {
			r := recover()
			if r != nil && r != http.ErrAbortHandler {
				panic(r)
			}
			aborted = r != nil
		}()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v3/flows/bindings/"+query, nil))
		return w, false
	}
	w, aborted := serve("?ordering=order")
	if !aborted || w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), `{"pagination"`) || json.Valid(w.Body.Bytes()) {
		t.Errorf("damage after the first result: aborted %v, status %d, body %s", aborted, w.Code, w.Body)
	}
	if !strings.Contains(logged.String(), "ends short") || !strings.Contains(logged.String(), gone.String()) {
		t.Errorf("not logged: %q", logged.String())
	}
	w, aborted = serve("?ordering=-order")
	if aborted || w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "damaged") {
		t.Errorf("damage in the first result: aborted %v, status %d, body %s", aborted, w.Code, w.Body)
	}
}
