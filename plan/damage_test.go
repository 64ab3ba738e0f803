package plan_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
	bolt "go.etcd.io/bbolt"
)

// A binding whose stage record is gone, or a policy binding whose
// policy's is, is damage: planning and the diagrams fail with ErrCorrupt,
// as they did when they read views, never ErrNotFound (a 404 for a flow
// that exists).
func TestPlanDanglingReference(t *testing.T) {
	for _, tt := range []struct{ bucket, name string }{{"stages", "pw"}, {"policies", "no"}} {
		t.Run(tt.bucket, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "p.db")
			s, err := store.Open(path, &store.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := blueprint.Load(ctx, s, strings.NewReader(doc("none")), blueprint.Options{}); err != nil {
				t.Fatal(err)
			}
			var pk []byte
			_ = s.View(ctx, func(tx *store.Tx) error {
				if tt.bucket == "stages" {
					st, _ := store.Stages.Get(tx, store.By("name", tt.name))
					pk = st.PK[:]
				} else {
					p, _ := store.Policies.Get(tx, store.By("name", tt.name))
					pk = p.PK[:]
				}
				return nil
			})
			s.Close()
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte(tt.bucket)).Delete(pk) })
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			s, err = store.Open(path, &store.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := makePlan(t, s, plan.Request{}, plan.Options{}); !errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrNotFound) {
				t.Errorf("plan: %v, want ErrCorrupt", err)
			}
			for name, diagram := range map[string]func(*store.Tx, string) (string, error){"Diagram": plan.Diagram, "PlannerDiagram": plan.PlannerDiagram} {
				err := s.View(ctx, func(tx *store.Tx) error { _, err := diagram(tx, "login"); return err })
				if !errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: %v, want ErrCorrupt", name, err)
				}
			}
		})
	}
}
