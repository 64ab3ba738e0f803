package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
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
