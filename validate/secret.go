package validate

import (
	"encoding/json"
	"fmt"
	"io"
)

// Redacted is what a [Secret] prints as.
const Redacted = "[redacted]"

// Secret holds a write-only value such as Duo's client_secret. It is
// accepted on input and persisted, but it prints as [Redacted] under every
// fmt verb and marshals to JSON null, so it cannot leak through a log line,
// an error or an API response by accident. Use [Secret.Reveal] where the
// value is really needed.
type Secret struct{ v string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the wrapped value.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// String returns [Redacted].
func (Secret) String() string { return Redacted }

// GoString returns [Redacted], for %#v.
func (Secret) GoString() string { return Redacted }

// Format writes [Redacted] whatever the verb.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Redacted) }

// MarshalJSON returns null: a Secret never appears in JSON output.
func (Secret) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// UnmarshalJSON accepts a JSON string (or null, meaning empty).
func (s *Secret) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		s.v = ""
		return nil
	}
	return json.Unmarshal(b, &s.v)
}
