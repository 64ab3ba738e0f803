package api

import (
	"context"
	"fmt"

	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

// flowResource serves /flows/instances/, whose objects are named by slug.
func flowResource(s *store.Store) *resource {
	return &resource{
		perm: codenames("authentik_flows", "flow"),
		list: func(ctx context.Context, q store.Query) (any, error) { return listed(s.ListFlows(ctx, q)) },
		create: func(ctx context.Context, body []byte) (any, error) {
			return s.CreateFlowJSON(ctx, body)
		},
		get: func(ctx context.Context, slug string) (any, error) { return s.GetFlowBySlug(ctx, slug) },
		replace: func(ctx context.Context, slug string, body []byte) (any, error) {
			return s.ReplaceFlow(ctx, slug, body)
		},
		patch: func(ctx context.Context, slug string, body []byte) (any, error) {
			return s.PatchFlow(ctx, slug, body)
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

// bindingResource serves /flows/bindings/.
func bindingResource(s *store.Store) *resource {
	return &resource{
		perm:     codenames("authentik_flows", "flowstagebinding"),
		validKey: validUUID,
		list:     func(ctx context.Context, q store.Query) (any, error) { return listed(s.ListBindings(ctx, q)) },
		create: func(ctx context.Context, body []byte) (any, error) {
			return s.CreateBindingJSON(ctx, body)
		},
		get: func(ctx context.Context, key string) (any, error) { return s.GetBinding(ctx, parseUUID(key)) },
		replace: func(ctx context.Context, key string, body []byte) (any, error) {
			return s.ReplaceBinding(ctx, parseUUID(key), body)
		},
		patch: func(ctx context.Context, key string, body []byte) (any, error) {
			return s.PatchBinding(ctx, parseUUID(key), body)
		},
		delete: func(ctx context.Context, key string) error { return s.DeleteBinding(ctx, parseUUID(key)) },
		usedBy: usedByModel(s, store.ModelBinding),
	}
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

// stageResource serves the collection of one stage kind. An object of
// another kind is not found there.
func stageResource(s *store.Store, k stage.Kind) *resource {
	// ofKind fetches the stage in tx, failing with ErrNotFound when it is
	// of another kind, so that the check and a write are one transaction.
	ofKind := func(tx *store.Tx, key string) (stage.View, error) {
		id := parseUUID(key)
		v, err := tx.GetStage(id)
		if err != nil {
			return stage.View{}, err
		}
		if v.Kind.Model != k.Model {
			return stage.View{}, fmt.Errorf("api: stage %s is a %s, not a %s: %w", id, v.Kind.Model, k.Model, store.ErrNotFound)
		}
		return v, nil
	}
	write := func(ctx context.Context, key string, fn func(*store.Tx) (stage.View, error)) (any, error) {
		var out stage.View
		err := s.Update(ctx, func(tx *store.Tx) error {
			if _, err := ofKind(tx, key); err != nil {
				return err
			}
			var err error
			out, err = fn(tx)
			return err
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	return &resource{
		perm:     codenames(k.Model.App(), k.Model.Model()),
		validKey: validUUID,
		list:     func(ctx context.Context, q store.Query) (any, error) { return listed(s.ListStages(ctx, k.Model, q)) },
		create: func(ctx context.Context, body []byte) (any, error) {
			return s.CreateStageJSON(ctx, k.Model, body)
		},
		get: func(ctx context.Context, key string) (any, error) {
			var out stage.View
			err := s.View(ctx, func(tx *store.Tx) error {
				var err error
				out, err = ofKind(tx, key)
				return err
			})
			if err != nil {
				return nil, err
			}
			return out, nil
		},
		replace: func(ctx context.Context, key string, body []byte) (any, error) {
			return write(ctx, key, func(tx *store.Tx) (stage.View, error) { return tx.ReplaceStage(parseUUID(key), body) })
		},
		patch: func(ctx context.Context, key string, body []byte) (any, error) {
			return write(ctx, key, func(tx *store.Tx) (stage.View, error) { return tx.PatchStage(parseUUID(key), body) })
		},
		delete: func(ctx context.Context, key string) error {
			_, err := write(ctx, key, func(tx *store.Tx) (stage.View, error) { return stage.View{}, tx.DeleteStage(parseUUID(key)) })
			return err
		},
		// The kind's own model: a stage of another kind is not found.
		usedBy: usedByModel(s, string(k.Model)),
	}
}

// usedByModel lists what refers to the object of model whose pk is the
// path key (one that validKey accepted).
func usedByModel(s *store.Store, model string) func(context.Context, string) ([]store.UsedBy, error) {
	return func(ctx context.Context, key string) ([]store.UsedBy, error) {
		return s.UsedBy(ctx, model, parseUUID(key))
	}
}
