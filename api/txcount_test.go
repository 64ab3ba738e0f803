package api_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/store/kv/kvtest"
	"github.com/authflow/authflow/store/storetest"
)

// TestOneTransactionPerRequest: past the permission checks, a request is
// one store transaction: a GET reads the object and its ETag's revision
// in one read, a write renders the object and learns its commit revision
// in one update, a list is one read.
func TestOneTransactionPerRequest(t *testing.T) {
	db := &countingDB{DB: kvtest.Mem(0)}
	s, err := store.New(db, &store.Options{NewID: storetest.CounterIDs(storesOpened.Add(1)<<32+1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := setup(&client{t: t, h: api.NewHandler(s, nil)})
	flow := "/api/v3/flows/instances/" + f.flowSlug + "/"
	userWrite := "/api/v3/stages/user_write/" + f.userWrite + "/"
	for _, tt := range []struct {
		method, path, body string
		status             int
		views, updates     int64
	}{
		{"GET", flow, "", http.StatusOK, 1, 0},
		{"GET", userWrite, "", http.StatusOK, 1, 0},
		{"GET", "/api/v3/stages/all/" + f.userWrite + "/", "", http.StatusOK, 1, 0},
		{"PATCH", flow, `{"title": "Changed"}`, http.StatusOK, 0, 1},
		{"PATCH", flow, `{"title": "Changed"}`, http.StatusOK, 0, 1}, // no change
		{"PATCH", userWrite, `{"name": "changed"}`, http.StatusOK, 0, 1},
		{"PUT", userWrite, userWriteBody, http.StatusOK, 0, 1},
		{"GET", "/api/v3/flows/instances/", "", http.StatusOK, 1, 0},
		{"GET", "/api/v3/stages/all/", "", http.StatusOK, 1, 0},
		{"POST", flow + "set_background_url/", `{"url": "https://example.com/bg.png"}`, http.StatusOK, 0, 1},
		{"GET", flow + "used_by/", "", http.StatusOK, 1, 0},
		{"POST", "/api/v3/stages/prompt/prompts/", `{"name": "p", "field_key": "k", "label": "K", "type": "text"}`, http.StatusCreated, 0, 1},
		{"DELETE", "/api/v3/flows/bindings/" + f.bindPK + "/", "", http.StatusNoContent, 0, 1},
	} {
		views, updates := db.views.Load(), db.updates.Load()
		res := f.do(tt.method, tt.path, tt.body)
		views, updates = db.views.Load()-views, db.updates.Load()-updates
		if res.Code != tt.status {
			t.Fatalf("%s %s: status %d, want %d: %s", tt.method, tt.path, res.Code, tt.status, res.Body)
		}
		if views != tt.views || updates != tt.updates {
			t.Errorf("%s %s: %d read and %d write transactions, want %d and %d", tt.method, tt.path, views, updates, tt.views, tt.updates)
		}
		if tt.status != http.StatusOK || tt.path == flow+"used_by/" || bytes.HasPrefix(res.Body, []byte(`{"pagination"`)) {
			continue
		}
		// The ETag is the revision the transaction read or committed
		// at: the store's revision now, as nothing wrote since.
		rev, err := inView(s, func(tx *store.Tx) (int64, error) { return tx.Revision() })
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res.Header.Get("ETag"), `"`+strconv.FormatInt(rev, 10)+`"`; got != want {
			t.Errorf("%s %s: ETag %s, want %s", tt.method, tt.path, got, want)
		}
	}
}

// TestMemDB: the backend of TestOneTransactionPerRequest keeps the
// storage seam's contract.
func TestMemDB(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.DB { return kvtest.Mem(0) })
}

// countingDB counts the transactions run on DB.
type countingDB struct {
	kv.DB
	views, updates atomic.Int64
}

func (db *countingDB) View(ctx context.Context, fn func(kv.Tx) error) error {
	db.views.Add(1)
	return db.DB.View(ctx, fn)
}

func (db *countingDB) Update(ctx context.Context, fn func(kv.Tx) error) error {
	db.updates.Add(1)
	return db.DB.Update(ctx, fn)
}

// TestProtectedDeleteOneTransaction: a delete that a protected reference
// refuses is one update too; the 409 names the object from what that
// transaction found, without a second read.
func TestProtectedDeleteOneTransaction(t *testing.T) {
	db := &countingDB{DB: kvtest.Mem(0)}
	s, err := store.New(db, &store.Options{StageKinds: guardRegistry(), NewID: storetest.CounterIDs(storesOpened.Add(1)<<32+1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := setup(&client{t: t, h: api.NewHandler(s, nil)})
	if _, err := inUpdate(s, func(tx *store.Tx) (stage.Stage, error) {
		return store.Stages.Kind("authflow_test.guardstage").CreateJSON(tx, []byte(`{"name": "g", "flow": "`+f.flowPK+`"}`), nil)
	}); err != nil {
		t.Fatal(err)
	}
	views, updates := db.views.Load(), db.updates.Load()
	res := f.do("DELETE", "/api/v3/flows/instances/"+f.flowSlug+"/", "")
	views, updates = db.views.Load()-views, db.updates.Load()-updates
	if res.Code != http.StatusConflict || !bytes.Contains(res.Body, []byte(`Cannot delete \"Flow Welcome to authentik! (default-authentication-flow)\"`)) {
		t.Fatalf("status %d: %s", res.Code, res.Body)
	}
	if views != 0 || updates != 1 {
		t.Errorf("%d read and %d write transactions, want 0 and 1", views, updates)
	}
}

// TestDirectoryOneTransactionPerRequest: the users' and groups' actions
// are one transaction each too: set_password one write (its hash made
// before it), add_user and remove_user one write, paths one read.
func TestDirectoryOneTransactionPerRequest(t *testing.T) {
	db := &countingDB{DB: kvtest.Mem(0)}
	s, err := store.New(db, &store.Options{Passwords: cheapPasswords, NewID: storetest.CounterIDs(storesOpened.Add(1)<<32+1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &client{t: t, h: api.NewHandler(s, nil)}
	g := c.must(http.StatusCreated, "POST", "/api/v3/core/groups/", `{"name": "staff"}`)["pk"].(string)
	u := strconv.FormatFloat(c.must(http.StatusCreated, "POST", "/api/v3/core/users/", `{"username": "alice", "name": "A"}`)["pk"].(float64), 'f', -1, 64)
	for _, tt := range []struct {
		method, path, body string
		status             int
		views, updates     int64
	}{
		{"POST", "/api/v3/core/users/" + u + "/set_password/", `{"password": "SECRET-x"}`, http.StatusNoContent, 0, 1},
		{"POST", "/api/v3/core/users/" + u + "/set_password/", `{}`, http.StatusNoContent, 0, 1},
		{"POST", "/api/v3/core/groups/" + g + "/add_user/", `{"pk": ` + u + `}`, http.StatusNoContent, 0, 1},
		{"POST", "/api/v3/core/groups/" + g + "/add_user/", `{"pk": ` + u + `}`, http.StatusNoContent, 0, 1}, // no change
		{"POST", "/api/v3/core/groups/" + g + "/remove_user/", `{"pk": ` + u + `}`, http.StatusNoContent, 0, 1},
		{"GET", "/api/v3/core/users/paths/?search=a", "", http.StatusOK, 1, 0},
		{"GET", "/api/v3/core/users/?groups_by_name=staff&is_superuser=false", "", http.StatusOK, 1, 0},
		{"GET", "/api/v3/core/groups/?members_by_username=alice", "", http.StatusOK, 1, 0},
		{"GET", "/api/v3/core/users/" + u + "/?include_groups=false", "", http.StatusOK, 1, 0},
		{"PATCH", "/api/v3/core/groups/" + g + "/", `{"is_superuser": true}`, http.StatusOK, 0, 1},
	} {
		views, updates := db.views.Load(), db.updates.Load()
		res := c.do(tt.method, tt.path, tt.body)
		views, updates = db.views.Load()-views, db.updates.Load()-updates
		if res.Code != tt.status {
			t.Fatalf("%s %s: status %d, want %d: %s", tt.method, tt.path, res.Code, tt.status, res.Body)
		}
		if views != tt.views || updates != tt.updates {
			t.Errorf("%s %s: %d read and %d write transactions, want %d and %d", tt.method, tt.path, views, updates, tt.views, tt.updates)
		}
	}
}
