package store

import (
	"context"

	"github.com/authflow/authflow/store/kv"
)

// AsidePrefix begins the name, in the store's database, of every bucket
// of [Store.Aside]. No bucket of the configuration can begin with it: a
// collection's bucket is named after its model (lowercase letters,
// digits, underscores and one dot), and the store's own buckets likewise.
const AsidePrefix = "aside-"

// Aside returns the store's database for data kept beside the
// configuration, such as the run state of flow executions: bucket b of
// the returned kv.DB is bucket AsidePrefix+b of the store's database, so
// it reaches none of the configuration's buckets. Its writes bump no
// revision, enter neither the change log nor the change feed, so they
// drop no cached object or plan, and [Store.Check] and exports do not
// read them; a copy of the whole database ([Store.Backup] of a bbolt
// file, etcdctl snapshot save) carries them, and bbolt's page check in
// Check covers their pages. On a backend several processes share, every
// process sees them.
//
// The returned kv.DB obeys the store: its calls fail with ErrClosed once
// the store is closed, and Update fails with ErrReadOnly in a store
// opened read-only. Its Close does nothing; the store owns the database.
func (s *Store) Aside() kv.DB { return aside{s} }

type aside struct{ s *Store }

func (a aside) View(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.s.mu.RLock()
	defer a.s.mu.RUnlock()
	if a.s.closed {
		return ErrClosed
	}
	return a.s.db.View(ctx, func(tx kv.Tx) error { return fn(asideTx{tx}) })
}

func (a aside) Update(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.s.readOnly {
		return ErrReadOnly
	}
	a.s.mu.RLock()
	defer a.s.mu.RUnlock()
	if a.s.closed {
		return ErrClosed
	}
	return a.s.db.Update(ctx, func(tx kv.Tx) error { return fn(asideTx{tx}) })
}

// Close does nothing: the store owns the database.
func (aside) Close() error { return nil }

// asideTx maps the bucket names of a transaction of Aside.
type asideTx struct{ tx kv.Tx }

func (t asideTx) Get(bucket string, key []byte) ([]byte, error) {
	return t.tx.Get(AsidePrefix+bucket, key)
}

func (t asideTx) Put(bucket string, key, val []byte) error {
	return t.tx.Put(AsidePrefix+bucket, key, val)
}

func (t asideTx) Delete(bucket string, key []byte) error {
	return t.tx.Delete(AsidePrefix+bucket, key)
}

func (t asideTx) Scan(bucket string, r kv.Range, fn func(k, v []byte) (bool, error)) error {
	return t.tx.Scan(AsidePrefix+bucket, r, fn)
}

func (t asideTx) Writable() bool     { return t.tx.Writable() }
func (t asideTx) OnCommit(fn func()) { t.tx.OnCommit(fn) }
