package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// resource is one authentik viewset: a collection and its objects, served
// through the store's generic operations on one model. Each operation
// runs inside the request's one transaction, which the handler opens.
type resource struct {
	// perm returns the permission codename for a verb: view, add, change
	// or delete.
	perm func(verb string) string
	// validKey reports whether a path key can name an object at all (a
	// malformed UUID cannot); nil accepts every key.
	validKey func(string) bool
	// model is the model served: a collection's, or one kind's, whose
	// objects of other kinds are not found here.
	model string
	// field is the unique field whose value names an object in a path,
	// such as a flow's "slug"; "" means the pk.
	field string
	// writable serves create, replace and patch; without it only list,
	// retrieve, delete and used_by are (405).
	writable bool
	// show returns what a response to r shows of a representation the
	// store rendered, outside the transaction: a flow's cache_count, the
	// base representation of a stage, a user without groups_obj. Nil shows
	// it as it is.
	show func(r *http.Request, v any) any
	// checkWrite, when set, judges a create or an update inside its
	// transaction, after the write: before is the stored object before it
	// (nil for a create), after its representation now. An error rolls
	// the write back and is the response (a group's is_superuser needs
	// its own permission).
	checkWrite func(r *http.Request, before, after any) error
	// actions are the object's actions (…/{key}/{action}/) besides
	// used_by, by name; collectionActions the collection's
	// (…/{action}/), which no object key can be.
	actions, collectionActions map[string]action
}

// action serves one action of a resource; key is the object's path
// segment ("" for a collection action).
type action func(h *handler, w http.ResponseWriter, r *http.Request, res *resource, key string)

// key is the store's key of the object that the path key names (one that
// validKey accepted).
func (res *resource) key(key string) store.Key {
	if res.field == "" {
		return store.PK(parseUUID(key))
	}
	return store.By(res.field, key)
}

// coll is the handle of res's model.
func (res *resource) coll() store.Coll[any, any] { return store.NewColl[any, any](res.model) }

// pk is the pk of the object that the path key names.
func (res *resource) pk(tx *store.Tx, key string) (uuid.UUID, error) {
	if res.field == "" {
		return parseUUID(key), nil
	}
	return tx.Lookup(res.model, res.key(key))
}

// get returns the representation of the object that key names.
func (res *resource) get(tx *store.Tx, key string) (any, error) {
	return res.coll().View(tx, res.key(key))
}

// create creates an object from a POST body and returns its
// representation.
func (res *resource) create(tx *store.Tx, body []byte, o *store.WriteOptions) (any, error) {
	pk, err := tx.Create(res.model, body, o)
	if err != nil {
		return nil, err
	}
	return tx.Get(res.model, pk)
}

// update applies a PUT body (replace) or a merge patch to the object that
// key names and returns its representation.
func (res *resource) update(tx *store.Tx, key string, body []byte, o *store.WriteOptions, replace bool) (any, error) {
	pk, err := res.pk(tx, key)
	if err != nil {
		return nil, err
	}
	if replace {
		err = tx.Replace(res.model, pk, body, o)
	} else {
		err = tx.Patch(res.model, pk, body, o)
	}
	if err != nil {
		return nil, err
	}
	return tx.Get(res.model, pk)
}

// delete deletes the object that key names.
func (res *resource) delete(tx *store.Tx, key string, o *store.WriteOptions) error {
	return res.coll().Delete(tx, res.key(key), o)
}

// usedBy lists what refers to the object (authentik's used_by action).
func (res *resource) usedBy(tx *store.Tx, key string) ([]store.UsedBy, error) {
	pk, err := res.pk(tx, key)
	if err != nil {
		return nil, err
	}
	return tx.UsedBy(res.model, pk)
}

// shown is what a response to r shows of v (see show).
func (res *resource) shown(r *http.Request, v any) any {
	if res.show == nil {
		return v
	}
	return res.show(r, v)
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
	if res.writable {
		return "GET, POST, HEAD"
	}
	return "GET, HEAD"
}

func (res *resource) objectMethods() string {
	if res.writable {
		return "GET, PUT, PATCH, DELETE, HEAD"
	}
	return "GET, DELETE, HEAD"
}

