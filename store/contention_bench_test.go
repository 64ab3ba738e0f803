package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authflow/authflow/store"
)

// BenchmarkContention measures the write rate of 8 writers alone and with
// 64 readers listing and getting flows at the same time, on one store of
// 1,000 flows with fsync on; compare the two writes/s figures:
//
//	go test -run=NONE -bench=Contention -benchtime=3s ./store/
func BenchmarkContention(b *testing.B) {
	for _, readers := range []int{0, 64} {
		b.Run(fmt.Sprintf("readers=%d", readers), func(b *testing.B) {
			s, err := store.Open(filepath.Join(b.TempDir(), "c.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			err = s.Update(ctx, func(tx *store.Tx) error {
				for i := range 1000 {
					if _, err := tx.Create(store.ModelFlow, scaleFlowBody(i), nil); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			stop := make(chan struct{})
			var rwg sync.WaitGroup
			var reads atomic.Int64
			for r := range readers {
				rwg.Add(1)
				go func() {
					defer rwg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						var err error
						if r%2 == 0 {
							err = s.View(ctx, func(tx *store.Tx) error {
								_, err := store.Flows.List(tx, store.Query{})
								return err
							})
						} else {
							slug := fmt.Sprintf("flow-%07d", (i*7+r)%1000)
							err = s.View(ctx, func(tx *store.Tx) error {
								_, err := store.Flows.View(tx, store.By("slug", slug))
								return err
							})
						}
						if err != nil {
							b.Error(err)
							return
						}
						reads.Add(1)
					}
				}()
			}
			var writes atomic.Int64
			start := time.Now()
			b.ResetTimer()
			var wg sync.WaitGroup
			per := max(1, b.N/8)
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range per {
						slug := fmt.Sprintf("flow-%07d", (w*per+i)%1000)
						err := s.Update(ctx, func(tx *store.Tx) error {
							_, err := store.Flows.Patch(tx, store.By("slug", slug), []byte(fmt.Sprintf(`{"title":"t%d"}`, i)), nil)
							return err
						})
						if err != nil {
							b.Error(err)
							return
						}
						writes.Add(1)
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			close(stop)
			rwg.Wait()
			b.ReportMetric(float64(writes.Load())/elapsed.Seconds(), "writes/s")
			b.ReportMetric(float64(reads.Load())/elapsed.Seconds(), "reads/s")
		})
	}
}
