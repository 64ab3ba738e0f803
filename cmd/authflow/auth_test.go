package main_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// get sends GET path with the Authorization header auth ("" for none)
// and returns the status and body.
func (s *server) get(t *testing.T, path, auth string) (int, string) {
	t.Helper()
	header := http.Header{}
	if auth != "" {
		header.Set("Authorization", auth)
	}
	status, b := s.send(t, "GET", path, nil, header)
	return status, strings.TrimSpace(string(b))
}

// With a token, serve answers only requests that carry it, with
// authentik's 403 bodies otherwise; the token comes from -token-file or
// $AUTHFLOW_TOKEN.
func TestServeToken(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("  s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := start(t, bin, filepath.Join(dir, "a.db"), "-token-file", file)
	const notAuth = `{"detail":"Authentication credentials were not provided."}`
	const invalid = `{"detail":"Token invalid/expired"}`
	for _, c := range []struct {
		auth   string
		status int
		body   string
	}{
		{"", 403, notAuth},
		{"Basic czNjcmV0LXRva2Vu", 403, notAuth},
		{"Bearer", 403, notAuth},
		{"Bearer s3cret", 403, invalid},
		{"Bearer s3cret-token-and-more", 403, invalid},
		{"Bearer s3cret-token", 200, ""},
		{"bearer s3cret-token", 200, ""},
	} {
		status, body := srv.get(t, "flows/instances/", c.auth)
		if status != c.status || c.body != "" && body != c.body {
			t.Errorf("Authorization %q: %d %s, want %d %s", c.auth, status, body, c.status, c.body)
		}
	}
	if err := srv.stop(t); err != nil {
		t.Fatal(err)
	}

	t.Setenv("AUTHFLOW_TOKEN", "from-env")
	srv = start(t, bin, filepath.Join(dir, "b.db"))
	if status, body := srv.get(t, "flows/instances/", "Bearer from-env"); status != 200 {
		t.Errorf("token from the environment: %d %s", status, body)
	}
	if status, _ := srv.get(t, "flows/instances/", ""); status != 403 {
		t.Errorf("no header with AUTHFLOW_TOKEN set: %d, want 403", status)
	}
}

// Without a token serve listens on loopback only; a token file that is
// missing or empty is an error, never "no token".
func TestServeRefusals(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	t.Setenv("AUTHFLOW_TOKEN", "")
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0"} {
		code, _, stderr := runExit(t, bin, "serve", "-db", db, "-addr", addr)
		if code != 2 || !strings.Contains(stderr, "refusing to serve without a token") {
			t.Errorf("-addr %s without a token: exit %d, %q", addr, code, stderr)
		}
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{empty, filepath.Join(dir, "missing")} {
		code, _, stderr := runExit(t, bin, "serve", "-db", db, "-addr", "127.0.0.1:0", "-token-file", f)
		if code != 1 || !strings.Contains(stderr, f) {
			t.Errorf("-token-file %s: exit %d, %q", f, code, stderr)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a refused start created %s (%v)", db, err)
	}
	// A database in a missing directory is named once.
	bad := filepath.Join(dir, "no", "such", "dir", "a.db")
	code, _, stderr := runExit(t, bin, "serve", "-db", bad, "-addr", "127.0.0.1:0")
	if code != 1 || strings.Count(stderr, bad) != 1 {
		t.Errorf("missing directory: exit %d, %q; want 1 and the path once", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	bin := buildBinary(t)
	for _, arg := range []string{"version", "--version", "-version"} {
		code, stdout, _ := runExit(t, bin, arg)
		if code != 0 || !strings.HasPrefix(stdout, "authflow ") || !strings.Contains(stdout, "go1.") {
			t.Errorf("%s: exit %d, %q", arg, code, stdout)
		}
	}
}
