package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"

	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	bolt "go.etcd.io/bbolt"
	bolterr "go.etcd.io/bbolt/errors"
)

// SetReindexChunk sets the reindex's transaction size for a test and
// returns the function that restores it.
func SetReindexChunk(n int) func() {
	old := reindexChunk
	reindexChunk = n
	return func() { reindexChunk = old }
}

// DowngradeToFormat2 rewrites a file's records in the envelope of format
// 2, drops its revision and change log, and marks it format 2, as an
// older authflow left it.
func DowngradeToFormat2(tx *bolt.Tx) error {
	s, err := newSchema(stage.Default, policy.Default, nil)
	if err != nil {
		return err
	}
	for _, c := range s.colls {
		b := tx.Bucket([]byte(c.bucket))
		if b == nil {
			continue
		}
		recs := map[string][]byte{}
		if err := b.ForEach(func(k, v []byte) error {
			js, err := unwrap(c.bucket, k, v)
			if err != nil {
				return err
			}
			out := make([]byte, 5, 5+len(js))
			out[0] = recordV2
			binary.BigEndian.PutUint32(out[1:5], crc32.Checksum(js, castagnoli))
			recs[string(k)] = append(out, js...)
			return nil
		}); err != nil {
			return err
		}
		for k, v := range recs {
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
	}
	for _, b := range logBuckets {
		if err := tx.DeleteBucket([]byte(b)); err != nil && !errors.Is(err, bolterr.ErrBucketNotFound) {
			return err
		}
	}
	m := tx.Bucket([]byte(bucketMeta))
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], 2)
	return m.Put(keyVersion, v[:])
}

// DowngradeToFormat3 moves the change log's recent entries into its main
// bucket and marks the file format 3, as an older authflow left it.
func DowngradeToFormat3(tx *bolt.Tx) error {
	main, err := tx.CreateBucketIfNotExists([]byte(bucketChanges))
	if err != nil {
		return err
	}
	if recent := tx.Bucket([]byte(bucketRecent)); recent != nil {
		if err := recent.ForEach(func(k, v []byte) error { return main.Put(k, v) }); err != nil {
			return err
		}
		if err := tx.DeleteBucket([]byte(bucketRecent)); err != nil {
			return err
		}
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], 3)
	return tx.Bucket([]byte(bucketMeta)).Put(keyVersion, v[:])
}

// SealRecord is wrap for a record of format 4: a record's envelope.
func SealRecord(bucket string, key, js []byte, rev int64) []byte {
	return wrap(bucket, key, js, rev, false)
}

// DowngradeToFormat4 marks a file format 4 as an older authflow left it:
// no revision in the meta bucket, and no bucket that was never written.
func DowngradeToFormat4(tx *bolt.Tx) error {
	m := tx.Bucket([]byte(bucketMeta))
	if err := m.Delete(keyRevision); err != nil {
		return err
	}
	var empty [][]byte
	if err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		if k, _ := b.Cursor().First(); k == nil {
			empty = append(empty, bytes.Clone(name))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, name := range empty {
		if err := tx.DeleteBucket(name); err != nil {
			return err
		}
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], 4)
	return m.Put(keyVersion, v[:])
}

// WrapSealedRecord is wrap for a record of format 5, whose secrets are
// sealed.
func WrapSealedRecord(bucket string, key, js []byte, rev int64) []byte {
	return wrap(bucket, key, js, rev, true)
}
