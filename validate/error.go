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
// Field keys are the API field names. Messages are authentik's (Django REST
// framework's) exact English strings. An Error never contains the value of a
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

// Add appends msg to the errors of field.
func (e *Error) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = make(map[string][]string)
	}
	e.Fields[field] = append(e.Fields[field], msg)
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

// Has reports whether field has at least one error.
func (e *Error) Has(field string) bool { return e != nil && len(e.Fields[field]) > 0 }

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
// in its sorted place; an Error with nothing recorded renders as {}.
func (e *Error) MarshalJSON() ([]byte, error) {
	m := make(map[string][]string, len(e.Fields)+1)
	for k, v := range e.Fields {
		m[k] = v
	}
	if len(e.NonField) > 0 {
		m[NonFieldKey] = append(m[NonFieldKey], e.NonField...)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// UnmarshalJSON reads a 400 body back, so that clients of the API can
// decode it into an Error.
func (e *Error) UnmarshalJSON(b []byte) error {
	var m map[string][]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*e = Error{}
	for k, v := range m {
		if k == NonFieldKey {
			e.NonField = v
			continue
		}
		if e.Fields == nil {
			e.Fields = make(map[string][]string)
		}
		e.Fields[k] = v
	}
	return nil
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
