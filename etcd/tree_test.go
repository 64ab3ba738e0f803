package etcd

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// The tree against a plain map, over random puts, deletes and scans; the
// versions shared along the way stay as they were.
func TestTree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var d draft
	ref := map[string]string{}
	type version struct {
		t   tree
		ref map[string]string
	}
	var versions []version
	key := func() string { return fmt.Sprintf("k%03d", r.IntN(300)) }
	for i := range 5000 {
		k := key()
		if r.IntN(3) == 0 {
			d.del(k)
			delete(ref, k)
		} else {
			v := fmt.Sprint(i)
			d.put(k, []byte(v), int64(i))
			ref[k] = v
		}
		if i%100 == 0 {
			versions = append(versions, version{d.share(), maps.Clone(ref)})
		}
		if i%50 == 0 {
			check(t, d.t, ref, key(), key())
		}
	}
	for _, v := range versions {
		check(t, v.t, v.ref, "", "\xff")
	}
}

func check(t *testing.T, tr tree, ref map[string]string, lo, hi string) {
	t.Helper()
	var want []string
	for k := range ref {
		if k >= lo && k < hi {
			want = append(want, k+"="+ref[k])
		}
	}
	slices.Sort(want)
	var got []string
	tr.ascend(lo, hi, func(e entry) bool { got = append(got, e.key+"="+string(e.val)); return true })
	if !slices.Equal(got, want) {
		t.Fatalf("ascend [%q,%q): %v, want %v", lo, hi, got, want)
	}
	got = got[:0]
	tr.descend(lo, hi, func(e entry) bool { got = append(got, e.key+"="+string(e.val)); return true })
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Fatalf("descend [%q,%q): %v, want %v", lo, hi, got, want)
	}
	for k, v := range ref {
		if e, ok := tr.get(k); !ok || string(e.val) != v {
			t.Fatalf("get %q: %v, want %q", k, e, v)
		}
	}
	// Stopping early, either way.
	for _, walk := range []func(string, string, func(entry) bool){tr.ascend, tr.descend} {
		n := 0
		walk(lo, hi, func(entry) bool { n++; return n < 3 })
		if n != min(3, len(want)) {
			t.Fatalf("stopped after %d of %d", n, len(want))
		}
	}
}

// A scan's bounds: lo is in, hi is out, either way, and an empty or
// inverted range holds nothing.
func TestTreeBounds(t *testing.T) {
	var d draft
	for _, k := range []string{"a", "b", "c", "d"} {
		d.put(k, []byte(k), 1)
	}
	for _, c := range []struct {
		lo, hi string
		want   []string
	}{
		{"b", "d", []string{"b", "c"}},
		{"a", "a\x00", []string{"a"}},
		{"", "\xff", []string{"a", "b", "c", "d"}},
		{"bb", "cc", []string{"c"}},
		{"c", "c", nil},
		{"d", "a", nil},
	} {
		var up, down []string
		d.t.ascend(c.lo, c.hi, func(e entry) bool { up = append(up, e.key); return true })
		d.t.descend(c.lo, c.hi, func(e entry) bool { down = append(down, e.key); return true })
		slices.Reverse(down)
		if !slices.Equal(up, c.want) || !slices.Equal(down, c.want) {
			t.Errorf("[%q,%q): ascend %q, descend reversed %q, want %q", c.lo, c.hi, up, down, c.want)
		}
	}
	var empty tree
	if _, ok := empty.get("a"); ok {
		t.Error("the empty tree has a key")
	}
	empty.ascend("", "\xff", func(entry) bool { t.Error("the empty tree has a key"); return true })
	empty.descend("", "\xff", func(entry) bool { t.Error("the empty tree has a key"); return true })
}

// A version being scanned does not change when the draft it came from
// changes during the scan, and the draft sees its own changes.
func TestDraftShare(t *testing.T) {
	var d draft
	for i := range 1000 {
		d.put(fmt.Sprintf("k%04d", i), []byte("old"), 1)
	}
	n := 0
	d.share().ascend("", "\xff", func(e entry) bool {
		if string(e.val) != "old" {
			t.Fatalf("%s changed during the scan", e.key)
		}
		n++
		d.put(e.key+"+", []byte("new"), 2) // the next key
		d.put(fmt.Sprintf("k%04d", 999-n), []byte("new"), 2)
		d.del(e.key)
		return true
	})
	if n != 1000 {
		t.Errorf("scanned %d keys, want 1000", n)
	}
	if e, _ := d.t.get("k0001+"); string(e.val) != "new" {
		t.Errorf("the draft reads %q, want its own change", e.val)
	}
	if _, ok := d.t.get("k0999"); ok {
		t.Error("the draft reads a key it deleted")
	}
}

// Many goroutines may change drafts of one published version at once
// (run with -race), and each change stays in its own draft.
func TestDraftConcurrent(t *testing.T) {
	var d draft
	for i := range 1000 {
		d.put(fmt.Sprintf("k%04d", i), []byte("v"), 1)
	}
	published := d.share()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			d := draft{t: published}
			for i := range 100 {
				d.put(fmt.Sprintf("k%04d", i*10+g), []byte(fmt.Sprint(g)), 2)
				d.del(fmt.Sprintf("k%04d", i*10+5))
			}
			if e, _ := d.t.get(fmt.Sprintf("k%04d", 10+g)); string(e.val) != fmt.Sprint(g) {
				t.Errorf("draft %d reads %q", g, e.val)
			}
		})
	}
	wg.Wait()
	n := 0
	published.ascend("", "\xff", func(e entry) bool {
		if string(e.val) != "v" {
			t.Errorf("%s changed in the published version", e.key)
		}
		n++
		return true
	})
	if n != 1000 {
		t.Errorf("published version has %d keys, want 1000", n)
	}
}
