package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// The store's damage test opens damaged copies of a small store of every
// collection, reads everything through the store (every list, every
// object by pk, every flow by slug, the revision) and compares what it
// read with what the undamaged file serves. A copy may be refused by
// Open or fail a read with an error; what it must not do is open and
// serve other content without one. The one exception is bbolt's fallback
// to the older meta page when the newer one is invalid (a torn write in
// a crash): the file then reads as of one transaction earlier, which is
// counted apart. The cases run in a child process (this test binary
// again), so that a crash fails the test and names the case.
//
// The count of copies that serve other content silently:
//
//	go test -run TestStoreDamage -v ./store/ | grep silently
const (
	envStoreDamage     = "AUTHFLOW_STORE_DAMAGE"
	envStoreDamageFrom = "AUTHFLOW_STORE_DAMAGE_FROM" // the first case a child runs
)

// storeDamageCase is one damaged copy: the base truncated to size (0:
// kept), with bytes changed, or rewritten by edit through bbolt.
type storeDamageCase struct {
	name    string
	size    int64
	patches map[int64]byte
	edit    func(tx *bolt.Tx) error
}

// buildDamageBase writes a store with objects of every collection, and
// returns the dump of its content before and after its last transaction.
func buildDamageBase(t testing.TB, path string) (prev, last string) {
	s, err := store.Open(path, &store.Options{NoSync: true, NewID: storetest.CounterIDs(1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var flows, stages []uuid.UUID
	for i := range 60 {
		flows = append(flows, mkFlow(t, s, fmt.Sprintf("flow-%02d", i)).PK)
		stages = append(stages, mkUserWrite(t, s, fmt.Sprintf("write-%02d", i)).PK)
	}
	for i := range 10 {
		stages = append(stages, mkInvitation(t, s, fmt.Sprintf("invitation-%02d", i)).PK)
	}
	var fsbs []uuid.UUID
	for i, f := range flows {
		for j := range 2 {
			fsbs = append(fsbs, mkBinding(t, s, f, stages[(i+j*7)%len(stages)], int32(10*j)).PK)
		}
	}
	err = s.Update(ctx, func(tx *store.Tx) error {
		for i := range 10 {
			p, err := store.Policies.Create(tx, policy.Policy{Name: fmt.Sprintf("policy-%02d", i), Config: policy.Expression{Expression: "return True"}}, nil)
			if err != nil {
				return err
			}
			for _, target := range []uuid.UUID{flows[i], fsbs[i]} {
				b := policy.DefaultBinding()
				b.Policy, b.Target = &p.PK, target
				if _, err := store.PolicyBindings.Create(tx, b, nil); err != nil {
					return err
				}
			}
			body := fmt.Sprintf(`{"name":"prompt-%02d","field_key":"field_%d","label":"Field %d","type":"text"}`, i, i, i)
			if _, err := tx.Create(store.ModelPrompt, []byte(body), nil); err != nil {
				return err
			}
			if _, err := tx.Create(store.ModelInvite, []byte(fmt.Sprintf(`{"name":"invite-%02d"}`, i)), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	prev, err = storeDump(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := patchIn(ctx, s, store.Flows, store.By("slug", "flow-00"), []byte(`{"title":"The last write"}`)); err != nil {
		t.Fatal(err)
	}
	last, err = storeDump(s)
	if err != nil {
		t.Fatal(err)
	}
	return prev, last
}

var dumpModels = []string{store.ModelFlow, store.ModelStage, store.ModelBinding, store.ModelPolicy, store.ModelPolicyBinding, store.ModelPrompt, store.ModelInvite}

// storeDump reads everything a client could and returns it as text. An
// object missing (ErrNotFound) is content, not an error.
func storeDump(s *store.Store) (string, error) {
	var b strings.Builder
	err := s.View(context.Background(), func(tx *store.Tx) error {
		rev, err := tx.Revision()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "revision %d\n", rev)
		for _, m := range dumpModels {
			var pks []uuid.UUID
			for page := 1; page != 0; {
				p, err := tx.List(m, store.Query{Page: page, PageSize: store.MaxPageSize})
				if err != nil {
					return err
				}
				js, err := json.Marshal(p)
				if err != nil {
					return err
				}
				fmt.Fprintf(&b, "%s page %d: %s\n", m, page, js)
				for _, r := range p.Results {
					var v struct {
						PK uuid.UUID `json:"pk"`
					}
					js, _ := json.Marshal(r)
					if err := json.Unmarshal(js, &v); err == nil {
						pks = append(pks, v.PK)
					}
				}
				page = p.Pagination.Next
			}
			for _, pk := range pks {
				v, err := tx.Get(m, pk)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				js, _ := json.Marshal(v)
				rev, err := tx.ObjectRevision(m, pk)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				fmt.Fprintf(&b, "%s %s at %d: %s\n", m, pk, rev, js)
			}
		}
		for i := range 60 {
			slug := fmt.Sprintf("flow-%02d", i)
			f, err := store.Flows.View(tx, store.By("slug", slug))
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			fmt.Fprintf(&b, "slug %s: %s\n", slug, f.PK)
		}
		return nil
	})
	return b.String(), err
}

// bboltPages finds the pages of a bbolt file: its page size and the ids
// of its branch and leaf pages below the high-water mark.
func bboltPages(t testing.TB, img []byte) (ps int64, branches, leaves []int64) {
	ne := binary.NativeEndian
	ps = int64(ne.Uint32(img[16+8:]))
	hwm := int64(ne.Uint64(img[16+40:]))
	if m1 := img[ps:]; ne.Uint64(m1[16+48:]) > ne.Uint64(img[16+48:]) {
		hwm = int64(ne.Uint64(m1[16+40:]))
	}
	for id := int64(2); id < hwm; {
		p := img[id*ps:]
		if int64(ne.Uint64(p)) != id {
			id++
			continue
		}
		switch ne.Uint16(p[8:]) {
		case 0x01:
			branches = append(branches, id)
		case 0x02:
			leaves = append(leaves, id)
		}
		id += 1 + int64(ne.Uint32(p[12:]))
	}
	if len(branches) == 0 || len(leaves) == 0 {
		t.Fatalf("the base file has %d branch and %d leaf pages", len(branches), len(leaves))
	}
	return ps, branches, leaves
}

// storeDamageCases are the damaged copies of img: truncations, random
// flips, flips in leaf keys (records', indexes' and bucket names),
// flips in branch pages, and each bucket deleted.
func storeDamageCases(t testing.TB, img []byte) []storeDamageCase {
	ne := binary.NativeEndian
	ps, branches, leaves := bboltPages(t, img)
	size := int64(len(img))
	var cases []storeDamageCase
	for n := size - ps; n >= 4*ps; n -= 3 * ps {
		cases = append(cases, storeDamageCase{name: fmt.Sprintf("truncated to %d pages", n/ps), size: n})
	}
	for p := range int64(2) {
		for _, off := range []int64{16, 24, 32, 48, 56, 64, 72} {
			cases = append(cases, storeDamageCase{name: fmt.Sprintf("meta page %d: byte %d flipped", p, off), patches: map[int64]byte{p*ps + off: img[p*ps+off] ^ 0x10}})
		}
	}
	for i := range 150 {
		rng := rand.New(rand.NewPCG(17, uint64(i)))
		patches := map[int64]byte{}
		for range 1 + rng.IntN(4) {
			off := 2*ps + rng.Int64N(size-2*ps)
			patches[off] = img[off] ^ byte(1+rng.IntN(255))
		}
		cases = append(cases, storeDamageCase{name: fmt.Sprintf("random %d: %d bytes flipped", i, len(patches)), patches: patches})
	}
	for i, id := range leaves {
		rng := rand.New(rand.NewPCG(23, uint64(i)))
		p := img[id*ps:]
		count := int64(ne.Uint16(p[10:]))
		for range 2 {
			if count == 0 {
				break
			}
			e := 16 + 16*rng.Int64N(count)
			pos, ksize := int64(ne.Uint32(p[e+4:])), int64(ne.Uint32(p[e+8:]))
			if ksize == 0 || e+pos+ksize > ps {
				continue
			}
			off := id*ps + e + pos + rng.Int64N(ksize)
			cases = append(cases, storeDamageCase{name: fmt.Sprintf("leaf page %d: a key byte flipped", id), patches: map[int64]byte{off: img[off] ^ byte(1+rng.IntN(255))}})
		}
	}
	for i, id := range branches {
		rng := rand.New(rand.NewPCG(29, uint64(i)))
		p := img[id*ps:]
		count := int64(ne.Uint16(p[10:]))
		for range 3 {
			// A byte of the element table or of the keys.
			e := 16 + 16*rng.Int64N(count)
			off := id*ps + e + rng.Int64N(16)
			if rng.IntN(2) == 0 {
				pos, ksize := int64(ne.Uint32(p[e:])), int64(ne.Uint32(p[e+4:]))
				if ksize > 0 && e+pos+ksize <= ps {
					off = id*ps + e + pos + rng.Int64N(ksize)
				}
			}
			cases = append(cases, storeDamageCase{name: fmt.Sprintf("branch page %d: byte %d flipped", id, off-id*ps), patches: map[int64]byte{off: img[off] ^ byte(1+rng.IntN(255))}})
		}
	}
	var names []string
	{
		dir := t.TempDir()
		p := filepath.Join(dir, "copy.db")
		if err := os.WriteFile(p, img, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := bolt.Open(p, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		db.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				names = append(names, string(name))
				return nil
			})
		})
		db.Close()
	}
	for _, name := range names {
		if name == "meta" {
			continue // then the file is no store: refused as ErrNotStore
		}
		cases = append(cases, storeDamageCase{name: "bucket " + name + " missing", edit: func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte(name)) }})
	}
	return cases
}

// Outcomes of a store damage case.
const (
	sdRefused  = "refused"  // Open failed
	sdReadFail = "readfail" // a read failed with ErrCorrupt
	sdSame     = "same"     // read everything, the content unchanged
	sdOlder    = "older"    // read everything as of the transaction before the last
	sdSilent   = "silent"   // read everything, other content, no error
	sdBad      = "bad"      // a read failed with another error
)

func runStoreDamageCase(dir string, img []byte, c storeDamageCase, prev, last string) (string, string) {
	path := filepath.Join(dir, "case.db")
	data := bytes.Clone(img)
	for off, b := range c.patches {
		data[off] = b
	}
	if c.size > 0 {
		data = data[:c.size]
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return sdBad, err.Error()
	}
	if c.edit != nil {
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			return sdBad, err.Error()
		}
		err = db.Update(c.edit)
		db.Close()
		if err != nil {
			return sdBad, err.Error()
		}
	}
	s, err := store.Open(path, &store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return sdRefused, err.Error()
	}
	defer s.Close()
	dump, err := storeDump(s)
	switch {
	case errors.Is(err, store.ErrCorrupt):
		return sdReadFail, err.Error()
	case err != nil:
		return sdBad, err.Error()
	case dump == last:
		return sdSame, ""
	case dump == prev:
		return sdOlder, ""
	}
	a, b := strings.Split(last, "\n"), strings.Split(dump, "\n")
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			j := 0
			for j < min(len(a[i]), len(b[i])) && a[i][j] == b[i][j] {
				j++
			}
			from := max(0, j-80)
			return sdSilent, fmt.Sprintf("line %d: …%.160s, want …%.160s", i, b[i][from:], a[i][from:])
		}
	}
	return sdSilent, fmt.Sprintf("%d lines, want %d", len(b), len(a))
}

