package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DefaultTimeout is how long [Open] waits for another process to release
// the file when Options.Timeout is zero.
const DefaultTimeout = time.Second

// Page sizes of list operations.
const (
	// DefaultPageSize is the page size when a query names none
	// (authentik's seed-era default).
	DefaultPageSize = 100
	// MaxPageSize bounds the page size when Options.MaxPageSize is zero.
	// authentik's seed era has no bound; a larger page_size is reduced to
	// the bound rather than rejected.
	MaxPageSize = 1000
)

// Options configures [Open]. A nil *Options means the zero Options, and
// every zero field means its default.
type Options struct {
	// Timeout bounds the wait for another process's lock on the file.
	// Zero means DefaultTimeout. Open never waits forever.
	Timeout time.Duration
	// NoSync skips fsync on commit: faster, but a crash may lose the last
	// commits or corrupt the file. For tests and throwaway stores only.
	NoSync bool
	// ReadOnly opens the file with a shared lock; writes fail with
	// ErrReadOnly. The file must exist.
	ReadOnly bool
	// Registry supplies the stage kinds. Nil means stage.Default.
	Registry *stage.Registry
	// NewID makes primary keys. Nil means uuid.NewV7, whose keys append
	// at the end of bbolt's B+tree.
	NewID func() (uuid.UUID, error)
	// MaxPageSize bounds list page sizes. Zero means MaxPageSize.
	MaxPageSize int
}

// Store is an authflow configuration in one bbolt file. It is safe for
// concurrent use by many goroutines; one process at a time may open the
// file.
type Store struct {
	db       *bolt.DB
	reg      *stage.Registry
	newID    func() (uuid.UUID, error)
	maxPage  int
	readOnly bool

	mu     sync.RWMutex // guards closed against in-flight transactions
	closed bool

	cache flowCache
}

// Open opens or creates the store at path. It fails with an error wrapping
// [ErrLocked] when another process holds the file for longer than the
// timeout, and with one wrapping [ErrVersion] for a file of a newer format.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, NoSync: o.NoSync, ReadOnly: o.ReadOnly})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("store: open %s: %w (waited %s)", path, ErrLocked, timeout)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{db: db, reg: o.Registry, newID: o.NewID, maxPage: o.MaxPageSize, readOnly: o.ReadOnly}
	if s.reg == nil {
		s.reg = stage.Default
	}
	if s.newID == nil {
		s.newID = uuid.NewV7
	}
	if s.maxPage <= 0 {
		s.maxPage = MaxPageSize
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

// init creates the buckets and checks or writes the format version.
func (s *Store) init() error {
	check := func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketNames[bucketMeta])
		if meta == nil {
			// A new, empty file is fine; one with other buckets is not ours.
			return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				return fmt.Errorf("%w: it has a bucket %q and no %q bucket", ErrNotStore, name, bucketNames[bucketMeta])
			})
		}
		v := meta.Get(keyVersion)
		if v == nil {
			return nil
		}
		if len(v) != 8 {
			return fmt.Errorf("%w: malformed version record", ErrVersion)
		}
		if got := binary.BigEndian.Uint64(v); got > formatVersion {
			return fmt.Errorf("%w: the file has format %d, this authflow reads up to %d", ErrVersion, got, formatVersion)
		}
		return nil
	}
	if s.readOnly {
		return s.db.View(func(tx *bolt.Tx) error {
			if err := check(tx); err != nil {
				return err
			}
			for _, name := range bucketNames {
				if tx.Bucket(name) == nil {
					return fmt.Errorf("%w: bucket %q is missing", ErrNotStore, name)
				}
			}
			return nil
		})
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		for _, name := range bucketNames {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], formatVersion)
		return tx.Bucket(bucketNames[bucketMeta]).Put(keyVersion, v[:])
	})
}

// Close closes the file. It waits for running transactions, and is safe
// to call more than once.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.db.Close()
}

// Path returns the file's path.
func (s *Store) Path() string { return s.db.Path() }

// Registry returns the stage registry the store uses.
func (s *Store) Registry() *stage.Registry { return s.reg }

// View runs fn in a read-only transaction. The context is checked before
// the transaction starts; bbolt itself cannot be interrupted.
func (s *Store) View(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return s.db.View(func(btx *bolt.Tx) error {
		return fn(&Tx{s: s, tx: btx})
	})
}

// Update runs fn in a read-write transaction, committed if fn returns nil
// and rolled back otherwise, so several writes succeed or fail together.
// When a Tx method returns an error, fn should return an error too: a
// rejected write (a validation error) has written nothing, but any other
// error may leave the transaction half done.
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.readOnly {
		return ErrReadOnly
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return s.db.Update(func(btx *bolt.Tx) error {
		return fn(&Tx{s: s, tx: btx, write: true})
	})
}

// Backup writes a consistent snapshot of the whole file to w, while other
// transactions go on. It returns the number of bytes written.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		n, err = tx.tx.WriteTo(w)
		return err
	})
	return n, err
}

// Tx is a transaction. Its methods are the store's operations; a Tx is
// valid only inside the function given to [Store.View] or [Store.Update],
// and must not be used from several goroutines.
type Tx struct {
	s       *Store
	tx      *bolt.Tx
	write   bool
	buckets [len(bucketNames)]*bolt.Bucket // handles looked up in this tx
}

// bucket returns the handle of a top-level bucket, looking it up once per
// transaction: reads such as flow_set touch the same bucket many times.
func (tx *Tx) bucket(id bucketID) *bolt.Bucket {
	if b := tx.buckets[id]; b != nil {
		return b
	}
	b := tx.tx.Bucket(bucketNames[id])
	tx.buckets[id] = b
	return b
}

func (tx *Tx) writable() error {
	if !tx.write {
		return fmt.Errorf("store: write in a read-only transaction: %w", berrors.ErrTxNotWritable)
	}
	return nil
}

// id makes a new primary key for bucket b, refusing one that is taken (a
// custom Options.NewID could repeat itself) rather than overwrite.
func (tx *Tx) id(b bucketID) (uuid.UUID, error) {
	id, err := tx.s.newID()
	if err != nil {
		return uuid.Nil, fmt.Errorf("store: making an id: %w", err)
	}
	if b != noBucket && tx.bucket(b).Get(id[:]) != nil {
		return uuid.Nil, fmt.Errorf("store: NewID returned %s, which is already in use", id)
	}
	return id, nil
}

// view and update run fn in a transaction and return its value.
func view[T any](s *Store, ctx context.Context, fn func(*Tx) (T, error)) (T, error) {
	var out T
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

func update[T any](s *Store, ctx context.Context, fn func(*Tx) (T, error)) (T, error) {
	var out T
	err := s.Update(ctx, func(tx *Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}
