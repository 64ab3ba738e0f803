package blueprint

import (
	"fmt"

	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// Handler imports the entries of a model that authflow does not hold
// (groups, brands, applications, ...), registered by model name in
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

// ModelGroup is authentik's group model.
const ModelGroup = "authentik_core.group"

// groupNamespace derives the pks of groups named without one.
var groupNamespace = uuid.MustParse("3f0e6c1e-8b7a-4c4f-9d61-2a4f1c6b9e10")

// Groups handles authentik_core.group entries without storing anything:
// authflow holds no groups. A group's pk is its pk identifier, or else a
// UUID derived from its name (version 5), the same on every import, so
// that "create_users_group: !KeyOf my-group" resolves to a stable pk.
// The action is always unchanged.
var Groups Handler = HandlerFunc(func(_ *store.Tx, _ *Entry, ids, attrs map[string]any) (string, string, error) {
	if pk, ok := ids["pk"]; ok {
		id, err := uuid.Parse(str(pk))
		if err != nil {
			return "", "", fmt.Errorf("group pk %q is not a UUID", str(pk))
		}
		return id.String(), ActionUnchanged, nil
	}
	name, ok := ids["name"]
	if !ok {
		name, ok = attrs["name"]
	}
	if !ok || str(name) == "" {
		return "", "", fmt.Errorf("a group is identified by its pk or its name")
	}
	return uuid.NewSHA1(groupNamespace, []byte(str(name))).String(), ActionUnchanged, nil
})
