package blueprint

import (
	"github.com/authflow/authflow/store"
)

// Handler imports the entries of a model that authflow does not hold
// (brands, applications, ...), registered by model name in
// Options.Handlers.
type Handler interface {
	// Apply handles one entry, its identifiers and attrs resolved, in the
	// import's transaction. It returns the pk that !KeyOf gives for the
	// entry (or ""), and the entry's action (ActionCreate, ...).
	Apply(tx *store.Tx, e *Entry, identifiers, attrs map[string]any) (pk, action string, err error)
}

// HandlerFunc is a Handler as a function.
type HandlerFunc func(tx *store.Tx, e *Entry, identifiers, attrs map[string]any) (string, string, error)

// Apply calls f.
func (f HandlerFunc) Apply(tx *store.Tx, e *Entry, identifiers, attrs map[string]any) (string, string, error) {
	return f(tx, e, identifiers, attrs)
}
