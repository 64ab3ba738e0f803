// Package tmpkv is a throwaway bbolt adapter used until boltkv lands.
package tmpkv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/authflow/authflow/store/kv"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

type Options struct {
	Timeout  time.Duration
	NoSync   bool
	ReadOnly bool
}

type DB struct{ db *bolt.DB }

func Open(path string, o Options) (*DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.Timeout, NoSync: o.NoSync, ReadOnly: o.ReadOnly})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, kv.ErrLocked
		}
		return nil, err
	}
	return &DB{db}, nil
}

func (d *DB) Close() error { return d.db.Close() }
func (d *DB) View(ctx context.Context, fn func(kv.Tx) error) error {
	return d.db.View(func(t *bolt.Tx) error { return fn(&tx{t: t}) })
}
func (d *DB) Update(ctx context.Context, fn func(kv.Tx) error) error {
	return d.db.Update(func(t *bolt.Tx) error { return fn(&tx{t: t}) })
}
func (d *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := d.db.View(func(t *bolt.Tx) error { var err error; n, err = t.WriteTo(w); return err })
	return n, err
}
func (d *DB) BucketNames(ctx context.Context) ([]string, error) {
	var out []string
	err := d.db.View(func(t *bolt.Tx) error {
		return t.ForEach(func(n []byte, _ *bolt.Bucket) error { out = append(out, string(n)); return nil })
	})
	return out, err
}

type tx struct {
	t *bolt.Tx
	m map[string]*bolt.Bucket
}

func (x *tx) b(name string, create bool) (*bolt.Bucket, error) {
	if b := x.m[name]; b != nil {
		return b, nil
	}
	b := x.t.Bucket([]byte(name))
	if b == nil && create {
		var err error
		if b, err = x.t.CreateBucketIfNotExists([]byte(name)); err != nil {
			return nil, err
		}
	}
	if b != nil {
		if x.m == nil {
			x.m = map[string]*bolt.Bucket{}
		}
		x.m[name] = b
	}
	return b, nil
}
func (x *tx) Get(bucket string, key []byte) ([]byte, error) {
	b, _ := x.b(bucket, false)
	if b == nil {
		return nil, nil
	}
	return b.Get(key), nil
}
func (x *tx) Put(bucket string, key, val []byte) error {
	if !x.t.Writable() {
		return kv.ErrReadOnly
	}
	b, err := x.b(bucket, true)
	if err != nil {
		return err
	}
	if val == nil {
		val = []byte{}
	}
	return b.Put(key, val)
}
func (x *tx) Delete(bucket string, key []byte) error {
	b, _ := x.b(bucket, false)
	if b == nil {
		return nil
	}
	return b.Delete(key)
}
func (x *tx) Scan(bucket string, r kv.Range, fn func(k, v []byte) (bool, error)) error {
	b, _ := x.b(bucket, false)
	if b == nil {
		return nil
	}
	if r.Reverse {
		return fmt.Errorf("tmpkv: no reverse")
	}
	c := b.Cursor()
	start := r.Prefix
	if r.Start != nil {
		start = r.Start
	}
	var k, v []byte
	if len(start) == 0 {
		k, v = c.First()
	} else {
		k, v = c.Seek(start)
	}
	for ; k != nil && bytes.HasPrefix(k, r.Prefix); k, v = c.Next() {
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}
func (x *tx) Writable() bool     { return x.t.Writable() }
func (x *tx) OnCommit(fn func()) { x.t.OnCommit(fn) }
