package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	bolt "go.etcd.io/bbolt"
)

// The benchmarks use the store's default durability (fsync on). Compare
// each with its raw-bbolt baseline from the same run:
//
//	go test -run=NONE -bench=. -benchmem ./store/
//
// Targets: FlowPatch <= 1.3x BaselinePatch, FlowGet and FlowGetCold <= 2x
// BaselineGet, StageGet <= 4x BaselineGet. scale_bench_test.go measures
// the same operations at several database sizes.

func benchStore(b *testing.B) *store.Store {
	b.Helper()
	s, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchFlow(b *testing.B, s *store.Store, i int) flow.Flow {
	b.Helper()
	var f flow.Flow
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		f, err = store.Flows.Create(tx, flow.New(fmt.Sprintf("Flow %d", i), fmt.Sprintf("flow-%d", i), "Welcome to authentik!", flow.DesignationAuthentication), nil)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func benchStage(b *testing.B, s *store.Store, i int) stage.Stage {
	b.Helper()
	var st stage.Stage
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		st, err = store.Stages.Create(tx, stage.Stage{Name: fmt.Sprintf("stage-%d", i), Config: stage.DefaultUserWrite()}, nil)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

func benchBind(b *testing.B, s *store.Store, f flow.Flow, st stage.Stage, order int32) {
	b.Helper()
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := store.Bindings.Create(tx, binding.New(f.PK, st.PK, order), nil)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}

// benchPatch applies patch to the flow "flow-0" in one update transaction.
func benchPatch(ctx context.Context, s *store.Store, patch []byte) error {
	return s.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Flows.Patch(tx, store.By("slug", "flow-0"), patch, nil)
		return err
	})
}

// BenchmarkFlowPatch patches a flow's title by slug, in one update
// transaction.
func BenchmarkFlowPatch(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	benchFlow(b, s, 0)
	patches := [][]byte{[]byte(`{"title":"Welcome!"}`), []byte(`{"title":"Welcome back!"}`)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := benchPatch(ctx, s, patches[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFlowGet gets a flow bound to 5 stages, with every computed field
// (its view), in one read transaction.
func BenchmarkFlowGet(b *testing.B) { benchFlowGet(b, benchStore(b)) }

// BenchmarkFlowGetRecord is BenchmarkFlowGet reading the flow's record
// only, without computed fields, as a planner does.
func BenchmarkFlowGetRecord(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	benchFlowBound(b, s)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var f flow.Flow
		err := s.View(ctx, func(tx *store.Tx) error {
			var err error
			f, err = store.Flows.Get(tx, store.By("slug", "flow-0"))
			return err
		})
		if err != nil || f.Slug != "flow-0" {
			b.Fatal(err, f.Slug)
		}
	}
}

// BenchmarkFlowGetCold is BenchmarkFlowGet with the decoded-object cache
// off, so that every get decodes the flow.
func BenchmarkFlowGetCold(b *testing.B) {
	s, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), &store.Options{CacheBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	benchFlowGet(b, s)
}

// benchFlowBound creates the flow "flow-0" bound to 5 stages.
func benchFlowBound(b *testing.B, s *store.Store) {
	b.Helper()
	f := benchFlow(b, s, 0)
	for i := 0; i < 5; i++ {
		benchBind(b, s, f, benchStage(b, s, i), int32(10*(5-i)))
	}
}

func benchFlowGet(b *testing.B, s *store.Store) {
	ctx := context.Background()
	benchFlowBound(b, s)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var v flow.View
		err := s.View(ctx, func(tx *store.Tx) error {
			var err error
			v, err = store.Flows.View(tx, store.By("slug", "flow-0"))
			return err
		})
		if err != nil || len(v.Stages) != 5 {
			b.Fatal(err, len(v.Stages))
		}
	}
}

// BenchmarkStageGet gets a stage bound into 10 flows, with flow_set (its
// view), in one read transaction.
func BenchmarkStageGet(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	st := benchStageBound(b, s)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var v stage.View
		err := s.View(ctx, func(tx *store.Tx) error {
			var err error
			v, err = store.Stages.View(tx, store.PK(st.PK))
			return err
		})
		if err != nil || len(v.FlowSet) != 10 {
			b.Fatal(err, len(v.FlowSet))
		}
	}
}

// BenchmarkStageGetRecord is BenchmarkStageGet reading the stage's record
// only, without flow_set, as a planner does.
func BenchmarkStageGetRecord(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	st := benchStageBound(b, s)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var got stage.Stage
		err := s.View(ctx, func(tx *store.Tx) error {
			var err error
			got, err = store.Stages.Get(tx, store.PK(st.PK))
			return err
		})
		if err != nil || got.PK != st.PK {
			b.Fatal(err, got.PK)
		}
	}
}

// benchStageBound creates a stage bound into 10 flows.
func benchStageBound(b *testing.B, s *store.Store) stage.Stage {
	b.Helper()
	st := benchStage(b, s, 0)
	for i := 0; i < 10; i++ {
		benchBind(b, s, benchFlow(b, s, i), st, 10)
	}
	return st
}

// baselineFlow is a flow-sized JSON document for the raw-bbolt baselines.
type baselineFlow struct {
	PK                      string `json:"pk"`
	PolicyBindingModelPtrID string `json:"policybindingmodel_ptr_id"`
	Name                    string `json:"name"`
	Slug                    string `json:"slug"`
	Title                   string `json:"title"`
	Designation             string `json:"designation"`
	Background              string `json:"background"`
	PolicyEngineMode        string `json:"policy_engine_mode"`
	CompatibilityMode       bool   `json:"compatibility_mode"`
	Layout                  string `json:"layout"`
	DeniedAction            string `json:"denied_action"`
	Authentication          string `json:"authentication"`
}

func baselineDB(b *testing.B) (*bolt.DB, []byte, []byte) {
	b.Helper()
	db, err := bolt.Open(filepath.Join(b.TempDir(), "baseline.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	bucket, key := []byte("flows"), []byte("0123456789abcdef")
	v, _ := json.Marshal(baselineFlow{
		PK: "01a20a8f-627a-7d07-a8c6-77816c9044d1", PolicyBindingModelPtrID: "01a20a8f-627a-7d0b-ae9c-80574f0e4be7",
		Name: "Flow 0", Slug: "flow-0", Title: "Welcome to authentik!", Designation: "authentication",
		PolicyEngineMode: "any", Layout: "stacked", DeniedAction: "message_continue", Authentication: "none",
	})
	err = db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		return bk.Put(key, v)
	})
	if err != nil {
		b.Fatal(err)
	}
	return db, bucket, key
}

// BenchmarkBaselinePatch reads, decodes, changes, encodes and writes a
// flow-sized JSON value in one bbolt Update.
func BenchmarkBaselinePatch(b *testing.B) {
	db, bucket, key := baselineDB(b)
	titles := []string{"Welcome!", "Welcome back!"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := db.Update(func(tx *bolt.Tx) error {
			bk := tx.Bucket(bucket)
			var f baselineFlow
			if err := json.Unmarshal(bk.Get(key), &f); err != nil {
				return err
			}
			f.Title = titles[i%2]
			v, err := json.Marshal(f)
			if err != nil {
				return err
			}
			return bk.Put(key, v)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineGet is one bbolt View get plus a JSON decode.
func BenchmarkBaselineGet(b *testing.B) {
	db, bucket, key := baselineDB(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var f baselineFlow
		err := db.View(func(tx *bolt.Tx) error {
			return json.Unmarshal(tx.Bucket(bucket).Get(key), &f)
		})
		if err != nil || f.Slug != "flow-0" {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineView is one empty bbolt View: the raw cost of a read
// transaction, the baseline of BenchmarkViewEmpty.
func BenchmarkBaselineView(b *testing.B) {
	db, _, _ := baselineDB(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := db.View(func(*bolt.Tx) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkViewEmpty is an empty store View (a login makes eight read
// transactions). Compare it with BenchmarkBaselineView from the same run.
func BenchmarkViewEmpty(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.View(ctx, func(*store.Tx) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkViewRevision is a View that reads the store's revision, as
// most of a login's read transactions do (a plan's cached reads are
// checked against it).
func BenchmarkViewRevision(b *testing.B) {
	s := benchStore(b)
	benchFlow(b, s, 0)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := s.View(ctx, func(tx *store.Tx) error {
			_, err := tx.Revision()
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFlowPatchSteady is BenchmarkFlowPatch on a store whose change
// log is already at its retention (and whose file has stopped growing):
// 10,000 patches first, without fsync, then the measured ones with it.
// BenchmarkFlowPatch measures a new file, growing page by page.
func BenchmarkFlowPatchSteady(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	ctx := context.Background()
	s, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	benchFlow(b, s, 0)
	for i := range 10000 {
		if err := benchPatch(ctx, s, fmt.Appendf(nil, `{"title":"t%d"}`, i)); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	if s, err = store.Open(path, nil); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	patches := [][]byte{[]byte(`{"title":"Welcome!"}`), []byte(`{"title":"Welcome back!"}`)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := benchPatch(ctx, s, patches[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}
