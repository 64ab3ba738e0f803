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
// kv.Notifier, from an etcd watch, and kv.Buckets.
//
// # How a transaction works
//
// A View reads at one etcd revision: its first read is linearizable and
// fixes the revision, and every later read asks for that revision, so the
// View sees one consistent snapshot. An Update does the same and buffers
// its writes (its own reads see them), then commits them in one etcd
// transaction together with a write of the prefix's guard key, on
// condition that the guard has not changed since the snapshot. Every
// Update that writes goes through the guard, so of two writers that
// overlap one commits and the other runs its function again on the new
// state: writes are serializable and never half-applied.
//
// When the connection is lost while a commit is in flight, the DB learns
// the outcome once the cluster answers again: it fences the guard (so the
// lost commit can no longer apply) and reads the guard's history to see
// whether its own commit was the one after the snapshot. Only when that is
// impossible (the cluster stays unreachable past RequestTimeout, or its
// history was compacted) does Update fail with ErrOutcomeUnknown.
type DB struct {
	client  *clientv3.Client
	owned   bool
	prefix  string
	guard   string
	timeout time.Duration
	retries int

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // running transactions and the watch

	changed chan struct{}
	stop    context.CancelFunc

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
	// Reach the cluster once, now: a wrong address fails Open, not the
	// first request.
	rctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	resp, err := db.client.Get(rctx, db.guard)
	if err != nil {
		db.closeClient()
		return nil, fmt.Errorf("etcd: cannot reach %v within %v: %w", db.client.Endpoints(), cfg.DialTimeout, err)
	}
	wctx, stop := context.WithCancel(context.Background())
	db.stop = stop
	db.wg.Add(1)
	go db.watch(wctx, resp.Header.Revision)
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

// watch follows the guard key from after rev until ctx is done. Every
// commit writes the guard, so every event is a commit. A watch that ends
// (compaction, a lost cluster) is started again from the present, with a
// notification in case something was missed.
func (db *DB) watch(ctx context.Context, rev int64) {
	defer db.wg.Done()
	for ctx.Err() == nil {
		opts := []clientv3.OpOption{clientv3.WithFilterDelete()}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev+1))
		}
		wch := db.client.Watch(clientv3.WithRequireLeader(ctx), db.guard, opts...)
		for resp := range wch {
			if resp.Canceled || resp.Err() != nil {
				break
			}
			if len(resp.Events) > 0 {
				rev = resp.Events[len(resp.Events)-1].Kv.ModRevision
				db.notify()
			}
		}
		if ctx.Err() != nil {
			return
		}
		rev = 0
		db.notify()
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
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
	db.stop()
	db.wg.Wait()
	db.closeClient()
	return nil
}

