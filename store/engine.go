package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/authflow/authflow/seal"
	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// entry is one index entry an object implies.
type entry struct {
	bucket   string
	key, val []byte
}

// entries returns every index entry of obj in c: unique, unique-together,
// ordered, kind, pbm and reference entries. Keeping an object's indexes
// right is putting its entries and deleting its old ones; checking them is
// comparing the index buckets with the entries of every record.
func (c *collection) entries(obj any) []entry {
	pk, pbm := c.codec.ids(obj)
	out := make([]entry, 0, len(c.unique)+len(c.indexes)+4)
	for _, u := range c.unique {
		v, _ := c.codec.value(obj, u.field)
		out = append(out, entry{u.bucket, uniqueKey(u, v), pk[:]})
	}
	if k, ok := c.tupleKey(obj, c.together); ok {
		out = append(out, entry{c.bucket + "_unique", k, pk[:]})
	}
	for _, ix := range c.indexes {
		k := append(c.orderedKey(obj, ix.fields), pk[:]...)
		var val []byte
		if ix.value != "" {
			v, _ := c.codec.value(obj, ix.value)
			val = sealValue(ix.bucket, k, appendValue(nil, v))
		}
		out = append(out, entry{ix.bucket, k, val})
	}
	if c.kindIndex != "" {
		out = append(out, entry{c.kindIndex, kindKey(c.codec.kind(obj), pk), nil})
	}
	if c.pbm {
		val := make([]byte, 0, len(pk)+len(c.bucket))
		out = append(out, entry{bucketPBM, pbm[:], append(append(val, pk[:]...), c.bucket...)})
	}
	for _, r := range c.refs(obj) {
		if r.Null {
			continue
		}
		out = append(out, entry{bucketRefs, refKey(r.ID, pk, r.Field), []byte(c.bucket)})
	}
	return out
}

// implies reports whether obj's index entries include key in bucket. It
// builds only that bucket's entry where it can (a list's walk asks it of
// every object of a page).
func (c *collection) implies(obj any, bucket string, key []byte) bool {
	pk, _ := c.codec.ids(obj)
	for _, u := range c.unique {
		if u.bucket == bucket {
			v, _ := c.codec.value(obj, u.field)
			return bytes.Equal(uniqueKey(u, v), key)
		}
	}
	for _, ix := range c.indexes {
		if ix.bucket == bucket {
			k := c.orderedKey(obj, ix.fields)
			return len(key) == len(k)+len(pk) && bytes.Equal(key[:len(k)], k) && bytes.Equal(key[len(k):], pk[:])
		}
	}
	if bucket == c.kindIndex {
		return bytes.Equal(kindKey(c.codec.kind(obj), pk), key)
	}
	for _, e := range c.entries(obj) {
		if e.bucket == bucket && bytes.Equal(e.key, key) {
			return true
		}
	}
	return false
}

func uniqueKey(u uniqueField, v any) []byte {
	s, isString := v.(string)
	switch {
	case u.hash:
		return hashKey(fmt.Sprint(v))
	case isString:
		return []byte(s)
	}
	return appendValue(nil, v)
}

// maxIndexText bounds the bytes of a text value in an ordered index key;
// longer values are cut, and a walk that meets a cut value falls back to
// sorting the objects themselves.
const maxIndexText = 1024

// orderedKey is the key prefix of an ordered index entry: like tupleKey,
// with text cut at maxIndexText bytes.
func (c *collection) orderedKey(obj any, fields []string) []byte {
	var k []byte
	for _, f := range fields {
		v, _ := c.codec.value(obj, f)
		if s, ok := v.(string); ok && len(s) > maxIndexText {
			v = s[:maxIndexText]
		}
		k = appendValue(k, v)
	}
	return k
}

// tupleKey is the unique-together key of obj's fields; ok is false when
// there are none or one of them is null, since then (as in Django) the
// set does not apply.
func (c *collection) tupleKey(obj any, fields []string) (k []byte, ok bool) {
	for _, f := range fields {
		v, _ := c.codec.value(obj, f)
		if v == nil {
			return nil, false
		}
		k = appendValue(k, v)
	}
	return k, len(fields) > 0
}

