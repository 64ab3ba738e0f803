package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/authflow/authflow/store/kv"
)

var errTxDone = errors.New("memdb: transaction ended")

// memDB is Mem's backend.
type memDB struct {
	maxPuts int
	writer  sync.Mutex
	state   atomic.Pointer[map[string]map[string][]byte]
	mu      sync.Mutex
	closed  bool
}

// Mem returns a small in-memory kv.DB, the model backend of this
// package's own tests and a backend for tests that count or wrap a
// store's transactions: each Update works on a copy of the buckets it
// writes and publishes the new state on commit; a View reads the state
// published when it began. A transaction of more than maxPuts writes
// fails whole with kv.ErrTooLarge, as etcd's would; maxPuts 0 means no
// bound.
func Mem(maxPuts int) kv.DB {
	db := &memDB{maxPuts: maxPuts}
	db.state.Store(&map[string]map[string][]byte{})
	return db
}

func (db *memDB) isClosed() bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.closed
}

func (db *memDB) View(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if db.isClosed() {
		return kv.ErrClosed
	}
	tx := &memTx{state: *db.state.Load()}
	err := fn(tx)
	tx.done = true
	return err
}

func (db *memDB) Update(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if db.isClosed() {
		return kv.ErrClosed
	}
	db.writer.Lock()
	defer db.writer.Unlock()
	tx := &memTx{state: maps.Clone(*db.state.Load()), writable: true, copied: map[string]bool{}}
	err := fn(tx)
	tx.done = true
	if err != nil {
		return err
	}
	if db.maxPuts > 0 && tx.puts > db.maxPuts {
		return fmt.Errorf("memdb: %d writes: %w", tx.puts, kv.ErrTooLarge)
	}
	db.state.Store(&tx.state)
	for _, f := range tx.onCommit {
		f()
	}
	return nil
}

func (db *memDB) Close() error {
	db.mu.Lock()
	db.closed = true
	db.mu.Unlock()
	db.writer.Lock() // waits for a running Update
	db.writer.Unlock()
	return nil
}

type memTx struct {
	state    map[string]map[string][]byte
	writable bool
	copied   map[string]bool // buckets this transaction has its own copy of
	puts     int
	onCommit []func()
	done     bool
}

func (tx *memTx) Get(bucket string, key []byte) ([]byte, error) {
	if tx.done {
		return nil, errTxDone
	}
	return tx.state[bucket][string(key)], nil
}

func (tx *memTx) write(bucket string) (map[string][]byte, error) {
	if tx.done {
		return nil, errTxDone
	}
	if !tx.writable {
		return nil, kv.ErrReadOnly
	}
	if !tx.copied[bucket] {
		tx.state[bucket] = maps.Clone(tx.state[bucket])
		if tx.state[bucket] == nil {
			tx.state[bucket] = map[string][]byte{}
		}
		tx.copied[bucket] = true
	}
	return tx.state[bucket], nil
}

func (tx *memTx) Put(bucket string, key, val []byte) error {
	switch {
	case len(key) == 0:
		return errors.New("memdb: empty key")
	case len(key) > kv.MaxKeySize || len(val) > kv.MaxValueSize:
		return kv.ErrTooLarge
	}
	b, err := tx.write(bucket)
	if err != nil {
		return err
	}
	b[string(key)] = append([]byte{}, val...)
	tx.puts++
	return nil
}

func (tx *memTx) Delete(bucket string, key []byte) error {
	if !tx.writable {
		return kv.ErrReadOnly
	}
	if _, ok := tx.state[bucket][string(key)]; !ok {
		return nil
	}
	b, err := tx.write(bucket)
	if err != nil {
		return err
	}
	delete(b, string(key))
	return nil
}

func (tx *memTx) Scan(bucket string, r kv.Range, fn func(k, v []byte) (bool, error)) error {
	if tx.done {
		return errTxDone
	}
	keys := slices.Sorted(maps.Keys(tx.state[bucket]))
	if r.Reverse {
		slices.Reverse(keys)
	}
	for _, k := range keys {
		if !bytes.HasPrefix([]byte(k), r.Prefix) {
			continue
		}
		if len(r.Start) > 0 {
			c := bytes.Compare([]byte(k), r.Start)
			if !r.Reverse && c < 0 || r.Reverse && c > 0 {
				continue
			}
		}
		more, err := fn([]byte(k), tx.state[bucket][k])
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func (tx *memTx) Writable() bool { return tx.writable }

func (tx *memTx) OnCommit(fn func()) {
	if tx.writable {
		tx.onCommit = append(tx.onCommit, fn)
	}
}
