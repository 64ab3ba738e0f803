package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/store/kv/kvtest"
)

// scanBatched visits what the backend's own Scan visits, in the same
// order, across batches (a small batch here), forward and in reverse,
// from a start key or not, stopping where fn stops, and passes fn's
// error on.
func TestScanBatched(t *testing.T) {
	defer func(n int) { scanBatch = n }(scanBatch)
	scanBatch = 3
	db := kvtest.Mem(0)
	ctx := t.Context()
	err := db.Update(ctx, func(tx kv.Tx) error {
		for i := range 20 {
			for _, p := range []string{"a", "b", "c"} {
				if err := tx.Put("bk", fmt.Appendf(nil, "%s%02d", p, i), fmt.Appendf(nil, "v%s%d", p, i)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	collect := func(scan func(fn func(k, v []byte) (bool, error)) error, stopAt int) ([]string, error) {
		var got []string
		err := scan(func(k, v []byte) (bool, error) {
			got = append(got, string(k)+"="+string(v))
			return len(got) != stopAt, nil
		})
		return got, err
	}
	for _, r := range []kv.Range{
		{}, {Reverse: true},
		{Prefix: []byte("b")}, {Prefix: []byte("b"), Reverse: true},
		{Prefix: []byte("b"), Start: []byte("b07")}, {Prefix: []byte("b"), Start: []byte("b07"), Reverse: true},
		{Start: []byte("b19")}, {Start: []byte("a00"), Reverse: true},
		{Prefix: []byte("d")}, {Prefix: []byte("b1"), Reverse: true},
	} {
		for _, stopAt := range []int{0, 1, 3, 4, 7} {
			err := db.View(ctx, func(tx kv.Tx) error {
				want, err := collect(func(fn func(k, v []byte) (bool, error)) error { return tx.Scan("bk", r, fn) }, stopAt)
				if err != nil {
					return err
				}
				got, err := collect(func(fn func(k, v []byte) (bool, error)) error { return scanBatched(tx, "bk", r, fn) }, stopAt)
				if err != nil {
					return err
				}
				if !slices.Equal(got, want) {
					t.Errorf("range %q..%q reverse %v, stopping at %d: got %q, want %q", r.Prefix, r.Start, r.Reverse, stopAt, got, want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	errMine := errors.New("mine")
	err = db.View(ctx, func(tx kv.Tx) error {
		n := 0
		return scanBatched(tx, "bk", kv.Range{}, func(k, v []byte) (bool, error) {
			if n++; n == 5 {
				return false, errMine
			}
			return true, nil
		})
	})
	if !errors.Is(err, errMine) {
		t.Errorf("scanBatched with fn failing: %v; want fn's error", err)
	}
}
