package store_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/internal/boltkv"
	"github.com/authflow/authflow/store/kv/kvtest"
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

// The suite passes on a store that seals its secrets, with a keyring of
// a new key and an older one: sealing changes nothing a caller sees.
func TestConformanceSealed(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.Open(filepath.Join(t.TempDir(), "c.db"), &store.Options{NoSync: true, Keys: keyring(t, newKey(t), newKey(t))})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, nil)
}

func TestConformanceHostKinds(t *testing.T) {
	guard := func(name string, _ func(string) uuid.UUID) []byte { return fmt.Appendf(nil, `{"name":%q}`, name) }
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.Open(filepath.Join(t.TempDir(), "c.db"), &store.Options{NoSync: true, StageKinds: guardRegistry()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, &storetest.Options{Samples: map[string]storetest.Sample{"authflow_test.guardstage": guard}})
}

// Every Update function of the store runs again when an optimistic
// backend retries it: the suite passes with each Update run three times,
// the first two discarded.
func TestConformanceFlaky(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		db, err := boltkv.Open(filepath.Join(t.TempDir(), "c.db"), boltkv.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		s, err := store.New(kvtest.Flaky(db, 2), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, nil)
}
