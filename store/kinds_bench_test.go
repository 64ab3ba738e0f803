package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/google/uuid"
)

// BenchmarkKindGet gets an object of every built-in stage kind bound into
// 10 flows, with flow_set, and every policy kind bound to 10 flows, with
// bound_to: each within 4x of BaselineGet.
//
//	go test -run=NONE -bench='KindGet|BaselineGet' ./store/
func BenchmarkKindGet(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	samples := storetest.DefaultSamples()
	flows := make([]uuid.UUID, 10)
	for i := range flows {
		flows[i] = benchFlow(b, s, i).PK
	}
	n := 0
	for _, c := range s.Collections() {
		for _, model := range c.Kinds {
			sample, ok := samples[model]
			if !ok {
				b.Fatalf("no sample for %s", model)
			}
			var pk uuid.UUID
			err := s.Update(ctx, func(tx *store.Tx) error {
				var err error
				n++
				// A reference to a flow is to flows[0]; one to another
				// collection (a prompt stage's prompts) is to a new
				// object of its sample.
				var refErr error
				ref := func(target string) uuid.UUID {
					if target == store.ModelFlow {
						return flows[0]
					}
					refSample, ok := samples[target]
					if !ok {
						refErr = errors.Join(refErr, fmt.Errorf("no sample for %s", target))
						return uuid.Nil
					}
					n++
					id, err := tx.Create(target, refSample(fmt.Sprintf("ref-%d", n), nil), nil)
					refErr = errors.Join(refErr, err)
					return id
				}
				body := sample(fmt.Sprintf("obj-%d", n), ref)
				if refErr != nil {
					return refErr
				}
				pk, err = tx.Create(model, body, nil)
				if err != nil {
					return err
				}
				for i, f := range flows {
					body := fmt.Sprintf(`{"target":"%s","stage":"%s","order":%d}`, f, pk, i)
					into := store.ModelBinding
					if c.Model == store.ModelPolicy {
						body = fmt.Sprintf(`{"target":"%s","policy":"%s","order":%d}`, f, pk, i)
						into = store.ModelPolicyBinding
					}
					if _, err := tx.Create(into, []byte(body), nil); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(model, err)
			}
			name := model[strings.IndexByte(model, '.')+1:]
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := s.View(ctx, func(tx *store.Tx) error { _, err := tx.Get(model, pk); return err }); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
