package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// newTestStore opens a fresh store in t.TempDir() with NoSync and
// deterministic, increasing ids. Its cleanup checks the store's
// invariants (if it is still open), closes it twice (Close is idempotent)
// and runs bbolt's consistency check on the file.
func newTestStore(t testing.TB) *store.Store {
	t.Helper()
	return openTestStore(t, filepath.Join(t.TempDir(), "authflow.db"), &store.Options{NewID: storetest.CounterIDs(1, 1)})
}

// openTestStore opens path with opts (NoSync forced on) and registers the
// cleanup described at newTestStore.
func openTestStore(t testing.TB, path string, opts *store.Options) *store.Store {
	t.Helper()
	var o store.Options
	if opts != nil {
		o = *opts
	}
	o.NoSync = true
	s, err := store.Open(path, &o)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	t.Cleanup(func() { closeAndCheck(t, s, path) })
	return s
}

func closeAndCheck(t testing.TB, s *store.Store, path string) {
	t.Helper()
	if err := s.View(context.Background(), func(*store.Tx) error { return nil }); err == nil {
		checkInvariants(t, s)
		for _, p := range s.Check(context.Background()) {
			t.Errorf("cleanup: Check: %v", p)
		}
	} else if !errors.Is(err, store.ErrClosed) {
		t.Errorf("cleanup: View: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("cleanup: Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("cleanup: second Close: %v, want nil (Close is idempotent)", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Errorf("cleanup: raw bbolt open: %v", err)
		return
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("cleanup: bbolt check: %v", err)
		}
		return nil
	}); err != nil {
		t.Errorf("cleanup: bbolt view: %v", err)
	}
}

// Fixtures.

const (
	duoSecret      = "s3cr3t-client-Zq8"
	duoAdminSecret = "s3cr3t-admin-Kp4"
)

func newFlow(slug string) flow.Flow {
	return flow.New("Name of "+slug, slug, "Title of "+slug, flow.DesignationAuthentication)
}

func mkFlow(t testing.TB, s *store.Store, slug string) flow.View {
	t.Helper()
	v, err := createIn(context.Background(), s, store.Flows, newFlow(slug))
	if err != nil {
		t.Fatalf("Flows.Create(%q): %v", slug, err)
	}
	return v
}

func mkUserWrite(t testing.TB, s *store.Store, name string) stage.View {
	t.Helper()
	v, err := createIn(context.Background(), s, store.Stages, stage.Stage{Name: name, Config: stage.DefaultUserWrite()})
	if err != nil {
		t.Fatalf("Stages.Create(%q): %v", name, err)
	}
	return v
}

func mkInvitation(t testing.TB, s *store.Store, name string) stage.View {
	t.Helper()
	v, err := createIn(context.Background(), s, store.Stages, stage.Stage{Name: name, Config: stage.Invitation{}})
	if err != nil {
		t.Fatalf("Stages.Create(%q): %v", name, err)
	}
	return v
}

// duoBody is a complete Duo POST/PUT body; configureFlow may be nil.
func duoBody(name string, configureFlow *uuid.UUID) []byte {
	m := map[string]any{
		"name":                  name,
		"client_id":             "DIXXXXXXXXXXXXXXXXXX",
		"client_secret":         duoSecret,
		"api_hostname":          "api-xxxxxxxx.duosecurity.com",
		"admin_integration_key": "DIADMINXXXXXXXXXXXXX",
		"admin_secret_key":      duoAdminSecret,
		"friendly_name":         "Duo",
		"configure_flow":        nil,
	}
	if configureFlow != nil {
		m["configure_flow"] = configureFlow.String()
	}
	b, _ := json.Marshal(m)
	return b
}

func mkDuo(t testing.TB, s *store.Store, name string, configureFlow *uuid.UUID) stage.View {
	t.Helper()
	v, err := createJSONIn(context.Background(), s, store.Stages.Kind(string(stage.ModelAuthenticatorDuo)), duoBody(name, configureFlow))
	if err != nil {
		t.Fatalf("Stages.CreateJSON(duo %q): %v", name, err)
	}
	return v
}

