package plan

import (
	"container/list"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// DefaultCacheSize is the number of plans a Cache keeps when
// CacheOptions.Size is zero.
const DefaultCacheSize = 10000

// CacheOptions configure a Cache.
type CacheOptions struct {
	// Options are the planner's, for every plan the cache makes.
	Options
	// Size bounds the plans kept; past it the least recently used goes.
	// Zero means DefaultCacheSize.
	Size int
}

// Cache keeps plans, keyed as authentik keys them: by flow and user (pk).
// Unlike authentik's, a cached plan is never stale:
//
//   - it is dropped, atomically with the commit that makes it stale, by
//     any write to the flow, its bindings, their stages, a policy binding
//     of the flow or of one of its bindings, a policy the plan
//     evaluated, the request's user (its groups, attributes, password)
//     or a group the plan read for it (the user's groups and their
//     ancestors: membership, parent, superuser status, attributes),
//     whichever process wrote it (on a backend several processes share,
//     through the store's change feed);
//   - it serves only a request equal to the one it was made for (the
//     user's pk and flags and the context included, the HTTP request
//     not: an evaluator whose result depends on it returns a zero
//     ValidUntil, as package expression's does for an expression that
//     names http_request or ak_client_ip); another request for the same
//     flow and user replaces it;
//   - a plan whose user was read from a host's directory
//     (Options.Directory), which the cache cannot watch, is kept
//     Options.DirectoryMaxAge at most, and by default not at all;
//   - a plan that evaluated a policy whose result depends on more than
//     the policy and the request (Result.ValidUntil zero, such as a
//     host's reputation evaluator, or an evaluator error) is not cached,
//     and one whose results change by themselves (a password that
//     expires) is kept only until then.
//
// As in authentik, plans of stage_configuration flows are not cached;
// denials and plans without stages are (errors are not). Count is a
// flow's number of cached plans, which the API reports as the flow's
// cache_count. A Cache is safe for
// concurrent use; Close releases it.
type Cache struct {
	s    *store.Store
	opts Options
	size int

	mu sync.Mutex
	// applied is the last revision whose changes have been applied; a
	// plan read at a later revision is not served from, nor put in, the
	// cache until they are.
	applied int64
	ll      *list.List // of *entry, most recently used first
	byKey   map[cacheKey]*list.Element
	byRead  map[uuid.UUID]map[*entry]struct{}
	byFlow  map[uuid.UUID]int
	stop    []func()
}

type cacheKey struct {
	slug string
	user int64
}

type entry struct {
	key   cacheKey
	req   string // the request, as JSON
	rev   int64  // the revision the plan was read at
	plan  Plan
	reads *reads
}

// NewCache returns a cache of plans of the flows in s.
func NewCache(s *store.Store, opts CacheOptions) *Cache {
	c := &Cache{
		s: s, opts: opts.Options, size: opts.Size,
		ll: list.New(), byKey: map[cacheKey]*list.Element{},
		byRead: map[uuid.UUID]map[*entry]struct{}{}, byFlow: map[uuid.UUID]int{},
	}
	if c.size <= 0 {
		c.size = DefaultCacheSize
	}
	if c.opts.Evaluators == nil {
		c.opts.Evaluators = Builtin(c.opts.Now)
	}
	// Read first: a revision delivered before the subscription is
	// missed, which is harmless for an empty cache, and the next delivery
	// moves applied on.
	c.applied = s.Delivered()
	c.stop = append(c.stop, s.OnChange(c.changed))
	return c
}

// Close stops the cache from following the store and empties it.
func (c *Cache) Close() {
	for _, stop := range c.stop {
		stop()
	}
	c.Clear()
}

// Make is Make through the cache: it serves a cached plan when there is
// one for this flow, user and request, and otherwise plans in a read
// transaction of the cache's store and keeps the plan when it may.
// The plan returned is the caller's to keep or modify.
func (c *Cache) Make(ctx context.Context, slug string, req Request) (Plan, error) {
	var out Plan
	err := c.s.View(ctx, func(tx *store.Tx) error {
		var err error
		out, err = c.MakeIn(ctx, tx, slug, req)
		return err
	})
	return out, err
}

// MakeIn is Make in tx, a read transaction of the cache's store that
// the caller has open: one transaction for the plan and the caller's
// other reads. In a write transaction it plans what the transaction
// holds, its own writes included, without the cache (the transaction
// may yet roll back). In a transaction of another store it is Make: the
// cache follows the changes of its own store only.
func (c *Cache) MakeIn(ctx context.Context, tx *store.Tx, slug string, req Request) (Plan, error) {
	if tx.Store() != c.s {
		return c.Make(ctx, slug, req)
	}
	if !tx.ReadOnly() {
		p, _, err := makePlan(ctx, tx, slug, req, c.opts)
		return p, err
	}
	// The HTTP request differs on every request (headers, address): a
	// cache that compared it would keep nothing for anonymous visitors.
	// Results that read it say so (Result.ValidUntil zero).
	keyReq := req
	keyReq.HTTP = nil
	js, err := json.Marshal(keyReq)
	cacheable := err == nil // a context that is not JSON is never cached
	key := cacheKey{slug, req.User.PK}
	rev, err := tx.Revision()
	if err != nil {
		return Plan{}, err
	}
	if cacheable {
		if p, ok := c.get(key, js, rev); ok {
			return p, nil
		}
	}
	p, rd, err := makePlan(ctx, tx, slug, req, c.opts)
	if err != nil {
		return Plan{}, err
	}
	if cacheable && rd.designated != flow.DesignationStageConfiguration && !rd.until.IsZero() && c.now().Before(rd.until) {
		c.put(&entry{key: key, req: string(js), rev: rev, plan: clonePlan(p), reads: rd})
	}
	return p, nil
}

func (c *Cache) now() time.Time {
	if c.opts.Now != nil {
		return c.opts.Now()
	}
	return time.Now()
}

// get returns the cached plan for key and req (the request's JSON), if
// it is still good for a read at revision rev.
func (c *Cache) get(key cacheKey, req []byte, rev int64) (Plan, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok || c.applied < rev {
		return Plan{}, false
	}
	e := el.Value.(*entry)
	if e.req != string(req) || e.rev > rev { // compared without a copy
		return Plan{}, false
	}
	if !c.now().Before(e.reads.until) {
		c.remove(e)
		return Plan{}, false
	}
	c.ll.MoveToFront(el)
	return clonePlan(e.plan), true
}

// put keeps e, replacing the plan of its key, unless a change after the
// revision it was read at has been applied (it could be stale).
func (c *Cache) put(e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.applied > e.rev {
		return
	}
	if el, ok := c.byKey[e.key]; ok {
		c.remove(el.Value.(*entry))
	}
	c.byKey[e.key] = c.ll.PushFront(e)
	c.byFlow[e.reads.flow]++
	for _, pk := range e.reads.pks {
		m := c.byRead[pk]
		if m == nil {
			m = map[*entry]struct{}{}
			c.byRead[pk] = m
		}
		m[e] = struct{}{}
	}
	for c.ll.Len() > c.size {
		c.remove(c.ll.Back().Value.(*entry))
	}
}

func (c *Cache) remove(e *entry) {
	el, ok := c.byKey[e.key]
	if !ok || el.Value.(*entry) != e {
		return
	}
	c.ll.Remove(el)
	delete(c.byKey, e.key)
	if c.byFlow[e.reads.flow]--; c.byFlow[e.reads.flow] <= 0 {
		delete(c.byFlow, e.reads.flow)
	}
	for _, pk := range e.reads.pks {
		if m := c.byRead[pk]; m != nil {
			delete(m, e)
			if len(m) == 0 {
				delete(c.byRead, pk)
			}
		}
	}
}

// changed drops the plans that read what a committed revision changed:
// the object itself, or an object it referred to before or after (a
// binding added to a flow, a policy binding added to a binding).
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
			c.drop(id)
		}
	}
}

