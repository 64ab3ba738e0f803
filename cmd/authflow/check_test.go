package main_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/store"
	bolt "go.etcd.io/bbolt"
)

// TestCheck: a sound file checks ok; a damaged one exits 1 naming each
// problem; a missing file exits 1.
func TestCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "c.db")
	s, err := store.Open(db, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var f flow.Flow
	err = s.Update(context.Background(), func(tx *store.Tx) error {
		f, err = store.Flows.CreateJSON(tx, []byte(`{"name":"F","slug":"f","title":"T","designation":"authentication"}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	code, stdout, stderr := runExit(t, bin, "check", "-db", db)
	if code != 0 || !strings.Contains(stdout, "ok") {
		t.Fatalf("check of a sound file: exit %d, %q %q", code, stdout, stderr)
	}
	raw, err := bolt.Open(db, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("flows"))
		v := bytes.Clone(b.Get(f.PK[:]))
		v[bytes.Index(v, []byte(`"F"`))+1] = 'G'
		if err := b.Put(f.PK[:], v); err != nil {
			return err
		}
		return tx.Bucket([]byte("flows_by_slug")).Put([]byte("ghost"), f.PK[:])
	})
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runExit(t, bin, "check", "-db", db)
	if code != 1 || !strings.Contains(stdout, "checksum mismatch") || !strings.Contains(stdout, f.PK.String()) || !strings.Contains(stdout, "flows_by_slug") {
		t.Errorf("check of a damaged file: exit %d, stdout %q", code, stdout)
	}
	if code, _, _ := runExit(t, bin, "check", "-db", filepath.Join(t.TempDir(), "missing.db")); code != 1 {
		t.Errorf("check of a missing file: exit %d, want 1", code)
	}
	if code, _, _ := runExit(t, bin, "check", "extra"); code != 2 {
		t.Errorf("check with an extra argument: exit %d, want 2", code)
	}
}