func mkBinding(t testing.TB, s *store.Store, target, st uuid.UUID, order int32) binding.View {
	t.Helper()
	v, err := createIn(context.Background(), s, store.Bindings, binding.New(target, st, order))
	if err != nil {
		t.Fatalf("Bindings.Create(order %d): %v", order, err)
	}
	return v
}

func duoConfig(t testing.TB, v stage.View) stage.AuthenticatorDuo {
	t.Helper()
	c, ok := v.Config.(stage.AuthenticatorDuo)
	if !ok {
		t.Fatalf("stage %s: config is %T, want stage.AuthenticatorDuo", v.Name, v.Config)
	}
	return c
}

// Assertions.

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%T): %v", v, err)
	}
	return string(b)
}

// jsonMap decodes the JSON of v into a map, for checking single keys.
func jsonMap(t testing.TB, v any) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(jsonOf(t, v)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// wantConflict is [testutil.WantInvalid] plus errors.Is(err,
// store.ErrConflict).
func wantConflict(t testing.TB, err error, fields map[string][]string, nonField ...string) {
	t.Helper()
	testutil.WantInvalid(t, err, fields, nonField...)
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("errors.Is(%v, store.ErrConflict) = false", err)
	}
}

func wantNotFound(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("error = %v, want one wrapping store.ErrNotFound", err)
	}
}

func backup(t testing.TB, s *store.Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := s.Backup(context.Background(), &buf)
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("Backup returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

// wantUnchanged runs write, which must fail, and asserts that the file
// is byte for byte what it was before.
func wantUnchanged(t testing.TB, s *store.Store, write func() error) error {
	t.Helper()
	before := backup(t, s)
	err := write()
	if err == nil {
		t.Fatalf("write succeeded, want an error")
	}
	if !bytes.Equal(before, backup(t, s)) {
		t.Errorf("the file changed after a rejected write (%v)", err)
	}
	return err
}

// Walking the whole store through the public API: the conformance
// suite's helpers.

func allPages[T any](t testing.TB, list func(store.Query) (store.Page[T], error)) []T {
	t.Helper()
	return storetest.AllPages(t, list)
}

func allFlows(t testing.TB, tx *store.Tx) []flow.View       { return storetest.AllFlows(t, tx) }
func allStages(t testing.TB, tx *store.Tx) []stage.View     { return storetest.AllStages(t, tx) }
func allBindings(t testing.TB, tx *store.Tx) []binding.View { return storetest.AllBindings(t, tx) }

func checkInvariants(t testing.TB, s *store.Store) {
	t.Helper()
	storetest.CheckInvariants(t, s)
}

func checkInvariantsTx(t testing.TB, tx *store.Tx) {
	t.Helper()
	storetest.CheckInvariantsTx(t, tx)
}

func cmpBinding(a, b binding.Binding) int { return storetest.CompareBindings(a, b) }

// snapshot renders every object the store holds, secrets included, so
// that two snapshots are equal exactly when nothing observable changed.
func snapshot(t testing.TB, tx *store.Tx, reg *stage.Registry) string {
	t.Helper()
	var b strings.Builder
	for _, f := range allFlows(t, tx) {
		fmt.Fprintf(&b, "flow %s\n", jsonOf(t, f))
		fb, err := flowBindings(tx, f.PK)
		if err != nil {
			t.Fatalf("flowBindings: %v", err)
		}
		fmt.Fprintf(&b, "  bindings %s\n", jsonOf(t, fb))
	}
	for _, st := range allStages(t, tx) {
		raw, err := reg.Encode(st.Stage)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		fmt.Fprintf(&b, "stage %s\n  %s\n", raw, jsonOf(t, st))
	}
	for _, bv := range allBindings(t, tx) {
		fmt.Fprintf(&b, "binding %s\n", jsonOf(t, bv))
	}
	return b.String()
}

// golden indents the JSON got and compares it with
// testdata/golden/name.json (see [testutil.Golden]), or rewrites the file
// with -update.
func golden(t testing.TB, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("golden %s: %v", name, err)
	}
	testutil.Golden(t, filepath.Join("testdata", "golden", name+".json"), buf.Bytes())
}
