package boltkv_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// TestOpenWalk measures what the page walk of Open is worth. Over the
// damage corpus (every category whose damage is in the file before Open),
// it runs each damaged copy twice, in child processes: with the walk, and
// with Open checking only the meta pages and the file's shape (the cheap
// check the walk would be replaced by). Each copy is opened read-write,
// read whole, written (a key put into every bucket and one deleted),
// closed, opened again and read whole again. It logs the outcomes of both
// arms and requires, of the arm with the walk, that no copy crashes or
// hangs its process and that no write changes other data silently or is
// lost. It runs 100 of the 300 random cases (see walkSample); all of them
// with -openwalk.all.
func TestOpenWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	base := realistic(t)
	db, err := boltkv.Open(base, boltkv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	want, err := readContent(db)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	wantDigest := want.digest()

	outcomes := []string{outRefused, outError, outOther, testutil.OutcomeCrashed, outSilent, outLost, outFine}
	categories := []string{"truncate", "meta", "headers", "random", "write"}
	type row struct {
		arm, category string
		cases         int
		counts        map[string]int
		otherBytes    int // cases whose first read got other bytes than the undamaged file holds
	}
	env := []string{envWalkAll + "=" + strconv.FormatBool(*walkAll)}
	var mu sync.Mutex
	rows := map[string][]row{}
	failures := map[string][]string{}
	t.Run("arms", func(t *testing.T) {
		for _, arm := range []string{walkArm, skipArm} {
			t.Run(arm, func(t *testing.T) {
				t.Parallel()
				var rs []row
				var fs []string
				total := row{arm: arm, category: "all", counts: map[string]int{}}
				for _, category := range categories {
					cases, results := runDamage(t, category, child{test: "TestOpenWalkChild", env: append(env, envWalk+"="+arm), pick: walkSample})
					r := row{arm: arm, category: category, cases: len(cases), counts: map[string]int{}}
					for i, res := range results {
						r.counts[res.Outcome]++
						if d, ok := strings.CutPrefix(res.Detail, "content "); ok && !strings.HasPrefix(d, wantDigest) {
							r.otherBytes++
						}
						switch res.Outcome {
						case testutil.OutcomeCrashed, outSilent, outLost:
							fs = append(fs, fmt.Sprintf("%s, %s: %s: %s", arm, cases[i].name, res.Outcome, res.Detail))
						}
					}
					rs = append(rs, r)
					total.cases += r.cases
					total.otherBytes += r.otherBytes
					for o, n := range r.counts {
						total.counts[o] += n
					}
				}
				rs = append(rs, total)
				mu.Lock()
				rows[arm], failures[arm] = rs, fs
				mu.Unlock()
			})
		}
	})

	var b strings.Builder
	fmt.Fprintf(&b, "%-5s %-9s %6s", "arm", "category", "cases")
	for _, o := range outcomes {
		fmt.Fprintf(&b, " %8s", o)
	}
	fmt.Fprintf(&b, " %11s\n", "otherbytes")
	for _, r := range slices.Concat(rows[walkArm], rows[skipArm]) {
		fmt.Fprintf(&b, "%-5s %-9s %6d", r.arm, r.category, r.cases)
		for _, o := range outcomes {
			fmt.Fprintf(&b, " %8d", r.counts[o])
		}
		fmt.Fprintf(&b, " %11d\n", r.otherBytes)
	}
	t.Logf("outcomes of each damaged copy opened, read, written, reopened and read (otherbytes: the first read got other bytes than the undamaged file holds, which the store's record checksums find):\n%s", b.String())
	for _, f := range failures[skipArm] {
		t.Log(f)
	}
	for _, f := range failures[walkArm] {
		t.Error(f)
	}
}

// walkAll makes TestOpenWalk run the whole corpus:
//
//	go test -run 'TestOpenWalk$' -v ./store/internal/boltkv/ -args -openwalk.all
var walkAll = flag.Bool("openwalk.all", false, "TestOpenWalk: run all the random damage cases, not a sample of 100")

