package store_test

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// Lists that an index answers (the default ordering, at most the indexed
// filter, no search) give exactly what sorting every object gives, on
// every page, with names long enough to be cut in the index.
func TestIndexedListsAgreeWithSorting(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(1, 2))
	designations := []string{"authentication", "enrollment", "recovery"}
	var flows []flow.View
	for i := range 23 {
		d := designations[rng.IntN(len(designations))]
		f, err := createJSONIn(ctx, s, store.Flows, []byte(fmt.Sprintf(`{"name":"n%d","slug":"s%02d-%d","title":"t","designation":"%s"}`, i, rng.IntN(50), i, d)))
		if err != nil {
			t.Fatal(err)
		}
		flows = append(flows, f)
	}
	long := strings.Repeat("x", 1100)
	var stages []stage.View
	for i := range 19 {
		name := fmt.Sprintf("st-%02d", rng.IntN(40)) + fmt.Sprint(i)
		if i%4 == 0 {
			name = long + fmt.Sprint(rng.IntN(1000)) // ties in the index's cut prefix
		}
		if i%3 == 0 {
			stages = append(stages, mkInvitation(t, s, name))
		} else {
			stages = append(stages, mkUserWrite(t, s, name))
		}
	}
	for range 40 {
		f, st := flows[rng.IntN(len(flows))], stages[rng.IntN(len(stages))]
		_, _ = createJSONIn(ctx, s, store.Bindings, []byte(fmt.Sprintf(`{"target":"%s","stage":"%s","order":%d}`, f.PK, st.PK, rng.IntN(7)-3)))
	}
	// Deletes and renames keep the counts and indexes right.
	if err := deleteIn(ctx, s, store.Flows, store.By("slug", flows[0].Slug)); err != nil {
		t.Fatal(err)
	}
	if _, err := patchIn(ctx, s, store.Flows, store.By("slug", flows[1].Slug), []byte(`{"designation":"recovery","slug":"zz-renamed"}`)); err != nil {
		t.Fatal(err)
	}
	if err := deleteIn(ctx, s, store.Stages, store.PK(stages[1].PK)); err != nil {
		t.Fatal(err)
	}

	pks := func(t *testing.T, list func(store.Query) (store.Page[uuid.UUID], error), q store.Query) []uuid.UUID {
		t.Helper()
		var out []uuid.UUID
		for page := 1; ; page++ {
			q.Page = page
			p, err := list(q)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p.Results...)
			if p.Pagination.Next == 0 {
				if p.Pagination.Count != len(out) {
					t.Errorf("count %d, listed %d", p.Pagination.Count, len(out))
				}
				return out
			}
		}
	}
	flowPKs := func(q store.Query) (store.Page[uuid.UUID], error) {
		p, err := listIn(ctx, s, store.Flows, q)
		return ids(p, func(f flow.View) uuid.UUID { return f.PK }), err
	}
	stagePKs := func(model stage.ModelName) func(q store.Query) (store.Page[uuid.UUID], error) {
		return func(q store.Query) (store.Page[uuid.UUID], error) {
			p, err := listIn(ctx, s, stagesOf(model), q)
			return ids(p, func(v stage.View) uuid.UUID { return v.PK }), err
		}
	}
	for _, size := range []int{1, 3, 7, 100} {
		t.Run(fmt.Sprint("size", size), func(t *testing.T) {
			same := func(name string, fast, slow []uuid.UUID) {
				t.Helper()
				if !slices.Equal(fast, slow) {
					t.Errorf("%s: indexed %v\nsorted %v", name, fast, slow)
				}
			}
			same("flows", pks(t, flowPKs, store.Query{PageSize: size}), pks(t, flowPKs, store.Query{PageSize: size, Ordering: "slug,name,pk"}))
			for _, d := range designations {
				f := map[string]string{"designation": d}
				same("flows of "+d, pks(t, flowPKs, store.Query{PageSize: size, Filters: f}), pks(t, flowPKs, store.Query{PageSize: size, Filters: f, Ordering: "slug,name,pk"}))
			}
			for _, m := range []stage.ModelName{stage.ModelUserWrite, stage.ModelInvitation, stage.ModelAuthenticatorDuo} {
				same(string(m), pks(t, stagePKs(m), store.Query{PageSize: size}), pks(t, stagePKs(m), store.Query{PageSize: size, Ordering: "name,pk"}))
			}
			same("all stages", pks(t, stagePKs(""), store.Query{PageSize: size}), pks(t, stagePKs(""), store.Query{PageSize: size, Ordering: "pk"}))
		})
	}
	// Bindings: against the order every flow's bindings give.
	var want []bindingKey
	for _, f := range flows[1:] {
		fb, err := flowBindingsIn(ctx, s, f.PK)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range fb {
			want = append(want, bindingKey{b.Order, b.PK})
		}
		p, err := listIn(ctx, s, store.Bindings, store.Query{Filters: map[string]string{"target": f.PK.String()}, PageSize: 2, Page: store.LastPage})
		if err != nil {
			t.Fatal(err)
		}
		if p.Pagination.Count != len(fb) {
			t.Errorf("flow %s: count %d, it has %d bindings", f.Slug, p.Pagination.Count, len(fb))
		}
	}
	slices.SortFunc(want, func(a, b bindingKey) int {
		if c := cmp.Compare(a.order, b.order); c != 0 {
			return c
		}
		return bytes.Compare(a.pk[:], b.pk[:])
	})
	var got []bindingKey
	for page := 1; ; page++ {
		p, err := listIn(ctx, s, store.Bindings, store.Query{Page: page, PageSize: 4})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range p.Results {
			got = append(got, bindingKey{b.Order, b.PK})
		}
		if p.Pagination.Next == 0 {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("bindings: listed %v\nwant %v", got, want)
	}
	checkInvariants(t, s)
}

type bindingKey struct {
	order int32
	pk    uuid.UUID
}

func ids[V any](p store.Page[V], pk func(V) uuid.UUID) store.Page[uuid.UUID] {
	out := store.Page[uuid.UUID]{Pagination: p.Pagination}
	for _, v := range p.Results {
		out.Results = append(out.Results, pk(v))
	}
	return out
}
