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
//
// What the suite looks at is derived from the store's declared collections
// and references ([store.Store.Collections], [store.Store.References]):
// [Snapshot], which tells that a rejected write or a failed Update
// changed nothing, renders every collection, and [CheckInvariants] checks
// every collection's lists, unique fields and references. A new
// collection or kind is covered without a change here, once it has a
// sample.
//
// # Samples
//
// The generated checks make objects from samples: a valid body per
// collection and per kind. [DefaultSamples] has one for every built-in
// collection and kind, and a collection or built-in kind without one
// fails the suite (its "Samples" subtest) rather than being skipped, so
// that a kind added to authflow cannot go untested. A store with host
// kinds gives their samples in [Options.Samples]; a host kind may go
// without one only when [Options.Unsampled] names it, which says in the
// host's own test that the kind's generated checks are skipped.
//
// # Ids
//
// [CounterIDs] makes a test's pks the same on every run; [MissingPK] is a
// pk no store makes, for a reference to nothing.
package storetest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
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
	return AllPages(t, func(q store.Query) (store.Page[flow.View], error) { return store.Flows.List(tx, q) })
}

// AllStages lists every stage, of every kind.
func AllStages(t testing.TB, tx *store.Tx) []stage.View {
	t.Helper()
	return AllPages(t, func(q store.Query) (store.Page[stage.View], error) { return store.Stages.List(tx, q) })
}

// AllBindings lists every binding.
func AllBindings(t testing.TB, tx *store.Tx) []binding.View {
	t.Helper()
	return AllPages(t, func(q store.Query) (store.Page[binding.View], error) { return store.Bindings.List(tx, q) })
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
// holds. Its checks are derived from the store's declared collections and
// references ([store.Store.Collections], [store.Store.References]), so a
// new collection or kind is checked without a change here:
//
//   - every collection lists each object once, as Get shows it, with the
//     pagination's count (its kinds' lists together hold the same objects,
//     each under its own kind);
//   - a unique field's value is held by one object, and finding the
//     object by it (its index) finds that object; a unique-together set
//     without a null is held by one object;
//   - every reference points at an object of its target, which lists the
//     source in its used_by (unless the reference hides itself), and
//     every used_by entry names an object that exists (a policy binding
//     model by the policybindingmodel_ptr_id an object carries);
//   - a flow's stages are its bindings' in (order, pk) order, and a
//     stage's flow_set has one entry per binding of it: the computed
//     fields of the one join collection.
func CheckInvariantsTx(t testing.TB, tx *store.Tx) {
	t.Helper()
	s := tx.Store()
	all := map[string][]object{}
	for _, c := range s.Collections() {
		objs := objects(t, tx, c.Model)
		all[c.Model] = objs
		checkListed(t, tx, c, objs)
		checkUnique(t, tx, c, objs)
	}
	for _, r := range s.References() {
		checkReference(t, tx, r, all)
	}
	// A used_by entry may name a policy binding model (what a policy is
	// bound to) by its own id, which an object of another collection
	// carries as policybindingmodel_ptr_id.
	pbms := map[string]bool{}
	for _, objs := range all {
		for _, o := range objs {
			var id string
			if json.Unmarshal(o.fields["policybindingmodel_ptr_id"], &id) == nil {
				pbms[id] = true
			}
		}
	}
	for model, objs := range all {
		for _, o := range objs {
			used, err := tx.UsedBy(model, o.pk)
			if err != nil {
				t.Errorf("UsedBy(%s, %s): %v", model, o.pk, err)
				continue
			}
			for _, u := range used {
				if u.App+"."+u.ModelName == store.ModelPolicyBindingModel {
					if !pbms[u.PK] {
						t.Errorf("%s %s: its used_by lists a policy binding model %s that no object is", model, o.pk, u.PK)
					}
					continue
				}
				id, err := uuid.Parse(u.PK)
				if err == nil {
					_, err = tx.Get(u.App+"."+u.ModelName, id)
				}
				if err != nil {
					t.Errorf("%s %s: its used_by lists %s.%s %s: %v", model, o.pk, u.App, u.ModelName, u.PK, err)
				}
			}
		}
	}
	checkFlowBindings(t, tx)
}

// object is one object as its collection's list shows it.
type object struct {
	pk     uuid.UUID
	model  string // its collection's model, or its kind's
	view   []byte
	fields map[string]json.RawMessage
}

// objects lists every object of model (a collection, or one kind).
func objects(t testing.TB, tx *store.Tx, model string) []object {
	t.Helper()
	var out []object
	for _, v := range AllPages(t, func(q store.Query) (store.Page[any], error) { return tx.List(model, q) }) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: marshalling a listed object: %v", model, err)
		}
		o := object{view: b}
		if err := json.Unmarshal(b, &o.fields); err != nil {
			t.Fatalf("%s: a listed object is not a JSON object: %v", model, err)
		}
		var pk string
		var num int64
		switch {
		case json.Unmarshal(o.fields["pk"], &pk) == nil:
			if o.pk, err = uuid.Parse(pk); err != nil {
				t.Fatalf("%s: a listed object's pk %q: %v", model, pk, err)
			}
		case json.Unmarshal(o.fields["pk"], &num) == nil:
			// A numbered pk (a sequence): the store names the record.
			if o.pk, err = tx.Lookup(model, store.By("pk", strconv.FormatInt(num, 10))); err != nil {
				t.Fatalf("%s: a listed object's pk %d: %v", model, num, err)
			}
		default:
			t.Fatalf("%s: a listed object has no pk: %s", model, b)
		}
		if o.model, err = tx.KindOf(model, o.pk); err != nil {
			t.Errorf("KindOf(%s, %s): %v", model, o.pk, err)
		}
		out = append(out, o)
	}
	return out
}

