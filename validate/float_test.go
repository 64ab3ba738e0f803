package validate_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// numbers has the field kinds beyond sample's: a float, any JSON, and
// read-only fields of other types.
type numbers struct {
	Score float64         `json:"score"`
	Any   json.RawMessage `json:"any"`
	Objs  []numbersObj    `json:"objs" af:"readonly"`
	Owner *numbersObj     `json:"owner" af:"readonly"`
}

type numbersObj struct {
	ID   uuid.UUID `json:"id"`
	Text string    `json:"text"`
}

func TestFloatField(t *testing.T) {
	long := `"` + strings.Repeat("1", 1001) + `"`
	tests := []struct {
		body string
		want float64
		msg  string
	}{
		{body: `0.5`, want: 0.5},
		{body: `-1`, want: -1},
		{body: `1e3`, want: 1000},
		{body: `"1e3"`, want: 1000},
		{body: `" 2.5 "`, want: 2.5},
		{body: `"1_0.5"`, want: 10.5},
		{body: `"-.5"`, want: -0.5},
		{body: `true`, want: 1}, // Python's float(True)
		{body: `false`, want: 0},
		{body: `1e-400`, want: 0},
		{body: `"` + strings.Repeat("1", 1000) + `"`, msg: validate.MsgNumber}, // float() makes it inf
		{body: `"abc"`, msg: validate.MsgNumber},
		{body: `""`, msg: validate.MsgNumber},
		{body: `"1 2"`, msg: validate.MsgNumber},
		{body: `"0x10"`, msg: validate.MsgNumber},
		{body: `"_1"`, msg: validate.MsgNumber},
		{body: `"nan"`, msg: validate.MsgNumber},
		{body: `"-Infinity"`, msg: validate.MsgNumber},
		{body: `1e400`, msg: validate.MsgNumber},
		{body: `{}`, msg: validate.MsgNumber},
		{body: `[1]`, msg: validate.MsgNumber},
		{body: `null`, msg: validate.MsgNull},
		{body: long, msg: validate.MsgIntegerTooLarge},
		{body: strings.Repeat("1", 1001), msg: validate.MsgIntegerTooLarge},
	}
	for _, tt := range tests {
		body := `{"score":` + tt.body + `}`
		got, err := validate.Apply(numbers{Score: 0.25}, []byte(body), validate.Patch, nil)
		var errs map[string][]string
		if tt.msg != "" {
			errs = testutil.One("score", tt.msg)
		}
		testutil.WantFields(t, body, err, errs)
		if tt.msg == "" && got.Score != tt.want {
			t.Errorf("%s: Score = %v, want %v", body, got.Score, tt.want)
		}
	}
}

// A float is shown as Python's repr() writes it, and read back exactly.
func TestFloatJSON(t *testing.T) {
	s, err := validate.SchemaOf(numbers{})
	if err != nil {
		t.Fatal(err)
	}
	tenth, fifth := 0.1, 0.2
	for f, want := range map[float64]string{
		0.5: "0.5", 1: "1.0", 0: "0.0", -2: "-2.0", 1e16: "1e+16", 1e-5: "1e-05", 123456.789: "123456.789", tenth + fifth: "0.30000000000000004",
	} {
		b, err := s.AppendJSON(nil, numbers{Score: f}, false)
		if err != nil {
			t.Fatal(err)
		}
		if prefix := `"score":` + want + `,`; !strings.HasPrefix(string(b), prefix) {
			t.Errorf("AppendJSON(%v) = %s, want %s...", f, b, prefix)
		}
		var back numbers
		if err := s.Load(&back, append(append([]byte("{"), b...), '}')); err != nil || back.Score != f {
			t.Errorf("Load(%s) = %v, %v", b, back.Score, err)
		}
		if v, ok := s.Value(numbers{Score: f}, "score"); !ok || v != f {
			t.Errorf("Value = %v, %v", v, ok)
		}
	}
	for _, f := range []float64{math.Inf(1), math.NaN()} {
		if _, err := s.AppendJSON(nil, numbers{Score: f}, false); err == nil {
			t.Errorf("AppendJSON(%v) succeeded", f)
		}
	}
	var back numbers
	for _, bad := range []string{`{"score":"1"}`, `{"score":true}`, `{"score":1e400}`} {
		if err := s.Load(&back, []byte(bad)); err == nil {
			t.Errorf("Load(%s) succeeded", bad)
		}
	}
}

