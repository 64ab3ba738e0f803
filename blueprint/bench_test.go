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
	"github.com/google/uuid"
)

// generated is a blueprint of n entries: flows, deny stages and the
// bindings between them, in threes.
func generated(n int) string {
	var b strings.Builder
	b.WriteString("version: 1\nentries:\n")
	for i := 0; i < n/3; i++ {
		fmt.Fprintf(&b, "- model: authentik_flows.flow\n  id: f%d\n  identifiers: {slug: flow-%d}\n  attrs: {name: Flow %d, title: Welcome, designation: authentication}\n", i, i, i)
		fmt.Fprintf(&b, "- model: authentik_stages_deny.denystage\n  id: s%d\n  identifiers: {name: deny-%d}\n  attrs: {deny_message: No}\n", i, i)
		fmt.Fprintf(&b, "- model: authentik_flows.flowstagebinding\n  identifiers: {target: !KeyOf f%d, stage: !KeyOf s%d, order: 10}\n", i, i)
	}
	return b.String()
}

func benchStore(b *testing.B) *store.Store {
	b.Helper()
	s, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkImport imports a generated blueprint into an empty store, and
// BenchmarkImportBaseline creates the same objects through the store in
// one transaction. Compare them in one run, at two sizes:
//
//	go test ./blueprint -run=NONE -bench=Import -benchtime=5x
func BenchmarkImport(b *testing.B) {
	for _, n := range []int{300, 10002} {
		doc := generated(n)
		bp, err := blueprint.Parse(strings.NewReader(doc), blueprint.Limits{MaxEntries: 20000})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s := benchStore(b)
				b.StartTimer()
				res, err := blueprint.Apply(context.Background(), s, bp, blueprint.Options{})
				if err != nil || !res.Success {
					b.Fatal(err, res.Logs[len(res.Logs)-1])
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

func BenchmarkImportBaseline(b *testing.B) {
	for _, n := range []int{300, 10002} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s := benchStore(b)
				b.StartTimer()
				err := s.Update(context.Background(), func(tx *store.Tx) error {
					for j := 0; j < n/3; j++ {
						f, err := tx.Create(store.ModelFlow, fmt.Appendf(nil, `{"slug":"flow-%d","name":"Flow %d","title":"Welcome","designation":"authentication"}`, j, j), nil)
						if err != nil {
							return err
						}
						st, err := tx.Create("authentik_stages_deny.denystage", fmt.Appendf(nil, `{"name":"deny-%d","deny_message":"No"}`, j), nil)
						if err != nil {
							return err
						}
						if _, err := tx.Create(store.ModelBinding, fmt.Appendf(nil, `{"target":%q,"stage":%q,"order":10}`, f, st), nil); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// shippedDocs are the 21 shipped blueprints, parsed.
func shippedDocs(b *testing.B) []*blueprint.Blueprint {
	b.Helper()
	files, _ := filepath.Glob("testdata/authentik/*/*.yaml")
	var out []*blueprint.Blueprint
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		bp, err := blueprint.Parse(strings.NewReader(string(raw)), blueprint.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, bp)
	}
	return out
}

var shippedOpts = blueprint.Options{Dir: "testdata/authentik"}

// BenchmarkShipped imports the 21 shipped blueprints, each into an empty
// store; BenchmarkShippedBaseline creates the same objects (the same
// bodies, in the same order, references remapped) straight through the
// store, each blueprint's in one transaction.
//
//	go test ./blueprint -run=NONE -bench=Shipped -benchtime=20x
func BenchmarkShipped(b *testing.B) {
	docs := shippedDocs(b)
	for i := 0; i < b.N; i++ {
		for _, bp := range docs {
			b.StopTimer()
			s := benchStore(b)
			b.StartTimer()
			res, err := blueprint.Apply(context.Background(), s, bp, shippedOpts)
			if err != nil || !res.Success {
				b.Fatal(err)
			}
		}
	}
}

// created is one object an import created: its model and write body.
type created struct {
	model string
	pk    string
	body  map[string]any
}

func BenchmarkShippedBaseline(b *testing.B) {
	var plans [][]created
	for _, bp := range shippedDocs(b) {
		s := benchStore(b)
		res, err := blueprint.Apply(context.Background(), s, bp, shippedOpts)
		if err != nil || !res.Success {
			b.Fatal(err)
		}
		var plan []created
		_ = s.View(context.Background(), func(tx *store.Tx) error {
			for _, l := range res.Logs {
				if l.Attributes["action"] != "create" {
					continue
				}
				model := l.Attributes["entry"].(map[string]any)["model"].(string)
				pk := l.Attributes["pk"].(string)
				id, _ := uuid.Parse(pk)
				m, err := tx.KindOf(strings.ToLower(model), id)
				if err != nil {
					b.Fatal(err)
				}
				attrs, err := tx.Attrs(m, id)
				if err != nil {
					b.Fatal(err)
				}
				for _, f := range s.Secrets(m) {
					attrs[f] = "secret" // write-only: not in Attrs
				}
				plan = append(plan, created{m, pk, attrs})
			}
			return nil
		})
		plans = append(plans, plan)
	}
	remap := func(v any, ids map[string]string) any {
		switch x := v.(type) {
		case string:
			if n, ok := ids[x]; ok {
				return n
			}
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				if s, ok := e.(string); ok && ids[s] != "" {
					out[i] = ids[s]
				} else {
					out[i] = e
				}
			}
			return out
		}
		return v
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, plan := range plans {
			b.StopTimer()
			s := benchStore(b)
			b.StartTimer()
			err := s.Update(context.Background(), func(tx *store.Tx) error {
				ids := map[string]string{}
				for _, c := range plan {
					body := map[string]any{}
					for k, v := range c.body {
						body[k] = remap(v, ids)
					}
					raw, _ := json.Marshal(body)
					pk, err := tx.Create(c.model, raw, nil)
					if err != nil {
						return fmt.Errorf("%s %s: %w", c.model, raw, err)
					}
					ids[c.pk] = pk.String()
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
