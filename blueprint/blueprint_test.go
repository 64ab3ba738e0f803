package blueprint_test

import (
	"context"
	"encoding/json"
	"fmt"
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
	files, err := filepath.Glob("testdata/authentik/*/*.yaml")
	if err != nil || len(files) != 21 {
		t.Fatalf("%d shipped blueprints in testdata, want 21: %v", len(files), err)
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

// All 21 import into one store, one after another, each imported twice
// in a row: the second import of each changes nothing. (Some of them
// define the same objects differently, such as the two-factor example's
// own default authentication flow, so a later file may change an earlier
// one's objects, as in authentik.)
func TestShippedBlueprintsTogether(t *testing.T) {
	files, _ := filepath.Glob("testdata/authentik/*/*.yaml")
	s := newStore(t)
	opts := blueprint.Options{Dir: "testdata/authentik"}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for pass := range 2 {
			res, err := blueprint.Load(context.Background(), s, strings.NewReader(string(raw)), opts)
			if err != nil {
				t.Fatalf("pass %d, %s: %v", pass, f, err)
			}
			if pass == 1 && res.Changed {
				var changed []string
				for _, l := range res.Logs {
					if a := l.Attributes["action"]; a != "unchanged" && a != "skipped" && a != nil {
						changed = append(changed, fmt.Sprint(a, l.Attributes["entry"], l.Attributes["changes"]))
					}
				}
				t.Errorf("second import of %s changed: %v", f, changed)
			}
		}
	}
	if n := count(t, s, store.ModelFlow); n < 15 {
		t.Errorf("%d flows after all 21", n)
	}
}
