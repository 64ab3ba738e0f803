package executor

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/authflow/authflow/seal"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/kv"
)

// Buckets of a KVRunState in its kv.DB: one per namespace, record key ->
// record, and the expiry index, namespace ‖ expiry ‖ record key -> empty.
const (
	bucketExpiry = "executor.expiry"
	// bucketMeta holds the usage record (usageKey): records held ‖
	// live records evicted, each a big-endian uint64.
	bucketMeta = "executor.meta"
)

var usageKey = []byte("usage")

// DefaultKVMaxRecords bounds a KVRunState's records when
// KVOptions.MaxRecords is zero.
const DefaultKVMaxRecords = 1_000_000

func bucketOf(ns Namespace) string { return "executor." + ns.String() }

// KVOptions configure a KVRunState.
type KVOptions struct {
	// Now is the clock that says what expired. Nil means time.Now.
	Now func() time.Time
	// MaxRecords bounds the records held, of every namespace together.
	// Zero means DefaultKVMaxRecords; a negative value means no bound.
	MaxRecords int
	// Keys seals every record's data (executions hold what users typed,
	// passwords included, until a stage writes it), each bound to its
	// namespace and key. Nil means none; NewStoreRunState uses the
	// store's (store.Store.Keys). A record that does not open under Keys
	// (sealed under a key since dropped, or written before Keys were
	// given) is removed when it is read, as if it had never been.
	Keys *seal.Keyring
}

// KVRunState is a RunState kept in a kv.DB: a bbolt file, where it
// survives a restart, or etcd, where every process sharing the prefix
// sees it. Each call is one transaction (a Save is three writes: the
// record and its expiry index entry, old and new). Expired records stay,
// answering ErrExpired, until Sweep (or a Take or Delete of them)
// removes them.
//
// It holds at most MaxRecords records, as MemRunState does: a Save of a
// new key that would pass the bound first removes the record that
// expires soonest (expired ones first), so that a flood of new
// executions can neither fill the disk nor lock out new logins. The
// count is a usage record that every Save of a new key and every removal
// updates in the same transaction; Saves that replace a record do not
// touch it. Bytes are not counted: each record is at most MaxDataSize.
// The count starts at zero on a database written before it existed, and
// is exact from then on for the records written since.
type KVRunState struct {
	db         kv.DB
	now        func() time.Time
	maxRecords int
	keys       *seal.Keyring
}

var _ Bounded = (*KVRunState)(nil)

var _ RunState = (*KVRunState)(nil)

// NewStoreRunState returns run state kept in the store's database, beside
// the configuration (store.Store.Aside): it survives a restart of a bbolt
// file and is shared by the processes of an etcd prefix, and it never
// touches the configuration's revisions, change log or change feed.
// Closing the store ends it: its calls then fail with store.ErrClosed.
func NewStoreRunState(s *store.Store, o KVOptions) *KVRunState {
	if o.Keys == nil {
		o.Keys = s.Keys()
	}
	return NewKVRunState(s.Aside(), o)
}

// NewKVRunState returns run state kept in db, in buckets named
// "executor.*". It does not own db.
func NewKVRunState(db kv.DB, o KVOptions) *KVRunState {
	k := &KVRunState{db: db, now: o.Now, maxRecords: o.MaxRecords, keys: o.Keys}
	if k.now == nil {
		k.now = time.Now
	}
	if k.maxRecords == 0 {
		k.maxRecords = DefaultKVMaxRecords
	}
	return k
}

// Record encoding: format ‖ version ‖ expires (unix ns, big-endian) ‖ data.
const (
	recFormat = 1
	recHeader = 17
)

func encodeRec(version uint64, expires int64, data []byte) []byte {
	b := make([]byte, recHeader+len(data))
	b[0] = recFormat
	binary.BigEndian.PutUint64(b[1:], version)
	binary.BigEndian.PutUint64(b[9:], uint64(expires))
	copy(b[recHeader:], data)
	return b
}

