package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/seal"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

func runKeys(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// authflow keygen prints a key, or writes it to a new file of mode 0600
// and never over an existing one.
func TestKeygen(t *testing.T) {
	code, out, errs := runKeys("keygen")
	if code != 0 {
		t.Fatalf("keygen: %d %s", code, errs)
	}
	if _, err := seal.ParseKey([]byte(out)); err != nil {
		t.Errorf("keygen printed %q: %v", out, err)
	}
	f := filepath.Join(t.TempDir(), "key")
	if code, out, errs := runKeys("keygen", "-o", f); code != 0 || strings.Contains(out, readFile(t, f)) {
		t.Fatalf("keygen -o: %d %q %s", code, out, errs)
	}
	if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v; want mode 0600", st.Mode(), err)
	}
	if _, err := seal.ParseKey([]byte(readFile(t, f))); err != nil {
		t.Errorf("the key file does not parse: %v", err)
	}
	before := readFile(t, f)
	if code, _, _ := runKeys("keygen", "-o", f); code != 1 || readFile(t, f) != before {
		t.Errorf("keygen -o over an existing file: %d, file changed %v", code, readFile(t, f) != before)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeKey(t *testing.T, dir, name string) (string, seal.Key) {
	t.Helper()
	k, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(k.Text()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, k
}

// The key flags reach every command; check verifies that the secrets
// open; rekey moves them to a new key; without the key, or with another,
// the commands say so, never showing a secret or a key.
func TestKeyCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	k1File, k1 := writeKey(t, dir, "k1")
	k2File, k2 := writeKey(t, dir, "k2")
	otherFile, _ := writeKey(t, dir, "other")
	ring, _ := seal.NewKeyring(k1)
	s, err := store.Open(db, &store.Options{NoSync: true, Keys: ring})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Create(string(stage.ModelAuthenticatorDuo), []byte(`{"name":"duo","client_id":"c","client_secret":"S3CRET-duo","api_hostname":"h"}`), nil)
		return err
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	noLeak := func(outs ...string) {
		t.Helper()
		for _, o := range outs {
			for _, bad := range []string{"S3CRET", k1.Text(), k2.Text()} {
				if strings.Contains(o, bad) {
					t.Errorf("output shows a secret or a key: %s", o)
				}
			}
		}
	}
	code, out, errs := runKeys("check", "-db", db)
	if code != 1 || !strings.Contains(errs, "no key was given") {
		t.Errorf("check without a key: %d %s %s", code, out, errs)
	}
	noLeak(out, errs)
	code, out, errs = runKeys("check", "-db", db, "-key-file", otherFile)
	if code != 1 || !strings.Contains(errs, "does not open") {
		t.Errorf("check with another key: %d %s %s", code, out, errs)
	}
	noLeak(out, errs)
	if code, out, errs = runKeys("check", "-db", db, "-key-file", k1File); code != 0 || !strings.HasSuffix(out, ": ok\n") {
		t.Errorf("check with the key: %d %s %s", code, out, errs)
	}
	if code, out, errs = runKeys("check", "-db", db, "-key-file", k2File, "-old-key-file", k1File); code != 0 || !strings.Contains(out, "warning: 1 objects hold secrets sealed under an older key") {
		t.Errorf("check with a new and an old key: %d %s %s", code, out, errs)
	}
	if code, _, errs = runKeys("rekey", "-db", db, "-key-file", k2File); code != 3 || !strings.Contains(errs, "-old-key-file") {
		t.Errorf("rekey without the old key: %d %s", code, errs)
	}
	code, out, errs = runKeys("rekey", "-db", db, "-key-file", k2File, "-old-key-file", k1File, "-chunk", "1")
	if code != 0 || !strings.Contains(out, "1 objects with secrets, 1 sealed again") {
		t.Errorf("rekey: %d %s %s", code, out, errs)
	}
	noLeak(out, errs)
	// The new key alone now opens it, from the environment too.
	t.Setenv(keyEnv, k2.Text())
	if code, out, errs = runKeys("check", "-db", db); code != 0 {
		t.Errorf("check with $%s: %d %s %s", keyEnv, code, out, errs)
	}
	if code, _, errs = runKeys("check", "-db", db, "-key-file", k1File); code != 1 || !strings.Contains(errs, "does not open") {
		t.Errorf("check with the old key after rekey: %d %s", code, errs)
	}
	t.Setenv(keyEnv, "not a key")
	if code, _, errs = runKeys("check", "-db", db); code != 1 || !strings.Contains(errs, "$"+keyEnv) || strings.Contains(errs, "not a key") {
		t.Errorf("check with a bad $%s: %d %s", keyEnv, code, errs)
	}
}

// serve says at start whether secrets are sealed, and which fields it
// keeps in the clear when they are not.
func TestLogSealing(t *testing.T) {
	for _, keyed := range []bool{false, true} {
		var o store.Options
		if keyed {
			k, _ := seal.NewKey()
			o.Keys, _ = seal.NewKeyring(k)
		}
		s, err := store.Open(filepath.Join(t.TempDir(), "a.db"), &o)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		logSealing(func(f string, a ...any) { buf.WriteString(strings.TrimSpace(fmt.Sprintf(f, a...)) + "\n") }, s)
		s.Close()
		got := buf.String()
		clear := strings.Contains(got, "stored in the clear") && strings.Contains(got, "authentik_stages_captcha.captchastage.private_key")
		if clear == keyed || (keyed && !strings.Contains(got, "sealed at rest")) {
			t.Errorf("keyed %v: %s", keyed, got)
		}
	}
}
