package main_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeTimeouts: a client that stalls mid-request, or sits on an idle
// connection, has the connection closed once the configured timeout
// passes. The timeouts are set small by flag; the test only waits, with a
// deadline far above them and far below the defaults, for the close.
func TestServeTimeouts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "authflow.db")
	srv := start(t, bin, db, "-read-header-timeout", "200ms", "-read-timeout", "400ms", "-idle-timeout", "300ms")
	u, err := url.Parse(srv.base)
	if err != nil {
		t.Fatal(err)
	}

	// dial opens a raw connection; reads give up after a safety deadline
	// (5s: the defaults are 10s to 120s), failing the test.
	dial := func(t *testing.T) (net.Conn, *bufio.Reader) {
		t.Helper()
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		return c, bufio.NewReader(c)
	}
	// waitClosed reads until the server closes the connection.
	waitClosed := func(t *testing.T, r io.Reader) []byte {
		t.Helper()
		b, err := io.ReadAll(r)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the connection is still open after 5s (read %q)", b)
		}
		return b
	}
	send := func(t *testing.T, c net.Conn, s string) {
		t.Helper()
		if _, err := io.WriteString(c, s); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("stalled body", func(t *testing.T) {
		c, r := dial(t)
		send(t, c, "POST "+u.Path+"flows/instances/ HTTP/1.1\r\nHost: "+u.Host+
			"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\": ")
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("no response before the close: %v", err)
		}
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d (%s), want 400", res.StatusCode, body)
		}
		if rest := waitClosed(t, r); len(rest) > 0 {
			t.Errorf("after the response: %q", rest)
		}
	})

	t.Run("stalled headers", func(t *testing.T) {
		c, r := dial(t)
		send(t, c, "GET "+u.Path+"flows/instances/ HTTP/1.1\r\nHost: "+u.Host+"\r\nAccept: appl")
		if got := waitClosed(t, r); len(got) > 0 && !strings.HasPrefix(string(got), "HTTP/1.1 4") {
			t.Errorf("got %q, want the connection closed", got)
		}
	})

	t.Run("idle keep-alive", func(t *testing.T) {
		c, r := dial(t)
		send(t, c, "GET "+u.Path+"flows/instances/ HTTP/1.1\r\nHost: "+u.Host+"\r\n\r\n")
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		if res.StatusCode != http.StatusOK || res.Close {
			t.Fatalf("status %d, close %v; want 200 on a kept-alive connection", res.StatusCode, res.Close)
		}
		if rest := waitClosed(t, r); len(rest) > 0 {
			t.Errorf("on an idle connection: %q", rest)
		}
	})

	// The server is still serving, and a request that is quick enough is
	// unaffected.
	srv.call(t, http.StatusCreated, "POST", "flows/instances/", `{"name": "n", "slug": "after-timeouts", "title": "t", "designation": "authentication"}`)
	if err := srv.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v; stderr: %s", err, srv.stderr)
	}

	t.Run("negative timeout", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "never.db")
		code, _, stderr := runExit(t, bin, "serve", "-db", db, "-addr", "127.0.0.1:0", "-read-timeout", "-1s")
		if code != 2 || !strings.Contains(stderr, "negative") {
			t.Errorf("exit %d, stderr %q; want 2 and the reason", code, stderr)
		}
		if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a refused start left %s behind (%v)", db, err)
		}
	})
}
