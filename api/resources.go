package api

import (
	"net/http"
	"strings"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/kind"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

// collectionResources are the resources of the store's collections that
// declare a path (store.Collection.Path), by path: every object is named
// by its key field (a flow's slug) or its pk, and the permissions are
// authentik's codenames of the model ("authentik_flows.view_flow"). A
// collection with kinds is served for list, retrieve and delete (its kinds
// are written at their own paths). shows adds, by model, what a response
// shows of a representation besides what the store rendered.
func collectionResources(s *store.Store, shows map[string]func(*http.Request, any) any) map[string]*resource {
	out := map[string]*resource{}
	for _, c := range s.Collections() {
		if c.Path == "" {
			continue
		}
		app, codename, _ := strings.Cut(c.Model, ".")
		res := modelResource(c.Model, app, codename, c.Kinds == nil)
		if c.Key != "" {
			res.field, res.validKey = c.Key, nil
		}
		res.show = shows[c.Model]
		out[c.Path] = res
	}
	return out
}

// withCacheCount shows a flow with cache_count: the plans of it that the
// handler's plan cache holds.
func (h *handler) withCacheCount(_ *http.Request, v any) any {
	if f, ok := v.(flow.View); ok {
		f.CacheCount = h.plans.Count(f.PK)
		return f
	}
	return v
}

// baseStage shows a stage in the base stage representation, as
// /stages/all/ does.
func baseStage(_ *http.Request, v any) any {
	if sv, ok := v.(stage.View); ok {
		return stage.Summary{View: sv}
	}
	return v
}

// modelResource serves the collection of model (a collection's model, or
// one kind's), keyed by UUID, through the store's generic operations: an
// object of another kind is not found there, checked in the same
// transaction as the write. Without writable, only list, retrieve, delete
// and used_by are served (authentik's /stages/all/ and /policies/all/).
func modelResource(model, app, codename string, writable bool) *resource {
	return &resource{
		perm:     codenames(app, codename),
		validKey: validUUID,
		model:    model,
		writable: writable,
	}
}

// kindResource serves the collection of one stage or policy kind.
func kindResource[C kind.Config](k kind.Kind[C]) *resource {
	return modelResource(string(k.Model), k.Model.App(), k.Model.Model(), true)
}