func TestStoreDamage(t *testing.T) {
	if base := os.Getenv(envStoreDamage); base != "" {
		storeDamageChild(t, base)
		return
	}
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	base := filepath.Join(dir, "base.db")
	buildDamageBase(t, base)
	img, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	cases := storeDamageCases(t, img)
	results := testutil.RunCases(t, len(cases), time.Minute, func(ctx context.Context, from int) *exec.Cmd {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestStoreDamage$", "-test.count=1")
		cmd.Env = append(testutil.ChildEnv(), envStoreDamage+"="+base, envStoreDamageFrom+"="+strconv.Itoa(from))
		return cmd
	})
	counts := map[string]int{}
	for i, r := range results {
		counts[r.Outcome]++
		switch r.Outcome {
		case sdSilent:
			t.Errorf("%s: opened and served other content without an error: %s", cases[i].name, r.Detail)
		case sdBad:
			t.Errorf("%s: an error not wrapping ErrCorrupt: %s", cases[i].name, r.Detail)
		case testutil.OutcomeCrashed:
			t.Errorf("%s: the child crashed: %s", cases[i].name, r.Detail)
		}
	}
	t.Logf("%d damaged copies: %d refused by Open, %d failed a read with ErrCorrupt, %d read the same content, %d read as of the transaction before the last (bbolt's fallback to the older meta page), %d served other content silently, %d other errors",
		len(cases), counts[sdRefused], counts[sdReadFail], counts[sdSame], counts[sdOlder], counts[sdSilent], counts[sdBad])
}

