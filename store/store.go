package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/seal"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store/internal/boltkv"
	"github.com/authflow/authflow/store/kv"
	"github.com/google/uuid"
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
	// StageKinds supplies the stage kinds. Nil means stage.Default.
	StageKinds *stage.Registry
	// PolicyKinds supplies the policy kinds. Nil means policy.Default.
	PolicyKinds *policy.Registry
	// Collections are the host's own collections, added to the built-in
	// ones (see Declaration).
	Collections []Declarer
	// CheckExpression checks the expression of an expression policy on
	// every write that sets or changes it. A non-nil error is the field
	// error "Expression Syntax Error: <its text>", as authentik words a
	// syntax error, and nothing is written. filename is the one authentik
	// compiles under, for its message: "temp-policy" on a create, the
	// stored policy's name on an update. Nil means pysyntax.Check
	// (internal/pysyntax): the Python syntax errors found without a
	// Python parser (unbalanced brackets, unterminated strings, bad
	// indentation), with CPython's message; a construct the evaluator
	// cannot run is no syntax error and is accepted (expression.Check
	// names those). A func that returns nil turns the check off.
	CheckExpression func(filename, expression string) error
	// NewID makes primary keys. Nil means uuid.NewV7, whose keys append
	// at the end of bbolt's B+tree.
	NewID func() (uuid.UUID, error)
	// MaxPageSize bounds list page sizes. Zero means MaxPageSize.
	MaxPageSize int
	// CacheBytes bounds the cache of decoded objects, in bytes of their
	// stored form. Zero means DefaultCacheBytes; a negative value turns
	// the cache off.
	CacheBytes int
	// Passwords says how the store hashes new passwords (see package
	// password); the zero value is Django's pbkdf2_sha256 with 870,000
	// iterations. A stored hash that is not current under it is replaced
	// at the user's next successful check.
	Passwords password.Policy
	// Now is the clock of the times the store sets (a user's date_joined
	// and password_change_date). Nil means time.Now.
	Now func() time.Time
	// ChangeLog is the number of revisions whose changes the change log
	// keeps (see Watch). Zero means DefaultChangeLog; a value below 1
	// means 1.
	ChangeLog int
	// Keys seals secrets at rest: every validate.Secret field of every
	// collection and kind (every write-only field is one; see
	// Store.SecretFields) is sealed under its primary key on every write,
	// bound to its object and field, and opened on every read, so a
	// copy of the file gives none of them away (package seal). Nil means
	// no key: secrets are kept in the clear, as authentik keeps them in
	// its database, and a host should say so (authflow serve prints
	// which fields). A store once opened with a key refuses an Open
	// without one (ErrKeyRequired) and with one that does not open its
	// values (ErrWrongKey). Values written in the clear before a key was
	// given stay so until written again or until Store.Rekey.
	Keys *seal.Keyring
}

// Store is an authflow configuration, in one bbolt file or in any other
// [kv.DB]. It is safe for concurrent use by many goroutines; one process
// at a time may open a file.
type Store struct {
	db kv.DB
	// snapRev is the revision of the last snapshot whose revision a read
	// transaction read (Tx.Revision).
	snapRev atomic.Pointer[snapshotRevision]
	path    string
	schema  *schema
	reg     *stage.Registry
	preg    *policy.Registry
	// checkExpr is Options.CheckExpression.
	checkExpr func(name, expression string) error
	newID     func() (uuid.UUID, error)
	// customIDs: newID is the caller's, so a new id is checked against
	// the ids in use.
	customIDs bool
	maxPage   int
	readOnly  bool

	mu     sync.RWMutex // guards closed against in-flight transactions
	closed bool

	cache *objectCache

	// passwords is Options.Passwords; now is Options.Now or time.Now.
	passwords password.Policy
	now       func() time.Time
	// installID is the installation's id (see InstallID).
	installID string

	// keys is Options.Keys (nil: secrets in the clear).
	keys *seal.Keyring

	changeLog int
	logStart  atomic.Int64 // the change log's first revision, as last seen committed; 0 unknown
	feed      feed
	// done is closed by Close, to end watches.
	done chan struct{}
}

