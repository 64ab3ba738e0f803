package store

import (
	"bytes"
	"sync"

	"github.com/authflow/authflow/flow"
	"github.com/google/uuid"
)

// flowCache keeps decoded flows keyed by id, each with the exact bytes it
// was decoded from. A hit requires the stored bytes to be equal, so the
// cache can never serve a stale flow and needs no invalidation: it only
// saves the JSON decode when a flow is read again unchanged (flow_set,
// bindings' stage_obj and lists read the same flows over and over).
type flowCache struct {
	mu sync.RWMutex
	m  map[uuid.UUID]cachedFlow
}

type cachedFlow struct {
	raw []byte
	f   flow.Flow
}

// flowCacheSize bounds the cache; when full, it starts again empty.
const flowCacheSize = 4096

func (c *flowCache) get(id uuid.UUID, raw []byte) (flow.Flow, bool) {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if ok && bytes.Equal(e.raw, raw) {
		return e.f, true
	}
	return flow.Flow{}, false
}

func (c *flowCache) put(id uuid.UUID, raw []byte, f flow.Flow) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= flowCacheSize {
		c.m = make(map[uuid.UUID]cachedFlow)
	}
	c.m[id] = cachedFlow{raw: bytes.Clone(raw), f: f}
	c.mu.Unlock()
}
