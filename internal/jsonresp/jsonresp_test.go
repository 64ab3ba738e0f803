package jsonresp

import (
	"net/http"
	"net/http/httptest"
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