// Open opens or creates the store in the bbolt file at path. It fails with
// an error wrapping [ErrLocked] when another process holds the file for
// longer than the timeout, with one wrapping [ErrVersion] for a file of a
// newer format, [ErrNotStore] for a bbolt file holding other data, and
// [ErrCorrupt] for a damaged file. A file of format version 1 is migrated
// to the current format in one transaction; a failed migration leaves the
// file as it was.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	reg := o.StageKinds
	if reg == nil {
		reg = stage.Default
	}
	preg := o.PolicyKinds
	if preg == nil {
		preg = policy.Default
	}
	if _, err := newSchema(reg, preg, o.Collections); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err) // before the file is touched
	}
	db, err := boltkv.Open(path, boltkv.Options{Timeout: timeout, NoSync: o.NoSync, ReadOnly: o.ReadOnly})
	if err != nil {
		if errors.Is(err, kv.ErrLocked) {
			return nil, fmt.Errorf("store: open %s: %w (waited %s)", path, ErrLocked, timeout)
		}
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) && pe.Path == path {
			return nil, fmt.Errorf("store: %w", err) // "open PATH: no such file or directory"
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s, err := New(db, &o)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.path = path
	return s, nil
}

// New returns a store kept in db, any implementation of the storage seam.
// The store owns db from here on: [Store.Close] closes it. Options.Timeout
// and NoSync are the backend's business and are ignored here; ReadOnly
// makes the store refuse writes.
func New(db kv.DB, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	s := &Store{db: db, reg: o.StageKinds, preg: o.PolicyKinds, checkExpr: o.CheckExpression, newID: o.NewID, maxPage: o.MaxPageSize, readOnly: o.ReadOnly}
	if s.reg == nil {
		s.reg = stage.Default
	}
	if s.preg == nil {
		s.preg = policy.Default
	}
	if err := o.Passwords.Validate(); err != nil {
		return nil, fmt.Errorf("store: Options.Passwords: %w", err)
	}
	s.passwords, s.now = o.Passwords, o.Now
	if s.now == nil {
		s.now = time.Now
	}
	s.customIDs = s.newID != nil
	if s.newID == nil {
		s.newID = uuid.NewV7
	}
	if s.maxPage <= 0 {
		s.maxPage = MaxPageSize
	}
	s.cache = newObjectCache(o.CacheBytes)
	s.changeLog = o.ChangeLog
	if s.changeLog == 0 {
		s.changeLog = DefaultChangeLog
	}
	s.changeLog = max(1, s.changeLog)
	s.done = make(chan struct{})
	sc, err := newSchema(s.reg, s.preg, o.Collections)
	if err != nil {
		return nil, err
	}
	s.schema = sc
	s.keys = o.Keys
	if err := s.checkKeys(context.Background()); err != nil {
		return nil, err
	}
	if err := s.init(); err != nil {
		return nil, err
	}
	if err := s.putSealCheck(context.Background()); err != nil {
		return nil, err
	}
	if err := s.initInstallID(context.Background()); err != nil {
		return nil, err
	}
	if k, ok := db.(kv.BucketKeeper); ok {
		k.KeepBuckets(sc.buckets())
	}
	var rev int64
	if err := s.db.View(context.Background(), func(tx kv.Tx) error {
		var err error
		rev, err = storedRevision(tx)
		return err
	}); err != nil {
		return nil, err
	}
	s.feed.init(rev)
	if n, ok := db.(kv.Notifier); ok {
		go s.follow(n)
	}
	return s, nil
}

// follow delivers the changes other processes commit to a shared
// backend, each time it says there may be some, until the store closes.
// When the log cannot be read (the backend is out of reach), it tries
// again after a pause, up to a second, rather than wait for the next
// notification.
func (s *Store) follow(n kv.Notifier) {
	var retry <-chan time.Time
	pause := 50 * time.Millisecond
	for {
		select {
		case <-n.Changed():
		case <-retry:
		case <-s.done:
			return
		}
		if s.feed.remote(s) {
			retry, pause = nil, 50*time.Millisecond
		} else {
			retry, pause = time.After(pause), min(2*pause, time.Second)
		}
	}
}

var keyVersion = []byte("schema_version")

