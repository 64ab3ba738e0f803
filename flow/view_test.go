package flow_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/google/uuid"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func fmtSprint(v any) string { return fmt.Sprint(v) }

func TestViewJSON(t *testing.T) {
	stageA := uuid.MustParse("aaaaaaaa-0000-4000-8000-000000000001")
	stageB := uuid.MustParse("bbbbbbbb-0000-4000-8000-000000000002")
	tests := []struct {
		name string
		view flow.View
	}{
		{"view.json", flow.View{Flow: stored(), Stages: []uuid.UUID{stageA, stageB, stageA}}},
		{"view_defaults.json", flow.View{Flow: flow.New("Empty", "empty", "Empty <&>", flow.DesignationAuthorization)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.view)
			if err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, filepath.Join("testdata", tt.name), got)
			want := []string{"pk", "policybindingmodel_ptr_id", "name", "slug", "title", "designation", "background",
				"stages", "policies", "cache_count", "policy_engine_mode", "compatibility_mode", "export_url",
				"layout", "denied_action", "authentication"}
			if k := testutil.Keys(t, got); fmt.Sprint(k) != fmt.Sprint(want) {
				t.Errorf("keys = %q\nwant %q", k, want)
			}
		})
	}
}

func TestSetJSON(t *testing.T) {
	got, err := json.Marshal(flow.Set{Flow: stored()})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, filepath.Join("testdata", "set.json"), got)
	want := []string{"pk", "policybindingmodel_ptr_id", "name", "slug", "title", "designation", "background",
		"policy_engine_mode", "compatibility_mode", "export_url", "layout", "denied_action"}
	if k := testutil.Keys(t, got); fmt.Sprint(k) != fmt.Sprint(want) {
		t.Errorf("keys = %q\nwant %q", k, want)
	}
}
