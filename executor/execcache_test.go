package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
)

// twoDummies is a flow f of two dummy stages.
var twoDummies = flowDoc("f", "", dummy("f", "d1", 0, ""), dummy("f", "d2", 1, ""))

var dummyBody = json.RawMessage(`{"component":"ak-stage-dummy"}`)

// wantEnd checks that resp ends the flow with a redirect to to.
func wantEnd(t *testing.T, resp Response, err error, to string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	r, ok := resp.Challenge.(*Redirect)
	if resp.Reload || !ok {
		t.Fatalf("got %+v, want the flow's end", resp)
	}
	if r.To != to {
		t.Fatalf("the flow ends at %q, want %q", r.To, to)
	}
}

// Two executors (replicas) on one persistent RunState take turns in one
// execution: each sees the step the other saved, never the execution
// it decoded or saved itself before.
func TestExecCacheReplicas(t *testing.T) {
	h := newHarness(t, twoDummies)
	rs := NewStoreRunState(h.s, KVOptions{})
	var es [2]*Executor
	for i := range es {
		e, err := New(h.s, Options{RunState: rs})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		es[i] = e
	}
	ctx := context.Background()
	req := Request{Session: "s"}
	if resp, err := es[0].Get(ctx, "f", req); err != nil || resp.Challenge == nil {
		t.Fatal(resp, err)
	}
	// The other replica passes d1; the first now shows d2 and, answered,
	// ends the flow (with d1 taken from its own earlier step, it would
	// pass d1 again and ask for a reload).
	if resp, err := es[1].Submit(ctx, "f", req, dummyBody); err != nil || !resp.Reload {
		t.Fatal(resp, err)
	}
	if resp, err := es[0].Get(ctx, "f", req); err != nil || resp.Challenge == nil {
		t.Fatal(resp, err)
	}
	resp, err := es[0].Submit(ctx, "f", req, dummyBody)
	wantEnd(t, resp, err, "/")

	// And the other way round, the first replica having the newer step.
	req = Request{Session: "s2"}
	for _, e := range []*Executor{es[1], es[0]} {
		if resp, err := e.Get(ctx, "f", req); err != nil || resp.Challenge == nil {
			t.Fatal(resp, err)
		}
	}
	if resp, err := es[0].Submit(ctx, "f", req, dummyBody); err != nil || !resp.Reload {
		t.Fatal(resp, err)
	}
	resp, err = es[1].Submit(ctx, "f", req, dummyBody)
	wantEnd(t, resp, err, "/")
}

// alteringRunState changes what Load returns, keeping its version: a
// record changed behind the executor's back.
type alteringRunState struct {
	RunState
	alter func([]byte) []byte
}

func (a *alteringRunState) Load(ctx context.Context, ns Namespace, key string) (Record, error) {
	rec, err := a.RunState.Load(ctx, ns, key)
	if err == nil && ns == Executions && a.alter != nil {
		rec.Data = a.alter(rec.Data)
	}
	return rec, err
}

// A record whose bytes changed is decoded again, even under the version
// of the execution the executor decoded or saved before.
func TestExecCacheChangedBehindItsBack(t *testing.T) {
	ars := &alteringRunState{}
	h := newHarness(t, twoDummies, func(o *Options) { ars.RunState = o.RunState; o.RunState = ars })
	ctx := context.Background()
	req := Request{Session: "s"}
	if _, err := h.e.Get(ctx, "f", req); err != nil {
		t.Fatal(err)
	}
	ars.alter = func(b []byte) []byte {
		x, err := decodeExecution(b)
		if err != nil {
			t.Fatal(err)
		}
		x.Context["redirect"] = "/behind"
		out, err := x.encode()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if resp, err := h.e.Submit(ctx, "f", req, dummyBody); err != nil || !resp.Reload {
		t.Fatal(resp, err)
	}
	ars.alter = nil
	resp, err := h.e.Submit(ctx, "f", req, dummyBody)
	wantEnd(t, resp, err, "/behind")
}

// failingDummy is the dummy stage, except that a response with "fail"
// writes the context and then fails.
type failingDummy struct{ dummyHandler }

func (f failingDummy) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	var b struct{ Fail bool }
	_ = json.Unmarshal(body, &b)
	if b.Fail {
		s.Context["redirect"] = "/leaked"
		s.run.ex.Stages = s.run.ex.Stages[1:]
		return Result{}, errors.New("failing as asked")
	}
	return f.dummyHandler.Respond(ctx, s, body)
}

