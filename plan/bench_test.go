package plan_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// Issue targets, side by side in one run: an uncached plan of a 10-stage
// flow with 3 policy bindings per binding costs at most 3x reading the
// same bindings and policy bindings through the store (PlanBaseline); a
// cached plan at most 0.2x an uncached one. Each at two database sizes
// (the flow alone, and beside 2,000 other flows).
//
//	go test ./plan/ -run=NONE -bench=Plan -benchtime=2000x

func benchPlanStore(b *testing.B, others int) *store.Store {
	b.Helper()
	s, err := store.Open(filepath.Join(b.TempDir(), "b.db"), &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	flowWith := func(tx *store.Tx, slug string, stages, perBinding int, pol uuid.UUID) error {
		fpk, err := tx.Create(store.ModelFlow, []byte(fmt.Sprintf(`{"name":%q,"slug":%q,"title":"t","designation":"authentication"}`, slug, slug)), nil)
		if err != nil {
			return err
		}
		for i := range stages {
			st, err := tx.Create("authentik_stages_dummy.dummystage", []byte(fmt.Sprintf(`{"name":"%s-s%d"}`, slug, i)), nil)
			if err != nil {
				return err
			}
			bpk, err := tx.Create(store.ModelBinding, []byte(fmt.Sprintf(`{"target":%q,"stage":%q,"order":%d,"evaluate_on_plan":true,"re_evaluate_policies":false}`, fpk, st, i)), nil)
			if err != nil {
				return err
			}
			for j := range perBinding {
				if _, err := tx.Create(store.ModelPolicyBinding, []byte(fmt.Sprintf(`{"target":%q,"policy":%q,"order":%d}`, bpk, pol, j)), nil); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err = s.Update(ctx, func(tx *store.Tx) error {
		// User 1, whom BenchmarkPlanCached plans for.
		if _, err := store.Users.CreateJSON(tx, []byte(`{"username":"a","name":"A"}`), nil); err != nil {
			return err
		}
		pol, err := tx.Create("authentik_policies_dummy.dummypolicy", []byte(`{"name":"yes","result":true}`), nil)
		if err != nil {
			return err
		}
		if err := flowWith(tx, "login", 10, 3, pol); err != nil {
			return err
		}
		for i := range others {
			if err := flowWith(tx, fmt.Sprint("other-", i), 1, 1, pol); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

var benchSizes = []int{0, 2000}

// benchView runs, at each database size, one read transaction per
// iteration calling fn.
func benchView(b *testing.B, fn func(ctx context.Context, tx *store.Tx) error) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint("others=", n), func(b *testing.B) {
			s := benchPlanStore(b, n)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := s.View(ctx, func(tx *store.Tx) error { return fn(ctx, tx) }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlanBaseline reads what a plan reads, through the store: the
// flow, its bindings with their stages, and the policy bindings of the
// flow and of each binding, with their policies.
func BenchmarkPlanBaseline(b *testing.B) {
	benchView(b, func(_ context.Context, tx *store.Tx) error {
		f, err := store.Flows.Get(tx, store.By("slug", "login"))
		if err != nil {
			return err
		}
		policies := func(target uuid.UUID) error {
			pbs, err := store.PolicyBindings.ByRef(tx, "target", target)
			for _, pb := range pbs {
				if err == nil && pb.Policy != nil {
					_, err = store.Policies.Get(tx, store.PK(*pb.Policy))
				}
			}
			return err
		}
		if err := policies(f.PK); err != nil {
			return err
		}
		bs, err := store.Bindings.ByRef(tx, "target", f.PK)
		if err != nil {
			return err
		}
		for _, bd := range bs {
			if _, err := store.Stages.Get(tx, store.PK(bd.Stage)); err != nil {
				return err
			}
			if err := policies(bd.PK); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkPlanUncached plans the flow without a cache.
func BenchmarkPlanUncached(b *testing.B) {
	benchView(b, func(ctx context.Context, tx *store.Tx) error {
		p, err := plan.Make(ctx, tx, "login", plan.Request{}, plan.Options{})
		if err == nil && len(p.Stages) != 10 {
			err = fmt.Errorf("%d stages", len(p.Stages))
		}
		return err
	})
}

// BenchmarkPlanUncached10 plans, without a cache, a flow of 10 stages
// that are each also bound into 1,000 other flows: a plan reads each
// stage's record, not its view, whose flow_set would load those flows.
//
//	go test ./plan/ -run=NONE -bench=PlanUncached10 -benchtime=200x -count=5
func BenchmarkPlanUncached10(b *testing.B) {
	const others = 1000
	s, err := store.Open(filepath.Join(b.TempDir(), "b.db"), &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	err = s.Update(ctx, func(tx *store.Tx) error {
		var stages []uuid.UUID
		for i := range 10 {
			st, err := tx.Create("authentik_stages_dummy.dummystage", []byte(fmt.Sprintf(`{"name":"s%d"}`, i)), nil)
			if err != nil {
				return err
			}
			stages = append(stages, st)
		}
		for n := range others + 1 {
			slug := fmt.Sprint("other-", n)
			if n == others {
				slug = "login"
			}
			fpk, err := tx.Create(store.ModelFlow, []byte(fmt.Sprintf(`{"name":%q,"slug":%q,"title":"t","designation":"authentication"}`, slug, slug)), nil)
			if err != nil {
				return err
			}
			for i, st := range stages {
				if _, err := tx.Create(store.ModelBinding, []byte(fmt.Sprintf(`{"target":%q,"stage":%q,"order":%d}`, fpk, st, i)), nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		err := s.View(ctx, func(tx *store.Tx) error {
			p, err := plan.Make(ctx, tx, "login", plan.Request{}, plan.Options{})
			if err == nil && len(p.Stages) != 10 {
				err = fmt.Errorf("%d stages", len(p.Stages))
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanCached plans the flow through a cache that holds its plan.
func BenchmarkPlanCached(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint("others=", n), func(b *testing.B) {
			s := benchPlanStore(b, n)
			c := plan.NewCache(s, plan.CacheOptions{})
			defer c.Close()
			ctx := context.Background()
			req := plan.Request{User: plan.User{PK: 1, Authenticated: true}, Context: map[string]any{"prompt_data": map[string]any{"username": "a"}}}
			if _, err := c.Make(ctx, "login", req); err != nil || c.Len() != 1 {
				b.Fatalf("warm: %v, %d cached", err, c.Len())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if p, err := c.Make(ctx, "login", req); err != nil || len(p.Stages) != 10 {
					b.Fatal(err)
				}
			}
		})
	}
}
