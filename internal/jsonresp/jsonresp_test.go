package jsonresp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
)

type bad struct{}

func (bad) MarshalJSON() ([]byte, error) { return nil, http.ErrAbortHandler }

func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, http.StatusCreated, "application/json", map[string]string{"a": "<b>"}, map[string]string{"detail": "x"})
	if rec.Code != http.StatusCreated || rec.Body.String() != `{"a":"<b>"}` || rec.Header().Get("Content-Length") != "11" {
		t.Errorf("%d %q %v", rec.Code, rec.Body, rec.Header())
	}
	rec = httptest.NewRecorder()
	Write(rec, http.StatusOK, "application/json", bad{}, map[string]string{"detail": "x"})
	if rec.Code != http.StatusInternalServerError || rec.Body.String() != `{"detail":"x"}` {
		t.Errorf("%d %q", rec.Code, rec.Body)
	}
}

// Responses one after another each hold their own body only, whatever
// the one before held (its buffer is reused).
func TestWriteAfterWrite(t *testing.T) {
	long := map[string]string{"a": strings.Repeat("x", 1000)}
	for range 3 {
		rec := httptest.NewRecorder()
		Write(rec, http.StatusOK, "application/json", long, nil)
		if rec.Body.Len() != 1008 {
			t.Fatalf("%d bytes", rec.Body.Len())
		}
		rec = httptest.NewRecorder()
		Write(rec, http.StatusOK, "application/json", map[string]int{"b": 1}, nil)
		if rec.Body.String() != `{"b":1}` || rec.Header().Get("Content-Length") != "7" {
			t.Fatalf("%q %v", rec.Body, rec.Header())
		}
	}
}

// nullWriter is a ResponseWriter that allocates nothing itself.
type nullWriter struct{ h http.Header }

func (w nullWriter) Header() http.Header       { return w.h }
func (nullWriter) WriteHeader(int)             {}
func (nullWriter) Write(b []byte) (int, error) { return len(b), nil }

// A response takes two allocations of Write's own: the Content-Length
// string and the one array of both header values (the encoder and its
// buffer are reused, as encoding/json's own state is).
func TestWriteAllocs(t *testing.T) {
	if testutil.Race {
		t.Skip("allocation counts differ under the race detector")
	}
	type body struct {
		A string `json:"a"`
		B []int  `json:"b"`
	}
	v := &body{A: strings.Repeat("x", 200), B: []int{1, 2, 3}}
	w := nullWriter{http.Header{}}
	Write(w, http.StatusOK, "application/json", v, nil)
	if got := w.h.Get("Content-Length"); got != "220" || w.h.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", w.h)
	}
	if n := testing.AllocsPerRun(100, func() { Write(w, http.StatusOK, "application/json", v, nil) }); n > 2 {
		t.Errorf("%v allocations a response, want at most 2", n)
	}
}

// WriteAppended writes what its appender appends, or, when the appender
// cannot, v as Write writes it.
func TestWriteAppended(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteAppended(rec, http.StatusOK, "application/json", func(b []byte) ([]byte, bool) { return append(b, `{"a":"<b>"}`...), true }, nil, nil)
	if rec.Code != http.StatusOK || rec.Body.String() != `{"a":"<b>"}` || rec.Header().Get("Content-Length") != "11" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("%d %q %v", rec.Code, rec.Body, rec.Header())
	}
	rec = httptest.NewRecorder()
	WriteAppended(rec, http.StatusCreated, "application/json", func(b []byte) ([]byte, bool) { return append(b, "junk"...), false }, map[string]string{"a": "<b>"}, nil)
	if rec.Code != http.StatusCreated || rec.Body.String() != `{"a":"<b>"}` || rec.Header().Get("Content-Length") != "11" {
		t.Errorf("%d %q %v", rec.Code, rec.Body, rec.Header())
	}
}
