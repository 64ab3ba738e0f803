package api_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/store/kv/kvtest"
	"github.com/authflow/authflow/store/storetest"
)

// TestOneTransactionPerRequest: past the permission checks, a request is
// one store transaction: a GET reads the object and its ETag's revision
// in one read, a write renders the object and learns its commit revision
// in one update, a list is one read.
func TestOneTransactionPerRequest(t *testing.T) {
	db := &countingDB{DB: newMemDB()}
	s, err := store.New(db, &store.Options{NewID: storetest.CounterIDs(storesOpened.Add(1)<<32+1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := setup(&client{t: t, h: api.NewHandler(s, nil)})
	flow := "/api/v3/flows/instances/" + f.flowSlug + "/"
	userWrite := "/api/v3/stages/user_write/" + f.userWrite + "/"
	for _, tt := range []struct {
		method, path, body string
		status             int
		views, updates     int64
	}{
		{"GET", flow, "", http.StatusOK, 1, 0},
		{"GET", userWrite, "", http.StatusOK, 1, 0},
		{"GET", "/api/v3/stages/all/" + f.userWrite + "/", "", http.StatusOK, 1, 0},
		{"PATCH", flow, `{"title": "Changed"}`, http.StatusOK, 0, 1},
		{"PATCH", flow, `{"title": "Changed"}`, http.StatusOK, 0, 1}, // no change
		{"PATCH", userWrite, `{"name": "changed"}`, http.StatusOK, 0, 1},
		{"PUT", userWrite, userWriteBody, http.StatusOK, 0, 1},
		{"GET", "/api/v3/flows/instances/", "", http.StatusOK, 1, 0},
		{"GET", "/api/v3/stages/all/", "", http.StatusOK, 1, 0},
		{"POST", flow + "set_background_url/", `{"url": "https://example.com/bg.png"}`, http.StatusOK, 0, 1},
		{"GET", flow + "used_by/", "", http.StatusOK, 1, 0},
		{"POST", "/api/v3/stages/prompt/prompts/", `{"name": "p", "field_key": "k", "label": "K", "type": "text"}`, http.StatusCreated, 0, 1},
		{"DELETE", "/api/v3/flows/bindings/" + f.bindPK + "/", "", http.StatusNoContent, 0, 1},
	} {
		views, updates := db.views.Load(), db.updates.Load()
		res := f.do(tt.method, tt.path, tt.body)
		views, updates = db.views.Load()-views, db.updates.Load()-updates
		if res.Code != tt.status {
			t.Fatalf("%s %s: status %d, want %d: %s", tt.method, tt.path, res.Code, tt.status, res.Body)
		}
		if views != tt.views || updates != tt.updates {
			t.Errorf("%s %s: %d read and %d write transactions, want %d and %d", tt.method, tt.path, views, updates, tt.views, tt.updates)
		}
		if tt.status != http.StatusOK || tt.path == flow+"used_by/" || bytes.HasPrefix(res.Body, []byte(`{"pagination"`)) {
			continue
		}
		// The ETag is the revision the transaction read or committed
		// at: the store's revision now, as nothing wrote since.
		rev, err := inView(s, func(tx *store.Tx) (int64, error) { return tx.Revision() })
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res.Header.Get("ETag"), `"`+strconv.FormatInt(rev, 10)+`"`; got != want {
			t.Errorf("%s %s: ETag %s, want %s", tt.method, tt.path, got, want)
		}
	}
}

// TestMemDB: the backend of TestOneTransactionPerRequest keeps the
// storage seam's contract.
func TestMemDB(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.DB { return newMemDB() })
}

// countingDB counts the transactions run on DB.
type countingDB struct {
	kv.DB
	views, updates atomic.Int64
}

func (db *countingDB) View(ctx context.Context, fn func(kv.Tx) error) error {
	db.views.Add(1)
	return db.DB.View(ctx, fn)
}

func (db *countingDB) Update(ctx context.Context, fn func(kv.Tx) error) error {
	db.updates.Add(1)
	return db.DB.Update(ctx, fn)
}

// memDB is an in-memory kv.DB (the model backend of store/kv/kvtest's
// own tests): each Update works on a copy of the buckets it writes and
// publishes the new state on commit; a View reads the state published
// when it began.
type memDB struct {
	writer sync.Mutex
	state  atomic.Pointer[map[string]map[string][]byte]
	mu     sync.Mutex
	closed bool
}

func newMemDB() *memDB {
	db := &memDB{}
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
	onCommit []func()
	done     bool
}

var errTxDone = errors.New("memdb: transaction ended")

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

// TestProtectedDeleteOneTransaction: a delete that a protected reference
// refuses is one update too; the 409 names the object from what that
// transaction found, without a second read.
func TestProtectedDeleteOneTransaction(t *testing.T) {
	db := &countingDB{DB: newMemDB()}
	s, err := store.New(db, &store.Options{StageKinds: guardRegistry(), NewID: storetest.CounterIDs(storesOpened.Add(1)<<32+1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := setup(&client{t: t, h: api.NewHandler(s, nil)})
	if _, err := inUpdate(s, func(tx *store.Tx) (stage.Stage, error) {
		return store.Stages.Kind("authflow_test.guardstage").CreateJSON(tx, []byte(`{"name": "g", "flow": "`+f.flowPK+`"}`), nil)
	}); err != nil {
		t.Fatal(err)
	}
	views, updates := db.views.Load(), db.updates.Load()
	res := f.do("DELETE", "/api/v3/flows/instances/"+f.flowSlug+"/", "")
	views, updates = db.views.Load()-views, db.updates.Load()-updates
	if res.Code != http.StatusConflict || !bytes.Contains(res.Body, []byte(`Cannot delete \"Flow Welcome to authentik! (default-authentication-flow)\"`)) {
		t.Fatalf("status %d: %s", res.Code, res.Body)
	}
	if views != 0 || updates != 1 {
		t.Errorf("%d read and %d write transactions, want 0 and 1", views, updates)
	}
}
