// Package jsonvalue deep-copies, compares, normalizes and encodes
// values as encoding/json decodes them (attributes, context maps), and
// checks one against an encoding without encoding it (EncodesAs): one
// copy for the store, the planner, the executor and the in-memory
// directory.
package jsonvalue

import (
	"bytes"
	"math"
	"unicode/utf8"
)

// Clone returns a deep copy of v: its maps, slices and byte slices are
// new, so the copy shares nothing a caller can change; other values
// (strings, numbers, bools, nil) are returned as they are. A nil map or
// slice stays nil.
func Clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return CloneMap(x)
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Clone(e)
		}
		return out
	case []byte:
		return bytes.Clone(x)
	}
	return v
}

// CloneMap is Clone of a JSON object.
func CloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = Clone(v)
	}
	return out
}

// Equal says whether a and b are the same JSON value as encoding/json
// decodes values into an any: maps, slices, strings, float64s, bools
// and nil, compared by kind and value. Any other type (an int, a
// struct, a []string) is unequal to everything, itself included, so
// that a caller that finds two values Equal may take one for the other
// as a JSON document.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// MaxDecodedDepth bounds the nesting Normalize follows.
const MaxDecodedDepth = 100

// Normalize makes v, in place, what encoding/json would decode its
// encoding into an any (json.Unmarshal(json.Marshal(v))), without the
// encoding, and returns it: ints become float64s, []strings []anys, and
// maps, slices, strings, float64s, bools and nil stay as they are. A map
// or slice of v is changed in place where a value in it is not so
// already, and kept: v itself is the result unless it is an int, an
// int64, a []string or a nil map or slice. A value so already is
// returned as it is, without an allocation. It returns false, and nil,
// where it cannot be sure of the result, having changed some of v: a
// type other than those and int, int64 and []string; an integer beyond
// ±2^53; a NaN or an infinity; a string or key that is not valid UTF-8
// (which encoding/json replaces); nesting deeper than MaxDecodedDepth.
// A nil map or slice encodes as null, and is decoded as nil.
func Normalize(v any) (any, bool) {
	d, _, ok := normalize(v, 0)
	return d, ok
}

// normalize is Normalize; same says the result is v itself (changed in
// place or not).
func normalize(v any, depth int) (d any, same, ok bool) {
	if depth > MaxDecodedDepth {
		return nil, false, false
	}
	switch x := v.(type) {
	case nil, bool:
		return v, true, true
	case string:
		if !utf8.ValidString(x) {
			return nil, false, false
		}
		return v, true, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false, false
		}
		return v, true, true
	case int:
		return intDecoded(int64(x))
	case int64:
		return intDecoded(x)
	case []string:
		if x == nil {
			return nil, false, true
		}
		out := make([]any, len(x))
		for i, s := range x {
			if !utf8.ValidString(s) {
				return nil, false, false
			}
			out[i] = s
		}
		return out, false, true
	case []any:
		if x == nil {
			return nil, false, true
		}
		for i, e := range x {
			d, same, ok := normalize(e, depth+1)
			if !ok {
				return nil, false, false
			}
			if !same {
				x[i] = d
			}
		}
		return v, true, true
	case map[string]any:
		if x == nil {
			return nil, false, true
		}
		for k, e := range x {
			if !utf8.ValidString(k) {
				return nil, false, false
			}
			d, same, ok := normalize(e, depth+1)
			if !ok {
				return nil, false, false
			}
			if !same {
				x[k] = d
			}
		}
		return v, true, true
	}
	return nil, false, false
}

// intDecoded is n as a decoded JSON number, when a float64 holds it
// exactly.
func intDecoded(n int64) (d any, same, ok bool) {
	if n > 1<<53 || n < -(1<<53) {
		return nil, false, false
	}
	return float64(n), false, true
}
