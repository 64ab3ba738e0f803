package boltkv

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/authflow/authflow/store/kv"
	bolt "go.etcd.io/bbolt"
)

var errTxDone = errors.New("boltkv: transaction used after its function returned")

// tx is a kv.Tx over a bbolt transaction. Each method that calls into
// bbolt recovers a panic there (a damaged page) into an error wrapping
// kv.ErrCorrupt, which then sticks: every later call returns it and the
// transaction cannot commit. A View's is recycled for a later View once
// its function has returned (DB.recycle).
type tx struct {
	db       *DB
	bt       *bolt.Tx
	writable bool
	done     bool  // fn has returned
	inUser   bool  // running the caller's code: fn, or an OnCommit function
	err      error // the first damage found

	// Bucket handles, looked up once per transaction: the last one used,
	// and, once a second is used (keepAll), all of them, the first few
	// in the transaction itself (no allocation for a read's handful),
	// the rest in many. A nil handle is a bucket known not to exist
	// (until this transaction creates it).
	lastName string
	last     *bolt.Bucket
	haveLast bool
	keepAll  bool
	few      [8]handle
	nfew     int
	many     map[string]*bolt.Bucket
}

// Tx is the concrete type of the kv.Tx that View and Update give their
// function, for a caller that calls its methods on it rather than through
// kv.Tx: the compiler then sees that Get and Scan keep neither their keys
// nor Scan's function, which may stay on the caller's stack.
type Tx = tx

// handle is a bucket's handle, by name.
type handle struct {
	name string
	b    *bolt.Bucket
}

// kept returns the handle kept for name.
func (x *tx) kept(name string) (*bolt.Bucket, bool) {
	for _, h := range x.few[:x.nfew] {
		if h.name == name {
			return h.b, true
		}
	}
	b, ok := x.many[name]
	return b, ok
}

// keep keeps b as the handle of name.
func (x *tx) keep(name string, b *bolt.Bucket) {
	for i := range x.few[:x.nfew] {
		if x.few[i].name == name {
			x.few[i].b = b
			return
		}
	}
	if _, ok := x.many[name]; ok || x.nfew == len(x.few) {
		if x.many == nil {
			x.many = map[string]*bolt.Bucket{}
		}
		x.many[name] = b
		return
	}
	x.few[x.nfew] = handle{name, b}
	x.nfew++
}

// usable fails once the transaction has ended or found damage.
func (x *tx) usable() error {
	if x.done {
		return errTxDone
	}
	return x.err
}

// catch, deferred by the methods that call bbolt, turns a panic into the
// transaction's sticky error.
func (x *tx) catch(op string, err *error) {
	if r := recover(); r != nil {
		*err = x.damaged(op, describe(r))
	}
}

func (x *tx) damaged(op, what string) error {
	e := corrupt(x.db.path, op, what)
	if x.err == nil {
		x.err = e
	}
	return e
}

// bucket returns the handle of a bucket, nil when it does not exist;
// with create, it creates the bucket first.
func (x *tx) bucket(name string, create bool) (*bolt.Bucket, error) {
	if x.haveLast && x.lastName == name && (x.last != nil || !create) {
		return x.last, nil
	}
	var b *bolt.Bucket
	ok := false
	if x.haveLast && x.lastName == name {
		b, ok = x.last, true
	} else if x.keepAll {
		b, ok = x.kept(name)
	}
	if !ok || (b == nil && create) {
		if !ok {
			b = x.bt.Bucket([]byte(name))
		}
		if b == nil && x.db.mustExist(name) {
			return nil, x.damaged("bucket", fmt.Sprintf("bucket %q is missing", name))
		}
		if b == nil && create {
			var err error
			if b, err = x.bt.CreateBucketIfNotExists([]byte(name)); err != nil {
				return nil, fmt.Errorf("boltkv: bucket %q: %w", name, boltErr(err))
			}
		}
	}
	if x.haveLast && x.lastName != name {
		// A second bucket: from now on, keep them all.
		x.keepAll = true
		x.keep(x.lastName, x.last)
	}
	if x.keepAll {
		x.keep(name, b)
	}
	x.lastName, x.last, x.haveLast = name, b, true
	return b, nil
}

