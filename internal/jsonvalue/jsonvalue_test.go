package jsonvalue

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
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
		checkEncodesAs(t, c.v, nil)
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
	// So does AppendNormalize, which encodes it as it was.
	inner = map[string]any{"pk": int64(4), "l": []string{"x"}}
	list = []any{inner, 1}
	in = map[string]any{"a": list, "s": "t"}
	b, out, ok := []byte(nil), any(nil), false
	if b, out, ok, _ = AppendNormalize(nil, in); !ok || string(b) != `{"a":[{"l":["x"],"pk":4},1],"s":"t"}` {
		t.Errorf("AppendNormalize: %s %v", b, ok)
	}
	if !samePtr(out, in) || !samePtr(in["a"], list) || list[1] != 1.0 || inner["pk"] != 4.0 || !reflect.DeepEqual(inner["l"], []any{"x"}) {
		t.Errorf("AppendNormalize did not change its argument in place: %#v", in)
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
		math.Copysign(0, -1), float64(1 << 53), -float64(1 << 53), float64(1<<53 + 2), 1e15, 1e20, -5.0, 0.5, math.MaxInt64, math.MinInt64,
		"a long string of plain ASCII, then <&>, then é, \u2028 and \xff, across words", "0123456\xe2\x80\xa8",
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
	v, _ := loginContext(b)
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}

// decodedForm says whether v is a value as encoding/json decodes one
// into an any.
func decodedForm(v any) bool {
	d, ok := Normalize(Clone(v))
	return ok && reflect.DeepEqual(d, v)
}

// checkEncodesAs fails t unless EncodesAs(v, b) is whether v is in
// decoded form and Append encodes it as b, and AppendNormalize is
// Append and Normalize.
func checkEncodesAs(t *testing.T, v any, b []byte) {
	t.Helper()
	enc, err := Append(nil, v)
	want := err == nil && bytes.Equal(enc, b) && decodedForm(v)
	if got := EncodesAs(v, b); got != want {
		t.Fatalf("EncodesAs(%#v, %q) = %v, want %v (Append: %q, %v)", v, b, got, want, enc, err)
	}
	wantD, wantOK := Normalize(Clone(v))
	got, d, ok, err2 := AppendNormalize([]byte("x"), Clone(v))
	if (err == nil) != (err2 == nil) || err == nil && (string(got) != "x"+string(enc) || ok != wantOK || !reflect.DeepEqual(d, wantD)) {
		t.Fatalf("AppendNormalize(%#v) = %q, %#v, %v, %v; want %q, %#v, %v, %v", v, got, d, ok, err2, enc, wantD, wantOK, err)
	}
}