// formatVersion is the on-disk format this code reads and writes.
// Version 1 had no record envelope (checksums), no reference, pbm,
// unique-together or count indexes; version 2 no revisions and no change
// log (its records are read as they are, at revision 0); version 3 kept
// the whole change log in one bucket (read as it is); version 4 might
// lack the buckets of collections and indexes never written, kept the
// store's revision in the change log only and wrote log entries without
// a checksum (read as they are). Upgrading to version 5 creates the
// missing buckets and writes the revision to the meta bucket.
const formatVersion uint64 = 5

// init checks the format version, migrates a version-1 file and marks a
// new one.
func (s *Store) init() error {
	ctx := context.Background()
	var version uint64
	err := s.db.View(ctx, func(tx kv.Tx) error {
		v, err := tx.Get(bucketMeta, keyVersion)
		if err != nil {
			return err
		}
		if v == nil {
			return s.checkEmpty(ctx)
		}
		if len(v) != 8 {
			return fmt.Errorf("%w: malformed version record", ErrVersion)
		}
		version = binary.BigEndian.Uint64(v)
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case version > formatVersion:
		return fmt.Errorf("%w: the file has format %d, this authflow reads up to %d", ErrVersion, version, formatVersion)
	case version == formatVersion:
		return s.checkIndexes(ctx)
	case version == 0 && s.readOnly:
		return fmt.Errorf("%w: it holds no authflow data (no format version)", ErrNotStore)
	case version == 0:
		return s.db.Update(ctx, func(tx kv.Tx) error {
			if err := tx.Put(bucketMeta, keyIndexes, s.schema.fingerprint()); err != nil {
				return err
			}
			return s.putVersion(tx)
		})
	case s.readOnly:
		return fmt.Errorf("%w: the file has format %d; open it writable once to migrate it to %d", ErrVersion, version, formatVersion)
	case version >= 2 && version <= 4:
		if err := s.db.Update(ctx, s.putVersion); err != nil {
			return err
		}
		return s.checkIndexes(ctx)
	case version == 1:
		return s.db.Update(ctx, func(ktx kv.Tx) error {
			tx := newWriteTx(s, ktx, nil, true)
			if err := s.rebuild(tx); err != nil {
				return fmt.Errorf("store: migrating from format 1 (the file is unchanged): %w", err)
			}
			if err := tx.flush(); err != nil {
				return err
			}
			return s.putVersion(ktx)
		})
	}
	return fmt.Errorf("%w: unknown format %d", ErrVersion, version)
}

// checkIndexes rebuilds the indexes of a file written with other index
// declarations (an older authflow, or kinds whose references changed).
func (s *Store) checkIndexes(ctx context.Context) error {
	want := s.schema.fingerprint()
	var same bool
	err := s.db.View(ctx, func(tx kv.Tx) error {
		got, err := tx.Get(bucketMeta, keyIndexes)
		same = bytes.Equal(got, want)
		return err
	})
	if err != nil || same {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("%w: its indexes were built for other declarations (another authflow version or other stage kinds); open it writable once to rebuild them", ErrVersion)
	}
	if err := s.reindex(ctx); err != nil {
		return fmt.Errorf("store: rebuilding indexes (the records are unchanged; the next writable Open starts again): %w", err)
	}
	return nil
}

// putVersion marks the file as of the current format: it creates every
// declared bucket and records the store's revision in the meta bucket,
// which format 5 promises.
func (s *Store) putVersion(tx kv.Tx) error {
	if err := s.schema.createBuckets(tx); err != nil {
		return err
	}
	rev, err := logEnd(tx, true)
	if err != nil {
		return err
	}
	if err := putRevision(tx, rev); err != nil {
		return err
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], formatVersion)
	return tx.Put(bucketMeta, keyVersion, v[:])
}

// checkEmpty refuses a database without a format version that holds
// anything: it is someone else's.
func (s *Store) checkEmpty(ctx context.Context) error {
	bl, ok := s.db.(kv.Buckets)
	if !ok {
		return nil
	}
	names, err := bl.BucketNames(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		if n != bucketMeta {
			return fmt.Errorf("%w: it has a bucket %q and no authflow format version", ErrNotStore, n)
		}
	}
	return nil
}

