package expression

import (
	"reflect"
	"testing"

	"go.starlark.net/starlark"
)

// TestLazyContextDicts: the dicts a lazy context makes when Go code
// needs them hold the values already given (the same Starlark values),
// in the plan context's key order, request.context's with flow_plan in
// place of the plan context's own; from then on lookups read the dicts;
// and Go code converting a view (fromValue, an event's sanitizer) gets
// what it would of the dict.
func TestLazyContextDicts(t *testing.T) {
	m := map[string]any{"b": []any{1.0}, "flow_plan": "own", "a": map[string]any{"x": "y"}, "pending_user": map[string]any{"pk": 1.0}}
	var (
		h  host
		lc = &h.lazy
	)
	h.flow = flowPlan{lazy: lc}
	lc.init(m, &h.flow, true)
	b, found, err := lc.req.Get(starlark.String("b"))
	if err != nil || !found {
		t.Fatal(b, found, err)
	}
	pu, _, _ := lc.planView.Get(starlark.String("pending_user"))
	if fp, _, _ := lc.req.Get(starlark.String("flow_plan")); fp != &h.flow {
		t.Errorf("request.context's flow_plan is %v", fp)
	}
	if own, _, _ := lc.planView.Get(starlark.String("flow_plan")); own != starlark.String("own") {
		t.Errorf("the plan context's flow_plan is %v", own)
	}
	p, c, err := lc.dicts()
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Keys(); !reflect.DeepEqual(got, []starlark.Value{starlark.String("a"), starlark.String("b"), starlark.String("flow_plan"), starlark.String("pending_user")}) {
		t.Errorf("plan context's keys %v", got)
	}
	if got := c.Keys(); !reflect.DeepEqual(got, p.Keys()) {
		t.Errorf("request.context's keys %v", got)
	}
	for _, d := range []*starlark.Dict{p, c} {
		if v, _, _ := d.Get(starlark.String("b")); v != b {
			t.Errorf("b is not the value given: %v", v)
		}
		if v, _, _ := d.Get(starlark.String("pending_user")); v != pu {
			t.Errorf("pending_user is not the value given: %v", v)
		}
	}
	if v, _, _ := c.Get(starlark.String("flow_plan")); v != &h.flow {
		t.Errorf("request.context's flow_plan in the dict is %v", v)
	}
	// Lookups read the dicts now.
	_ = p.SetKey(starlark.String("new"), starlark.True)
	if v, found, _ := lc.planView.Get(starlark.String("new")); v != starlark.True || !found {
		t.Errorf("a lookup after the dicts are made: %v %v", v, found)
	}
	budget := 100
	got, err := fromValue(&lc.req, 0, &budget)
	budget = 100
	want, err2 := fromValue(c, 0, &budget)
	if err == nil || err2 == nil || err.Error() != err2.Error() {
		t.Errorf("fromValue of request.context: %v %v, of its dict %v %v", got, err, want, err2)
	}
	budget = 100
	got, err = fromValue(&lc.planView, 0, &budget)
	budget = 100
	want, err2 = fromValue(p, 0, &budget)
	if err != nil || err2 != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("fromValue of the plan context: %v %v, of its dict %v %v", got, err, want, err2)
	}
	s1, s2 := sanitizer{budget: 100}, sanitizer{budget: 100}
	x, _, err := s1.item(&lc.req, 0)
	y, _, err2 := s2.item(c, 0)
	if err != nil || err2 != nil || !reflect.DeepEqual(x, y) {
		t.Errorf("an event's request.context: %v %v, of its dict %v %v", x, err, y, err2)
	}
}
