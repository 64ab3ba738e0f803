package executor

import (
	"sync"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// confCache keeps the flows (by slug) and stages (by pk) that requests
// read, decoded, for one store revision: a read transaction at that
// revision sees exactly what they were decoded from, so it is served
// them without reading and decoding the records again; a read at a
// later revision starts the cache over. It holds at most what the store
// holds (a missing object is not kept). Its values are shared between
// requests and never modified.
type confCache struct {
	mu     sync.Mutex
	rev    int64 // -1: none yet
	flows  map[string]flow.Flow
	stages map[uuid.UUID]stage.Stage
}

func newConfCache() *confCache {
	return &confCache{rev: -1, flows: map[string]flow.Flow{}, stages: map[uuid.UUID]stage.Stage{}}
}

// flow is store.Flows.Get(tx, store.By("slug", slug)), through the cache.
func (c *confCache) flow(tx *store.Tx, slug string) (flow.Flow, error) {
	return cached(c, tx, c.flows, slug, func() (flow.Flow, error) { return store.Flows.Get(tx, store.By("slug", slug)) })
}

// stage is store.Stages.Get(tx, store.PK(pk)), through the cache.
func (c *confCache) stage(tx *store.Tx, pk uuid.UUID) (stage.Stage, error) {
	return cached(c, tx, c.stages, pk, func() (stage.Stage, error) { return store.Stages.Get(tx, store.PK(pk)) })
}

func cached[K comparable, V any](c *confCache, tx *store.Tx, m map[K]V, k K, read func() (V, error)) (V, error) {
	rev, err := tx.Revision()
	if err != nil {
		var zero V
		return zero, err
	}
	c.mu.Lock()
	v, ok := m[k]
	ok = ok && c.rev == rev
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err = read()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rev > c.rev {
		c.rev = rev
		clear(c.flows)
		clear(c.stages)
	}
	if rev == c.rev {
		m[k] = v
	}
	return v, nil
}
