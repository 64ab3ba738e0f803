package store_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/google/uuid"
)

// The store's conformance suite, against bbolt, with the built-in kinds
// and with host kinds whose references are protect, set_default and a
// cascade from stage to stage.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.Open(filepath.Join(t.TempDir(), "c.db"), &store.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, nil)
}

func TestConformanceHostKinds(t *testing.T) {
	guard := func(name string, _ func(string) uuid.UUID) []byte { return fmt.Appendf(nil, `{"name":%q}`, name) }
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.Open(filepath.Join(t.TempDir(), "c.db"), &store.Options{NoSync: true, Registry: guardRegistry()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, &storetest.Options{Samples: map[string]storetest.Sample{"authflow_test.guardstage": guard}})
}
