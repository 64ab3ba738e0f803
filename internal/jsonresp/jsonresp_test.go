package jsonresp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
