package executor

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

// A session's run state key is "s:" and the hex SHA-256 of its id, made
// in one allocation (the string itself).
func TestSessionKey(t *testing.T) {
	for _, sid := range []string{"an id", newSessionID(), strings.Repeat("x", 100)} {
		sum := sha256.Sum256([]byte(sid))
		if got, want := sessionKey(sid), "s:"+hex.EncodeToString(sum[:]); got != want {
			t.Fatalf("%q, want %q", got, want)
		}
	}
	sid := newSessionID()
	if n := testing.AllocsPerRun(100, func() { _ = sessionKey(sid) }); n != 1 {
		t.Errorf("%v allocations, want 1", n)
	}
}

// secure reads the first of X-Forwarded-Proto's values, without
// allocating.
func TestSecureForwardedProto(t *testing.T) {
	for v, want := range map[string]bool{
		"": false, "https": true, "HTTPS": true, " https ": true, "https, http": true,
		"http, https": false, "http": false, ",https": false, "httpsx": false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if v != "" {
			r.Header.Set("X-Forwarded-Proto", v)
		}
		if got := secure(r); got != want {
			t.Errorf("X-Forwarded-Proto %q: %v, want %v", v, got, want)
		}
		if n := testing.AllocsPerRun(10, func() { secure(r) }); n != 0 {
			t.Errorf("X-Forwarded-Proto %q: %v allocations", v, n)
		}
	}
}

// requestURI is r.URL.RequestURI(), for any request line net/http
// accepts; it takes the request line's own target rather than build it
// again when they are the same.
func FuzzRequestURI(f *testing.F) {
	for _, s := range []string{
		"/api/v3/flows/executor/f/", "/api/v3/flows/executor/f/?query=next%3D%2Fx", "/a?", "/a%2Fb/?q=1",
		"/a b?x", "/%7e/?x=%zz", "http://host/p?q=1", "*", "/?", "//x?y", "/a/../b?c#d", "/é?q",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n")))
		if err != nil {
			return
		}
		if got, want := requestURI(r), r.URL.RequestURI(); got != want {
			t.Errorf("%q: %q, want %q", target, got, want)
		}
	})
}

// The Location of a reload of a request with a query string is the
// request's own target, taken as it is.
func TestRequestURIAllocs(t *testing.T) {
	r := httptest.NewRequest("GET", ExecutorPath+"f/?query=next%3D%2Fif%2Fuser%2F", nil)
	if got := requestURI(r); got != r.URL.RequestURI() {
		t.Fatalf("%q", got)
	}
	if n := testing.AllocsPerRun(100, func() { _ = requestURI(r) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// mayHaveCookie is false only for a request r.Cookie finds no such
// cookie in.
func FuzzMayHaveCookie(f *testing.F) {
	for _, s := range []string{"", "authentik_mfa=x", "a=b; authentik_mfa=\"x\"", "authentik_mfa", " authentik_mfa =x", "x=authentik_mfa"} {
		f.Add(s, CookieMFA)
	}
	f.Fuzz(func(t *testing.T, line, name string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Cookie"] = []string{"a=b", line}
		if _, err := r.Cookie(name); err == nil && !mayHaveCookie(r, name) {
			t.Errorf("%q has a cookie %q", line, name)
		}
	})
}

// Finding the session of a request with a session cookie that holds no
// login, and no remembered-MFA cookie, allocates no more than its
// HTTPRequest (the struct, the query's map and value, the headers
// without the cookie's map and values: five), the session's key and the run state's lookup of it: the
// remembered-MFA cookie is not looked for among cookies that do not name
// it.
func TestHTTPSessionsRequestAllocs(t *testing.T) {
	h := newHarness(t, "")
	s := h.e.HTTPSessions(HTTPOptions{})
	r := httptest.NewRequest("GET", ExecutorPath+"f/?query=x", nil)
	sid := newSessionID()
	r.Header.Set("Cookie", DefaultCookie+"="+sid+"; other=1")
	w := httptest.NewRecorder()
	req, err := s.Request(w, r)
	if err != nil || req.Session != sid || req.User.PK != 0 || req.MFA != "" {
		t.Fatalf("%+v %v", req, err)
	}
	_, _ = h.rs.Load(context.Background(), Sessions, sessionKey(sid))
	lookup := testing.AllocsPerRun(100, func() { _, _ = h.rs.Load(context.Background(), Sessions, sessionKey(sid)) })
	cookie := testing.AllocsPerRun(100, func() { _, _ = r.Cookie(DefaultCookie) })
	if n := testing.AllocsPerRun(100, func() { _, _ = s.Request(w, r) }); n > 5+cookie+lookup {
		t.Errorf("%v allocations, want at most %v", n, 5+cookie+lookup)
	}
}

// The executor's answers share one X-Frame-Options value, never changed:
// a handler that appends to it gets its own.
func TestSameOriginShared(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "one", 0, "")))
	for range 2 {
		r := h.get("f", "")
		if got := r.header.Values("X-Frame-Options"); len(got) != 1 || got[0] != "SAMEORIGIN" {
			t.Fatalf("X-Frame-Options %q", got)
		}
	}
	hd := http.Header{"X-Frame-Options": sameOrigin}
	hd.Add("X-Frame-Options", "DENY")
	if len(sameOrigin) != 1 || cap(sameOrigin) != 1 || sameOrigin[0] != "SAMEORIGIN" {
		t.Errorf("sameOrigin %q", sameOrigin)
	}
}

