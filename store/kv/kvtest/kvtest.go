// Package kvtest is the conformance suite of the storage seam: every kv.DB
// backend runs it from its tests,
//
//	func TestConformance(t *testing.T) {
//		kvtest.Run(t, func(t *testing.T) kv.DB { return openEmptyDB(t) })
//	}
//
// and it checks what the package documentation of kv promises, in
// particular:
//
//   - Put copies key and value: the caller may reuse its buffers as soon
//     as Put returns. An empty value reads as a non-nil, empty slice.
//   - Slices from Get and Scan stay correct until the transaction ends,
//     across later writes of other keys in it. (Modifying them is
//     forbidden, so not tested.)
//   - OnCommit functions run after the commit, once each, in order of
//     registration, before Update returns, and see the committed state;
//     never when fn or the commit fails, and never in a View, which does
//     not commit.
//   - A cancelled context fails View and Update with an error wrapping
//     the context's, before fn runs.
//   - Writes in a View fail wrapping kv.ErrReadOnly; keys and values over
//     the limits, wrapping kv.ErrTooLarge; an empty key fails.
//   - After Close, View and Update fail wrapping kv.ErrClosed, and so do
//     Backup and BucketNames when the backend has them; Close again
//     returns nil.
//
// The suite's Update functions have no effects outside their
// transaction, so it also passes through Flaky, which re-runs them.
package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/store/kv"
)

// Run runs the conformance suite against a backend. open returns a new,
// empty database each time it is called; the suite closes it (open may
// register cleanups of its own with t, such as removing a file).
func Run(t *testing.T, open func(t *testing.T) kv.DB) {
	s := &suite{open: open}
	for _, c := range []struct {
		name string
		run  func(*testing.T, kv.DB)
	}{
		{"GetPutDelete", testGetPutDelete},
		{"ReadYourWrites", testReadYourWrites},
		{"UnknownBucket", testUnknownBucket},
		{"Buckets", testBuckets},
		{"ScanOrder", testScanOrder},
		{"ScanRanges", testScanRanges},
		{"ScanStop", testScanStop},
		{"ScanError", testScanError},
		{"ScanWhileWritingOtherBucket", testScanWritingOther},
		{"Values", testValues},
		{"PutCopies", testPutCopies},
		{"SizeLimits", testSizeLimits},
		{"FnError", testFnError},
		{"Rollback", testRollback},
		{"OnCommit", testOnCommit},
		{"SnapshotIsolation", testSnapshot},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentReadersWriters", testReadersWriters},
		{"LargeTransaction", testLargeTransaction},
		{"CancelledContext", testCancelled},
		{"Writable", testWritable},
		{"WriteInView", testWriteInView},
		{"Backup", testBackup},
		{"Close", testClose},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, s.db(t)) })
	}
}

type suite struct {
	open func(t *testing.T) kv.DB
}

