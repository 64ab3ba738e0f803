// Package kv is the storage seam under the store: a small, ordered
// key-value interface with transactions. The store's engine (schema,
// validation, indexes, references, lists) is written once against it, and
// each backend implements it: bbolt in store/internal/boltkv, and etcd in
// the module github.com/authflow/authflow/etcd.
//
// # Contract
//
// Keys live in named buckets. A bucket exists as soon as a key is put in
// it and reads of a bucket that has never been written see it empty, so a
// backend need not create buckets up front. Bucket names are short ASCII
// strings without "/"; keys are non-empty and at most MaxKeySize bytes;
// values are at most MaxValueSize bytes.
//
// View runs fn on a consistent snapshot. Update runs fn in a read-write
// transaction that commits when fn returns nil and writes nothing when fn
// returns an error. fn MAY RUN MORE THAN ONCE: an optimistic backend that
// loses a race re-runs fn against the new state. So fn must have no
// effects outside the transaction; what must happen after a commit goes in
// Tx.OnCommit, which runs once, only after the commit succeeded.
//
// Slices returned by Get and passed to a Scan callback are valid only
// until the transaction ends, and must not be modified; copy what you keep.
// A key whose value is empty reads as a non-nil, empty slice. Put copies
// key and val, so the caller may reuse its buffers once Put returns.
//
// A transaction too large for the backend fails as a whole with an error
// wrapping ErrTooLarge; it never half-applies.
package kv

import (
	"context"
	"errors"
	"io"
)

// Size limits every backend accepts. bbolt allows larger keys; etcd's
// default request limit (1.5 MiB) bounds a value.
const (
	MaxKeySize   = 4096
	MaxValueSize = 1 << 20
)

// Errors a backend returns. Backends wrap them with context; compare with
// errors.Is.
var (
	// ErrConflict means an optimistic transaction lost a race. Update
	// retries fn itself; the error reaches the caller only when retries
	// are exhausted.
	ErrConflict = errors.New("kv: conflicting transaction")
	// ErrTooLarge means a transaction or value exceeds a backend limit.
	// Nothing of it was written.
	ErrTooLarge = errors.New("kv: transaction too large")
	// ErrReadOnly is returned by writes in a View, or in a database
	// opened read-only.
	ErrReadOnly = errors.New("kv: read-only")
	// ErrLocked means another process holds the database.
	ErrLocked = errors.New("kv: database is locked")
	// ErrCorrupt means the stored data is damaged: the file's structure,
	// a page, or a record that fails its checksum. The error says what.
	ErrCorrupt = errors.New("kv: database is damaged")
	// ErrClosed is returned by every call on a closed database.
	ErrClosed = errors.New("kv: closed")
	// ErrOutcomeUnknown means a commit was cut off (a lost connection to
	// a networked backend) and the backend could not learn afterwards
	// whether it applied: it applied whole or not at all, and the caller
	// must read the state again to know which.
	ErrOutcomeUnknown = errors.New("kv: outcome of the commit unknown")
)

// DB is a transactional key-value database.
type DB interface {
	// View runs fn in a read-only snapshot transaction. When ctx is
	// done before it starts, View fails with an error wrapping ctx.Err()
	// and fn does not run.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction; see the package
	// documentation: fn may run more than once. ctx is as for View.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the database. It waits for running transactions
	// (so it must not be called from inside one) and is safe to call
	// more than once; later calls return nil.
	Close() error
}

// Range selects the keys of a Scan: those that start with Prefix and are
// not before Start (when Start is not empty; it should itself start with
// Prefix), in ascending byte order, or descending when Reverse is set (then
// Start is the last key visited, inclusive).
type Range struct {
	Prefix  []byte
	Start   []byte
	Reverse bool
}

// Tx is one transaction. It must not be used after its function returns,
// nor from several goroutines.
type Tx interface {
	// Get returns the value of key, or nil when there is none.
	Get(bucket string, key []byte) ([]byte, error)
	// Put sets key to val. It fails with ErrReadOnly in a View.
	Put(bucket string, key, val []byte) error
	// Delete removes key; a missing key is not an error.
	Delete(bucket string, key []byte) error
	// Scan calls fn for each key in r, in order, until fn returns false
	// or an error (which Scan returns). fn must not write to the bucket
	// being scanned.
	Scan(bucket string, r Range, fn func(k, v []byte) (bool, error)) error
	// Writable reports whether the transaction may write.
	Writable() bool
	// OnCommit registers fn to run after the transaction commits, before
	// Update returns, in order of registration. It never runs for a
	// transaction that does not commit, nor in a View, and runs once
	// even when fn of Update ran several times (only the registrations of
	// the run that committed count).
	OnCommit(fn func())
}

// Snapshot is implemented by a Tx that can name the committed state a
// read transaction reads: two read transactions of one DB given the same
// id read the same data. SnapshotID's ok is false for a write
// transaction.
type Snapshot interface {
	SnapshotID() (id uint64, ok bool)
}

// Notifier is implemented by a DB that several processes share: Changed
// returns a channel that receives (or is closed) whenever another process
// may have committed since the last receive. The store then reads its
// change log for what changed. A DB only this process writes need not
// implement it.
type Notifier interface {
	Changed() <-chan struct{}
}

// Backuper is implemented by a DB that can write a consistent copy of
// itself, such as a bbolt file.
type Backuper interface {
	Backup(ctx context.Context, w io.Writer) (int64, error)
}

// Checker is implemented by a DB that can check its own structure, such
// as a bbolt file's pages, for a full consistency check (the store's
// Check, the command authflow check).
type Checker interface {
	// Check returns every problem it finds, each wrapping ErrCorrupt and
	// saying what is wrong, or nil when there is none. A failure to run
	// the check (a closed DB, ctx done) is an error that does not wrap
	// ErrCorrupt.
	Check(ctx context.Context) []error
}

// Inliner is implemented by a DB that keeps a small enough bucket inline,
// within a page that every commit writes anyway, so that a write to it
// costs no page of its own: bbolt keeps a bucket whose one leaf fits in a
// quarter page inside its parent's page. The store then appends its change
// log to a small bucket first and moves the entries to the main log in one
// batch once Inline says they no longer fit; on any other DB it appends to
// the main log.
type Inliner interface {
	// Inline reports whether a bucket of n keys, whose keys and values
	// total size bytes, is kept inline.
	Inline(n, size int) bool
}

// Buckets is implemented by a DB that can list the buckets it holds, so
// that the store can recognise a database that holds other data.
type Buckets interface {
	BucketNames(ctx context.Context) ([]string, error)
}

// BucketTx is implemented by the transactions of a DB whose buckets exist
// apart from their keys, as bbolt's do: a bucket can be created empty, so
// that its absence can later be told from its being empty.
type BucketTx interface {
	// CreateBucket creates the bucket name unless it exists. It fails
	// with ErrReadOnly in a View.
	CreateBucket(name string) error
}

// BucketKeeper is implemented by a DB whose transactions implement
// BucketTx.
type BucketKeeper interface {
	// KeepBuckets declares that each named bucket exists (the caller
	// created them): from then on a transaction that finds one of them
	// missing fails with an error wrapping ErrCorrupt instead of reading
	// it as empty or creating it, and a consistency check reports it.
	KeepBuckets(names []string)
}
