package etcd

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/authflow/authflow/store/kv"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Defaults of [Config].
const (
	DefaultPrefix         = "authflow/"
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 10 * time.Second
	DefaultRetries        = 100
	// RecommendedMaxTxnOps is the etcd server's --max-txn-ops that the
	// store's larger transactions need; see the package documentation.
	RecommendedMaxTxnOps = 10000
)

// ErrOutcomeUnknown is kv.ErrOutcomeUnknown: a write whose connection was
// lost before etcd answered, and whose outcome could not be learnt
// afterwards.
var ErrOutcomeUnknown = kv.ErrOutcomeUnknown

// Config says which etcd cluster to use and how.
type Config struct {
	// Endpoints are the cluster's client URLs, such as
	// "http://127.0.0.1:2379". Ignored when Client is set.
	Endpoints []string
	// Client is an etcd client to use instead of dialling Endpoints. The
	// DB does not close it.
	Client *clientv3.Client
	// Prefix is put before every key the DB writes, so that several
	// configurations can share one cluster (DefaultPrefix when empty). A
	// "/" is appended when it does not end with one. Two configurations'
	// prefixes must not be one inside the other ("a/" and "a/b/").
	Prefix string
	// DialTimeout bounds how long Open waits to reach the cluster
	// (DefaultDialTimeout when zero).
	DialTimeout time.Duration
	// RequestTimeout bounds every request to etcd, whatever the caller's
	// context says, so that a lost cluster fails calls instead of blocking
	// them (DefaultRequestTimeout when zero).
	RequestTimeout time.Duration
	// Retries bounds how often Update runs its function again after losing
	// a race to another writer (DefaultRetries when zero).
	Retries int
}

// DB is a kv.DB kept in etcd under one prefix. It also implements
// kv.Notifier and kv.Buckets.
//
// # How a transaction works
//
// Each DB holds a copy of every key under its prefix in memory, loaded at
// Open and kept current by an etcd watch of the prefix: a persistent
// ordered map, each version of which stays readable while newer ones are
// made. A transaction begins with one linearizable read, of the prefix's
// guard key, which every commit writes; it waits until the copy holds
// that commit, and then reads that version of the copy: one consistent
// snapshot that holds every write committed before the transaction began,
// in any process, whatever it reads. (The copy of another process's write
// lags its commit by the watch's delivery; a transaction that begins after
// the commit waits for it.)
//
// An Update buffers its writes (its own reads see them) and commits them
// in one etcd transaction together with a write of the guard, on
// condition that the guard has not changed since the snapshot. Every
// Update that writes goes through the guard, so of two writers that
// overlap one commits and the other runs its function again on the new
// state: writes are serializable and never half-applied.
//
// When the connection is lost while a commit is in flight, the DB learns
// the outcome once the cluster answers again: it fences the guard (so the
// lost commit can no longer apply) and reads the guard's history to see
// whether its own commit was the first after the snapshot. Only when that
// is impossible (the cluster stays unreachable past RequestTimeout, or its
// history was compacted) does Update fail with ErrOutcomeUnknown.
//
// A watch that ends is started again where it stopped; when etcd has
// compacted past that point, the copy is loaded afresh.
type DB struct {
	client  *clientv3.Client
	owned   bool
	prefix  string
	guard   string
	timeout time.Duration
	retries int

	mu        sync.Mutex
	closed    bool
	wg        sync.WaitGroup // running transactions
	following sync.WaitGroup // the watch

	changed chan struct{}
	stop    context.CancelFunc

	smu  sync.Mutex
	snap *snapshot     // the latest version of the copy
	pub  chan struct{} // closed and replaced when snap changes

	beforeCommit func() // tests: runs before each commit request
}

