package boltkv_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/store/internal/boltkv"
	"github.com/authflow/authflow/store/kv"
)

// The damage tests open damaged copies of a realistic file and read
// everything in them. A damaged file that crashes the process would
// crash the test binary, so each category of cases runs in a child
// process (this test binary again, running TestDamageChild), which
// reports each case on stdout as it goes: "start N name", then "done N
// outcome detail". When a child dies, or hangs, the case it started last
// is the culprit; the parent records it and starts a new child from the
// next case.
const (
	envCategory = "BOLTKV_DAMAGE_CATEGORY"
	envBase     = "BOLTKV_DAMAGE_BASE"
	envFrom     = "BOLTKV_DAMAGE_FROM"
	envDir      = "BOLTKV_DAMAGE_DIR"
	envScale    = "BOLTKV_DAMAGE_SCALE"
)

// damageScale multiplies the random cases, for a deeper search than CI's:
//
//	go test -run TestDamaged -damage.scale 50 ./store/internal/boltkv/
var damageScale = flag.Int("damage.scale", 1, "multiply the number of random damage cases")

func scale() int {
	if n, err := strconv.Atoi(os.Getenv(envScale)); err == nil && n > 0 {
		return n // in a child
	}
	return max(*damageScale, 1)
}

// Outcomes of a case.
const (
	outRefused  = "refused"  // Open failed, wrapping kv.ErrCorrupt
	outOpened   = "opened"   // everything read without error
	outReadFail = "readfail" // Open succeeded, a read failed wrapping kv.ErrCorrupt
	outBad      = "bad"      // an error not wrapping kv.ErrCorrupt, or a broken promise
)

var (
	baseOnce sync.Once
	basePath string
	baseErr  error
)

// realistic builds, once, a file of a few thousand keys in three buckets,
// with branch, leaf, overflow and freelist pages.
func realistic(t *testing.T) string {
	baseOnce.Do(func() {
		dir, err := os.MkdirTemp("", "boltkv-damage-")
		if err != nil {
			baseErr = err
			return
		}
		basePath = filepath.Join(dir, "base.db")
		db, err := boltkv.Open(basePath, boltkv.Options{NoSync: true})
		if err != nil {
			baseErr = err
			return
		}
		build(t, db, 800)
		baseErr = db.Close()
	})
	if baseErr != nil {
		t.Fatal(baseErr)
	}
	return basePath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if basePath != "" {
		os.RemoveAll(filepath.Dir(basePath))
	}
	os.Exit(code)
}

// patch is one damaged byte.
type patch struct {
	off int64
	b   byte
}

type damageCase struct {
	name    string
	size    int64   // truncate to this size (0: keep)
	patches []patch // bytes to change
	write   bool    // open read-write, and write after reading
	open    bool    // damage the file after Open, under the open database
	expect  string  // the outcome required, "" for any but outBad
}

type layout struct {
	ps      int
	hwm     uint64
	root    uint64 // the root bucket's page
	newest  int    // the meta page bbolt uses
	size    int64
	headers []uint64 // pages that start a page span (branch, leaf, freelist)
}

func fileLayout(t testing.TB, base []byte) layout {
	ps, hwm, root, m, err := boltkv.FileInfo(base)
	if err != nil {
		t.Fatal(err)
	}
	l := layout{ps: ps, hwm: hwm, root: root, newest: m, size: int64(len(base))}
	ne := binary.NativeEndian
	for id := uint64(2); id < hwm; {
		p := base[id*uint64(ps):]
		if ne.Uint64(p) != id {
			id++
			continue
		}
		switch ne.Uint16(p[8:]) {
		case 0x01, 0x02, 0x10:
			l.headers = append(l.headers, id)
			id += 1 + uint64(ne.Uint32(p[12:]))
		default:
			id++
		}
	}
	return l
}

// reMeta returns the patches that rewrite meta page p of base with
// change applied and a valid checksum: damage that the checksum cannot
// catch.
func reMeta(base []byte, l layout, p int, change func(m []byte)) []patch {
	off := p*l.ps + 16
	m := bytes.Clone(base[off : off+64])
	change(m)
	h := fnv.New64a()
	h.Write(m[:56])
	binary.NativeEndian.PutUint64(m[56:], h.Sum64())
	var out []patch
	for i := range m {
		if m[i] != base[off+i] {
			out = append(out, patch{int64(off + i), m[i]})
		}
	}
	return out
}

