// Package jsonresp writes JSON responses as authentik's renderer does,
// for package api and package executor: one way to answer with JSON.
package jsonresp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// encoder is a buffer and the encoder that writes into it, kept
// together between responses: an Encoder keeps no state of its own but
// its settings (a bytes.Buffer never fails a write).
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// encoders holds encoders between responses; one whose buffer grew past
// maxPooled is left to the garbage collector.
var encoders = sync.Pool{New: func() any {
	e := new(encoder)
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

const maxPooled = 64 << 10

// Write writes v as the JSON body with status: HTML characters not
// escaped (authentik's renderer does not escape them), no trailing
// newline, Content-Type and Content-Length set. When v cannot be
// encoded (only a bug in a MarshalJSON method gets there), it writes
// fallback with status 500 instead, saying nothing more.
func Write(w http.ResponseWriter, status int, contentType string, v, fallback any) {
	WriteAppended(w, status, contentType, nil, v, fallback)
}

// WriteAppended is Write, with v's JSON appended by appendJSON when it
// is not nil: it returns its argument with the JSON appended, byte for
// byte what Write would write of v, and true; or false when it cannot,
// and v is encoded as Write encodes it.
func WriteAppended(w http.ResponseWriter, status int, contentType string, appendJSON func([]byte) ([]byte, bool), v, fallback any) {
	e := encoders.Get().(*encoder)
	e.buf.Reset()
	defer func() {
		if e.buf.Cap() <= maxPooled {
			encoders.Put(e)
		}
	}()
	if appendJSON != nil {
		if b, ok := appendJSON(e.buf.AvailableBuffer()); ok {
			e.buf.Write(b)
			setHeaders(w.Header(), contentType, len(b))
			w.WriteHeader(status)
			_, _ = w.Write(e.buf.Bytes())
			return
		}
	}
	if err := e.enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		e.buf.Reset()
		_ = json.NewEncoder(&e.buf).Encode(fallback)
	}
	b := bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))
	setHeaders(w.Header(), contentType, len(b))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// setHeaders sets Content-Type and Content-Length in h, as Header.Set
// does, with both values in one allocation.
func setHeaders(h http.Header, contentType string, length int) {
	vs := &[2]string{contentType, strconv.Itoa(length)}
	h["Content-Type"], h["Content-Length"] = vs[0:1:1], vs[1:2:2]
}