// Open connects to the cluster and returns the DB. It fails, within
// DialTimeout, when the cluster cannot be reached.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Retries <= 0 {
		cfg.Retries = DefaultRetries
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if !strings.HasSuffix(cfg.Prefix, "/") {
		cfg.Prefix += "/"
	}
	db := &DB{client: cfg.Client, prefix: cfg.Prefix, guard: cfg.Prefix + guardName,
		timeout: cfg.RequestTimeout, retries: cfg.Retries, changed: make(chan struct{}, 1)}
	if db.client == nil {
		if len(cfg.Endpoints) == 0 {
			return nil, errors.New("etcd: no endpoints")
		}
		c, err := clientv3.New(clientv3.Config{
			Endpoints:   cfg.Endpoints,
			DialTimeout: cfg.DialTimeout,
			Logger:      zap.NewNop(),
			// A peer that stops answering is noticed within seconds, and
			// the client moves on to another endpoint.
			DialKeepAliveTime:    2 * time.Second,
			DialKeepAliveTimeout: 2 * time.Second,
		})
		if err != nil {
			return nil, fmt.Errorf("etcd: %v: %w", cfg.Endpoints, err)
		}
		db.client, db.owned = c, true
	}
	// Reach the cluster now, loading the copy: a wrong address fails
	// Open, not the first request.
	db.pub = make(chan struct{})
	rctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	rev, err := db.load(rctx)
	if err != nil {
		db.closeClient()
		return nil, fmt.Errorf("etcd: cannot reach %v within %v: %w", db.client.Endpoints(), cfg.DialTimeout, err)
	}
	wctx, stop := context.WithCancel(context.Background())
	db.stop = stop
	db.following.Add(1)
	go db.follow(wctx, rev)
	return db, nil
}

// guardName is the guard key's name under the prefix. It has no "/", so
// no bucket's key can be it.
const guardName = "guard"

func (db *DB) closeClient() {
	if db.owned {
		db.client.Close()
	}
}

// Client returns the etcd client the DB uses.
func (db *DB) Client() *clientv3.Client { return db.client }

// Prefix returns the prefix of every key the DB writes.
func (db *DB) Prefix() string { return db.prefix }

// Key returns the etcd key of key in bucket.
func (db *DB) Key(bucket string, key []byte) string {
	return db.prefix + bucket + "/" + string(key)
}

// Changed implements kv.Notifier: it receives after every commit to the
// prefix, this process's included, and when the watch had to be restarted
// (then anything may have changed).
func (db *DB) Changed() <-chan struct{} { return db.changed }

func (db *DB) notify() {
	select {
	case db.changed <- struct{}{}:
	default:
	}
}

// snapshot is one version of the copy.
type snapshot struct {
	root tree
	rev  int64 // every commit up to rev is in root
}

func (db *DB) publish(root tree, rev int64) {
	db.smu.Lock()
	db.snap = &snapshot{root: root, rev: rev}
	close(db.pub)
	db.pub = make(chan struct{})
	db.smu.Unlock()
	db.notify()
}

func (db *DB) current() (*snapshot, <-chan struct{}) {
	db.smu.Lock()
	defer db.smu.Unlock()
	return db.snap, db.pub
}

