package store

import (
	"errors"

	"github.com/authflow/authflow/store/kv"
)

// Errors returned when opening a store.
var (
	// ErrLocked is returned by [Open] when another process (or another
	// Store in this one) holds the file and the lock was not released
	// within Options.Timeout.
	ErrLocked = errors.New("store: file is locked by another process")
	// ErrVersion is returned by [Open] for a file written by a newer,
	// incompatible version of authflow.
	ErrVersion = errors.New("store: unsupported file format version")
	// ErrNotStore is returned by [Open] for a bbolt file that holds other
	// data than an authflow store; Open never writes into such a file.
	ErrNotStore = errors.New("store: not an authflow store")
)

// Errors returned by operations.
var (
	// ErrNotFound is returned when the object named by a pk or slug does
	// not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is the cause of a validation error for a clash on a
	// unique field or set of fields (flow slug, stage name, binding target
	// + stage + order). The error is also a *validate.Error carrying
	// authentik's message.
	ErrConflict = errors.New("store: conflict")
	// ErrInvalidPage is returned by list operations for a page beyond the
	// last one. authentik answers it with 404 {"detail": "Invalid page."}.
	ErrInvalidPage = errors.New("store: invalid page")
	// ErrClosed is returned by every operation on a closed Store.
	ErrClosed = errors.New("store: closed")
	// ErrReadOnly is returned by writes to a Store opened read-only.
	ErrReadOnly = errors.New("store: read-only")
	// ErrOutcomeUnknown is returned by a write on a networked backend
	// (etcd) whose commit was cut off by a lost connection when the
	// backend could not learn afterwards whether it applied. It applied
	// whole or not at all; read the objects again to know which. It is
	// kv.ErrOutcomeUnknown.
	ErrOutcomeUnknown = kv.ErrOutcomeUnknown
	// ErrTooLarge is returned by a write too large for the backend to
	// commit in one transaction (on etcd: its --max-txn-ops and
	// --max-request-bytes). Nothing of it was written. It is
	// kv.ErrTooLarge.
	ErrTooLarge = kv.ErrTooLarge
)
