package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/authflow/authflow/store/kv"
)

// indexBuckets are every bucket the engine derives from the records.
func (s *schema) indexBuckets() []string {
	out := []string{bucketCounts, bucketRefs, bucketPBM}
	for _, c := range s.colls {
		for _, u := range c.unique {
			out = append(out, u.bucket)
		}
		if len(c.together) > 0 {
			out = append(out, c.bucket+"_unique")
		}
		for _, ix := range c.indexes {
			out = append(out, ix.bucket)
		}
		if c.kindIndex != "" {
			out = append(out, c.kindIndex)
		}
	}
	return out
}

// buckets are every bucket the schema declares: the records', the
// indexes', the meta bucket and the change log's. A file of format 5
// holds every one of them (created empty where need be), so that one
// missing is damage.
func (s *schema) buckets() []string {
	out := []string{bucketMeta, bucketChanges, bucketRecent, bucketPasswords}
	for _, c := range s.colls {
		out = append(out, c.bucket)
	}
	return append(out, s.indexBuckets()...)
}

// createBuckets creates every declared bucket that does not exist, on a
// backend whose buckets exist apart from their keys (kv.BucketTx).
func (s *schema) createBuckets(tx kv.Tx) error {
	bt, ok := tx.(kv.BucketTx)
	if !ok {
		return nil
	}
	for _, b := range s.buckets() {
		if err := bt.CreateBucket(b); err != nil {
			return err
		}
	}
	return nil
}

// v1Buckets are the index buckets of format 1 that format 2 dropped.
var v1Buckets = []string{"stages_by_flowref"}

// rebuild migrates a format-1 file: every record gets its checksummed
// envelope, and every index is rebuilt from the records (format 1 had no
// reference, pbm, unique-together or count indexes). It runs in the
// caller's transaction, so a failure leaves the file as it was.
func (s *Store) rebuild(tx *Tx) error {
	for _, b := range append(s.schema.indexBuckets(), v1Buckets...) {
		if err := clearBucket(tx.kv, b); err != nil {
			return err
		}
	}
	for _, c := range s.schema.colls {
		// The pks first: a bucket may not be written while it is scanned.
		var pks [][]byte
		err := kvScan(tx.kv, c.bucket, kv.Range{}, func(k, _ []byte) (bool, error) {
			pks = append(pks, bytes.Clone(k))
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, k := range pks {
			if err := tx.ctxErr(); err != nil {
				return err
			}
			v, err := kvGet(tx.kv, c.bucket, k)
			if err != nil {
				return err
			}
			obj, err := c.codec.load(v)
			if err != nil {
				return fmt.Errorf("%s record %s: %w", c.bucket, idFrom(k), err)
			}
			if pk, _ := c.codec.ids(obj); !bytes.Equal(pk[:], k) {
				return fmt.Errorf("%s record %s holds pk %s", c.bucket, idFrom(k), pk)
			}
			if err := tx.put(c, nil, obj); err != nil {
				return err
			}
		}
	}
	return tx.kv.Put(bucketMeta, keyIndexes, s.schema.fingerprint())
}

var keyIndexes = []byte("indexes")

// reindexChunk is how many keys or records one transaction of reindex
// handles, so that its memory stays bounded whatever the file's size. (A
// variable for the tests.)
var reindexChunk = 5000

// reindex rebuilds every index from the records, as rebuild does, but in
// transactions of reindexChunk keys or records, without rewriting the
// records. The fingerprint is written last, so a reindex cut short (a
// crash, an error) leaves the file's fingerprint stale and the next
// writable Open starts it again from the beginning; until then no Open
// uses the half-built indexes.
func (s *Store) reindex(ctx context.Context) error {
	err := s.db.Update(ctx, func(tx kv.Tx) error { return tx.Delete(bucketMeta, keyIndexes) })
	if err != nil {
		return err
	}
	for _, b := range append(s.schema.indexBuckets(), v1Buckets...) {
		for more := true; more; {
			err := s.db.Update(ctx, func(tx kv.Tx) error {
				var keys [][]byte
				err := tx.Scan(b, kv.Range{}, func(k, _ []byte) (bool, error) {
					keys = append(keys, bytes.Clone(k))
					return len(keys) < reindexChunk, nil
				})
				if err != nil {
					return err
				}
				more = len(keys) == reindexChunk
				for _, k := range keys {
					if err := tx.Delete(b, k); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	for _, c := range s.schema.colls {
		var after []byte // the last record indexed
		for more := true; more; {
			err := s.db.Update(ctx, func(ktx kv.Tx) error {
				tx := newWriteTx(s, ktx, ctx, true)
				n, last := 0, []byte(nil)
				var objs []any
				err := ktx.Scan(c.bucket, kv.Range{Start: after}, func(k, v []byte) (bool, error) {
					if after != nil && bytes.Equal(k, after) {
						return true, nil
					}
					obj, err := decodeStored(c, k, v, s.keys)
					if err != nil {
						return false, err
					}
					objs = append(objs, obj)
					last, n = bytes.Clone(k), n+1
					return n < reindexChunk, nil
				})
				if err != nil {
					return err
				}
				for _, obj := range objs {
					if err := tx.index(c, obj); err != nil {
						return err
					}
				}
				more, after = n == reindexChunk, last
				return tx.flush()
			})
			if err != nil {
				return err
			}
		}
	}
	return s.db.Update(ctx, func(tx kv.Tx) error {
		if err := s.schema.createBuckets(tx); err != nil {
			return err
		}
		return tx.Put(bucketMeta, keyIndexes, s.schema.fingerprint())
	})
}

// fingerprint identifies the indexes the schema derives: the collections'
// declarations and every kind's reference fields. A file whose recorded
// fingerprint differs has its indexes rebuilt when it is opened.
func (s *schema) fingerprint() []byte {
	h := sha256.New()
	fmt.Fprintf(h, "engine 2\n") // 2: the values of ordered indexes carry a checksum
	for _, c := range s.colls {
		fmt.Fprintf(h, "%s kind=%q pbm=%v together=%q\n", c.bucket, c.kindIndex, c.pbm, c.together)
		for _, u := range c.unique {
			fmt.Fprintf(h, " unique %s %s hash=%v\n", u.bucket, u.field, u.hash)
		}
		for _, ix := range c.indexes {
			fmt.Fprintf(h, " index %s %q value=%s counted=%v\n", ix.bucket, ix.fields, ix.value, ix.counted)
		}
		for _, kind := range s.kindsOf(c) {
			sc, err := c.codec.schema(kind)
			if err != nil {
				continue
			}
			fmt.Fprintf(h, " kind %s refs", kind)
			for _, r := range sc.RefFields() {
				fmt.Fprintf(h, " %s", r.Field) // what the refs index holds
			}
			fmt.Fprintln(h)
		}
	}
	return h.Sum(nil)
}

// clearBucket deletes every key of bucket.
func clearBucket(tx kv.Tx, bucket string) error {
	var keys [][]byte
	err := tx.Scan(bucket, kv.Range{}, func(k, _ []byte) (bool, error) {
		keys = append(keys, bytes.Clone(k))
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(bucket, k); err != nil {
			return err
		}
	}
	return nil
}
