package api

import (
	"context"
	"errors"
	"io"
	"log"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/authflow/authflow/internal/jsonresp"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

// The "detail" messages of error responses: Django REST framework's, where
// authentik has one.
const (
	msgNotFound         = "Not found."
	msgInvalidPage      = "Invalid page."
	msgPermissionDenied = "You do not have permission to perform this action."
	msgNotAuthenticated = "Authentication credentials were not provided."
	msgServerError      = "A server error occurred."
	msgStoreClosed      = "The configuration store is closed."
	msgStoreReadOnly    = "The configuration store is read-only."
	msgOutcomeUnknown   = "The connection to the store was lost while the change was being committed: it applied whole or not at all. Read it again to know which."
	msgTooLarge         = "The change is too large for the store to commit in one transaction."
	msgBusy             = "The store was too busy with other writes: try again."
	msgCancelled        = "The request was cancelled before it completed."
	msgParseError       = "JSON parse error - "
	msgDamaged          = "The store's file is damaged: "
)

const (
	mediaJSON       = "application/json"
	mediaMergePatch = "application/merge-patch+json"
)

type detail struct {
	Detail string `json:"detail"`
}

// writeJSON writes v as the JSON body with status (jsonresp.Write).
func writeJSON(w http.ResponseWriter, status int, v any) {
	jsonresp.Write(w, status, mediaJSON, v, detail{msgServerError})
}

func writeDetail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, detail{msg})
}

// methodNotAllowed writes 405 with the Allow header.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeDetail(w, http.StatusMethodNotAllowed, `Method "`+r.Method+`" not allowed.`)
}

// fail writes the response for an error from the store.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ve *validate.Error
	var fe *store.FilterError
	switch {
	case errors.Is(err, store.ErrCorrupt):
		// First: a damaged record may also fail to decode with what looks
		// like a validation error, which is not the client's doing.
		h.logf("api: %s %s: %v", r.Method, r.URL.Path, err)
		writeDetail(w, http.StatusInternalServerError, msgDamaged+oneLine(err.Error()))
	case errors.Is(err, store.ErrProtected):
		h.protected(w, r, err)
	case errors.As(err, &ve):
		writeJSON(w, http.StatusBadRequest, ve)
	case errors.As(err, &fe):
		// authentik's list filter errors that concern no field: a bare
		// list of messages.
		writeJSON(w, http.StatusBadRequest, fe.Messages)
	case errors.Is(err, validate.ErrSyntax):
		writeDetail(w, http.StatusBadRequest, msgParseError+syntaxMessage(err))
	case errors.Is(err, store.ErrNotFound):
		writeDetail(w, http.StatusNotFound, msgNotFound)
	case errors.Is(err, store.ErrInvalidPage):
		writeDetail(w, http.StatusNotFound, msgInvalidPage)
	case errors.Is(err, store.ErrClosed):
		writeDetail(w, http.StatusServiceUnavailable, msgStoreClosed)
	case errors.Is(err, store.ErrReadOnly):
		writeDetail(w, http.StatusServiceUnavailable, msgStoreReadOnly)
	case errors.Is(err, store.ErrRevision):
		writeDetail(w, http.StatusPreconditionFailed, msgPrecondition)
	case errors.Is(err, store.ErrOutcomeUnknown):
		h.logf("api: %s %s: %v", r.Method, r.URL.Path, err)
		writeDetail(w, http.StatusServiceUnavailable, msgOutcomeUnknown)
	case errors.Is(err, store.ErrTooLarge):
		h.logf("api: %s %s: %v", r.Method, r.URL.Path, err)
		writeDetail(w, http.StatusRequestEntityTooLarge, msgTooLarge)
	case errors.Is(err, store.ErrLostRace):
		writeDetail(w, http.StatusServiceUnavailable, msgBusy)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeDetail(w, http.StatusServiceUnavailable, msgCancelled)
	default:
		h.logf("api: %s %s: %v", r.Method, r.URL.Path, err)
		writeDetail(w, http.StatusInternalServerError, msgServerError)
	}
}

// protectedBody is the 409 of a delete that a protected reference
// refuses.
type protectedBody struct {
	Detail      string         `json:"detail"`
	ProtectedBy []store.UsedBy `json:"protected_by"`
}

// protected answers a delete refused by protected references (an error
// wrapping store.ErrProtected, normally a *store.ProtectedError) with 409,
// naming the object and the blockers the user may view; the others are
// only counted.
func (h *handler) protected(w http.ResponseWriter, r *http.Request, err error) {
	what := "this object"
	var blockers []store.UsedBy
	var pe *store.ProtectedError
	if errors.As(err, &pe) {
		blockers = pe.Blockers
		what = pe.Name // str(), as the refusing transaction read it
		if what == "" {
			what = pe.Model + " " + pe.PK.String()
		}
	}
	shown, hidden := h.visible(r, blockers)
	writeJSON(w, http.StatusConflict, protectedBody{Detail: protectedDetail(what, shown, hidden), ProtectedBy: shown})
}

// protectedDetail is the sentence of a refused delete: Cannot delete "X"
// because it is referenced by "A", "B" and 2 objects you may not view.
func protectedDetail(what string, shown []store.UsedBy, hidden int) string {
	var names []string
	for _, u := range shown {
		names = append(names, `"`+u.Name+`"`)
	}
	switch {
	case hidden == 1:
		names = append(names, "1 object you may not view")
	case hidden > 1:
		names = append(names, strconv.Itoa(hidden)+" objects you may not view")
	}
	by := "other objects"
	switch n := len(names); n {
	case 0:
	case 1:
		by = names[0]
	default:
		by = strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	}
	return `Cannot delete "` + what + `" because it is referenced by ` + by + "; change or delete those first."
}

// oneLine joins the lines of a message (errors.Join makes several).
func oneLine(msg string) string {
	return strings.ReplaceAll(msg, "\n", "; ")
}

func (h *handler) logf(format string, args ...any) {
	if h.log != nil {
		h.log.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// syntaxMessage is the parser's own message from an error wrapping
// validate.ErrSyntax, without the package prefixes.
func syntaxMessage(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, validate.ErrSyntax.Error()); i >= 0 {
		msg = strings.TrimPrefix(msg[i+len(validate.ErrSyntax.Error()):], ": ")
	}
	return msg
}

// body reads a write's body. It answers 413 for a body over the limit and
// 415 for a media type other than JSON (or, for a PATCH, merge-patch
// JSON), and reports whether the caller should go on. An empty body is
// the empty object whatever its media type, as in Django REST framework;
// a body without a Content-Type is read as JSON.
func (h *handler) body(w http.ResponseWriter, r *http.Request, patch bool) ([]byte, bool) {
	if r.ContentLength > h.maxBody {
		h.tooLarge(w)
		return nil, false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.tooLarge(w)
		} else {
			writeDetail(w, http.StatusBadRequest, msgParseError+err.Error())
		}
		return nil, false
	}
	if len(b) == 0 {
		return []byte("{}"), true
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != mediaJSON && !(patch && mt == mediaMergePatch)) {
			writeDetail(w, http.StatusUnsupportedMediaType, `Unsupported media type "`+ct+`" in request.`)
			return nil, false
		}
	}
	return b, true
}

func (h *handler) tooLarge(w http.ResponseWriter) {
	writeDetail(w, http.StatusRequestEntityTooLarge,
		"Request body too large: the limit is "+strconv.FormatInt(h.maxBody, 10)+" bytes.")
}
