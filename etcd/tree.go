package etcd

import "k8s.io/utils/third_party/forked/golang/btree"

// The copy is an ordered map kept in a copy-on-write B-tree: the fork of
// google/btree that etcd's own MVCC index uses (k8s.io/utils, already a
// dependency of etcd's server), with its degree. It replaced a persistent
// treap of this package's own on measurement (BenchmarkTree, medians of 5
// interleaved runs at 10k and 100k keys, B-tree against treap, on a loaded
// 2-core machine where the same baseline code varied by up to 1.6x):
// 100-key scans 2.5x and 1.7x faster, reversed 1.4x and 1.2x; one insert
// and one delete on a snapshot 1.6x and 1.3x faster, with 2.3x fewer
// allocations; ten writes 1.4x faster and 1.1x slower, with 3x fewer
// allocations; a point get 1.1x and 1.2x slower (its probe allocates);
// taking a version to change 0.2µs instead of nothing, once per writing
// transaction; loading 1.4x and 1.1x slower, once per Open or compaction
// and beside reading every value from etcd; 67 bytes of heap per key
// instead of 80. The items are pointers: with 48-byte entries in the
// nodes, every node copied is 3 KB and writes were 2-4x slower than the
// treap's.

// degree is the B-tree's minimum number of children per inner node, as in
// etcd's MVCC index.
const degree = 32

// entry is one key of the map, with its value and mod revision.
type entry struct {
	key string
	val []byte
	mod int64 // the key's mod revision
}

func less(a, b *entry) bool { return a.key < b.key }

// tree is one version of the map, which never changes once a reader may
// hold it: a reader holding a tree reads one consistent version however
// the map changes meanwhile, without locks. The zero tree is empty.
type tree struct {
	bt *btree.BTree[*entry]
}

// get returns the entry of key, if there is one.
func (t tree) get(key string) (entry, bool) {
	if t.bt == nil {
		return entry{}, false
	}
	e, ok := t.bt.Get(&entry{key: key})
	if !ok {
		return entry{}, false
	}
	return *e, true
}

// ascend calls fn for the keys in [lo, hi) in order, until fn returns
// false.
func (t tree) ascend(lo, hi string, fn func(entry) bool) {
	if t.bt == nil || lo >= hi {
		return
	}
	t.bt.AscendRange(&entry{key: lo}, &entry{key: hi}, func(e *entry) bool { return fn(*e) })
}

// descend is ascend in reverse order.
func (t tree) descend(lo, hi string, fn func(entry) bool) {
	if t.bt == nil || lo >= hi {
		return
	}
	t.bt.DescendLessOrEqual(&entry{key: hi}, func(e *entry) bool {
		switch {
		case e.key == hi:
			return true
		case e.key < lo:
			return false
		}
		return fn(*e)
	})
}

// clone returns a new tree holding what t holds, which may be changed in
// place while t does not change. Nodes are shared until one is changed,
// and then copied: a clone costs three small allocations, and each change
// copies the nodes on its path the first time.
//
// Clone changes the tree it is called on (it gives it a new write
// context), so it is called on a copy of t's header: many goroutines may
// clone the same published version at once, and t itself is never changed
// again anyway.
func (t tree) clone() *btree.BTree[*entry] {
	if t.bt == nil {
		return btree.New(degree, less)
	}
	h := *t.bt
	return h.Clone()
}

// draft is a version of the map being changed by one goroutine. Its
// changes are made in place, in a clone taken at the first change after
// the version was shared.
type draft struct {
	t   tree
	own bool // t is this draft's clone, and not shared: change it in place
}

// put sets key to val with mod revision mod.
func (d *draft) put(key string, val []byte, mod int64) {
	d.mine().ReplaceOrInsert(&entry{key: key, val: val, mod: mod})
}

// del removes key.
func (d *draft) del(key string) {
	if _, ok := d.t.get(key); ok {
		d.mine().Delete(&entry{key: key})
	}
}

func (d *draft) mine() *btree.BTree[*entry] {
	if !d.own {
		d.t, d.own = tree{d.t.clone()}, true
	}
	return d.t.bt
}

// share returns the current version, which the draft no longer changes:
// its next change is made in a clone.
func (d *draft) share() tree {
	d.own = false
	return d.t
}