func storeDamageChild(t *testing.T, base string) {
	img, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, err := store.Open(base, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	last, err := storeDump(s)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The content as of the transaction before the last: the base with
	// its newest meta page invalid.
	ps, _, _ := bboltPages(t, img)
	older := bytes.Clone(img)
	ne := binary.NativeEndian
	newest := int64(0)
	if ne.Uint64(img[ps+16+48:]) > ne.Uint64(img[16+48:]) {
		newest = ps
	}
	older[newest+16] ^= 0xff // the magic number
	prevPath := filepath.Join(dir, "prev.db")
	if err := os.WriteFile(prevPath, older, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(prevPath, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	prev, err := storeDump(s)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	from, _ := strconv.Atoi(os.Getenv(envStoreDamageFrom))
	cases := storeDamageCases(t, img)
	for i := from; i < len(cases); i++ {
		testutil.StartCase(i, cases[i].name)
		out, detail := runStoreDamageCase(dir, img, cases[i], prev, last)
		testutil.DoneCase(i, out, detail)
	}
}

// damageStore closes s, changes its file through bbolt and reopens it
// (read-write unless readOnly); the reopened store is closed at cleanup.
func damageStore(t *testing.T, s *store.Store, readOnly bool, fn func(tx *bolt.Tx) error) (*store.Store, error) {
	t.Helper()
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(fn)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(path, &store.Options{ReadOnly: readOnly})
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

func checkSays(t *testing.T, s *store.Store, want string) {
	t.Helper()
	var text []string
	for _, p := range s.Check(t.Context()) {
		if !errors.Is(p, store.ErrCorrupt) {
			t.Errorf("Check: %v, not wrapping ErrCorrupt", p)
		}
		text = append(text, p.Error())
	}
	if all := strings.Join(text, "\n"); !strings.Contains(all, want) {
		t.Errorf("Check missed %q; it said:\n%s", want, all)
	}
}

func wantCorrupt(t *testing.T, what string, err error, says string) {
	t.Helper()
	if !errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), says) {
		t.Errorf("%s = %v, want ErrCorrupt saying %q", what, err, says)
	}
}

// A record moved under another key fails its checksum, which covers the
// bucket and the key.
func TestDamagedRecordKey(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "key.db"), nil)
	f := mkFlow(t, s, "a")
	mkFlow(t, s, "b")
	moved := f.PK
	moved[15] ^= 0x40
	s, err := damageStore(t, s, false, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("flows"))
		v := bytes.Clone(b.Get(f.PK[:]))
		if err := b.Delete(f.PK[:]); err != nil {
			return err
		}
		return b.Put(moved[:], v)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = listIn(t.Context(), s, store.Flows, store.Query{Ordering: "title"}) // a scan of the records
	wantCorrupt(t, "ListFlows ordered by title", err, "flows record "+moved.String()+": kv: database is damaged: checksum mismatch")
	_, err = listIn(t.Context(), s, store.Flows, store.Query{}) // the slug index's walk
	wantCorrupt(t, "ListFlows", err, "it lists flow "+f.PK.String()+", which is not stored")
}

