package directory_test

import (
	"encoding/json"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/google/uuid"
)

func TestContextUser(t *testing.T) {
	u := directory.DefaultUser()
	u.PK, u.Username, u.Email, u.UUID = 7, "alice", "a@example.com", uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	u.Attributes = map[string]any{"k": "v"}
	m := directory.ContextUser(u)
	if m["username"] != "alice" || m["uuid"] != "6ba7b810-9dad-11d1-80b4-00c04fd430c8" || m["type"] != "internal" || m["is_active"] != true {
		t.Errorf("%v", m)
	}
	m["attributes"].(map[string]any)["k"] = "changed"
	if u.Attributes["k"] != "v" {
		t.Error("the context's attributes share the user's map")
	}
	// Through a saved execution (JSON), the pk is still read.
	b, _ := json.Marshal(m)
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if pk, ok := directory.ContextUserPK(back); !ok || pk != 7 {
		t.Errorf("pk %d %v", pk, ok)
	}
	for _, bad := range []any{nil, "alice", map[string]any{}, map[string]any{"pk": 1.5}, map[string]any{"pk": -1.0}, map[string]any{"pk": "7"}, map[string]any{"pk": 1e300}} {
		if pk, ok := directory.ContextUserPK(bad); ok {
			t.Errorf("%v: pk %d", bad, pk)
		}
	}
}