func TestEncodesAs(t *testing.T) {
	deep := any("leaf")
	for range MaxDecodedDepth {
		deep = []any{deep}
	}
	deeper := []any{deep}
	deepEmpty := any(map[string]any{})
	for range MaxDecodedDepth {
		deepEmpty = []any{deepEmpty}
	}
	for _, c := range []struct {
		v    any
		b    string
		want bool
	}{
		{nil, `null`, true}, {true, `true`, true}, {false, `false`, true}, {false, `true`, false},
		{1.0, `1`, true}, {1.0, `1.0`, false}, {1, `1`, false}, {int64(1), `1`, false}, {1.5, `1.5`, true},
		{math.Copysign(0, -1), `-0`, true}, {0.0, `-0`, false}, {0.0, `0`, true}, {1e21, `1e+21`, true}, {1e-7, `1e-7`, true}, {math.NaN(), `NaN`, false},
		{"", `""`, true}, {"a", `"a"`, true}, {"a", `"a`, false}, {"a", `"ab"`, false}, {"ab", `"a"`, false},
		{"<&>", `"\u003c\u0026\u003e"`, true}, {"<&>", `"<&>"`, false}, {"<", `"\u003C"`, false},
		{"\n\t\x01\"\\", `"\n\t\u0001\"\\"`, true}, {"\n", `"\u000a"`, false}, {"/", `"\/"`, false},
		{"\u2028\u2029é", `"\u2028\u2029é"`, true}, {"\u2028", "\"\u2028\"", false}, {"é", `"\u00e9"`, false},
		{"\xff", `"\ufffd"`, false}, {"\ufffd", "\"\ufffd\"", true}, {"\ufffd", `"\ufffd"`, false},
		{[]any{}, `[]`, true}, {[]any{1.0, "x", nil}, `[1,"x",null]`, true}, {[]any{1.0}, `[1,]`, false},
		{[]any(nil), `null`, false}, {[]string{"a"}, `["a"]`, false}, {deep, strings.Repeat("[", MaxDecodedDepth) + `"leaf"` + strings.Repeat("]", MaxDecodedDepth), true},
		{deeper, strings.Repeat("[", MaxDecodedDepth+1) + `"leaf"` + strings.Repeat("]", MaxDecodedDepth+1), false},
		{deepEmpty, strings.Repeat("[", MaxDecodedDepth) + `{}` + strings.Repeat("]", MaxDecodedDepth), true},
		{[]any{deepEmpty}, strings.Repeat("[", MaxDecodedDepth+1) + `{}` + strings.Repeat("]", MaxDecodedDepth+1), false},
		{map[string]any{}, `{}`, true}, {map[string]any(nil), `null`, false}, {map[string]any{}, `{"a":1}`, false},
		{map[string]any{"a": 1.0, "b": "x"}, `{"a":1,"b":"x"}`, true},
		{map[string]any{"a": 1.0, "b": "x"}, `{"b":"x","a":1}`, false},
		{map[string]any{"a": 1.0, "b": "x"}, `{"a":1}`, false},
		{map[string]any{"a": 1.0}, `{"a":1,"a":1}`, false},
		{map[string]any{"a": 1.0, "b": 1.0}, `{"a":1,"a":1}`, false},
		{map[string]any{"a": 1.0}, `{"a" :1}`, false},
		{map[string]any{"<k>": map[string]any{"\n": []any{}}}, `{"\u003ck\u003e":{"\n":[]}}`, true},
		{map[string]any{"<k>": 1.0}, `{"<k>":1}`, false},
		{map[string]any{"\u2028": 1.0, "é": 2.0}, `{"é":2,"\u2028":1}`, true},
		{map[string]any{"": 1.0, "a": 2.0}, `{"":1,"a":2}`, true},
		{map[string]any{"a": []any(nil)}, `{"a":null}`, false},
		{map[string]any{"\xff": 1.0}, `{"\ufffd":1}`, false},
	} {
		if got := EncodesAs(c.v, []byte(c.b)); got != c.want {
			t.Errorf("EncodesAs(%#v, %s) = %v, want %v", c.v, c.b, got, c.want)
		}
		checkEncodesAs(t, c.v, []byte(c.b))
	}
}

