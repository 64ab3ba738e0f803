package etcd

import "math/rand/v2"

// node is a node of a persistent treap: an ordered map from etcd key to
// value and mod revision that is never modified once published. A change
// copies the path to what it changes, so a reader holding a root reads one
// consistent version however the map changes meanwhile, without locks.
type node struct {
	key         string
	val         []byte
	mod         int64 // the key's mod revision
	prio        uint64
	left, right *node
}

func (n *node) copy() *node { c := *n; return &c }

// get returns the node of key, or nil.
func (n *node) get(key string) *node {
	for n != nil {
		switch {
		case key < n.key:
			n = n.left
		case key > n.key:
			n = n.right
		default:
			return n
		}
	}
	return nil
}

// builder makes a new map from keys given in ascending order, in linear
// time: the treap of keys in order is the Cartesian tree of their
// priorities, built along its right spine.
type builder struct {
	spine []*node // the right spine, root first
}

func (b *builder) add(key string, val []byte, mod int64) {
	x := &node{key: key, val: val, mod: mod, prio: rand.Uint64()}
	var last *node
	for len(b.spine) > 0 && b.spine[len(b.spine)-1].prio < x.prio {
		last = b.spine[len(b.spine)-1]
		b.spine = b.spine[:len(b.spine)-1]
	}
	x.left = last
	if len(b.spine) > 0 {
		b.spine[len(b.spine)-1].right = x
	}
	b.spine = append(b.spine, x)
}

func (b *builder) root() *node {
	if len(b.spine) == 0 {
		return nil
	}
	return b.spine[0]
}

// put returns the map with key set to val: one path copied, to the key's
// node when it is there, or to where it goes.
func (n *node) put(key string, val []byte, mod int64) *node {
	if n.get(key) != nil {
		return n.replace(key, val, mod)
	}
	return n.insert(&node{key: key, val: val, mod: mod, prio: rand.Uint64()})
}

// replace sets the value of key, which n holds.
func (n *node) replace(key string, val []byte, mod int64) *node {
	c := n.copy()
	switch {
	case key < n.key:
		c.left = n.left.replace(key, val, mod)
	case key > n.key:
		c.right = n.right.replace(key, val, mod)
	default:
		c.val, c.mod = val, mod
	}
	return c
}

// insert adds x, whose key n does not hold.
func (n *node) insert(x *node) *node {
	if n == nil {
		return x
	}
	if x.prio > n.prio {
		x.left, x.right = n.split(x.key)
		return x
	}
	c := n.copy()
	if x.key < n.key {
		c.left = n.left.insert(x)
	} else {
		c.right = n.right.insert(x)
	}
	return c
}

// split returns the keys before key and the keys from key on.
func (n *node) split(key string) (l, r *node) {
	if n == nil {
		return nil, nil
	}
	c := n.copy()
	if n.key < key {
		c.right, r = n.right.split(key)
		return c, r
	}
	l, c.left = n.left.split(key)
	return l, c
}

// del returns the map without key.
func (n *node) del(key string) *node {
	if n == nil {
		return nil
	}
	switch {
	case key < n.key:
		if l := n.left.del(key); l != n.left {
			c := n.copy()
			c.left = l
			return c
		}
		return n
	case key > n.key:
		if r := n.right.del(key); r != n.right {
			c := n.copy()
			c.right = r
			return c
		}
		return n
	}
	return merge(n.left, n.right)
}

// merge joins a and b, every key of a being before every key of b.
func merge(a, b *node) *node {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		c := a.copy()
		c.right = merge(a.right, b)
		return c
	default:
		c := b.copy()
		c.left = merge(a, b.left)
		return c
	}
}

// ascend calls fn for the keys in [lo, hi) in order, until fn returns
// false; it reports whether fn never did.
func (n *node) ascend(lo, hi string, fn func(*node) bool) bool {
	if n == nil {
		return true
	}
	if lo < n.key && !n.left.ascend(lo, hi, fn) {
		return false
	}
	if n.key >= hi {
		return true
	}
	if n.key >= lo && !fn(n) {
		return false
	}
	return n.right.ascend(lo, hi, fn)
}

// descend is ascend in reverse order.
func (n *node) descend(lo, hi string, fn func(*node) bool) bool {
	if n == nil {
		return true
	}
	if n.key >= hi { // only the left side can be in range
		return n.left.descend(lo, hi, fn)
	}
	if !n.right.descend(lo, hi, fn) {
		return false
	}
	if n.key < lo {
		return true
	}
	if !fn(n) {
		return false
	}
	return n.key == lo || n.left.descend(lo, hi, fn)
}
