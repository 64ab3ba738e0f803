package blueprint_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/store"
	bolt "go.etcd.io/bbolt"
)

// An export of a flow whose binding names a stage record that is gone,
// or whose policy binding names a policy's, fails with ErrCorrupt (the
// file is damaged), never ErrNotFound (a 404 for a flow that exists).
func TestExportDanglingReference(t *testing.T) {
	raw, err := os.ReadFile("testdata/authentik/example/flows-login-2fa.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, bucket := range []string{"stages", "policies"} {
		t.Run(bucket, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "e.db")
			s, err := store.Open(path, &store.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := blueprint.Load(ctx, s, strings.NewReader(string(raw)), blueprint.Options{}); err != nil {
				t.Fatal(err)
			}
			var slug string
			var gone []byte
			err = s.View(ctx, func(tx *store.Tx) error {
				flows, err := store.Flows.List(tx, store.Query{})
				if err != nil || len(flows.Results) == 0 {
					t.Fatalf("flows: %v", err)
				}
				f := flows.Results[0]
				slug = f.Slug
				bs, err := store.Bindings.ByRef(tx, "target", f.PK)
				if err != nil {
					return err
				}
				if bucket == "stages" {
					gone = bs[0].Stage[:]
					return nil
				}
				for _, target := range append([][16]byte{f.PK}, func() (ids [][16]byte) {
					for _, b := range bs {
						ids = append(ids, b.PK)
					}
					return ids
				}()...) {
					pbs, err := store.PolicyBindings.ByRef(tx, "target", target)
					if err != nil {
						return err
					}
					for _, pb := range pbs {
						if pb.Policy != nil && gone == nil {
							gone = pb.Policy[:]
						}
					}
				}
				return nil
			})
			if err != nil || gone == nil {
				t.Fatalf("nothing to damage: %v", err)
			}
			s.Close()
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucket)).Delete(gone) })
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			s, err = store.Open(path, &store.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for name, export := range map[string]func(*store.Tx, string, time.Time) ([]byte, error){"Export": blueprint.Export, "ExportPortable": blueprint.ExportPortable} {
				err := s.View(ctx, func(tx *store.Tx) error { _, err := export(tx, slug, time.Now()); return err })
				if !errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: %v, want ErrCorrupt", name, err)
				}
			}
		})
	}
}