// kindKey is kind \0 pk.
func kindKey(kind string, pk uuid.UUID) []byte {
	k := make([]byte, 0, len(kind)+17)
	k = append(k, kind...)
	k = append(k, 0)
	return append(k, pk[:]...)
}

// refKey is target ‖ source ‖ field.
func refKey(target, source uuid.UUID, field string) []byte {
	k := make([]byte, 0, 32+len(field))
	k = append(k, target[:]...)
	k = append(k, source[:]...)
	return append(k, field...)
}

// get loads the object with pk from c; ok is false when there is none.
func (tx *Tx) get(c *collection, pk uuid.UUID) (any, bool, error) {
	raw, err := kvGet(tx.kv, c.bucket, pk[:])
	if err != nil || raw == nil {
		return nil, false, err
	}
	obj, err := tx.decodeRecord(c, pk[:], raw)
	if err != nil {
		return nil, false, err
	}
	return obj, true, nil
}

// decodeRecord is decodeStored through the object cache.
func (tx *Tx) decodeRecord(c *collection, pk, raw []byte) (any, error) {
	if obj, ok := tx.s.cache.get(c, pk, raw); ok {
		if c.clone != nil {
			obj = c.clone(obj)
		}
		return obj, nil
	}
	obj, err := decodeStored(c, pk, raw, tx.s.keys)
	if err != nil {
		return nil, err
	}
	kept := obj
	if c.clone != nil && tx.s.cache != nil {
		kept = c.clone(obj)
	}
	tx.s.cache.put(c, pk, raw, kept)
	return obj, nil
}

// decodeStored checks the envelope of the record stored under pk in c and
// decodes it, opening its secrets with keys when they are sealed;
// anything wrong with it, a pk that is not its own included, is
// ErrCorrupt, and a secret that does not open ErrSealed.
func decodeStored(c *collection, pk, raw []byte, keys *seal.Keyring) (any, error) {
	js, err := unwrap(c.bucket, pk, raw)
	if err != nil {
		return nil, err
	}
	obj, err := c.codec.load(js)
	if err != nil {
		return nil, fmt.Errorf("store: decoding %s %s: %w", c.alias, idFrom(pk), errors.Join(ErrCorrupt, err))
	}
	if got, _ := c.codec.ids(obj); !bytes.Equal(got[:], pk) {
		return nil, fmt.Errorf("store: %s record %s: %w: it holds pk %s", c.bucket, idFrom(pk), ErrCorrupt, got)
	}
	if raw[0] == recordV5 {
		return openSecrets(keys, c, pk, obj)
	}
	return obj, nil
}

// must loads the object with pk, or fails with ErrNotFound.
func (tx *Tx) must(c *collection, pk uuid.UUID) (any, error) {
	obj, ok, err := tx.get(c, pk)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("store: %s %s: %w", c.alias, pk, ErrNotFound)
	}
	return obj, nil
}

// lookup returns the pk a unique index holds for value v.
func (tx *Tx) lookup(c *collection, field string, v any) (uuid.UUID, bool, error) {
	for _, u := range c.unique {
		if u.field != field {
			continue
		}
		raw, err := kvGet(tx.kv, u.bucket, uniqueKey(u, v))
		if err != nil || raw == nil {
			return uuid.Nil, false, err
		}
		return idFrom(raw), true, nil
	}
	return uuid.Nil, false, fmt.Errorf("store: %s has no unique index on %s", c.model, field)
}

// indexedID returns the id that the entry k, v of an ordered index holds
// as its value (see sealValue); ok is false for a null value.
func indexedID(bucket string, k, v []byte) (id uuid.UUID, ok bool, err error) {
	val, err := unsealValue(bucket, k, v)
	switch {
	case err != nil:
		return id, false, err
	case len(val) == 0:
		return id, false, nil
	case len(val) != 16:
		return id, false, fmt.Errorf("store: %s: %w: the entry of key %x holds %d bytes, not an id", bucket, ErrCorrupt, k, len(val))
	}
	return idFrom(val), true, nil
}