func (s *suite) db(t *testing.T) kv.DB {
	t.Helper()
	db := s.open(t)
	if db == nil {
		t.Fatal("open returned a nil kv.DB")
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

var ctx = context.Background()

// put commits key-value pairs (k1, v1, k2, v2, ...) to bucket.
func put(t *testing.T, db kv.DB, bucket string, kvs ...string) {
	t.Helper()
	if err := db.Update(ctx, func(tx kv.Tx) error {
		for i := 0; i+1 < len(kvs); i += 2 {
			if err := tx.Put(bucket, []byte(kvs[i]), []byte(kvs[i+1])); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// get reads one key in a View: its value and whether it exists.
func get(t *testing.T, db kv.DB, bucket, key string) (string, bool) {
	t.Helper()
	var v []byte
	if err := db.View(ctx, func(tx kv.Tx) error {
		got, err := tx.Get(bucket, []byte(key))
		v = bytes.Clone(got)
		if got != nil && v == nil {
			v = []byte{}
		}
		return err
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	return string(v), v != nil
}

func wantGet(t *testing.T, db kv.DB, bucket, key, want string) {
	t.Helper()
	if got, ok := get(t, db, bucket, key); !ok || got != want {
		t.Errorf("Get(%q, %q) = %q, %v; want %q", bucket, key, got, ok, want)
	}
}

func wantMissing(t *testing.T, db kv.DB, bucket, key string) {
	t.Helper()
	if got, ok := get(t, db, bucket, key); ok {
		t.Errorf("Get(%q, %q) = %q; want nil", bucket, key, got)
	}
}

// scan returns the keys of r in bucket, and their values.
func scan(tx kv.Tx, bucket string, r kv.Range) (keys, vals []string, err error) {
	err = tx.Scan(bucket, r, func(k, v []byte) (bool, error) {
		keys = append(keys, string(k))
		vals = append(vals, string(v))
		return true, nil
	})
	return keys, vals, err
}

func scanView(t *testing.T, db kv.DB, bucket string, r kv.Range) []string {
	t.Helper()
	var keys []string
	if err := db.View(ctx, func(tx kv.Tx) error {
		var err error
		keys, _, err = scan(tx, bucket, r)
		return err
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	return keys
}

func testGetPutDelete(t *testing.T, db kv.DB) {
	put(t, db, "b", "k1", "v1", "k2", "v2")
	wantGet(t, db, "b", "k1", "v1")
	wantGet(t, db, "b", "k2", "v2")
	wantMissing(t, db, "b", "k3")

	put(t, db, "b", "k1", "v1 again")
	wantGet(t, db, "b", "k1", "v1 again")

	if err := db.Update(ctx, func(tx kv.Tx) error {
		if err := tx.Delete("b", []byte("k1")); err != nil {
			return err
		}
		return tx.Delete("b", []byte("never there"))
	}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMissing(t, db, "b", "k1")
	wantGet(t, db, "b", "k2", "v2")

	// An empty value is a value; binary keys are keys.
	put(t, db, "b", "empty", "", "\x00\xff", "binary")
	if got, ok := get(t, db, "b", "empty"); !ok || got != "" {
		t.Errorf("Get of an empty value = %q, %v; want \"\", present", got, ok)
	}
	wantGet(t, db, "b", "\x00\xff", "binary")
}

func testReadYourWrites(t *testing.T, db kv.DB) {
	put(t, db, "b", "old", "1")
	if err := db.Update(ctx, func(tx kv.Tx) error {
		if err := tx.Put("b", []byte("new"), []byte("2")); err != nil {
			return err
		}
		if err := tx.Put("fresh", []byte("x"), []byte("3")); err != nil {
			return err
		}
		if err := tx.Delete("b", []byte("old")); err != nil {
			return err
		}
		for _, c := range []struct{ bucket, key, want string }{{"b", "new", "2"}, {"fresh", "x", "3"}, {"b", "old", ""}} {
			v, err := tx.Get(c.bucket, []byte(c.key))
			if err != nil {
				return err
			}
			if c.want == "" && v != nil || c.want != "" && string(v) != c.want {
				t.Errorf("in the Update, Get(%q, %q) = %q; want %q", c.bucket, c.key, v, c.want)
			}
		}
		keys, _, err := scan(tx, "b", kv.Range{})
		if !slices.Equal(keys, []string{"new"}) {
			t.Errorf("in the Update, Scan = %q; want [new]", keys)
		}
		return err
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func testUnknownBucket(t *testing.T, db kv.DB) {
	check := func(tx kv.Tx) error {
		v, err := tx.Get("nothing", []byte("k"))
		if err != nil || v != nil {
			t.Errorf("Get in an unknown bucket = %q, %v; want nil, nil", v, err)
		}
		n := 0
		err = tx.Scan("nothing", kv.Range{}, func(k, v []byte) (bool, error) { n++; return true, nil })
		if err != nil || n != 0 {
			t.Errorf("Scan of an unknown bucket: %d keys, %v; want none, nil", n, err)
		}
		err = tx.Scan("nothing", kv.Range{Reverse: true, Prefix: []byte("k")}, func(k, v []byte) (bool, error) { n++; return true, nil })
		if err != nil || n != 0 {
			t.Errorf("reverse Scan of an unknown bucket: %d keys, %v; want none, nil", n, err)
		}
		return nil
	}
	if err := db.View(ctx, check); err != nil {
		t.Fatalf("View: %v", err)
	}
	if err := db.Update(ctx, func(tx kv.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		if err := tx.Delete("nothing", []byte("k")); err != nil {
			t.Errorf("Delete in an unknown bucket: %v", err)
		}
		return nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if l, ok := db.(kv.Buckets); ok {
		names, err := l.BucketNames(ctx)
		if err != nil || slices.Contains(names, "nothing") {
			t.Errorf("BucketNames = %q, %v; want no bucket \"nothing\": reads and deletes create none", names, err)
		}
	}
}

func testBuckets(t *testing.T, db kv.DB) {
	put(t, db, "one", "k", "in one")
	put(t, db, "two", "k", "in two", "k2", "only in two")
	wantGet(t, db, "one", "k", "in one")
	wantGet(t, db, "two", "k", "in two")
	wantMissing(t, db, "one", "k2")
	if got := scanView(t, db, "one", kv.Range{}); !slices.Equal(got, []string{"k"}) {
		t.Errorf("Scan(one) = %q; want [k]", got)
	}
	if l, ok := db.(kv.Buckets); ok {
		names, err := l.BucketNames(ctx)
		if err != nil {
			t.Fatalf("BucketNames: %v", err)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"one", "two"}) {
			t.Errorf("BucketNames = %q; want [one two]", names)
		}
	}
}

func testScanOrder(t *testing.T, db kv.DB) {
	want := make([]string, 300)
	for i := range want {
		want[i] = fmt.Sprintf("key-%03d", i)
	}
	want = append(want, "\x00", "\x00\x00", "\xff", "\xff\xff", "a", "a\x00", "a\xff")
	slices.Sort(want)
	shuffled := slices.Clone(want)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	// Several transactions, so that the keys are spread over pages.
	for len(shuffled) > 0 {
		n := min(50, len(shuffled))
		var kvs []string
		for _, k := range shuffled[:n] {
			kvs = append(kvs, k, "v"+k)
		}
		put(t, db, "b", kvs...)
		shuffled = shuffled[n:]
	}
	if err := db.View(ctx, func(tx kv.Tx) error {
		keys, vals, err := scan(tx, "b", kv.Range{})
		if !slices.Equal(keys, want) {
			t.Errorf("Scan = %q\nwant %q", keys, want)
		}
		for i := range vals {
			if vals[i] != "v"+keys[i] {
				t.Errorf("Scan gave %q for key %q", vals[i], keys[i])
				break
			}
		}
		rev, _, err2 := scan(tx, "b", kv.Range{Reverse: true})
		slices.Reverse(rev)
		if !slices.Equal(rev, want) {
			t.Errorf("reverse Scan, reversed = %q\nwant %q", rev, want)
		}
		return errors.Join(err, err2)
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// scanKeys are chosen around the edges of prefixes: keys that are
// prefixes of others, 0x00 and 0xff bytes at the ends.
var scanKeys = []string{
	"\x00", "\x00\x00", "\x00\xff",
	"a", "a\x00", "a\x00\x01", "aa", "ab", "abc", "abd", "abz", "ac",
	"a\xfe", "a\xfe\xff", "a\xff", "a\xff\x00", "a\xff\xff", "a\xff\xff\xff",
	"b", "b\x00", "ba",
	"\xfe", "\xfe\xff", "\xff", "\xff\x00", "\xff\xfe", "\xff\xff", "\xff\xff\xff",
}

var scanPrefixes = []string{
	"", "\x00", "a", "aa", "ab", "abc", "abz", "abzz", "a\xfe", "a\xff", "a\xff\xff", "a\xff\xff\xff\xff",
	"b", "c", "\xfe", "\xff", "\xff\xff", "\xff\xff\xff\xff",
}

// wantRange is the model of a Scan of keys (sorted) over r.
func wantRange(keys []string, r kv.Range) []string {
	var out []string
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
		out = append(out, k)
	}
	if r.Reverse {
		slices.Reverse(out)
	}
	return out
}

func testScanRanges(t *testing.T, db kv.DB) {
	var kvs []string
	for _, k := range scanKeys {
		kvs = append(kvs, k, "v"+k)
	}
	put(t, db, "b", kvs...)
	// Neighbouring buckets must not leak into the scan.
	put(t, db, "a", "a", "other", "b", "other")
	put(t, db, "c", "a", "other", "b", "other")
	sorted := slices.Sorted(slices.Values(scanKeys))

	if err := db.View(ctx, func(tx kv.Tx) error {
		n := 0
		for _, p := range scanPrefixes {
			starts := []string{"", p, p + "\x00", p + "m", p + "\xff\xff\xff\xff\xff"}
			for _, k := range scanKeys {
				if len(k) >= len(p) && k[:len(p)] == p {
					starts = append(starts, k, k+"\x00")
				}
			}
			for _, s := range starts {
				for _, rev := range []bool{false, true} {
					r := kv.Range{Prefix: []byte(p), Reverse: rev, Start: []byte(s)} // "" is an empty, non-nil Start: none
					if s == "" && n%2 == 0 {
						r.Start = nil
					}
					got, vals, err := scan(tx, "b", r)
					if err != nil {
						return err
					}
					n++
					if want := wantRange(sorted, r); !slices.Equal(got, want) {
						t.Errorf("Scan(Prefix %q, Start %q, Reverse %v) = %q\nwant %q", p, s, rev, got, want)
					}
					for i := range vals {
						if vals[i] != "v"+got[i] {
							t.Errorf("Scan(Prefix %q, Start %q, Reverse %v) gave %q for key %q", p, s, rev, vals[i], got[i])
						}
					}
				}
			}
		}
		t.Logf("%d ranges scanned", n)
		return nil
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func testScanStop(t *testing.T, db kv.DB) {
	put(t, db, "b", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5")
	for _, rev := range []bool{false, true} {
		var got []string
		if err := db.View(ctx, func(tx kv.Tx) error {
			return tx.Scan("b", kv.Range{Reverse: rev}, func(k, v []byte) (bool, error) {
				got = append(got, string(k))
				return len(got) < 3, nil
			})
		}); err != nil {
			t.Fatalf("View: %v", err)
		}
		want := []string{"a", "b", "c"}
		if rev {
			want = []string{"e", "d", "c"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("Scan(Reverse %v) stopped after the third key: got %q; want %q", rev, got, want)
		}
	}
}

func testScanError(t *testing.T, db kv.DB) {
	put(t, db, "b", "a", "1", "b", "2", "c", "3")
	stop := errors.New("stop here")
	calls := 0
	err := db.View(ctx, func(tx kv.Tx) error {
		err := tx.Scan("b", kv.Range{}, func(k, v []byte) (bool, error) {
			calls++
			if string(k) == "b" {
				return true, fmt.Errorf("at %q: %w", k, stop)
			}
			return true, nil
		})
		if !errors.Is(err, stop) {
			t.Errorf("Scan returned %v; want the error of its function", err)
		}
		return err
	})
	if !errors.Is(err, stop) {
		t.Errorf("View returned %v; want the error of its function", err)
	}
	if calls != 2 {
		t.Errorf("Scan went on after its function failed: %d calls; want 2", calls)
	}
}

func testScanWritingOther(t *testing.T, db kv.DB) {
	var kvs []string
	for i := range 200 {
		kvs = append(kvs, fmt.Sprintf("k%03d", i), "v")
	}
	put(t, db, "src", kvs...)
	if err := db.Update(ctx, func(tx kv.Tx) error {
		return tx.Scan("src", kv.Range{}, func(k, v []byte) (bool, error) {
			return true, tx.Put("dst", append([]byte("copy-"), k...), bytes.Repeat([]byte{'x'}, 100))
		})
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if n := len(scanView(t, db, "dst", kv.Range{Prefix: []byte("copy-")})); n != 200 {
		t.Errorf("writing another bucket while scanning: %d keys copied; want 200", n)
	}
}

func testValues(t *testing.T, db kv.DB) {
	big := make([]byte, kv.MaxValueSize)
	for i := range big {
		big[i] = byte(i * 7)
	}
	if err := db.Update(ctx, func(tx kv.Tx) error {
		if err := tx.Put("b", []byte("big"), big); err != nil {
			return err
		}
		for i := range 100 {
			if err := tx.Put("b", []byte(fmt.Sprintf("k%02d", i)), bytes.Repeat([]byte{byte(i)}, 1000+i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := db.View(ctx, func(tx kv.Tx) error {
		v, err := tx.Get("b", []byte("big"))
		if err != nil {
			return err
		}
		if !bytes.Equal(v, big) {
			t.Errorf("a value of kv.MaxValueSize bytes read back wrong (%d bytes)", len(v))
		}
		return nil
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	// Values taken earlier in a transaction stay correct across its later
	// writes and reads.
	if err := db.Update(ctx, func(tx kv.Tx) error {
		held := make([][]byte, 100)
		for i := range held {
			v, err := tx.Get("b", []byte(fmt.Sprintf("k%02d", i)))
			if err != nil {
				return err
			}
			held[i] = v
		}
		var scanned [][]byte
		if err := tx.Scan("b", kv.Range{Prefix: []byte("k")}, func(k, v []byte) (bool, error) {
			scanned = append(scanned, v)
			return true, nil
		}); err != nil {
			return err
		}
		for i := range 300 {
			if err := tx.Put("b", []byte(fmt.Sprintf("new%03d", i)), bytes.Repeat([]byte{'n'}, 500)); err != nil {
				return err
			}
		}
		if err := tx.Delete("b", []byte("big")); err != nil {
			return err
		}
		for i := range 100 {
			want := bytes.Repeat([]byte{byte(i)}, 1000+i)
			if !bytes.Equal(held[i], want) {
				t.Errorf("a value from Get changed after later writes in its transaction (key k%02d)", i)
			}
			if i < len(scanned) && !bytes.Equal(scanned[i], want) {
				t.Errorf("a value from Scan changed after later writes in its transaction (key k%02d)", i)
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func testPutCopies(t *testing.T, db kv.DB) {
	if err := db.Update(ctx, func(tx kv.Tx) error {
		key := []byte("key-1")
		val := []byte("value-1")
		if err := tx.Put("b", key, val); err != nil {
			return err
		}
		// The caller reuses its buffers for the next record.
		copy(key, "key-2")
		copy(val, "value-2")
		if err := tx.Put("b", key, val); err != nil {
			return err
		}
		copy(key, "XXXXX")
		copy(val, "XXXXXXX")
		v, err := tx.Get("b", []byte("key-1"))
		if string(v) != "value-1" {
			t.Errorf("in the Update, after the caller reused its buffers, Get(key-1) = %q; want value-1", v)
		}
		return err
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantGet(t, db, "b", "key-1", "value-1")
	wantGet(t, db, "b", "key-2", "value-2")
	wantMissing(t, db, "b", "XXXXX")
}

func testSizeLimits(t *testing.T, db kv.DB) {
	maxKey := bytes.Repeat([]byte{'k'}, kv.MaxKeySize)
	put(t, db, "b", string(maxKey), "at the key limit")
	wantGet(t, db, "b", string(maxKey), "at the key limit")

	for _, c := range []struct {
		name     string
		key, val []byte
		tooLarge bool
	}{
		{"key of MaxKeySize+1 bytes", bytes.Repeat([]byte{'k'}, kv.MaxKeySize+1), []byte("v"), true},
		{"value of MaxValueSize+1 bytes", []byte("k"), make([]byte, kv.MaxValueSize+1), true},
		{"empty key", []byte{}, []byte("v"), false},
		{"nil key", nil, []byte("v"), false},
	} {
		var putErr error
		err := db.Update(ctx, func(tx kv.Tx) error {
			if err := tx.Put("b", []byte("before"), []byte("x")); err != nil {
				return err
			}
			putErr = tx.Put("b", c.key, c.val)
			return putErr
		})
		switch {
		case putErr == nil:
			t.Errorf("Put with a %s succeeded", c.name)
		case c.tooLarge && !errors.Is(putErr, kv.ErrTooLarge):
			t.Errorf("Put with a %s: %v; want an error wrapping kv.ErrTooLarge", c.name, putErr)
		case !errors.Is(err, putErr):
			t.Errorf("Update returned %v; want the error its function returned (%v)", err, putErr)
		}
		wantMissing(t, db, "b", "before")
	}
}

func testFnError(t *testing.T, db kv.DB) {
	sentinel := errors.New("the function's own error")
	wrapped := fmt.Errorf("context: %w", sentinel)
	if err := db.View(ctx, func(tx kv.Tx) error { return wrapped }); !errors.Is(err, sentinel) {
		t.Errorf("View returned %v; want its function's error", err)
	}
	if err := db.Update(ctx, func(tx kv.Tx) error { return wrapped }); !errors.Is(err, sentinel) {
		t.Errorf("Update returned %v; want its function's error", err)
	}
}

func testRollback(t *testing.T, db kv.DB) {
	put(t, db, "b", "kept", "1")
	sentinel := errors.New("changed my mind")
	err := db.Update(ctx, func(tx kv.Tx) error {
		for _, w := range []struct{ bucket, key string }{{"b", "kept"}, {"b", "new"}, {"created", "k"}} {
			if err := tx.Put(w.bucket, []byte(w.key), []byte("rolled back")); err != nil {
				return err
			}
		}
		if err := tx.Delete("b", []byte("kept")); err != nil {
			return err
		}
		return sentinel
	})
	if !errors.Is(err, sentinel) {
		t.Fatalf("Update returned %v; want its function's error", err)
	}
	wantGet(t, db, "b", "kept", "1")
	wantMissing(t, db, "b", "new")
	wantMissing(t, db, "created", "k")
	if l, ok := db.(kv.Buckets); ok {
		names, err := l.BucketNames(ctx)
		if err != nil || slices.Contains(names, "created") {
			t.Errorf("BucketNames = %q, %v; want no bucket \"created\" from a rolled-back Update", names, err)
		}
	}
}

func testOnCommit(t *testing.T, db kv.DB) {
	t.Run("AfterCommit", func(t *testing.T) {
		var mu sync.Mutex
		var ran []string
		record := func(s string) {
			mu.Lock()
			ran = append(ran, s)
			mu.Unlock()
		}
		err := db.Update(ctx, func(tx kv.Tx) error {
			if err := tx.Put("b", []byte("k"), []byte("committed")); err != nil {
				return err
			}
			tx.OnCommit(func() {
				// The commit is visible to others by now.
				v, ok := get(t, db, "b", "k")
				record(fmt.Sprintf("first saw %q %v", v, ok))
			})
			tx.OnCommit(func() { record("second") })
			return nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if want := []string{`first saw "committed" true`, "second"}; !slices.Equal(ran, want) {
			t.Errorf("OnCommit functions ran as %q by the time Update returned; want %q: once each, in order", ran, want)
		}
	})
	t.Run("NotOnError", func(t *testing.T) {
		ran := false
		err := db.Update(ctx, func(tx kv.Tx) error {
			tx.OnCommit(func() { ran = true })
			return errors.New("no commit")
		})
		if err == nil {
			t.Fatal("Update succeeded")
		}
		if ran {
			t.Error("an OnCommit function ran for an Update that returned an error")
		}
	})
	t.Run("NotOnFailedCommit", func(t *testing.T) {
		ran := false
		_ = db.Update(ctx, func(tx kv.Tx) error {
			tx.OnCommit(func() { ran = true })
			return tx.Put("b", []byte("k"), make([]byte, kv.MaxValueSize+1))
		})
		if ran {
			t.Error("an OnCommit function ran for an Update whose Put failed")
		}
	})
	t.Run("NotInView", func(t *testing.T) {
		ran := false
		if err := db.View(ctx, func(tx kv.Tx) error {
			tx.OnCommit(func() { ran = true })
			return nil
		}); err != nil {
			t.Fatalf("View: %v", err)
		}
		if ran {
			t.Error("an OnCommit function ran for a View")
		}
	})
}

// testSnapshot checks that a View started before an Update commits sees
// the old state for its whole life. The View waits for the Update, and a
// single-writer backend may make the Update wait for the View (bbolt does
// when it must grow its map), so the View waits at most a while.
func testSnapshot(t *testing.T, db kv.DB) {
	// Leave free space behind, so that the Update below need not grow
	// the database (for bbolt: its map) while the View is open.
	var kvs []string
	for i := range 40 {
		kvs = append(kvs, fmt.Sprintf("tmp%02d", i), string(bytes.Repeat([]byte{'t'}, 2000)))
	}
	put(t, db, "b", kvs...)
	if err := db.Update(ctx, func(tx kv.Tx) error {
		for i := range 40 {
			if err := tx.Delete("b", []byte(fmt.Sprintf("tmp%02d", i))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	put(t, db, "b", "k", "old", "gone", "soon")

	opened := make(chan struct{})
	proceed := make(chan struct{})
	viewDone := make(chan error, 1)
	go func() {
		viewDone <- db.View(ctx, func(tx kv.Tx) error {
			read := func(when string) {
				v, err := tx.Get("b", []byte("k"))
				if err != nil || string(v) != "old" {
					t.Errorf("%s, the View read k = %q, %v; want old", when, v, err)
				}
				v, err = tx.Get("b", []byte("gone"))
				if err != nil || string(v) != "soon" {
					t.Errorf("%s, the View read gone = %q, %v; want soon", when, v, err)
				}
				v, err = tx.Get("new bucket", []byte("n"))
				if err != nil || v != nil {
					t.Errorf("%s, the View read n in a new bucket = %q, %v; want nil", when, v, err)
				}
				keys, _, err := scan(tx, "b", kv.Range{})
				if err != nil || !slices.Equal(keys, []string{"gone", "k"}) {
					t.Errorf("%s, the View scanned %q, %v; want [gone k]", when, keys, err)
				}
			}
			read("before the Update")
			close(opened)
			<-proceed
			read("after the Update")
			return nil
		})
	}()
	<-opened
	updateDone := make(chan error, 1)
	go func() {
		updateDone <- db.Update(ctx, func(tx kv.Tx) error {
			if err := tx.Put("b", []byte("k"), []byte("new")); err != nil {
				return err
			}
			if err := tx.Put("b", []byte("added"), []byte("1")); err != nil {
				return err
			}
			if err := tx.Put("new bucket", []byte("n"), []byte("1")); err != nil {
				return err
			}
			return tx.Delete("b", []byte("gone"))
		})
	}()
	var updateErr error
	committed := false
	select {
	case updateErr = <-updateDone:
		committed = true
	case <-time.After(2 * time.Second):
		t.Log("the Update waits for the open View; the View goes on without it")
	}
	close(proceed)
	if err := <-viewDone; err != nil {
		t.Fatalf("View: %v", err)
	}
	if !committed {
		updateErr = <-updateDone
	}
	if updateErr != nil {
		t.Fatalf("Update: %v", updateErr)
	}
	wantGet(t, db, "b", "k", "new")
	wantMissing(t, db, "b", "gone")
	wantGet(t, db, "new bucket", "n", "1")
}

func testConcurrentWriters(t *testing.T, db kv.DB) {
	const writers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := db.Update(ctx, func(tx kv.Tx) error {
					v, err := tx.Get("b", []byte("counter"))
					if err != nil {
						return err
					}
					n := 0
					if v != nil {
						if n, err = strconv.Atoi(string(v)); err != nil {
							return err
						}
					}
					return tx.Put("b", []byte("counter"), []byte(strconv.Itoa(n+1)))
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Update: %v", err)
	}
	wantGet(t, db, "b", "counter", strconv.Itoa(writers*each))
}

// testReadersWriters has writers keep an invariant (x == y == the number
// of keys under "k") and readers check it in their snapshots.
func testReadersWriters(t *testing.T, db kv.DB) {
	const writers, each, readers = 4, 40, 4
	put(t, db, "b", "x", "0", "y", "0")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, writers+readers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := db.Update(ctx, func(tx kv.Tx) error {
					v, err := tx.Get("b", []byte("x"))
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(string(v))
					if err != nil {
						return err
					}
					next := []byte(strconv.Itoa(n + 1))
					if err := tx.Put("b", []byte("x"), next); err != nil {
						return err
					}
					if err := tx.Put("b", []byte(fmt.Sprintf("k%05d", n)), bytes.Repeat([]byte{'v'}, 200)); err != nil {
						return err
					}
					return tx.Put("b", []byte("y"), next)
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var rg sync.WaitGroup
	var views sync.Map
	for r := range readers {
		rg.Add(1)
		go func() {
			defer rg.Done()
			n := 0
			defer func() { views.Store(r, n) }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n++
				if err := db.View(ctx, func(tx kv.Tx) error {
					x, err := tx.Get("b", []byte("x"))
					if err != nil {
						return err
					}
					y, err := tx.Get("b", []byte("y"))
					if err != nil {
						return err
					}
					keys := 0
					err = tx.Scan("b", kv.Range{Prefix: []byte("k")}, func(k, v []byte) (bool, error) {
						keys++
						return true, nil
					})
					if string(x) != string(y) || string(x) != strconv.Itoa(keys) {
						return fmt.Errorf("a snapshot saw x=%s y=%s and %d keys", x, y, keys)
					}
					return err
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	wantGet(t, db, "b", "x", strconv.Itoa(writers*each))
	total := 0
	views.Range(func(_, n any) bool { total += n.(int); return true })
	t.Logf("%d Views beside %d Updates", total, writers*each)
}

func testLargeTransaction(t *testing.T, db kv.DB) {
	const n = 20000
	val := bytes.Repeat([]byte{'v'}, 100)
	err := db.Update(ctx, func(tx kv.Tx) error {
		for i := range n {
			if err := tx.Put("big", []byte(fmt.Sprintf("key-%06d", i)), val); err != nil {
				return err
			}
		}
		return nil
	})
	keys := scanView(t, db, "big", kv.Range{})
	switch {
	case err == nil && len(keys) != n:
		t.Errorf("a committed transaction of %d keys left %d", n, len(keys))
	case err != nil && !errors.Is(err, kv.ErrTooLarge):
		t.Errorf("a transaction of %d keys failed with %v; want success or an error wrapping kv.ErrTooLarge", n, err)
	case err != nil && len(keys) != 0:
		t.Errorf("a transaction too large (%v) left %d keys; want none", err, len(keys))
	case err != nil:
		t.Logf("a transaction of %d keys is too large: %v", n, err)
	}
}

func testCancelled(t *testing.T, db kv.DB) {
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	ran := false
	if err := db.View(cctx, func(tx kv.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View with a cancelled context returned %v; want an error wrapping context.Canceled", err)
	}
	if err := db.Update(cctx, func(tx kv.Tx) error {
		ran = true
		return tx.Put("b", []byte("k"), []byte("v"))
	}); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a cancelled context returned %v; want an error wrapping context.Canceled", err)
	}
	if ran {
		t.Error("a function ran with a cancelled context")
	}
	wantMissing(t, db, "b", "k")
}

func testWritable(t *testing.T, db kv.DB) {
	var inView, inUpdate bool
	if err := db.View(ctx, func(tx kv.Tx) error { inView = tx.Writable(); return nil }); err != nil {
		t.Fatalf("View: %v", err)
	}
	if err := db.Update(ctx, func(tx kv.Tx) error { inUpdate = tx.Writable(); return nil }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if inView || !inUpdate {
		t.Errorf("Writable() = %v in a View and %v in an Update; want false and true", inView, inUpdate)
	}
}

func testWriteInView(t *testing.T, db kv.DB) {
	put(t, db, "b", "k", "v")
	if err := db.View(ctx, func(tx kv.Tx) error {
		if err := tx.Put("b", []byte("k2"), []byte("v")); !errors.Is(err, kv.ErrReadOnly) {
			t.Errorf("Put in a View: %v; want an error wrapping kv.ErrReadOnly", err)
		}
		if err := tx.Put("other", []byte("k2"), []byte("v")); !errors.Is(err, kv.ErrReadOnly) {
			t.Errorf("Put in a View, new bucket: %v; want an error wrapping kv.ErrReadOnly", err)
		}
		if err := tx.Delete("b", []byte("k")); !errors.Is(err, kv.ErrReadOnly) {
			t.Errorf("Delete in a View: %v; want an error wrapping kv.ErrReadOnly", err)
		}
		return nil
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	wantGet(t, db, "b", "k", "v")
	wantMissing(t, db, "b", "k2")
}

func testBackup(t *testing.T, db kv.DB) {
	b, ok := db.(kv.Backuper)
	if !ok {
		t.Skip("not a kv.Backuper")
	}
	put(t, db, "b", "k", "v")
	var buf bytes.Buffer
	n, err := b.Backup(ctx, &buf)
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if n <= 0 || n != int64(buf.Len()) {
		t.Errorf("Backup wrote %d bytes and said %d", buf.Len(), n)
	}
}

func testClose(t *testing.T, db kv.DB) {
	put(t, db, "b", "k", "v")
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ran := false
	if err := db.View(ctx, func(tx kv.Tx) error { ran = true; return nil }); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("View after Close: %v; want an error wrapping kv.ErrClosed", err)
	}
	if err := db.Update(ctx, func(tx kv.Tx) error { ran = true; return nil }); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Update after Close: %v; want an error wrapping kv.ErrClosed", err)
	}
	if ran {
		t.Error("a function ran after Close")
	}
	if b, ok := db.(kv.Backuper); ok {
		if _, err := b.Backup(ctx, &bytes.Buffer{}); !errors.Is(err, kv.ErrClosed) {
			t.Errorf("Backup after Close: %v; want an error wrapping kv.ErrClosed", err)
		}
	}
	if l, ok := db.(kv.Buckets); ok {
		if _, err := l.BucketNames(ctx); !errors.Is(err, kv.ErrClosed) {
			t.Errorf("BucketNames after Close: %v; want an error wrapping kv.ErrClosed", err)
		}
	}
	if err := db.Close(); err != nil {
		t.Errorf("a second Close: %v; want nil", err)
	}
}