// walkSample picks the cases TestOpenWalk runs: all but the random ones,
// of which (unless -openwalk.all) a sample of 100 fixed by its seed, so
// that the test takes seconds under the race detector too.
func walkSample(category string, cases []damageCase) []damageCase {
	if category != "random" || *walkAll || os.Getenv(envWalkAll) == "true" {
		return cases
	}
	pick := rand.New(rand.NewPCG(17, 0)).Perm(len(cases))[:min(100, len(cases))]
	slices.Sort(pick)
	var out []damageCase
	for _, i := range pick {
		out = append(out, cases[i])
	}
	return out
}

// The arms of TestOpenWalk, and the outcomes of its cases besides
// outRefused and "crashed".
const (
	envWalk    = "BOLTKV_WALK"
	envWalkAll = "BOLTKV_WALK_ALL"
	walkArm    = "walk"
	skipArm    = "skip"

	outError  = "error"  // an error wrapping kv.ErrCorrupt after Open: a read, the write, the reopen
	outOther  = "other"  // an error not wrapping kv.ErrCorrupt after Open
	outSilent = "silent" // everything succeeded, and keys not written changed
	outLost   = "lost"   // everything succeeded, and a written key does not read as written
	outFine   = "fine"   // everything succeeded and read as expected
)

// TestOpenWalkChild runs the cases of one category for TestOpenWalk;
// otherwise it skips.
func TestOpenWalkChild(t *testing.T) {
	category, arm := os.Getenv(envCategory), os.Getenv(envWalk)
	if category == "" || arm == "" {
		t.Skip("started by TestOpenWalk only")
	}
	guardChild()
	boltkv.SkipWalk(arm == skipArm)
	base, err := os.ReadFile(os.Getenv(envBase))
	if err != nil {
		t.Fatal(err)
	}
	from, _ := strconv.Atoi(os.Getenv(envFrom))
	cases := walkSample(category, damageCases(t, category, base))
	path := filepath.Join(os.Getenv(envDir), category+".db")
	for i := from; i < len(cases); i++ {
		c := cases[i]
		testutil.StartCase(i, c.name)
		img := bytes.Clone(base)
		if c.size > 0 {
			img = img[:c.size]
		}
		for _, p := range c.patches {
			img[p.off] = p.b
		}
		if err := os.WriteFile(path, img, 0o600); err != nil {
			t.Fatal(err)
		}
		out, detail := readWriteReread(path)
		testutil.DoneCase(i, out, detail)
	}
}

