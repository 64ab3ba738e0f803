package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strings"
)

// ErrInvalid is matched (with [errors.Is]) by every [*Error]: callers that
// only need to know "the input was rejected" branch on it.
var ErrInvalid = errors.New("validate: invalid input")

// NonFieldKey is the key under which errors that concern the object as a
// whole (cross-field rules, unique-together constraints) are reported.
const NonFieldKey = "non_field_errors"

// Error is a rejected write in authentik's 400 shape:
//
//	{"field": ["message", ...], "non_field_errors": ["message", ...]}
//
// Field keys are the API field names. An error on one item of a list
// field is keyed "field.index" (the dotted path [From] builds) and renders
// nested, as authentik nests it: {"backends": {"0": ["message"]}}.
// Messages are authentik's (Django REST framework's) exact English strings. An Error never contains the value of a
// write-only field.
//
// Err, when set, is a cause the caller may branch on with [errors.Is], for
// example a store's ErrConflict for a uniqueness clash. Every Error also
// matches [ErrInvalid].
type Error struct {
	Fields   map[string][]string
	NonField []string
	Err      error
}

// Add appends msgs to the errors of field ("field.index" for an item of
// a list field).
func (e *Error) Add(field string, msgs ...string) {
	if e.Fields == nil {
		e.Fields = make(map[string][]string)
	}
	e.Fields[field] = append(e.Fields[field], msgs...)
}

// AddNonField appends msg to the non-field errors.
func (e *Error) AddNonField(msg string) { e.NonField = append(e.NonField, msg) }

// Merge appends every message of other to e. A nil other is a no-op.
func (e *Error) Merge(other *Error) {
	if other == nil {
		return
	}
	for _, k := range sortedKeys(other.Fields) {
		for _, m := range other.Fields[k] {
			e.Add(k, m)
		}
	}
	e.NonField = append(e.NonField, other.NonField...)
	if e.Err == nil {
		e.Err = other.Err
	}
}

// Has reports whether field has at least one error, on itself or on one
// of its items.
func (e *Error) Has(field string) bool {
	if e == nil {
		return false
	}
	if len(e.Fields[field]) > 0 {
		return true
	}
	for k, v := range e.Fields {
		if len(v) > 0 && strings.HasPrefix(k, field+".") {
			return true
		}
	}
	return false
}

// HasFieldErrors reports whether any field (not non-field) error is recorded.
func (e *Error) HasFieldErrors() bool { return e != nil && len(e.Fields) > 0 }

// Empty reports whether no error at all is recorded.
func (e *Error) Empty() bool { return e == nil || (len(e.Fields) == 0 && len(e.NonField) == 0) }

// OrNil returns e as an error, or nil when e records nothing. It avoids the
// typed-nil trap of returning a nil *Error as an error.
func (e *Error) OrNil() error {
	if e.Empty() {
		return nil
	}
	return e
}

// Error renders the errors deterministically: fields in sorted order, then
// the non-field errors.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("validation failed")
	for _, k := range sortedKeys(e.Fields) {
		b.WriteString("; ")
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Fields[k], " "))
	}
	if len(e.NonField) > 0 {
		b.WriteString("; ")
		b.WriteString(NonFieldKey)
		b.WriteString(": ")
		b.WriteString(strings.Join(e.NonField, " "))
	}
	return b.String()
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is makes every Error match [ErrInvalid].
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// MarshalJSON renders the 400 body. Keys are sorted, with non_field_errors
// in its sorted place; dotted keys nest; an Error with nothing recorded
// renders as {}.
func (e *Error) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(e.Fields)+1)
	for _, k := range sortedKeys(e.Fields) {
		nest(m, strings.Split(k, "."), e.Fields[k])
	}
	if len(e.NonField) > 0 {
		nest(m, []string{NonFieldKey}, e.NonField)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// nest puts msgs at path in m. A path that is both a leaf and a parent
// (a list's own error and an item's) keeps the item errors under the
// parent and the list's own under "non_field_errors" inside it.
func nest(m map[string]any, path []string, msgs []string) {
	k := path[0]
	if len(path) == 1 {
		switch cur := m[k].(type) {
		case map[string]any:
			nest(cur, []string{NonFieldKey}, msgs)
		case []string:
			m[k] = append(cur, msgs...)
		default:
			m[k] = append([]string(nil), msgs...)
		}
		return
	}
	sub, ok := m[k].(map[string]any)
	if !ok {
		sub = map[string]any{}
		if leaf, isLeaf := m[k].([]string); isLeaf {
			sub[NonFieldKey] = leaf
		}
		m[k] = sub
	}
	nest(sub, path[1:], msgs)
}

// UnmarshalJSON reads a 400 body back, so that clients of the API can
// decode it into an Error; nested objects become dotted keys.
func (e *Error) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*e = Error{}
	var walk func(prefix string, m map[string]json.RawMessage) error
	walk = func(prefix string, m map[string]json.RawMessage) error {
		for k, raw := range m {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			var msgs []string
			if err := json.Unmarshal(raw, &msgs); err == nil {
				switch {
				case key == NonFieldKey:
					e.NonField = msgs
				case prefix != "" && k == NonFieldKey:
					e.Add(prefix, msgs...)
				default:
					e.Add(key, msgs...)
				}
				continue
			}
			var sub map[string]json.RawMessage
			if err := json.Unmarshal(raw, &sub); err != nil {
				return err
			}
			if err := walk(key, sub); err != nil {
				return err
			}
		}
		return nil
	}
	return walk("", m)
}

// FieldError returns an Error with a single message on field.
func FieldError(field, msg string) *Error {
	e := &Error{}
	e.Add(field, msg)
	return e
}

// NonFieldError returns an Error with a single non-field message.
func NonFieldError(msg string) *Error {
	return &Error{NonField: []string{msg}}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