// A json.RawMessage field takes any JSON value but null; a patch merges an
// object onto an object and replaces anything else.
func TestAnyJSONField(t *testing.T) {
	cur := numbers{Any: json.RawMessage(`{"keep":1,"drop":2}`)}
	for _, tt := range []struct {
		op         validate.Op
		body, want string
		msg        string
	}{
		{validate.Patch, `{"any":{"drop":null,"new":[1, 2]}}`, `{"keep":1,"new":[1,2]}`, ""},
		{validate.Patch, `{"any":"text"}`, `"text"`, ""},
		{validate.Patch, `{"any":[ {"a" : 1} ]}`, `[{"a":1}]`, ""},
		{validate.Patch, `{"any":0}`, `0`, ""},
		{validate.Patch, `{"any":false}`, `false`, ""},
		{validate.Replace, `{"any":{"only":true}}`, `{"only":true}`, ""},
		{validate.Patch, `{"any":null}`, "", validate.MsgNull},
	} {
		got, err := validate.Apply(cur, []byte(tt.body), tt.op, nil)
		var errs map[string][]string
		if tt.msg != "" {
			errs = testutil.One("any", tt.msg)
		}
		testutil.WantFields(t, tt.body, err, errs)
		if tt.msg == "" && string(got.Any) != tt.want {
			t.Errorf("%s: Any = %s, want %s", tt.body, got.Any, tt.want)
		}
	}
	if string(cur.Any) != `{"keep":1,"drop":2}` {
		t.Errorf("Apply changed the current value: %s", cur.Any)
	}
	got, err := validate.Apply(numbers{}, []byte(`{"any":{"a":null}}`), validate.Patch, nil)
	if err != nil || string(got.Any) != `{}` {
		t.Errorf("merge onto nothing = %s, %v", got.Any, err)
	}

	s, _ := validate.SchemaOf(numbers{})
	b, err := s.AppendJSON(nil, numbers{Score: 1, Any: json.RawMessage(`{ "a" : [1] }`)}, false)
	if err != nil || !strings.Contains(string(b), `"any":{"a":[1]}`) {
		t.Errorf("AppendJSON = %s, %v", b, err)
	}
	var back numbers
	if err := s.Load(&back, append(append([]byte("{"), b...), '}')); err != nil || string(back.Any) != `{"a":[1]}` {
		t.Errorf("Load = %s, %v", back.Any, err)
	}
	if b, _ := s.AppendJSON(nil, numbers{}, false); !strings.Contains(string(b), `"any":null`) {
		t.Errorf("AppendJSON of no value = %s", b)
	}
}

// Read-only fields may be of any type encoding/json handles: output (a nil
// list as []), stored, and never written.
func TestReadOnlyAnyType(t *testing.T) {
	s, err := validate.SchemaOf(numbers{})
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.MustParse("11111111-2222-4333-8444-555555555555")
	b, err := s.AppendJSON(nil, numbers{}, false)
	if err != nil || !strings.HasSuffix(string(b), `"objs":[],"owner":null`) {
		t.Errorf("AppendJSON(zero) = %s, %v", b, err)
	}
	in := numbers{Score: 1, Any: json.RawMessage(`1`), Objs: []numbersObj{{ID: id, Text: "x"}}, Owner: &numbersObj{Text: "o"}}
	b, err = s.AppendJSON(nil, in, true)
	if err != nil {
		t.Fatal(err)
	}
	var back numbers
	if err := s.Load(&back, append(append([]byte("{"), b...), '}')); err != nil || !reflect.DeepEqual(back, in) {
		t.Errorf("Load(%s) = %+v, %v", b, back, err)
	}
	got, err := validate.Apply(in, []byte(`{"objs":[{"text":"y"}],"owner":1}`), validate.Patch, nil)
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Errorf("a write changed read-only fields: %+v, %v", got, err)
	}
	type writable struct {
		Objs []numbersObj `json:"objs"`
	}
	if _, err := validate.SchemaOf(writable{}); err == nil || !strings.Contains(err.Error(), "unsupported type") {
		t.Errorf("a writable list of structs: %v", err)
	}
	type ptrRaw struct {
		Any *json.RawMessage `json:"any"`
	}
	if _, err := validate.SchemaOf(ptrRaw{}); err == nil {
		t.Error("a *json.RawMessage field is accepted")
	}
}

// Any text is a float or one of the field's messages, never a panic, and
// an accepted float is finite.
func FuzzFloatField(f *testing.F) {
	for _, s := range []string{`0.5`, `"1e3"`, `true`, `"nan"`, `1e400`, `"1_0"`, `[]`, `"` + strings.Repeat("9", 1001) + `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		body := []byte(`{"score":` + v + `}`)
		if !json.Valid(body) {
			return
		}
		got, err := validate.Apply(numbers{}, body, validate.Patch, nil)
		if errors.Is(err, validate.ErrSyntax) {
			return // not UTF-8, say: not the field's business
		}
		if err != nil {
			ve, ok := err.(*validate.Error)
			if !ok {
				t.Fatalf("%s: %v", body, err)
			}
			for _, m := range ve.Fields["score"] {
				switch m {
				case validate.MsgNumber, validate.MsgNull, validate.MsgIntegerTooLarge:
				default:
					t.Fatalf("%s: message %q", body, m)
				}
			}
			return
		}
		if math.IsInf(got.Score, 0) || math.IsNaN(got.Score) {
			t.Fatalf("%s: %v accepted", body, got.Score)
		}
	})
}
