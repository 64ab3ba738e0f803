package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// resource is one authentik viewset: a collection and its objects. A nil
// operation is not served (405).
type resource struct {
	// perm returns the permission codename for a verb: view, add, change
	// or delete.
	perm func(verb string) string
	// validKey reports whether a path key can name an object at all (a
	// malformed UUID cannot); nil accepts every key.
	validKey func(string) bool

	list    func(ctx context.Context, q store.Query) (any, error)
	create  func(ctx context.Context, body []byte) (any, error)
	get     func(ctx context.Context, key string) (any, error)
	replace func(ctx context.Context, key string, body []byte) (any, error)
	patch   func(ctx context.Context, key string, body []byte) (any, error)
	delete  func(ctx context.Context, key string) error
	// usedBy lists what refers to the object (authentik's used_by
	// action).
	usedBy func(ctx context.Context, key string) ([]store.UsedBy, error)
}

// codenames returns authentik's perm function for app_label.verb_model.
func codenames(app, model string) func(string) string {
	perms := map[string]string{}
	for _, verb := range []string{"view", "add", "change", "delete"} {
		perms[verb] = app + "." + verb + "_" + model
	}
	return func(verb string) string { return perms[verb] }
}

func validUUID(key string) bool {
	_, err := uuid.Parse(key)
	return err == nil
}

// parseUUID parses a key that validKey accepted.
func parseUUID(key string) uuid.UUID {
	id, _ := uuid.Parse(key)
	return id
}

func (res *resource) collectionMethods() string {
	m := []string{"GET"}
	if res.create != nil {
		m = append(m, "POST")
	}
	return strings.Join(append(m, "HEAD"), ", ")
}

func (res *resource) objectMethods() string {
	m := []string{"GET"}
	if res.replace != nil {
		m = append(m, "PUT")
	}
	if res.patch != nil {
		m = append(m, "PATCH")
	}
	if res.delete != nil {
		m = append(m, "DELETE")
	}
	return strings.Join(append(m, "HEAD"), ", ")
}

func (h *handler) serveCollection(w http.ResponseWriter, r *http.Request, res *resource) {
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		h.list(w, r, res)
	case r.Method == http.MethodPost && res.create != nil:
		if !h.allowed(w, r, res.perm("add")) {
			return
		}
		body, ok := h.body(w, r, false)
		if !ok {
			return
		}
		v, err := res.create(r.Context(), body)
		h.reply(w, r, http.StatusCreated, v, err)
	default:
		methodNotAllowed(w, r, res.collectionMethods())
	}
}

