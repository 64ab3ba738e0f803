// Package revcache keeps values decoded from a store's records (a flow,
// a stage, a policy, a user with its groups) from one revision to the
// next, until a committed change touches one of the objects a value was
// read from. A store revision moves at every write, a login's last_login
// included; a cache that started over at every revision would decode the
// whole configuration again after each login.
//
// Each value is kept with the revision it was read at and the ids of
// the objects it was read from. The cache follows the store's changes
// (store.Store.OnChange) and drops the values that read a changed object
// or an object a changed one referred to (store.Change.Refs). A value is
// served to a read transaction at revision r only when it was read at or
// before r and every change up to r has been applied to the cache: a
// transaction ahead of the changes the cache has heard of reads the store.
// A value read at a revision older than the changes applied is not kept,
// since a change it missed may already have gone by. Write transactions
// bypass the cache.
package revcache

import (
	"sync"

	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// Cache is the shared state of the Maps that follow one store. It is safe
// for concurrent use.
type Cache struct {
	mu sync.Mutex
	// applied is the last revision whose changes have been applied.
	applied int64
	// byDep lists, for each object id, the entries read from it.
	byDep map[uuid.UUID]map[ref]struct{}
	maps  []dropper
	stop  func()
}

// ref names one entry: its map and key.
type ref struct {
	m dropper
	k any
}

type dropper interface {
	drop(k any)
	clear()
}

// New returns a cache that follows s until Close.
func New(s *store.Store) *Cache {
	c := &Cache{byDep: map[uuid.UUID]map[ref]struct{}{}}
	// Read first: a revision delivered before the subscription is missed,
	// which is harmless for an empty cache; the next delivery moves
	// applied on.
	c.applied = s.Delivered()
	c.stop = s.OnChange(c.changed)
	return c
}

// Close stops following the store and empties the cache.
func (c *Cache) Close() {
	c.stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clear()
}

func (c *Cache) changed(rev int64, changes []store.Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applied = max(c.applied, rev)
	if changes == nil {
		c.clear()
		return
	}
	for _, ch := range changes {
		for id := range ch.Touched() {
			c.dropDep(id)
		}
	}
}

func (c *Cache) dropDep(id uuid.UUID) {
	for r := range c.byDep[id] {
		r.m.drop(r.k) // removes r from c.byDep[id] too
	}
	delete(c.byDep, id)
}

func (c *Cache) clear() {
	for _, m := range c.maps {
		m.clear()
	}
	clear(c.byDep)
}

// Map is one kind of value, by key, in a Cache, holding at most max
// values: past it, an arbitrary one makes room.
type Map[K comparable, V any] struct {
	c   *Cache
	max int
	m   map[K]entry[V]
}

type entry[V any] struct {
	v    V
	rev  int64
	deps []uuid.UUID
}

// NewMap returns an empty map in c that holds at most size values (at
// least one).
func NewMap[K comparable, V any](c *Cache, size int) *Map[K, V] {
	m := &Map[K, V]{c: c, max: max(size, 1), m: map[K]entry[V]{}}
	c.mu.Lock()
	c.maps = append(c.maps, m)
	c.mu.Unlock()
	return m
}

// drop, remove and clear are called with c.mu held.
func (m *Map[K, V]) drop(k any) { m.remove(k.(K)) }

// remove removes the value under k and its entries in c.byDep.
func (m *Map[K, V]) remove(k K) {
	e, ok := m.m[k]
	if !ok {
		return
	}
	r := ref{m: m, k: k}
	for _, d := range e.deps {
		if set := m.c.byDep[d]; set != nil {
			delete(set, r)
			if len(set) == 0 {
				delete(m.c.byDep, d)
			}
		}
	}
	delete(m.m, k)
}

func (m *Map[K, V]) clear() { clear(m.m) }

// Len is the number of values kept.
func (m *Map[K, V]) Len() int {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	return len(m.m)
}

// Get returns the value under k as tx reads it: the value kept when it
// may be served to tx, else read's, which is kept when it may be. read
// returns the value and the ids of the objects it read it from; a value
// read with an error is not kept.
func (m *Map[K, V]) Get(tx *store.Tx, k K, read func() (V, []uuid.UUID, error)) (V, error) {
	if !tx.ReadOnly() {
		v, _, err := read()
		return v, err
	}
	rev, err := tx.Revision()
	if err != nil {
		var zero V
		return zero, err
	}
	c := m.c
	c.mu.Lock()
	e, ok := m.m[k]
	ok = ok && e.rev <= rev && rev <= c.applied
	c.mu.Unlock()
	if ok {
		return e.v, nil
	}
	v, deps, err := read()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rev < c.applied {
		// A change after rev has gone by: it may have touched deps.
		return v, nil
	}
	if old, ok := m.m[k]; ok && old.rev > rev {
		return v, nil // a fresher read is kept already
	}
	m.remove(k)
	if len(m.m) >= m.max {
		for other := range m.m {
			m.remove(other)
			break
		}
	}
	m.m[k] = entry[V]{v: v, rev: rev, deps: deps}
	r := ref{m: m, k: k}
	for _, d := range deps {
		set := c.byDep[d]
		if set == nil {
			set = map[ref]struct{}{}
			c.byDep[d] = set
		}
		set[r] = struct{}{}
	}
	return v, nil
}