// exists reports whether pk is an object of the ref target (a collection,
// or one kind of it).
func (tx *Tx) exists(target string, pk uuid.UUID) (bool, error) {
	c, kind, ok := tx.s.schema.target(target)
	if !ok {
		return false, fmt.Errorf("store: %w: unknown reference target %q", ErrSchema, target)
	}
	if c == nil { // targetPBM
		_, _, ok, err := tx.pbmObject(pk)
		return ok, err
	}
	key, bucket := pk[:], c.bucket
	if kind != "" {
		key, bucket = kindKey(kind, pk), c.kindIndex
	}
	raw, err := kvGet(tx.kv, bucket, key)
	return raw != nil, err
}

// write is every create, replace and patch: it applies body to cur (nil
// for a create of kind), checks the result in Django REST framework's
// order, and stores it. A create gives the object pk, or a new pk when pk
// is uuid.Nil; an update ignores pk. Field rules, reference existence,
// unique fields and a given pk come first and are reported together;
// then, only if there are no field errors, the unique-together set and
// the object rules. A rejected write returns a *validate.Error and
// writes nothing. o are the write's options (its actor); its
// precondition is the caller's to check, on the object before the write.
func (tx *Tx) write(c *collection, cur any, kind string, body []byte, op validate.Op, pk uuid.UUID, o *WriteOptions) (any, error) {
	if err := tx.canWrite(); err != nil {
		return nil, err
	}
	create := cur == nil
	if create {
		var err error
		if cur, err = c.codec.blank(kind); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	next, err := c.codec.decode(cur, body, op)
	errs, err := asValidation(err)
	if err != nil {
		return nil, err
	}
	if !errs.Empty() && !errs.HasFieldErrors() {
		if _, err := validate.Object(body); err != nil {
			return nil, err // not an object: there are no fields to check
		}
	}
	if c.pbmRefs {
		if next, err = tx.resolvePBM(c, next); err != nil {
			return nil, err
		}
	}
	curPK, _ := c.codec.ids(cur)
	for _, u := range c.unique {
		if errs.Has(u.field) || u.field == c.seq {
			continue // a sequence number is the store's to give
		}
		v, _ := c.codec.value(next, u.field)
		owner, taken, err := tx.lookup(c, u.field, v)
		if err != nil {
			return nil, err
		}
		if taken && (create || owner != curPK) {
			msg := c.codec.uniqueMessage(next)
			if msg == "" {
				msg = validate.Unique(c.verbose, u.field)
			}
			errs.Add(u.field, msg)
			errs.Err = ErrConflict
		}
	}
	if create && pk != uuid.Nil {
		holder, held, err := tx.holder(pk)
		if err != nil {
			return nil, err
		}
		if held {
			errs.Add("pk", validate.PKHeld(holder))
			errs.Err = ErrConflict
		}
	}
	for _, r := range c.refs(next) {
		if r.Null || errs.Has(r.Field) {
			continue
		}
		ok, err := tx.exists(r.Target, r.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			shown := r.ID.String()
			if r.Numbered {
				shown = strconv.FormatInt(r.Num, 10) // not the id derived from it
			}
			errs.Add(r.Field, validate.DoesNotExist(refText(body, r.Field, shown)))
		}
	}
	if errs.HasFieldErrors() {
		errs.NonField = nil // object rules run only on valid fields
		return nil, errs
	}
	if key, ok := c.tupleKey(next, c.together); ok {
		raw, err := kvGet(tx.kv, c.bucket+"_unique", key)
		if err != nil {
			return nil, err
		}
		if raw != nil && (create || idFrom(raw) != curPK) {
			e := validate.NonFieldError(validate.UniqueTogether(c.together...))
			e.Err = ErrConflict
			return nil, e
		}
	}
	if oe := c.codec.checkObject(next); oe != nil {
		return nil, oe
	}
	if !errs.Empty() {
		return nil, errs
	}
	if c.onWrite != nil {
		var old any
		if !create {
			old = cur
		}
		if err := c.onWrite(tx, old, next); err != nil {
			return nil, err
		}
	}
	if create {
		if c.onCreate != nil {
			var err error
			if next, err = c.onCreate(tx, next, o); err != nil {
				return nil, err
			}
		}
		if c.seq != "" {
			n, err := tx.nextSeq(c)
			if err != nil {
				return nil, err
			}
			next = c.codec.withSeq(next, n)
			if c.seq == "pk" {
				pk = seqID(c.bucket, n) // the record's id is the number's
			}
		}
		var err error
		if pk == uuid.Nil {
			if pk, err = tx.newID(); err != nil {
				return nil, err
			}
		}
		var pbm uuid.UUID
		if c.pbm {
			if pbm, err = tx.newID(); err != nil {
				return nil, err
			}
		}
		next = c.codec.withIDs(next, pk, pbm)
		cur = nil
	}
	if err := tx.put(c, cur, next); err != nil {
		return nil, err
	}
	if c.afterWrite != nil {
		if err := c.afterWrite(tx, next); err != nil {
			return nil, err
		}
	}
	return next, nil
}

// seqKey is the meta key of c's sequence: the last number it gave.
func seqKey(c *collection) []byte { return []byte("seq\x00" + c.bucket) }

// nextSeq gives the next number of c's sequence and records it, so that
// no number is given twice, even after its object is deleted. A number
// the sequence's index already holds (a damaged counter) is ErrCorrupt
// rather than an object overwritten.
func (tx *Tx) nextSeq(c *collection) (int64, error) {
	last, err := tx.lastSeq(c)
	if err != nil {
		return 0, err
	}
	if last >= math.MaxInt32 {
		return 0, fmt.Errorf("store: %s: the numbers of %s are used up: %w", c.alias, c.seq, ErrTooLarge)
	}
	n := last + 1
	taken := false
	if c.seq == "pk" {
		id := seqID(c.bucket, n)
		raw, err := kvGet(tx.kv, c.bucket, id[:])
		if err != nil {
			return 0, err
		}
		taken = raw != nil
	} else if _, taken, err = tx.lookup(c, c.seq, n); err != nil {
		return 0, err
	}
	if taken {
		return 0, fmt.Errorf("store: %s: %w: the sequence of %s is at %d, but %d is taken", c.alias, ErrCorrupt, c.seq, last, n)
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	if err := tx.kv.Put(bucketMeta, seqKey(c), b[:]); err != nil {
		return 0, fmt.Errorf("store: %s sequence: %w", c.alias, err)
	}
	return n, nil
}

// seqID is the record id of the object numbered n in a collection whose
// pk is a sequence (bucket names it): a UUID of version 8 (RFC 9562's
// custom layout), so that it never equals a generated id (version 7) or
// another collection's, with the bucket's hash in its first bytes and the
// number in its last four. A reference by number is the same id, found
// without a lookup. A number no sequence gives (below 1, above 2^31-1)
// has the id of 0, which no object holds: its last four bytes alone
// would make 2^32+1 the id of 1.
func seqID(bucket string, n int64) uuid.UUID {
	if n < 1 || n > math.MaxInt32 {
		n = 0
	}
	h := sha256.Sum256([]byte("authflow sequence\x00" + bucket))
	var id uuid.UUID
	copy(id[:12], h[:12])
	id[6] = 0x80 | id[6]&0x0f // version 8
	id[8] = 0x80 | id[8]&0x3f // RFC 9562 variant
	binary.BigEndian.PutUint32(id[12:], uint32(n))
	return id
}

// lastSeq is the last number c's sequence gave (0 for none yet).
func (tx *Tx) lastSeq(c *collection) (int64, error) {
	raw, err := kvGet(tx.kv, bucketMeta, seqKey(c))
	switch {
	case err != nil:
		return 0, err
	case raw == nil:
		return 0, nil
	case len(raw) != 8:
		return 0, fmt.Errorf("store: %s: %w: the sequence of %s holds %d bytes", bucketMeta, ErrCorrupt, c.seq, len(raw))
	}
	// A counter no sequence reaches (negative, or past 2^31-1) is damage:
	// the next number would be one no key can name.
	if n := int64(binary.BigEndian.Uint64(raw)); n >= 0 && n <= math.MaxInt32 {
		return n, nil
	}
	return 0, fmt.Errorf("store: %s: %w: the sequence of %s holds %#x, outside 0..2^31-1", bucketMeta, ErrCorrupt, c.seq, binary.BigEndian.Uint64(raw))
}

// newID makes a primary key, refusing one that is in use (a custom
// Options.NewID could repeat itself, or make a pk that a create was
// given) rather than overwrite.
func (tx *Tx) newID() (uuid.UUID, error) {
	id, err := tx.s.newID()
	if err != nil {
		return uuid.Nil, fmt.Errorf("store: making an id: %w", err)
	}
	if !tx.s.customIDs {
		return id, nil // UUIDv7 from the clock and a random tail: fresh
	}
	if _, held, err := tx.holder(id); err != nil {
		return uuid.Nil, err
	} else if held || id == uuid.Nil {
		return uuid.Nil, fmt.Errorf("store: NewID returned %s, which is already in use", id)
	}
	return id, nil
}

// holder names what holds pk, if anything does: the object of a
// collection whose pk it is (any kind), or the object whose
// policy-binding-model id it is, since a policy binding's target may name
// either.
func (tx *Tx) holder(pk uuid.UUID) (string, bool, error) {
	for _, c := range tx.s.schema.colls {
		raw, err := kvGet(tx.kv, c.bucket, pk[:])
		if err != nil {
			return "", false, err
		}
		if raw != nil {
			return c.alias, true, nil
		}
	}
	raw, err := kvGet(tx.kv, bucketPBM, pk[:])
	if err != nil {
		return "", false, err
	}
	return "policy binding model", raw != nil, nil
}

// put stores next, replacing cur (nil for a new object), and moves its
// index entries.
func (tx *Tx) put(c *collection, cur, next any) error {
	pk, _ := c.codec.ids(next)
	stored, sealed, err := tx.s.sealed(c, pk, next)
	if err != nil {
		return err
	}
	js, err := c.codec.encode(stored)
	if err != nil {
		return fmt.Errorf("store: encoding %s %s: %w", c.alias, pk, err)
	}
	if cur != nil {
		// A write of what is stored changes nothing: no revision, no
		// change, no index work. (Sealing a secret again for its place
		// gives the same bytes: see package seal.)
		old, err := kvGet(tx.kv, c.bucket, pk[:])
		if err != nil {
			return err
		}
		if old != nil && (old[0] == recordV5) == sealed {
			if ojs, err := unwrap(c.bucket, pk[:], old); err == nil && bytes.Equal(ojs, js) {
				return nil
			}
		}
	}
	rev := int64(0)
	if !tx.internal {
		if rev, err = tx.revision(); err != nil {
			return err
		}
	}
	tx.record(c, pk, cur, next)
	tx.recount(c, cur, next)
	// Move only the entries that change: a patch of a title touches no
	// index.
	now := c.entries(next)
	var kept map[string]bool
	if cur != nil {
		kept = make(map[string]bool, len(now))
		want := make(map[string][]byte, len(now))
		for _, e := range now {
			want[e.bucket+"\x00"+string(e.key)] = e.val
		}
		for _, e := range c.entries(cur) {
			id := e.bucket + "\x00" + string(e.key)
			if v, ok := want[id]; ok && bytes.Equal(v, e.val) {
				kept[id] = true
				continue
			}
			if _, ok := want[id]; ok {
				continue // rewritten below
			}
			if err := tx.kv.Delete(e.bucket, e.key); err != nil {
				return err
			}
		}
	}
	for _, e := range now {
		if kept != nil && kept[e.bucket+"\x00"+string(e.key)] {
			continue
		}
		if err := tx.kv.Put(e.bucket, e.key, e.val); err != nil {
			return fmt.Errorf("store: indexing %s %s: %w", c.alias, pk, err)
		}
	}
	if err := tx.kv.Put(c.bucket, pk[:], wrap(c.bucket, pk[:], js, rev, sealed)); err != nil {
		return fmt.Errorf("store: writing %s %s: %w", c.alias, pk, err)
	}
	return nil
}

// index writes obj's index entries and counts, not its record: for a
// reindex.
func (tx *Tx) index(c *collection, obj any) error {
	tx.recount(c, nil, obj)
	for _, e := range c.entries(obj) {
		if err := tx.kv.Put(e.bucket, e.key, e.val); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes obj and its index entries.
func (tx *Tx) remove(c *collection, obj any) error {
	pk, _ := c.codec.ids(obj)
	if c.onRemove != nil {
		if err := c.onRemove(tx, obj); err != nil {
			return err
		}
	}
	for _, e := range c.entries(obj) {
		if err := tx.kv.Delete(e.bucket, e.key); err != nil {
			return err
		}
	}
	tx.recount(c, obj, nil)
	tx.record(c, pk, obj, nil)
	return tx.kv.Delete(c.bucket, pk[:])
}

// countKeys are the count keys obj adds to: its collection's, one per
// counted index, for its first field's value, and one per entry it puts
// in the reference index, for the entry's target (a key repeats when obj
// refers to one target from several fields).
func (c *collection) countKeys(obj any) []string {
	if obj == nil {
		return nil
	}
	keys := []string{c.bucket}
	for _, ix := range c.indexes {
		if ix.counted {
			keys = append(keys, countKey(ix.bucket, c.orderedKey(obj, ix.fields[:1])))
		}
	}
	refs := c.refs(obj)
	for i, r := range refs {
		dup := slices.ContainsFunc(refs[:i], func(o validate.Ref) bool { return !o.Null && o.ID == r.ID && o.Field == r.Field })
		if !r.Null && !dup { // one entry per target and field
			keys = append(keys, countKey(bucketRefs, r.ID[:]))
		}
	}
	return keys
}

// countKey is the count key of the objects under prefix in index bucket.
func countKey(bucket string, prefix []byte) string { return bucket + "\x00" + string(prefix) }

// recount moves obj's counts from cur to next (either may be nil). A key
// may repeat in either list; each counts.
func (tx *Tx) recount(c *collection, cur, next any) {
	for _, k := range c.countKeys(cur) {
		tx.addCount(k, -1)
	}
	for _, k := range c.countKeys(next) {
		tx.addCount(k, +1)
	}
}

// addCount records a change of a count; the changes are written once,
// when the transaction's function returns (Tx.flush), so that a bulk load
// does not rewrite a count per object.
func (tx *Tx) addCount(key string, d int64) {
	if tx.w.counts == nil {
		tx.w.counts = map[string]int64{}
	}
	tx.w.counts[key] += d
}

// flush writes the pending count changes.
func (tx *Tx) flush() error {
	// In key order: the same writes give the same file (bbolt splits
	// pages by the order of inserts), which keeps damage reproducible.
	for _, key := range slices.Sorted(maps.Keys(tx.w.counts)) {
		d := tx.w.counts[key]
		if d == 0 {
			continue
		}
		n, err := tx.storedCount([]byte(key))
		if err != nil {
			return err
		}
		if n += d; n <= 0 {
			err = tx.kv.Delete(bucketCounts, []byte(key))
		} else {
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(n))
			err = tx.kv.Put(bucketCounts, []byte(key), b[:])
		}
		if err != nil {
			return err
		}
	}
	tx.w.counts = nil
	return tx.commitChanges()
}

// counted is a count as this transaction sees it. The key is bytes so
// that a scan can build it without a string (see scanCounted).
func (tx *Tx) counted(key []byte) (int64, error) {
	n, err := tx.storedCount(key)
	if tx.w != nil {
		n += tx.w.counts[string(key)]
	}
	return n, err
}

func (tx *Tx) storedCount(key []byte) (int64, error) {
	raw, err := kvGet(tx.kv, bucketCounts, key)
	if err != nil {
		return 0, err
	}
	switch {
	case raw == nil:
		return 0, nil
	case len(raw) != 8:
		return 0, fmt.Errorf("store: count %q: %w: malformed", string(key), ErrCorrupt) // a copy: key does not escape
	}
	return int64(binary.BigEndian.Uint64(raw)), nil
}

// pkAt returns the 16-byte pk in an index key: at offset at, or, for a
// negative at, that far from the end (-16: the pk ends the key).
func pkAt(bucket string, k []byte, at int) ([]byte, error) {
	if at < 0 {
		at += len(k)
	}
	if at < 0 || at+16 > len(k) {
		return nil, fmt.Errorf("store: %s: %w: malformed key", bucket, ErrCorrupt)
	}
	return k[at : at+16], nil
}

// scanIDs returns the pks an index prefix scan finds, each at offset at of
// its key (see pkAt).
func (tx *Tx) scanIDs(bucket string, prefix []byte, at int) ([]uuid.UUID, error) {
	var out []uuid.UUID
	err := tx.scanCounted(bucket, prefix, func(k, _ []byte) (bool, error) {
		pk, err := pkAt(bucket, k, at)
		if err != nil {
			return false, err
		}
		out = append(out, idFrom(pk))
		return true, nil
	})
	return out, err
}

// scanCounted calls fn for every key under prefix in a counted index (the
// prefix being a value of its first field; fn must not stop the scan),
// and then checks that there were as many as the kept count says: a key
// damaged out of the prefix, or into it, is ErrCorrupt rather than an
// object silently missing from a view.
func (tx *Tx) scanCounted(bucket string, prefix []byte, fn func(k, v []byte) (bool, error)) error {
	n := int64(0)
	err := kvScan(tx.kv, bucket, kv.Range{Prefix: prefix}, func(k, v []byte) (bool, error) {
		n++
		return fn(k, v)
	})
	if err != nil {
		return err
	}
	key := make([]byte, 0, len(bucket)+1+len(prefix))
	want, err := tx.counted(append(append(append(key, bucket...), 0), prefix...))
	if err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("store: %s: %w: the count of %x says %d keys, there are %d", bucket, ErrCorrupt, string(prefix), want, n) // a copy: prefix does not escape
	}
	return nil
}

// marshalField renders one field for a patch body.
func marshalField(field string, raw []byte) []byte {
	name, _ := json.Marshal(field)
	b := append([]byte{'{'}, name...)
	b = append(b, ':')
	b = append(b, raw...)
	return append(b, '}')
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// refText is a reference as the request sent it, for authentik's
// `Invalid pk "<value>"` message: the string as given, or the integer
// Django turned into a UUID. When the body did not send the field (a PUT or
// patch keeping a stored value, or a default) it is shown: the canonical
// UUID, or the number of a reference by number.
func refText(body []byte, field string, shown string) string {
	m, err := validate.Object(body)
	if err != nil {
		return shown
	}
	raw, ok := m[field]
	if !ok {
		return shown
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && !bytes.ContainsAny(t, ".eE\"{[tfn") {
		return string(t)
	}
	return shown
}

// asValidation splits a domain error into the validation errors to add to
// (never nil) and any other error, which aborts the write.
func asValidation(err error) (*validate.Error, error) {
	if err == nil {
		return &validate.Error{}, nil
	}
	var ve *validate.Error
	if errors.As(err, &ve) {
		return ve, nil
	}
	return nil, err
}