// A new store holds every declared bucket, so that one missing is damage:
// ErrCorrupt on every read and write of it, and in Check; nothing creates
// it afresh.
func TestDamagedMissingBucket(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "bucket.db"), nil)
	mkFlow(t, s, "a")
	ctx := t.Context()
	if _, err := createIn(ctx, s, store.Prompts, stage.Prompt{Name: "p", FieldKey: "k", Label: "K", Type: stage.PromptType("text")}); err != nil {
		t.Fatal(err)
	}
	s, err := damageStore(t, s, false, func(tx *bolt.Tx) error {
		for _, name := range []string{"prompts", "invites", "policies", "changes"} {
			if tx.Bucket([]byte(name)) == nil {
				return fmt.Errorf("a new store has no bucket %q", name)
			}
		}
		return tx.DeleteBucket([]byte("prompts"))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *store.Tx) error { _, err := store.Prompts.List(tx, store.Query{}); return err })
	wantCorrupt(t, "ListPrompts", err, `bucket "prompts" is missing`)
	_, err = viewIn(ctx, s, store.Prompts, store.PK(uuid.New()))
	wantCorrupt(t, "GetPrompt", err, `bucket "prompts" is missing`)
	_, err = createIn(ctx, s, store.Prompts, stage.Prompt{Name: "q", FieldKey: "k", Label: "K", Type: stage.PromptType("text")})
	wantCorrupt(t, "CreatePrompt", err, `bucket "prompts" is missing`)
	checkSays(t, s, `bucket "prompts" is missing`)
	if _, err := listIn(ctx, s, store.Flows, store.Query{}); err != nil {
		t.Errorf("ListFlows beside the missing bucket: %v", err)
	}
}

