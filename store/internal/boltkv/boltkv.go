package boltkv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authflow/authflow/store/kv"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DefaultTimeout is how long Open waits for another process's lock when
// Options.Timeout is not set.
const DefaultTimeout = time.Second

// maxProblems bounds what Check returns.
const maxProblems = 1000

// Options configures Open.
type Options struct {
	// Timeout is how long Open waits for a lock held by another process
	// before it fails with an error wrapping kv.ErrLocked; <= 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// NoSync skips fsync after each commit: faster, and a machine crash
	// may lose or tear the last transactions. For tests and bulk loads.
	NoSync bool
	// ReadOnly opens the file for reading under a shared lock (several
	// readers may hold it, no writer); Update fails with kv.ErrReadOnly.
	ReadOnly bool
}

// DB is a kv.DB kept in one bbolt file. It also implements kv.Backuper,
// kv.Buckets, kv.BucketKeeper, kv.Checker and kv.Inliner. Its methods are safe for concurrent use.
type DB struct {
	path     string
	bolt     *bolt.DB
	file     *os.File // bbolt's own descriptor, handed to it by Open
	readOnly bool
	pageSize int

	kept atomic.Pointer[map[string]bool] // buckets that must exist (KeepBuckets)

	// readers keeps the transactions of ended Views for later ones (see
	// tx.recycle).
	readers sync.Pool

	mu     sync.Mutex
	closed bool
	broken error // set when a write transaction could not be undone
	active sync.WaitGroup
}

var (
	_ kv.DB           = (*DB)(nil)
	_ kv.Backuper     = (*DB)(nil)
	_ kv.Buckets      = (*DB)(nil)
	_ kv.BucketKeeper = (*DB)(nil)
	_ kv.Checker      = (*DB)(nil)
	_ kv.Inliner      = (*DB)(nil)
	_ kv.BucketTx     = (*tx)(nil)
)

var (
	errLockTimeout = errors.New("lock timeout")
	errRollback    = errors.New("boltkv: roll back")
)

// corrupt returns an error wrapping kv.ErrCorrupt that says what is wrong.
func corrupt(path, op, what string) error {
	return fmt.Errorf("boltkv: %s %s: %w: %s", op, path, kv.ErrCorrupt, what)
}

// Open opens the bbolt file at path, creating it unless o.ReadOnly. It
// checks the file before bbolt maps it (see the package documentation)
// and fails with an error wrapping kv.ErrCorrupt for a damaged file or
// one that is not a bbolt database, kv.ErrLocked when another process
// holds the file for longer than o.Timeout, and the os error, wrapped
// with the path, when the file cannot be opened (fs.ErrNotExist for a
// missing file opened read-only).
func Open(path string, o Options) (*DB, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	flag := os.O_RDWR | os.O_CREATE
	if o.ReadOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return nil, err // an *fs.PathError, which names the path once
	}
	fail := func(err error) (*DB, error) {
		_ = f.Close() // it may be closed already: bbolt closes it when it fails
		return nil, err
	}
	locked := func() error {
		return fmt.Errorf("boltkv: open %s: %w: another process has held it for %s", path, kv.ErrLocked, timeout)
	}
	if err := lockFile(f, !o.ReadOnly, timeout); err != nil {
		if errors.Is(err, errLockTimeout) {
			return fail(locked())
		}
		return fail(fmt.Errorf("boltkv: open %s: lock: %w", path, err))
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(fmt.Errorf("boltkv: open %s: %w", path, err))
	}
	if fi.Size() == 0 {
		if o.ReadOnly {
			return fail(corrupt(path, "open", "the file is empty"))
		}
		// bbolt writes the first four pages.
	} else if err := verifyOpen(path, f, fi.Size()); err != nil {
		return fail(err)
	}

	handed := false
	bo := &bolt.Options{
		Timeout:         timeout,
		NoSync:          o.NoSync,
		ReadOnly:        o.ReadOnly,
		PreLoadFreelist: true, // read it now, under protection, even read-only
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			if handed || name != path {
				return os.OpenFile(name, flag, perm)
			}
			handed = true
			return f, nil // locked and checked above
		},
	}
	var bdb *bolt.DB
	if err := protect("open", path, func() (err error) {
		bdb, err = bolt.Open(path, 0o600, bo)
		return err
	}); err != nil {
		// A panic leaves bbolt's map of the file in place; closing the
		// descriptor releases the lock at least.
		switch {
		case errors.Is(err, kv.ErrCorrupt):
			return fail(err)
		case errors.Is(err, berrors.ErrTimeout):
			return fail(locked())
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
			return fail(corrupt(path, "open", err.Error()))
		}
		return fail(fmt.Errorf("boltkv: open %s: %w", path, err))
	}
	return &DB{path: path, bolt: bdb, file: f, readOnly: o.ReadOnly, pageSize: bdb.Info().PageSize}, nil
}