// BucketNames implements kv.Buckets: one request per bucket.
func (db *DB) BucketNames(ctx context.Context) ([]string, error) {
	if err := db.begin(ctx); err != nil {
		return nil, err
	}
	defer db.wg.Done()
	var names []string
	from, end := db.prefix, clientv3.GetPrefixRangeEnd(db.prefix)
	for {
		rctx, cancel := context.WithTimeout(ctx, db.timeout)
		resp, err := db.client.Get(rctx, from, clientv3.WithRange(end), clientv3.WithLimit(1), clientv3.WithKeysOnly())
		cancel()
		if err != nil {
			return nil, db.wrap(err)
		}
		if len(resp.Kvs) == 0 {
			return names, nil
		}
		rest := string(resp.Kvs[0].Key[len(db.prefix):])
		name, _, ok := strings.Cut(rest, "/")
		if !ok { // the guard
			from = string(resp.Kvs[0].Key) + "\x00"
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
		rpctypes.ErrNoSpace, rpctypes.ErrCompacted, rpctypes.ErrFutureRev, rpctypes.ErrPermissionDenied,
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

	rev      int64 // the snapshot's revision, once the first read fixed it
	guardMod int64 // the guard's mod revision at rev (Update)

	writes   map[string]*write // by etcd key
	onCommit []func()
}

func (t *tx) check() error {
	if t.done {
		return errors.New("etcd: transaction used after it ended")
	}
	return nil
}

func validKey(bucket string, key []byte) error {
	if bucket == "" || strings.Contains(bucket, "/") {
		return fmt.Errorf("etcd: invalid bucket name %q", bucket)
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

// read runs a range request at the snapshot, fixing the snapshot with the
// first one (and, in an Update, reading the guard with it).
func (t *tx) read(key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	ctx, cancel := t.rctx()
	defer cancel()
	if t.rev != 0 {
		resp, err := t.db.client.Get(ctx, key, append(opts, clientv3.WithRev(t.rev))...)
		if err != nil {
			return nil, t.db.wrap(err)
		}
		return resp, nil
	}
	if !t.writable {
		resp, err := t.db.client.Get(ctx, key, opts...)
		if err != nil {
			return nil, t.db.wrap(err)
		}
		t.rev = resp.Header.Revision
		return resp, nil
	}
	resp, err := t.db.client.Txn(ctx).Then(clientv3.OpGet(t.db.guard), clientv3.OpGet(key, opts...)).Commit()
	if err != nil {
		return nil, t.db.wrap(err)
	}
	t.rev = resp.Header.Revision
	if g := resp.Responses[0].GetResponseRange(); len(g.Kvs) > 0 {
		t.guardMod = g.Kvs[0].ModRevision
	}
	r := resp.Responses[1].GetResponseRange()
	return &clientv3.GetResponse{Header: resp.Header, Kvs: r.Kvs, More: r.More, Count: r.Count}, nil
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
	k := t.db.Key(bucket, key)
	if w, ok := t.writes[k]; ok {
		if w.del {
			return nil, nil
		}
		return w.val, nil
	}
	resp, err := t.read(k)
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	return value(resp.Kvs[0].Value), nil
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
	t.writes[t.db.Key(bucket, key)] = &write{val: bytes.Clone(value(val))}
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
	t.writes[t.db.Key(bucket, key)] = &write{del: true}
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

// Scan implements kv.Tx: pages of keys from etcd at the snapshot, merged
// with the transaction's own writes.
func (t *tx) Scan(bucket string, r kv.Range, fn func(k, v []byte) (bool, error)) error {
	if err := t.check(); err != nil {
		return err
	}
	if bucket == "" || strings.Contains(bucket, "/") {
		return fmt.Errorf("etcd: invalid bucket name %q", bucket)
	}
	base := t.db.prefix + bucket + "/"
	lo := base + string(r.Prefix)
	hi := clientv3.GetPrefixRangeEnd(lo)
	if r.Start != nil {
		s := base + string(r.Start)
		if !r.Reverse && s > lo {
			lo = s
		}
		if r.Reverse && s+"\x00" < hi {
			hi = s + "\x00"
		}
	}
	if lo >= hi {
		return nil
	}
	// The transaction's own writes in the range, in scan order.
	var mine []string
	for k := range t.writes {
		if k >= lo && k < hi {
			mine = append(mine, k)
		}
	}
	slices.Sort(mine)
	if r.Reverse {
		slices.Reverse(mine)
	}
	before := func(a, b string) bool { // a comes first in scan order
		if r.Reverse {
			return a > b
		}
		return a < b
	}
	emit := func(k string, v []byte) (bool, error) {
		return fn([]byte(k[len(base):]), v)
	}
	order := clientv3.SortAscend
	if r.Reverse {
		order = clientv3.SortDescend
	}
	limit := int64(16)
	for {
		resp, err := t.read(lo, clientv3.WithRange(hi), clientv3.WithLimit(limit), clientv3.WithSort(clientv3.SortByKey, order))
		if err != nil {
			return err
		}
		for _, e := range resp.Kvs {
			k := string(e.Key)
			for len(mine) > 0 && before(mine[0], k) {
				if w := t.writes[mine[0]]; !w.del {
					if more, err := emit(mine[0], w.val); !more || err != nil {
						return err
					}
				}
				mine = mine[1:]
			}
			if len(mine) > 0 && mine[0] == k {
				mine = mine[1:]
				if w := t.writes[k]; w.del {
					continue
				} else if more, err := emit(k, w.val); !more || err != nil {
					return err
				}
				continue
			}
			if more, err := emit(k, value(e.Value)); !more || err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		last := string(resp.Kvs[len(resp.Kvs)-1].Key)
		if r.Reverse {
			hi = last
		} else {
			lo = last + "\x00"
		}
		limit = min(limit*4, 1024)
	}
	for _, k := range mine {
		if w := t.writes[k]; !w.del {
			if more, err := emit(k, w.val); !more || err != nil {
				return err
			}
		}
	}
	return nil
}

// commit writes the transaction's writes and the guard, on condition that
// the guard is where the snapshot saw it.
func (t *tx) commit() error {
	if len(t.writes) == 0 {
		return nil // nothing to write: the reads were one snapshot
	}
	if t.rev == 0 { // blind writes: the guard was not read yet
		if _, err := t.read(t.db.guard); err != nil {
			return err
		}
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
		return fmt.Errorf("etcd: the commit was cut off (%v) and its outcome cannot be learnt (%v): %w", err, rerr, kv.ErrOutcomeUnknown)
	case committed:
		return nil
	default:
		return fmt.Errorf("etcd: the commit was cut off (%v) and did not apply: %w", err, kv.ErrConflict)
	}
}

// resolve learns whether the commit that wrote id to the guard applied,
// after its request failed without an answer. It first fences the guard:
// a write on the same condition as the commit's, so that from then on the
// commit can no longer apply. The first write of the guard after the
// snapshot is then either the commit (value id) or not.
func (t *tx) resolve(id string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), t.db.timeout)
	defer cancel()
	cond := clientv3.Compare(clientv3.ModRevision(t.db.guard), "=", t.guardMod)
	for {
		_, err := t.db.client.Txn(ctx).If(cond).Then(clientv3.OpPut(t.db.guard, newID())).Commit()
		if err == nil {
			break
		}
		if ctx.Err() != nil || rejected(err) {
			return false, err
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The guard's first version after the snapshot's.
	wch := t.db.client.Watch(ctx, t.db.guard, clientv3.WithRev(t.guardMod+1))
	for resp := range wch {
		if err := resp.Err(); err != nil {
			return false, err
		}
		for _, ev := range resp.Events {
			return string(ev.Kv.Value) == id, nil
		}
	}
	return false, fmt.Errorf("watch ended: %w", ctx.Err())
}

func newID() string {
	return crand.Text()
}
