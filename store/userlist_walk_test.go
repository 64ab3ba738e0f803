package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/store/kv/kvtest"
)

// readCounter counts the reads of one bucket's records.
type readCounter struct {
	kv.DB
	bucket string
	gets   atomic.Int64
}

type countedTx struct {
	kv.Tx
	c *readCounter
}

func (c *readCounter) View(ctx context.Context, fn func(kv.Tx) error) error {
	return c.DB.View(ctx, func(tx kv.Tx) error { return fn(countedTx{tx, c}) })
}

func (t countedTx) Get(bucket string, key []byte) ([]byte, error) {
	if bucket == t.c.bucket {
		t.c.gets.Add(1)
	}
	return t.Tx.Get(bucket, key)
}

func (t countedTx) Scan(bucket string, r kv.Range, fn func(k, v []byte) (bool, error)) error {
	return t.Tx.Scan(bucket, r, func(k, v []byte) (bool, error) {
		if bucket == t.c.bucket {
			t.c.gets.Add(1)
		}
		return fn(k, v)
	})
}

// A page of users in the default ordering (username) is read from the
// username index: it reads the page's users, not every user, and pages
// agree with sorting.
func TestUserListWalksTheIndex(t *testing.T) {
	db := &readCounter{DB: kvtest.Mem(0), bucket: "users"}
	s, err := store.New(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var names []string
	err = s.Update(t.Context(), func(tx *store.Tx) error {
		for i := range 300 {
			n := fmt.Sprintf("u%03d", (i*7919)%300)
			names = append(names, n)
			if _, err := store.Users.CreateJSON(tx, fmt.Appendf(nil, `{"username":%q,"name":"x"}`, n), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	db.gets.Store(0)
	var got []string
	for page := 1; page <= 3; page++ {
		err := s.View(t.Context(), func(tx *store.Tx) error {
			p, err := store.Users.List(tx, store.Query{Page: page, PageSize: 10})
			for _, u := range p.Results {
				got = append(got, u.Username)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(got, names[:30]) {
		t.Errorf("pages = %v, want %v", got, names[:30])
	}
	if n := db.gets.Load(); n > 60 {
		t.Errorf("three pages of 10 read %d user records (of 300)", n)
	}
}
