package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// The scale benchmarks measure each operation at several database sizes
// in one run, beside raw bbolt doing the nearest equivalent, so that the
// growth from the smallest to the largest size can be quoted:
//
//	go test ./store/ -run=NONE -bench=Scale -benchtime=2000x -args -scale=1000,100000
//
// Each size is a store of N flows, N stages of three kinds, and 5 bindings
// per flow (flow i binds stages i..i+4), built once per size and shared by
// the benchmarks. The default sizes are small, so a plain -bench run stays
// quick.
var (
	scaleFlag  = flag.String("scale", "1000,4000", "comma-separated flow counts for the Scale benchmarks")
	scaleCache = flag.Int("scale-cache", 0, "Options.CacheBytes of the Scale benchmarks' stores (-1: no cache), to tell the engine's growth from the cache's coverage")
)

// TestMain removes the scale and directory benchmarks' files after the
// run.
func TestMain(m *testing.M) {
	code := m.Run()
	closeDirDBs()
	for _, d := range scaleDBs {
		d.s.Close()
		d.raw.Close()
		os.RemoveAll(filepath.Dir(d.path))
	}
	os.Exit(code)
}

type scaleDB struct {
	s      *store.Store
	raw    *bolt.DB // the same records, in one raw bucket, keyed by pk
	path   string
	n      int
	flows  []uuid.UUID
	stages []uuid.UUID
}

var (
	bulkRound atomic.Int64 // makes every bulk-loaded slug new
	scaleMu   sync.Mutex
	scaleDBs  = map[int]*scaleDB{}
)

func scaleSizes(b *testing.B) []int {
	var out []int
	for _, f := range strings.Split(*scaleFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 10 {
			b.Fatalf("-scale: bad size %q", f)
		}
		out = append(out, n)
	}
	return out
}

var scaleKinds = []string{string(stage.ModelUserWrite), string(stage.ModelInvitation), string(stage.ModelAuthenticatorDuo)}

func scaleStageBody(i int) []byte {
	switch i % 3 {
	case 0:
		return []byte(fmt.Sprintf(`{"name":"stage-%d"}`, i))
	case 1:
		return []byte(fmt.Sprintf(`{"name":"stage-%d","continue_flow_without_invitation":true}`, i))
	}
	return []byte(fmt.Sprintf(`{"name":"stage-%d","client_id":"DI%d","client_secret":"s","api_hostname":"api.example.com"}`, i, i))
}

func scaleFlowBody(i int) []byte {
	d := []string{"authentication", "enrollment", "recovery", "authorization", "invalidation"}[i%5]
	return []byte(fmt.Sprintf(`{"name":"Flow %d","slug":"flow-%07d","title":"Welcome to authentik! %d","designation":"%s"}`, i, i, i, d))
}