// checkListed: each object listed once, as Get shows it; the kinds' lists
// partition the collection's.
func checkListed(t testing.TB, tx *store.Tx, c store.Collection, objs []object) {
	t.Helper()
	seen := map[uuid.UUID]string{}
	for _, o := range objs {
		if _, dup := seen[o.pk]; dup {
			t.Errorf("%s: %s listed twice", c.Model, o.pk)
		}
		seen[o.pk] = o.model
		v, err := tx.Get(c.Model, o.pk)
		if err != nil {
			t.Errorf("Get(%s, %s) of a listed object: %v", c.Model, o.pk, err)
			continue
		}
		if b, err := json.Marshal(v); err != nil || !bytes.Equal(b, o.view) {
			t.Errorf("%s %s: Get shows\n%s\nthe list shows\n%s", c.Model, o.pk, b, o.view)
		}
	}
	if c.Kinds == nil {
		return
	}
	n := 0
	for _, k := range c.Kinds {
		for _, o := range objects(t, tx, k) {
			n++
			if m, ok := seen[o.pk]; !ok || m != k {
				t.Errorf("%s: the list of kind %s holds %s, whose kind is %q", c.Model, k, o.pk, m)
			}
		}
	}
	if n != len(objs) {
		t.Errorf("%s: the kinds' lists hold %d objects, the collection's %d", c.Model, n, len(objs))
	}
}

// checkUnique: unique values are held once, and found by their index.
func checkUnique(t testing.TB, tx *store.Tx, c store.Collection, objs []object) {
	t.Helper()
	for _, f := range c.Unique {
		held := map[string]uuid.UUID{}
		for _, o := range objs {
			raw := string(o.fields[f])
			if prev, dup := held[raw]; dup {
				t.Errorf("%s: %s %s is held by %s and %s", c.Model, f, raw, prev, o.pk)
			}
			held[raw] = o.pk
			var v any
			if err := json.Unmarshal(o.fields[f], &v); err != nil {
				t.Errorf("%s %s: %s: %v", c.Model, o.pk, f, err)
				continue
			}
			pk, ok, err := tx.Find(c.Model, map[string]any{f: v})
			if err != nil || !ok || pk != o.pk {
				t.Errorf("%s: finding %s %s = %s, %v, %v; want %s", c.Model, f, raw, pk, ok, err, o.pk)
			}
		}
	}
	if len(c.Together) == 0 {
		return
	}
	held := map[string]uuid.UUID{}
	for _, o := range objs {
		var key []string
		for _, f := range c.Together {
			v := string(o.fields[f])
			if v == "" || v == "null" {
				key = nil // Django leaves a set with a null out
				break
			}
			key = append(key, v)
		}
		if key == nil {
			continue
		}
		k := strings.Join(key, ",")
		if prev, dup := held[k]; dup {
			t.Errorf("%s: %v = %s is held by %s and %s", c.Model, c.Together, k, prev, o.pk)
		}
		held[k] = o.pk
	}
}

