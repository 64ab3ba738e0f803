package reputation

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
)

// Mem is Scores in memory, for one process. It holds at most MaxRecords
// pairs: adding one more first drops the pair created first (which
// expires first), so that a flood of new identifiers keeps it bounded,
// at the cost of forgetting the oldest scores. Expired pairs are dropped
// as they are passed. Add and Sum take constant time: Mem keeps each
// IP's and each identifier's total beside the pairs.
type Mem struct {
	o Options

	mu    sync.Mutex
	pairs map[pair]*entry
	ips   map[netip.Addr]*total
	ids   map[string]*total
	// queue holds the pairs in creation order, from head: expiry order.
	queue   []*entry
	head    int
	evicted int64
}

type pair struct {
	ip netip.Addr
	id string
}

type entry struct {
	pair
	score   int64
	expires int64 // unix nanoseconds
}

// total is the sum of an IP's or an identifier's scores, over n pairs.
type total struct {
	sum int64
	n   int
}

// NewMem returns an empty Mem. It fails with ErrInvalid for limits that
// cannot hold.
func NewMem(o Options) (*Mem, error) {
	o, err := o.WithDefaults()
	if err != nil {
		return nil, err
	}
	return &Mem{o: o, pairs: map[pair]*entry{}, ips: map[netip.Addr]*total{}, ids: map[string]*total{}}, nil
}

// Limits returns the limits scores are kept within.
func (m *Mem) Limits() Limits { return m.o.Limits }

// Add implements Scores.
func (m *Mem) Add(ctx context.Context, ip netip.Addr, identifier string, amount int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("reputation: add: %w", err)
	}
	k := pair{IP(ip), Identifier(identifier)}
	now := m.o.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(now.UnixNano())
	e := m.pairs[k]
	if e == nil {
		for len(m.pairs) >= m.o.MaxRecords {
			m.drop()
			m.evicted++
		}
		e = &entry{pair: k, expires: now.Add(m.o.Expiry).UnixNano()}
		m.pairs[k] = e
		m.queue = append(m.queue, e)
		m.count(k, 0, 1)
	}
	next := m.o.Limits.Clamp(e.score + amount)
	m.count(k, next-e.score, 0)
	e.score = next
	return nil
}

// Sum implements Scores.
func (m *Mem) Sum(ctx context.Context, q Query) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("reputation: sum: %w", err)
	}
	k := pair{IP(q.IP), Identifier(q.Identifier)}
	now := m.o.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(now.UnixNano())
	var sum int64
	if q.CheckIP {
		if t := m.ips[k.ip]; t != nil {
			sum += t.sum
		}
	}
	if q.CheckIdentifier {
		if t := m.ids[k.id]; t != nil {
			sum += t.sum
		}
		if e := m.pairs[k]; e != nil && q.CheckIP {
			sum -= e.score // counted under its IP already
		}
	}
	return sum, nil
}

// Len returns the pairs held, expired ones not yet dropped included, and
// how many live pairs were dropped to stay within MaxRecords.
func (m *Mem) Len() (pairs int, evicted int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pairs), m.evicted
}

// count adds d to the totals of k's IP and identifier, and n to their
// counts, dropping a total that counts no pair.
func (m *Mem) count(k pair, d int64, n int) {
	t := m.ips[k.ip]
	if t == nil {
		t = &total{}
		m.ips[k.ip] = t
	}
	t.sum, t.n = t.sum+d, t.n+n
	if t.n == 0 {
		delete(m.ips, k.ip)
	}
	u := m.ids[k.id]
	if u == nil {
		u = &total{}
		m.ids[k.id] = u
	}
	u.sum, u.n = u.sum+d, u.n+n
	if u.n == 0 {
		delete(m.ids, k.id)
	}
}

// expire drops the pairs expired at now.
func (m *Mem) expire(now int64) {
	for m.head < len(m.queue) && m.queue[m.head].expires <= now {
		m.drop()
	}
}

// drop removes the oldest pair.
func (m *Mem) drop() {
	e := m.queue[m.head]
	m.queue[m.head] = nil
	m.head++
	if m.head >= 1024 && m.head*2 >= len(m.queue) {
		m.queue = append([]*entry(nil), m.queue[m.head:]...)
		m.head = 0
	}
	delete(m.pairs, e.pair)
	m.count(e.pair, -e.score, -1)
}
