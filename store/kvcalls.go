package store

import (
	"bytes"

	"github.com/authflow/authflow/store/internal/boltkv"
	"github.com/authflow/authflow/store/kv"
)

// kvGet is k.Get, and kvScan k.Scan, as the store calls them: on
// boltkv's transaction through its concrete type, so that the compiler
// sees that neither keeps the key, the range or Scan's function, which
// then stay on the caller's stack (a closure given to Scan, and what it
// captures, would otherwise be allocated at every call). Escape analysis
// does not tell one backend from another, so any other backend is given
// copies, and its Scan never sees fn (scanBatched).
func kvGet(k kv.Tx, bucket string, key []byte) ([]byte, error) {
	if b, ok := k.(*boltkv.Tx); ok {
		return b.Get(bucket, key)
	}
	return k.Get(bucket, bytes.Clone(key))
}

// kvScan is k.Scan (see kvGet).
func kvScan(k kv.Tx, bucket string, r kv.Range, fn func(k, v []byte) (bool, error)) error {
	if b, ok := k.(*boltkv.Tx); ok {
		return b.Scan(bucket, r, fn)
	}
	return scanBatched(k, bucket, r, fn)
}

// scanBatch is how many keys scanBatched reads at a time at most.
var scanBatch = 64

// scanBatched is k.Scan without giving fn to k: k's Scan collects the
// keys (and values, valid until the transaction ends) of r, scanBatch at
// a time, fn is called on them, and the next batch starts at the last key
// collected (a Range's Start is inclusive either way), which it skips.
func scanBatched(k kv.Tx, bucket string, r kv.Range, fn func(k, v []byte) (bool, error)) error {
	b := &batch{}
	// Copies (in a variable of their own): r must not leak.
	at := kv.Range{Prefix: bytes.Clone(r.Prefix), Start: bytes.Clone(r.Start), Reverse: r.Reverse}
	for {
		b.pairs = b.pairs[:0]
		if err := k.Scan(bucket, at, b.add); err != nil {
			return err
		}
		for _, p := range b.pairs {
			if more, err := fn(p[0], p[1]); err != nil || !more {
				return err
			}
		}
		if len(b.pairs) < scanBatch {
			return nil
		}
		b.skip = b.pairs[len(b.pairs)-1][0]
		at.Start = b.skip
	}
}

// batch is what scanBatched's k.Scan collects.
type batch struct {
	pairs [][2][]byte
	skip  []byte // the last key of the batch before, read again first
}

func (b *batch) add(k, v []byte) (bool, error) {
	if b.skip != nil && bytes.Equal(k, b.skip) {
		b.skip = nil
		return true, nil
	}
	b.skip = nil
	b.pairs = append(b.pairs, [2][]byte{k, v})
	return len(b.pairs) < scanBatch, nil
}
