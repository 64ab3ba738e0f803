package executor

import (
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/revcache"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// confCache keeps the flows (by slug) and stages (by pk) that requests
// read, decoded, until a change touches them (package
// internal/revcache): a read transaction is served only what it would
// read itself, without reading and decoding the records again, whatever
// else (a user's last_login) was written since. It holds at most
// plan.DecodedObjects of each (a missing object is not kept). Its values
// are shared between requests and never modified.
type confCache struct {
	c      *revcache.Cache
	flows  *revcache.Map[string, flow.Flow]
	stages *revcache.Map[uuid.UUID, stage.Stage]
}

func newConfCache(s *store.Store) *confCache {
	c := revcache.New(s)
	return &confCache{
		c:      c,
		flows:  revcache.NewMap[string, flow.Flow](c, plan.DecodedObjects),
		stages: revcache.NewMap[uuid.UUID, stage.Stage](c, plan.DecodedObjects),
	}
}

func (c *confCache) close() { c.c.Close() }

// flow is store.Flows.Get(tx, store.By("slug", slug)), through the cache.
func (c *confCache) flow(tx *store.Tx, slug string) (flow.Flow, error) {
	return c.flows.Get(tx, slug, func() (flow.Flow, []uuid.UUID, error) {
		f, err := store.Flows.Get(tx, store.By("slug", slug))
		return f, []uuid.UUID{f.PK}, err
	})
}

// stage is store.Stages.Get(tx, store.PK(pk)), through the cache.
func (c *confCache) stage(tx *store.Tx, pk uuid.UUID) (stage.Stage, error) {
	return c.stages.Get(tx, pk, func() (stage.Stage, []uuid.UUID, error) {
		st, err := store.Stages.Get(tx, store.PK(pk))
		return st, []uuid.UUID{pk}, err
	})
}