func flip(base []byte, off int64, rng *rand.Rand) patch {
	return patch{off, base[off] ^ byte(1+rng.IntN(255))}
}

// damageCases returns the cases of a category; parent and child compute
// the same list.
func damageCases(t testing.TB, category string, base []byte) []damageCase {
	l := fileLayout(t, base)
	ps := int64(l.ps)
	var cases []damageCase
	switch category {
	case "truncate":
		// Every page boundary from one page short of the end to 8 KiB,
		// longest first (the child truncates one file further and
		// further). Cut below the high-water mark, a file must be
		// refused: bbolt would serve it with pages missing. Above it, a
		// file loses only the unused space bbolt grows files by, and
		// reads whole.
		for size := l.size - ps; size >= 8192; size -= ps {
			c := damageCase{name: fmt.Sprintf("truncated to %d bytes (%d pages)", size, size/ps), size: size, write: false}
			if size < int64(l.hwm)*ps {
				c.expect = outRefused
			} else {
				c.expect = outOpened
			}
			cases = append(cases, c)
		}
	case "meta":
		ne := binary.NativeEndian
		// A byte of each field of each meta page: the page header's
		// id, flags, count and overflow (which bbolt ignores), and each
		// field of the meta (which fail the checksum).
		for p := range 2 {
			for _, off := range []int{0, 7, 8, 10, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 72, 79} {
				o := int64(p*l.ps + off)
				cases = append(cases, damageCase{
					name:    fmt.Sprintf("meta page %d: byte %d flipped", p, off),
					patches: []patch{{o, base[o] ^ 0xff}},
				})
			}
		}
		cases = append(cases, damageCase{
			name:    "both meta pages: magic flipped",
			patches: []patch{{16, base[16] ^ 0xff}, {ps + 16, base[ps+16] ^ 0xff}},
			expect:  outRefused,
		})
		n := l.newest
		hwm := l.hwm
		crafted := []struct {
			name   string
			change func(m []byte)
		}{
			{"high-water mark past the end of the file", func(m []byte) { ne.PutUint64(m[40:], uint64(l.size/ps)+1) }},
			{"high-water mark of 3", func(m []byte) { ne.PutUint64(m[40:], 3) }},
			{"root page at the high-water mark", func(m []byte) { ne.PutUint64(m[16:], hwm) }},
			{"root page 1, a meta page", func(m []byte) { ne.PutUint64(m[16:], 1) }},
			{"root page the freelist", func(m []byte) { ne.PutUint64(m[16:], ne.Uint64(m[32:])) }},
			{"root page a bucket's leaf", func(m []byte) { _, leaf := l.bucketPages(t, base, "stages"); ne.PutUint64(m[16:], leaf) }},
			{"freelist page past the high-water mark", func(m []byte) { ne.PutUint64(m[32:], hwm+3) }},
			{"freelist page 0", func(m []byte) { ne.PutUint64(m[32:], 0) }},
			{"freelist page the root", func(m []byte) { ne.PutUint64(m[32:], ne.Uint64(m[16:])) }},
			{"page size doubled", func(m []byte) { ne.PutUint32(m[8:], uint32(2*ps)) }},
			{"page size 512", func(m []byte) { ne.PutUint32(m[8:], 512) }},
		}
		for _, c := range crafted {
			cases = append(cases, damageCase{
				name:    fmt.Sprintf("meta page %d, valid checksum: %s", n, c.name),
				patches: reMeta(base, l, n, c.change),
				expect:  outRefused,
			})
		}
	case "random":
		// 1 to 8 bytes flipped anywhere in the pages below the high-water
		// mark: mostly inside keys and values, which may open and read
		// different bytes (the store's checksums find those).
		for i := range 300 * scale() {
			rng := rand.New(rand.NewPCG(20240601, uint64(i)))
			var ps []patch
			for range 1 + rng.IntN(8) {
				ps = append(ps, flip(base, 2*int64(l.ps)+rng.Int64N(int64(l.hwm-2)*int64(l.ps)), rng))
			}
			cases = append(cases, damageCase{name: fmt.Sprintf("random %d: %d bytes flipped", i, len(ps)), patches: ps})
		}
	case "headers":
		// A byte flipped in the header or element table of each page:
		// the page structure that bbolt trusts.
		// (In CI, 150 pages; scaled, every page several times, with up
		// to 3 bytes flipped.)
		sample := rand.New(rand.NewPCG(7, 0)).Perm(len(l.headers))[:min(150, len(l.headers))]
		slices.Sort(sample)
		if scale() > 1 {
			sample = nil
			for range scale() / 2 {
				for i := range l.headers {
					sample = append(sample, i)
				}
			}
		}
		for i, h := range sample {
			id := l.headers[h]
			rng := rand.New(rand.NewPCG(7, uint64(i+1)))
			p := base[id*uint64(l.ps):]
			count := int64(binary.NativeEndian.Uint16(p[10:]))
			span := 16 + 16*min(count, 64)
			if binary.NativeEndian.Uint16(p[8:]) == 0x10 {
				span = 16 + 8*min(count, 64)
			}
			n := 1
			if scale() > 1 {
				n = 1 + rng.IntN(3)
			}
			var ps []patch
			for range n {
				ps = append(ps, flip(base, int64(id)*int64(l.ps)+rng.Int64N(span), rng))
			}
			cases = append(cases, damageCase{name: fmt.Sprintf("page %d: %d header or element bytes flipped (case %d)", id, n, i), patches: ps})
		}
	case "write":
		// Damaged files opened read-write, read, and written to.
		for i := range 30 * scale() {
			rng := rand.New(rand.NewPCG(99, uint64(i)))
			var ps []patch
			if i%2 == 0 {
				id := l.headers[rng.IntN(len(l.headers))]
				ps = append(ps, flip(base, int64(id)*int64(l.ps)+rng.Int64N(48), rng))
			} else {
				for range 1 + rng.IntN(8) {
					ps = append(ps, flip(base, 2*int64(l.ps)+rng.Int64N(int64(l.hwm-2)*int64(l.ps)), rng))
				}
			}
			cases = append(cases, damageCase{name: fmt.Sprintf("write %d: %d bytes flipped", i, len(ps)), patches: ps, write: true})
		}
	case "open":
		// Damage done to the file while it is open, past the checks of
		// Open: bbolt faults or panics, and each must become an error
		// wrapping kv.ErrCorrupt, the database staying closable.
		branch, leaf := l.bucketPages(t, base, "flows")
		leafOff := int64(leaf) * ps
		vsize := leafOff + 16 + 12 // the first element's vsize
		huge := binary.NativeEndian.AppendUint32(nil, 0x7fffffff)
		for _, write := range []bool{false, true} {
			mode := "read-only"
			if write {
				mode = "read-write"
			}
			cases = append(cases,
				damageCase{name: "truncated to 8 KiB under the open database, " + mode, size: 8192, open: true, write: write, expect: outReadFail},
				damageCase{name: fmt.Sprintf("leaf page %d's flags damaged under the open database, %s", leaf, mode), patches: []patch{{leafOff + 8, 0x20}}, open: true, write: write, expect: outReadFail},
				damageCase{name: fmt.Sprintf("branch page %d's id damaged under the open database, %s", branch, mode), patches: []patch{{int64(branch)*ps + 1, 0x7f}}, open: true, write: write, expect: outReadFail},
				damageCase{name: fmt.Sprintf("a value's size in leaf page %d damaged under the open database, %s", leaf, mode), patches: []patch{{vsize, huge[0]}, {vsize + 1, huge[1]}, {vsize + 2, huge[2]}, {vsize + 3, huge[3]}}, open: true, write: write, expect: outReadFail},
			)
		}
	case "empty":
		cases = append(cases, damageCase{name: "an empty file, read-only", size: -1, expect: outRefused})
	default:
		t.Fatalf("no damage category %q", category)
	}
	return cases
}

