package api

import (
	"context"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/kind"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// flowResource serves /flows/instances/, whose objects are named by slug;
// each flow shown reports as cache_count the plans that plans holds of it.
func flowResource(s *store.Store, plans *plan.Cache) *resource {
	counted := func(v flow.View, err error) (any, error) {
		v.CacheCount = plans.Count(v.PK)
		return v, err
	}
	return &resource{
		perm: codenames("authentik_flows", "flow"),
		list: func(ctx context.Context, q store.Query) (any, error) {
			p, err := s.ListFlows(ctx, q)
			for i := range p.Results {
				p.Results[i].CacheCount = plans.Count(p.Results[i].PK)
			}
			return listed(p, err)
		},
		create: func(ctx context.Context, body []byte) (any, error) {
			return counted(s.CreateFlowJSON(ctx, body))
		},
		get: func(ctx context.Context, slug string) (any, error) { return counted(s.GetFlowBySlug(ctx, slug)) },
		replace: func(ctx context.Context, slug string, body []byte) (any, error) {
			return counted(s.ReplaceFlow(ctx, slug, body))
		},
		patch: func(ctx context.Context, slug string, body []byte) (any, error) {
			return counted(s.PatchFlow(ctx, slug, body))
		},
		delete: func(ctx context.Context, slug string) error { return s.DeleteFlow(ctx, slug) },
		usedBy: func(ctx context.Context, slug string) ([]store.UsedBy, error) {
			var out []store.UsedBy
			err := s.View(ctx, func(tx *store.Tx) error {
				f, err := tx.GetFlowBySlug(slug)
				if err != nil {
					return err
				}
				out, err = tx.UsedBy(store.ModelFlow, f.PK)
				return err
			})
			return out, err
		},
	}
}

// modelResource serves the collection of model (a collection's model, or
// one kind's), keyed by UUID, through the store's generic operations: an
// object of another kind is not found there, checked in the same
// transaction as the write. Without writable, only list, retrieve, delete
// and used_by are served (authentik's /stages/all/ and /policies/all/).
func modelResource(s *store.Store, model, app, codename string, writable bool) *resource {
	get := func(tx *store.Tx, key string) (any, error) { return tx.Get(model, parseUUID(key)) }
	write := func(ctx context.Context, key string, body []byte, op func(*store.Tx, string, uuid.UUID, []byte) error) (any, error) {
		var out any
		err := s.Update(ctx, func(tx *store.Tx) error {
			if err := op(tx, model, parseUUID(key), body); err != nil {
				return err
			}
			var err error
			out, err = get(tx, key)
			return err
		})
		return out, err
	}
	res := &resource{
		perm:     codenames(app, codename),
		validKey: validUUID,
		list: func(ctx context.Context, q store.Query) (any, error) {
			var p store.Page[any]
			err := s.View(ctx, func(tx *store.Tx) error {
				var err error
				p, err = tx.List(model, q)
				return err
			})
			return listed(p, err)
		},
		get: func(ctx context.Context, key string) (any, error) {
			var out any
			err := s.View(ctx, func(tx *store.Tx) error {
				var err error
				out, err = get(tx, key)
				return err
			})
			return out, err
		},
		delete: func(ctx context.Context, key string) error {
			return s.Update(ctx, func(tx *store.Tx) error { return tx.Delete(model, parseUUID(key)) })
		},
		usedBy: usedByModel(s, model),
	}
	if writable {
		res.create = func(ctx context.Context, body []byte) (any, error) {
			var out any
			err := s.Update(ctx, func(tx *store.Tx) error {
				pk, err := tx.Create(model, body)
				if err != nil {
					return err
				}
				out, err = tx.Get(model, pk)
				return err
			})
			return out, err
		}
		res.replace = func(ctx context.Context, key string, body []byte) (any, error) {
			return write(ctx, key, body, (*store.Tx).Replace)
		}
		res.patch = func(ctx context.Context, key string, body []byte) (any, error) {
			return write(ctx, key, body, (*store.Tx).Patch)
		}
	}
	return res
}

// kindResource serves the collection of one stage or policy kind.
func kindResource[C kind.Config](s *store.Store, k kind.Kind[C]) *resource {
	return modelResource(s, string(k.Model), k.Model.App(), k.Model.Model(), true)
}

// bindingResource serves /flows/bindings/.
func bindingResource(s *store.Store) *resource {
	return modelResource(s, store.ModelBinding, "authentik_flows", "flowstagebinding", true)
}

// policyBindingResource serves /policies/bindings/.
func policyBindingResource(s *store.Store) *resource {
	return modelResource(s, store.ModelPolicyBinding, "authentik_policies", "policybinding", true)
}

// allPoliciesResource serves /policies/all/: every kind, each in its own
// representation (authentik's is polymorphic), with list, retrieve and
// delete only.
func allPoliciesResource(s *store.Store) *resource {
	return modelResource(s, store.ModelPolicy, "authentik_policies", "policy", false)
}

// allStagesResource serves /stages/all/: every kind, in the base stage
// representation, with list, retrieve and delete only.
func allStagesResource(s *store.Store) *resource {
	return &resource{
		perm:     codenames("authentik_flows", "stage"),
		validKey: validUUID,
		list: func(ctx context.Context, q store.Query) (any, error) {
			p, err := s.ListStages(ctx, "", q)
			if err != nil {
				return nil, err
			}
			out := store.Page[stage.Summary]{Pagination: p.Pagination, Results: make([]stage.Summary, len(p.Results))}
			for i, v := range p.Results {
				out.Results[i] = stage.Summary{View: v}
			}
			return listed(out, nil)
		},
		get: func(ctx context.Context, key string) (any, error) {
			v, err := s.GetStage(ctx, parseUUID(key))
			if err != nil {
				return nil, err
			}
			return stage.Summary{View: v}, nil
		},
		delete: func(ctx context.Context, key string) error { return s.DeleteStage(ctx, parseUUID(key)) },
		usedBy: usedByModel(s, store.ModelStage),
	}
}

// usedByModel lists what refers to the object of model whose pk is the
// path key (one that validKey accepted).
func usedByModel(s *store.Store, model string) func(context.Context, string) ([]store.UsedBy, error) {
	return func(ctx context.Context, key string) ([]store.UsedBy, error) {
		return s.UsedBy(ctx, model, parseUUID(key))
	}
}
