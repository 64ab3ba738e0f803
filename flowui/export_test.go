package flowui

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/authflow/authflow/executor"
)

// What the black-box tests reach inside.

// Samples are the challenges New renders.
var Samples = samples

// EnvelopeOf is a challenge's envelope.
var EnvelopeOf = envelope

// Render writes ch's page; posted is the form answered with it, nil for
// none.
func (u *UI) Render(w http.ResponseWriter, r *http.Request, nonce string, ch executor.Challenge, csrf string, posted url.Values) {
	var f *form
	if posted != nil {
		f = &form{values: posted, component: posted.Get("component")}
	}
	u.render(w, r, nonce, http.StatusOK, ch, csrf, f)
}

// Decode is the response a form of values gives.
func (u *UI) Decode(values url.Values) (json.RawMessage, error) {
	b, ferr := u.decode(&form{values: values, component: values.Get("component")})
	if ferr != nil {
		return nil, ferr
	}
	return b, nil
}

// DecodeRequest is the response a POST's form gives.
func (u *UI) DecodeRequest(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	f, ferr := u.readForm(w, r)
	if ferr != nil {
		return nil, ferr
	}
	b, ferr := u.decode(f)
	if ferr != nil {
		return nil, ferr
	}
	return b, nil
}

// CachedPages is the number of pages kept.
func (u *UI) CachedPages() int {
	u.cache.mu.Lock()
	defer u.cache.mu.Unlock()
	return len(u.cache.m)
}

// Covers says whether the UI has a decoder and a template of c.
func (u *UI) Covers(c string) (decoder, template bool) {
	_, decoder = components[c]
	_, template = u.views.components[c]
	return decoder, template
}
