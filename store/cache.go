package store

import (
	"bytes"
	"container/list"
	"sync"
)

// DefaultCacheBytes bounds the decoded-object cache when
// Options.CacheBytes is zero.
const DefaultCacheBytes = 32 << 20

// objectCache keeps decoded objects, each with the exact stored bytes it
// was decoded from. A hit requires the stored bytes to be equal, so the
// cache never serves a stale object and needs no invalidation: it only
// saves the decode when an object is read again unchanged (flow_set,
// stage_obj and lists read the same objects over and over).
//
// It is a least-recently-used list bounded by the bytes it holds (each
// entry counts twice its stored size, for the decoded copy), so past its
// bound it keeps the hot objects and evicts the cold ones one at a time.
type objectCache struct {
	mu    sync.Mutex
	limit int
	used  int
	ll    *list.List
	m     map[cacheKey]*list.Element
}

type cacheKey struct {
	bucket string
	pk     [16]byte
}

type cacheEntry struct {
	key cacheKey
	raw []byte
	obj any
}

// newObjectCache returns a cache of limit bytes; zero means the default
// and a negative limit no cache (nil, whose methods do nothing).
func newObjectCache(limit int) *objectCache {
	if limit < 0 {
		return nil
	}
	if limit == 0 {
		limit = DefaultCacheBytes
	}
	return &objectCache{limit: limit, ll: list.New(), m: map[cacheKey]*list.Element{}}
}

func cost(raw []byte) int { return 2*len(raw) + 128 }

func (c *objectCache) get(coll *collection, pk, raw []byte) (any, bool) {
	if c == nil || !coll.cached {
		return nil, false
	}
	k := cacheKey{bucket: coll.bucket}
	copy(k.pk[:], pk)
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[k]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !bytes.Equal(e.raw, raw) {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return e.obj, true
}

func (c *objectCache) put(coll *collection, pk, raw []byte, obj any) {
	if c == nil || !coll.cached || cost(raw) > c.limit/8 {
		return // one object may not take much of the cache
	}
	k := cacheKey{bucket: coll.bucket}
	copy(k.pk[:], pk)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[k]; ok {
		e := el.Value.(*cacheEntry)
		c.used -= cost(e.raw)
		e.raw, e.obj = bytes.Clone(raw), obj
		c.used += cost(e.raw)
		c.ll.MoveToFront(el)
	} else {
		e := &cacheEntry{key: k, raw: bytes.Clone(raw), obj: obj}
		c.m[k] = c.ll.PushFront(e)
		c.used += cost(e.raw)
	}
	for c.used > c.limit {
		el := c.ll.Back()
		e := el.Value.(*cacheEntry)
		c.ll.Remove(el)
		delete(c.m, e.key)
		c.used -= cost(e.raw)
	}
}