// skipWalk makes Open check only the meta pages and the file's shape,
// not the page structure. Only TestOpenWalk sets it (export_test.go), in
// a child process of its own, to measure what the walk catches.
var skipWalk bool

// verifyOpen is verifyFile for Open: once the shape is known good (the
// file holds every page the meta page counts), it walks the pages through
// a read-only map of the file rather than a read per page, which costs
// about a quarter as much, with faults on the map (the file cut short by
// another process meanwhile) turned into an error. Where the file cannot
// be mapped, it reads it.
func verifyOpen(path string, f *os.File, size int64) error {
	if _, err := checkShape(f, size); err != nil {
		return corrupt(path, "open", err.Error())
	}
	if skipWalk {
		return nil
	}
	b, unmap, err := mapFile(f, size)
	if err != nil {
		if err := verifyFile(f, size); err != nil {
			return corrupt(path, "open", err.Error())
		}
		return nil
	}
	err = protect("open", path, func() error {
		if err := verifyFile(mapped(b), size); err != nil {
			return corrupt(path, "open", err.Error())
		}
		return nil
	})
	if uerr := unmap(); err == nil && uerr != nil {
		err = fmt.Errorf("boltkv: open %s: %w", path, uerr)
	}
	return err
}

// verifyFile checks the shape of a non-empty file and then the page
// structure of the tree its meta page describes.
func verifyFile(r io.ReaderAt, size int64) error {
	m, err := checkShape(r, size)
	if err != nil {
		return err
	}
	w := newWalker(r, m, 1)
	w.verify(m)
	if len(w.problems) > 0 {
		return errors.New(w.problems[0])
	}
	return nil
}

// KeepBuckets declares that the named buckets exist: from then on a
// transaction that finds one missing (a damaged page of the bucket list)
// fails with an error wrapping kv.ErrCorrupt, rather than reading it as
// empty or creating it afresh, and Check reports it. Later calls add to
// the names.
func (db *DB) KeepBuckets(names []string) {
	for {
		old := db.kept.Load()
		m := make(map[string]bool, len(names))
		if old != nil {
			for k := range *old {
				m[k] = true
			}
		}
		for _, n := range names {
			m[n] = true
		}
		if db.kept.CompareAndSwap(old, &m) {
			return
		}
	}
}

// mustExist reports whether bucket name was declared by KeepBuckets.
func (db *DB) mustExist(name string) bool {
	m := db.kept.Load()
	return m != nil && (*m)[name]
}

// Inline implements kv.Inliner: bbolt keeps a bucket inline, in its
// parent's page, while the bucket is one leaf (a page header, and an
// element header, the key and the value per key) of at most a quarter of
// the page size.
func (db *DB) Inline(n, size int) bool {
	limit := db.pageSize / 4
	return n >= 0 && size >= 0 && n <= limit/elemSize && size <= limit &&
		pageHeaderSize+n*elemSize+size <= limit
}

// Path returns the path the database was opened with.
func (db *DB) Path() string { return db.path }

// enter registers a call that uses bbolt, so that Close waits for it, or
// fails when the database is closed.
func (db *DB) enter(op string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return fmt.Errorf("boltkv: %s %s: %w", op, db.path, kv.ErrClosed)
	}
	db.active.Add(1)
	return nil
}

// Close waits for running transactions and closes the file. Calls after
// the first return nil. It must not be called from inside a transaction
// (it would wait for itself).
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	db.mu.Unlock()
	db.active.Wait()
	db.mu.Lock()
	broken := db.broken
	db.mu.Unlock()
	if broken != nil {
		// bbolt's writer lock is held by a transaction it could not undo,
		// and its Close would wait for it forever. Closing the descriptor
		// releases the file lock; the map stays until the process exits.
		if err := db.file.Close(); err != nil {
			return fmt.Errorf("boltkv: close %s: %w", db.path, err)
		}
		return nil
	}
	if err := protect("close", db.path, db.bolt.Close); err != nil {
		return fmt.Errorf("boltkv: close %s: %w", db.path, err)
	}
	return nil
}

// View runs fn in a read-only transaction on a consistent snapshot. A
// fault or panic inside bbolt (a damaged page) ends it with an error
// wrapping kv.ErrCorrupt; a panic of fn's own is passed on.
func (db *DB) View(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := db.enter("view"); err != nil {
		return err
	}
	defer db.active.Done()
	return db.run("view", false, fn)
}

// Update runs fn in a read-write transaction, committed when fn returns
// nil. bbolt has one writer at a time, so fn runs exactly once. After a
// failure inside bbolt that it could not undo, Update fails with an error
// wrapping kv.ErrCorrupt until the database is reopened.
func (db *DB) Update(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := db.enter("update"); err != nil {
		return err
	}
	defer db.active.Done()
	if db.readOnly {
		return fmt.Errorf("boltkv: update %s: %w", db.path, kv.ErrReadOnly)
	}
	db.mu.Lock()
	broken := db.broken
	db.mu.Unlock()
	if broken != nil {
		return broken
	}
	return db.run("update", true, fn)
}