// A list that walks a whole collection compares what it saw with the
// kept count.
func TestDamagedCount(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "count.db"), nil)
	f := mkFlow(t, s, "a")
	mkFlow(t, s, "b")
	st := mkUserWrite(t, s, "w")
	mkBinding(t, s, f.PK, st.PK, 1)
	s, err := damageStore(t, s, false, func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte("counts"))
		if err := c.Put([]byte("flows"), []byte{0, 0, 0, 0, 0, 0, 0, 1}); err != nil {
			return err
		}
		return c.Delete(append([]byte("bindings_by_stage\x00"), st.PK[:]...))
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	_, err = listIn(ctx, s, store.Flows, store.Query{})
	wantCorrupt(t, "ListFlows", err, "the count says 1, the index holds more")
	_, err = listIn(ctx, s, store.Flows, store.Query{Ordering: "title"})
	wantCorrupt(t, "ListFlows ordered by title", err, "the count says 1 objects, a scan found 2")
	_, err = viewIn(ctx, s, store.Stages, store.PK(st.PK)) // its flow_set
	wantCorrupt(t, "GetStage", err, "the count of "+fmt.Sprintf("%x", st.PK[:])+" says 0 keys, there are 1")
}

// The change log's last entry and the meta bucket agree on the store's
// revision: a lost newest entry is found by Open, before a write could
// reuse its revision. Check verifies every entry's checksum, and that no
// record is newer than the log.
func TestDamagedChangeLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.db")
	s := openTestStore(t, path, nil)
	f := mkFlow(t, s, "a")
	mkFlow(t, s, "b")
	lastKey := func(tx *bolt.Tx) []byte {
		k, _ := tx.Bucket([]byte("changes_recent")).Cursor().Last()
		return bytes.Clone(k)
	}
	_, err := damageStore(t, s, false, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("changes_recent")).Delete(lastKey(tx))
	})
	wantCorrupt(t, "Open with the log's newest entry lost", err, "the change log ends at revision 1, the store is at revision 2")

	s = openTestStore(t, filepath.Join(t.TempDir(), "log2.db"), nil)
	f = mkFlow(t, s, "a")
	mkFlow(t, s, "b")
	s, err = damageStore(t, s, false, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("changes_recent"))
		k, _ := b.Cursor().First()
		v := bytes.Clone(b.Get(k))
		v[len(v)-1] ^= 0x01 // a byte of the model's name
		if err := b.Put(k, v); err != nil {
			return err
		}
		rec := tx.Bucket([]byte("flows"))
		js := rec.Get(f.PK[:])[13:]
		return rec.Put(f.PK[:], store.SealRecord("flows", f.PK[:], js, 7))
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range s.Watch(t.Context(), 0) {
		wantCorrupt(t, "Watch over a damaged entry", err, "checksum mismatch")
		break
	}
	checkSays(t, s, "changes_recent: store: change log entry 000000000000000100000000: kv: database is damaged: checksum mismatch")
	checkSays(t, s, "flows record "+f.PK.String()+": kv: database is damaged: written at revision 7, after the change log's last (2)")
}

// A file of format 4 is upgraded by a writable Open: its missing buckets
// are created and its revision recorded; a read-only Open refuses it.
func TestUpgradeFormat4(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v4.db")
	s := openTestStore(t, path, nil)
	mkFlow(t, s, "a")
	_, err := damageStore(t, s, true, store.DowngradeToFormat4)
	if !errors.Is(err, store.ErrVersion) {
		t.Fatalf("read-only Open of format 4 = %v, want ErrVersion", err)
	}
	s, err = store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Check(t.Context()); len(p) != 0 {
		t.Errorf("Check after the upgrade: %v", p)
	}
	mkFlow(t, s, "b")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int64
	err = s.View(t.Context(), func(tx *store.Tx) (err error) { n, err = tx.Revision(); return err })
	if err != nil || n != 2 {
		t.Errorf("Revision after the upgrade and a write = %d, %v; want 2", n, err)
	}
}

