package executor

import (
	"context"
	"testing"

	"github.com/authflow/authflow/store"
)

// The flows and stages a request reads are kept decoded for one store
// revision only: a change to the flow or to the stage shown is seen by
// the next request.
func TestConfigurationCacheFollowsChanges(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "d1", 0, "")))
	ctx := context.Background()
	r := h.get("f", "")
	r.want(t, ComponentDummy, "name", "d1")
	if got := r.body["flow_info"].(map[string]any)["title"]; got != "Welcome f" {
		t.Fatalf("title %v", got)
	}
	err := h.s.Update(ctx, func(tx *store.Tx) error {
		if _, err := store.Stages.Patch(tx, store.By("name", "d1"), []byte(`{"name":"renamed"}`), nil); err != nil {
			return err
		}
		_, err := store.Flows.Patch(tx, store.By("slug", "f"), []byte(`{"title":"Hello"}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r = h.get("f", "")
	r.want(t, ComponentDummy, "name", "renamed")
	if got := r.body["flow_info"].(map[string]any)["title"]; got != "Hello" {
		t.Errorf("title %v, want Hello", got)
	}
}