// load reads every key under the prefix at one revision into a new copy,
// and returns the revision.
func (db *DB) load(ctx context.Context) (int64, error) {
	var d draft
	var rev int64
	from, end := db.prefix, clientv3.GetPrefixRangeEnd(db.prefix)
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(1000)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := db.client.Get(ctx, from, opts...)
		if err != nil {
			return 0, err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, e := range resp.Kvs {
			d.put(string(e.Key), value(e.Value), e.ModRevision)
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	db.publish(d.share(), rev)
	return rev, nil
}

// follow keeps the copy current from after rev until ctx is done.
func (db *DB) follow(ctx context.Context, rev int64) {
	defer db.following.Done()
	for ctx.Err() == nil {
		wch := db.client.Watch(clientv3.WithRequireLeader(ctx), db.prefix,
			clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithProgressNotify())
		compacted := false
		for resp := range wch {
			if err := resp.Err(); err != nil || resp.Canceled {
				compacted = resp.CompactRevision != 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted)
				break
			}
			if resp.IsProgressNotify() {
				continue
			}
			if len(resp.Events) == 0 {
				continue
			}
			snap, _ := db.current()
			d := draft{t: snap.root}
			for _, ev := range resp.Events {
				k := string(ev.Kv.Key)
				if ev.Type == clientv3.EventTypeDelete {
					d.del(k)
				} else {
					d.put(k, value(ev.Kv.Value), ev.Kv.ModRevision)
				}
			}
			rev = resp.Events[len(resp.Events)-1].Kv.ModRevision
			db.publish(d.share(), rev)
		}
		if ctx.Err() != nil {
			return
		}
		if compacted {
			// etcd no longer has the changes after rev: load afresh.
			lctx, cancel := context.WithTimeout(ctx, db.timeout)
			r, err := db.load(lctx)
			cancel()
			if err == nil {
				rev = r
				continue
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// snapshotAt returns the copy once it holds every commit before now: it
// reads the guard's mod revision (the last commit) and waits for the copy
// to reach it.
func (db *DB) snapshotAt(ctx context.Context) (*snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, db.timeout)
	defer cancel()
	resp, err := db.client.Get(ctx, db.guard)
	if err != nil {
		return nil, db.wrap(err)
	}
	var last int64
	if len(resp.Kvs) > 0 {
		last = resp.Kvs[0].ModRevision
	}
	for {
		snap, pub := db.current()
		if snap.rev >= last {
			return snap, nil
		}
		select {
		case <-pub:
		case <-ctx.Done():
			return nil, fmt.Errorf("etcd: the watch did not deliver revision %d (at %d): %w", last, snap.rev, ctx.Err())
		}
	}
}

// begin registers a transaction, or fails when the DB is closed or ctx
// is done.
func (db *DB) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return kv.ErrClosed
	}
	db.wg.Add(1)
	return nil
}

func (db *DB) isClosed() bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.closed
}

// View implements kv.DB.
func (db *DB) View(ctx context.Context, fn func(kv.Tx) error) error {
	if err := db.begin(ctx); err != nil {
		return err
	}
	defer db.wg.Done()
	t := &tx{db: db, ctx: ctx}
	defer func() { t.done = true }()
	return fn(t)
}

// Update implements kv.DB.
func (db *DB) Update(ctx context.Context, fn func(kv.Tx) error) error {
	if err := db.begin(ctx); err != nil {
		return err
	}
	defer db.wg.Done()
	for attempt := 0; ; attempt++ {
		t := &tx{db: db, ctx: ctx, writable: true, writes: map[string]*write{}}
		err := fn(t)
		if err == nil {
			err = t.commit()
		}
		t.done = true
		if err == nil {
			for _, f := range t.onCommit {
				f()
			}
			return nil
		}
		if !errors.Is(err, kv.ErrConflict) || attempt >= db.retries {
			return err
		}
		if db.isClosed() {
			return fmt.Errorf("etcd: closed while retrying (%v): %w", err, kv.ErrClosed)
		}
		// Back off a little, at random, so that racing writers spread out.
		d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcd: %w", ctx.Err())
		case <-time.After(d):
		}
	}
}

// Close implements kv.DB.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	db.mu.Unlock()
	db.wg.Wait() // the transactions still running need the watch
	db.stop()
	db.following.Wait()
	db.closeClient()
	return nil
}

// BucketNames implements kv.Buckets.
func (db *DB) BucketNames(ctx context.Context) ([]string, error) {
	if err := db.begin(ctx); err != nil {
		return nil, err
	}
	defer db.wg.Done()
	snap, err := db.snapshotAt(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	from, end := db.prefix, clientv3.GetPrefixRangeEnd(db.prefix)
	for {
		var next entry
		found := false
		snap.root.ascend(from, end, func(e entry) bool { next, found = e, true; return false })
		if !found {
			return names, nil
		}
		name, _, ok := strings.Cut(next.key[len(db.prefix):], "/")
		if !ok { // the guard
			from = next.key + "\x00"
			continue
		}
		names = append(names, name)
		from = db.prefix + name + "0" // "0" follows "/"
	}
}

// wrap turns an etcd error into one the store understands.
func (db *DB) wrap(err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("etcd: the snapshot's revision was compacted (%v): %w", err, kv.ErrConflict)
	case errors.Is(err, rpctypes.ErrTooManyOps):
		return fmt.Errorf("etcd: %v (the server's --max-txn-ops): %w", err, kv.ErrTooLarge)
	case errors.Is(err, rpctypes.ErrRequestTooLarge):
		return fmt.Errorf("etcd: %v (the server's --max-request-bytes): %w", err, kv.ErrTooLarge)
	case status.Code(err) == codes.ResourceExhausted:
		return fmt.Errorf("etcd: %v: %w", err, kv.ErrTooLarge)
	}
	return fmt.Errorf("etcd: %w", err)
}

