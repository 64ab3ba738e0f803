package boltkv_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/store/internal/boltkv"
	"github.com/authflow/authflow/store/kv"
	bolt "go.etcd.io/bbolt"
)

// Inline says of a bucket exactly what bbolt does with it: for buckets of
// n change-log-like entries (12-byte keys) of 1 to 30 keys, with the
// longest values Inline accepts and with values one byte longer, the
// bucket bbolt writes has no page of its own (root 0) if and only if
// Inline said so.
func TestInline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inline.db")
	db, err := boltkv.Open(path, boltkv.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	inline, not := 0, 0
	for n := 1; n <= 30; n++ {
		vmax := 4096
		for vmax > 0 && !db.Inline(n, n*(12+vmax)) {
			vmax--
		}
		for _, vlen := range []int{vmax, vmax + 1} {
			name := fmt.Sprintf("b%02d-%d", n, vlen)
			size := n * (12 + vlen)
			want[name] = db.Inline(n, size)
			if want[name] {
				inline++
			} else {
				not++
			}
			err := db.Update(ctx, func(tx kv.Tx) error {
				for i := range n {
					k := make([]byte, 12)
					binary.BigEndian.PutUint64(k, uint64(i+1))
					if err := tx.Put(name, k, bytes.Repeat([]byte{'v'}, vlen)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if inline == 0 || not == 0 {
		t.Fatalf("Inline said yes %d times and no %d: the sizes do not cross its bound", inline, not)
	}
	if db.Inline(-1, 0) || db.Inline(0, -1) || db.Inline(1<<62, 1<<62) {
		t.Error("Inline accepts a negative or huge bucket")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.View(func(tx *bolt.Tx) error {
		for name, in := range want {
			if got := tx.Bucket([]byte(name)).Root() == 0; got != in {
				t.Errorf("bucket %s: inline %v, Inline said %v", name, got, in)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
