// Package jsonvalue deep-copies values as encoding/json decodes them
// (attributes, context maps): one copy for the store, the planner and
// the in-memory directory.
package jsonvalue

import "bytes"

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