func (h *handler) list(w http.ResponseWriter, r *http.Request, res *resource) {
	// Authentication comes before anything about the request itself.
	denied := h.ask(r, res.perm("view"))
	if errors.Is(denied, ErrNotAuthenticated) {
		h.deny(w, denied)
		return
	}
	q, err := store.QueryFromValues(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if denied != nil {
		// authentik filters a list down to the objects the user may
		// view: with no view permission, that is an empty page.
		if q.Page > 1 {
			writeDetail(w, http.StatusNotFound, msgInvalidPage)
			return
		}
		writeJSON(w, http.StatusOK, listPage[struct{}]{Page: store.Page[struct{}]{
			Pagination: store.Pagination{Current: 1, TotalPages: 1},
			Results:    []struct{}{},
		}})
		return
	}
	v, err := res.list(r.Context(), q)
	h.reply(w, r, http.StatusOK, v, err)
}

// listPage is a list response: the page (pagination and results) and an
// empty "autocomplete" object after them. authentik sends autocomplete
// from 2025.8 on, and its published 2025.6 TypeScript client requires it
// on every list; clients that predate it ignore the key.
type listPage[T any] struct {
	store.Page[T]
	Autocomplete struct{} `json:"autocomplete"`
}

// listed is a resource's list result as the response carries it.
func listed[T any](p store.Page[T], err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return listPage[T]{Page: p}, nil
}

func (h *handler) serveObject(w http.ResponseWriter, r *http.Request, res *resource, key string) {
	var write func(context.Context, string, []byte) (any, error)
	verb := ""
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
	case r.Method == http.MethodPut && res.replace != nil:
		write, verb = res.replace, "change"
	case r.Method == http.MethodPatch && res.patch != nil:
		write, verb = res.patch, "change"
	case r.Method == http.MethodDelete && res.delete != nil:
		verb = "delete"
	default:
		methodNotAllowed(w, r, res.objectMethods())
		return
	}
	// Objects the user may not view do not exist for them (404), whatever
	// the method; then a write needs its own permission (403).
	if !h.viewable(w, r, res, key) {
		return
	}
	if verb == "" {
		rev := h.revision(r)
		v, err := res.get(r.Context(), key)
		if err == nil {
			h.etag(w, rev)
		}
		h.reply(w, r, http.StatusOK, v, err)
		return
	}
	if !h.permitted(w, r, res, key, verb) {
		return
	}
	ctx, ok := ifMatch(w, r)
	if !ok {
		return
	}
	if write == nil { // DELETE
		if err := res.delete(ctx, key); err != nil {
			h.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	body, ok := h.body(w, r, r.Method == http.MethodPatch)
	if !ok {
		return
	}
	var committed int64
	before := h.revision(r)
	v, err := write(store.WithCommitted(ctx, &committed), key, body)
	if err == nil {
		if committed == 0 { // nothing changed: the revision read before
			committed = before
		}
		h.etag(w, committed)
	}
	h.reply(w, r, http.StatusOK, v, err)
}

// permitted asks for the permission of verb on the object of res that
// key names, which the user may view (see viewable), and answers a
// denial: 403, or 404 when the object does not exist, as authentik looks
// the object up first. It reports whether the request may go on.
func (h *handler) permitted(w http.ResponseWriter, r *http.Request, res *resource, key, verb string) bool {
	err := h.ask(r, res.perm(verb))
	if err == nil {
		return true
	}
	if !errors.Is(err, ErrNotAuthenticated) {
		if _, gerr := res.get(r.Context(), key); gerr != nil {
			h.fail(w, r, gerr)
			return false
		}
	}
	h.deny(w, err)
	return false
}

// msgPrecondition is the detail of a 412.
const msgPrecondition = "The object changed after the revision in If-Match."

// revision is the store's revision now (0 if it cannot be read).
func (h *handler) revision(r *http.Request) int64 {
	var rev int64
	_ = h.s.View(r.Context(), func(tx *store.Tx) error {
		var err error
		rev, err = tx.Revision()
		return err
	})
	return rev
}

// etag sets the ETag of a response showing an object: the revision its
// write committed at, or the store's revision read before the object was
// read (so the object has not changed after it, or a write conditional on
// it is refused: never a lost update). An If-Match of it matches while
// the object stays unchanged.
func (h *handler) etag(w http.ResponseWriter, rev int64) {
	w.Header().Set("ETag", fmt.Sprintf(`"%d"`, rev))
}

// ifMatch turns an If-Match header into the store's precondition: the
// object must not have changed after the revision of the ETag. No header
// (or "*") means no check; a header naming no revision of ours can never
// match, and is answered 412.
func ifMatch(w http.ResponseWriter, r *http.Request) (context.Context, bool) {
	ctx := r.Context()
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return ctx, true
	}
	v = strings.TrimPrefix(v, "W/")
	rev, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
	if err != nil || rev < 0 || !strings.HasPrefix(v, `"`) || !strings.HasSuffix(v, `"`) {
		writeDetail(w, http.StatusPreconditionFailed, msgPrecondition)
		return nil, false
	}
	return store.WithUnchangedSince(ctx, rev), true
}

// viewable asks for the view permission of res and checks the key's form,
// answering the request when either fails: 404 for an object the user may
// not view or a malformed key, and 403 first to an unauthenticated
// request, before anything about the key.
func (h *handler) viewable(w http.ResponseWriter, r *http.Request, res *resource, key string) bool {
	if err := h.ask(r, res.perm("view")); err != nil {
		if errors.Is(err, ErrNotAuthenticated) {
			h.deny(w, err)
		} else {
			writeDetail(w, http.StatusNotFound, msgNotFound)
		}
		return false
	}
	if res.validKey != nil && !res.validKey(key) {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return false
	}
	return true
}

// usedByMethods is the Allow header of a used_by path.
const usedByMethods = "GET, HEAD"

// serveUsedBy answers GET …/{key}/used_by/: the objects that refer to the
// object, as an unpaginated array, each of them only if the user may view
// its model (as authentik lists only the related objects the user may
// view). The object itself needs the view permission a retrieve needs, and
// is 404 without it.
func (h *handler) serveUsedBy(w http.ResponseWriter, r *http.Request, res *resource, key string) {
	if res.usedBy == nil {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, usedByMethods)
		return
	}
	if !h.viewable(w, r, res, key) {
		return
	}
	list, err := res.usedBy(r.Context(), key)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	visible, _ := h.visible(r, list)
	writeJSON(w, http.StatusOK, visible)
}

// visible returns the entries of list whose model the user may view,
// asking Options.Authorize once per model (authentik's
// <app>.view_<model_name>), and how many it left out. It never returns
// nil.
func (h *handler) visible(r *http.Request, list []store.UsedBy) ([]store.UsedBy, int) {
	out := make([]store.UsedBy, 0, len(list))
	if h.authorize == nil {
		return append(out, list...), 0
	}
	may := map[string]bool{}
	hidden := 0
	for _, u := range list {
		perm := u.App + ".view_" + u.ModelName
		ok, asked := may[perm]
		if !asked {
			ok = h.ask(r, perm) == nil
			may[perm] = ok
		}
		if ok {
			out = append(out, u)
		} else {
			hidden++
		}
	}
	return out, hidden
}

// ask calls Options.Authorize, if set.
func (h *handler) ask(r *http.Request, perm string) error {
	if h.authorize == nil {
		return nil
	}
	return h.authorize(r, perm)
}

// allowed asks for perm and answers a denial with 403.
func (h *handler) allowed(w http.ResponseWriter, r *http.Request, perm string) bool {
	if err := h.ask(r, perm); err != nil {
		h.deny(w, err)
		return false
	}
	return true
}

func (h *handler) deny(w http.ResponseWriter, err error) {
	if af := (*AuthenticationFailed)(nil); errors.As(err, &af) {
		writeDetail(w, http.StatusForbidden, af.Detail)
		return
	}
	if errors.Is(err, ErrNotAuthenticated) {
		writeDetail(w, http.StatusForbidden, msgNotAuthenticated)
		return
	}
	writeDetail(w, http.StatusForbidden, msgPermissionDenied)
}

// reply writes v with status, or the response for err.
func (h *handler) reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, status, v)
}
