package store

import (
	"bytes"
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
)

// byFlowKey is the bindings_by_flow key the engine derives for a binding.
func byFlowKey(flow uuid.UUID, order int32, id uuid.UUID) []byte {
	return indexKey("bindings", "bindings_by_flow", binding.Binding{PK: id, Target: flow, Order: order})
}

// pairKey is the bindings_by_stage key of a binding of stage a with pk b.
func pairKey(a, b uuid.UUID) []byte {
	return indexKey("bindings", "bindings_by_stage", binding.Binding{PK: b, Stage: a})
}

// modelKey is the stages_by_model key of a stage.
func modelKey(model string, id uuid.UUID) []byte { return kindKey(model, id) }

func indexKey(coll, bucket string, obj any) []byte {
	sc, err := newSchema(stage.Default, policy.Default, nil)
	if err != nil {
		panic(err)
	}
	for _, e := range sc.byName[coll].entries(obj) {
		if e.bucket == bucket {
			return e.key
		}
	}
	panic("no " + bucket + " entry")
}

func TestOrderKey(t *testing.T) {
	tests := []struct {
		order int32
		key   [4]byte
	}{
		{math.MinInt32, [4]byte{0x00, 0x00, 0x00, 0x00}},
		{math.MinInt32 + 1, [4]byte{0x00, 0x00, 0x00, 0x01}},
		{-256, [4]byte{0x7f, 0xff, 0xff, 0x00}},
		{-1, [4]byte{0x7f, 0xff, 0xff, 0xff}},
		{0, [4]byte{0x80, 0x00, 0x00, 0x00}},
		{1, [4]byte{0x80, 0x00, 0x00, 0x01}},
		{256, [4]byte{0x80, 0x00, 0x01, 0x00}},
		{math.MaxInt32, [4]byte{0xff, 0xff, 0xff, 0xff}},
	}
	for i, tt := range tests {
		k := orderKey(tt.order)
		if k != tt.key {
			t.Errorf("orderKey(%d) = % x, want % x", tt.order, k, tt.key)
		}
		if got := orderFromKey(k[:]); got != tt.order {
			t.Errorf("orderFromKey(orderKey(%d)) = %d", tt.order, got)
		}
		if i > 0 {
			prev := orderKey(tests[i-1].order)
			if bytes.Compare(prev[:], k[:]) >= 0 {
				t.Errorf("orderKey(%d) does not sort before orderKey(%d)", tests[i-1].order, tt.order)
			}
		}
	}
}

// TestByFlowKey checks that a prefix scan of bindings_by_flow yields one
// flow's bindings, in order and then by binding id.
func TestByFlowKey(t *testing.T) {
	f1 := uuid.MustParse("10000000-0000-0000-0000-000000000000")
	f2 := uuid.MustParse("10000000-0000-0000-0000-000000000001")
	lo := uuid.MustParse("00000000-0000-0000-0000-000000000001")
	hi := uuid.MustParse("ffffffff-ffff-ffff-ffff-fffffffffffe")
	type entry struct {
		flow, binding uuid.UUID
		order         int32
	}
	entries := []entry{
		{f2, lo, math.MinInt32},
		{f1, hi, -1},
		{f1, lo, 0},
		{f1, hi, 0},
		{f1, lo, math.MaxInt32},
		{f1, lo, math.MinInt32},
		{f2, hi, math.MaxInt32},
	}
	keys := make([][]byte, len(entries))
	for i, e := range entries {
		keys[i] = byFlowKey(e.flow, e.order, e.binding)
		if len(keys[i]) != 36 {
			t.Fatalf("key length %d, want 36", len(keys[i]))
		}
		if idFrom(keys[i][:16]) != e.flow || orderFromKey(keys[i][16:20]) != e.order || idFrom(keys[i][20:]) != e.binding {
			t.Errorf("byFlowKey(%v) does not decode back", e)
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	var got []entry
	for _, k := range keys {
		if bytes.HasPrefix(k, f1[:]) {
			got = append(got, entry{idFrom(k[:16]), idFrom(k[20:]), orderFromKey(k[16:20])})
		}
	}
	want := []entry{{f1, lo, math.MinInt32}, {f1, hi, -1}, {f1, lo, 0}, {f1, hi, 0}, {f1, lo, math.MaxInt32}}
	if !slices.Equal(got, want) {
		t.Errorf("scan of f1 = %v\nwant %v", got, want)
	}
}

func TestModelKey(t *testing.T) {
	id := uuid.MustParse("00000000-0000-0000-0000-0000000000ff")
	short := modelKey("app.stage", id)
	long := modelKey("app.stagex", id)
	prefix := modelKey("app.stage", uuid.Nil)[:len("app.stage")+1]
	if !bytes.HasPrefix(short, prefix) {
		t.Error("a model's key lacks its prefix")
	}
	if bytes.HasPrefix(long, prefix) {
		t.Error("app.stagex matches the prefix of app.stage")
	}
	if idFrom(short[len(prefix):]) != id {
		t.Error("modelKey does not end with the id")
	}
	p := pairKey(id, uuid.Nil)
	if len(p) != 32 || idFrom(p[:16]) != id || idFrom(p[16:]) != uuid.Nil {
		t.Errorf("pairKey = % x", p)
	}
}

// FuzzOrderKey checks that the order key's byte order is numeric order
// and that it decodes back.
func FuzzOrderKey(f *testing.F) {
	for _, seed := range [][2]int32{{0, 0}, {-1, 0}, {0, 1}, {math.MinInt32, math.MaxInt32}, {-2, -1}, {255, 256}, {-129, 128}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b int32) {
		ka, kb := orderKey(a), orderKey(b)
		if got, want := bytes.Compare(ka[:], kb[:]), cmp.Compare(a, b); got != want {
			t.Errorf("bytes.Compare(orderKey(%d), orderKey(%d)) = %d, want %d", a, b, got, want)
		}
		if orderFromKey(ka[:]) != a || orderFromKey(kb[:]) != b {
			t.Errorf("orderFromKey does not invert orderKey for %d, %d", a, b)
		}
		id := uuid.UUID{15: 1}
		fa, fb := byFlowKey(id, a, uuid.Max), byFlowKey(id, b, uuid.Nil)
		if a < b && bytes.Compare(fa, fb) >= 0 {
			t.Errorf("byFlowKey order %d sorts after order %d", a, b)
		}
	})
}

// The plain codecs write what json.Marshal writes, so files stay readable
// by either.
func TestPlainEncodeIsJSONMarshal(t *testing.T) {
	f := flow.New("Na<me> & \"q\" é", "slug", "Title\n", flow.DesignationRecovery)
	f.PK, f.PolicyBindingModelPtrID = uuid.New(), uuid.New()
	b := binding.New(uuid.New(), uuid.New(), -7)
	for _, tt := range []struct {
		got  func() ([]byte, error)
		want any
	}{
		{func() ([]byte, error) { return flowCodec.encode(f) }, f},
		{func() ([]byte, error) { return bindingCodec.encode(b) }, b},
	} {
		got, err := tt.got()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(tt.want)
		if !bytes.Equal(got, want) {
			t.Errorf("encode = %s\njson.Marshal = %s", got, want)
		}
	}
}
