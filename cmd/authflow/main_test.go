package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authflow/authflow/internal/browsertest"
)

// binPath is the authflow binary, built once by TestMain for every test
// that runs it ("" when there is no go command to build it with).
var binPath string

// TestMain builds the binary once, before any test runs: a build inside a
// test would race the other packages' tests for the CPU against a test
// timeout. The build has no timeout of its own; go test's -timeout bounds
// the whole run. It stops the browser tests' Chromium at the end.
func TestMain(m *testing.M) {
	flag.Parse()
	if goBin, err := exec.LookPath("go"); err == nil && !testing.Short() {
		dir, err := os.MkdirTemp("", "authflow-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		binPath = filepath.Join(dir, "authflow")
		if out, err := exec.Command(goBin, "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
		code := m.Run()
		browsertest.CloseShared()
		os.RemoveAll(dir)
		os.Exit(code)
	}
	code := m.Run()
	browsertest.CloseShared()
	os.Exit(code)
}

// buildBinary returns the binary TestMain built, skipping the test when
// there is none.
func buildBinary(t *testing.T) string {
	t.Helper()
	if binPath == "" {
		t.Skip("no binary: no go command, or -short")
	}
	return binPath
}

// server is a running "authflow serve".
type server struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port/api/v3/
	stderr *bytes.Buffer
	done   chan error
	// out receives the lines serve prints after its URL.
	out chan string
}

var servingLine = regexp.MustCompile(`^authflow: serving (http://127\.0\.0\.1:\d+/api/v3/) \(file .*\)$`)

// start runs serve on a free loopback port (the kernel picks it: -addr
// with port 0; the command prints the address), with any further flags,
// and waits for its URL.
func start(t *testing.T, bin, db string, flags ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "-db", db, "-addr", "127.0.0.1:0"}, flags...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1), out: make(chan string, 16)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		for sc.Scan() {
			select {
			case s.out <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		close(s.out)
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	select {
	case line, ok := <-lines:
		m := servingLine.FindStringSubmatch(line)
		if !ok || m == nil {
			t.Fatalf("first line %q, want the URL; stderr: %s", line, s.stderr)
		}
		s.base = m[1]
	case <-time.After(15 * time.Second):
		t.Fatalf("serve printed no URL in time; stderr: %s", s.stderr)
	}
	return s
}

// stop sends SIGTERM and returns the exit error (nil for status 0).
func (s *server) stop(t *testing.T) error {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not exit after SIGTERM")
		return nil
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// call sends a JSON request and decodes the JSON response, failing the
// test unless the status is want.
func (s *server) call(t *testing.T, want int, method, path, body string) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	header := http.Header{}
	if body != "" {
		header.Set("Content-Type", "application/json")
	}
	status, b := s.send(t, method, path, rd, header)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, b)
	}
	if len(b) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, b)
	}
	return m
}

// send sends one request with header and returns the status and body.
func (s *server) send(t *testing.T, method, path string, body io.Reader, header http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// runExit runs the binary to completion and returns its exit code and
// output.
func runExit(t *testing.T, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var o, e bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, o.String(), e.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), o.String(), e.String()
	}
	t.Fatal(err)
	return 0, "", ""
}

