package executor

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"

	"github.com/authflow/authflow/internal/jsonvalue"
	"github.com/authflow/authflow/plan"
)

// DefaultDecodedExecutions bounds the executions an Executor keeps
// decoded (execCache).
const DefaultDecodedExecutions = 4096

// execCache keeps, per execution key, the execution this executor last
// saved or loaded, decoded, so that the next step of the execution does
// not decode again what the step before saved. The RunState stays the
// source of truth: an entry serves a record only when the record loaded
// has the entry's version and the very same bytes, so an entry of a
// record since changed (by another executor on a shared RunState, or
// behind the executor's back) is never used; an entry's execution is
// exactly what decodeExecution makes of its bytes. An entry is handed
// to the request that loads it, not copied: it leaves the cache then
// (take), so that no change of the request reaches it, and the
// request's save keeps the execution saved (saved); a request that
// saves nothing (it failed, or ended the execution) leaves no entry,
// and the next one decodes the record. It holds at most max entries,
// dropping an arbitrary one when full. It is safe for concurrent use.
type execCache struct {
	mu  sync.Mutex
	m   map[string]*savedExec
	max int
}

// savedExec is an execution record and its decoding.
type savedExec struct {
	version uint64
	data    []byte
	// x is decodeExecution(data), until a request takes it.
	x *execution
	// ctxJSON is x's context as data holds it, an object of ctxKeys
	// members: a context of another size has changed.
	ctxJSON []byte
	ctxKeys int
}

func newExecCache(max int) *execCache {
	return &execCache{m: map[string]*savedExec{}, max: max}
}

// take returns decodeExecution(rec.Data), the caller's to modify: the
// entry of key when it holds rec, taken out of the cache, else decoded.
// Its from is the entry, whose ctxJSON tells whether the caller changed
// its context (execution.contextJSON).
func (c *execCache) take(key string, rec Record) (*execution, error) {
	c.mu.Lock()
	s := c.m[key]
	delete(c.m, key)
	c.mu.Unlock()
	if s == nil || s.version != rec.Version || !bytes.Equal(s.data, rec.Data) {
		var err error
		if s, err = decodeSaved(rec); err != nil {
			return nil, err
		}
	}
	x := s.x
	x.from = s
	return x, nil
}

// decodeSaved decodes rec.
func decodeSaved(rec Record) (*savedExec, error) {
	x, ctxJSON, err := decodeRecord(rec.Data)
	if err != nil {
		return nil, err
	}
	return &savedExec{version: rec.Version, data: rec.Data, x: x, ctxJSON: ctxJSON, ctxKeys: len(x.Context)}, nil
}

// saved keeps x, just saved as data at version under key, encoded with
// its context as ctxJSON. x is the request's own (an entry it took,
// with the values its handlers put in, which are the executor's from
// then on: see Step), and is not used by it once saved: it is kept, not
// copied, its context made what decoding ctxJSON makes of it, in place
// (adoptContext), unless it is so already (ctxDecoded).
func (c *execCache) saved(key string, version uint64, data []byte, x *execution, ctxJSON []byte) {
	if !x.ctxDecoded && !adoptContext(x.Context) {
		x.Context = nil
		if err := json.Unmarshal(ctxJSON, &x.Context); err != nil {
			c.drop(key)
			return
		}
	}
	if x.Context == nil {
		x.Context = map[string]any{}
	}
	s := x.from // out of the cache since take: reused
	if s == nil {
		s = new(savedExec)
	}
	x.Stages, x.from, x.ctxJSON, x.ctxDecoded = keptStages(x.Stages), nil, nil, false
	*s = savedExec{version: version, data: data, x: x, ctxJSON: ctxJSON, ctxKeys: len(x.Context)}
	c.put(key, s)
}

// adoptContext makes m, a request's context, what decoding its encoding
// makes of it, in place (jsonvalue.Normalize): its values are the
// executor's (see Step). It is false, and m partly changed, when that
// is not sure.
func adoptContext(m map[string]any) bool {
	_, ok := jsonvalue.Normalize(m)
	return ok
}

// keptStages is stages as decoding their encoding makes them: the
// encoding keeps one marker apart from the others. It is stages itself,
// clipped, when they are so already (the stages of a request are never
// written to in place: a stage is inserted into a clipped slice by
// reallocating it), else a copy.
func keptStages(stages []plan.Stage) []plan.Stage {
	if stages == nil {
		return []plan.Stage{}
	}
	i := slices.IndexFunc(stages, func(s plan.Stage) bool {
		return s.Marker != plan.MarkerReevaluate && s.Marker != plan.MarkerStage
	})
	if i < 0 {
		return slices.Clip(stages)
	}
	kept := slices.Clone(stages)
	for i := range kept {
		if kept[i].Marker != plan.MarkerReevaluate {
			kept[i].Marker = plan.MarkerStage
		}
	}
	return kept
}

func (c *execCache) put(key string, s *savedExec) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = s
}

// drop forgets the entry of key.
func (c *execCache) drop(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}