// scaleStore builds (once) the store of n flows.
func scaleStore(b *testing.B, n int) *scaleDB {
	scaleMu.Lock()
	defer scaleMu.Unlock()
	if d, ok := scaleDBs[n]; ok {
		return d
	}
	dir, err := os.MkdirTemp("", "authflow-scale")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "scale.db")
	s, err := store.Open(path, &store.Options{NoSync: true, CacheBytes: *scaleCache})
	if err != nil {
		b.Fatal(err)
	}
	d := &scaleDB{s: s, path: path, n: n}
	ctx := context.Background()
	const chunk = 5000
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		err := s.Update(ctx, func(tx *store.Tx) error {
			for i := lo; i < hi; i++ {
				f, err := tx.Create(store.ModelFlow, scaleFlowBody(i), nil)
				if err != nil {
					return err
				}
				st, err := tx.Create(scaleKinds[i%3], scaleStageBody(i), nil)
				if err != nil {
					return err
				}
				d.flows, d.stages = append(d.flows, f), append(d.stages, st)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		err := s.Update(ctx, func(tx *store.Tx) error {
			for i := lo; i < hi; i++ {
				for j := range 5 {
					body := fmt.Sprintf(`{"target":"%s","stage":"%s","order":%d}`, d.flows[i], d.stages[(i+j)%n], 10*j)
					if _, err := tx.Create(store.ModelBinding, []byte(body), nil); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// The baseline: the flows' JSON in one raw bbolt bucket.
	raw, err := bolt.Open(filepath.Join(dir, "raw.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	for lo := 0; lo < n; lo += chunk {
		err := raw.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("flows"))
			if err != nil {
				return err
			}
			for i := lo; i < min(lo+chunk, n); i++ {
				if err := bk.Put(d.flows[i][:], scaleFlowBody(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	d.raw = raw
	scaleDBs[n] = d
	return d
}

// forSizes runs fn as a sub-benchmark per size.
func forSizes(b *testing.B, fn func(b *testing.B, d *scaleDB)) {
	for _, n := range scaleSizes(b) {
		d := scaleStore(b, n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			fn(b, d)
		})
	}
}

func BenchmarkScaleBaselineGet(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		rng := rand.New(rand.NewPCG(1, 1))
		for b.Loop() {
			id := d.flows[rng.IntN(d.n)]
			err := d.raw.View(func(tx *bolt.Tx) error {
				var m map[string]any
				return json.Unmarshal(tx.Bucket([]byte("flows")).Get(id[:]), &m)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkScaleGetFlowBySlug(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		rng := rand.New(rand.NewPCG(1, 1))
		ctx := context.Background()
		for b.Loop() {
			i := rng.IntN(d.n)
			if v, err := viewIn(ctx, d.s, store.Flows, store.By("slug", fmt.Sprintf("flow-%07d", i))); err != nil || len(v.Stages) != 5 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkScaleGetStageFlowSet(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		rng := rand.New(rand.NewPCG(1, 1))
		ctx := context.Background()
		for b.Loop() {
			if v, err := viewIn(ctx, d.s, store.Stages, store.PK(d.stages[rng.IntN(d.n)])); err != nil || len(v.FlowSet) != 5 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkScaleFlowBindings(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		rng := rand.New(rand.NewPCG(1, 1))
		ctx := context.Background()
		for b.Loop() {
			if v, err := flowBindingsIn(ctx, d.s, d.flows[rng.IntN(d.n)]); err != nil || len(v) != 5 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkScaleListFlowsPage1(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		ctx := context.Background()
		for b.Loop() {
			if p, err := listIn(ctx, d.s, store.Flows, store.Query{}); err != nil || len(p.Results) != 100 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkScaleListFlowsByDesignation(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		ctx := context.Background()
		q := store.Query{Filters: map[string]string{"designation": "recovery"}}
		for b.Loop() {
			if p, err := listIn(ctx, d.s, store.Flows, q); err != nil || len(p.Results) != 100 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkScaleListStagesOfKind(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		ctx := context.Background()
		for b.Loop() {
			if p, err := listIn(ctx, d.s, store.Stages.Kind(string(stage.ModelInvitation)), store.Query{}); err != nil || len(p.Results) != 100 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkScalePatchFlow(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		rng := rand.New(rand.NewPCG(1, 1))
		ctx := context.Background()
		for b.Loop() {
			i := rng.IntN(d.n)
			slug, patch := fmt.Sprintf("flow-%07d", i), []byte(`{"title":"Patched `+strconv.Itoa(rng.IntN(1000))+`"}`)
			err := d.s.Update(ctx, func(tx *store.Tx) error {
				_, err := store.Flows.Patch(tx, store.By("slug", slug), patch, nil)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkScaleDeleteFlow deletes a flow with 5 bindings; each
// iteration first makes one, outside the timer.
func BenchmarkScaleDeleteFlow(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			b.StopTimer()
			slug := fmt.Sprintf("doomed-%d", i)
			i++
			err := d.s.Update(ctx, func(tx *store.Tx) error {
				f, err := tx.Create(store.ModelFlow, []byte(`{"name":"D","slug":"`+slug+`","title":"D","designation":"authentication"}`), nil)
				if err != nil {
					return err
				}
				for j := range 5 {
					body := fmt.Sprintf(`{"target":"%s","stage":"%s","order":%d}`, f, d.stages[(i+j)%d.n], j)
					if _, err := tx.Create(store.ModelBinding, []byte(body), nil); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := deleteIn(ctx, d.s, store.Flows, store.By("slug", slug)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkScaleSearch searches every flow for one term; its baseline,
// BenchmarkScaleBaselineScan, walks the raw bucket looking for the same
// bytes.
func BenchmarkScaleSearch(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		ctx := context.Background()
		q := store.Query{Search: "flow-0000007"}
		for b.Loop() {
			if p, err := listIn(ctx, d.s, store.Flows, q); err != nil || p.Pagination.Count < 1 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkScaleBaselineScan(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		term := []byte("FLOW-0000007")
		for b.Loop() {
			n := 0
			err := d.raw.View(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("flows")).ForEach(func(_, v []byte) error {
					if bytes.Contains(bytes.ToUpper(v), term) {
						n++
					}
					return nil
				})
			})
			if err != nil || n < 1 {
				b.Fatal(err, n)
			}
		}
	})
}

// BenchmarkScaleBulkLoad creates 1,000 flows in one transaction through
// the store (no views built); BenchmarkScaleBaselineBulkLoad puts the same
// flow bodies in raw bbolt, in one transaction; BenchmarkScaleBulkLoadRatio
// alternates the two in one loop and reports the store's rate as a
// fraction of raw bbolt's, which a noisy machine moves less than the two
// rates measured apart.
func BenchmarkScaleBulkLoad(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		for b.Loop() {
			bulkStore(b, d)
		}
		b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
}

func BenchmarkScaleBaselineBulkLoad(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		for b.Loop() {
			bulkRaw(b, d)
		}
		b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
}

func BenchmarkScaleBulkLoadRatio(b *testing.B) {
	forSizes(b, func(b *testing.B, d *scaleDB) {
		var inStore, inRaw time.Duration
		for b.Loop() {
			t0 := time.Now()
			bulkStore(b, d)
			t1 := time.Now()
			bulkRaw(b, d)
			inStore, inRaw = inStore+t1.Sub(t0), inRaw+time.Since(t1)
		}
		b.ReportMetric(inRaw.Seconds()/inStore.Seconds(), "store/raw-rate")
	})
}

// bulkStore creates 1,000 new flows in one store transaction.
func bulkStore(b *testing.B, d *scaleDB) {
	round := bulkRound.Add(1)
	err := d.s.Update(context.Background(), func(tx *store.Tx) error {
		for i := range 1000 {
			body := fmt.Sprintf(`{"name":"Bulk %d","slug":"bulk-%d-%d","title":"Welcome to authentik! %d","designation":"enrollment"}`, i, round, i, i)
			if _, err := tx.Create(store.ModelFlow, []byte(body), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// bulkRaw writes, in raw bbolt, the same bytes the store writes for 1,000
// new flows: the records and their slug, designation and pbm index
// entries, in buckets of the same names.
func bulkRaw(b *testing.B, d *scaleDB) {
	round := bulkRound.Add(1)
	err := d.raw.Update(func(tx *bolt.Tx) error {
		bk := map[string]*bolt.Bucket{}
		for _, name := range []string{"flows", "flows_by_slug", "flows_by_designation", "pbm"} {
			var err error
			if bk[name], err = tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
		}
		for i := range 1000 {
			id, _ := uuid.NewV7()
			pbm, _ := uuid.NewV7()
			slug := fmt.Sprintf("bulk-%d-%d", round, i)
			body := fmt.Sprintf(`{"pk":"%s","policybindingmodel_ptr_id":"%s","name":"Bulk %d","slug":"%s","title":"Welcome to authentik! %d","designation":"enrollment","background":"","policy_engine_mode":"any","compatibility_mode":false,"layout":"stacked","denied_action":"message_continue","authentication":"none"}`, id, pbm, i, slug, i)
			rec := append([]byte{2, 0, 0, 0, 0}, body...)
			puts := [][3][]byte{
				{[]byte("flows"), id[:], rec},
				{[]byte("flows_by_slug"), []byte(slug), id[:]},
				{[]byte("flows_by_designation"), append([]byte("enrollment\x00"+slug+"\x00"), id[:]...), nil},
				{[]byte("pbm"), pbm[:], append(id[:], "flows"...)},
			}
			for _, p := range puts {
				if err := bk[string(p[0])].Put(p[1], p[2]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
