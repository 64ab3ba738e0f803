package store_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

func TestBindingCRUD(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	g := mkFlow(t, s, "g")
	uw := mkUserWrite(t, s, "uw")
	duo := mkDuo(t, s, "duo", nil)

	typed, err := createIn(ctx, s, store.Bindings, binding.New(f.PK, uw.PK, 10))
	if err != nil {
		t.Fatal(err)
	}
	if typed.PK == uuid.Nil || typed.PolicyBindingModelPtrID == uuid.Nil || typed.PK == typed.PolicyBindingModelPtrID {
		t.Errorf("ids: %s %s", typed.PK, typed.PolicyBindingModelPtrID)
	}
	if typed.EvaluateOnPlan || !typed.ReEvaluatePolicies || typed.InvalidResponseAction != binding.InvalidResponseRetry || typed.PolicyEngineMode != flow.PolicyEngineModeAny {
		t.Errorf("defaults: %+v", typed.Binding)
	}
	m := jsonMap(t, typed)
	so, ok := m["stage_obj"].(map[string]any)
	if !ok {
		t.Fatalf("stage_obj = %v", m["stage_obj"])
	}
	if so["pk"] != uw.PK.String() || so["name"] != "uw" || so["component"] != "ak-stage-user-write-form" {
		t.Errorf("stage_obj = %v", so)
	}
	if _, ok := so["user_type"]; ok {
		t.Errorf("stage_obj has the kind's fields: %v", so)
	}
	if fs, _ := so["flow_set"].([]any); len(fs) != 1 {
		t.Errorf("stage_obj flow_set = %v, want the flow", so["flow_set"])
	}

	fromJSON, err := createJSONIn(ctx, s, store.Bindings, []byte(fmt.Sprintf(
		`{"target":%q,"stage":%q,"order":"-5","evaluate_on_plan":"on","re_evaluate_policies":false,"invalid_response_action":"restart","stage_obj":{"x":1},"pk":"y"}`,
		f.PK, duo.PK)))
	if err != nil {
		t.Fatal(err)
	}
	if fromJSON.Order != -5 || !fromJSON.EvaluateOnPlan || fromJSON.ReEvaluatePolicies || fromJSON.InvalidResponseAction != binding.InvalidResponseRestart {
		t.Errorf("JSON create: %+v", fromJSON.Binding)
	}
	got, err := viewIn(ctx, s, store.Bindings, store.PK(fromJSON.PK))
	if err != nil {
		t.Fatal(err)
	}
	if jsonOf(t, got) != jsonOf(t, fromJSON) {
		t.Errorf("GetBinding = %s\ncreate gave %s", jsonOf(t, got), jsonOf(t, fromJSON))
	}
	fv, _ := viewIn(ctx, s, store.Flows, store.PK(f.PK))
	if !equalIDs(fv.Stages, []uuid.UUID{duo.PK, uw.PK}) {
		t.Errorf("flow stages = %v", fv.Stages)
	}

	// Move the binding to another flow and order.
	moved, err := patchIn(ctx, s, store.Bindings, store.PK(typed.PK), []byte(fmt.Sprintf(`{"target":%q,"order":1}`, g.PK)))
	if err != nil {
		t.Fatal(err)
	}
	if moved.Target != g.PK || moved.Order != 1 || moved.Stage != uw.PK {
		t.Errorf("moved: %+v", moved.Binding)
	}
	fv, _ = viewIn(ctx, s, store.Flows, store.PK(f.PK))
	gv, _ := viewIn(ctx, s, store.Flows, store.PK(g.PK))
	if !equalIDs(fv.Stages, []uuid.UUID{duo.PK}) || !equalIDs(gv.Stages, []uuid.UUID{uw.PK}) {
		t.Errorf("after the move: f stages %v, g stages %v", fv.Stages, gv.Stages)
	}
	checkInvariants(t, s)

	if err := deleteIn(ctx, s, store.Bindings, store.PK(typed.PK)); err != nil {
		t.Fatal(err)
	}
	_, err = viewIn(ctx, s, store.Bindings, store.PK(typed.PK))
	wantNotFound(t, err)
	wantNotFound(t, deleteIn(ctx, s, store.Bindings, store.PK(typed.PK)))
	_, err = patchIn(ctx, s, store.Bindings, store.PK(typed.PK), []byte(`{}`))
	wantNotFound(t, err)
	_, err = replaceIn(ctx, s, store.Bindings, store.PK(typed.PK), []byte(`{}`))
	wantNotFound(t, err)
	gv, _ = viewIn(ctx, s, store.Flows, store.PK(g.PK))
	if len(gv.Stages) != 0 {
		t.Errorf("g stages after delete = %v", gv.Stages)
	}
	if st, _ := viewIn(ctx, s, store.Stages, store.PK(uw.PK)); len(st.FlowSet) != 0 {
		t.Errorf("uw flow_set after delete = %s", jsonOf(t, st.FlowSet))
	}
	// Deleting a binding deletes neither its flow nor its stage.
	if _, err := viewIn(ctx, s, store.Stages, store.PK(uw.PK)); err != nil {
		t.Error(err)
	}
	if _, err := viewIn(ctx, s, store.Flows, store.PK(g.PK)); err != nil {
		t.Error(err)
	}
}

