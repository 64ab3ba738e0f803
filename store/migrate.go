package store

import (
	"bytes"
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

// migrateV1 rewrites a format-1 file: every record gets its checksummed
// envelope, and every index is rebuilt from the records (format 1 lacked
// the reference, pbm, unique-together and count indexes). It runs in the
// caller's transaction, so a failure leaves the file as it was.
func (s *Store) migrateV1(tx *Tx) error {
	type rec struct {
		c   *collection
		obj any
	}
	var all []rec
	for _, c := range s.schema.colls {
		err := tx.kv.Scan(c.bucket, kv.Range{}, func(k, v []byte) (bool, error) {
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
	return nil
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