// bucketPages returns the root page of a bucket ("flows": a branch page,
// the bucket being large) and its first leaf page, found from the root.
func (l layout) bucketPages(t testing.TB, base []byte, name string) (branch, leaf uint64) {
	ne := binary.NativeEndian
	p := base[l.root*uint64(l.ps):]
	if ne.Uint16(p[8:]) != 0x02 {
		t.Fatalf("the root bucket's page %d is not a leaf", l.root)
	}
	for i := range uint64(ne.Uint16(p[10:])) {
		e := p[16+i*16:]
		pos, ksize := uint64(ne.Uint32(e[4:])), uint64(ne.Uint32(e[8:]))
		if string(e[pos:pos+ksize]) != name {
			continue
		}
		branch = ne.Uint64(e[pos+ksize:])
		b := base[branch*uint64(l.ps):]
		if branch == 0 || ne.Uint16(b[8:]) != 0x01 {
			t.Fatalf("bucket %q's root page %d is not a branch page", name, branch)
		}
		return branch, ne.Uint64(b[16+8:])
	}
	t.Fatalf("no bucket %q", name)
	return 0, 0
}

// readAll reads everything in db: every bucket forwards, and its end
// backwards, Gets of some keys, and Check. It returns a digest of the
// content and the number of problems Check found.
func readAll(db *boltkv.DB) (dump string, checkProblems int, err error) {
	names, err := db.BucketNames(ctx)
	if err != nil {
		return "", 0, err
	}
	h := crc32.NewIEEE() // not instrumented by the race detector, unlike fnv
	err = db.View(ctx, func(tx kv.Tx) error {
		for _, b := range names {
			var keys [][]byte
			if err := tx.Scan(b, kv.Range{}, func(k, v []byte) (bool, error) {
				h.Write(k)
				h.Write(v)
				if len(keys) < 50 {
					keys = append(keys, bytes.Clone(k))
				}
				return true, nil
			}); err != nil {
				return err
			}
			n := 0 // backwards over a few pages (all of it again would be slow under -race)
			if err := tx.Scan(b, kv.Range{Reverse: true}, func(k, v []byte) (bool, error) {
				n++
				return n < 100, nil
			}); err != nil {
				return err
			}
			for _, k := range keys {
				if _, err := tx.Get(b, k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	if skipCheck {
		return fmt.Sprintf("%08x", h.Sum32()), 0, nil
	}
	problems := db.Check(ctx)
	for _, p := range problems {
		if !errors.Is(p, kv.ErrCorrupt) {
			return "", 0, p
		}
	}
	return fmt.Sprintf("%08x", h.Sum32()), len(problems), nil
}

var skipCheck bool

func readAllNoCheck(db *boltkv.DB) {
	skipCheck = true
	readAll(db)
	skipCheck = false
}

// runCase opens path and reads everything, and returns the outcome and
// a detail.
func runCase(path string, c damageCase) (string, string) {
	judge := func(stage string, err error) (string, string) {
		if errors.Is(err, kv.ErrCorrupt) {
			if stage == "open" {
				return outRefused, err.Error()
			}
			return outReadFail, stage + ": " + err.Error()
		}
		return outBad, stage + ": " + err.Error()
	}
	db, err := boltkv.Open(path, boltkv.Options{ReadOnly: !c.write, NoSync: true, Timeout: time.Second})
	if err != nil {
		return judge("open", err)
	}
	defer db.Close()
	if c.open {
		return runUnderOpen(db, path, c)
	}
	dump, problems, err := readAll(db)
	if err != nil {
		return judge("read", err)
	}
	if c.write {
		err := db.Update(ctx, func(tx kv.Tx) error {
			for i := range 50 {
				for _, b := range []string{"flows", "stages", "bindings"} {
					k := []byte(fmt.Sprintf("%s/%06d", b, i*13))
					if i%3 == 0 {
						if err := tx.Delete(b, k); err != nil {
							return err
						}
					} else if err := tx.Put(b, k, bytes.Repeat([]byte("w"), 100+i*20)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return judge("write", err)
		}
		if _, _, err := readAll(db); err != nil {
			return judge("read after write", err)
		}
	}
	if err := db.Close(); err != nil {
		return judge("close", err)
	}
	return outOpened, fmt.Sprintf("content %s, %d problems found by Check", dump, problems)
}

// runUnderOpen damages the file of an open database and reads it all.
// The reads must fail with kv.ErrCorrupt; an Update must fail so too or
// succeed, and Close must return.
func runUnderOpen(db *boltkv.DB, path string, c damageCase) (string, string) {
	var err error
	if c.size > 0 {
		err = os.Truncate(path, c.size)
	} else {
		err = patchFile(path, c.patches)
	}
	if err != nil {
		return outBad, "damage: " + err.Error()
	}
	_, _, readErr := readAll(db)
	if readErr == nil {
		return outOpened, "read everything"
	}
	if !errors.Is(readErr, kv.ErrCorrupt) {
		return outBad, "read: " + readErr.Error()
	}
	detail := "read: " + readErr.Error()
	if c.write {
		err := db.Update(ctx, func(tx kv.Tx) error {
			if _, err := tx.Get("flows", []byte("flows/000001")); err != nil {
				return err
			}
			return tx.Put("after", []byte("k"), []byte("v"))
		})
		if err != nil && !errors.Is(err, kv.ErrCorrupt) {
			return outBad, "update: " + err.Error()
		}
		detail += fmt.Sprintf("; update: %v", err)
	}
	problems := db.Check(ctx)
	for _, p := range problems {
		if !errors.Is(p, kv.ErrCorrupt) {
			return outBad, "check: " + p.Error()
		}
	}
	detail += fmt.Sprintf("; Check found %d problems", len(problems))
	if len(problems) == 0 {
		return outBad, detail + ": Check found nothing"
	}
	if err := db.Close(); err != nil {
		return outBad, "close: " + err.Error()
	}
	return outReadFail, detail
}

// TestDamageChild runs the cases of one category when started by a
// damage test; otherwise it skips.
func TestDamageChild(t *testing.T) {
	category := os.Getenv(envCategory)
	if category == "" {
		t.Skip("started by the damage tests only")
	}
	guardChild()
	base, err := os.ReadFile(os.Getenv(envBase))
	if err != nil {
		t.Fatal(err)
	}
	from, _ := strconv.Atoi(os.Getenv(envFrom))
	dir := os.Getenv(envDir)
	cases := damageCases(t, category, base)
	path := filepath.Join(dir, category+".db")
	prepared := false // path holds base (with the truncations so far)
	for i := from; i < len(cases); i++ {
		c := cases[i]
		testutil.StartCase(i, c.name)
		switch {
		case c.open:
			err = os.WriteFile(path, base, 0o600)
			prepared = false
		case c.size < 0:
			err = os.WriteFile(path, nil, 0o600)
		case c.size > 0:
			if !prepared {
				err = os.WriteFile(path, base, 0o600)
				prepared = true
			}
			if err == nil {
				err = os.Truncate(path, c.size)
			}
		case c.write || !prepared:
			img := bytes.Clone(base)
			for _, p := range c.patches {
				img[p.off] = p.b
			}
			err = os.WriteFile(path, img, 0o600)
			prepared = !c.write
		default:
			err = patchFile(path, c.patches)
		}
		if err != nil {
			t.Fatal(err)
		}
		out, detail := runCase(path, c)
		if c.size == 0 && !c.write && !c.open && prepared {
			// Undo the patches for the next case.
			var undo []patch
			for _, p := range c.patches {
				undo = append(undo, patch{p.off, base[p.off]})
			}
			if err := patchFile(path, undo); err != nil {
				t.Fatal(err)
			}
		}
		testutil.DoneCase(i, out, detail)
	}
}

func patchFile(path string, ps []patch) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := f.WriteAt([]byte{p.b}, p.off); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// child is the test function that runs a damage test's cases in a child
// process, with what it needs in its environment besides the category.
type child struct {
	test string
	env  []string
	pick func(category string, cases []damageCase) []damageCase // the cases it runs (nil: all), as the child picks them
}

// caseTimeout bounds one case of a child: each takes milliseconds, so a
// case still running after this has hung its child.
const caseTimeout = 20 * time.Second

// childMemory bounds the memory the Go runtime of a child maps: the
// cases need a few megabytes, and a damaged size can make bbolt allocate
// gigabytes.
const childMemory = 1 << 30

// guardChild bounds the memory of a child process: the garbage collector
// keeps the heap small, and a child whose runtime maps more than
// childMemory (a runaway allocation) exits with a message, before it can
// take the machine's memory; the parent bounds the time of each case.
func guardChild() {
	debug.SetMemoryLimit(childMemory / 4)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
		for range time.Tick(2 * time.Millisecond) {
			metrics.Read(s)
			if n := s[0].Value.Uint64(); n > childMemory {
				fmt.Fprintf(os.Stderr, "memory bound: the runtime maps %d bytes, over %d\n", n, childMemory)
				os.Exit(3)
			}
		}
	}()
}

// runDamage runs the cases of a category in child processes running
// ch.test and returns the outcome of each; a case that killed or hung its
// child has the outcome "crashed" and the child's last output as detail.
func runDamage(t *testing.T, category string, ch child) ([]damageCase, []testutil.CaseResult) {
	base := realistic(t)
	img, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	cases := damageCases(t, category, img)
	if ch.pick != nil {
		cases = ch.pick(category, cases)
	}
	dir := t.TempDir()
	results := testutil.RunCases(t, len(cases), caseTimeout, func(ctx context.Context, from int) *exec.Cmd {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+ch.test+"$", "-test.count=1")
		cmd.Env = append(testutil.ChildEnv(), envCategory+"="+category, envBase+"="+base, envFrom+"="+strconv.Itoa(from), envDir+"="+dir,
			envScale+"="+strconv.Itoa(scale()))
		cmd.Env = append(cmd.Env, ch.env...)
		return cmd
	})
	return cases, results
}

// judgeDamage fails the test for every case that crashed, hung, failed
// with an error not wrapping kv.ErrCorrupt or not as expected, and logs
// the split of the outcomes.
func judgeDamage(t *testing.T, category string, cases []damageCase, results []testutil.CaseResult) map[string]int {
	counts := map[string]int{}
	examples := map[string]string{}
	checked := 0 // opened cases in which Check found problems
	for i, r := range results {
		counts[r.Outcome]++
		var n int
		if _, err := fmt.Sscanf(r.Detail[strings.Index(r.Detail, ",")+1:], " %d problems found by Check", &n); err == nil && n > 0 && r.Outcome == outOpened {
			checked++
		}
		if _, ok := examples[r.Outcome]; !ok {
			examples[r.Outcome] = cases[i].name + ": " + r.Detail
		}
		switch {
		case r.Outcome == testutil.OutcomeCrashed, r.Outcome == outBad, r.Outcome == "":
			t.Errorf("%s: %s %s", cases[i].name, r.Outcome, r.Detail)
		case cases[i].expect != "" && r.Outcome != cases[i].expect:
			t.Errorf("%s: %s, want %s: %s", cases[i].name, r.Outcome, cases[i].expect, r.Detail)
		}
	}
	t.Logf("%s: %d cases: %d opened and read (Check found problems in %d), %d opened and failed a read with kv.ErrCorrupt, %d refused by Open with kv.ErrCorrupt, %d crashed or hung, %d other errors",
		category, len(cases), counts[outOpened], checked, counts[outReadFail], counts[outRefused], counts[testutil.OutcomeCrashed], counts[outBad])
	for _, o := range []string{outRefused, outReadFail} {
		if e, ok := examples[o]; ok {
			t.Logf("  e.g. %s", e)
		}
	}
	return counts
}

func TestDamaged(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	base := realistic(t)
	img, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	l := fileLayout(t, img)
	t.Logf("the file: %d bytes, %d-byte pages, high-water mark %d, %d pages starting a branch, leaf or freelist page", l.size, l.ps, l.hwm, len(l.headers))
	db, err := boltkv.Open(base, boltkv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	wantDump, _, err := readAll(db)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, category := range []string{"truncate", "meta", "random", "headers", "write", "open", "empty"} {
		t.Run(category, func(t *testing.T) {
			t.Parallel()
			cases, results := runDamage(t, category, child{test: "TestDamageChild"})
			judgeDamage(t, category, cases, results)
			if category == "truncate" || category == "meta" {
				// What opens reads the content of the file, or (a meta
				// page damaged) the content one transaction older.
				other := 0
				for i, r := range results {
					if r.Outcome == outOpened && !strings.HasPrefix(r.Detail, "content "+wantDump+",") {
						other++
						if category == "truncate" {
							t.Errorf("%s: opened with other content: %s", cases[i].name, r.Detail)
						}
					}
				}
				if other > 0 {
					t.Logf("  %d opened as of an older transaction (bbolt's fallback to the other meta page)", other)
				}
			}
		})
	}
}