// TestServe builds the binary and drives "authflow serve" over real HTTP:
// create, patch, put, list and delete; a second server on the same file is
// refused; SIGTERM stops it cleanly; the data survives a restart.
func TestServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "authflow.db")
	srv := start(t, bin, db, "-no-defaults")

	flow := srv.call(t, http.StatusCreated, "POST", "flows/instances/",
		`{"name": "Welcome", "slug": "default-authentication-flow", "title": "Welcome to authentik!", "designation": "authentication"}`)
	st := srv.call(t, http.StatusCreated, "POST", "stages/user_write/", `{"name": "default-source-enrollment-write"}`)
	b := srv.call(t, http.StatusCreated, "POST", "flows/bindings/",
		`{"target": "`+flow["pk"].(string)+`", "stage": "`+st["pk"].(string)+`", "order": 10}`)
	if got := srv.call(t, http.StatusOK, "PATCH", "flows/instances/default-authentication-flow/", `{"title": "Welcome back!"}`); got["title"] != "Welcome back!" {
		t.Errorf("PATCH: title %v", got["title"])
	}
	stPath := "stages/user_write/" + st["pk"].(string) + "/"
	if got := srv.call(t, http.StatusOK, "PUT", stPath, `{"name": "enrollment-write", "user_type": "internal"}`); got["user_type"] != "internal" {
		t.Errorf("PUT: %v", got)
	}
	list := srv.call(t, http.StatusOK, "GET", "flows/bindings/?target="+flow["pk"].(string), "")
	if n := list["pagination"].(map[string]any)["count"]; n != 1.0 {
		t.Errorf("binding list: %v", list)
	}
	srv.call(t, http.StatusNoContent, "DELETE", "flows/bindings/"+b["pk"].(string)+"/", "")
	srv.call(t, http.StatusNotFound, "GET", "flows/bindings/"+b["pk"].(string)+"/", "")
	srv.call(t, http.StatusBadRequest, "PATCH", "flows/instances/default-authentication-flow/", `{"slug": "Not A Slug"}`)

	// The plan endpoint evaluates expression policies.
	pol := srv.call(t, http.StatusCreated, "POST", "policies/expression/",
		`{"name": "not-anonymous", "expression": "ak_message('sign in first')\nreturn request.user.is_authenticated"}`)
	pb := srv.call(t, http.StatusCreated, "POST", "policies/bindings/",
		`{"target": "`+flow["pk"].(string)+`", "policy": "`+pol["pk"].(string)+`", "order": 0}`)
	if got := srv.call(t, http.StatusOK, "POST", "flows/instances/default-authentication-flow/plan/", `{}`); got["applicable"] != false || fmt.Sprint(got["messages"]) != "[sign in first]" {
		t.Errorf("plan with an expression policy: %v", got)
	}
	srv.call(t, http.StatusNoContent, "DELETE", "policies/bindings/"+pb["pk"].(string)+"/", "")

	t.Run("second server on the same file", func(t *testing.T) {
		code, _, stderr := runExit(t, bin, "serve", "-db", db, "-addr", "127.0.0.1:0")
		if code == 0 {
			t.Fatal("a second server on a locked file exited 0")
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], "locked by another process") || !strings.Contains(lines[0], db) {
			t.Errorf("stderr %q, want one line saying the file is locked", stderr)
		}
	})

	if err := srv.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v; stderr: %s", err, srv.stderr)
	}

	srv = start(t, bin, db) // a file with data: no first start
	got := srv.call(t, http.StatusOK, "GET", "flows/instances/default-authentication-flow/", "")
	if got["title"] != "Welcome back!" || got["pk"] != flow["pk"] {
		t.Errorf("after restart: %v", got)
	}
	if got := srv.call(t, http.StatusOK, "GET", stPath, ""); got["name"] != "enrollment-write" || got["user_type"] != "internal" {
		t.Errorf("stage after restart: %v", got)
	}
	srv.call(t, http.StatusNotFound, "GET", "flows/bindings/"+b["pk"].(string)+"/", "")
	srv.call(t, http.StatusNoContent, "DELETE", "flows/instances/default-authentication-flow/", "")
	if err := srv.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v; stderr: %s", err, srv.stderr)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatal(err)
	}
}

// TestUsage: no command or an unknown one exits 2 with the usage.
func TestUsage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	for _, args := range [][]string{nil, {"frobnicate"}, {"serve", "-nope"}, {"serve", "extra"}} {
		code, _, stderr := runExit(t, bin, args...)
		if code != 2 || !strings.Contains(stderr, "usage") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and the usage", args, code, stderr)
		}
	}
	code, stdout, _ := runExit(t, bin, "help")
	if code != 0 || !strings.Contains(stdout, "authflow serve") {
		t.Errorf("help: exit %d, %q", code, stdout)
	}
}

// TestServeBusyAddress: a start that cannot listen exits 1 and leaves no
// new database file behind.
func TestServeBusyAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	db := filepath.Join(t.TempDir(), "new.db")
	code, _, stderr := runExit(t, bin, "serve", "-db", db, "-addr", ln.Addr().String())
	if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q; want 1 and one line", code, stderr)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed start left %s behind (%v)", db, err)
	}
}
