package boltkv

import (
	"strconv"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// A transaction keeps the handles of up to eight buckets in itself,
// without an allocation (a read of the executor uses a handful), and
// the rest in a map; each is found again, and kept anew when it
// changes.
func TestBucketHandles(t *testing.T) {
	handles := make([]*bolt.Bucket, 10)
	names := make([]string, len(handles))
	for i := range handles {
		handles[i], names[i] = new(bolt.Bucket), "b"+strconv.Itoa(i)
	}
	var x tx
	if n := testing.AllocsPerRun(20, func() {
		x = tx{}
		for i := range 8 {
			x.keep(names[i], handles[i])
			x.keep(names[i], handles[i])
		}
	}); n != 0 {
		t.Errorf("keeping 8 handles: %v allocations", n)
	}
	for i := 8; i < len(names); i++ {
		x.keep(names[i], handles[i])
	}
	x.keep(names[9], handles[0])
	for i, name := range names {
		want := handles[i]
		if i == 9 {
			want = handles[0]
		}
		if b, ok := x.kept(name); !ok || b != want {
			t.Errorf("%s: %p %v, want %p", name, b, ok, want)
		}
	}
	if _, ok := x.kept("other"); ok {
		t.Error("a handle for a bucket not kept")
	}
}