// Close closes the store and its database. It waits for running
// transactions, and is safe to call more than once.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.done)
	return s.db.Close()
}

// Path returns the file's path, or "" for a store made with [New].
func (s *Store) Path() string { return s.path }

// PolicyKinds returns the policy kind registry the store uses.
func (s *Store) PolicyKinds() *policy.Registry { return s.preg }

// StageKinds returns the stage kind registry the store uses.
func (s *Store) StageKinds() *stage.Registry { return s.reg }

// View runs fn in a read-only transaction on a consistent snapshot. The
// context is checked before the transaction starts and by long scans.
// The Tx fails once fn has returned. View keeps nothing of fn, so a
// closure and what it captures stay on the caller's stack.
func (s *Store) View(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if b, ok := s.db.(*boltkv.DB); ok {
		return b.View(ctx, func(ktx kv.Tx) error { return s.runView(ctx, ktx, fn) })
	}
	return s.viewBridged(ctx, fn)
}

// runView runs fn on a new Tx for ktx (the one value of a read
// transaction a caller may keep, so never recycled), whose kv
// transaction is replaced by ended when fn returns: the backend may
// recycle its transaction for a later View (boltkv does), and a Tx kept
// past the end of its function must fail rather than read that one.
//
// fn is only called, here and in View, never kept: so the compiler keeps
// the closure a caller passes to View, and what it captures, on the
// caller's stack. That is why View calls boltkv's View on its concrete
// type (the compiler cannot tell that a kv.DB's View keeps nothing), and
// any other backend's through viewBridged.
func (s *Store) runView(ctx context.Context, ktx kv.Tx, fn func(*Tx) error) error {
	tx := &Tx{s: s, kv: ktx, ctx: ctx}
	defer func() { tx.kv = ended{} }()
	return fn(tx)
}

// viewBridged is View on a backend other than boltkv: the backend's View
// runs on a goroutine of its own, whose function hands each transaction
// (an optimistic backend may open more than one) to the caller's
// goroutine, which runs fn on it and hands back fn's result. So fn runs
// on the caller's goroutine, as with boltkv, without being given to the
// backend (see runView). A panic of fn ends the backend's transaction and
// goes on; one of the backend's is passed on to the caller.
func (s *Store) viewBridged(ctx context.Context, fn func(*Tx) error) error {
	b := &viewBridge{txs: make(chan kv.Tx), results: make(chan error), done: make(chan bridgeEnd, 1)}
	go b.serve(ctx, s.db)
	running := false
	defer func() {
		if !running {
			return
		}
		// fn panicked: end the backend's transaction first.
		b.results <- errPanicked
		for {
			select {
			case <-b.txs:
				b.results <- errPanicked
			case <-b.done:
				return
			}
		}
	}()
	for {
		select {
		case ktx := <-b.txs:
			running = true
			err := s.runView(ctx, ktx, fn)
			running = false
			b.results <- err
		case end := <-b.done:
			if end.panicked {
				panic(end.value)
			}
			return end.err
		}
	}
}

// errPanicked ends a bridged View whose function panicked.
var errPanicked = errors.New("store: the transaction's function panicked")

// viewBridge links a bridged View's goroutines (see viewBridged).
type viewBridge struct {
	txs     chan kv.Tx
	results chan error
	done    chan bridgeEnd
}

// bridgeEnd is how the backend's View ended: its error, or a panic.
type bridgeEnd struct {
	err      error
	panicked bool
	value    any
}

// serve runs the backend's View, handing each transaction over.
func (b *viewBridge) serve(ctx context.Context, db kv.DB) {
	end := bridgeEnd{panicked: true}
	defer func() {
		if end.panicked {
			end.value = recover()
		}
		b.done <- end
	}()
	end.err = db.View(ctx, func(ktx kv.Tx) error {
		b.txs <- ktx
		return <-b.results
	})
	end.panicked = false
}

// errEnded is the error of every use of a read transaction's Tx after its
// function returned.
var errEnded = errors.New("store: transaction used after its function returned")

// ended is the kv transaction of a View's Tx once its function has
// returned: every call fails with errEnded.
type ended struct{}

