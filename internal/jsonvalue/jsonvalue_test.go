package jsonvalue

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func TestClone(t *testing.T) {
	in := map[string]any{"a": []any{map[string]any{"b": "c"}, 1.0}, "d": []byte("x"), "e": nil, "f": map[string]any(nil)}
	out := CloneMap(in)
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("%v != %v", out, in)
	}
	out["a"].([]any)[0].(map[string]any)["b"] = "changed"
	out["d"].([]byte)[0] = 'y'
	if in["a"].([]any)[0].(map[string]any)["b"] != "c" || string(in["d"].([]byte)) != "x" {
		t.Errorf("the copy shares with the original: %v", in)
	}
	if CloneMap(nil) != nil || Clone([]any(nil)).([]any) != nil {
		t.Error("nil is not kept nil")
	}
}

// roundTrip is what encoding/json makes of v: json.Unmarshal of its
// json.Marshal into an any.
func roundTrip(t *testing.T, v any) (any, bool) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, false
	}
	return out, true
}

func TestNormalize(t *testing.T) {
	deep := any("leaf")
	for range MaxDecodedDepth + 1 {
		deep = []any{deep}
	}
	cases := []struct {
		v    any
		sure bool
	}{
		{nil, true}, {true, true}, {"s <&> \u2028 é", true}, {1.5, true}, {-0.0, true}, {1e21, true},
		{3, true}, {int64(-7), true}, {int64(1 << 53), true}, {int64(1<<53 + 1), false},
		{[]string{"a", "b"}, true}, {[]string(nil), true}, {[]any(nil), true}, {map[string]any(nil), true},
		{map[string]any{"pk": int64(4), "a": map[string]any{"b": []any{1, "x", nil, false, map[string]any{}}}, "n": []string{}}, true},
		{"\xff", false}, {map[string]any{"\xff": 1.0}, false}, {math.NaN(), false}, {math.Inf(1), false},
		{uint(3), false}, {[]byte("x"), false}, {struct{}{}, false}, {map[string]string{}, false}, {[]int{1}, false},
		{json.Number("1"), false}, {map[string]any{"x": []any{int32(1)}}, false}, {deep, false},
	}
	for _, c := range cases {
		want, _ := roundTrip(t, c.v)
		got, ok := Normalize(c.v)
		if ok != c.sure {
			t.Errorf("Normalize(%#v): sure %v, want %v", c.v, ok, c.sure)
			continue
		}
		if !ok {
			if got != nil {
				t.Errorf("Normalize(%#v) = %#v when unsure, want nil", c.v, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Normalize(%#v) = %#v, want %#v as encoding/json makes it", c.v, got, want)
		}
		if !Equal(got, want) {
			t.Errorf("Equal(%#v, %#v) is false", got, want)
		}
	}
	// In place: the maps and slices are v's own, changed where they
	// held a value that was not decoded JSON.
	inner := map[string]any{"pk": int64(4), "l": []string{"x"}}
	list := []any{inner, 1}
	in := map[string]any{"a": list, "s": "t"}
	out, _ := Normalize(in)
	if !samePtr(out, in) || !samePtr(in["a"], list) || list[1] != 1.0 || inner["pk"] != 4.0 || !reflect.DeepEqual(inner["l"], []any{"x"}) {
		t.Errorf("Normalize did not change its argument in place: %#v", in)
	}
}

// samePtr says a and b are the same map or slice.
func samePtr(a, b any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// A value decoded already is returned as it is, without an allocation;
// an int in it costs the float64 that replaces it, not a copy of the
// map that holds it.
func TestNormalizeAllocs(t *testing.T) {
	v := map[string]any{"u": map[string]any{"pk": 4.0, "name": "x", "ok": true, "l": []any{"a", nil}}, "s": "t"}
	if n := testing.AllocsPerRun(100, func() {
		if d, ok := Normalize(v); !ok || !samePtr(d, v) {
			t.Fatal("not v itself")
		}
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
	u := v["u"].(map[string]any)
	for k := range 12 {
		u[string(rune('a'+k))] = "more"
	}
	if n := testing.AllocsPerRun(100, func() {
		u["pk"] = int64(1000)
		if _, ok := Normalize(v); !ok || u["pk"] != 1000.0 {
			t.Fatal("the int is left")
		}
	}); n > 2 {
		t.Errorf("an int in a map of %d values: %v allocations", len(u), n)
	}
}

func TestEqual(t *testing.T) {
	a := map[string]any{"x": []any{1.0, "s", nil, true, map[string]any{"y": 2.0}}}
	if !Equal(a, CloneMap(a)) {
		t.Error("a value is not Equal to its copy")
	}
	unequal := [][2]any{
		{1.0, 2.0}, {1.0, "1"}, {"a", "b"}, {true, false}, {nil, false}, {nil, map[string]any{}},
		{map[string]any{}, map[string]any(nil)}, {[]any{}, []any(nil)}, {[]any{1.0}, []any{1.0, 2.0}},
		{map[string]any{"a": 1.0}, map[string]any{"b": 1.0}}, {map[string]any{"a": 1.0}, map[string]any{"a": 2.0}},
		// Types encoding/json does not decode into are never Equal:
		// an int is not taken for the float64 its encoding decodes to.
		{1, 1}, {int64(1), 1.0}, {1.0, int64(1)}, {[]string{"a"}, []string{"a"}}, {[]byte("a"), []byte("a")},
	}
	for _, c := range unequal {
		if Equal(c[0], c[1]) || Equal(c[1], c[0]) {
			t.Errorf("Equal(%#v, %#v) is true", c[0], c[1])
		}
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add([]byte(`{"a":[1,"x",null,true,{"b":-0.5e3}],"c":"\u00e9"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if json.Unmarshal(b, &v) != nil {
			return
		}
		want, ok := roundTrip(t, v)
		if !ok {
			return
		}
		got, ok := Normalize(v)
		if !ok || !reflect.DeepEqual(got, want) || !Equal(got, want) || !Equal(got, v) {
			t.Fatalf("Normalize(%#v) = %#v, want %#v", v, got, want)
		}
	})
}

func TestAppend(t *testing.T) {
	type opaque struct{ A int }
	for _, v := range []any{
		nil, true, "s <&> \u2028 \u2029 é \x00 \x1f \b \f \n \r \t \" \\ \xff", 1.5, -0.0, 1e21, 1e-7, 123456789.0, 3, int64(-7),
		[]string{"a"}, []string(nil), []any(nil), map[string]any(nil),
		map[string]any{"pk": int64(4), "b": map[string]any{"z": []any{1.0, "x", nil, false, map[string]any{}}}, "a": []string{}},
		opaque{A: 1}, []byte("x"), map[string]string{"a": "<"}, uint8(3), map[string]any{"x": []any{int32(1)}},
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Append([]byte("prefix"), v)
		if err != nil || string(got) != "prefix"+string(want) {
			t.Errorf("Append(%#v) = %s, %v; want %s", v, got, err, want)
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(-1), map[string]any{"f": func() {}}, []any{math.NaN()}} {
		if _, err := Append(nil, v); err == nil {
			t.Errorf("Append(%#v) did not fail", v)
		}
	}
}

func FuzzAppend(f *testing.F) {
	f.Add([]byte(`{"a":[1,"x\u2028<>&",null,true,{"b":-0.5e-30}],"c":"\u00e9","d":1e21}`), "s\xff\x01")
	f.Fuzz(func(t *testing.T, b []byte, s string) {
		var v any
		if json.Unmarshal(b, &v) != nil {
			v = nil
		}
		v = map[string]any{"v": v, s: s, "l": []string{s}}
		want, err := json.Marshal(v)
		if err != nil {
			return
		}
		got, err := Append(nil, v)
		if err != nil || string(got) != string(want) {
			t.Fatalf("Append(%#v) = %s, %v; want %s", v, got, err, want)
		}
	})
}

// Encoding a map of up to 16 keys allocates nothing beyond the buffer.
func TestAppendAllocs(t *testing.T) {
	v := map[string]any{"b": map[string]any{"y": 1.0, "x": []any{"s", true, nil}}, "a": "t"}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { _, _ = Append(buf[:0], v) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// AppendString writes a string as json.Marshal does, and, without
// escaping HTML, as an Encoder told SetEscapeHTML(false) does.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\`, "<a&b>", "\x00\b\f\n\r\t\x1f\x7f", "é\u2028\u2029\xff\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s, true); !bytes.Equal(got, want) {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		if got, want := AppendString(nil, s, false), bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
			t.Errorf("%q unescaped: %s, want %s", s, got, want)
		}
	})
}

// BenchmarkAppend encodes the plan context of a login at its end, as
// the executor saves it:
//
//	go test ./internal/jsonvalue -run '^$' -bench Append
func BenchmarkAppend(b *testing.B) {
	var v map[string]any
	if err := json.Unmarshal([]byte(`{"auth_method":"password","auth_method_args":{},"goauthentik.io/stages/authenticator_validate/device_challenges":[],"pending_user":{"attributes":{},"backend":"authentik.core.auth.InbuiltBackend","email":"user500@example.com","is_active":true,"name":"","path":"users","pk":501,"type":"internal","username":"user500","uuid":"acfd2587-b1a3-4650-8bed-1aec38746279"},"user_backend":"authentik.core.auth.InbuiltBackend"}`), &v); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}
