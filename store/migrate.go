package store

import (
	"bytes"
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

// v1Buckets are the index buckets of format 1 that format 2 dropped.
var v1Buckets = []string{"stages_by_flowref"}

// rebuild rewrites every record and rebuilds every index from the
// records: for a format-1 file (sealed false: no envelope, and no
// reference, pbm, unique-together or count indexes), or when the indexes
// the schema declares have changed since the file was written. It runs in
// the caller's transaction, so a failure leaves the file as it was.
func (s *Store) rebuild(tx *Tx, sealed bool) error {
	type rec struct {
		c   *collection
		obj any
	}
	var all []rec
	for _, c := range s.schema.colls {
		err := tx.kv.Scan(c.bucket, kv.Range{}, func(k, v []byte) (bool, error) {
			if sealed {
				var err error
				if v, err = unseal(c.bucket, k, v); err != nil {
					return false, err
				}
			}
			obj, err := c.codec.load(v)
			if err != nil {
				return false, fmt.Errorf("%s record %s: %w", c.bucket, idFrom(k), err)
			}
			if pk, _ := c.codec.ids(obj); !bytes.Equal(pk[:], k) {
				return false, fmt.Errorf("%s record %s holds pk %s", c.bucket, idFrom(k), pk)
			}
			all = append(all, rec{c, obj})
			return true, nil
		})
		if err != nil {
			return err
		}
	}
	for _, b := range append(s.schema.indexBuckets(), v1Buckets...) {
		if err := clearBucket(tx.kv, b); err != nil {
			return err
		}
	}
	for _, r := range all {
		if err := tx.put(r.c, nil, r.obj); err != nil {
			return err
		}
	}
	return tx.kv.Put(bucketMeta, keyIndexes, s.schema.fingerprint())
}

var keyIndexes = []byte("indexes")

// fingerprint identifies the indexes the schema derives: the collections'
// declarations and every kind's reference fields. A file whose recorded
// fingerprint differs has its indexes rebuilt when it is opened.
func (s *schema) fingerprint() []byte {
	h := sha256.New()
	fmt.Fprintf(h, "engine 1\n")
	for _, c := range s.colls {
		fmt.Fprintf(h, "%s %v %v %v %q %v\n", c.bucket, c.unique, c.together, c.indexes, c.kindIndex, c.pbm)
		for _, kind := range s.kindsOf(c) {
			sc, err := c.codec.schema(kind)
			if err != nil {
				continue
			}
			fmt.Fprintf(h, " %s %v\n", kind, sc.RefFields())
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