// readAll reads what io.ReadAll(http.MaxBytesReader(...)) reads, and
// fails where it fails, whatever the body's ContentLength says (true,
// shorter, longer, unknown, past the bound) and however its reader
// hands it out (at once, a byte at a time, with an error).
func FuzzReadAll(f *testing.F) {
	f.Add([]byte(`{"a":1}`), int64(7), int64(64), uint8(0))
	f.Add([]byte(`{"a":1}`), int64(3), int64(64), uint8(1))
	f.Add([]byte(`{"a":1}`), int64(20), int64(64), uint8(2))
	f.Add([]byte(`{"a":1}`), int64(-1), int64(4), uint8(0))
	f.Add([]byte(`{"a":1}`), int64(6), int64(6), uint8(1))
	f.Add([]byte(`{"a":1}`), int64(7), int64(7), uint8(0))
	f.Add([]byte(``), int64(0), int64(7), uint8(0))
	f.Fuzz(func(t *testing.T, body []byte, cl, limit int64, how uint8) {
		reader := func() io.Reader {
			switch how % 3 {
			case 1:
				return iotest.OneByteReader(bytes.NewReader(body))
			case 2:
				return iotest.DataErrReader(bytes.NewReader(body))
			}
			return bytes.NewReader(body)
		}
		limit = limit%100 + 1
		if limit < 1 {
			limit += 100
		}
		req := func() *http.Request {
			r := httptest.NewRequest("POST", "/", nil)
			r.Body, r.ContentLength = io.NopCloser(reader()), cl
			return r
		}
		want, werr := io.ReadAll(http.MaxBytesReader(httptest.NewRecorder(), req().Body, limit))
		got, err := readAll(httptest.NewRecorder(), req(), limit)
		if (err != nil) != (werr != nil) || err == nil && !bytes.Equal(got, want) {
			t.Errorf("%q (ContentLength %d, limit %d, reader %d): %q %v, want %q %v", body, cl, limit, how%3, got, err, want, werr)
		}
	})
}

// A body of known length within the bound is read in one allocation.
func TestReadAllAllocs(t *testing.T) {
	body := []byte(`{"component":"ak-stage-password","password":"correct horse battery staple"}`)
	r := httptest.NewRequest("POST", "/", nil)
	var br bytes.Reader
	r.Body, r.ContentLength = io.NopCloser(&br), int64(len(body))
	w := httptest.NewRecorder()
	if n := testing.AllocsPerRun(100, func() {
		br.Reset(body)
		if b, err := readAll(w, r, DefaultMaxBody); err != nil || !bytes.Equal(b, body) {
			t.Fatalf("%q %v", b, err)
		}
	}); n != 1 {
		t.Errorf("%v allocations, want 1", n)
	}
}

// A body past the bound is refused, and the connection closed after the
// answer, as http.MaxBytesReader has it, its ContentLength told or not.
func TestBodyTooLarge(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "one", 0, "")))
	srv := httptest.NewServer(h.e.HTTPHandler(HTTPOptions{MaxBody: 16}))
	defer srv.Close()
	for _, chunked := range []bool{false, true} {
		var body io.Reader = strings.NewReader(`{"component":"ak-stage-dummy","x":"` + strings.Repeat("y", 100) + `"}`)
		if chunked {
			body = io.MultiReader(body) // no length: chunked
		}
		req, _ := http.NewRequest("POST", srv.URL+ExecutorPath+"f/", body)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !res.Close || !bytes.Contains(raw, []byte(ComponentFlowError)) {
			t.Errorf("chunked %v: close %v, %s", chunked, res.Close, raw)
		}
	}
}

// The session cookie is what r.Cookie finds, whatever the Cookie
// headers and the cookie's name.
func FuzzSessionCookie(f *testing.F) {
	id := newSessionID()
	for _, line := range []string{
		DefaultCookie + "=" + id, " " + DefaultCookie + " = " + id + " ", DefaultCookie + `="` + id + `"`, DefaultCookie + `="`,
		DefaultCookie + "=a\\b", DefaultCookie + "=", DefaultCookie, "other=1", DefaultCookie + "=" + id + "; other=1", "",
		DefaultCookie + "=\x7f", "\t" + DefaultCookie + "=x\r\n",
	} {
		f.Add(line, "", false)
		f.Add(line, "other", true)
	}
	f.Add("a b=1", "a b", false)
	f.Fuzz(func(t *testing.T, line, name string, two bool) {
		s := (&Executor{}).HTTPSessions(HTTPOptions{Cookie: name})
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Cookie"] = []string{line}
		if two {
			r.Header["Cookie"] = append(r.Header["Cookie"], "x=1")
		}
		v, ok := s.sessionCookie(r)
		c, err := r.Cookie(s.o.Cookie)
		if ok != (err == nil) || ok && v != c.Value {
			t.Errorf("%q: %q %v, want %v %v", r.Header["Cookie"], v, ok, c, err)
		}
	})
}

// A request's only cookie is read in place.
func TestSessionCookieAllocs(t *testing.T) {
	s := (&Executor{}).HTTPSessions(HTTPOptions{})
	r := httptest.NewRequest("GET", "/", nil)
	id := newSessionID()
	r.Header.Set("Cookie", DefaultCookie+"="+id)
	if v, ok := s.sessionCookie(r); !ok || v != id {
		t.Fatalf("%q %v", v, ok)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = s.sessionCookie(r) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// ExecutionKey hashes the session id without a copy of it on the heap:
// one allocation, the key.
func TestExecutionKeyAllocs(t *testing.T) {
	sid := newSessionID()
	sum := sha256.Sum256([]byte(sid))
	if got, want := ExecutionKey(sid, "flow"), "64:"+hex.EncodeToString(sum[:])+"flow"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { _ = ExecutionKey(sid, "default-authentication-flow") }); n != 1 {
		t.Errorf("%v allocations, want 1", n)
	}
}