func (h *handler) serveCollection(w http.ResponseWriter, r *http.Request, res *resource) {
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		h.list(w, r, res)
	case r.Method == http.MethodPost && res.writable:
		if !h.allowed(w, r, res.perm("add")) {
			return
		}
		body, ok := h.body(w, r, false)
		if !ok {
			return
		}
		o := &store.WriteOptions{Actor: h.actor(r)}
		var v any
		_, err := h.update(r, func(tx *store.Tx) error {
			var err error
			if v, err = res.create(tx, body, o); err != nil || res.checkWrite == nil {
				return err
			}
			return res.checkWrite(r, nil, v)
		})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, res.shown(r, v))
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
	// The page is written as a stream, one result at a time, each
	// rendered only when it is reached: a binding's stage_obj carries the
	// stage's whole flow_set, so a page may render to far more than its
	// records take. An error before the first byte is an error response;
	// one after it (a result that fails to render: damage) ends the
	// response short, so the client never takes it for a whole page.
	started := false
	err = h.s.View(r.Context(), func(tx *store.Tx) error {
		p, results, err := tx.Stream(res.model, q)
		if err != nil {
			return err
		}
		for v, err := range results {
			if err != nil {
				return err
			}
			if !started {
				started = true
				streamStart(w, p)
			} else {
				_, _ = w.Write([]byte{','})
			}
			if err := streamValue(w, res.shown(r, v)); err != nil {
				return err
			}
		}
		if !started {
			started = true
			streamStart(w, p)
		}
		_, _ = w.Write([]byte(listEnd))
		return nil
	})
	switch {
	case err != nil && !started:
		h.fail(w, r, err)
	case err != nil:
		h.logf("api: %s %s: the list response ends short: %v", r.Method, r.URL.Path, err)
		panic(http.ErrAbortHandler)
	}
}

// listEnd closes a list response that streamStart began.
const listEnd = `],"autocomplete":{}}`

// streamStart writes the header of a list response and its body up to
// the first result: the pagination and the opening of results.
func streamStart(w http.ResponseWriter, p store.Pagination) {
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(http.StatusOK)
	b, _ := json.Marshal(p) // a struct of numbers
	_, _ = w.Write([]byte(`{"pagination":`))
	_, _ = w.Write(b)
	_, _ = w.Write([]byte(`,"results":[`))
}

// streamValue writes one result of a list response, as writeJSON would
// write it.
func streamValue(w http.ResponseWriter, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("api: list: %w", err)
	}
	_, err := w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return err
}

// listPage is a list response: the page (pagination and results) and an
// empty "autocomplete" object after them. authentik sends autocomplete
// from 2025.8 on, and its published 2025.6 TypeScript client requires it
// on every list; clients that predate it ignore the key.
type listPage[T any] struct {
	store.Page[T]
	Autocomplete struct{} `json:"autocomplete"`
}

