package mergepatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrInvalidJSON is returned (wrapped) by [Apply] when the document or the
// patch is not a single valid JSON value. Use [errors.Is] to test for it.
var ErrInvalidJSON = errors.New("mergepatch: invalid JSON")

// Apply applies the RFC 7396 merge patch to doc and returns the merged
// document as compact JSON.
//
// Both doc and patch must each hold exactly one JSON value; otherwise the
// returned error wraps [ErrInvalidJSON] and names which input was invalid.
// Numbers are preserved exactly as written. Object keys in the output are
// sorted.
func Apply(doc, patch []byte) ([]byte, error) {
	d, err := decode(doc)
	if err != nil {
		return nil, fmt.Errorf("mergepatch: document: %w: %v", ErrInvalidJSON, err)
	}
	p, err := decode(patch)
	if err != nil {
		return nil, fmt.Errorf("mergepatch: patch: %w: %v", ErrInvalidJSON, err)
	}
	out, err := json.Marshal(ApplyValue(d, p))
	if err != nil {
		// Unreachable for values produced by decode; reported rather than
		// panicking.
		return nil, fmt.Errorf("mergepatch: encoding result: %w", err)
	}
	return out, nil
}

// ApplyValue applies the RFC 7396 merge patch to doc and returns the merged
// value. doc and patch are decoded JSON values as produced by a
// [json.Decoder] with UseNumber: map[string]any, []any, string,
// [json.Number], bool or nil.
//
// ApplyValue never mutates doc or patch: any object it changes is copied.
// The result may share unchanged sub-values (including arrays and objects)
// with doc and patch, so callers that intend to mutate the result should
// not keep using the inputs.
func ApplyValue(doc, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	d, _ := doc.(map[string]any)
	out := make(map[string]any, len(d)+len(p))
	for k, v := range d {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = ApplyValue(out[k], v)
	}
	return out
}

// decode parses data as exactly one JSON value, keeping numbers as
// json.Number. Trailing non-whitespace data is an error.
func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty input")
		}
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}
