package plan_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// The reference model of a random flow: what the test builds, and what
// it expects the planner to make of it.
type refPB struct{ pass, enabled, negate bool }

type refBinding struct {
	order            int32
	onPlan, reeval   bool
	mode             string
	policies         []refPB
	stage, bindingPK uuid.UUID
}

// passes is the policy engine, written as plainly as possible: the
// enabled bindings, each its policy's result (negated if asked), all or
// any of them; none passes.
func passes(mode string, pbs []refPB) bool {
	var results []bool
	for _, pb := range pbs {
		if pb.enabled {
			results = append(results, pb.pass != pb.negate)
		}
	}
	if len(results) == 0 {
		return true
	}
	if mode == "all" {
		return !slices.Contains(results, false)
	}
	return slices.Contains(results, true)
}

// For random flows, bindings and policy results, the planned stages are
// those of a reference implementation.
func TestPlanProperty(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "p.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var yes, no uuid.UUID
	var stages []uuid.UUID
	err = s.Update(ctx, func(tx *store.Tx) error {
		var err error
		if yes, err = tx.Create("authentik_policies_dummy.dummypolicy", []byte(`{"name":"yes","result":true}`), nil); err != nil {
			return err
		}
		if no, err = tx.Create("authentik_policies_dummy.dummypolicy", []byte(`{"name":"no","result":false}`), nil); err != nil {
			return err
		}
		for i := range 8 {
			pk, err := tx.Create("authentik_stages_dummy.dummystage", []byte(fmt.Sprintf(`{"name":"s%d"}`, i)), nil)
			if err != nil {
				return err
			}
			stages = append(stages, pk)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 9))
	modes := []string{"all", "any"}
	randPBs := func() []refPB {
		out := make([]refPB, rng.IntN(4))
		for i := range out {
			out[i] = refPB{pass: rng.IntN(2) == 0, enabled: rng.IntN(4) != 0, negate: rng.IntN(3) == 0}
		}
		return out
	}
	bind := func(tx *store.Tx, target uuid.UUID, pbs []refPB) error {
		for i, pb := range pbs {
			p := no
			if pb.pass {
				p = yes
			}
			body := fmt.Sprintf(`{"target":%q,"policy":%q,"order":%d,"enabled":%v,"negate":%v}`, target, p, i, pb.enabled, pb.negate)
			if _, err := tx.Create(store.ModelPolicyBinding, []byte(body), nil); err != nil {
				return err
			}
		}
		return nil
	}
	for iter := range 300 {
		slug := fmt.Sprint("f", iter)
		flowMode, flowPBs := modes[rng.IntN(2)], randPBs()
		bindings := make([]refBinding, rng.IntN(7))
		orders := rng.Perm(20)
		for i := range bindings {
			b := refBinding{order: int32(orders[i]), mode: modes[rng.IntN(2)], policies: randPBs(), stage: stages[rng.IntN(len(stages))]}
			switch rng.IntN(3) {
			case 0:
				b.onPlan, b.reeval = true, false
			case 1:
				b.onPlan, b.reeval = false, true
			default:
				b.onPlan, b.reeval = true, true
			}
			bindings[i] = b
		}
		err := s.Update(ctx, func(tx *store.Tx) error {
			fpk, err := tx.Create(store.ModelFlow, []byte(fmt.Sprintf(`{"name":%q,"slug":%q,"title":"t","designation":"authentication","policy_engine_mode":%q}`, slug, slug, flowMode)), nil)
			if err != nil {
				return err
			}
			if err := bind(tx, fpk, flowPBs); err != nil {
				return err
			}
			for i := range bindings {
				b := &bindings[i]
				body := fmt.Sprintf(`{"target":%q,"stage":%q,"order":%d,"evaluate_on_plan":%v,"re_evaluate_policies":%v,"policy_engine_mode":%q}`,
					fpk, b.stage, b.order, b.onPlan, b.reeval, b.mode)
				if b.bindingPK, err = tx.Create(store.ModelBinding, []byte(body), nil); err != nil {
					return err
				}
				if err := bind(tx, b.bindingPK, b.policies); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		// The reference: flow policies first, then the bindings in order.
		var want []string
		applicable := passes(flowMode, flowPBs)
		if applicable {
			sorted := slices.Clone(bindings)
			slices.SortFunc(sorted, func(a, b refBinding) int { return int(a.order - b.order) })
			for _, b := range sorted {
				if b.onPlan && !passes(b.mode, b.policies) {
					continue
				}
				marker := "stage"
				if b.reeval {
					marker = "reevaluate"
				}
				want = append(want, fmt.Sprintf("%s:%s", b.bindingPK, marker))
			}
		}

		var p plan.Plan
		err = s.View(ctx, func(tx *store.Tx) error {
			var err error
			p, err = plan.Make(ctx, tx, slug, plan.Request{}, plan.Options{AllowEmpty: true})
			return err
		})
		if err != nil {
			t.Fatalf("flow %d: %v", iter, err)
		}
		var got []string
		for _, st := range p.Stages {
			got = append(got, fmt.Sprintf("%s:%s", st.Binding, st.Marker))
		}
		if p.Applicable != applicable || !slices.Equal(got, want) {
			t.Fatalf("flow %d (mode %s, policies %v, bindings %+v):\n got %v %v\nwant %v %v", iter, flowMode, flowPBs, bindings, p.Applicable, got, applicable, want)
		}
	}
}