// decoded is a stored record; data points into the transaction.
type decoded struct {
	version uint64
	expires int64
	data    []byte
}

func decodeRec(ns Namespace, v []byte) (decoded, error) {
	if len(v) < recHeader || v[0] != recFormat {
		return decoded{}, fmt.Errorf("executor: %s: %w: a malformed run-state record", ns, kv.ErrCorrupt)
	}
	return decoded{
		version: binary.BigEndian.Uint64(v[1:]),
		expires: int64(binary.BigEndian.Uint64(v[9:])),
		data:    v[recHeader:],
	}, nil
}

func (d decoded) record() Record {
	return Record{Data: bytes.Clone(d.data), Expires: time.Unix(0, d.expires), Version: d.version}
}

// expiryKey is the index key of a record: namespace ‖ expiry with its
// sign bit flipped (so byte order is time order) ‖ key.
func expiryKey(ns Namespace, expires int64, key string) []byte {
	b := make([]byte, 9+len(key))
	b[0] = byte(ns)
	binary.BigEndian.PutUint64(b[1:], uint64(expires)^(1<<63))
	copy(b[9:], key)
	return b
}

// get reads the record under key; ok is false when there is none.
func get(tx kv.Tx, ns Namespace, key string) (d decoded, ok bool, err error) {
	v, err := tx.Get(bucketOf(ns), []byte(key))
	if err != nil || v == nil {
		return decoded{}, false, err
	}
	d, err = decodeRec(ns, v)
	return d, err == nil, err
}

// remove deletes the record under key and its index entry, and counts
// it out of the usage record.
func remove(tx kv.Tx, ns Namespace, key string, d decoded) error {
	if err := tx.Delete(bucketOf(ns), []byte(key)); err != nil {
		return err
	}
	if err := tx.Delete(bucketExpiry, expiryKey(ns, d.expires, key)); err != nil {
		return err
	}
	return addUsage(tx, -1, 0)
}

// kvUsage is the usage record.
type kvUsage struct{ records, evicted uint64 }

func readUsage(tx kv.Tx) (kvUsage, error) {
	v, err := tx.Get(bucketMeta, usageKey)
	if err != nil || len(v) != 16 {
		return kvUsage{}, err // none yet, or damaged: counting starts over
	}
	return kvUsage{binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])}, nil
}

// addUsage adds records (never going below zero) and evicted to the
// usage record.
func addUsage(tx kv.Tx, records int, evicted uint64) error {
	u, err := readUsage(tx)
	if err != nil {
		return err
	}
	switch {
	case records >= 0:
		u.records += uint64(records)
	case u.records >= uint64(-records):
		u.records -= uint64(-records)
	default:
		u.records = 0
	}
	u.evicted += evicted
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, u.records)
	binary.BigEndian.PutUint64(b[8:], u.evicted)
	return tx.Put(bucketMeta, usageKey, b)
}

