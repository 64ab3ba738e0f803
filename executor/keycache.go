package executor

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

const (
	// keyCacheSlots is the number of execution keys a keyCache keeps.
	keyCacheSlots = 1024
	// maxKeyCacheID bounds the session id and slug, together, of a key
	// a keyCache keeps, and so the memory it holds (keys of longer ones
	// are computed each time).
	maxKeyCacheID = 256
)

// keyCache keeps the execution keys (ExecutionKey) of recent requests,
// by session and flow: the requests of an execution follow each other
// (a login is six), and a key costs a SHA-256 of the session id. It is
// direct-mapped by the session id's maphash, each slot replaced whole
// (an entry never changes once stored); a key is served only for the
// very same session id and slug, which an entry keeps a copy of (never
// the caller's string, which may hold on to a larger one), in memory
// only, as the requests in flight hold them.
type keyCache struct {
	seed  maphash.Seed
	slots [keyCacheSlots]atomic.Pointer[cachedKey]
}

// cachedKey is the key of session id id[:n] and slug id[n:].
type cachedKey struct {
	id  string
	n   int
	key string
}

func newKeyCache() *keyCache { return &keyCache{seed: maphash.MakeSeed()} }

// key is ExecutionKey(session, slug).
func (c *keyCache) key(session, slug string) string {
	if len(session)+len(slug) > maxKeyCacheID {
		return ExecutionKey(session, slug)
	}
	slot := &c.slots[maphash.String(c.seed, session)%keyCacheSlots]
	if k := slot.Load(); k != nil && k.n == len(session) && len(k.id) == len(session)+len(slug) && k.id[:k.n] == session && k.id[k.n:] == slug {
		return k.key
	}
	key := ExecutionKey(session, slug)
	var id strings.Builder // a copy, even of session + ""
	id.Grow(len(session) + len(slug))
	id.WriteString(session)
	id.WriteString(slug)
	slot.Store(&cachedKey{id: id.String(), n: len(session), key: key})
	return key
}