// A request that changed its execution and then failed saved nothing:
// the next request does not see its changes.
func TestExecCacheFailedStep(t *testing.T) {
	h := newHarness(t, twoDummies, func(o *Options) {
		o.Handlers = Builtin()
		o.Handlers[stage.ModelDummy] = failingDummy{}
	})
	ctx := context.Background()
	req := Request{Session: "s"}
	for range 2 {
		if _, err := h.e.Get(ctx, "f", req); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.e.Submit(ctx, "f", req, json.RawMessage(`{"component":"ak-stage-dummy","fail":true}`)); err == nil {
		t.Fatal("no error")
	}
	if resp, err := h.e.Submit(ctx, "f", req, dummyBody); err != nil || !resp.Reload {
		t.Fatal(resp, err)
	}
	resp, err := h.e.Submit(ctx, "f", req, dummyBody)
	wantEnd(t, resp, err, "/")
}

// An execution kept after a save is what decoding the saved record
// makes of it, whatever the types its context held.
func TestExecCacheSavedIsDecoded(t *testing.T) {
	type opaque struct{ A int }
	ctxs := []map[string]any{
		{},
		{"pending_user": map[string]any{"pk": int64(4), "attributes": map[string]any{}}, "n": 3, "l": []string{"a"}, "f": 1.5},
		{"s": opaque{A: 1}, "b": []byte("x"), "m": map[string]string{"a": "b"}, "u": uint8(3), "nil": map[string]any(nil)},
	}
	for i, ctxm := range ctxs {
		c := newExecCache(2)
		x := &execution{
			Flow: uuid.New(), Query: "next=%2F", Shown: "ak-stage-dummy", Context: ctxm,
			Stages: []plan.Stage{{Binding: uuid.New(), Stage: uuid.New(), Name: "a", Order: 3}, {Name: "redirect", Redirect: "/x", Marker: plan.MarkerReevaluate}},
		}
		data, ctxJSON, err := x.encodeParts()
		if err != nil {
			t.Fatal(err)
		}
		c.saved("k", 7, data, x, ctxJSON)
		got, err := c.take("k", Record{Version: 7, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		if got != x || got.from == nil {
			t.Fatalf("%d: the saved execution is not kept", i)
		}
		got.from = nil
		want, _ := decodeExecution(data)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%d: kept %#v, want %#v", i, got, want)
		}
	}
}

// The cache holds at most its bound, and hands its entry to the request
// that takes it, without a copy (nothing allocated, whatever the
// context): the entry leaves the cache, so that the request's changes
// never reach it, and the next request decodes the record.
func TestExecCacheBoundAndTake(t *testing.T) {
	c := newExecCache(2)
	var data []byte
	for _, k := range []string{"k1", "k2", "k3"} {
		x := &execution{Flow: uuid.New(), Context: map[string]any{"a": map[string]any{"b": "c"}}, Stages: []plan.Stage{{Name: "a"}}}
		var ctxJSON []byte
		data, ctxJSON, _ = x.encodeParts()
		c.saved(k, 1, data, x, ctxJSON)
	}
	if len(c.m) != 2 {
		t.Fatalf("%d entries, want 2", len(c.m))
	}
	k := "k3"
	rec := Record{Version: 1, Data: data}
	s := c.m[k]
	if n := testing.AllocsPerRun(20, func() {
		c.m[k] = s
		if x, err := c.take(k, rec); err != nil || x != s.x {
			t.Fatal("the entry is not handed out", err)
		}
	}); n != 0 {
		t.Errorf("taking an entry: %v allocations", n)
	}
	c.m[k] = s
	a, _ := c.take(k, rec)
	if c.m[k] != nil {
		t.Fatal("a taken entry stays in the cache")
	}
	a.Context["a"].(map[string]any)["b"] = "changed"
	a.Stages = slices.Insert(a.Stages, 0, plan.Stage{Name: "inserted"})
	a.Stages[1].Name = "changed"
	b, _ := c.take(k, rec)
	if b == a || b.Context["a"].(map[string]any)["b"] != "c" || len(b.Stages) != 1 || b.Stages[0].Name != "a" {
		t.Fatalf("a request's changes reached the next: %+v", b)
	}
}

// cacheWatch remembers the bytes of the records of the execCache's
// entries as first seen (which a MemRunState shares with them), so that
// a test can check that no later request modifies them, and that every
// entry in the cache is what decoding its bytes makes (a request takes
// its entry, and changes it, out of the cache).
type cacheWatch struct {
	e *Executor
	// seen are the records' bytes and a copy of them as first seen, by
	// their first byte's address (an entry is reused for the next record
	// it keeps).
	seen map[*byte][2][]byte
	// hist is the inspector's history as first seen, encoded.
	hist map[string][][]byte
}

// check fails t when the bytes of an entry's record seen before have
// changed, or when an entry in the cache is not what decoding its bytes
// makes; or when an execution of the inspector's history seen before
// has changed (its stages are shared with the request that kept it).
func (w *cacheWatch) check(t *testing.T) {
	t.Helper()
	if w.seen == nil {
		w.seen, w.hist = map[*byte][2][]byte{}, map[string][][]byte{}
	}
	w.e.hist.mu.Lock()
	for key, el := range w.e.hist.m {
		for i, p := range el.Value.(*histEntry).plans {
			x := &execution{Flow: p.flow, Stages: p.stages, Query: p.query, Shown: p.shown}
			b := x.encodeWith(p.ctxJSON)
			switch seen := w.hist[key]; {
			case i == len(seen):
				w.hist[key] = append(seen, b)
			case !bytes.Equal(seen[i], b):
				w.e.hist.mu.Unlock()
				t.Fatalf("a history entry changed after it was kept:\n%q\nwas\n%q", b, seen[i])
			}
		}
	}
	w.e.hist.mu.Unlock()
	w.e.execs.mu.Lock()
	in := maps.Clone(w.e.execs.m)
	w.e.execs.mu.Unlock()
	for _, s := range in {
		if _, ok := w.seen[&s.data[0]]; !ok {
			w.seen[&s.data[0]] = [2][]byte{s.data, bytes.Clone(s.data)}
		}
		x, err := decodeExecution(s.data)
		if err != nil {
			t.Fatal(err)
		}
		got := execution{Flow: s.x.Flow, Stages: s.x.Stages, Context: s.x.Context, Query: s.x.Query, Shown: s.x.Shown}
		want := execution{Flow: x.Flow, Stages: x.Stages, Context: x.Context, Query: x.Query, Shown: x.Shown}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("an entry is not its record's decoding:\n%+v\nwant\n%+v", got, want)
		}
	}
	for _, d := range w.seen {
		if !bytes.Equal(d[0], d[1]) {
			t.Fatalf("a record's bytes changed after they were saved:\n%q\nwas\n%q", d[0], d[1])
		}
	}
}

// Every execution the execCache holds is its record's decoding, and no
// request modifies the record bytes the MemRunState shares with it: through the shipped
// login (the password binding re-evaluated at the GET and the POST,
// the validation stage passing), and with a policy inserting a redirect
// into the stages the request shares with the entry, at the GET and the
// POST.
func TestExecCacheShared(t *testing.T) {
	t.Run("login", func(t *testing.T) {
		h := newHarness(t, "", withExpression)
		loadDefaults(t, h, false)
		h.userWith("alice", "alice@example.com", ptr("right"), true)
		w := &cacheWatch{e: h.e}
		const slug = "default-authentication-flow"
		h.get(slug, "").want(t, ComponentIdentification)
		w.check(t)
		h.post(slug, "", postJSON(map[string]any{"uid_field": "alice"}))
		w.check(t)
		h.get(slug, "").want(t, ComponentPassword)
		w.check(t)
		h.post(slug, "", postJSON(map[string]any{"component": ComponentPassword, "password": "wrong"})).want(t, ComponentPassword)
		w.check(t)
		h.post(slug, "", postJSON(map[string]any{"component": ComponentPassword, "password": "right"}))
		w.check(t)
		h.get(slug, "")
		w.check(t)
		if len(w.seen) < 5 || len(w.hist) != 1 {
			t.Fatalf("%d entries seen, %d histories", len(w.seen), len(w.hist))
		}
	})
	t.Run("redirect", func(t *testing.T) {
		h := newHarness(t, flowDoc("f", "", dummy("f", "d1", 0, "re_evaluate_policies: true"), dummy("f", "d2", 1, ""),
			policyOn("b-d1", "redirect", true)))
		w := &cacheWatch{e: h.e}
		h.get("f", "").want(t, ComponentDummy, "name", "d1")
		w.check(t)
		h.get("f", "").want(t, ComponentDummy, "name", "d1")
		w.check(t)
		h.post("f", "", "").wantReload(t, h.url("f", ""))
		w.check(t)
		h.get("f", "").want(t, ComponentRedirect, "to", "/elsewhere")
		w.check(t)
	})
}

// An entry keeps the execution of the request that saved it, not a
// copy: the context values (those of the entry the request took, and
// those its handlers put in, which are the executor's) made decoded
// JSON in place, where they are not so already. A context
// that encodes as the one loaded is kept as the bytes loaded, encoded
// without an allocation.
func TestExecCacheAdoptsContext(t *testing.T) {
	c := newExecCache(4)
	save := func(x *execution, version uint64) *savedExec {
		t.Helper()
		data, ctxJSON, err := x.encodeParts()
		if err != nil {
			t.Fatal(err)
		}
		c.saved("k", version, data, x, ctxJSON)
		s := c.m["k"]
		if s == nil || s.version != version {
			t.Fatalf("version %d not kept", version)
		}
		want, _ := decodeExecution(data)
		if !reflect.DeepEqual(s.x.Context, want.Context) {
			t.Fatalf("kept %v, want %v", s.x.Context, want.Context)
		}
		return s
	}
	same := func(a, b any) bool { return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer() }
	s1 := save(&execution{Flow: uuid.New(), Context: map[string]any{"u": map[string]any{"a": "b"}, "l": []any{1.0}}}, 1)
	x, err := c.take("k", Record{Version: 1, Data: s1.data})
	if err != nil {
		t.Fatal(err)
	}
	put := map[string]any{"w": "z"}
	ints := map[string]any{"n": 1, "m": map[string]any{"o": "p"}}
	x.Context["put"], x.Context["ints"] = put, ints
	u := x.Context["u"]
	s2 := save(x, 2)
	if !same(s2.x.Context, x.Context) || !same(s2.x.Context["u"], u) || !same(s2.x.Context["put"], put) {
		t.Error("the request's context, or a value decoded already, was copied")
	}
	if got := s2.x.Context["ints"].(map[string]any); !same(got, ints) || got["n"] != 1.0 {
		t.Errorf("a value with an int: kept %#v, not the handler's made decoded in place", got)
	}
	// Unchanged: the entry's context and bytes.
	if x, err = c.take("k", Record{Version: 2, Data: s2.data}); err != nil {
		t.Fatal(err)
	}
	if x != s2.x {
		t.Fatal("the entry is not handed out")
	}
	if n := testing.AllocsPerRun(20, func() {
		if b, err := x.contextJSON(); err != nil || !same(b, s2.ctxJSON) {
			t.Fatal("an unchanged context is encoded anew", err)
		}
	}); n != 0 {
		t.Errorf("encoding an unchanged context: %v allocations", n)
	}
	if s3 := save(x, 3); !same(s3.x.Context, s2.x.Context) || !same(s3.ctxJSON, s2.ctxJSON) {
		t.Error("an unchanged context is not the entry's")
	}
	// Keeping an execution whose context is decoded already allocates
	// nothing but the entry.
	big := map[string]any{}
	for i := range 50 {
		big[strconv.Itoa(i)] = map[string]any{"pk": float64(i), "l": []any{"x", true, nil}}
	}
	for _, ctxm := range []map[string]any{{"a": "b"}, big} {
		x := &execution{Flow: uuid.New(), Context: ctxm}
		data, ctxJSON, _ := x.encodeParts()
		if n := testing.AllocsPerRun(20, func() { c.saved("k", 4, data, x, ctxJSON) }); n > 1 {
			t.Errorf("keeping a context of %d values: %v allocations", len(ctxm), n)
		}
	}
}

// A key's history starts with room for a login's passes: the three
// allocate the key's entry, its list element and its plans once.
func TestHistoryAddAllocs(t *testing.T) {
	h := newHistory()
	x := &execution{Context: map[string]any{}}
	ctxJSON := []byte("{}")
	i := 0
	if n := testing.AllocsPerRun(50, func() {
		i++
		key := histTestKeys[i%len(histTestKeys)]
		h.clear(key)
		for range 3 {
			h.add(key, x, ctxJSON)
		}
	}); n > 3 {
		t.Errorf("%v allocations", n)
	}
}

var histTestKeys = []string{"a", "b", "c"}

// A step of an execution kept decoded (its entry taken, its context
// encoded, its record saved in a MemRunState, the entry kept again)
// allocates its record's bytes alone: the entry and the MemRunState's
// record of the execution are reused, and a context that changed is
// encoded once, into the record, the entry's encoding of it being that
// part of the record.
func TestStepSaveAllocs(t *testing.T) {
	for _, changed := range []bool{false, true} {
		c := newExecCache(4)
		m := NewMemRunState(MemOptions{})
		ctx := context.Background()
		x := &execution{Flow: uuid.New(), Context: map[string]any{"u": map[string]any{"pk": 4.0}, "t": true}, Stages: []plan.Stage{{Name: "a"}}}
		data, ctxJSON, _ := x.encodeParts()
		v, err := m.saveShared(ctx, Executions, "k", Record{Data: data, Expires: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		c.saved("k", v, data, x, ctxJSON)
		flip := true
		step := func() {
			rec, err := m.loadShared(ctx, Executions, "k")
			if err != nil {
				t.Fatal(err)
			}
			x, err := c.take("k", rec)
			if err != nil {
				t.Fatal(err)
			}
			if changed {
				flip = !flip
				x.Context["t"] = flip
			}
			data, ctxJSON, err := x.encodeParts()
			if err != nil {
				t.Fatal(err)
			}
			if changed && &data[len(data)-len(ctxJSON)] != &ctxJSON[0] {
				t.Fatal("the context's encoding is not a part of the record")
			}
			rec.Data, rec.Expires = data, rec.Expires.Add(time.Second)
			if rec.Version, err = m.saveShared(ctx, Executions, "k", rec); err != nil {
				t.Fatal(err)
			}
			c.saved("k", rec.Version, data, x, ctxJSON)
		}
		step()
		if n := testing.AllocsPerRun(50, step); n > 1 {
			t.Errorf("changed %v: %v allocations, want the record's bytes alone", changed, n)
		}
	}
}

// A context unchanged since it was loaded is checked against the bytes
// it was loaded as, not encoded, and kept as those bytes; one that
// encodes the same but is not what decoding makes of it (an int for a
// float64) is kept as those bytes too. A context that changed is made,
// as it is encoded, what decoding makes of it, in place, and its save
// does not walk it again (ctxDecoded); one that cannot be so (a string
// not UTF-8) is kept as decoded from its encoding.
func TestExecCacheKeepsDecodedContext(t *testing.T) {
	c := newExecCache(4)
	x := &execution{Flow: uuid.New(), Context: map[string]any{"u": map[string]any{"pk": 4.0, "name": "<a>"}, "l": []any{"x"}}}
	data, ctxJSON, err := x.encodeParts()
	if err != nil {
		t.Fatal(err)
	}
	c.saved("k", 1, data, x, ctxJSON)
	for _, change := range []struct {
		name            string
		f               func(map[string]any)
		loaded, decoded bool
	}{
		{"none", func(map[string]any) {}, true, true},
		{"an int", func(m map[string]any) { m["u"].(map[string]any)["pk"] = 4 }, true, true},
		{"a value", func(m map[string]any) { m["u"].(map[string]any)["name"] = "b" }, false, true},
		{"a key", func(m map[string]any) { m["v"] = "w" }, false, true},
		{"a []string", func(m map[string]any) { m["v"] = []string{"w"} }, false, true},
		{"an int64 in a new map", func(m map[string]any) { m["v"] = map[string]any{"pk": int64(1)} }, false, true},
		{"a string not UTF-8", func(m map[string]any) { m["v"] = "\xff" }, false, false},
		{"a key removed", func(m map[string]any) { delete(m, "v") }, false, true},
	} {
		s := c.m["k"]
		x, err := c.take("k", Record{Version: s.version, Data: s.data})
		if err != nil {
			t.Fatal(err)
		}
		change.f(x.Context)
		loaded := s.ctxJSON
		data, ctxJSON, err := x.encodeParts()
		if err != nil {
			t.Fatal(err)
		}
		if x.ctxDecoded != change.decoded {
			t.Errorf("%s: decoded %v", change.name, x.ctxDecoded)
		}
		if want, _ := decodeExecution(data); change.decoded && !reflect.DeepEqual(x.Context, want.Context) {
			t.Errorf("%s: encoded, the context is %#v, want %#v", change.name, x.Context, want.Context)
		}
		if enc, _ := json.Marshal(x.Context); !bytes.Equal(ctxJSON, enc) {
			t.Fatalf("%s: encoded %s, want %s", change.name, ctxJSON, enc)
		}
		if got := &ctxJSON[0] == &loaded[0]; got != change.loaded {
			t.Errorf("%s: the loaded bytes kept: %v", change.name, got)
		}
		c.saved("k", s.version+1, data, x, ctxJSON)
		want, _ := decodeExecution(data)
		if got := c.m["k"].x.Context; !reflect.DeepEqual(got, want.Context) {
			t.Fatalf("%s: kept %#v, want %#v", change.name, got, want.Context)
		}
	}
}

// An empty context's encoding is shared: encoding an execution with one
// allocates its record alone.
func TestEmptyContextAllocs(t *testing.T) {
	x := &execution{Flow: uuid.New(), Context: map[string]any{}, Stages: []plan.Stage{{Name: "a"}}}
	if n := testing.AllocsPerRun(50, func() {
		if _, ctxJSON, err := x.encodeParts(); err != nil || string(ctxJSON) != "{}" || cap(ctxJSON) != 2 {
			t.Fatal(string(ctxJSON), err)
		}
	}); n != 1 {
		t.Errorf("%v allocations, want the record's alone", n)
	}
}

// The inspector's history entry of a pass that is saved shares the
// record's bytes: its context's encoding is a part of them.
func TestHistorySharesRecord(t *testing.T) {
	h, _ := loginHarness(t)
	ctx := context.Background()
	req := Request{Session: "s"}
	if _, err := h.e.Get(ctx, "default-authentication-flow", req); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.Submit(ctx, "default-authentication-flow", req, goLoginBodies[1]); err != nil {
		t.Fatal(err)
	}
	h.e.hist.mu.Lock()
	defer h.e.hist.mu.Unlock()
	h.rs.mu.Lock()
	defer h.rs.mu.Unlock()
	for k, el := range h.e.hist.m {
		plans := el.Value.(*histEntry).plans
		p := plans[len(plans)-1].ctxJSON
		r := h.rs.recs[memKey{Executions, k}]
		if r == nil || len(p) < 3 || &r.data[len(r.data)-len(p)] != &p[0] {
			t.Fatalf("the history's context %q is not a part of the record", p)
		}
		return
	}
	t.Fatal("no history")
}