// makeRoom removes the records that expire soonest, of every namespace,
// until one more fits under the bound; the live ones count as evicted.
func (k *KVRunState) makeRoom(tx kv.Tx, now int64) error {
	if k.maxRecords < 0 {
		return nil
	}
	u, err := readUsage(tx)
	if err != nil {
		return err
	}
	for n := u.records; n >= uint64(k.maxRecords); n-- {
		var first []byte
		for _, ns := range Namespaces {
			err := tx.Scan(bucketExpiry, kv.Range{Prefix: []byte{byte(ns)}}, func(e, _ []byte) (bool, error) {
				if len(e) >= 9 && (first == nil || bytes.Compare(e[1:9], first[1:9]) < 0) {
					first = bytes.Clone(e)
				}
				return false, nil
			})
			if err != nil {
				return err
			}
		}
		if first == nil {
			return nil // the count was off: nothing to remove
		}
		ns, exp, key := Namespace(first[0]), int64(binary.BigEndian.Uint64(first[1:])^(1<<63)), string(first[9:])
		d, ok, err := get(tx, ns, key)
		if err != nil && !errors.Is(err, kv.ErrCorrupt) {
			return err
		}
		if !ok || d.expires != exp {
			// A stale index entry: drop it, and look again.
			if err := tx.Delete(bucketExpiry, first); err != nil {
				return err
			}
			n++
			continue
		}
		if err := remove(tx, ns, key, d); err != nil {
			return err
		}
		if exp > now {
			if err := addUsage(tx, 0, 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// Usage implements Bounded; it reads the usage record, and reports zero
// usage when it cannot.
func (k *KVRunState) Usage() Usage {
	var u kvUsage
	_ = k.db.View(context.Background(), func(tx kv.Tx) error {
		var err error
		u, err = readUsage(tx)
		return err
	})
	return Usage{Records: int(u.records), MaxRecords: k.maxRecords, Evicted: int64(u.evicted)}
}

// Load implements RunState.
func (k *KVRunState) Load(ctx context.Context, ns Namespace, key string) (Record, error) {
	if err := checkKey(ctx, "load", ns, key); err != nil {
		return Record{}, err
	}
	now := k.now().UnixNano()
	var rec Record
	var sealed bool
	err := k.db.View(ctx, func(tx kv.Tx) error {
		d, ok, err := get(tx, ns, key)
		switch {
		case err != nil:
			return err
		case !ok:
			return fmt.Errorf("executor: load %s: %w", ns, ErrNotFound)
		case d.expires <= now:
			return fmt.Errorf("executor: load %s: %w", ns, ErrExpired)
		}
		rec, sealed = k.open(ns, key, d)
		return nil
	})
	if err == nil && !sealed {
		return Record{}, k.drop(ctx, "load", ns, key, rec.Version)
	}
	return rec, err
}

// place is what a record's data is sealed for: a name no collection's
// model starts with, its namespace and its key.
func place(ns Namespace, key string) []byte {
	return []byte("executor.runstate\x00" + ns.String() + "\x00" + key)
}

// open is d as a Record, its data opened under k's keys; ok is false
// when it does not open.
func (k *KVRunState) open(ns Namespace, key string, d decoded) (Record, bool) {
	if k.keys == nil {
		return d.record(), true
	}
	data, err := k.keys.Open(nil, d.data, place(ns, key))
	if err != nil {
		return Record{Version: d.version}, false
	}
	return Record{Data: data, Expires: time.Unix(0, d.expires), Version: d.version}, true
}

// drop removes the record under key that did not open, unless it has
// changed since (its version is not version), and reports ErrNotFound.
func (k *KVRunState) drop(ctx context.Context, op string, ns Namespace, key string, version uint64) error {
	err := k.db.Update(ctx, func(tx kv.Tx) error {
		d, ok, err := get(tx, ns, key)
		if err != nil || !ok || d.version != version {
			return err
		}
		return remove(tx, ns, key, d)
	})
	if err != nil {
		return fmt.Errorf("executor: %s %s: removing a record that does not open: %w", op, ns, err)
	}
	return fmt.Errorf("executor: %s %s: %w (a record that did not open under the keys was removed)", op, ns, ErrNotFound)
}

// Save implements RunState.
func (k *KVRunState) Save(ctx context.Context, ns Namespace, key string, rec Record) (uint64, error) {
	nowT := k.now()
	if err := checkSave(ctx, ns, key, rec, nowT); err != nil {
		return 0, err
	}
	now, exp := nowT.UnixNano(), rec.Expires.UnixNano()
	data := rec.Data
	if k.keys != nil {
		var err error
		if data, err = k.keys.Seal(nil, data, place(ns, key)); err != nil {
			return 0, fmt.Errorf("executor: save %s: %w", ns, err)
		}
	}
	var version uint64
	err := k.db.Update(ctx, func(tx kv.Tx) error {
		old, ok, err := get(tx, ns, key)
		if err != nil {
			return err
		}
		if err := cas(ns, rec.Version, old.version, old.expires, now); err != nil {
			return err
		}
		if ok {
			if err := tx.Delete(bucketExpiry, expiryKey(ns, old.expires, key)); err != nil {
				return err
			}
		} else {
			if err := k.makeRoom(tx, now); err != nil {
				return err
			}
			if err := addUsage(tx, 1, 0); err != nil {
				return err
			}
		}
		version = newVersion(old.version)
		if err := tx.Put(bucketOf(ns), []byte(key), encodeRec(version, exp, data)); err != nil {
			return err
		}
		return tx.Put(bucketExpiry, expiryKey(ns, exp, key), nil)
	})
	if err != nil {
		return 0, err
	}
	return version, nil
}

// Delete implements RunState.
func (k *KVRunState) Delete(ctx context.Context, ns Namespace, key string) error {
	if err := checkKey(ctx, "delete", ns, key); err != nil {
		return err
	}
	return k.db.Update(ctx, func(tx kv.Tx) error {
		d, ok, err := get(tx, ns, key)
		if errors.Is(err, kv.ErrCorrupt) { // a damaged record goes all the same
			if err := tx.Delete(bucketOf(ns), []byte(key)); err != nil {
				return err
			}
			return addUsage(tx, -1, 0)
		}
		if err != nil || !ok {
			return err
		}
		return remove(tx, ns, key, d)
	})
}

// Take implements RunState.
func (k *KVRunState) Take(ctx context.Context, ns Namespace, key string) (Record, error) {
	if err := checkKey(ctx, "take", ns, key); err != nil {
		return Record{}, err
	}
	now := k.now().UnixNano()
	var rec Record
	var expired, sealed bool
	err := k.db.Update(ctx, func(tx kv.Tx) error {
		d, ok, err := get(tx, ns, key)
		switch {
		case err != nil:
			return err
		case !ok:
			return fmt.Errorf("executor: take %s: %w", ns, ErrNotFound)
		}
		expired = d.expires <= now
		rec, sealed = k.open(ns, key, d)
		return remove(tx, ns, key, d)
	})
	switch {
	case err != nil:
		return Record{}, err
	case expired:
		return Record{}, fmt.Errorf("executor: take %s: %w", ns, ErrExpired)
	case !sealed:
		return Record{}, fmt.Errorf("executor: take %s: %w (a record that did not open under the keys was removed)", ns, ErrNotFound)
	}
	return rec, nil
}

// Sweep implements RunState. It reads only the expired entries of the
// expiry index, in one transaction.
func (k *KVRunState) Sweep(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("executor: sweep: %w", err)
	}
	limit = sweepLimit(limit)
	cut := min(before.UnixNano(), k.now().UnixNano())
	var n int
	err := k.db.Update(ctx, func(tx kv.Tx) error {
		n = 0
		var entries [][]byte
		for _, ns := range Namespaces {
			err := tx.Scan(bucketExpiry, kv.Range{Prefix: []byte{byte(ns)}}, func(e, _ []byte) (bool, error) {
				if len(e) < 9 || int64(binary.BigEndian.Uint64(e[1:])^(1<<63)) > cut {
					return false, nil
				}
				entries = append(entries, bytes.Clone(e))
				return len(entries) < limit, nil
			})
			if err != nil {
				return err
			}
			if len(entries) >= limit {
				break
			}
		}
		for _, e := range entries {
			ns, exp, key := Namespace(e[0]), int64(binary.BigEndian.Uint64(e[1:])^(1<<63)), string(e[9:])
			if err := tx.Delete(bucketExpiry, e); err != nil {
				return err
			}
			d, ok, err := get(tx, ns, key)
			if err != nil {
				return err
			}
			if ok && d.expires == exp {
				if err := tx.Delete(bucketOf(ns), []byte(key)); err != nil {
					return err
				}
				n++
			}
		}
		if n > 0 {
			return addUsage(tx, -n, 0)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("executor: sweep: %w", err)
	}
	return n, nil
}