// Get returns the value of key in bucket, or nil. The slice points into
// the database's map (or the transaction's own writes) and is valid until
// the transaction ends; it must not be modified.
func (x *tx) Get(bucket string, key []byte) (_ []byte, err error) {
	if err := x.usable(); err != nil {
		return nil, err
	}
	defer x.catch("get", &err)
	b, err := x.bucket(bucket, false)
	if b == nil {
		return nil, err
	}
	v := b.Get(key)
	if len(v) > kv.MaxValueSize {
		// string(key), a copy: key itself must not leak (see Tx).
		return nil, x.damaged("get", fmt.Sprintf("the value of key %q in bucket %q is %d bytes, above the limit of %d", string(key), bucket, len(v), kv.MaxValueSize))
	}
	return v, nil
}

// Put sets key to a copy of val, creating the bucket if need be.
func (x *tx) Put(bucket string, key, val []byte) (err error) {
	if err := x.usable(); err != nil {
		return err
	}
	switch {
	case !x.writable:
		return fmt.Errorf("boltkv: put in bucket %q: %w", bucket, kv.ErrReadOnly)
	case len(key) == 0:
		return fmt.Errorf("boltkv: put in bucket %q: the key is empty", bucket)
	case len(key) > kv.MaxKeySize:
		return fmt.Errorf("boltkv: put in bucket %q: a key of %d bytes: %w (the limit is %d)", bucket, len(key), kv.ErrTooLarge, kv.MaxKeySize)
	case len(val) > kv.MaxValueSize:
		return fmt.Errorf("boltkv: put in bucket %q: a value of %d bytes: %w (the limit is %d)", bucket, len(val), kv.ErrTooLarge, kv.MaxValueSize)
	}
	defer x.catch("put", &err)
	b, err := x.bucket(bucket, true)
	if err != nil {
		return err
	}
	// bbolt keeps the value slice until the commit: copy it, so that the
	// caller may reuse its buffer. Never nil: a nil value reads back as
	// missing within the transaction.
	if err := b.Put(key, append(make([]byte, 0, len(val)), val...)); err != nil {
		return fmt.Errorf("boltkv: put in bucket %q: %w", bucket, boltErr(err))
	}
	return nil
}

// CreateBucket creates bucket name unless it exists.
func (x *tx) CreateBucket(name string) (err error) {
	if err := x.usable(); err != nil {
		return err
	}
	if !x.writable {
		return fmt.Errorf("boltkv: create bucket %q: %w", name, kv.ErrReadOnly)
	}
	defer x.catch("create bucket", &err)
	_, err = x.bucket(name, true)
	return err
}

// Delete removes key from bucket; a missing key or bucket is no error.
func (x *tx) Delete(bucket string, key []byte) (err error) {
	if err := x.usable(); err != nil {
		return err
	}
	if !x.writable {
		return fmt.Errorf("boltkv: delete in bucket %q: %w", bucket, kv.ErrReadOnly)
	}
	defer x.catch("delete", &err)
	b, err := x.bucket(bucket, false)
	if b == nil {
		return err
	}
	if err := b.Delete(key); err != nil {
		return fmt.Errorf("boltkv: delete in bucket %q: %w", bucket, boltErr(err))
	}
	return nil
}

