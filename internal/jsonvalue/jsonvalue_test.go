package jsonvalue

import (
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
