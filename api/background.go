package api

import (
	"net/http"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

// msgNoUpload is the 400 of set_background: authflow keeps no uploaded
// files.
const msgNoUpload = "authflow stores no uploaded files: set the background as a URL with " +
	"POST /api/v3/flows/instances/{slug}/set_background_url/ and the body {\"url\": \"...\"}."

// flowWrite admits a POST action that changes the flow with slug, as a
// replace is admitted: 404 when the user may not view the flow, then
// authentik_flows.change_flow (403, or 404 for a flow that does not
// exist). It reports whether the request may go on.
func (h *handler) flowWrite(w http.ResponseWriter, r *http.Request, slug string) bool {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, "POST")
		return false
	}
	res := h.fixed["flows/instances"]
	return h.viewable(w, r, res, slug) && h.permitted(w, r, res, slug, res.perm("change"))
}

// serveSetBackgroundURL answers POST /flows/instances/{slug}/set_background_url/
// with the body {"url": "..."}: the url, trimmed as every string field
// is, becomes the flow's background ("" the default), which the flow's
// "background" shows. The answer
// is 200 {} with the ETag of the write, as authentik's (which has no ETag)
// is 200 {}. It is a write of the flow like a PATCH: If-Match applies, and
// a revision is taken when the background changes.
func (h *handler) serveSetBackgroundURL(w http.ResponseWriter, r *http.Request, slug string) {
	if !h.flowWrite(w, r, slug) {
		return
	}
	o, ok := h.writeOptions(w, r)
	if !ok {
		return
	}
	body, ok := h.body(w, r, false)
	if !ok {
		return
	}
	url, err := flow.DecodeBackgroundRequest(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rev, err := h.update(r, func(tx *store.Tx) error {
		_, err := store.SetBackgroundURL(tx, store.By("slug", slug), url, o)
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.etag(w, rev)
	writeJSON(w, http.StatusOK, struct{}{})
}

// serveSetBackground answers POST /flows/instances/{slug}/set_background/,
// authentik's upload of a background image, with 400 naming
// set_background_url: authflow keeps no files. The request is admitted as
// a write of the flow first (so an unknown slug is 404), and its body is
// never read.
func (h *handler) serveSetBackground(w http.ResponseWriter, r *http.Request, slug string) {
	if !h.flowWrite(w, r, slug) {
		return
	}
	res := h.fixed["flows/instances"]
	if _, err := h.read(r, func(tx *store.Tx) error {
		_, err := res.coll().Get(tx, res.key(slug))
		return err
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusBadRequest, validate.NonFieldError(msgNoUpload))
}
