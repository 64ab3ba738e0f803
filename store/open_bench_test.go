package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authflow/authflow/store"
	bolt "go.etcd.io/bbolt"
)

// BenchmarkScaleOpen opens a copy of each size's store (N flows, N
// stages, 5N bindings: see scaleStore) with store.Open and closes it,
// beside raw bbolt opening and closing the same file, and reports the
// ratio:
//
//	go test ./store/ -run=NONE -bench=ScaleOpen -benchtime=20x -args -scale=10000,100000
//
// The copy is made once per size, in the setup; the file is in the page
// cache, as it is for a restart.
func BenchmarkScaleOpen(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		path := filepath.Join(filepath.Dir(d.path), "open.db")
		if _, err := os.Stat(path); err != nil {
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := d.s.Backup(context.Background(), f); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
		}
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, ro := range []bool{false, true} {
			name := "writable"
			if ro {
				name = "read-only"
			}
			b.Run(name, func(b *testing.B) {
				var inStore, inRaw time.Duration
				for b.Loop() {
					t0 := time.Now()
					s, err := store.Open(path, &store.Options{ReadOnly: ro, NoSync: true})
					if err != nil {
						b.Fatal(err)
					}
					if err := s.Close(); err != nil {
						b.Fatal(err)
					}
					t1 := time.Now()
					db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: ro, NoSync: true})
					if err != nil {
						b.Fatal(err)
					}
					if err := db.Close(); err != nil {
						b.Fatal(err)
					}
					inStore, inRaw = inStore+t1.Sub(t0), inRaw+time.Since(t1)
				}
				n := float64(b.N)
				b.ReportMetric(inStore.Seconds()/n*1e3, "store-ms/open")
				b.ReportMetric(inRaw.Seconds()/n*1e3, "bbolt-ms/open")
				b.ReportMetric(inStore.Seconds()/inRaw.Seconds(), "store/bbolt")
				b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")
			})
		}
	})
}