// rejected reports whether a failed request certainly did not apply: the
// server refused it as it stands.
func rejected(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.ResourceExhausted, codes.PermissionDenied,
		codes.Unauthenticated, codes.FailedPrecondition, codes.OutOfRange:
		return true
	}
	for _, e := range []error{rpctypes.ErrTooManyOps, rpctypes.ErrRequestTooLarge, rpctypes.ErrDuplicateKey,
		rpctypes.ErrCompacted, rpctypes.ErrFutureRev, rpctypes.ErrPermissionDenied,
		rpctypes.ErrInvalidAuthToken, rpctypes.ErrAuthNotEnabled} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

type write struct {
	val []byte
	del bool
}

type tx struct {
	db       *DB
	ctx      context.Context
	writable bool
	done     bool

	began    bool
	root     draft // the snapshot, with the transaction's own writes
	guardMod int64 // the guard's mod revision in the snapshot
	snapRev  int64 // the snapshot's revision: the guard did not change from guardMod to it

	writes   map[string]*write // by etcd key
	onCommit []func()
}

// begin takes the snapshot, at the first read or write.
func (t *tx) begin() error {
	if t.began {
		return nil
	}
	snap, err := t.db.snapshotAt(t.ctx)
	if err != nil {
		return err
	}
	t.root, t.snapRev, t.began = draft{t: snap.root}, snap.rev, true
	if g, ok := snap.root.get(t.db.guard); ok {
		t.guardMod = g.mod
	}
	return nil
}

func (t *tx) check() error {
	if t.done {
		return errors.New("etcd: transaction used after it ended")
	}
	return nil
}

func validBucket(bucket string) error {
	if bucket == "" || strings.Contains(bucket, "/") {
		return fmt.Errorf("etcd: invalid bucket name %q", bucket)
	}
	return nil
}

func validKey(bucket string, key []byte) error {
	if err := validBucket(bucket); err != nil {
		return err
	}
	if len(key) == 0 {
		return errors.New("etcd: empty key")
	}
	if len(key) > kv.MaxKeySize {
		return fmt.Errorf("etcd: key of %d bytes: %w", len(key), kv.ErrTooLarge)
	}
	return nil
}

// rctx is the context of one request.
func (t *tx) rctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.ctx, t.db.timeout)
}

func value(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

// Get implements kv.Tx.
func (t *tx) Get(bucket string, key []byte) ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := validKey(bucket, key); err != nil {
		return nil, err
	}
	if err := t.begin(); err != nil {
		return nil, err
	}
	if e, ok := t.root.t.get(t.db.Key(bucket, key)); ok {
		return e.val, nil
	}
	return nil, nil
}

// Put implements kv.Tx.
func (t *tx) Put(bucket string, key, val []byte) error {
	if err := t.check(); err != nil {
		return err
	}
	if !t.writable {
		return fmt.Errorf("etcd: put in a View: %w", kv.ErrReadOnly)
	}
	if err := validKey(bucket, key); err != nil {
		return err
	}
	if len(val) > kv.MaxValueSize {
		return fmt.Errorf("etcd: value of %d bytes: %w", len(val), kv.ErrTooLarge)
	}
	if err := t.begin(); err != nil {
		return err
	}
	k, v := t.db.Key(bucket, key), bytes.Clone(value(val))
	t.writes[k] = &write{val: v}
	t.root.put(k, v, 0)
	return nil
}

// Delete implements kv.Tx.
func (t *tx) Delete(bucket string, key []byte) error {
	if err := t.check(); err != nil {
		return err
	}
	if !t.writable {
		return fmt.Errorf("etcd: delete in a View: %w", kv.ErrReadOnly)
	}
	if err := validKey(bucket, key); err != nil {
		return err
	}
	if err := t.begin(); err != nil {
		return err
	}
	k := t.db.Key(bucket, key)
	t.writes[k] = &write{del: true}
	t.root.del(k)
	return nil
}

// Writable implements kv.Tx.
func (t *tx) Writable() bool { return t.writable }

// OnCommit implements kv.Tx.
func (t *tx) OnCommit(fn func()) {
	if t.writable {
		t.onCommit = append(t.onCommit, fn)
	}
}