func (ended) Get(string, []byte) ([]byte, error) { return nil, errEnded }
func (ended) Put(string, []byte, []byte) error   { return errEnded }
func (ended) Delete(string, []byte) error        { return errEnded }
func (ended) Scan(string, kv.Range, func(k, v []byte) (bool, error)) error {
	return errEnded
}
func (ended) Writable() bool  { return false }
func (ended) OnCommit(func()) {}

// Update runs fn in a read-write transaction, committed if fn returns nil
// and rolled back otherwise, so several writes succeed or fail together.
// When a Tx method returns an error, fn should return an error too: a
// rejected write (a validation error) has written nothing, but any other
// error may leave the transaction half done.
//
// fn may run more than once: a backend with optimistic transactions (such
// as etcd) runs it again when another writer got there first. So fn must
// have no effects outside the transaction beyond recording its results;
// each run starts from the database as it then is.
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
	return s.db.Update(ctx, func(ktx kv.Tx) error {
		tx := newWriteTx(s, ktx, ctx, false)
		if err := fn(tx); err != nil {
			return err
		}
		if err := tx.flush(); err != nil {
			return err
		}
		if len(tx.w.onCommit) > 0 {
			rev, err := tx.Revision()
			if err != nil {
				return err
			}
			for _, f := range tx.w.onCommit {
				ktx.OnCommit(func() { f(rev) })
			}
		}
		return nil
	})
}

// Backup writes a consistent snapshot of the whole database to w, while
// other transactions go on, and returns the number of bytes written. It
// fails for a backend that cannot copy itself.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b, ok := s.db.(kv.Backuper)
	if !ok {
		return 0, fmt.Errorf("store: backup: %T cannot copy itself", s.db)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	return b.Backup(ctx, w)
}

// Tx is a transaction. Its methods are the store's operations; a Tx is
// valid only inside the function given to [Store.View] or [Store.Update],
// and must not be used from several goroutines.
type Tx struct {
	s   *Store
	kv  kv.Tx
	ctx context.Context
	rw  bool
	// internal marks a migration's transaction: it takes no revision
	// and logs nothing.
	internal bool
	// rev is the revision a write transaction commits at, once it has
	// changed something (see revision).
	rev int64
	// readRev is a read transaction's revision plus one, once read (0:
	// not yet).
	readRev int64
	// w is a write transaction's pending work; nil in a View (whose Tx is
	// allocated at every View, so kept small).
	w *txWrites
}

// txWrites is what a write transaction keeps until it commits.
type txWrites struct {
	// counts are count changes not yet written (see flush).
	counts map[string]int64
	// changes and changed are the changes not yet logged, committed
	// those logged, logSeq the next log entry's sequence number.
	changes   []pending
	changed   map[changeKey]int
	committed []Change
	hooked    bool // the commit hook is registered
	logSeq    uint32
	// onCommit are the functions OnCommit registered.
	onCommit []func(rev int64)
}

// newWriteTx returns a write transaction's Tx, with its txWrites in the
// same allocation.
func newWriteTx(s *Store, ktx kv.Tx, ctx context.Context, internal bool) *Tx {
	t := &struct {
		tx Tx
		w  txWrites
	}{tx: Tx{s: s, kv: ktx, ctx: ctx, rw: true, internal: internal}}
	t.tx.w = &t.w
	return &t.tx
}

// OnCommit registers fn to run once the transaction has committed, with
// the revision it committed at: the revision its writes took, or, when it
// changed nothing, the revision it read (so an ETag from it always names
// what the caller saw). fn does not run for a transaction rolled back, or
// for a read transaction. Like fn of [Store.Update], a transaction may be
// run again; only the run that commits calls fn.
func (tx *Tx) OnCommit(fn func(rev int64)) {
	if tx.w == nil {
		return // a View's: fn never runs
	}
	tx.w.onCommit = append(tx.w.onCommit, fn)
}

// Store returns the store the transaction belongs to.
func (tx *Tx) Store() *Store { return tx.s }

func (tx *Tx) canWrite() error {
	if !tx.rw {
		return fmt.Errorf("store: write in a read-only transaction: %w", ErrReadOnly)
	}
	return nil
}