// Scan calls fn for the keys of r in bucket. Keys holding nested buckets
// (which boltkv never makes) are skipped.
func (x *tx) Scan(bucket string, r kv.Range, fn func(k, v []byte) (bool, error)) error {
	if err := x.usable(); err != nil {
		return err
	}
	b, err := x.lookup(bucket)
	if b == nil {
		return err
	}
	c := b.Cursor()
	// The bbolt calls are protected one by one, so that a panic in fn is
	// not taken for damage.
	k, v, err := x.seek(c, r)
	var prev []byte
	for err == nil && k != nil && bytes.HasPrefix(k, r.Prefix) {
		// A cursor meets keys in order; one out of order (or twice) is a
		// damaged page, whose entries bbolt would serve as they are.
		if prev != nil && (bytes.Compare(k, prev) <= 0) != r.Reverse || prev != nil && bytes.Equal(k, prev) {
			return x.damaged("scan", fmt.Sprintf("bucket %q holds key %x after key %x, out of order", bucket, k, prev))
		}
		prev = k
		if v != nil {
			if len(v) > kv.MaxValueSize {
				return x.damaged("scan", fmt.Sprintf("the value of key %q in bucket %q is %d bytes, above the limit of %d", k, bucket, len(v), kv.MaxValueSize))
			}
			more, err := fn(k, v)
			if err != nil || !more {
				return err
			}
		}
		k, v, err = x.step(c, r.Reverse)
	}
	return err
}

func (x *tx) lookup(bucket string) (_ *bolt.Bucket, err error) {
	defer x.catch("scan", &err)
	return x.bucket(bucket, false)
}

// seek positions c on the first key of r.
func (x *tx) seek(c *bolt.Cursor, r kv.Range) (k, v []byte, err error) {
	defer x.catch("scan", &err)
	if !r.Reverse {
		from := r.Prefix
		if bytes.Compare(r.Start, from) > 0 {
			from = r.Start
		}
		if len(from) == 0 {
			k, v = c.First()
		} else {
			k, v = c.Seek(from)
		}
		return k, v, nil
	}
	end := prefixEnd(r.Prefix) // nil: no key is past the prefix
	if len(r.Start) > 0 && (end == nil || bytes.Compare(r.Start, end) < 0) {
		// Start is the last key visited, inclusive.
		k, v = c.Seek(r.Start)
		switch {
		case k == nil:
			k, v = c.Last()
		case !bytes.Equal(k, r.Start):
			k, v = c.Prev()
		}
		return k, v, nil
	}
	if end == nil {
		k, v = c.Last()
		return k, v, nil
	}
	if k, v = c.Seek(end); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	return k, v, nil
}

// step moves c on by one key.
func (x *tx) step(c *bolt.Cursor, reverse bool) (k, v []byte, err error) {
	if x.err != nil {
		return nil, nil, x.err
	}
	defer x.catch("scan", &err)
	if reverse {
		k, v = c.Prev()
	} else {
		k, v = c.Next()
	}
	return k, v, nil
}

// prefixEnd returns the least key above every key having prefix p, or nil
// when there is none (p is empty or all 0xff).
func prefixEnd(p []byte) []byte {
	n := len(p)
	for n > 0 && p[n-1] == 0xff {
		n--
	}
	if n == 0 {
		return nil
	}
	end := bytes.Clone(p[:n])
	end[n-1]++
	return end
}

// Writable reports whether this is an Update's transaction.
func (x *tx) Writable() bool { return x.writable }

var _ kv.Snapshot = (*tx)(nil)

// SnapshotID is the id of the last write transaction committed before a
// read transaction began (bbolt's transaction id), which names what it
// reads: only a commit changes the file, and each commit has a new id.
func (x *tx) SnapshotID() (uint64, bool) {
	if x.writable || x.done {
		return 0, false
	}
	return uint64(x.bt.ID()), true
}

// OnCommit registers fn with bbolt, which runs the functions in order of
// registration once the commit has succeeded and the writer lock is
// released, before Update returns. In a View (which never commits) fn is
// dropped.
func (x *tx) OnCommit(fn func()) {
	if !x.writable || x.done {
		return
	}
	x.bt.OnCommit(func() {
		x.inUser = true
		fn()
		x.inUser = false
	})
}