// storedField is field of o's stored record, for a field its
// representation does not show; ok is false when the record lacks it.
func storedField(tx *store.Tx, o object, field string) (json.RawMessage, bool) {
	b, err := tx.Stored(o.model, o.pk)
	if err != nil {
		return nil, false
	}
	var rec map[string]json.RawMessage
	if json.Unmarshal(b, &rec) != nil {
		return nil, false
	}
	raw, ok := rec[field]
	return raw, ok
}

// checkReference: every value of r (in the representation, or in the
// record when the representation does not show it) points at an object
// of its target, whose used_by lists the source unless r hides itself.
func checkReference(t testing.TB, tx *store.Tx, r store.Reference, all map[string][]object) {
	t.Helper()
	for _, objs := range all {
		for _, o := range objs {
			if o.model != r.Model { // a collection's model, or its kind's

				continue
			}
			raw, ok := o.fields[r.Field]
			if !ok {
				// A reference the representation does not show (an
				// invitation's created_by_user) is read from the record.
				raw, ok = storedField(tx, o, r.Field)
			}
			if !ok {
				t.Errorf("%s %s: reference field %s is neither shown nor stored", o.model, o.pk, r.Field)
				continue
			}
			var ids []uuid.UUID
			if r.Many {
				if err := json.Unmarshal(raw, &ids); err != nil {
					t.Errorf("%s %s: %s = %s: %v", o.model, o.pk, r.Field, raw, err)
				}
			} else if r.Numbered && string(raw) != "null" {
				// A reference by number: the store names the record.
				var num int64
				err := json.Unmarshal(raw, &num)
				var id uuid.UUID
				if err == nil {
					id, err = tx.Lookup(r.Target, store.By("pk", strconv.FormatInt(num, 10)))
				}
				if err != nil {
					t.Errorf("%s %s: %s = %s: %v", o.model, o.pk, r.Field, raw, err)
					continue
				}
				ids = append(ids, id)
			} else if string(raw) != "null" {
				var id uuid.UUID
				if err := json.Unmarshal(raw, &id); err != nil {
					t.Errorf("%s %s: %s = %s: %v", o.model, o.pk, r.Field, raw, err)
				}
				ids = append(ids, id)
			}
			for _, id := range ids {
				if _, err := tx.Get(r.Target, id); err != nil {
					t.Errorf("%s %s: %s points at %s %s: %v", o.model, o.pk, r.Field, r.Target, id, err)
					continue
				}
				if r.Related == "+" {
					continue
				}
				used, err := tx.UsedBy(r.Target, id)
				if err != nil {
					t.Errorf("UsedBy(%s, %s): %v", r.Target, id, err)
					continue
				}
				if !slices.ContainsFunc(used, func(u store.UsedBy) bool { return u.PK == o.pk.String() }) {
					t.Errorf("%s %s: its %s points at %s %s, whose used_by does not list it", o.model, o.pk, r.Field, r.Target, id)
				}
			}
		}
	}
}

// checkFlowBindings checks the computed fields of flows, stages and
// bindings against the bindings.
func checkFlowBindings(t testing.TB, tx *store.Tx) {
	t.Helper()
	flows := map[uuid.UUID]flow.View{}
	for _, f := range AllFlows(t, tx) {
		flows[f.PK] = f
	}
	stages := map[uuid.UUID]stage.View{}
	for _, st := range AllStages(t, tx) {
		stages[st.PK] = st
	}
	perStage := map[uuid.UUID]int{}
	all := AllBindings(t, tx)
	for _, b := range all {
		perStage[b.Stage]++
		if b.StageObj.PK != b.Stage {
			t.Errorf("binding %s: stage_obj is %s, stage is %s", b.PK, b.StageObj.PK, b.Stage)
		}
	}
	total := 0
	for id, f := range flows {
		fb, err := store.Bindings.ByRef(tx, "target", id)
		if err != nil {
			t.Errorf("Bindings.ByRef(target, %s): %v", id, err)
			continue
		}
		total += len(fb)
		wantStages := make([]uuid.UUID, 0, len(fb))
		for i, b := range fb {
			if b.Target != id {
				t.Errorf("Bindings.ByRef(target, %s) holds binding %s of flow %s", id, b.PK, b.Target)
			}
			if i > 0 && CompareBindings(fb[i-1], b) >= 0 {
				t.Errorf("Bindings.ByRef(target, %s) not in (order, pk) order at %d", id, i)
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
