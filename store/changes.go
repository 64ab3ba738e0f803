package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"iter"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/authflow/authflow/store/kv"
	"github.com/google/uuid"
)

// Revisions and the change feed.
//
// Every write transaction that changes anything commits at the next
// revision (1, 2, ...), which it records in the same transaction in the
// envelope of every record it wrote and in the change log, one entry per
// object it created, updated or deleted. A transaction that changes
// nothing (a patch to the values an object already has, a rolled-back
// import) takes no revision and leaves no entry.
//
// The log keeps the changes of at least the last Options.ChangeLog
// revisions (DefaultChangeLog); once it holds an eighth more, the write
// that finds so deletes the older revisions whole. The store's revision
// is that of the log's last entry, so a write touches no other page for
// it. A Watch or a subscriber that falls behind the log is told so
// (ErrCompacted) rather than shown a partial history.

// DefaultChangeLog is the number of revisions whose changes the log keeps
// when Options.ChangeLog is zero.
const DefaultChangeLog = 10000

// Op says what a Change did.
type Op uint8

// Ops.
const (
	OpCreated Op = iota + 1
	OpUpdated
	OpDeleted
)

func (o Op) String() string {
	switch o {
	case OpCreated:
		return "created"
	case OpUpdated:
		return "updated"
	case OpDeleted:
		return "deleted"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Change is what one committed transaction did to one object. A
// transaction that touches an object several times (creates and then
// patches it) yields one Change, with what the object went from and to;
// an object created and deleted in the same transaction yields none.
type Change struct {
	// Revision is the revision of the transaction.
	Revision int64
	// Collection is the collection's model (ModelFlow, ModelStage, ...);
	// Model is the object's own (the stage's or policy's kind, for
	// those).
	Collection, Model string
	PK                uuid.UUID
	Op                Op
	// Refs are the objects the object referred to before or after the
	// change (its references, many-to-many ones included), so that a
	// watcher of a flow learns of a binding added to it, or of a policy
	// binding added to one of its bindings.
	Refs []uuid.UUID
}

// Touched yields the objects a cache of what was read from them must
// drop: the object itself, then each object it referred to before or
// after the change (Refs).
func (c Change) Touched() iter.Seq[uuid.UUID] {
	return func(yield func(uuid.UUID) bool) {
		if !yield(c.PK) {
			return
		}
		for _, r := range c.Refs {
			if !yield(r) {
				return
			}
		}
	}
}

// The change log is bucketChanges, of revision ‖ seq -> change. On a
// backend that keeps small buckets inline (a kv.Inliner, such as bbolt),
// the newest entries go to bucketRecent first, and move to bucketChanges
// in one batch once the backend says they no longer fit inline; so most
// commits write no page for the log. Every key of bucketRecent is after
// every key of bucketChanges: a write on any other backend appends to
// bucketChanges and moves there whatever bucketRecent holds (the log of a
// backend written with the inline bucket by an older authflow).
const (
	bucketChanges = "changes"
	bucketRecent  = "changes_recent"
)

// logBuckets are the log's buckets in key order.
var logBuckets = [2]string{bucketChanges, bucketRecent}

// pending is a change not yet committed: the object before the
// transaction first touched it (nil for a new one), and after its last
// write (nil for a deleted one).
type pending struct {
	c         *collection
	pk        uuid.UUID
	cur, next any
}

// record notes that the transaction changed c's object pk from cur to
// next (either may be nil).
func (tx *Tx) record(c *collection, pk uuid.UUID, cur, next any) {
	if tx.internal {
		return
	}
	k := changeKey{c, pk}
	if i, ok := tx.w.changed[k]; ok {
		tx.w.changes[i].next = next
		return
	}
	if tx.w.changed == nil {
		tx.w.changed = map[changeKey]int{}
	}
	tx.w.changed[k] = len(tx.w.changes)
	tx.w.changes = append(tx.w.changes, pending{c: c, pk: pk, cur: cur, next: next})
}

type changeKey struct {
	c  *collection
	pk uuid.UUID
}

// revision is the revision this write transaction commits at: one past
// the store's.
func (tx *Tx) revision() (int64, error) {
	if tx.rev == 0 {
		r, err := storedRevision(tx.kv)
		if err != nil {
			return 0, err
		}
		tx.rev = r + 1
	}
	return tx.rev, nil
}

// storedRevision is the revision of the last committed write: that of
// the change log's last entry (the log always keeps the last revision).
// The meta bucket records it too (keyRevision; bbolt keeps that small
// bucket inline in the page of bucket headers that every commit writes
// anyway), and the two must agree: a log whose newest entries were lost
// to damage would otherwise lower the store's revision, and the next
// write would reuse a revision number that clients already hold.
func storedRevision(k kv.Tx) (int64, error) {
	rev, err := logEnd(k, true)
	if err != nil {
		return 0, err
	}
	meta, err := metaRevision(k)
	if err != nil {
		return 0, err
	}
	if meta != rev {
		return 0, fmt.Errorf("store: %w: the change log ends at revision %d, the store is at revision %d", ErrCorrupt, rev, meta)
	}
	return rev, nil
}

var keyRevision = []byte("revision")

// metaRevision is the store's revision as the meta bucket records it (0
// when it records none: a store never written).
func metaRevision(k kv.Tx) (int64, error) {
	v, err := kvGet(k, bucketMeta, keyRevision)
	switch {
	case err != nil || v == nil:
		return 0, err
	case len(v) != 8:
		return 0, fmt.Errorf("store: %w: malformed revision record", ErrCorrupt)
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

func putRevision(k kv.Tx, rev int64) error {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(rev))
	return k.Put(bucketMeta, keyRevision, v[:])
}

// logEnd is the revision of the log's last (or first) entry; 0 when the
// log is empty.
func logEnd(k kv.Tx, last bool) (int64, error) {
	buckets := logBuckets
	if last {
		buckets[0], buckets[1] = buckets[1], buckets[0]
	}
	for _, b := range buckets {
		var rev int64
		err := kvScan(k, b, kv.Range{Reverse: last}, func(key, _ []byte) (bool, error) {
			if len(key) != 12 {
				return false, fmt.Errorf("store: change log key %x: %w", key, ErrCorrupt)
			}
			rev = int64(binary.BigEndian.Uint64(key))
			return false, nil
		})
		if err != nil || rev != 0 {
			return rev, err
		}
	}
	return 0, nil
}

// logStart is the first revision the log holds the changes of.
func logStart(k kv.Tx) (int64, error) {
	first, err := logEnd(k, false)
	if first == 0 {
		first = 1
	}
	return first, err
}

// Revision is the store's revision as this transaction sees it: that of
// the last committed write transaction (0 for a store never written). In
// a write transaction that has changed something, it is the revision the
// transaction will commit at.
func (tx *Tx) Revision() (int64, error) {
	if tx.rev != 0 {
		return tx.rev, nil
	}
	if tx.rw {
		return storedRevision(tx.kv)
	}
	// A read transaction sees one revision: it is read once, and once
	// for all the read transactions of a snapshot (kv.Snapshot).
	if tx.readRev == 0 {
		snap, ok := tx.kv.(kv.Snapshot)
		var id uint64
		if ok {
			id, ok = snap.SnapshotID()
		}
		if last := tx.s.snapRev.Load(); ok && last != nil && last.id == id {
			tx.readRev = last.rev + 1
			return last.rev, nil
		}
		rev, err := storedRevision(tx.kv)
		if err != nil {
			return 0, err
		}
		tx.readRev = rev + 1
		if ok {
			tx.s.snapRev.Store(&snapshotRevision{id: id, rev: rev})
		}
	}
	return tx.readRev - 1, nil
}

// snapshotRevision is the revision of the read transactions of a
// snapshot (kv.Snapshot).
type snapshotRevision struct {
	id  uint64
	rev int64
}

// ObjectRevision is the revision of the transaction that last changed the
// object with pk in model's collection (0 for an object not written since
// its file was of format 2).
func (tx *Tx) ObjectRevision(model string, pk uuid.UUID) (int64, error) {
	c, obj, err := tx.byModel(model, pk)
	if err != nil {
		return 0, err
	}
	return tx.revisionOf(c, obj)
}

// revisionOf is the revision recorded in the stored record of obj.
func (tx *Tx) revisionOf(c *collection, obj any) (int64, error) {
	pk, _ := c.codec.ids(obj)
	raw, err := kvGet(tx.kv, c.bucket, pk[:])
	if err != nil || raw == nil {
		return 0, err
	}
	_, rev, err := unwrapRev(c.bucket, pk[:], raw)
	return rev, err
}

// IfRevision makes the rest of the transaction conditional: it fails with
// an error wrapping ErrRevision unless the object with pk in model's
// collection is at revision rev (ErrNotFound when it does not exist).
// Call it before the write it guards, in the same transaction; since the
// check and the write commit together, no other writer can come between
// them.
func (tx *Tx) IfRevision(model string, pk uuid.UUID, rev int64) error {
	got, err := tx.ObjectRevision(model, pk)
	if err != nil {
		return err
	}
	if got != rev {
		return fmt.Errorf("store: %s %s is at revision %d, not %d: %w", model, pk, got, rev, ErrRevision)
	}
	return nil
}

// commitChanges writes the transaction's revision and its change log
// entries, prunes the log, and arranges for the subscribers to hear of
// them once the transaction commits. It is part of flush.
func (tx *Tx) commitChanges() error {
	var out []Change
	for _, p := range tx.w.changes {
		ch := Change{Collection: p.c.model, PK: p.pk}
		switch {
		case p.cur == nil && p.next == nil:
			continue
		case p.cur == nil:
			ch.Op, ch.Model = OpCreated, p.c.modelOf(p.next)
		case p.next == nil:
			ch.Op, ch.Model = OpDeleted, p.c.modelOf(p.cur)
		default:
			ch.Op, ch.Model = OpUpdated, p.c.modelOf(p.next)
		}
		for _, obj := range []any{p.cur, p.next} {
			if obj == nil {
				continue
			}
			for _, r := range p.c.refs(obj) {
				if !r.Null && !slices.Contains(ch.Refs, r.ID) {
					ch.Refs = append(ch.Refs, r.ID)
				}
			}
		}
		out = append(out, ch)
	}
	tx.w.changes, tx.w.changed = nil, nil
	if len(out) == 0 {
		return nil
	}
	rev, err := tx.revision()
	if err != nil {
		return err
	}
	inliner, _ := tx.s.db.(kv.Inliner)
	logBucket := bucketChanges
	if inliner != nil {
		logBucket = bucketRecent
	}
	for i := range out {
		out[i].Revision = rev
		k := logKey(rev, tx.w.logSeq)
		if err := tx.kv.Put(logBucket, k, encodeChange(k, out[i])); err != nil {
			return fmt.Errorf("store: change log: %w", err)
		}
		tx.w.logSeq++
	}
	if err := putRevision(tx.kv, rev); err != nil {
		return fmt.Errorf("store: change log: %w", err)
	}
	if err := tx.settle(inliner); err != nil {
		return err
	}
	if err := tx.prune(rev); err != nil {
		return err
	}

	tx.w.committed = append(tx.w.committed, out...)
	if !tx.w.hooked { // once per transaction, with every flush's changes
		tx.w.hooked = true
		s := tx.s
		tx.kv.OnCommit(func() { s.feed.local(s, rev, tx.w.committed) })
	}
	return nil
}

// settle moves the log's recent entries to its main bucket, unless the
// backend is an inliner that keeps them inline.
func (tx *Tx) settle(inliner kv.Inliner) error {
	size := 0
	var keys, vals [][]byte
	err := kvScan(tx.kv, bucketRecent, kv.Range{}, func(k, v []byte) (bool, error) {
		size += len(k) + len(v)
		keys, vals = append(keys, k), append(vals, v)
		return true, nil
	})
	if err != nil || len(keys) == 0 || (inliner != nil && inliner.Inline(len(keys), size)) {
		return err
	}
	for i := range keys { // copied before the bucket changes
		keys[i], vals[i] = bytes.Clone(keys[i]), bytes.Clone(vals[i])
	}
	for i, k := range keys {
		if err := tx.kv.Put(bucketChanges, k, vals[i]); err != nil {
			return fmt.Errorf("store: change log: %w", err)
		}
		if err := tx.kv.Delete(bucketRecent, k); err != nil {
			return err
		}
	}
	return nil
}

// prune keeps the changes of the last retained revisions. It deletes
// whole revisions, and only once the log holds an eighth more than it
// must, so that most transactions touch only the log's end.
func (tx *Tx) prune(rev int64) error {
	keep := int64(tx.s.changeLog)
	slack := keep + keep/8
	// The first revision seen committed is a lower bound of the log's
	// start (it only moves on), so when it is recent enough there is no
	// need to read the log's start.
	if h := tx.s.logStart.Load(); h > 0 && rev-h+1 <= slack {
		return nil
	}
	start, err := logStart(tx.kv)
	if err != nil {
		return err
	}
	if rev-start+1 <= slack {
		tx.kv.OnCommit(func() { raise(&tx.s.logStart, start) })
		return nil
	}
	limit := logKey(rev-keep+1, 0)
	for _, b := range logBuckets {
		var old [][]byte
		err = kvScan(tx.kv, b, kv.Range{}, func(k, _ []byte) (bool, error) {
			if bytes.Compare(k, limit) >= 0 {
				return false, nil
			}
			old = append(old, bytes.Clone(k))
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := tx.kv.Delete(b, k); err != nil {
				return err
			}
		}
	}
	tx.kv.OnCommit(func() { raise(&tx.s.logStart, rev-keep+1) })
	return nil
}

// raise sets v to x unless it is already larger.
func raise(v *atomic.Int64, x int64) {
	for {
		cur := v.Load()
		if cur >= x || v.CompareAndSwap(cur, x) {
			return
		}
	}
}

func logKey(rev int64, seq uint32) []byte {
	k := make([]byte, 12)
	binary.BigEndian.PutUint64(k, uint64(rev))
	binary.BigEndian.PutUint32(k[8:], seq)
	return k
}

// A change log entry is logEntryV2 ‖ CRC-32C ‖ op ‖ pk ‖ len ‖
// collection ‖ len ‖ model ‖ refs...; the checksum covers the key (whose
// revision is the entry's) and everything after it. Entries of format 4
// files have no tag and no checksum (their first byte is the op), and
// are read as they are until pruned.
const logEntryV2 byte = 0x80

func logCRC(k, body []byte) uint32 {
	return crc32.Update(crc32.Checksum(k, castagnoli), castagnoli, body)
}

// encodeChange encodes the entry c under key k.
func encodeChange(k []byte, c Change) []byte {
	b := make([]byte, 5, 24+len(c.Collection)+len(c.Model)+16*len(c.Refs))
	b[0] = logEntryV2
	b = append(b, byte(c.Op))
	b = append(b, c.PK[:]...)
	b = append(b, byte(len(c.Collection)))
	b = append(b, c.Collection...)
	b = append(b, byte(len(c.Model)))
	b = append(b, c.Model...)
	for _, r := range c.Refs {
		b = append(b, r[:]...)
	}
	binary.BigEndian.PutUint32(b[1:5], logCRC(k, b[5:]))
	return b
}

func decodeChange(k, v []byte) (Change, error) {
	bad := fmt.Errorf("store: change log entry %x: %w", k, ErrCorrupt)
	if len(v) >= 5 && v[0] == logEntryV2 {
		if logCRC(k, v[5:]) != binary.BigEndian.Uint32(v[1:5]) {
			return Change{}, fmt.Errorf("store: change log entry %x: %w: checksum mismatch", k, ErrCorrupt)
		}
		v = v[5:]
	}
	if len(k) != 12 || len(v) < 18 {
		return Change{}, bad
	}
	c := Change{Revision: int64(binary.BigEndian.Uint64(k)), Op: Op(v[0])}
	copy(c.PK[:], v[1:17])
	v = v[17:]
	for _, dst := range []*string{&c.Collection, &c.Model} {
		if len(v) < 1 || len(v) < 1+int(v[0]) {
			return Change{}, bad
		}
		*dst, v = string(v[1:1+int(v[0])]), v[1+int(v[0]):]
	}
	if len(v)%16 != 0 || c.Op < OpCreated || c.Op > OpDeleted {
		return Change{}, bad
	}
	for ; len(v) > 0; v = v[16:] {
		c.Refs = append(c.Refs, uuid.UUID(v[:16]))
	}
	return c, nil
}

// readLog returns the changes of the revisions after `after`, up to limit
// entries (whole revisions, unless one revision alone has more), and the
// start of the log. It fails with ErrCompacted when the log no longer
// holds the revision after `after`.
func readLog(k kv.Tx, after int64, limit int) ([]Change, error) {
	start, err := logStart(k)
	if err != nil {
		return nil, err
	}
	if after+1 < start {
		return nil, fmt.Errorf("store: changes after revision %d: the log starts at revision %d: %w", after, start, ErrCompacted)
	}
	var out []Change
	full := false
	for _, b := range logBuckets {
		err = k.Scan(b, kv.Range{Start: logKey(after+1, 0)}, func(key, v []byte) (bool, error) {
			c, err := decodeChange(key, v)
			if err != nil {
				return false, err
			}
			if len(out) >= limit && c.Revision != out[len(out)-1].Revision {
				full = true
				return false, nil
			}
			out = append(out, c)
			return true, nil
		})
		if err != nil || full {
			break
		}
	}
	return out, err
}

// feed delivers committed changes to the subscribers, once per revision
// and in revision order, whichever process committed them.
type feed struct {
	mu        sync.Mutex // serializes deliveries
	delivered int64
	subs      []subscriber // in order of registration
	next      int

	nmu    sync.Mutex
	notify chan struct{} // closed at the next delivery; nil while nobody waits
}

func (f *feed) init(rev int64) {
	f.delivered = rev
}

// wait returns a channel closed at the next delivery. The channel is
// made when somebody waits, so that a delivery nobody waits for costs
// nothing.
func (f *feed) wait() <-chan struct{} {
	f.nmu.Lock()
	defer f.nmu.Unlock()
	if f.notify == nil {
		f.notify = make(chan struct{})
	}
	return f.notify
}

func (f *feed) wake() {
	f.nmu.Lock()
	if f.notify != nil {
		close(f.notify)
		f.notify = nil
	}
	f.nmu.Unlock()
}

// local delivers the changes of a revision this process committed, after
// any earlier revisions not yet delivered.
func (f *feed) local(s *Store, rev int64, changes []Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rev <= f.delivered {
		return
	}
	if rev > f.delivered+1 {
		f.catchUp(s, rev-1)
	}
	f.deliver(rev, changes)
}

// remote delivers whatever the log holds beyond what was delivered: for
// a backend that other processes write.
func (f *feed) remote(s *Store) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.catchUp(s, -1)
}

// catchUp delivers the logged revisions after the delivered one, up to
// upto (-1: up to the store's revision). When the log no longer holds
// them, or cannot be read, the subscribers get a nil change list for the
// last revision: anything may have changed. It reports false when the
// log could not be read at all, so that nothing was delivered.
func (f *feed) catchUp(s *Store, upto int64) bool {
	end := upto
	for {
		var batch []Change
		err := s.db.View(context.Background(), func(k kv.Tx) error {
			var err error
			if upto < 0 {
				if end, err = storedRevision(k); err != nil {
					return err
				}
			}
			batch, err = readLog(k, f.delivered, 256)
			return err
		})
		if err != nil {
			break
		}
		progressed := false
		for len(batch) > 0 && batch[0].Revision <= end {
			n := 1
			for n < len(batch) && batch[n].Revision == batch[0].Revision {
				n++
			}
			f.deliver(batch[0].Revision, batch[:n:n])
			batch, progressed = batch[n:], true
		}
		if f.delivered >= end {
			return true
		}
		if !progressed {
			break // the log ends before end: it was damaged
		}
	}
	if end > f.delivered {
		f.deliver(end, nil)
	}
	return end >= 0
}

type subscriber struct {
	id int
	fn func(int64, []Change)
}

func (f *feed) deliver(rev int64, changes []Change) {
	f.delivered = rev
	for _, sub := range f.subs {
		sub.fn(rev, changes)
	}
	f.wake()
}

// OnChange registers fn to hear of every committed revision from now on,
// in revision order, once each, whichever process committed it (on a
// backend that several processes share). It is called after the commit,
// before the committing Update returns when this process committed it;
// deliveries are serialized, so fn should be quick, and must not write
// to the store. changes is nil when the changes up to rev can no longer
// be read (the log was pruned past them, or a read failed): fn must then
// assume that anything may have changed. The slice is shared: do not
// modify it. stop unregisters fn.
func (s *Store) OnChange(fn func(rev int64, changes []Change)) (stop func()) {
	s.feed.mu.Lock()
	id := s.feed.next
	s.feed.next++
	s.feed.subs = append(s.feed.subs, subscriber{id, fn})
	s.feed.mu.Unlock()
	return func() {
		s.feed.mu.Lock()
		s.feed.subs = slices.DeleteFunc(s.feed.subs, func(x subscriber) bool { return x.id == id })
		s.feed.mu.Unlock()
	}
}

// Delivered is the last revision the subscribers of OnChange have heard
// of.
func (s *Store) Delivered() int64 {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	return s.feed.delivered
}

// Watch yields every change committed after revision `after`, in order,
// and then new ones as they commit, until ctx is done (it then yields
// ctx's error and stops). A revision whose successors the log no longer
// holds yields an error wrapping ErrCompacted; so does falling that far
// behind while watching. A watcher reads the log at its own pace: a slow
// one holds no memory, it only risks ErrCompacted.
func (s *Store) Watch(ctx context.Context, after int64) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		for {
			woken := s.feed.wait()
			var batch []Change
			err := s.View(ctx, func(tx *Tx) error {
				var err error
				batch, err = readLog(tx.kv, after, 256)
				return err
			})
			if err != nil {
				yield(Change{}, err)
				return
			}
			for _, c := range batch {
				if !yield(c, nil) {
					return
				}
				after = c.Revision
			}
			if len(batch) > 0 {
				continue
			}
			select {
			case <-woken:
			case <-ctx.Done():
				yield(Change{}, ctx.Err())
				return
			case <-s.done:
				yield(Change{}, ErrClosed)
				return
			}
		}
	}
}

// precondition applies o's UnchangedSince to a write of obj, in c.
func (tx *Tx) precondition(c *collection, obj any, o *WriteOptions) error {
	if o == nil || o.UnchangedSince == nil {
		return nil
	}
	since := *o.UnchangedSince
	rev, err := tx.revisionOf(c, obj)
	if err != nil {
		return err
	}
	if rev > since {
		pk, _ := c.codec.ids(obj)
		return fmt.Errorf("store: %s %s changed at revision %d, after %d: %w", c.alias, pk, rev, since, ErrRevision)
	}
	return nil
}

// ReadOnly says whether tx is a read transaction, which sees one
// committed revision throughout (a write transaction's Revision names
// data that may still change, or be rolled back).
func (tx *Tx) ReadOnly() bool { return !tx.rw }