func (c *Cache) drop(pk uuid.UUID) {
	for e := range c.byRead[pk] {
		c.remove(e)
	}
}

// Count is the number of cached plans of the flow with pk.
func (c *Cache) Count(flow uuid.UUID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byFlow[flow]
}

// Len is the number of cached plans.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// Clear drops every cached plan.
func (c *Cache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clear()
}

func (c *Cache) clear() {
	c.ll.Init()
	clear(c.byKey)
	clear(c.byRead)
	clear(c.byFlow)
}

// clonePlan copies p's slices, so that neither the cache nor its callers
// see each other's changes. The trace's PKs and messages are copied
// into one array each (two allocations, not one a step).
func clonePlan(p Plan) Plan {
	p.Messages = slices.Clone(p.Messages)
	p.Stages = slices.Clone(p.Stages)
	p.Trace = slices.Clone(p.Trace)
	npk, nmsg := 0, 0
	for _, st := range p.Trace {
		if st.PK != nil {
			npk++
		}
		nmsg += len(st.Messages)
	}
	pks := make([]uuid.UUID, 0, npk)
	msgs := make([]string, 0, nmsg)
	for i := range p.Trace {
		st := &p.Trace[i]
		if st.Messages != nil {
			// Full slice expressions: an append to one step's messages
			// copies them rather than overwrite the next step's.
			msgs = append(msgs, st.Messages...)
			st.Messages = msgs[len(msgs)-len(st.Messages) : len(msgs) : len(msgs)]
		}
		if st.PK != nil {
			pks = append(pks, *st.PK)
			st.PK = &pks[len(pks)-1]
		}
	}
	return p
}
