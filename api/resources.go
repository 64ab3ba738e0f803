package api

import (
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/kind"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

// flowResource serves /flows/instances/: the flow collection, whose
// objects are named by slug; each flow shown reports as cache_count the
// plans that plans holds of it.
func flowResource(plans *plan.Cache) *resource {
	res := modelResource(store.ModelFlow, "authentik_flows", "flow", true)
	res.field, res.validKey = "slug", nil
	res.show = func(v any) any {
		if f, ok := v.(flow.View); ok {
			f.CacheCount = plans.Count(f.PK)
			return f
		}
		return v
	}
	return res
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

// allStagesResource serves /stages/all/: every kind, in the base stage
// representation, with list, retrieve and delete only.
func allStagesResource() *resource {
	res := modelResource(store.ModelStage, "authentik_flows", "stage", false)
	res.show = func(v any) any {
		if sv, ok := v.(stage.View); ok {
			return stage.Summary{View: sv}
		}
		return v
	}
	return res
}