// The entries a view reads without the object are checked: an ordered
// index's value (a flow's stages) by its checksum, the reference index
// (a policy's bound_to, a delete's cascade) by its kept count per target
// and the fields it may name.
func TestDamagedIndexEntries(t *testing.T) {
	ctx := context.Background()
	build := func(t *testing.T) (*store.Store, uuid.UUID, uuid.UUID) {
		s := openTestStore(t, filepath.Join(t.TempDir(), "entries.db"), nil)
		f := mkFlow(t, s, "a")
		st := mkUserWrite(t, s, "w")
		mkBinding(t, s, f.PK, st.PK, 1)
		p, err := createIn(ctx, s, store.Policies, policy.Policy{Name: "allow", Config: policy.Expression{Expression: "return True"}})
		if err != nil {
			t.Fatal(err)
		}
		b := policy.DefaultBinding()
		b.Policy, b.Target = &p.PK, f.PolicyBindingModelPtrID
		if _, err := createIn(ctx, s, store.PolicyBindings, b); err != nil {
			t.Fatal(err)
		}
		return s, f.PK, p.PK
	}
	t.Run("stage value", func(t *testing.T) {
		s, f, _ := build(t)
		s, err := damageStore(t, s, false, func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("bindings_by_flow"))
			k, v := b.Cursor().First()
			v = bytes.Clone(v)
			v[3] ^= 0x01 // the stage's pk
			return b.Put(bytes.Clone(k), v)
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = viewIn(ctx, s, store.Flows, store.PK(f))
		wantCorrupt(t, "GetFlow", err, "fails its checksum")
	})
	t.Run("reference key", func(t *testing.T) {
		s, _, p := build(t)
		s, err := damageStore(t, s, false, func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("refs"))
			c := b.Cursor()
			for k, v := c.Seek(p[:]); k != nil && bytes.HasPrefix(k, p[:]); k, v = c.Next() {
				moved := bytes.Clone(k)
				moved[len(moved)-1] ^= 0x01 // "policy" -> "policx"
				v = bytes.Clone(v)
				if err := b.Delete(bytes.Clone(k)); err != nil {
					return err
				}
				return b.Put(moved, v)
			}
			return errors.New("no reference to the policy")
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = viewIn(ctx, s, store.Policies, store.PK(p))
		wantCorrupt(t, "GetPolicy", err, "names no reference field")
		_, err = readIn(ctx, s, func(tx *store.Tx) (store.Impact, error) { return tx.DeleteImpact(store.ModelPolicy, p) })
		wantCorrupt(t, "DeleteImpact", err, "names no reference field")
	})
	t.Run("reference lost", func(t *testing.T) {
		s, _, p := build(t)
		s, err := damageStore(t, s, false, func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("refs"))
			k, _ := b.Cursor().Seek(p[:])
			return b.Delete(bytes.Clone(k))
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = viewIn(ctx, s, store.Policies, store.PK(p))
		wantCorrupt(t, "GetPolicy", err, "says 1 keys, there are 0")
		err = s.Update(ctx, func(tx *store.Tx) error { return tx.Delete(store.ModelPolicy, p, nil) })
		wantCorrupt(t, "deleting the policy (whose binding the cascade would miss)", err, "says 1 keys, there are 0")
	})
}

