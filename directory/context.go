package directory

import (
	"encoding/json"
	"math"

	"github.com/authflow/authflow/internal/jsonvalue"
)

// ContextPendingUser is the plan context key of the user a flow acts on:
// authentik's PLAN_CONTEXT_PENDING_USER (flows/planner.py:36).
const ContextPendingUser = "pending_user"

// ContextUser is u as a flow's plan context holds it (pending_user), a
// map of its fields that stays JSON through a saved execution: pk,
// username, name, email, uuid (a string), is_active, path, type and
// attributes (a deep copy). The executor writes this form and package
// expression reads and writes it (ak_user_by's user assigned to
// flow_plan.context["pending_user"]), so that one form goes everywhere.
func ContextUser(u User) map[string]any {
	attrs := jsonvalue.CloneMap(u.Attributes)
	if attrs == nil {
		attrs = map[string]any{}
	}
	return map[string]any{
		"pk": u.PK, "username": u.Username, "name": u.Name, "email": u.Email, "uuid": u.UUID.String(),
		"is_active": u.IsActive, "path": u.Path, "type": string(u.Type), "attributes": attrs,
	}
}

// ContextUserPK returns the pk of a plan context's user value
// (ContextUser's form, also after a JSON round trip, which makes the pk
// a float64 or a json.Number), and false when v is not a map with a
// positive integral pk.
func ContextUserPK(v any) (int64, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return 0, false
	}
	var pk int64
	switch n := m["pk"].(type) {
	case int64:
		pk = n
	case int:
		pk = int64(n)
	case float64:
		if n != math.Trunc(n) || n < 1 || n > 1<<53 {
			return 0, false
		}
		pk = int64(n)
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return 0, false
		}
		pk = i
	default:
		return 0, false
	}
	return pk, pk > 0
}
