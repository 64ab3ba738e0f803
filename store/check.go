package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/authflow/authflow/store/kv"
)

// MaxCheckProblems bounds the problems [Store.Check] reports; past it,
// the last one says how many more there were.
const MaxCheckProblems = 100

// Check verifies the whole store in one read transaction: the backend's
// own structure (bbolt's page check, and that every declared bucket
// exists), every record's checksum and decoding, every index entry each
// record implies and no other, every reference's target, every kept
// count, and the change log: every entry readable and, where it has one,
// its checksum right, the log's end the revision the meta bucket records,
// and no record written at a later revision, and that every password
// hash belongs to a user. It returns each problem found
// (nil when there is none), each naming the object or bucket; a problem
// with a record wraps ErrCorrupt.
func (s *Store) Check(ctx context.Context) []error {
	var problems []error
	more := 0
	report := func(err error) {
		if len(problems) < MaxCheckProblems {
			problems = append(problems, err)
		} else {
			more++
		}
	}
	if c, ok := s.db.(kv.Checker); ok {
		for _, err := range c.Check(ctx) {
			report(fmt.Errorf("store: check: %w", err))
		}
	}
	err := s.View(ctx, func(tx *Tx) error {
		want := map[string]map[string][]byte{} // bucket -> key -> value
		counts := map[string]int64{}
		add := func(e entry) {
			m := want[e.bucket]
			if m == nil {
				m = map[string][]byte{}
				want[e.bucket] = m
			}
			if _, dup := m[string(e.key)]; dup && e.bucket != bucketRefs {
				report(fmt.Errorf("store: check: %s: %w: two objects claim key %x", e.bucket, ErrCorrupt, e.key))
			}
			m[string(e.key)] = e.val
		}
		logEnd := s.checkLog(tx, report)
		tops := map[*collection]int64{} // the highest number of each sequence
		for _, c := range s.schema.colls {
			err := kvScan(tx.kv, c.bucket, kv.Range{}, func(k, v []byte) (bool, error) {
				if err := tx.ctxErr(); err != nil {
					return false, err
				}
				obj, err := tx.decodeRecord(c, k, v)
				if err != nil {
					report(err)
					return true, nil
				}
				if rev := sealedRevision(v); rev > logEnd {
					report(fmt.Errorf("store: check: %s record %s: %w: written at revision %d, after the change log's last (%d)", c.bucket, idFrom(k), ErrCorrupt, rev, logEnd))
				}
				for _, e := range c.entries(obj) {
					add(e)
				}
				if c.seq != "" {
					if n, ok := c.codec.value(obj, c.seq); ok {
						tops[c] = max(tops[c], n.(int64))
					}
				}
				for _, k := range c.countKeys(obj) {
					counts[k]++
				}
				for _, r := range c.refs(obj) {
					if r.Null {
						continue
					}
					ok, err := tx.exists(r.Target, r.ID)
					if err != nil {
						return false, err
					}
					if !ok {
						pk, _ := c.codec.ids(obj)
						report(fmt.Errorf("store: check: %s %s: %w: %s points at %s, which is not a %s", c.alias, pk, ErrCorrupt, r.Field, r.ID, r.Target))
					}
				}
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		for _, b := range s.schema.indexBuckets() {
			if b == bucketCounts {
				continue
			}
			m := want[b]
			seen := 0
			err := kvScan(tx.kv, b, kv.Range{}, func(k, v []byte) (bool, error) {
				w, ok := m[string(k)]
				switch {
				case !ok:
					report(fmt.Errorf("store: check: %s: %w: key %x belongs to no object", b, ErrCorrupt, k))
				case !bytes.Equal(w, v):
					report(fmt.Errorf("store: check: %s: %w: key %x holds %x, its object implies %x", b, ErrCorrupt, k, v, w))
					seen++
				default:
					seen++
				}
				return true, nil
			})
			if err != nil {
				return err
			}
			if seen != len(m) {
				missing := 0
				for k := range m {
					if raw, err := kvGet(tx.kv, b, []byte(k)); err == nil && raw == nil {
						missing++
					}
				}
				report(fmt.Errorf("store: check: %s: %w: %d entries the objects imply are missing", b, ErrCorrupt, missing))
			}
		}
		for _, c := range s.schema.colls {
			if c.seq != "" {
				tx.checkSeq(c, tops[c], report)
			}
		}
		if err := tx.checkPasswords(report); err != nil {
			return err
		}
		stored := map[string]int64{}
		err := kvScan(tx.kv, bucketCounts, kv.Range{}, func(k, v []byte) (bool, error) {
			if len(v) != 8 {
				report(fmt.Errorf("store: check: count %q: %w: malformed", k, ErrCorrupt))
				return true, nil
			}
			stored[string(k)] = int64(binary.BigEndian.Uint64(v))
			return true, nil
		})
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(counts)+len(stored))
		for k := range counts {
			keys = append(keys, k)
		}
		for k := range stored {
			if _, ok := counts[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if counts[k] != stored[k] {
				report(fmt.Errorf("store: check: count %q: %w: it says %d, there are %d", k, ErrCorrupt, stored[k], counts[k]))
			}
		}
		return nil
	})
	if err != nil {
		report(fmt.Errorf("store: check: %w", err))
	}
	if more > 0 {
		problems = append(problems, fmt.Errorf("store: check: %d more problems", more))
	}
	return problems
}

// checkLog verifies the change log for Check, reporting what is wrong,
// and returns the revision of its last entry.
func (s *Store) checkLog(tx *Tx, report func(error)) int64 {
	var last []byte
	var end int64
	for _, b := range logBuckets {
		err := kvScan(tx.kv, b, kv.Range{}, func(k, v []byte) (bool, error) {
			if err := tx.ctxErr(); err != nil {
				return false, err
			}
			c, err := decodeChange(k, v)
			if err != nil {
				report(fmt.Errorf("store: check: %s: %w", b, err))
				return true, nil
			}
			if last != nil && bytes.Compare(k, last) <= 0 {
				report(fmt.Errorf("store: check: %s: %w: entry %x is not after entry %x", b, ErrCorrupt, k, last))
			}
			last = append(last[:0], k...)
			end = max(end, c.Revision)
			return true, nil
		})
		if err != nil {
			report(fmt.Errorf("store: check: %s: %w", b, err))
		}
	}
	meta, err := metaRevision(tx.kv)
	switch {
	case err != nil:
		report(fmt.Errorf("store: check: %w", err))
	case meta != end:
		report(fmt.Errorf("store: check: %w: the change log ends at revision %d, the store is at revision %d", ErrCorrupt, end, meta))
	}
	return max(end, meta)
}

// checkSeq verifies for Check that c's sequence is past top, the
// highest number its objects hold, so that the next create cannot be
// given one of them.
func (tx *Tx) checkSeq(c *collection, top int64, report func(error)) {
	last, err := tx.lastSeq(c)
	if err != nil {
		report(fmt.Errorf("store: check: %w", err))
		return
	}
	if top > last {
		report(fmt.Errorf("store: check: %s: %w: the sequence of %s is at %d, behind %d, which an object holds", c.alias, ErrCorrupt, c.seq, last, top))
	}
}
