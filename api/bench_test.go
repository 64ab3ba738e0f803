package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/store"
)

// The two benchmarks patch a flow's title on a store with the default
// durability (fsync on): one through the handler, one calling the store
// directly (a copy of store's BenchmarkFlowPatch). Compare them from one
// run:
//
//	go test -run=NONE -bench=FlowPatch -benchtime=200x ./api/
//
// Target: APIFlowPatch <= 1.5x StoreFlowPatch.

func benchStore(b *testing.B) *store.Store {
	b.Helper()
	s, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	err = s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := store.Flows.Create(tx, flow.New("Flow 0", "flow-0", "Welcome to authentik!", flow.DesignationAuthentication), nil)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

var benchPatches = [][]byte{[]byte(`{"title":"Welcome!"}`), []byte(`{"title":"Welcome back!"}`)}

// BenchmarkAPIFlowPatch sends PATCH /api/v3/flows/instances/flow-0/
// through the handler, with httptest.
func BenchmarkAPIFlowPatch(b *testing.B) {
	h := api.NewHandler(benchStore(b), nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("PATCH", "/api/v3/flows/instances/flow-0/", bytes.NewReader(benchPatches[i%2]))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkStoreFlowPatch patches the same title by slug with
// store.Flows.Patch and renders the flow, in one transaction.
func BenchmarkStoreFlowPatch(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := s.Update(ctx, func(tx *store.Tx) error {
			k := store.By("slug", "flow-0")
			if _, err := store.Flows.Patch(tx, k, benchPatches[i%2], nil); err != nil {
				return err
			}
			_, err := store.Flows.View(tx, k)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
