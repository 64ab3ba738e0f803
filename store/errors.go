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
	// ErrKeyRequired is returned by [Open] and [New] without a keyring
	// (Options.Keys) for a store whose secrets are sealed, and by
	// [Store.Rekey] on a store without a keyring.
	ErrKeyRequired = errors.New("store: the store's secrets are sealed and no key was given")
	// ErrWrongKey is returned by [Open] and [New] when the keyring does
	// not open the store's sealed values: none of its keys is the one
	// they were sealed under.
	ErrWrongKey = errors.New("store: the key does not open this store's sealed secrets")
)

// ErrSealed is matched by the error of a read of an object one of whose
// sealed secrets does not open: sealed for another object or field
// (copied there), under a key the keyring lacks, or damaged. The error
// names the object and the field, never a value, and also matches
// package seal's reason (seal.ErrOpen, seal.ErrUnknownKey or
// seal.ErrFormat). [Store.Check] reports each such object.
var ErrSealed = errors.New("store: a sealed secret does not open")

// Errors returned by [Open] and [New] for a schema or a file they refuse.
var (
	// ErrSchema is returned when the declared schema, a registered kind
	// included, is inconsistent: a reference to a collection or kind that
	// does not exist, an index on a field that does not exist.
	ErrSchema = errors.New("store: invalid schema")
	// ErrCorrupt is returned when the file, or a record in it, is damaged:
	// a record that fails its checksum, an index that points nowhere or
	// disagrees with its kept count, a collection's bucket that is gone, a
	// change log that disagrees with the store's revision, a file whose
	// structure bbolt cannot read. The error names what is damaged. It is
	// kv.ErrCorrupt, so a backend's own reports match it too.
	ErrCorrupt = kv.ErrCorrupt
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
	// ErrLostRace is returned by a write on a backend with optimistic
	// transactions (etcd) when other writers kept committing first and
	// the retries ran out. Nothing of it was written; it may be tried
	// again. It is kv.ErrConflict (not to be confused with ErrConflict,
	// a clash on a unique field).
	ErrLostRace = kv.ErrConflict
	// ErrProtected is matched by the error of a delete that a reference
	// with on_delete=protect refuses. The error is a *ProtectedError
	// listing what blocks the delete; nothing was deleted.
	ErrProtected = errors.New("store: protected by a reference")
	// ErrUnknownActor is matched by the error of a write whose
	// WriteOptions.Actor names no user, where the write needs one (it
	// creates an invitation, whose creator it would be). Nothing was
	// written. It is the host's error, not the body's: no
	// *validate.Error carries it.
	ErrUnknownActor = errors.New("store: the write's actor names no user")
)

// Errors of revisions and the change feed.
var (
	// ErrRevision is returned by a conditional write when the object's
	// revision is not the one the caller named: someone else changed it
	// (or deleted it) first. Nothing was written.
	ErrRevision = errors.New("store: the object's revision moved")
	// ErrCompacted is returned by Watch for a revision whose successors
	// are no longer in the change log: the caller should read the state
	// afresh and watch from its revision.
	ErrCompacted = errors.New("store: revision no longer in the change log")
)
