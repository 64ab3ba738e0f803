package main_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serve with -key-file seals the secrets written through the API: the
// file holds none of them, a response shows none of the write-only ones,
// the executor's typed reads still see them (a restart reads them back),
// and serve without the key refuses the file, saying why.
func TestServeSealed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	db, key := filepath.Join(dir, "authflow.db"), filepath.Join(dir, "authflow.key")
	if code, _, stderr := runExit(t, bin, "keygen", "-o", key); code != 0 {
		t.Fatalf("keygen: %s", stderr)
	}
	srv := start(t, bin, db, "-no-defaults", "-key-file", key)
	st := srv.call(t, http.StatusCreated, "POST", "stages/captcha/",
		`{"name": "cap", "public_key": "pub", "private_key": "S3CRET-captcha-key"}`)
	if _, shown := st["private_key"]; shown {
		t.Errorf("the response shows the private key: %v", st)
	}
	srv.call(t, http.StatusOK, "PATCH", "stages/captcha/"+st["pk"].(string)+"/", `{"private_key": "S3CRET-rotated-key"}`)
	if err := srv.stop(t); err != nil {
		t.Fatalf("stop: %v; stderr: %s", err, srv.stderr)
	}
	if !strings.Contains(srv.stderr.String(), "secrets are sealed at rest") {
		t.Errorf("serve did not say the secrets are sealed: %s", srv.stderr)
	}
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("S3CRET")) {
		t.Error("the file holds a secret in the clear")
	}
	code, _, stderr := runExit(t, bin, "serve", "-db", db, "-addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(stderr, "no key was given") {
		t.Errorf("serve without the key: exit %d, %s", code, stderr)
	}
	if code, stdout, stderr := runExit(t, bin, "check", "-db", db, "-key-file", key); code != 0 {
		t.Errorf("check with the key: exit %d, %s %s", code, stdout, stderr)
	}
}
