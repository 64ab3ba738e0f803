package blueprint_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/store"
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
						f, err := tx.Create(store.ModelFlow, fmt.Appendf(nil, `{"slug":"flow-%d","name":"Flow %d","title":"Welcome","designation":"authentication"}`, j, j))
						if err != nil {
							return err
						}
						st, err := tx.Create("authentik_stages_deny.denystage", fmt.Appendf(nil, `{"name":"deny-%d","deny_message":"No"}`, j))
						if err != nil {
							return err
						}
						if _, err := tx.Create(store.ModelBinding, fmt.Appendf(nil, `{"target":%q,"stage":%q,"order":10}`, f, st)); err != nil {
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
