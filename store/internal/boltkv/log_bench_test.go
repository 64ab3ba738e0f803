package boltkv_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/authflow/authflow/store/internal/boltkv"
	"github.com/authflow/authflow/store/kv"
)

// BenchmarkChangeLogAppend measures what keeping the change log's newest
// entries in a bucket small enough for bbolt to keep inline saves a
// FlowPatch-like write: a transaction that reads and rewrites one
// 600-byte record, sets the revision in the meta bucket and appends one
// 40-byte log entry, in a file of 24 buckets like the store's. Each
// iteration runs that transaction on two files in turn: "inline" appends
// to changes_recent and moves its entries to changes in one batch once
// Inline says they no longer fit inline (what the store does on a
// kv.Inliner), "plain" appends to changes (what it does on any other DB). The log starts
// empty ("fresh") or at the store's default retention of 10,000 entries
// ("steady"); fsync is on, as in the store's FlowPatch, or off ("nosync").
// It reports each arm's time and page writes per transaction, and the
// ratio of their times.
//
//	go test ./store/internal/boltkv/ -run=NONE -bench=ChangeLogAppend -benchtime=2000x -count=5
func BenchmarkChangeLogAppend(b *testing.B) {
	for _, steady := range []bool{false, true} {
		for _, sync := range []bool{true, false} {
			name := map[bool]string{false: "fresh", true: "steady"}[steady] + map[bool]string{true: "", false: "-nosync"}[sync]
			b.Run(name, func(b *testing.B) { benchLogAppend(b, steady, sync) })
		}
	}
}

func benchLogAppend(b *testing.B, steady, sync bool) {
	open := func(name string) *boltkv.DB {
		db, err := boltkv.Open(filepath.Join(b.TempDir(), name), boltkv.Options{NoSync: !sync})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	}
	inline, plain := open("inline.db"), open("plain.db")
	record := bytes.Repeat([]byte("r"), 600)
	entry := bytes.Repeat([]byte("e"), 40)
	logKey := func(rev int64) []byte {
		k := make([]byte, 12)
		binary.BigEndian.PutUint64(k, uint64(rev))
		return k
	}
	const start = 10000
	for _, db := range []*boltkv.DB{inline, plain} {
		err := db.Update(ctx, func(tx kv.Tx) error {
			for i := range 24 {
				if err := tx.Put(fmt.Sprintf("bucket%02d", i), []byte("k"), record[:40]); err != nil {
					return err
				}
			}
			if steady {
				for rev := int64(1); rev <= start; rev++ {
					if err := tx.Put("changes", logKey(rev), entry); err != nil {
						return err
					}
				}
			}
			return tx.Put("flows", []byte("flow-0"), record)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	patch := func(db *boltkv.DB, rev int64, toRecent bool) error {
		return db.Update(ctx, func(tx kv.Tx) error {
			v, err := tx.Get("flows", []byte("flow-0"))
			if err != nil {
				return err
			}
			next := bytes.Clone(v)
			next[rev%600] ^= 1
			if err := tx.Put("flows", []byte("flow-0"), next); err != nil {
				return err
			}
			var r [8]byte
			binary.BigEndian.PutUint64(r[:], uint64(rev))
			if err := tx.Put("meta", []byte("revision"), r[:]); err != nil {
				return err
			}
			k := logKey(rev)
			if !toRecent {
				return tx.Put("changes", k, entry)
			}
			if err := tx.Put("changes_recent", k, entry); err != nil {
				return err
			}
			size := 0
			var keys, vals [][]byte
			err = tx.Scan("changes_recent", kv.Range{}, func(k, v []byte) (bool, error) {
				size += len(k) + len(v)
				keys, vals = append(keys, bytes.Clone(k)), append(vals, bytes.Clone(v))
				return true, nil
			})
			if err != nil || db.Inline(len(keys), size) {
				return err
			}
			for i, k := range keys {
				if err := tx.Put("changes", k, vals[i]); err != nil {
					return err
				}
				if err := tx.Delete("changes_recent", k); err != nil {
					return err
				}
			}
			return nil
		})
	}
	w0i, w0p := inline.PageWrites(), plain.PageWrites()
	var ti, tp time.Duration
	b.ResetTimer()
	for i := range b.N {
		rev := int64(start + 1 + i)
		t0 := time.Now()
		if err := patch(inline, rev, true); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := patch(plain, rev, false); err != nil {
			b.Fatal(err)
		}
		tp += time.Since(t1)
		ti += t1.Sub(t0)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(ti.Nanoseconds())/n, "inline-ns/tx")
	b.ReportMetric(float64(tp.Nanoseconds())/n, "plain-ns/tx")
	b.ReportMetric(float64(ti)/float64(tp), "inline/plain")
	b.ReportMetric(float64(inline.PageWrites()-w0i)/n, "inline-pages/tx")
	b.ReportMetric(float64(plain.PageWrites()-w0p)/n, "plain-pages/tx")
}
