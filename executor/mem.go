package executor

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Defaults of MemOptions.
const (
	DefaultMaxRecords = 100_000
	DefaultMaxBytes   = 256 << 20
)

// MemRecordOverhead is what MemRunState counts for a record beside its
// key and data: about what its map entry, record and heap slot take.
const MemRecordOverhead = 160

// MemOptions configure a MemRunState. Every zero field means its
// default.
type MemOptions struct {
	// MaxRecords bounds the records held. Zero means DefaultMaxRecords.
	MaxRecords int
	// MaxBytes bounds the bytes held: each record's key and data and
	// MemRecordOverhead. Zero means DefaultMaxBytes.
	MaxBytes int64
	// Now is the clock that says what expired. Nil means time.Now.
	Now func() time.Time
}

// MemRunState is a RunState in memory, for one process. It holds at most
// MaxRecords records and MaxBytes bytes: a Save that would pass a bound
// first removes the records that expire soonest, expired ones first (the
// record it saves is never among them), counting the live ones removed
// in Usage.Evicted; a user whose execution is evicted starts the flow
// over. Evicting rather than refusing means a flood of new executions
// (every GET of a flow starts one) cannot lock out new logins. A single
// record larger than MaxBytes is refused with ErrInvalid.
type MemRunState struct {
	maxRecords int
	maxBytes   int64
	now        func() time.Time

	mu      sync.Mutex
	recs    map[memKey]*memRec
	byExp   expHeap
	bytes   int64
	evicted int64
}

type memKey struct {
	ns  Namespace
	key string
}

type memRec struct {
	k       memKey
	data    []byte
	expires int64 // unix nanoseconds
	version uint64
	at      int // index in byExp
}

func (r *memRec) size() int64 { return int64(len(r.k.key)+len(r.data)) + MemRecordOverhead }

