package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/seal"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

// BenchmarkSealedWrite times a write of a stage's secret (a patch of a
// captcha stage's private_key) on a store with a key beside the same
// write on a store without one, alternating in one loop, at two sizes of
// store, and reports the median ratio of their times as x-unsealed. The
// stores skip fsync, which would hide the cost of sealing. Target: <= 1.1.
//
//	go test -run=NONE -bench=SealedWrite -benchtime=3s ./store/
func BenchmarkSealedWrite(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("stages=%d", n), func(b *testing.B) {
			sealed := sealBenchStore(b, n, keyring(b, newKey(b)))
			clear := sealBenchStore(b, n, nil)
			alternate(b, "unsealed", func(i int) error { return patchSecret(sealed, i%n, i) }, func(i int) error { return patchSecret(clear, i%n, i) })
		})
	}
}

// sealBenchStore opens a store (with keys, or none) holding n captcha
// stages, cap-0 to cap-(n-1).
func sealBenchStore(b *testing.B, n int, keys *seal.Keyring) *store.Store {
	b.Helper()
	s, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), &store.Options{NoSync: true, Keys: keys})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for lo := 0; lo < n; lo += 1000 {
		err := s.Update(context.Background(), func(tx *store.Tx) error {
			for i := lo; i < min(n, lo+1000); i++ {
				body := fmt.Appendf(nil, `{"name":"cap-%d","public_key":"pub","private_key":"key-%d"}`, i, i)
				if _, err := tx.Create(string(stage.ModelCaptcha), body, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func patchSecret(s *store.Store, i, v int) error {
	return s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := store.Stages.Patch(tx, store.By("name", fmt.Sprintf("cap-%d", i)), fmt.Appendf(nil, `{"private_key":"secret-%d"}`, v), nil)
		return err
	})
}
