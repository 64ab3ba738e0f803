package flow_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/google/uuid"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func fmtSprint(v any) string { return fmt.Sprint(v) }

// golden compares got with testdata/name byte for byte, or rewrites the
// file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	want = bytes.TrimSuffix(want, []byte("\n"))
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got %s\nwant %s", path, got, want)
	}
}

// keys returns the top-level keys of a JSON object, in order.
func keys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

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
			golden(t, tt.name, got)
			want := []string{"pk", "policybindingmodel_ptr_id", "name", "slug", "title", "designation", "background",
				"stages", "policies", "cache_count", "policy_engine_mode", "compatibility_mode", "export_url",
				"layout", "denied_action", "authentication"}
			if k := keys(t, got); fmt.Sprint(k) != fmt.Sprint(want) {
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
	golden(t, "set.json", got)
	want := []string{"pk", "policybindingmodel_ptr_id", "name", "slug", "title", "designation", "background",
		"policy_engine_mode", "compatibility_mode", "export_url", "layout", "denied_action"}
	if k := keys(t, got); fmt.Sprint(k) != fmt.Sprint(want) {
		t.Errorf("keys = %q\nwant %q", k, want)
	}
}