// A value unchanged since it was decoded is checked against its
// encoding without an allocation.
func TestEncodesAsAllocs(t *testing.T) {
	v, b := loginContext(t)
	if n := testing.AllocsPerRun(100, func() {
		if !EncodesAs(v, b) {
			t.Fatal("false")
		}
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// FuzzEncodesAs checks EncodesAs against Append over a JSON value and
// the value or its encoding changed: a key added, removed or changed,
// a number as an int, an int64 or another float64, strings needing
// escapes or not valid UTF-8, nil maps and slices, a byte of the
// encoding changed, added or cut.
func FuzzEncodesAs(f *testing.F) {
	_, login := loginContext(f)
	for _, b := range []string{string(login), `{"a":[1,"x\u2028<>&",null,true,{"b":-0.5e-30}],"c":"\u00e9","d":1e21}`, `[]`, `"s"`, `{"":{"\n":[{}]}}`} {
		for op := range 8 {
			f.Add([]byte(b), op, 0, "<k>\xff")
			f.Add([]byte(b), op, 7, "")
			f.Add([]byte(b), op, 301, "pending_user")
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, op, at int, s string) {
		var v any
		if json.Unmarshal(in, &v) != nil {
			return
		}
		b, err := Append(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if !EncodesAs(v, b) {
			t.Fatalf("EncodesAs(%#v, %s) = false", v, b)
		}
		if at < 0 {
			at = -at
		}
		v = mutate(Clone(v), op, at, s)
		switch op % 10 {
		case 7:
			if len(b) > 0 {
				b[at%len(b)] ^= byte(at>>8) | 1
			}
		case 8:
			b = b[:at%(len(b)+1)]
		case 9:
			i := at % (len(b) + 1)
			b = append(b[:i:i], append([]byte{byte(at >> 8)}, b[i:]...)...)
		}
		checkEncodesAs(t, v, b)
	})
}

// mutate changes one thing of v (see FuzzEncodesAs) and returns it: a
// member of the container at picks, after op.
func mutate(v any, op, at int, s string) any {
	var cs []any // maps and slices, depth first, maps' keys sorted
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			cs = append(cs, x)
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(x[k])
			}
		case []any:
			cs = append(cs, x)
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	variants := []any{1.0, 1, int64(1), 1.5, math.Copysign(0, -1), 1e21, 1e-7, "1", s, "<&>\u2028", "\xff\n", nil, true,
		[]any(nil), map[string]any(nil), []string{s}, map[string]any{}, []any{}, map[string]any{s: s}, math.Inf(1)}
	value := variants[at%len(variants)]
	if len(cs) == 0 || op%10 >= 7 {
		if op%10 == 6 {
			return value
		}
		return v
	}
	switch c := cs[at%len(cs)].(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(c))
		switch {
		case op%10 <= 1:
			c[s] = value
		case len(keys) == 0:
		case op%10 == 2:
			delete(c, keys[at%len(keys)])
		default:
			c[keys[at%len(keys)]] = value
		}
	case []any:
		if len(c) > 0 {
			c[at%len(c)] = value
		}
	}
	return v
}

// loginContext is the plan context of a login at its end, as the
// executor saves it, decoded, and its encoding.
func loginContext(tb testing.TB) (map[string]any, []byte) {
	b := []byte(`{"auth_method":"password","auth_method_args":{},"goauthentik.io/stages/authenticator_validate/device_challenges":[],"pending_user":{"attributes":{},"backend":"authentik.core.auth.InbuiltBackend","email":"user500@example.com","is_active":true,"name":"","path":"users","pk":501,"type":"internal","username":"user500","uuid":"acfd2587-b1a3-4650-8bed-1aec38746279"},"user_backend":"authentik.core.auth.InbuiltBackend"}`)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatal(err)
	}
	return v, b
}

// BenchmarkEncodesAs checks the plan context of a login at its end
// against its encoding, as the executor does at a save: against
// Append, its baseline:
//
//	go test ./internal/jsonvalue -run '^$' -bench 'Append|EncodesAs'
func BenchmarkEncodesAs(b *testing.B) {
	v, enc := loginContext(b)
	for b.Loop() {
		if !EncodesAs(v, enc) {
			b.Fatal("false")
		}
	}
}

// BenchmarkAppendNormalize encodes and normalizes the plan context of a
// login at its end, its pending user's pk an int as a handler puts it:
// in one walk (fused) and, the baseline, Append then Normalize (apart).
//
//	go test ./internal/jsonvalue -run '^$' -bench AppendNormalize
func BenchmarkAppendNormalize(b *testing.B) {
	v, _ := loginContext(b)
	user := v["pending_user"].(map[string]any)
	buf := make([]byte, 0, 1024)
	b.Run("fused", func(b *testing.B) {
		for b.Loop() {
			user["pk"] = 501
			var ok bool
			var err error
			if buf, _, ok, err = AppendNormalize(buf[:0], v); err != nil || !ok {
				b.Fatal(err)
			}
		}
	})
	b.Run("apart", func(b *testing.B) {
		for b.Loop() {
			user["pk"] = 501
			var err error
			if buf, err = Append(buf[:0], v); err != nil {
				b.Fatal(err)
			}
			if _, ok := Normalize(v); !ok {
				b.Fatal("not normalized")
			}
		}
	})
}