func TestCreateBindingRejected(t *testing.T) {
	s := newTestStore(t)
	f := mkFlow(t, s, "f")
	st := mkUserWrite(t, s, "st")
	missing := storetest.MissingPK(0)
	body := func(target, stg uuid.UUID, rest string) string {
		return fmt.Sprintf(`{"target":%q,"stage":%q%s}`, target, stg, rest)
	}
	tests := []struct {
		name     string
		body     string
		fields   map[string][]string
		nonField []string
	}{
		{"empty", `{}`, map[string][]string{
			"target": {validate.MsgRequired}, "stage": {validate.MsgRequired}, "order": {validate.MsgRequired}}, nil},
		{"missing target and bad order together", body(missing, st.PK, `,"order":"x"`), map[string][]string{
			"target": {validate.DoesNotExist(missing.String())}, "order": {validate.MsgInteger}}, nil},
		{"missing stage", body(f.PK, missing, `,"order":1`), map[string][]string{
			"stage": {validate.DoesNotExist(missing.String())}}, nil},
		{"stage pk is a flow pk", body(f.PK, f.PK, `,"order":1`), map[string][]string{
			"stage": {validate.DoesNotExist(f.PK.String())}}, nil},
		{"target pk is a stage pk", body(st.PK, st.PK, `,"order":1`), map[string][]string{
			"target": {validate.DoesNotExist(st.PK.String())}}, nil},
		{"nil target", body(uuid.Nil, st.PK, `,"order":1`), map[string][]string{
			"target": {validate.DoesNotExist(uuid.Nil.String())}}, nil},
		{"order too large", body(f.PK, st.PK, `,"order":2147483648`), map[string][]string{
			"order": {validate.MaxValue(2147483647)}}, nil},
		{"order too small", body(f.PK, st.PK, `,"order":"-2147483649"`), map[string][]string{
			"order": {validate.MinValue(-2147483648)}}, nil},
		{"order fraction", body(f.PK, st.PK, `,"order":1.5`), map[string][]string{"order": {validate.MsgInteger}}, nil},
		{"order huge", body(f.PK, st.PK, `,"order":1e400`), map[string][]string{"order": {validate.MsgInteger}}, nil},
		{"bad references", `{"target":"nope","stage":true,"order":null}`, map[string][]string{
			"target": {validate.InvalidUUID("nope")}, "stage": {validate.MsgPKBool}, "order": {validate.MsgNull}}, nil},
		{"bad choices", body(f.PK, st.PK, `,"order":1,"invalid_response_action":"ignore","policy_engine_mode":"most"`), map[string][]string{
			"invalid_response_action": {validate.InvalidChoice("ignore")}, "policy_engine_mode": {validate.InvalidChoice("most")}}, nil},
		{"cross-field rule", body(f.PK, st.PK, `,"order":1,"evaluate_on_plan":false,"re_evaluate_policies":false`), nil,
			[]string{binding.MsgNoEvaluation}},
		{"cross-field rule not run on field errors", body(missing, st.PK, `,"order":1,"evaluate_on_plan":false,"re_evaluate_policies":false`),
			map[string][]string{"target": {validate.DoesNotExist(missing.String())}}, nil},
		{"unknown key", body(f.PK, st.PK, `,"order":1,"flow":"x"`), map[string][]string{"flow": {validate.MsgUnknownField}}, nil},
		{"list", `[1]`, nil, []string{"Invalid data. Expected a dictionary, but got list."}},
		{"bool", `true`, nil, []string{"Invalid data. Expected a dictionary, but got bool."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wantUnchanged(t, s, func() error {
				_, err := createJSONIn(t.Context(), s, store.Bindings, []byte(tt.body))
				return err
			})
			testutil.WantInvalid(t, err, tt.fields, tt.nonField...)
		})
	}
	t.Run("typed", func(t *testing.T) {
		b := binding.New(missing, st.PK, 1)
		b.ReEvaluatePolicies = false
		err := wantUnchanged(t, s, func() error { _, err := createIn(t.Context(), s, store.Bindings, b); return err })
		testutil.WantInvalid(t, err, map[string][]string{"target": {validate.DoesNotExist(missing.String())}})
		b.Target = f.PK
		err = wantUnchanged(t, s, func() error { _, err := createIn(t.Context(), s, store.Bindings, b); return err })
		testutil.WantInvalid(t, err, nil, binding.MsgNoEvaluation)
	})
}