// run runs fn in a bbolt transaction with faults on the mapped file
// turned into panics, and the panics of bbolt into errors.
func (db *DB) run(op string, writable bool, fn func(kv.Tx) error) (err error) {
	x := db.begin(writable)
	var fnErr error
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		x.done = true
		r := recover()
		if r == nil {
			db.recycle(x)
			return
		}
		if x.inUser && !isFault(r) {
			panic(r) // the caller's own; bbolt has rolled back
		}
		err = corrupt(db.path, op, describe(r))
		if writable && x.bt != nil && x.bt.DB() != nil {
			db.mu.Lock()
			db.broken = fmt.Errorf("%w (and the transaction could not be undone: reopen the database)", err)
			db.mu.Unlock()
		}
	}()
	body := func(bt *bolt.Tx) error {
		x.bt = bt
		x.inUser = true
		e := fn(x)
		x.inUser = false
		x.done = true
		if e == nil && x.err != nil {
			e = x.err // damage was found: never commit
		}
		fnErr = e
		return e
	}
	if writable {
		err = db.bolt.Update(body)
	} else {
		err = db.bolt.View(body)
	}
	if err != nil && fnErr == nil {
		return fmt.Errorf("boltkv: %s %s: %w", op, db.path, boltErr(err))
	}
	return err
}

// begin returns a transaction's wrapper: a View's from those ended
// Views left (recycle), so that a read transaction allocates none of its
// own.
func (db *DB) begin(writable bool) *tx {
	if !writable {
		if x, ok := db.readers.Get().(*tx); ok {
			x.done = false
			return x
		}
	}
	return &tx{db: db, writable: writable}
}

// recycle keeps the wrapper of a View that ended normally for a later
// View, emptied but for its db and its done flag, which a caller that kept
// it past the end of its function finds set until then. A write
// transaction's, or one that ended in a panic, is left to the collector.
// The store, the only user of this package, drops its reference to a
// read transaction when fn returns, so that no stale use reaches a later
// transaction's wrapper.
func (db *DB) recycle(x *tx) {
	if x.writable {
		return
	}
	*x = tx{db: db, done: true}
	db.readers.Put(x)
}

// boltErr maps bbolt's errors to kv's where they mean the same.
func boltErr(err error) error {
	switch {
	case errors.Is(err, berrors.ErrDatabaseReadOnly), errors.Is(err, berrors.ErrTxNotWritable):
		return fmt.Errorf("%w: %v", kv.ErrReadOnly, err)
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return fmt.Errorf("%w: %v", kv.ErrClosed, err)
	case errors.Is(err, berrors.ErrKeyTooLarge), errors.Is(err, berrors.ErrValueTooLarge):
		return fmt.Errorf("%w: %v", kv.ErrTooLarge, err)
	case errors.Is(err, berrors.ErrIncompatibleValue):
		// The key holds a nested bucket, which boltkv never writes.
		return fmt.Errorf("%w: the key holds a nested bucket (%v)", kv.ErrCorrupt, err)
	}
	return err
}

// protect runs f with faults on the mapped file turned into panics and
// every panic into an error wrapping kv.ErrCorrupt. For calls that run no
// code of the caller's.
func protect(op, path string, f func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = corrupt(path, op, describe(r))
		}
	}()
	return f()
}

// boltTx runs f in a bbolt transaction under protect; a writable one is
// always rolled back.
func (db *DB) boltTx(op string, writable bool, f func(*bolt.Tx) error) error {
	return protect(op, db.path, func() error {
		if !writable {
			return db.bolt.View(f)
		}
		err := db.bolt.Update(func(bt *bolt.Tx) error {
			if err := f(bt); err != nil {
				return err
			}
			return errRollback
		})
		if errors.Is(err, errRollback) {
			return nil
		}
		return err
	})
}

// isFault reports whether a recovered value is the runtime error of a
// memory fault under debug.SetPanicOnFault.
func isFault(r any) bool {
	e, ok := r.(runtime.Error)
	if !ok {
		return false
	}
	_, ok = e.(interface{ Addr() uintptr })
	return ok
}

func describe(r any) string {
	if isFault(r) {
		return fmt.Sprintf("reading the mapped file faulted at address %#x", r.(interface{ Addr() uintptr }).Addr())
	}
	if e, ok := r.(error); ok {
		return "bbolt: " + e.Error()
	}
	return fmt.Sprintf("bbolt: %v", r)
}

