package boltkv_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/store/internal/boltkv"
	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/store/kv/kvtest"
	bolt "go.etcd.io/bbolt"
)

var ctx = context.Background()

func openTemp(t *testing.T) *boltkv.DB {
	t.Helper()
	db, err := boltkv.Open(filepath.Join(t.TempDir(), "kv.db"), boltkv.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.DB { return openTemp(t) })
}

func TestConformanceFlaky(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.DB { return kvtest.Flaky(openTemp(t), 2) })
}

func TestFlakyReruns(t *testing.T) {
	db := kvtest.Flaky(openTemp(t), 3)
	defer db.Close()
	if _, ok := db.(kv.Backuper); !ok {
		t.Error("Flaky of a kv.Backuper is not one")
	}
	if _, ok := db.(kv.Buckets); !ok {
		t.Error("Flaky of a kv.Buckets is not one")
	}
	runs, commits := 0, 0
	err := db.Update(ctx, func(tx kv.Tx) error {
		runs++
		v, err := tx.Get("b", []byte("k"))
		if err != nil {
			return err
		}
		if v != nil {
			return fmt.Errorf("run %d sees the write of a discarded run: %q", runs, v)
		}
		tx.OnCommit(func() { commits++ })
		return tx.Put("b", []byte("k"), []byte(fmt.Sprint(runs)))
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 4 || commits != 1 {
		t.Errorf("fn ran %d times and OnCommit functions %d; want 4 and 1", runs, commits)
	}
	if err := db.View(ctx, func(tx kv.Tx) error {
		v, err := tx.Get("b", []byte("k"))
		if string(v) != "4" {
			t.Errorf("committed %q; want the last run's 4", v)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sentinel := errors.New("fails")
	runs = 0
	if err := db.Update(ctx, func(tx kv.Tx) error { runs++; return sentinel }); !errors.Is(err, sentinel) || runs != 1 {
		t.Errorf("a failing fn: Update returned %v after %d runs; want its error after 1", err, runs)
	}
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.db")

	if _, err := boltkv.Open(path, boltkv.Options{ReadOnly: true}); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("read-only Open of a missing file: %v; want fs.ErrNotExist, with the path", err)
	}
	db, err := boltkv.Open(path, boltkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if db.Path() != path {
		t.Errorf("Path() = %q; want %q", db.Path(), path)
	}
	if err := db.Update(ctx, func(tx kv.Tx) error { return tx.Put("b", []byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}

	// A second open of a locked file: the lock is per descriptor, so it
	// is seen within one process too.
	start := time.Now()
	_, err = boltkv.Open(path, boltkv.Options{Timeout: 150 * time.Millisecond})
	if !errors.Is(err, kv.ErrLocked) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "150ms") {
		t.Errorf("Open of a locked file: %v; want kv.ErrLocked, with the path and the wait", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("Open of a locked file gave up after %s; want about 150ms", d)
	}
	if _, err := boltkv.Open(path, boltkv.Options{ReadOnly: true, Timeout: 50 * time.Millisecond}); !errors.Is(err, kv.ErrLocked) {
		t.Errorf("read-only Open of a file open for writing: %v; want kv.ErrLocked", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Read-only opens share the file, and refuse writes.
	r1, err := boltkv.Open(path, boltkv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	r2, err := boltkv.Open(path, boltkv.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("a second read-only Open: %v", err)
	}
	defer r2.Close()
	if err := r2.Update(ctx, func(tx kv.Tx) error { return nil }); !errors.Is(err, kv.ErrReadOnly) {
		t.Errorf("Update of a read-only database: %v; want kv.ErrReadOnly", err)
	}
	if err := r2.View(ctx, func(tx kv.Tx) error {
		v, err := tx.Get("b", []byte("k"))
		if string(v) != "v" {
			t.Errorf("read-only Get = %q; want v", v)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if problems := r2.Check(ctx); problems != nil {
		t.Errorf("Check of a sound read-only database: %v", problems)
	}
	if _, err := boltkv.Open(path, boltkv.Options{Timeout: 50 * time.Millisecond}); !errors.Is(err, kv.ErrLocked) {
		t.Errorf("Open for writing of a file open read-only: %v; want kv.ErrLocked", err)
	}

	// A file that is not a bbolt database.
	other := filepath.Join(dir, "other.db")
	if err := os.WriteFile(other, bytes.Repeat([]byte("not bbolt "), 2000), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := boltkv.Open(other, boltkv.Options{}); !errors.Is(err, kv.ErrCorrupt) {
		t.Errorf("Open of a text file: %v; want kv.ErrCorrupt", err)
	}
	// An empty file: created read-write, refused read-only.
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := boltkv.Open(empty, boltkv.Options{ReadOnly: true}); !errors.Is(err, kv.ErrCorrupt) {
		t.Errorf("read-only Open of an empty file: %v; want kv.ErrCorrupt", err)
	}
	edb, err := boltkv.Open(empty, boltkv.Options{})
	if err != nil {
		t.Fatalf("Open of an empty file: %v", err)
	}
	edb.Close()
}

func TestBackupAndBuckets(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	build(t, db, 300)
	want := dump(t, db)

	var buf bytes.Buffer
	n, err := db.Backup(ctx, &buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("Backup = %d, %v (%d bytes written)", n, err, buf.Len())
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cp, err := boltkv.Open(path, boltkv.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open of the backup: %v", err)
	}
	defer cp.Close()
	if got := dump(t, cp); got != want {
		t.Error("the backup holds other data")
	}
	names, err := cp.BucketNames(ctx)
	if err != nil || strings.Join(names, ",") != "bindings,flows,stages" {
		t.Errorf("BucketNames = %q, %v; want [bindings flows stages]", names, err)
	}
	if problems := db.Check(ctx); problems != nil {
		t.Errorf("Check of a sound database: %v", problems)
	}
}

func TestCallerPanicsPassOn(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	mustPanic := func(what string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r != "mine" {
				t.Errorf("%s: recovered %v; want the caller's own panic", what, r)
			}
		}()
		f()
	}
	mustPanic("View", func() { _ = db.View(ctx, func(kv.Tx) error { panic("mine") }) })
	mustPanic("Update", func() {
		_ = db.Update(ctx, func(tx kv.Tx) error {
			_ = tx.Put("b", []byte("k"), []byte("v"))
			panic("mine")
		})
	})
	mustPanic("Scan", func() {
		_ = db.Update(ctx, func(tx kv.Tx) error { return tx.Put("b", []byte("k2"), []byte("v")) })
		_ = db.View(ctx, func(tx kv.Tx) error {
			return tx.Scan("b", kv.Range{}, func(k, v []byte) (bool, error) { panic("mine") })
		})
	})
	mustPanic("OnCommit", func() {
		_ = db.Update(ctx, func(tx kv.Tx) error {
			tx.OnCommit(func() { panic("mine") })
			return tx.Put("b", []byte("k3"), []byte("v"))
		})
	})
	mustPanic("Backup", func() { _, _ = db.Backup(ctx, panicWriter{}) })
	// The database is still usable, and the panicking Update wrote nothing.
	if err := db.Update(ctx, func(tx kv.Tx) error { return tx.Put("b", []byte("after"), []byte("v")) }); err != nil {
		t.Fatalf("Update after the panics: %v", err)
	}
	if err := db.View(ctx, func(tx kv.Tx) error {
		if v, _ := tx.Get("b", []byte("k")); v != nil {
			t.Error("a panicking Update committed")
		}
		if v, _ := tx.Get("b", []byte("k3")); v == nil {
			t.Error("the Update whose OnCommit function panicked did not commit")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("mine") }

func TestTxAfterEnd(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	var kept kv.Tx
	if err := db.Update(ctx, func(tx kv.Tx) error { kept = tx; return tx.Put("b", []byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Get("b", []byte("k")); err == nil {
		t.Error("Get on a transaction that has ended succeeded")
	}
	if err := kept.Put("b", []byte("k"), []byte("v")); err == nil {
		t.Error("Put on a transaction that has ended succeeded")
	}
}

// A View's transaction kept past its function's return fails: its
// wrapper, recycled for later Views, says it has ended until one takes it.
func TestViewTxAfterEnd(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	if err := db.Update(ctx, func(tx kv.Tx) error { return tx.Put("b", []byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	var kept kv.Tx
	if err := db.View(ctx, func(tx kv.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if v, err := kept.Get("b", []byte("k")); err == nil {
		t.Errorf("Get on a View that has ended = %q, nil; want an error", v)
	}
	if err := kept.Scan("b", kv.Range{}, func(k, v []byte) (bool, error) { return true, nil }); err == nil {
		t.Error("Scan on a View that has ended succeeded")
	}
	if _, ok := kept.(kv.Snapshot).SnapshotID(); ok {
		t.Error("SnapshotID on a View that has ended is ok")
	}
}

// A View whose wrapper was recycled starts afresh: the bucket handles
// kept by an earlier View (here, buckets missing then) are not reused.
func TestViewRecycled(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} // more than the handles a tx keeps inline
	look := func() (found int) {
		err := db.View(ctx, func(tx kv.Tx) error {
			for _, n := range names {
				v, err := tx.Get(n, []byte("k"))
				if err != nil {
					return err
				}
				if v != nil {
					found++
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
	if n := look(); n != 0 {
		t.Fatalf("found %d keys in an empty database", n)
	}
	err := db.Update(ctx, func(tx kv.Tx) error {
		for _, n := range names {
			if err := tx.Put(n, []byte("k"), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := look(); n != len(names) {
		t.Errorf("a View after the buckets were created found %d of %d keys", n, len(names))
	}
}

func TestCloseWaits(t *testing.T) {
	db := openTemp(t)
	inView := make(chan struct{})
	release := make(chan struct{})
	viewDone := make(chan error)
	go func() {
		viewDone <- db.View(ctx, func(tx kv.Tx) error {
			close(inView)
			<-release
			_, err := tx.Get("b", []byte("k")) // still usable: Close waits
			return err
		})
	}()
	<-inView
	closed := make(chan error)
	go func() { closed <- db.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a View was running", err)
	case <-time.After(50 * time.Millisecond):
	}
	// New calls fail at once while Close waits.
	if err := db.View(ctx, func(kv.Tx) error { return nil }); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("View while closing: %v; want kv.ErrClosed", err)
	}
	close(release)
	if err := <-viewDone; err != nil {
		t.Errorf("the running View: %v", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
}

// BenchmarkGet measures a Get in a View, the bucket looked up once.
func BenchmarkGet(b *testing.B) {
	db, err := boltkv.Open(filepath.Join(b.TempDir(), "kv.db"), boltkv.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(ctx, func(tx kv.Tx) error {
		for i := range 1000 {
			if err := tx.Put("b", []byte(fmt.Sprintf("k%04d", i)), []byte("value")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	key := []byte("k0500")
	b.ResetTimer()
	_ = db.View(ctx, func(tx kv.Tx) error {
		for range b.N {
			if v, err := tx.Get("b", key); err != nil || v == nil {
				b.Fatal(v, err)
			}
		}
		return nil
	})
}

// BenchmarkView measures a read transaction, empty ("empty") and with one
// Get in a bucket of 1,000 keys ("get"), through boltkv ("kv") and, as
// the baseline in the same run, through bbolt itself ("bbolt"), on two
// files of the same content:
//
//	go test ./store/internal/boltkv/ -run=NONE -bench='^BenchmarkView$' -benchmem
func BenchmarkView(b *testing.B) {
	dir := b.TempDir()
	db, err := boltkv.Open(filepath.Join(dir, "kv.db"), boltkv.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	raw, err := bolt.Open(filepath.Join(dir, "bolt.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	err = db.Update(ctx, func(tx kv.Tx) error {
		for i := range 1000 {
			if err := tx.Put("b", fmt.Appendf(nil, "k%04d", i), []byte("value")); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = raw.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucket([]byte("b"))
			for i := range 1000 {
				if err == nil {
					err = bk.Put(fmt.Appendf(nil, "k%04d", i), []byte("value"))
				}
			}
			return err
		})
	}
	if err != nil {
		b.Fatal(err)
	}
	key := []byte("k0500")
	b.Run("empty/kv", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := db.View(ctx, func(kv.Tx) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("empty/bbolt", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := raw.View(func(*bolt.Tx) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get/kv", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			err := db.View(ctx, func(tx kv.Tx) error {
				v, err := tx.Get("b", key)
				if err == nil && v == nil {
					err = errors.New("missing")
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get/bbolt", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			err := raw.View(func(tx *bolt.Tx) error {
				if tx.Bucket([]byte("b")).Get(key) == nil {
					return errors.New("missing")
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// build writes n keys per bucket across three buckets in several
// transactions, with values of a few hundred bytes and a few large enough
// for overflow pages, then rewrites and deletes some, so that the file
// has branch, leaf, overflow and freelist pages.
func build(t testing.TB, db kv.DB, n int) {
	t.Helper()
	buckets := []string{"flows", "stages", "bindings"}
	// One bucket per transaction: bbolt spills the buckets a transaction
	// wrote in map order, so that the pages of a file written with several
	// per transaction differ from run to run.
	for round := range 2 {
		for _, b := range buckets {
			if err := db.Update(ctx, func(tx kv.Tx) error {
				for i := round; i < n; i += 2 {
					v := bytes.Repeat([]byte(fmt.Sprintf("%s-%d-", b, i)), 5+i%15)
					if i%97 == 0 {
						v = bytes.Repeat(v, 40) // several pages
					}
					if err := tx.Put(b, []byte(fmt.Sprintf("%s/%06d", b, i)), v); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, b := range []string{"stages", "flows"} {
		if err := db.Update(ctx, func(tx kv.Tx) error {
			for i := 0; i < n; i += 5 {
				k := []byte(fmt.Sprintf("%s/%06d", b, i))
				if b == "stages" {
					if err := tx.Delete(b, k); err != nil {
						return err
					}
				} else if err := tx.Put(b, k, []byte("rewritten")); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// dump returns every key and value of db, as text.
func dump(t testing.TB, db *boltkv.DB) string {
	t.Helper()
	names, err := db.BucketNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := db.View(ctx, func(tx kv.Tx) error {
		for _, b := range names {
			if err := tx.Scan(b, kv.Range{}, func(k, v []byte) (bool, error) {
				fmt.Fprintf(&sb, "%s %q %q\n", b, k, v)
				return true, nil
			}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// TestCheckFindsKeyOrder damages what Open does not check, the order of
// keys, and expects Check to report it through bbolt's own check, and a
// scan of the bucket, either way, to refuse it rather than yield the keys
// as they stand.
func TestCheckFindsKeyOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "order.db")
	db, err := boltkv.Open(path, boltkv.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ctx, func(tx kv.Tx) error {
		for i := range 300 {
			if err := tx.Put("b", []byte(fmt.Sprintf("k%03d", i)), bytes.Repeat([]byte("v"), 50)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := fileLayout(t, img)
	_, leaf := l.bucketPages(t, img, "b")
	p := img[leaf*uint64(l.ps):]
	pos := binary.NativeEndian.Uint32(p[16+4:])
	if p[16+pos] != 'k' {
		t.Fatalf("leaf page %d does not start with a key k...", leaf)
	}
	if err := patchFile(path, []patch{{int64(leaf)*int64(l.ps) + 16 + int64(pos), 'z'}}); err != nil {
		t.Fatal(err)
	}
	db, err = boltkv.Open(path, boltkv.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	for _, reverse := range []bool{false, true} {
		n := 0
		err := db.View(ctx, func(tx kv.Tx) error {
			return tx.Scan("b", kv.Range{Reverse: reverse}, func(k, v []byte) (bool, error) { n++; return true, nil })
		})
		if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "out of order") {
			t.Errorf("a scan (reverse %v) of the damaged bucket: %v after %d keys, want ErrCorrupt (out of order)", reverse, err, n)
		}
	}
	problems := db.Check(ctx)
	if len(problems) == 0 {
		t.Fatal("Check found nothing")
	}
	for _, p := range problems {
		if !errors.Is(p, kv.ErrCorrupt) {
			t.Errorf("a problem not wrapping kv.ErrCorrupt: %v", p)
		}
	}
	if !strings.Contains(problems[0].Error(), "needs to be") {
		t.Errorf("Check: %v; want a key order problem", problems)
	}
	t.Logf("Check: %v", problems)
}

// TestOpenRefuses checks the messages of Open for files of the wrong
// shape; bbolt never maps them, so this runs in the test process.
func TestOpenRefuses(t *testing.T) {
	img, err := os.ReadFile(realistic(t))
	if err != nil {
		t.Fatal(err)
	}
	l := fileLayout(t, img)
	ps := l.ps
	hwmSize := int(l.hwm) * ps
	for _, c := range []struct {
		name string
		img  []byte
		want string
	}{
		{"cut below the high-water mark", img[:hwmSize-ps], fmt.Sprintf("kv: database is damaged: file is %d bytes but its meta page says %d", hwmSize-ps, hwmSize)},
		{"not whole pages", append(bytes.Clone(img), 1, 2, 3), fmt.Sprintf("not a whole number of %d-byte pages", ps)},
		{"three pages", img[:3*ps], "shorter than an empty database"},
		{"half a page", img[:ps/2], fmt.Sprintf("file is %d bytes, not a whole number of", ps/2)},
		{"zeros", make([]byte, 4*ps), "neither meta page is valid"},
		{"ten bytes", img[:10], "too short to be a bbolt database"},
	} {
		path := filepath.Join(t.TempDir(), "x.db")
		if err := os.WriteFile(path, c.img, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, ro := range []bool{false, true} {
			_, err := boltkv.Open(path, boltkv.Options{ReadOnly: ro})
			if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "boltkv: open "+path+": ") {
				t.Errorf("%s (read-only %v): %v; want kv.ErrCorrupt saying %q", c.name, ro, err, c.want)
			}
		}
		// A file refused is left as it was, and unlocked.
		if got, _ := os.ReadFile(path); !bytes.Equal(got, c.img) {
			t.Errorf("%s: Open changed the file", c.name)
		}
	}
}

func TestClosedCheck(t *testing.T) {
	db := openTemp(t)
	db.Close()
	if problems := db.Check(ctx); len(problems) != 1 || !errors.Is(problems[0], kv.ErrClosed) {
		t.Errorf("Check after Close: %v; want one error wrapping kv.ErrClosed", problems)
	}
}

// A bucket declared with KeepBuckets and then missing is damage: reads,
// writes and Check report it instead of reading it as empty or creating
// it afresh. CreateBucket makes an empty bucket, in an Update only.
func TestKeepBuckets(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	err := db.View(ctx, func(tx kv.Tx) error { return tx.(kv.BucketTx).CreateBucket("kept") })
	if !errors.Is(err, kv.ErrReadOnly) {
		t.Errorf("CreateBucket in a View = %v, want kv.ErrReadOnly", err)
	}
	if err := db.Update(ctx, func(tx kv.Tx) error { return tx.(kv.BucketTx).CreateBucket("kept") }); err != nil {
		t.Fatal(err)
	}
	names, err := db.BucketNames(ctx)
	if err != nil || strings.Join(names, ",") != "kept" {
		t.Fatalf("BucketNames = %q, %v; want the empty bucket kept", names, err)
	}
	db.KeepBuckets([]string{"kept", "lost"})
	if err := db.View(ctx, func(tx kv.Tx) error {
		_, err := tx.Get("kept", []byte("k"))
		return err
	}); err != nil {
		t.Errorf("Get in a kept bucket that exists: %v", err)
	}
	reads := map[string]func(tx kv.Tx) error{
		"Get": func(tx kv.Tx) error { _, err := tx.Get("lost", []byte("k")); return err },
		"Scan": func(tx kv.Tx) error {
			return tx.Scan("lost", kv.Range{}, func(k, v []byte) (bool, error) { return true, nil })
		},
		"Put":    func(tx kv.Tx) error { return tx.Put("lost", []byte("k"), []byte("v")) },
		"Delete": func(tx kv.Tx) error { return tx.Delete("lost", []byte("k")) },
	}
	for name, fn := range reads {
		err := db.Update(ctx, fn)
		if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), `bucket "lost" is missing`) {
			t.Errorf("%s in a kept bucket that is missing = %v, want kv.ErrCorrupt naming it", name, err)
		}
	}
	if names, _ := db.BucketNames(ctx); strings.Join(names, ",") != "kept" {
		t.Errorf("after the failed writes, the buckets are %q: a lost bucket was created afresh", names)
	}
	var text []string
	for _, p := range db.Check(ctx) {
		text = append(text, p.Error())
	}
	if len(text) != 1 || !strings.Contains(text[0], `bucket "lost" is missing`) {
		t.Errorf("Check = %q, want the missing bucket", text)
	}
}

// A read transaction names its snapshot: the same id until a write
// commits, a new one after; a write transaction has none.
func TestSnapshotID(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	id := func() uint64 {
		t.Helper()
		var id uint64
		if err := db.View(ctx, func(tx kv.Tx) error {
			var ok bool
			if id, ok = tx.(kv.Snapshot).SnapshotID(); !ok {
				t.Error("a read transaction has no snapshot id")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	put := func(k string) {
		t.Helper()
		if err := db.Update(ctx, func(tx kv.Tx) error {
			if _, ok := tx.(kv.Snapshot).SnapshotID(); ok {
				t.Error("a write transaction has a snapshot id")
			}
			return tx.Put("b", []byte(k), []byte("v"))
		}); err != nil {
			t.Fatal(err)
		}
	}
	put("a")
	a := id()
	if id() != a {
		t.Error("two reads of one snapshot have different ids")
	}
	put("b")
	if b := id(); b == a {
		t.Error("a write left the snapshot id as it was")
	}
}
