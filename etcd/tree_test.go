package etcd

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// The treap against a sorted map, over random puts, deletes and scans,
// and old versions stay as they were.
func TestTree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var root *node
	ref := map[string]string{}
	type version struct {
		root *node
		ref  map[string]string
	}
	var versions []version
	key := func() string { return fmt.Sprintf("k%03d", r.IntN(300)) }
	for i := range 5000 {
		k := key()
		if r.IntN(3) == 0 {
			root = root.del(k)
			delete(ref, k)
		} else {
			v := fmt.Sprint(i)
			root = root.put(k, []byte(v), int64(i))
			ref[k] = v
		}
		if i%500 == 0 {
			versions = append(versions, version{root, maps(ref)})
		}
		if i%50 == 0 {
			lo, hi := key(), key()
			check(t, root, ref, lo, hi)
		}
	}
	for _, v := range versions {
		check(t, v.root, v.ref, "", "\xff")
	}
}

func maps(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func check(t *testing.T, root *node, ref map[string]string, lo, hi string) {
	t.Helper()
	var want []string
	for k := range ref {
		if k >= lo && k < hi {
			want = append(want, k+"="+ref[k])
		}
	}
	slices.Sort(want)
	var got []string
	root.ascend(lo, hi, func(n *node) bool { got = append(got, n.key+"="+string(n.val)); return true })
	if !slices.Equal(got, want) {
		t.Fatalf("ascend [%q,%q): %v, want %v", lo, hi, got, want)
	}
	got = got[:0]
	root.descend(lo, hi, func(n *node) bool { got = append(got, n.key+"="+string(n.val)); return true })
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Fatalf("descend [%q,%q): %v, want %v", lo, hi, got, want)
	}
	for k, v := range ref {
		if n := root.get(k); n == nil || string(n.val) != v {
			t.Fatalf("get %q: %v, want %q", k, n, v)
		}
	}
	// Stopping early.
	n := 0
	root.ascend(lo, hi, func(*node) bool { n++; return n < 3 })
	if n != min(3, len(want)) {
		t.Fatalf("ascend stopped after %d of %d", n, len(want))
	}
}

// A map built from keys in order holds what puts would, keeps the heap
// order of its priorities, and takes puts and deletes like any other.
func TestBuilder(t *testing.T) {
	var b builder
	ref := map[string]string{}
	for i := range 2000 {
		k := fmt.Sprintf("k%05d", i*3)
		b.add(k, []byte(fmt.Sprint(i)), int64(i))
		ref[k] = fmt.Sprint(i)
	}
	root := b.root()
	var heap func(n *node) int
	heap = func(n *node) int {
		if n == nil {
			return 0
		}
		for _, c := range []*node{n.left, n.right} {
			if c != nil && c.prio > n.prio {
				t.Fatalf("child %q has a higher priority than %q", c.key, n.key)
			}
		}
		return 1 + max(heap(n.left), heap(n.right))
	}
	if d := heap(root); d > 60 {
		t.Errorf("depth %d for 2000 keys", d)
	}
	check(t, root, ref, "", "\xff")
	check(t, root, ref, "k01000", "k02000")
	root = root.put("k00001", []byte("x"), 1).del("k00003")
	ref["k00001"] = "x"
	delete(ref, "k00003")
	check(t, root, ref, "", "\xff")
	if (&builder{}).root() != nil {
		t.Error("an empty builder has a root")
	}
}