// An entry of the policy-binding-model index (pbm id -> pk ‖ collection)
// that is cut short, names no such collection, or names an object whose
// pbm id is another is ErrCorrupt, both for a list filtered by the pbm id
// and for a write naming it: it was read as no such id (a 404's empty
// list, a 400), or as the object it named, so that a policy binding was
// made on another flow.
func TestDamagedPBMEntry(t *testing.T) {
	for name, value := range map[string]func(other uuid.UUID) []byte{
		"cut short":     func(other uuid.UUID) []byte { return other[:15] },
		"no collection": func(other uuid.UUID) []byte { return append(other[:], "nope"...) },
		"another flow":  func(other uuid.UUID) []byte { return append(other[:], "flows"...) },
	} {
		t.Run(name, func(t *testing.T) {
			s := openTestStore(t, filepath.Join(t.TempDir(), "pbm.db"), nil)
			f := mkFlow(t, s, "a")
			g := mkFlow(t, s, "b")
			var gate uuid.UUID
			err := s.Update(t.Context(), func(tx *store.Tx) error {
				var err error
				gate, err = tx.Create(string(policy.ModelDummy), []byte(`{"name": "gate"}`), nil)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			pbm := f.PolicyBindingModelPtrID
			s, err = damageStore(t, s, false, func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("pbm")).Put(pbm[:], value(g.PK))
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = listIn(t.Context(), s, store.PolicyBindings, store.Query{Filters: map[string]string{"target": pbm.String()}})
			wantCorrupt(t, "ListPolicyBindings by the pbm id", err, "pbm")
			err = s.Update(t.Context(), func(tx *store.Tx) error {
				_, err := tx.Create(store.ModelPolicyBinding, fmt.Appendf(nil, `{"target": %q, "policy": %q, "order": 0}`, pbm, gate), nil)
				return err
			})
			wantCorrupt(t, "a policy binding on the pbm id", err, "pbm")
		})
	}
}

// A slug index entry damaged to name another flow is ErrCorrupt: the
// flow found by slug must have that slug, or a GET by slug showed, and a
// PATCH by slug changed, the other flow.
func TestDamagedSlugEntry(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "slug.db"), nil)
	mkFlow(t, s, "a")
	g := mkFlow(t, s, "b")
	s, err := damageStore(t, s, false, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("flows_by_slug")).Put([]byte("a"), g.PK[:])
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = viewIn(t.Context(), s, store.Flows, store.By("slug", "a"))
	wantCorrupt(t, "GetFlowBySlug", err, "flows_by_slug")
	_, err = patchIn(t.Context(), s, store.Flows, store.By("slug", "a"), []byte(`{"title": "changed"}`))
	wantCorrupt(t, "PatchFlow", err, "flows_by_slug")
	if f, err := viewIn(t.Context(), s, store.Flows, store.PK(g.PK)); err != nil || f.Title != g.Title {
		t.Errorf("the other flow: %v, %v", f.Title, err)
	}
}

// A host collection's records and index entries carry the same checks as
// a built-in's: a flipped byte is ErrCorrupt on the read and in Check.
func TestDamagedHostCollection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.db")
	opts := &store.Options{Collections: []store.Declarer{noteDecl()}}
	s := openTestStore(t, path, opts)
	var n note
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		var err error
		n, err = notes.Create(tx, note{Title: "a", Rank: 1}, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs := s.Check(t.Context()); len(errs) > 0 {
		t.Fatalf("check of the sound store: %v", errs)
	}
	s.Close()
	for _, bucket := range []string{"acme_notes.note", "acme_notes.note:unique:title", "acme_notes.note:by:rank"} {
		t.Run(bucket, func(t *testing.T) {
			img, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "damaged.db")
			if err := os.WriteFile(p, img, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(p, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte(bucket))
				if b == nil {
					return fmt.Errorf("no bucket %s", bucket)
				}
				k, v := b.Cursor().First()
				if k == nil {
					return fmt.Errorf("bucket %s is empty", bucket)
				}
				k, v = bytes.Clone(k), bytes.Clone(v)
				if len(v) > 0 {
					v[len(v)/2] ^= 0x01
					return b.Put(k, v)
				}
				if err := b.Delete(k); err != nil {
					return err
				}
				k[len(k)-1] ^= 0x01 // an entry without a value: its pk
				return b.Put(k, v)
			})
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			s, err := store.Open(p, &store.Options{ReadOnly: true, Collections: []store.Declarer{noteDecl()}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			checkSays(t, s, bucket)
			err = s.View(t.Context(), func(tx *store.Tx) error {
				if bucket == "acme_notes.note" {
					_, err := notes.Get(tx, store.PK(n.PK))
					return err
				}
				if bucket == "acme_notes.note:unique:title" {
					_, err := notes.Get(tx, store.By("title", "a"))
					return err
				}
				_, err := notes.List(tx, store.Query{})
				return err
			})
			if !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("read through %s: %v, want ErrCorrupt", bucket, err)
			}
		})
	}
}