// NewMemRunState returns an empty MemRunState.
func NewMemRunState(o MemOptions) *MemRunState {
	m := &MemRunState{maxRecords: o.MaxRecords, maxBytes: o.MaxBytes, now: o.Now, recs: map[memKey]*memRec{}}
	if m.maxRecords <= 0 {
		m.maxRecords = DefaultMaxRecords
	}
	if m.maxBytes <= 0 {
		m.maxBytes = DefaultMaxBytes
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m
}

var _ interface {
	RunState
	Bounded
} = (*MemRunState)(nil)

// Load implements RunState.
func (m *MemRunState) Load(ctx context.Context, ns Namespace, key string) (Record, error) {
	rec, err := m.loadShared(ctx, ns, key)
	if err != nil {
		return Record{}, err
	}
	// A record's bytes are never written to once saved: they are copied
	// outside the lock.
	rec.Data = slices.Clone(rec.Data)
	return rec, nil
}

// live returns the live record under key, or ErrExpired or ErrNotFound.
func (m *MemRunState) live(ns Namespace, key string, now int64, op string) (*memRec, error) {
	r := m.recs[memKey{ns, key}]
	switch {
	case r == nil:
		return nil, &missError{op, ns, ErrNotFound}
	case r.expires <= now:
		return r, &missError{op, ns, ErrExpired}
	}
	return r, nil
}

// missError is a Load or Take that found no live record: "executor: op
// ns: " and err (ErrNotFound or ErrExpired), formatted only when read,
// since most callers only test it (a new session's lookup, say).
type missError struct {
	op  string
	ns  Namespace
	err error
}

func (e *missError) Error() string {
	return "executor: " + e.op + " " + e.ns.String() + ": " + e.err.Error()
}
func (e *missError) Unwrap() error { return e.err }

func (r *memRec) record() Record {
	return Record{Data: slices.Clone(r.data), Expires: time.Unix(0, r.expires), Version: r.version}
}

// loadShared is Load returning the record's own bytes, not a copy: for
// a caller that never modifies them (sharedRunState).
func (m *MemRunState) loadShared(ctx context.Context, ns Namespace, key string) (Record, error) {
	if err := checkKey(ctx, "load", ns, key); err != nil {
		return Record{}, err
	}
	now := m.now().UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.live(ns, key, now, "load")
	if err != nil {
		return Record{}, err
	}
	return Record{Data: r.data, Expires: time.Unix(0, r.expires), Version: r.version}, nil
}

// Save implements RunState.
func (m *MemRunState) Save(ctx context.Context, ns Namespace, key string, rec Record) (uint64, error) {
	rec.Data = slices.Clone(rec.Data)
	return m.saveShared(ctx, ns, key, rec)
}

// saveShared is Save keeping rec.Data itself, not a copy: for a caller
// that never modifies it afterwards (sharedRunState). A record's bytes
// are never written to once saved: a later Save replaces them.
func (m *MemRunState) saveShared(ctx context.Context, ns Namespace, key string, rec Record) (uint64, error) {
	nowT := m.now()
	if err := checkSave(ctx, ns, key, rec, nowT); err != nil {
		return 0, err
	}
	now := nowT.UnixNano()
	n := memRec{k: memKey{ns, key}, data: rec.Data, expires: rec.Expires.UnixNano()}
	if n.data == nil {
		n.data = []byte{}
	}
	if n.size() > m.maxBytes {
		return 0, fmt.Errorf("executor: save %s: %w: %d bytes, over the bound of %d", ns, ErrInvalid, n.size(), m.maxBytes)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var have uint64
	var exp int64
	old := m.recs[n.k]
	if old != nil {
		have, exp = old.version, old.expires
	}
	if err := cas(ns, rec.Version, have, exp, now); err != nil {
		return 0, err
	}
	if old != nil {
		m.remove(old)
	}
	for len(m.recs)+1 > m.maxRecords || m.bytes+n.size() > m.maxBytes {
		r := m.byExp[0]
		if r.expires > now {
			m.evicted++
		}
		m.remove(r)
	}
	n.version = newVersion(have)
	// The record replaced, out of the map and the heap, holds the new
	// one: a save of an execution allocates nothing here.
	p := old
	if p == nil {
		p = new(memRec)
	}
	*p = n
	m.recs[p.k] = p
	heap.Push(&m.byExp, p)
	m.bytes += p.size()
	return p.version, nil
}

func (m *MemRunState) remove(r *memRec) {
	delete(m.recs, r.k)
	heap.Remove(&m.byExp, r.at)
	m.bytes -= r.size()
}

// Delete implements RunState.
func (m *MemRunState) Delete(ctx context.Context, ns Namespace, key string) error {
	if err := checkKey(ctx, "delete", ns, key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.recs[memKey{ns, key}]; r != nil {
		m.remove(r)
	}
	return nil
}

// Take implements RunState.
func (m *MemRunState) Take(ctx context.Context, ns Namespace, key string) (Record, error) {
	if err := checkKey(ctx, "take", ns, key); err != nil {
		return Record{}, err
	}
	now := m.now().UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.live(ns, key, now, "take")
	if r != nil {
		m.remove(r)
	}
	if err != nil {
		return Record{}, err
	}
	return r.record(), nil
}

// Sweep implements RunState.
func (m *MemRunState) Sweep(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("executor: sweep: %w", err)
	}
	limit = sweepLimit(limit)
	cut := min(before.UnixNano(), m.now().UnixNano())
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for n < limit && len(m.byExp) > 0 && m.byExp[0].expires <= cut {
		m.remove(m.byExp[0])
		n++
	}
	return n, nil
}

// Usage implements Bounded.
func (m *MemRunState) Usage() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Usage{Records: len(m.recs), Bytes: m.bytes, MaxRecords: m.maxRecords, MaxBytes: m.maxBytes, Evicted: m.evicted}
}

// expHeap orders records by expiry, soonest first.
type expHeap []*memRec

func (h expHeap) Len() int           { return len(h) }
func (h expHeap) Less(i, j int) bool { return h[i].expires < h[j].expires }
func (h expHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].at, h[j].at = i, j
}
func (h *expHeap) Push(x any) {
	r := x.(*memRec)
	r.at = len(*h)
	*h = append(*h, r)
}
func (h *expHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return r
}