// serveObject answers a retrieve, replace, patch or delete of the object
// that key names. Past the permission checks, each is one store
// transaction: a retrieve reads the object and the revision of its ETag
// in one read, and a write applies the change, renders the object and
// learns the revision it committed at in one update.
func (h *handler) serveObject(w http.ResponseWriter, r *http.Request, res *resource, key string) {
	verb := ""
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
	case (r.Method == http.MethodPut || r.Method == http.MethodPatch) && res.writable:
		verb = "change"
	case r.Method == http.MethodDelete:
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
		var v any
		rev, err := h.read(r, func(tx *store.Tx) error {
			var err error
			v, err = res.get(tx, key)
			return err
		})
		h.object(w, r, res, rev, v, err)
		return
	}
	if !h.permitted(w, r, res, key, res.perm(verb)) {
		return
	}
	o, ok := h.writeOptions(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodDelete {
		if _, err := h.update(r, func(tx *store.Tx) error { return res.delete(tx, key, o) }); err != nil {
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
	var v any
	rev, err := h.update(r, func(tx *store.Tx) error {
		var before any
		if res.checkWrite != nil {
			var err error
			if before, err = res.coll().Get(tx, res.key(key)); err != nil {
				return err
			}
		}
		var err error
		if v, err = res.update(tx, key, body, o, r.Method == http.MethodPut); err != nil || res.checkWrite == nil {
			return err
		}
		return res.checkWrite(r, before, v)
	})
	h.object(w, r, res, rev, v, err)
}

// object answers a retrieve or a write of one object: its representation
// v with the ETag of rev, the revision read or committed with it, or the
// error of the transaction.
func (h *handler) object(w http.ResponseWriter, r *http.Request, res *resource, rev int64, v any, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.etag(w, rev)
	writeJSON(w, http.StatusOK, res.shown(r, v))
}

// read runs fn in one read transaction and returns the store's revision
// read in it, the ETag of what fn read: the object has not changed after
// it, so a write conditional on it is refused if it has since (never a
// lost update).
func (h *handler) read(r *http.Request, fn func(*store.Tx) error) (int64, error) {
	var rev int64
	err := h.s.View(r.Context(), func(tx *store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		var err error
		rev, err = tx.Revision()
		return err
	})
	return rev, err
}

// update runs fn in one write transaction and returns the revision it
// committed at (the revision it read, when it changed nothing): the ETag
// of what fn wrote.
func (h *handler) update(r *http.Request, fn func(*store.Tx) error) (int64, error) {
	var rev int64
	err := h.s.Update(r.Context(), func(tx *store.Tx) error {
		tx.OnCommit(func(committed int64) { rev = committed })
		return fn(tx)
	})
	return rev, err
}

// permitted asks for the permission perm on the object of res that key
// names, which the user may view (see viewable), and answers a denial:
// 403, or 404 when the object does not exist, as authentik looks the
// object up first. It reports whether the request may go on. Only a
// denial reads the store.
func (h *handler) permitted(w http.ResponseWriter, r *http.Request, res *resource, key, perm string) bool {
	err := h.ask(r, perm)
	if err == nil {
		return true
	}
	if !errors.Is(err, ErrNotAuthenticated) {
		if _, gerr := h.read(r, func(tx *store.Tx) error {
			_, err := res.coll().Get(tx, res.key(key))
			return err
		}); gerr != nil {
			h.fail(w, r, gerr)
			return false
		}
	}
	h.deny(w, err)
	return false
}

// msgPrecondition is the detail of a 412.
const msgPrecondition = "The object changed after the revision in If-Match."

// etag sets the ETag of a response showing an object: the revision read
// with it, or the revision its write committed at (see read and update).
// An If-Match of it matches while the object stays unchanged.
func (h *handler) etag(w http.ResponseWriter, rev int64) {
	w.Header().Set("ETag", fmt.Sprintf(`"%d"`, rev))
}

// actor is the pk of the user that Options.Creator names as the
// request's actor (an invitation's created_by), or nil.
func (h *handler) actor(r *http.Request) *int64 {
	if h.creator == nil {
		return nil
	}
	pk, ok := h.creator(r)
	if !ok {
		return nil
	}
	return &pk
}

// writeOptions are the options of a write to an object: the
// precondition of its If-Match header (the object must not have changed
// after the revision of the ETag) and its actor. No header (or "*") means
// no check; a header naming no revision of ours can never match, and is
// answered 412. It reports whether the request may go on.
func (h *handler) writeOptions(w http.ResponseWriter, r *http.Request) (*store.WriteOptions, bool) {
	o := &store.WriteOptions{}
	if v := strings.TrimSpace(r.Header.Get("If-Match")); v != "" && v != "*" {
		v = strings.TrimPrefix(v, "W/")
		rev, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
		if err != nil || rev < 0 || !strings.HasPrefix(v, `"`) || !strings.HasSuffix(v, `"`) {
			writeDetail(w, http.StatusPreconditionFailed, msgPrecondition)
			return nil, false
		}
		o = store.Since(rev)
	}
	o.Actor = h.actor(r)
	return o, true
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
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, usedByMethods)
		return
	}
	if !h.viewable(w, r, res, key) {
		return
	}
	var list []store.UsedBy
	err := h.s.View(r.Context(), func(tx *store.Tx) error {
		var err error
		list, err = res.usedBy(tx, key)
		return err
	})
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