func TestBindingUniqueTogether(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	g := mkFlow(t, s, "g")
	s1 := mkUserWrite(t, s, "s1")
	s2 := mkInvitation(t, s, "s2")
	unique := "The fields target, stage, order must make a unique set."

	first := mkBinding(t, s, f.PK, s1.PK, 10)
	err := wantUnchanged(t, s, func() error { _, err := createIn(ctx, s, store.Bindings, binding.New(f.PK, s1.PK, 10)); return err })
	wantConflict(t, err, nil, unique)

	// Unique-together runs before the cross-field rule.
	dup := binding.New(f.PK, s1.PK, 10)
	dup.ReEvaluatePolicies = false
	_, err = createIn(ctx, s, store.Bindings, dup)
	wantConflict(t, err, nil, unique)

	// Two stages may share an order; one stage may be bound at two orders
	// and into two flows.
	sameOrder := mkBinding(t, s, f.PK, s2.PK, 10)
	second := mkBinding(t, s, f.PK, s1.PK, 20)
	mkBinding(t, s, g.PK, s1.PK, 10)
	fv, _ := viewIn(ctx, s, store.Flows, store.PK(f.PK))
	if want := []uuid.UUID{s1.PK, s2.PK, s1.PK}; !equalIDs(fv.Stages, want) {
		t.Errorf("stages = %v, want %v (a stage bound twice appears twice)", fv.Stages, want)
	}
	if st, _ := viewIn(ctx, s, store.Stages, store.PK(s1.PK)); len(st.FlowSet) != 3 {
		t.Errorf("s1 flow_set has %d entries, want one per binding (3)", len(st.FlowSet))
	}

	// Writes that would make a duplicate.
	for name, write := range map[string]func() error{
		"patch order": func() error {
			_, err := patchIn(ctx, s, store.Bindings, store.PK(second.PK), []byte(`{"order":10}`))
			return err
		},
		"patch stage": func() error {
			_, err := patchIn(ctx, s, store.Bindings, store.PK(sameOrder.PK), []byte(fmt.Sprintf(`{"stage":%q}`, s1.PK)))
			return err
		},
		"replace": func() error {
			_, err := replaceIn(ctx, s, store.Bindings, store.PK(second.PK), []byte(fmt.Sprintf(`{"target":%q,"stage":%q,"order":"10"}`, f.PK, s1.PK)))
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := wantUnchanged(t, s, write)
			wantConflict(t, err, nil, unique)
		})
	}

	// A binding does not clash with itself.
	if _, err := patchIn(ctx, s, store.Bindings, store.PK(first.PK), []byte(`{"order":10,"evaluate_on_plan":true}`)); err != nil {
		t.Errorf("re-saving a binding: %v", err)
	}
	// Moving away frees the triple.
	if _, err := patchIn(ctx, s, store.Bindings, store.PK(first.PK), []byte(`{"order":11}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := patchIn(ctx, s, store.Bindings, store.PK(second.PK), []byte(`{"order":10}`)); err != nil {
		t.Errorf("the freed triple: %v", err)
	}
	checkInvariants(t, s)
}

func TestPatchBinding(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	st := mkUserWrite(t, s, "st")
	b := mkBinding(t, s, f.PK, st.PK, 1)
	missing := storetest.MissingPK(0)

	// The cross-field rule is judged on the merged object.
	if _, err := patchIn(ctx, s, store.Bindings, store.PK(b.PK), []byte(`{"evaluate_on_plan":true}`)); err != nil {
		t.Fatal(err)
	}
	v, err := patchIn(ctx, s, store.Bindings, store.PK(b.PK), []byte(`{"re_evaluate_policies":false}`))
	if err != nil {
		t.Fatalf("patch leaving evaluate_on_plan on: %v", err)
	}
	if !v.EvaluateOnPlan || v.ReEvaluatePolicies {
		t.Errorf("patched: %+v", v.Binding)
	}
	err = wantUnchanged(t, s, func() error {
		_, err := patchIn(ctx, s, store.Bindings, store.PK(b.PK), []byte(`{"evaluate_on_plan":false}`))
		return err
	})
	testutil.WantInvalid(t, err, nil, binding.MsgNoEvaluation)

	rejected := []struct {
		name   string
		patch  string
		fields map[string][]string
	}{
		{"null target", `{"target":null}`, map[string][]string{"target": {validate.MsgNull}}},
		{"empty target", `{"target":""}`, map[string][]string{"target": {validate.MsgNull}}},
		{"missing target and bad order", fmt.Sprintf(`{"target":%q,"order":[]}`, missing), map[string][]string{
			"target": {validate.DoesNotExist(missing.String())}, "order": {validate.MsgInteger}}},
		{"field error hides the cross-field rule", `{"evaluate_on_plan":false,"order":"x"}`, map[string][]string{"order": {validate.MsgInteger}}},
		{"unknown", `{"Order":1}`, map[string][]string{"Order": {validate.MsgUnknownField}}},
	}
	for _, tt := range rejected {
		t.Run(tt.name, func(t *testing.T) {
			err := wantUnchanged(t, s, func() error { _, err := patchIn(ctx, s, store.Bindings, store.PK(b.PK), []byte(tt.patch)); return err })
			testutil.WantInvalid(t, err, tt.fields)
		})
	}

	t.Run("read-only keys and GET round trip", func(t *testing.T) {
		before, _ := viewIn(ctx, s, store.Bindings, store.PK(b.PK))
		v, err := patchIn(ctx, s, store.Bindings, store.PK(b.PK), []byte(jsonOf(t, before)))
		if err != nil {
			t.Fatal(err)
		}
		if jsonOf(t, v) != jsonOf(t, before) {
			t.Errorf("PATCH of the GET body changed the binding:\n%s\n%s", jsonOf(t, v), jsonOf(t, before))
		}
		v, err = replaceIn(ctx, s, store.Bindings, store.PK(b.PK), []byte(jsonOf(t, before)))
		if err != nil {
			t.Fatal(err)
		}
		if jsonOf(t, v) != jsonOf(t, before) {
			t.Errorf("PUT of the GET body changed the binding")
		}
	})

	t.Run("replace keeps omitted optional fields", func(t *testing.T) {
		if _, err := patchIn(ctx, s, store.Bindings, store.PK(b.PK), []byte(`{"invalid_response_action":"restart_with_context","policy_engine_mode":"all"}`)); err != nil {
			t.Fatal(err)
		}
		err := wantUnchanged(t, s, func() error {
			_, err := replaceIn(ctx, s, store.Bindings, store.PK(b.PK), []byte(`{"order":5}`))
			return err
		})
		testutil.WantInvalid(t, err, map[string][]string{"target": {validate.MsgRequired}, "stage": {validate.MsgRequired}})
		v, err := replaceIn(ctx, s, store.Bindings, store.PK(b.PK), []byte(fmt.Sprintf(`{"target":%q,"stage":%q,"order":5}`, f.PK, st.PK)))
		if err != nil {
			t.Fatal(err)
		}
		if v.Order != 5 || v.InvalidResponseAction != binding.InvalidResponseRestartWithContext ||
			v.PolicyEngineMode != flow.PolicyEngineModeAll || !v.EvaluateOnPlan || v.ReEvaluatePolicies {
			t.Errorf("replaced: %+v", v.Binding)
		}
	})
}

// Bindings come back in order, then pk, whatever the creation order;
// ids here are made in decreasing order, so pk order is the reverse of
// creation order.
func TestBindingOrder(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "order.db"), &store.Options{NewID: storetest.CounterIDs(1<<40, -1)})
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	other := mkFlow(t, s, "other")
	var stages []uuid.UUID
	for i := range 4 {
		stages = append(stages, mkUserWrite(t, s, fmt.Sprintf("s%d", i)).PK)
	}
	created := []orderSpec{{0, 30}, {1, -5}, {2, 10}, {3, 10}, {0, 0}, {1, -2147483648}, {2, 2147483647}, {1, 10}, {3, -1}}
	byPK := map[uuid.UUID]orderSpec{}
	var pks []uuid.UUID
	for _, c := range created {
		v := mkBinding(t, s, f.PK, stages[c.stage], c.order)
		byPK[v.PK] = c
		pks = append(pks, v.PK)
		mkBinding(t, s, other.PK, stages[c.stage], c.order) // noise in another flow
	}
	want := slices.Clone(pks)
	slices.SortFunc(want, func(a, b uuid.UUID) int {
		if byPK[a].order != byPK[b].order {
			if byPK[a].order < byPK[b].order {
				return -1
			}
			return 1
		}
		return bytes.Compare(a[:], b[:])
	})
	// The three bindings at order 10 were created s2, s3, s1; decreasing
	// ids put them s1, s3, s2.
	var at10 []int
	for _, id := range want {
		if byPK[id].order == 10 {
			at10 = append(at10, byPK[id].stage)
		}
	}
	if !slices.Equal(at10, []int{1, 3, 2}) {
		t.Fatalf("test setup: order-10 ties sort as %v", at10)
	}

	fb, err := flowBindingsIn(ctx, s, f.PK)
	if err != nil {
		t.Fatal(err)
	}
	var got []uuid.UUID
	for _, b := range fb {
		got = append(got, b.PK)
	}
	if !equalIDs(got, want) {
		t.Errorf("FlowBindings order:\n got %v\nwant %v", orders(byPK, got), orders(byPK, want))
	}

	page, err := listIn(ctx, s, store.Bindings, store.Query{Filters: map[string]string{"target": f.PK.String()}})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, b := range page.Results {
		got = append(got, b.PK)
	}
	if !equalIDs(got, want) {
		t.Errorf("ListBindings(target) order:\n got %v\nwant %v", orders(byPK, got), orders(byPK, want))
	}

	fv, _ := viewIn(ctx, s, store.Flows, store.PK(f.PK))
	var wantStages []uuid.UUID
	for _, id := range want {
		wantStages = append(wantStages, stages[byPK[id].stage])
	}
	if !equalIDs(fv.Stages, wantStages) {
		t.Errorf("flow stages = %v, want %v", fv.Stages, wantStages)
	}

	// Moving a binding moves it in the order.
	last := want[len(want)-1]
	if _, err := patchIn(ctx, s, store.Bindings, store.PK(last), []byte(`{"order":-2147483648,"evaluate_on_plan":true}`)); err != nil {
		t.Fatal(err)
	}
	fb, _ = flowBindingsIn(ctx, s, f.PK)
	first := []uuid.UUID{want[0], last}
	slices.SortFunc(first, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	if fb[0].PK != first[0] || fb[1].PK != first[1] || len(fb) != len(want) {
		t.Errorf("after moving to the lowest order: first two %s %s, want %s %s", fb[0].PK, fb[1].PK, first[0], first[1])
	}
	checkInvariants(t, s)
}

type orderSpec struct {
	stage int
	order int32
}

func orders(byPK map[uuid.UUID]orderSpec, ids []uuid.UUID) string {
	var out []string
	for _, id := range ids {
		out = append(out, fmt.Sprintf("%d/s%d", byPK[id].order, byPK[id].stage))
	}
	b, _ := json.Marshal(out)
	return string(b)
}
