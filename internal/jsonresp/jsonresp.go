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

// bufs holds encoding buffers between responses; one grown past
// maxPooled is left to the garbage collector.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooled = 64 << 10

// Write writes v as the JSON body with status: HTML characters not
// escaped (authentik's renderer does not escape them), no trailing
// newline, Content-Type and Content-Length set. When v cannot be
// encoded (only a bug in a MarshalJSON method gets there), it writes
// fallback with status 500 instead, saying nothing more.
func Write(w http.ResponseWriter, status int, contentType string, v, fallback any) {
	buf := bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooled {
			bufs.Put(buf)
		}
	}()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(buf).Encode(fallback)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