// readWriteReread opens the file at path read-write, reads it whole,
// puts a key into each bucket and deletes one, closes it, opens it again
// and reads it whole again, and returns the outcome and a detail, which
// starts "content <digest>" once the first read succeeded.
func readWriteReread(path string) (string, string) {
	open := func() (*boltkv.DB, error) {
		return boltkv.Open(path, boltkv.Options{NoSync: true, Timeout: time.Second})
	}
	db, err := open()
	if err != nil {
		if errors.Is(err, kv.ErrCorrupt) {
			return outRefused, err.Error()
		}
		return outOther, "open: " + err.Error()
	}
	defer func() { db.Close() }()
	before, err := readContent(db)
	if err != nil {
		return failed("", "read", err)
	}
	content := "content " + before.digest()
	expect := before.clone()
	err = db.Update(ctx, func(tx kv.Tx) error {
		buckets := slices.Sorted(mapKeys(before))
		if len(buckets) == 0 {
			buckets = []string{"flows"}
		}
		for _, b := range buckets {
			keys := slices.Sorted(mapKeys(before[b]))
			put := "written"
			if len(keys) > 0 {
				put = keys[len(keys)/2] + "/written"
			}
			if expect[b] == nil {
				expect[b] = map[string]string{}
			}
			expect[b][put] = strings.Repeat("w", 300)
			if err := tx.Put(b, []byte(put), []byte(expect[b][put])); err != nil {
				return err
			}
			if len(keys) > 1 {
				del := keys[len(keys)/3]
				delete(expect[b], del)
				if err := tx.Delete(b, []byte(del)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return failed(content, "write", err)
	}
	if err := db.Close(); err != nil {
		return failed(content, "close", err)
	}
	if db, err = open(); err != nil {
		return failed(content, "reopen", err)
	}
	after, err := readContent(db)
	if err != nil {
		return failed(content, "read after the write", err)
	}
	changed, lost := compareContent(before, expect, after)
	switch {
	case changed != "":
		return outSilent, content + ": " + changed
	case lost != "":
		return outLost, content + ": " + lost
	}
	return outFine, content
}

// failed returns the outcome of an error after Open.
func failed(content, stage string, err error) (string, string) {
	detail := stage + ": " + err.Error()
	if content != "" {
		detail = content + ": " + detail
	}
	if errors.Is(err, kv.ErrCorrupt) {
		return outError, detail
	}
	return outOther, detail
}

// content is what a file holds: bucket -> key -> value.
type content map[string]map[string]string

// readContent reads every key of every bucket of db, in a scan, and gets
// each again by its key.
func readContent(db *boltkv.DB) (content, error) {
	names, err := db.BucketNames(ctx)
	if err != nil {
		return nil, err
	}
	c := content{}
	err = db.View(ctx, func(tx kv.Tx) error {
		for _, b := range names {
			m := map[string]string{}
			if err := tx.Scan(b, kv.Range{}, func(k, v []byte) (bool, error) {
				m[string(k)] = string(v)
				return true, nil
			}); err != nil {
				return err
			}
			for k := range m {
				if _, err := tx.Get(b, []byte(k)); err != nil {
					return err
				}
			}
			c[b] = m
		}
		return nil
	})
	return c, err
}

func (c content) clone() content {
	out := content{}
	for b, m := range c {
		out[b] = map[string]string{}
		for k, v := range m {
			out[b][k] = v
		}
	}
	return out
}

// digest is a checksum of c.
func (c content) digest() string {
	h := crc32.NewIEEE()
	field := func(s string) {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	for _, b := range slices.Sorted(mapKeys(c)) {
		field(b)
		for _, k := range slices.Sorted(mapKeys(c[b])) {
			field(k)
			field(c[b][k])
		}
	}
	return fmt.Sprintf("%08x", h.Sum32())
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// compareContent compares what a file read after a write with what it
// read before and what the write should have made of it: changed
// describes a key not written that differs, lost a written key that does
// not read as written ("" when none).
func compareContent(before, expect, after content) (changed, lost string) {
	n, m := 0, 0
	var firstChanged, firstLost string
	buckets := map[string]bool{}
	for _, c := range []content{before, expect, after} {
		for b := range c {
			buckets[b] = true
		}
	}
	for _, b := range slices.Sorted(mapKeys(buckets)) {
		keys := map[string]bool{}
		for _, c := range []content{before, expect, after} {
			for k := range c[b] {
				keys[k] = true
			}
		}
		for _, k := range slices.Sorted(mapKeys(keys)) {
			wv, wok := expect[b][k]
			av, aok := after[b][k]
			if wok == aok && wv == av {
				continue
			}
			bv, bok := before[b][k]
			what := fmt.Sprintf("bucket %s key %s: %s, then %s", short(b), short(k), state(bv, bok), state(av, aok))
			if bok == wok && bv == wv { // not written
				if n++; firstChanged == "" {
					firstChanged = what
				}
			} else if m++; firstLost == "" {
				firstLost = what + ", written " + state(wv, wok)
			}
		}
	}
	if n > 0 {
		changed = fmt.Sprintf("%d keys not written changed, e.g. %s", n, firstChanged)
	}
	if m > 0 {
		lost = fmt.Sprintf("%d written keys do not read as written, e.g. %s", m, firstLost)
	}
	return changed, lost
}

func state(v string, ok bool) string {
	if !ok {
		return "absent"
	}
	return fmt.Sprintf("%d bytes %08x", len(v), crc32.ChecksumIEEE([]byte(v)))
}

// short quotes s, cut to 40 bytes (a damaged key can run over pages).
func short(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%q... (%d bytes)", s[:40], len(s))
	}
	return strconv.Quote(s)
}