// userWriter marks the time spent in the caller's writer, so that its
// panics are passed on rather than taken for damage.
type userWriter struct {
	w      io.Writer
	inUser bool
}

func (u *userWriter) Write(p []byte) (int, error) {
	u.inUser = true
	n, err := u.w.Write(p)
	u.inUser = false
	return n, err
}

// Backup writes a consistent copy of the database file to w, as of one
// snapshot, and returns the number of bytes written. The copy is a bbolt
// file that Open accepts.
func (db *DB) Backup(ctx context.Context, w io.Writer) (n int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := db.enter("backup"); err != nil {
		return 0, err
	}
	defer db.active.Done()
	uw := &userWriter{w: w}
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			if uw.inUser && !isFault(r) {
				panic(r)
			}
			err = corrupt(db.path, "backup", describe(r))
		}
	}()
	err = db.bolt.View(func(bt *bolt.Tx) error {
		var err error
		n, err = bt.WriteTo(uw)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("boltkv: backup %s: %w", db.path, err)
	}
	return n, nil
}

// BucketNames returns the names of the top-level buckets, in byte order.
func (db *DB) BucketNames(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := db.enter("list buckets"); err != nil {
		return nil, err
	}
	defer db.active.Done()
	var names []string
	err := db.boltTx("list buckets", false, func(bt *bolt.Tx) error {
		return bt.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, string(name))
			return nil
		})
	})
	if err != nil {
		if errors.Is(err, kv.ErrCorrupt) {
			return nil, err
		}
		return nil, fmt.Errorf("boltkv: list buckets %s: %w", db.path, err)
	}
	return names, nil
}

// Check implements kv.Checker: it runs a full consistency check of the
// database and returns every problem found (at most 1000, the last saying
// how many more there were), each wrapping kv.ErrCorrupt, or nil when
// there is none. It first checks
// the meta pages, then walks the page structure itself (the checks of
// Open, on the current tree), and then, if the structure is sound, runs
// bbolt's own check (tx.Check: key order, pages neither reachable nor
// free, double frees). It holds the writer lock meanwhile (bbolt's check
// is not safe beside a writer), so writes wait for it. A closed database
// or a cancelled ctx gives one error, not wrapping kv.ErrCorrupt.
func (db *DB) Check(ctx context.Context) []error {
	if err := ctx.Err(); err != nil {
		return []error{err}
	}
	if err := db.enter("check"); err != nil {
		return []error{err}
	}
	defer db.active.Done()
	db.mu.Lock()
	writable := !db.readOnly && db.broken == nil // a broken db's writer lock is taken for good
	db.mu.Unlock()
	var problems []string
	add := func(s string) { problems = append(problems, s) }
	err := db.boltTx("check", writable, func(bt *bolt.Tx) error {
		fi, err := db.file.Stat()
		if err != nil {
			return err
		}
		m0, m1, m, err := fileMetas(db.file, fi.Size())
		if err != nil {
			add(err.Error())
			return nil
		}
		headers := true
		for _, x := range []meta{m0, m1} {
			if x.err != nil {
				add(fmt.Sprintf("meta page %d is invalid (%v): the database is read through the other, which may be one transaction older", x.page, x.err))
			}
			if x.header != nil {
				add(fmt.Sprintf("meta page %d: %v", x.page, x.header))
				headers = false
			}
		}
		if _, err := checkShape(db.file, fi.Size()); err != nil {
			add(err.Error())
			return nil
		}
		if m := db.kept.Load(); m != nil {
			var missing []string
			for name := range *m {
				if bt.Bucket([]byte(name)) == nil {
					missing = append(missing, name)
				}
			}
			slices.Sort(missing)
			for _, name := range missing {
				add(fmt.Sprintf("bucket %q is missing", name))
			}
		}
		if root := bt.Cursor().Bucket().Root(); uint64(root) != m.root {
			add(fmt.Sprintf("the meta page names root page %d but the transaction reads page %d", m.root, root))
			return nil
		}
		w := newWalker(db.file, *m, maxProblems)
		w.verify(*m)
		problems = append(problems, w.problems...)
		if len(w.problems) > 0 || !headers {
			add("bbolt's own check was not run: it cannot read a database damaged like this")
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		for e := range bt.Check() { // drain it all: it runs in its own goroutine
			add(e.Error())
		}
		return nil
	})
	if err != nil && !errors.Is(err, kv.ErrCorrupt) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return []error{err}
		}
		err = fmt.Errorf("boltkv: check %s: %w", db.path, err)
	}
	var out []error
	for i, p := range problems {
		if i == maxProblems-1 && len(problems) > maxProblems {
			out = append(out, corrupt(db.path, "check", fmt.Sprintf("and %d more problems", len(problems)-i)))
			break
		}
		out = append(out, corrupt(db.path, "check", p))
	}
	if err != nil {
		out = append(out, err)
	}
	return out
}
