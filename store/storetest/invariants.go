// Package storetest is the conformance suite of the store's behaviour,
// for any backend: the scenarios every store must pass, checks generated
// from the store's own schema (for every unique field its clash message;
// for every reference its existence message, its used_by entry and what
// deleting its target does), and the invariant checker that the store's
// own tests run after each test. A backend runs it as
//
//	storetest.Run(t, func(t *testing.T) *store.Store { return openMyBackend(t) }, nil)
//
// as dex's storage backends run their conformance tests.
package storetest

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

const bigPage = 1000

// AllPages lists every page of a list and checks the pagination agrees.
func AllPages[T any](t testing.TB, list func(store.Query) (store.Page[T], error)) []T {
	t.Helper()
	var out []T
	for page := 1; ; page++ {
		p, err := list(store.Query{Page: page, PageSize: bigPage})
		if err != nil {
			t.Fatalf("list page %d: %v", page, err)
		}
		out = append(out, p.Results...)
		if p.Pagination.Count != 0 && p.Pagination.TotalPages < page {
			t.Fatalf("page %d of %d", page, p.Pagination.TotalPages)
		}
		if p.Pagination.Next == 0 {
			if len(out) != p.Pagination.Count {
				t.Fatalf("listed %d objects, pagination count is %d", len(out), p.Pagination.Count)
			}
			return out
		}
	}
}

// AllFlows lists every flow.
func AllFlows(t testing.TB, tx *store.Tx) []flow.View {
	t.Helper()
	return AllPages(t, tx.ListFlows)
}

// AllStages lists every stage, of every kind.
func AllStages(t testing.TB, tx *store.Tx) []stage.View {
	t.Helper()
	return AllPages(t, func(q store.Query) (store.Page[stage.View], error) { return tx.ListStages("", q) })
}

// AllBindings lists every binding.
func AllBindings(t testing.TB, tx *store.Tx) []binding.View {
	t.Helper()
	return AllPages(t, tx.ListBindings)
}

// CheckInvariants asserts, in one read transaction, that nothing in s
// dangles and every index agrees with the records.
func CheckInvariants(t testing.TB, s *store.Store) {
	t.Helper()
	if err := s.View(context.Background(), func(tx *store.Tx) error {
		CheckInvariantsTx(t, tx)
		return nil
	}); err != nil {
		t.Fatalf("checkInvariants: %v", err)
	}
}

// CheckInvariantsTx is CheckInvariants inside a transaction the caller
// holds.
func CheckInvariantsTx(t testing.TB, tx *store.Tx) {
	t.Helper()
	flows := map[uuid.UUID]flow.View{}
	slugs := map[string]bool{}
	for _, f := range AllFlows(t, tx) {
		if _, dup := flows[f.PK]; dup {
			t.Errorf("flow %s listed twice", f.PK)
		}
		if slugs[f.Slug] {
			t.Errorf("slug %q held by two flows", f.Slug)
		}
		flows[f.PK], slugs[f.Slug] = f, true
		g, err := tx.GetFlow(f.PK)
		if err != nil {
			t.Errorf("GetFlow(%s): %v", f.PK, err)
		}
		bs, err := tx.GetFlowBySlug(f.Slug)
		if err != nil || bs.PK != f.PK {
			t.Errorf("GetFlowBySlug(%q) = %s, %v; want %s", f.Slug, bs.PK, err, f.PK)
		}
		flows[f.PK] = g
	}
	stages := map[uuid.UUID]stage.View{}
	names := map[string]bool{}
	for _, st := range AllStages(t, tx) {
		if names[st.Name] {
			t.Errorf("stage name %q held by two stages", st.Name)
		}
		names[st.Name] = true
		g, err := tx.GetStage(st.PK)
		if err != nil {
			t.Errorf("GetStage(%s): %v", st.PK, err)
			continue
		}
		stages[st.PK] = g
		for _, r := range g.Kind.Schema().Refs(g.Config) {
			if (r.Target == "flow" || r.Target == store.ModelFlow) && !r.Null {
				if _, ok := flows[r.ID]; !ok {
					t.Errorf("stage %q: %s points at missing flow %s", g.Name, r.Field, r.ID)
				}
			}
		}
		for _, fs := range g.FlowSet {
			if _, ok := flows[fs.PK]; !ok {
				t.Errorf("stage %q: flow_set lists missing flow %s", g.Name, fs.PK)
			}
		}
	}
	type triple struct {
		target, stage uuid.UUID
		order         int32
	}
	seen := map[triple]bool{}
	perStage := map[uuid.UUID]int{}
	all := AllBindings(t, tx)
	for _, b := range all {
		if _, ok := flows[b.Target]; !ok {
			t.Errorf("binding %s: target %s is missing", b.PK, b.Target)
		}
		if _, ok := stages[b.Stage]; !ok {
			t.Errorf("binding %s: stage %s is missing", b.PK, b.Stage)
		}
		k := triple{b.Target, b.Stage, b.Order}
		if seen[k] {
			t.Errorf("binding %s: (target, stage, order) = %v is not unique", b.PK, k)
		}
		seen[k] = true
		perStage[b.Stage]++
		g, err := tx.GetBinding(b.PK)
		if err != nil {
			t.Errorf("GetBinding(%s): %v", b.PK, err)
		} else if g.StageObj.PK != b.Stage {
			t.Errorf("binding %s: stage_obj is %s, stage is %s", b.PK, g.StageObj.PK, b.Stage)
		}
	}
	total := 0
	for id, f := range flows {
		fb, err := tx.FlowBindings(id)
		if err != nil {
			t.Errorf("FlowBindings(%s): %v", id, err)
			continue
		}
		total += len(fb)
		wantStages := make([]uuid.UUID, 0, len(fb))
		for i, b := range fb {
			if b.Target != id {
				t.Errorf("FlowBindings(%s) holds binding %s of flow %s", id, b.PK, b.Target)
			}
			if i > 0 && CompareBindings(fb[i-1].Binding, b.Binding) >= 0 {
				t.Errorf("FlowBindings(%s) not in (order, pk) order at %d", id, i)
			}
			wantStages = append(wantStages, b.Stage)
		}
		if !slices.Equal(f.Stages, wantStages) {
			t.Errorf("flow %q: stages = %v, its bindings give %v", f.Slug, f.Stages, wantStages)
		}
	}
	if total != len(all) {
		t.Errorf("flows hold %d bindings, the binding list has %d", total, len(all))
	}
	for id, st := range stages {
		if len(st.FlowSet) != perStage[id] {
			t.Errorf("stage %q: flow_set has %d entries, %d bindings use it", st.Name, len(st.FlowSet), perStage[id])
		}
	}
}

// CompareBindings orders bindings as a flow does: by order, then pk.
func CompareBindings(a, b binding.Binding) int {
	if c := cmp.Compare(a.Order, b.Order); c != 0 {
		return c
	}
	return bytes.Compare(a.PK[:], b.PK[:])
}
