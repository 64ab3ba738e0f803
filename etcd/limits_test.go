package etcd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/etcd/internal/etcdtest"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/kv"
	"go.etcd.io/etcd/server/v3/embed"
)

// A transaction beyond etcd's limits (operations per transaction, request
// size) fails as a whole with an error wrapping kv.ErrTooLarge that names
// the server flag, and writes nothing.
func TestLimits(t *testing.T) {
	ctx := context.Background()
	c := etcdtest.Start(t, 1, &etcdtest.Options{Configure: func(cfg *embed.Config) {
		cfg.MaxTxnOps = embed.DefaultMaxTxnOps
		cfg.MaxRequestBytes = embed.DefaultMaxRequestBytes
	}})
	db := openDB(t, c, nextPrefix())
	defer db.Close()
	for _, tc := range []struct {
		name, flag string
		n, size    int
	}{
		{"operations", "--max-txn-ops", 200, 10},
		{"request bytes", "--max-request-bytes", 2, 900 << 10},
		{"message size", "", 3, kv.MaxValueSize},
	} {
		err := db.Update(ctx, func(tx kv.Tx) error {
			for i := range tc.n {
				if err := tx.Put("big", fmt.Appendf(nil, "k%04d", i), bytes.Repeat([]byte{'v'}, tc.size)); err != nil {
					return err
				}
			}
			return nil
		})
		if !errors.Is(err, kv.ErrTooLarge) || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("%s: %v; want kv.ErrTooLarge naming %q", tc.name, err, tc.flag)
		}
		t.Logf("%s: %v", tc.name, err)
		if err := db.View(ctx, func(tx kv.Tx) error {
			return tx.Scan("big", kv.Range{}, func(k, _ []byte) (bool, error) {
				return false, fmt.Errorf("%s: key %s was written", tc.name, k)
			})
		}); err != nil {
			t.Error(err)
		}
	}
	// Through the store: a transaction of many objects is refused whole.
	s, err := store.New(openDB(t, c, nextPrefix()), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(ctx, func(tx *store.Tx) error {
		for i := range 40 {
			if _, err := store.Flows.CreateJSON(tx, fmt.Appendf(nil, `{"name":"f%d","slug":"f%d","title":"t","designation":"authentication"}`, i, i), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("40 flows in one transaction on etcd's defaults: %v; want store.ErrTooLarge", err)
	}
	var page store.Page[flow.View]
	err = s.View(ctx, func(tx *store.Tx) error {
		page, err = store.Flows.List(tx, store.Query{})
		return err
	})
	if err != nil || len(page.Results) != 0 {
		t.Errorf("after the refused transaction: %d flows, %v", len(page.Results), err)
	}
}

// The HTTP adapter over etcd: ETag and If-Match as on bbolt, 413 for a
// change beyond etcd's limits, 503 for a commit whose outcome is unknown.
func TestAPIOverEtcd(t *testing.T) {
	ctx := context.Background()
	c := etcdtest.Start(t, 1, nil)
	co := newCutOff(t, c, 500*time.Millisecond)
	srv := httptest.NewServer(api.NewHandler(co.s, nil))
	defer srv.Close()
	do := func(method, path, ifMatch, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+"/api/v3/"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, _ := do("GET", "flows/instances/login/", "", "")
	etag := res.Header.Get("ETag")
	if res.StatusCode != 200 || etag == "" {
		t.Fatalf("GET: %d, ETag %q", res.StatusCode, etag)
	}
	if res, body := do("PATCH", "flows/instances/login/", etag, `{"title":"one"}`); res.StatusCode != 200 {
		t.Fatalf("PATCH with the current ETag: %d %s", res.StatusCode, body)
	}
	if res, body := do("PATCH", "flows/instances/login/", etag, `{"title":"two"}`); res.StatusCode != 412 {
		t.Errorf("PATCH with a stale ETag: %d %s; want 412", res.StatusCode, body)
	}
	if res, body := do("PATCH", "flows/instances/login/", "", `{"title":"three"}`); res.StatusCode != 200 {
		t.Errorf("PATCH without If-Match: %d %s", res.StatusCode, body)
	}

	// A create beyond a server's --max-txn-ops of 4 (a flow is a record,
	// its unique slug, its list index entries and its change).
	small := etcdtest.Start(t, 1, &etcdtest.Options{Configure: func(cfg *embed.Config) { cfg.MaxTxnOps = 4 }})
	tiny := httptest.NewServer(api.NewHandler(newStore(t, small, nextPrefix()), nil))
	defer tiny.Close()
	res, err := tiny.Client().Post(tiny.URL+"/api/v3/flows/instances/", "application/json",
		strings.NewReader(`{"name":"big","slug":"big","title":"t","designation":"recovery"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "too large for the store") {
		t.Errorf("a create beyond --max-txn-ops=4: %d %s; want 413", res.StatusCode, b)
	}

	co.arm(func() {
		co.proxy.refuse.Store(true)
		co.proxy.dropUp.Store(true)
	})
	res, body := do("PATCH", "flows/instances/login/", "", `{"title":"cut"}`)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "applied whole or not at all") {
		t.Errorf("a cut-off PATCH: %d %s; want 503", res.StatusCode, body)
	}
}
