package mergepatch_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/mergepatch"
)

type mergeCase struct {
	name, doc, patch, want string
}

// rfcAppendixA holds every example from RFC 7396 Appendix A.
var rfcAppendixA = []mergeCase{
	{"A1 replace member", `{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
	{"A2 add member", `{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
	{"A3 remove member", `{"a":"b"}`, `{"a":null}`, `{}`},
	{"A4 remove one of two", `{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
	{"A5 array replaced by string", `{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
	{"A6 string replaced by array", `{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
	{"A7 nested merge", `{"a": {"b": "c"}}`, `{"a": {"b": "d", "c": null}}`, `{"a": {"b": "d"}}`},
	{"A8 array of objects replaced", `{"a": [{"b":"c"}]}`, `{"a": [1]}`, `{"a": [1]}`},
	{"A9 array replaced by array", `["a","b"]`, `["c","d"]`, `["c","d"]`},
	{"A10 object replaced by array", `{"a":"b"}`, `["c"]`, `["c"]`},
	{"A11 null patch", `{"a":"foo"}`, `null`, `null`},
	{"A12 string patch", `{"a":"foo"}`, `"bar"`, `"bar"`},
	{"A13 existing null kept", `{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
	{"A14 array doc treated as object", `[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
	{"A15 nested nulls stripped", `{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
}

// rfcSection3 is the worked example from RFC 7396 section 3.
var rfcSection3 = mergeCase{
	name: "section 3 example",
	doc: `{
	  "title": "Goodbye!",
	  "author" : {
	    "givenName" : "John",
	    "familyName" : "Doe"
	  },
	  "tags":[ "example", "sample" ],
	  "content": "This will be unchanged"
	}`,
	patch: `{
	  "title": "Hello!",
	  "phoneNumber": "+01-123-456-7890",
	  "author": {
	    "familyName": null
	  },
	  "tags": [ "example" ]
	}`,
	want: `{
	  "title": "Hello!",
	  "author" : {
	    "givenName" : "John"
	  },
	  "tags": [ "example" ],
	  "content": "This will be unchanged",
	  "phoneNumber": "+01-123-456-7890"
	}`,
}

func canonical(t *testing.T, data string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("unmarshal %q: %v", data, err)
	}
	return v
}

func TestApplyRFC(t *testing.T) {
	if len(rfcAppendixA) != 15 {
		t.Fatalf("expected 15 RFC 7396 Appendix A cases, have %d", len(rfcAppendixA))
	}
	cases := append(append([]mergeCase(nil), rfcAppendixA...), rfcSection3)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mergepatch.Apply([]byte(tc.doc), []byte(tc.patch))
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if g, w := canonical(t, string(got)), canonical(t, tc.want); !reflect.DeepEqual(g, w) {
				t.Errorf("Apply(%s, %s) = %s, want %s", tc.doc, tc.patch, got, tc.want)
			}
		})
	}
}

func TestApplyNumbersExact(t *testing.T) {
	tests := []struct {
		name, doc, patch, want string
	}{
		{"large integer in patch", `{}`, `{"n":12345678901234567890}`, `{"n":12345678901234567890}`},
		{"large integer kept in doc", `{"n":12345678901234567890}`, `{"m":1}`, `{"m":1,"n":12345678901234567890}`},
		{"trailing zero decimal", `{"p":1.50}`, `{"q":2.50}`, `{"p":1.50,"q":2.50}`},
		{"exponent", `{"e":1e400}`, `{"f":-0.0}`, `{"e":1e400,"f":-0.0}`},
		{"top-level number patch", `{"a":1}`, `1.50`, `1.50`},
		{"nested", `{"a":{"b":9007199254740993}}`, `{"a":{"c":0.10000000000000000001}}`, `{"a":{"b":9007199254740993,"c":0.10000000000000000001}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mergepatch.Apply([]byte(tc.doc), []byte(tc.patch))
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("Apply(%s, %s) = %s, want %s", tc.doc, tc.patch, got, tc.want)
			}
		})
	}
}

func TestApplyInvalidJSON(t *testing.T) {
	tests := []struct {
		name, doc, patch, which string
	}{
		{"doc malformed", `{"a":`, `{}`, "document"},
		{"doc empty", ``, `{}`, "document"},
		{"doc trailing value", `{} {}`, `{}`, "document"},
		{"doc trailing garbage", `{"a":1}x`, `{}`, "document"},
		{"doc trailing bracket", `[1]]`, `{}`, "document"},
		{"patch malformed", `{}`, `{"a"}`, "patch"},
		{"patch empty", `{}`, `   `, "patch"},
		{"patch trailing value", `{}`, `{} {}`, "patch"},
		{"patch trailing scalar", `{}`, `null 1`, "patch"},
		{"patch bare word", `{}`, `nope`, "patch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mergepatch.Apply([]byte(tc.doc), []byte(tc.patch))
			if err == nil {
				t.Fatalf("Apply(%q, %q) = %s, want error", tc.doc, tc.patch, got)
			}
			if !errors.Is(err, mergepatch.ErrInvalidJSON) {
				t.Errorf("error %v does not wrap ErrInvalidJSON", err)
			}
			if !strings.Contains(err.Error(), tc.which) {
				t.Errorf("error %q does not mention %q", err, tc.which)
			}
			if got != nil {
				t.Errorf("got non-nil result %s alongside error", got)
			}
		})
	}
}

func TestApplyTrailingWhitespaceAllowed(t *testing.T) {
	got, err := mergepatch.Apply([]byte(" {\"a\":1}\n\t "), []byte("{\"b\":2}\r\n"))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if want := `{"a":1,"b":2}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestErrInvalidJSONMessage(t *testing.T) {
	if got, want := mergepatch.ErrInvalidJSON.Error(), "mergepatch: invalid JSON"; got != want {
		t.Errorf("ErrInvalidJSON = %q, want %q", got, want)
	}
}

func TestApplyValueDoesNotMutateInputs(t *testing.T) {
	doc := map[string]any{
		"keep":   "x",
		"drop":   "y",
		"change": json.Number("1"),
		"nested": map[string]any{"a": "b", "c": "d"},
		"list":   []any{json.Number("1"), "two"},
	}
	patch := map[string]any{
		"drop":   nil,
		"change": json.Number("2"),
		"nested": map[string]any{"a": nil, "e": "f"},
		"new":    map[string]any{"x": nil, "y": map[string]any{"z": nil}},
		"list":   []any{"replaced"},
	}
	docCopy := deepCopy(doc)
	patchCopy := deepCopy(patch)

	got := mergepatch.ApplyValue(doc, patch)

	if !reflect.DeepEqual(doc, docCopy) {
		t.Errorf("doc mutated: got %#v, want %#v", doc, docCopy)
	}
	if !reflect.DeepEqual(patch, patchCopy) {
		t.Errorf("patch mutated: got %#v, want %#v", patch, patchCopy)
	}
	want := map[string]any{
		"keep":   "x",
		"change": json.Number("2"),
		"nested": map[string]any{"c": "d", "e": "f"},
		"new":    map[string]any{"y": map[string]any{}},
		"list":   []any{"replaced"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ApplyValue = %#v, want %#v", got, want)
	}
}

func TestApplyValueNonObjectPatch(t *testing.T) {
	doc := map[string]any{"a": "b"}
	for _, patch := range []any{nil, "s", json.Number("3"), true, []any{"x"}} {
		if got := mergepatch.ApplyValue(doc, patch); !reflect.DeepEqual(got, patch) {
			t.Errorf("ApplyValue(doc, %#v) = %#v, want patch", patch, got)
		}
	}
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}

func FuzzApply(f *testing.F) {
	for _, tc := range rfcAppendixA {
		f.Add([]byte(tc.doc), []byte(tc.patch))
	}
	f.Add([]byte(rfcSection3.doc), []byte(rfcSection3.patch))
	f.Add([]byte(`{"n":12345678901234567890}`), []byte(`{"m":1.50}`))
	f.Add([]byte(`{} {}`), []byte(`{`))

	f.Fuzz(func(t *testing.T, doc, patch []byte) {
		out, err := mergepatch.Apply(doc, patch)
		valid := json.Valid(doc) && json.Valid(patch)
		if !valid {
			if err == nil {
				t.Fatalf("Apply(%q, %q) accepted invalid input, got %s", doc, patch, out)
			}
			if !errors.Is(err, mergepatch.ErrInvalidJSON) {
				t.Fatalf("error %v does not wrap ErrInvalidJSON", err)
			}
			return
		}
		if err != nil {
			// encoding/json rejects nesting deeper than its limit even
			// when json.Valid accepts it; that must still be reported
			// as invalid JSON rather than some other failure.
			if !errors.Is(err, mergepatch.ErrInvalidJSON) {
				t.Fatalf("Apply(%q, %q): unexpected error %v", doc, patch, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Apply(%q, %q) produced invalid JSON %q", doc, patch, out)
		}
		again, err := mergepatch.Apply(out, patch)
		if err != nil {
			t.Fatalf("re-applying patch to %q: %v", out, err)
		}
		if string(again) != string(out) {
			t.Fatalf("not idempotent: Apply(%q, %q) = %q, applying again = %q", doc, patch, out, again)
		}
	})
}

func ExampleApply() {
	doc := []byte(`{"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},"count":12345678901234567890}`)
	patch := []byte(`{"title":"Hello!","author":{"familyName":null},"price":1.50}`)
	out, err := mergepatch.Apply(doc, patch)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// {"author":{"givenName":"John"},"count":12345678901234567890,"price":1.50,"title":"Hello!"}
}
