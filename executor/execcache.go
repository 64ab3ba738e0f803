package executor

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/authflow/authflow/internal/jsonvalue"
	"github.com/authflow/authflow/plan"
)

// DefaultDecodedExecutions bounds the executions an Executor keeps
// decoded (execCache).
const DefaultDecodedExecutions = 4096

// execCache keeps, per execution key, the execution record this executor
// last loaded or saved, decoded, so that the next step of the execution
// does not decode again what the step before saved. The RunState stays
// the source of truth: an entry serves a record only when the record
// loaded has the entry's version and the very same bytes, so an entry
// of a record since changed (by another executor on a shared RunState,
// or behind the executor's back) is never used; an entry's execution
// is exactly what decodeExecution makes of its bytes, is never
// modified, and is handed to a request as a deep copy. It holds at most
// max entries, dropping an arbitrary one when full. It is safe for
// concurrent use.
type execCache struct {
	mu  sync.Mutex
	m   map[string]*savedExec
	max int
}

// savedExec is an execution record and its decoding.
type savedExec struct {
	version uint64
	data    []byte
	// x is decodeExecution(data): never modified, never handed out.
	x *execution
	// ctxJSON is x's context as data holds it.
	ctxJSON []byte
}

func newExecCache(max int) *execCache {
	return &execCache{m: map[string]*savedExec{}, max: max}
}

// decode returns decodeExecution(rec.Data), from the entry of key when
// it holds rec, else decoded and kept. The execution returned is the
// caller's to modify; its base is the entry, whose context tells
// whether the caller changed it (execution.contextJSON).
func (c *execCache) decode(key string, rec Record) (*execution, error) {
	c.mu.Lock()
	s := c.m[key]
	c.mu.Unlock()
	if s == nil || s.version != rec.Version || !bytes.Equal(s.data, rec.Data) {
		var err error
		if s, err = decodeSaved(rec); err != nil {
			c.drop(key)
			return nil, err
		}
		c.put(key, s)
	}
	return s.x.copy(s), nil
}

// decodeSaved decodes rec.
func decodeSaved(rec Record) (*savedExec, error) {
	x, ctxJSON, err := decodeRecord(rec.Data)
	if err != nil {
		return nil, err
	}
	return &savedExec{version: rec.Version, data: rec.Data, x: x, ctxJSON: ctxJSON}, nil
}

// saved keeps x, just saved as data at version under key, encoded with
// its context as ctxJSON. x is the request's own (a copy of its entry,
// see copy, with the values its handlers put in, which are the
// executor's from then on: see Step), and is not used once saved: its
// context is kept, not copied, made what decoding ctxJSON makes of it
// (adoptContext). One unchanged since its entry keeps the entry's.
func (c *execCache) saved(key string, version uint64, data []byte, x *execution, ctxJSON []byte) {
	kept := &execution{Flow: x.Flow, Stages: keptStages(x.Stages), Query: x.Query, Shown: x.Shown}
	switch {
	case x.base != nil && bytes.Equal(ctxJSON, x.base.ctxJSON):
		kept.Context = x.base.x.Context
	case len(x.Context) == 0:
		kept.Context = map[string]any{}
	case adoptContext(x.Context):
		kept.Context = x.Context
	default:
		if err := json.Unmarshal(ctxJSON, &kept.Context); err != nil || kept.Context == nil {
			c.drop(key)
			return
		}
	}
	c.put(key, &savedExec{version: version, data: data, x: kept, ctxJSON: ctxJSON})
}

// adoptContext makes m, a request's context, what decoding its encoding
// makes of it, in place (jsonvalue.Decoded): its values that are so
// already stay as they are, others are replaced by their decoding,
// which shares with them what does not change. It is false, and m
// partly changed, when that is not sure.
func adoptContext(m map[string]any) bool {
	for k, v := range m {
		d, ok := jsonvalue.Decoded(v)
		if !ok || !utf8.ValidString(k) {
			return false
		}
		m[k] = d
	}
	return true
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

// copy is a deep copy of x with base as its base, but for its stages,
// which are shared clipped: a request never writes to its stages in
// place, and inserting into a clipped slice reallocates it.
func (x *execution) copy(base *savedExec) *execution {
	return &execution{
		Flow: x.Flow, Stages: slices.Clip(x.Stages), Context: jsonvalue.CloneMap(x.Context),
		Query: x.Query, Shown: x.Shown, base: base,
	}
}
