package etcd

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// Benchmarks of the copy's ordered map for what the backend does with it:
// a point get, an ordered scan of 100 keys either way, a transaction's
// writes on a snapshot then the commit (publishing the changed version),
// taking a version to change, and loading n keys given in order. Each
// runs at 10k and 100k keys, next to a sorted slice of the same entries:
// the floor for reads, and what copying the whole map on a change costs.

var treeSizes = []int{10_000, 100_000}

// benchKeys returns n keys in order; key i+1 sorts after key i, and
// none of them ends in an odd digit, so benchKey(2*i+1) is not there.
func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = benchKey(2 * i)
	}
	return keys
}

func benchKey(i int) string { return fmt.Sprintf("authflow/records/%016d", i) }

// benchOrder is a fixed random order of n indexes, for gets and scans
// that do not walk the map in order.
func benchOrder(n int) []int {
	r := rand.New(rand.NewPCG(1, 2))
	return r.Perm(n)
}

var (
	benchVal  = []byte(strings.Repeat("v", 100))
	benchSink any
)

func BenchmarkTree(b *testing.B) {
	for _, n := range treeSizes {
		keys, order := benchKeys(n), benchOrder(n)
		var d draft
		for i, k := range keys {
			d.put(k, benchVal, int64(i))
		}
		root := d.share()
		b.Run(fmt.Sprintf("get/n=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, ok := root.get(keys[order[i%n]]); !ok {
					b.Fatal("missing")
				}
			}
		})
		b.Run(fmt.Sprintf("scan100/n=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				j := order[i%n] % (n - 100)
				c := 0
				root.ascend(keys[j], keys[j+100], func(entry) bool { c++; return true })
				if c != 100 {
					b.Fatal(c)
				}
			}
		})
		b.Run(fmt.Sprintf("scan100rev/n=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				j := order[i%n] % (n - 100)
				c := 0
				root.descend(keys[j], keys[j+100], func(entry) bool { c++; return true })
				if c != 100 {
					b.Fatal(c)
				}
			}
		})
		b.Run(fmt.Sprintf("clone/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				benchSink = root.clone()
			}
		})
		b.Run(fmt.Sprintf("write1/n=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				j := order[i%n]
				d := draft{t: root}
				d.put(benchKey(2*j+1), benchVal, 0)
				d.del(keys[j])
				benchSink = d.share()
			}
		})
		b.Run(fmt.Sprintf("write10/n=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				d := draft{t: root}
				for w := range 10 {
					d.put(keys[order[(i*10+w)%n]], benchVal, 0)
				}
				benchSink = d.share()
			}
		})
		b.Run(fmt.Sprintf("load/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				var d draft
				for i, k := range keys {
					d.put(k, benchVal, int64(i))
				}
				benchSink = d.share()
			}
			b.ReportMetric(heapPerKey(n, func() any {
				var d draft
				for i, k := range keys {
					d.put(k, benchVal, int64(i))
				}
				return d.share()
			}), "heapB/key")
		})
	}
}

// sortedEntry is an entry of the sorted slice baseline.
type sortedEntry struct {
	key string
	val []byte
	mod int64
}

func sortedFind(s []sortedEntry, key string) (int, bool) {
	return slices.BinarySearchFunc(s, key, func(e sortedEntry, k string) int { return strings.Compare(e.key, k) })
}

func BenchmarkSorted(b *testing.B) {
	for _, n := range treeSizes {
		keys, order := benchKeys(n), benchOrder(n)
		var s []sortedEntry
		for i, k := range keys {
			s = append(s, sortedEntry{k, benchVal, int64(i)})
		}
		b.Run(fmt.Sprintf("get/n=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, ok := sortedFind(s, keys[order[i%n]]); !ok {
					b.Fatal("missing")
				}
			}
		})
		scan := func(b *testing.B, rev bool) {
			for i := 0; b.Loop(); i++ {
				j := order[i%n] % (n - 100)
				lo, _ := sortedFind(s, keys[j])
				hi, _ := sortedFind(s, keys[j+100])
				c := 0
				if rev {
					for x := hi - 1; x >= lo; x-- {
						c++
					}
				} else {
					for range s[lo:hi] {
						c++
					}
				}
				if c != 100 {
					b.Fatal(c)
				}
			}
		}
		b.Run(fmt.Sprintf("scan100/n=%d", n), func(b *testing.B) { scan(b, false) })
		b.Run(fmt.Sprintf("scan100rev/n=%d", n), func(b *testing.B) { scan(b, true) })
		b.Run(fmt.Sprintf("clone/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				benchSink = slices.Clone(s)
			}
		})
		b.Run(fmt.Sprintf("write1/n=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				j := order[i%n]
				c := slices.Clone(s)
				x, _ := sortedFind(c, benchKey(2*j+1))
				c = slices.Insert(c, x, sortedEntry{benchKey(2*j + 1), benchVal, 0})
				x, _ = sortedFind(c, keys[j])
				benchSink = slices.Delete(c, x, x+1)
			}
		})
		b.Run(fmt.Sprintf("write10/n=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				c := slices.Clone(s)
				for w := range 10 {
					x, _ := sortedFind(c, keys[order[(i*10+w)%n]])
					c[x].val = benchVal
				}
				benchSink = c
			}
		})
		b.Run(fmt.Sprintf("load/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				c := make([]sortedEntry, 0, n)
				for i, k := range keys {
					c = append(c, sortedEntry{k, benchVal, int64(i)})
				}
				benchSink = c
			}
			b.ReportMetric(heapPerKey(n, func() any {
				c := make([]sortedEntry, 0, n)
				for i, k := range keys {
					c = append(c, sortedEntry{k, benchVal, int64(i)})
				}
				return c
			}), "heapB/key")
		})
	}
}

// heapPerKey returns the bytes of heap that what build returns holds, per
// key of n (the keys and values themselves are shared, not counted).
func heapPerKey(n int, build func() any) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(m)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}
