package blueprint_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/store"
)

func newStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "bp.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func parse(t *testing.T, doc string) *blueprint.Blueprint {
	t.Helper()
	bp, err := blueprint.Parse(strings.NewReader(doc), blueprint.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return bp
}

func actions(res blueprint.Result) []string {
	var out []string
	for _, l := range res.Logs {
		if a, ok := l.Attributes["action"].(string); ok {
			out = append(out, a)
		} else {
			out = append(out, l.LogLevel+":"+l.Event)
		}
	}
	return out
}

// The flow blueprints authentik ships import into an empty store (those
// that name only models authflow holds), and a second import is all
// unchanged.
func TestShippedBlueprints(t *testing.T) {
	files, err := filepath.Glob("../../shared/authentik/blueprints/*/*.yaml")
	if err != nil || len(files) == 0 {
		t.Skip("the shipped blueprints are not beside the repository")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			bp, err := blueprint.Parse(strings.NewReader(string(raw)), blueprint.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			s := newStore(t)
			res, err := blueprint.Apply(context.Background(), s, bp, blueprint.Options{Dir: filepath.Dir(filepath.Dir(f))})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range res.Logs {
				if l.LogLevel == "error" {
					t.Errorf("%s %v", l.Event, l.Attributes)
				}
			}
			if !res.Success || !res.Changed {
				t.Fatalf("import: success %v, changed %v", res.Success, res.Changed)
			}
			again, err := blueprint.Apply(context.Background(), s, bp, blueprint.Options{Dir: filepath.Dir(filepath.Dir(f))})
			if err != nil || !again.Success || again.Changed {
				t.Errorf("re-import: %v, %v", actions(again), err)
			}
		})
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonMap(t *testing.T, v any) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(jsonOf(t, v)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