// Scan implements kv.Tx.
func (t *tx) Scan(bucket string, r kv.Range, fn func(k, v []byte) (bool, error)) error {
	if err := t.check(); err != nil {
		return err
	}
	if err := validBucket(bucket); err != nil {
		return err
	}
	if err := t.begin(); err != nil {
		return err
	}
	base := t.db.prefix + bucket + "/"
	lo := base + string(r.Prefix)
	hi := clientv3.GetPrefixRangeEnd(lo)
	if len(r.Start) > 0 {
		s := base + string(r.Start)
		if !r.Reverse && s > lo {
			lo = s
		}
		if r.Reverse && s+"\x00" < hi {
			hi = s + "\x00"
		}
	}
	var err error
	visit := func(e entry) bool {
		var more bool
		more, err = fn([]byte(e.key[len(base):]), e.val)
		return more && err == nil
	}
	// Writes during the scan change a clone; the scan goes on in this version.
	if root := t.root.share(); r.Reverse {
		root.descend(lo, hi, visit)
	} else {
		root.ascend(lo, hi, visit)
	}
	return err
}

// commit writes the transaction's writes and the guard, on condition that
// the guard is where the snapshot saw it.
func (t *tx) commit() error {
	if len(t.writes) == 0 {
		return nil // nothing to write: the reads were one snapshot
	}
	id := newID()
	ops := make([]clientv3.Op, 0, len(t.writes)+1)
	keys := make([]string, 0, len(t.writes))
	for k := range t.writes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if w := t.writes[k]; w.del {
			ops = append(ops, clientv3.OpDelete(k))
		} else {
			ops = append(ops, clientv3.OpPut(k, string(w.val)))
		}
	}
	ops = append(ops, clientv3.OpPut(t.db.guard, id))
	cond := clientv3.Compare(clientv3.ModRevision(t.db.guard), "=", t.guardMod)
	if t.db.beforeCommit != nil {
		t.db.beforeCommit()
	}
	ctx, cancel := t.rctx()
	resp, err := t.db.client.Txn(ctx).If(cond).Then(ops...).Commit()
	cancel()
	switch {
	case err == nil && resp.Succeeded:
		return nil
	case err == nil:
		return fmt.Errorf("etcd: another writer committed first: %w", kv.ErrConflict)
	case rejected(err):
		return t.db.wrap(err)
	}
	committed, rerr := t.resolve(id)
	switch {
	case rerr != nil:
		return fmt.Errorf("etcd: the commit failed without a certain answer (%v) and whether it applied cannot be learnt (%v): %w", err, rerr, kv.ErrOutcomeUnknown)
	case committed:
		return nil
	default:
		return fmt.Errorf("etcd: the commit failed without a certain answer (%v) and did not apply: %w", err, kv.ErrConflict)
	}
}

// resolve learns whether the commit that wrote id to the guard applied,
// after its request failed without a certain answer. It first fences the
// guard: a write on the same condition as the commit's, so that from then
// on the commit can no longer apply. The guard's history from the
// snapshot to the fence then holds the commit's write (value id) or not.
// When the fence cannot be written (etcd refuses writes), the history
// tells only if the guard moved since the snapshot; otherwise the commit
// may still be on its way.
func (t *tx) resolve(id string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), t.db.timeout)
	defer cancel()
	cond := clientv3.Compare(clientv3.ModRevision(t.db.guard), "=", t.guardMod)
	var end int64 // the guard's history up to end decides
	for {
		resp, err := t.db.client.Txn(ctx).If(cond).Then(clientv3.OpPut(t.db.guard, newID())).Commit()
		if err == nil && resp.Succeeded {
			end = resp.Header.Revision
			break
		}
		if err == nil || ctx.Err() != nil || rejected(err) || errors.Is(err, rpctypes.ErrNoSpace) {
			// The guard moved, or no fence can be written: how far?
			g, gerr := t.db.client.Get(ctx, t.db.guard)
			switch {
			case gerr != nil:
				return false, errors.Join(err, gerr)
			case len(g.Kvs) == 0 || g.Kvs[0].ModRevision == t.guardMod:
				return false, fmt.Errorf("no fence could be written (%v) and the guard has not moved", err)
			}
			end = g.Kvs[0].ModRevision
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	wch := t.db.client.Watch(ctx, t.db.guard, clientv3.WithRev(t.snapRev+1))
	for resp := range wch {
		if err := resp.Err(); err != nil {
			return false, err
		}
		for _, ev := range resp.Events {
			if ev.Type == clientv3.EventTypePut && string(ev.Kv.Value) == id {
				return true, nil
			}
			if ev.Kv.ModRevision >= end {
				return false, nil
			}
		}
	}
	return false, fmt.Errorf("watch ended: %w", ctx.Err())
}

func newID() string {
	return crand.Text()
}
