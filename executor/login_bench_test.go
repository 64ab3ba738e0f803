package executor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
)

// loginBench is the shipped default-authentication-flow (identification,
// password, MFA with no devices, user_login; its policies with package
// expression) in a store of n users, one of whom has a password, with an
// executor on it and an HTTP server of its executor endpoint.
type loginBench struct {
	s       *store.Store
	e       *Executor
	srv     *httptest.Server
	raw     *httptest.Server
	pk      int64
	uid, pw json.RawMessage
}

const (
	benchSlug   = "default-authentication-flow"
	benchSecret = "correct horse battery staple"
)

func newLoginBench(b *testing.B, n int, pws password.Policy) *loginBench {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(b.TempDir(), "b.db"), &store.Options{NoSync: true, Passwords: pws})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	h := &harness{t: b, s: s}
	loadDefaults(b, h, false)
	const chunk = 5000
	for lo := 0; lo < n; lo += chunk {
		err := s.Update(ctx, func(tx *store.Tx) error {
			for i := lo; i < min(lo+chunk, n); i++ {
				u := directory.DefaultUser()
				u.Username, u.Email = "user"+strconv.Itoa(i), "user"+strconv.Itoa(i)+"@example.com"
				if _, err := store.Users.Create(tx, u, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	u, err := s.Directory().FindUser(ctx, directory.Find{Identifier: "user" + strconv.Itoa(n/2), Fields: []directory.Field{directory.FieldUsername}})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.SetPassword(ctx, u.PK, ptr(benchSecret)); err != nil {
		b.Fatal(err)
	}
	evs := plan.Builtin(nil)
	evs[policy.ModelExpression] = expression.Evaluator(nil)
	e, err := New(s, Options{Plan: plan.Options{Evaluators: evs}, Passwords: pws})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	lb := &loginBench{s: s, e: e, pk: u.PK, srv: httptest.NewServer(e.HTTPHandler(HTTPOptions{}))}
	b.Cleanup(lb.srv.Close)
	lb.raw = httptest.NewServer(http.HandlerFunc(rawHTTP))
	b.Cleanup(lb.raw.Close)
	lb.uid, _ = json.Marshal(map[string]any{"component": ComponentIdentification, "uid_field": u.Email})
	lb.pw, _ = json.Marshal(map[string]any{"component": ComponentPassword, "password": benchSecret})
	return lb
}

// login logs in through the Go API in a new session, and returns the
// login for the host to keep.
func (lb *loginBench) login(b *testing.B, session string) Login {
	ctx := context.Background()
	req := Request{Session: session}
	if _, err := lb.e.Get(ctx, benchSlug, req); err != nil {
		b.Fatal(err)
	}
	if _, err := lb.e.Submit(ctx, benchSlug, req, lb.uid); err != nil {
		b.Fatal(err)
	}
	if r, err := lb.e.Get(ctx, benchSlug, req); err != nil || r.Challenge == nil {
		b.Fatal(r, err)
	}
	if _, err := lb.e.Submit(ctx, benchSlug, req, lb.pw); err != nil {
		b.Fatal(err)
	}
	var resp Response
	var err error
	for range 5 {
		if resp, err = lb.e.Get(ctx, benchSlug, req); err != nil || !resp.Reload {
			break
		}
	}
	if err != nil || resp.Login == nil {
		b.Fatalf("no login: %+v %v", resp, err)
	}
	return *resp.Login
}

// browser is a new browser (its own cookie jar) that does not follow
// redirects, and do sends one request with it, returning the status and
// the body.
type browser struct {
	b *testing.B
	c *http.Client
}

func newBrowser(b *testing.B) browser {
	jar, _ := cookiejar.New(nil)
	return browser{b, &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (br browser) do(method, u string, body []byte) (int, []byte) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, u, r)
	resp, err := br.c.Do(req)
	if err != nil {
		br.b.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, out
}

// client is a browser: do sends one request and returns the status and
// the body; fresh forgets its cookies, for a new visitor.
type client interface {
	do(method, u string, body []byte) (int, []byte)
	fresh() client
}

func (br browser) fresh() client { return newBrowser(br.b) }

// leanBrowser is a browser whose own cost is as small as it gets: one
// kept-alive connection, the request written by hand, the answer read by
// net/http's http.ReadResponse, the cookies kept by name. net/http's
// client (its Transport's goroutines, the cookie jar, URL parsing) costs
// about as much as the server's side of a round trip and runs on the
// same CPUs; a browser pays it on its own machine. What a leanBrowser
// measures is, nearly all of it, the server's work and loopback's.
type leanBrowser struct {
	b       *testing.B
	conn    net.Conn
	r       *bufio.Reader
	host    string
	cookies map[string]string
	buf     []byte
}

func dialLean(b *testing.B, base string) *leanBrowser {
	host := strings.TrimPrefix(base, "http://")
	c, err := net.Dial("tcp", host)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return &leanBrowser{b: b, conn: c, r: bufio.NewReader(c), host: host, cookies: map[string]string{}}
}

func (l *leanBrowser) fresh() client {
	clear(l.cookies)
	return l
}

func (l *leanBrowser) do(method, u string, body []byte) (int, []byte) {
	buf := append(l.buf[:0], method...)
	buf = append(buf, ' ')
	buf = append(buf, strings.TrimPrefix(u, "http://"+l.host)...)
	buf = append(buf, " HTTP/1.1\r\nHost: "...)
	buf = append(buf, l.host...)
	buf = append(buf, "\r\n"...)
	if len(l.cookies) > 0 {
		buf = append(buf, "Cookie: "...)
		sep := ""
		for k, v := range l.cookies {
			buf = append(append(append(append(buf, sep...), k...), '='), v...)
			sep = "; "
		}
		buf = append(buf, "\r\n"...)
	}
	if body != nil {
		buf = append(buf, "Content-Type: application/json\r\nContent-Length: "...)
		buf = strconv.AppendInt(buf, int64(len(body)), 10)
		buf = append(buf, "\r\n"...)
	}
	buf = append(append(buf, "\r\n"...), body...)
	l.buf = buf
	if _, err := l.conn.Write(buf); err != nil {
		l.b.Fatal(err)
	}
	resp, err := http.ReadResponse(l.r, nil)
	if err != nil {
		l.b.Fatal(err)
	}
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(l.cookies, c.Name)
		} else {
			l.cookies[c.Name] = c.Value
		}
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, out
}

// loginHTTP logs in over HTTP, as a new visitor of br, with the requests
// the Go API's login makes.
func (lb *loginBench) loginHTTP(b *testing.B, br client) {
	br = br.fresh()
	u := lb.srv.URL + ExecutorPath + benchSlug + "/"
	br.do("GET", u, nil)
	br.do("POST", u, lb.uid)
	br.do("GET", u, nil)
	br.do("POST", u, lb.pw)
	for range 5 {
		code, out := br.do("GET", u, nil)
		if code == http.StatusFound {
			continue
		}
		if !bytes.Contains(out, []byte(ComponentRedirect)) {
			b.Fatalf("no login: %d %s", code, out)
		}
		return
	}
	b.Fatal("no login: reloads without end")
}

// netHTTP makes the requests of loginHTTP, as a new visitor of br, with
// their answers' statuses, cookies and about their sizes, to a handler
// that only answers them (rawHTTP): what HTTP's round trips on loopback
// cost by themselves with br's client.
func (lb *loginBench) netHTTP(b *testing.B, br client) {
	br = br.fresh()
	u := lb.raw.URL + ExecutorPath + benchSlug + "/"
	for _, r := range []struct {
		method, query string
		body          []byte
		code          int
	}{
		{"GET", "", nil, 200}, {"POST", "", lb.uid, 302}, {"GET", "", nil, 200},
		{"POST", "", lb.pw, 302}, {"GET", "?reload", nil, 302}, {"GET", "?login", nil, 200},
	} {
		if code, _ := br.do(r.method, u+r.query, r.body); code != r.code {
			b.Fatalf("%s: %d", r.method, code)
		}
	}
}

// rawHTTP answers netHTTP's requests: 302 to a POST (its body read) and
// to a GET ?reload, else a challenge of about the size of the password
// stage's, with a new session cookie at the first request and at ?login.
func rawHTTP(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(DefaultCookie); err != nil || r.URL.RawQuery == "login" {
		http.SetCookie(w, &http.Cookie{Name: DefaultCookie, Value: newSessionID(), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	w.Header().Set("X-Frame-Options", "SAMEORIGIN")
	if r.Method == http.MethodPost || r.URL.RawQuery == "reload" {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Location", r.URL.RequestURI())
		w.WriteHeader(http.StatusFound)
		return
	}
	writeJSON(w, http.StatusOK, rawChallenge)
}

var rawChallenge = map[string]any{
	"component": ComponentPassword, "pending_user": "user500", "pending_user_avatar": strings.Repeat("x", 400),
	"flow_info": map[string]any{"title": "Welcome to authentik!", "background": "/static/dist/assets/images/flow_background.jpg", "cancel_url": "/flows/-/cancel/", "layout": "stacked"},
}

// BenchmarkLogin measures a complete login through the Go API, on the
// shipped default-authentication-flow (identification, password, MFA
// with no devices, user_login; its policies with package expression),
// with the store's default password hasher (Django's pbkdf2_sha256,
// 870,000 iterations), beside one password check of the same user
// (store.Store.CheckPassword), at 1,000 and 100,000 users:
//
//	go test ./executor -run '^$' -bench 'BenchmarkLogin$' -benchtime 20x
//
// Each op is a login then a check; the metrics split it: login-ns/op,
// check-ns/op, their ratio login/check, and overhead-ns/op, what a login
// costs beyond one check (its own check included in the login).
func BenchmarkLogin(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			lb := newLoginBench(b, n, password.Policy{})
			ctx := context.Background()
			// Logins and checks alternate in one loop, so that the load of
			// a shared machine weighs on both alike.
			var loginT, checkT time.Duration
			n := 0
			for ; b.Loop(); n++ {
				t0 := time.Now()
				lb.login(b, "bench-"+strconv.Itoa(n))
				t1 := time.Now()
				if ok, err := lb.s.CheckPassword(ctx, lb.pk, benchSecret); !ok || err != nil {
					b.Fatal(ok, err)
				}
				loginT += t1.Sub(t0)
				checkT += time.Since(t1)
			}
			b.ReportMetric(float64(loginT.Nanoseconds())/float64(n), "login-ns/op")
			b.ReportMetric(float64(checkT.Nanoseconds())/float64(n), "check-ns/op")
			b.ReportMetric(float64(loginT)/float64(checkT), "login/check")
			b.ReportMetric(float64((loginT-checkT).Nanoseconds())/float64(n), "overhead-ns/op")
		})
	}
}

// BenchmarkLoginCheap measures the executor's own cost: the login of
// BenchmarkLogin with a deliberately cheap password hasher
// (pbkdf2_sha256 of one iteration), at 1,000 and 100,000 users, in two
// loops:
//
//	go test ./executor -run '^$' -bench 'BenchmarkLoginCheap' -benchtime 3000x
//
// go: a login through the Go API beside a cached plan of the same flow
// (plan.Cache.Make, anonymous, the raw cost of one plan), alternately,
// each first in turn; go/plan is the ratio issue 21 bounds at 20.
//
// http: a login through the Go API with the keeping of its session
// (SessionStore.Start: what a host does with Response.Login, and what
// HTTPHandler does at a login over HTTP) and the same login over HTTP
// on loopback (a new visitor each time, through HTTPHandler with its own
// cookie and session store), with two clients: net/http's (http, with a
// new cookie jar each time) and a leanBrowser (lean: one kept-alive
// connection, requests written by hand), and the same requests to a
// handler that only answers them (net and leannet: HTTP's own cost with
// each client), alternately, each first in turn. http/go and lean/go
// are the ratio issue 21 bounds at 3: lean/go is the server's side of
// it (the client's own work, which a browser does on its own machine,
// is all but gone), http/go adds net/http's client, which runs on the
// same two CPUs. The two loops are apart because the HTTP logins'
// garbage and goroutines slow down what runs beside them: the Go API's
// login costs some 40% more in the second loop than in the first, and
// a plan twice as much. go-alone, http-alone and lean-alone are the Go
// API's login (with its session) and the HTTP logins each in a loop of
// its own, one after the other: the ratios of their ns/op are http/go
// and lean/go without the one slowing the other.
func BenchmarkLoginCheap(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		lb := newLoginBench(b, n, password.Policy{Iterations: 1})
		ctx := context.Background()
		runs := 0
		b.Run(fmt.Sprintf("users=%d/go", n), func(b *testing.B) {
			var planT, goT time.Duration
			turns(b, &runs, func() {
				t0 := time.Now()
				if _, err := lb.e.cache.Make(ctx, benchSlug, plan.Request{Context: map[string]any{}}); err != nil {
					b.Fatal(err)
				}
				planT += time.Since(t0)
			}, func() {
				t0 := time.Now()
				lb.login(b, "bench-"+strconv.Itoa(runs))
				goT += time.Since(t0)
			})
			b.ReportMetric(float64(planT.Nanoseconds())/float64(b.N), "plan-ns/op")
			b.ReportMetric(float64(goT.Nanoseconds())/float64(b.N), "go-ns/op")
			b.ReportMetric(float64(goT)/float64(planT), "go/plan")
		})
		lean, leanRaw := dialLean(b, lb.srv.URL), dialLean(b, lb.raw.URL)
		goLogin := func() {
			runs++
			l := lb.login(b, "bench-"+strconv.Itoa(runs))
			if err := lb.e.SessionStore().Start(ctx, l); err != nil {
				b.Fatal(err)
			}
		}
		// The parts of the http loop, by name: the Go API's login first,
		// the ratio's denominator.
		parts := []struct {
			name string
			f    func()
		}{
			{"go", goLogin},
			{"http", func() { lb.loginHTTP(b, newBrowser(b)) }},
			{"net", func() { lb.netHTTP(b, newBrowser(b)) }},
			{"lean", func() { lb.loginHTTP(b, lean) }},
			{"leannet", func() { lb.netHTTP(b, leanRaw) }},
		}
		b.Run(fmt.Sprintf("users=%d/http", n), func(b *testing.B) {
			spent := make([]time.Duration, len(parts))
			fs := make([]func(), len(parts))
			for i, p := range parts {
				fs[i] = func() {
					t0 := time.Now()
					p.f()
					spent[i] += time.Since(t0)
				}
			}
			turns(b, &runs, fs...)
			for i, p := range parts {
				b.ReportMetric(float64(spent[i].Nanoseconds())/float64(b.N), p.name+"-ns/op")
				if i > 0 {
					b.ReportMetric(float64(spent[i])/float64(spent[0]), p.name+"/go")
				}
			}
		})
		// Each alone, one after the other: the Go API's login without
		// the HTTP logins' garbage beside it.
		for _, p := range parts[:2] {
			b.Run(fmt.Sprintf("users=%d/%s-alone", n, p.name), func(b *testing.B) {
				for b.Loop() {
					p.f()
				}
			})
		}
		b.Run(fmt.Sprintf("users=%d/lean-alone", n), func(b *testing.B) {
			for b.Loop() {
				parts[3].f()
			}
		})
	}
}

// turns runs parts in b's loop, each first in turn, so that none gains
// by the caches another warms (or loses by those it cools); runs counts
// the loop's iterations across b's runs (each login's session is new).
func turns(b *testing.B, runs *int, parts ...func()) {
	for n := 0; b.Loop(); n++ {
		*runs++
		for k := range parts {
			parts[(n+k)%len(parts)]()
		}
	}
}

// BenchmarkEnumeration compares, with the store's default password
// hasher, the answer of an identification stage with an embedded
// password stage to an unknown identifier and to a known one with a
// wrong password (the same challenge), alternating in one loop:
//
//	go test ./executor -run '^$' -bench BenchmarkEnumeration -benchtime 20x
//
// unknown/known near 1 means timing does not tell them apart.
func BenchmarkEnumeration(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(b.TempDir(), "b.db"), &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := &harness{t: b, s: s}
	doc := identFlow("authentication", ", pretend_user_exists: true, password_stage: !KeyOf pw")
	if _, err := blueprint.Load(ctx, s, strings.NewReader(doc), blueprint.Options{}); err != nil {
		b.Fatal(err)
	}
	h.userWith("akadmin", "admin@example.com", ptr("right"), true)
	e, err := New(s, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	known, _ := json.Marshal(map[string]any{"uid_field": "admin@example.com", "password": "wrong"})
	unknown, _ := json.Marshal(map[string]any{"uid_field": "nobody@example.com", "password": "wrong"})
	req := Request{Session: "bench"}
	if _, err := e.Get(ctx, "f", req); err != nil {
		b.Fatal(err)
	}
	var knownT, unknownT time.Duration
	n := 0
	for ; b.Loop(); n++ {
		t0 := time.Now()
		if _, err := e.Submit(ctx, "f", req, known); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := e.Submit(ctx, "f", req, unknown); err != nil {
			b.Fatal(err)
		}
		knownT += t1.Sub(t0)
		unknownT += time.Since(t1)
	}
	b.ReportMetric(float64(knownT.Nanoseconds())/float64(n), "known-ns/op")
	b.ReportMetric(float64(unknownT.Nanoseconds())/float64(n), "unknown-ns/op")
	b.ReportMetric(float64(unknownT)/float64(knownT), "unknown/known")
}

// BenchmarkLoginDeviceRead measures what reading the user's devices
// costs a login through the shipped flow's validation stage (a user
// without devices, the store's devices), beside the same login on an
// executor that keeps no devices, alternating in one loop, with the
// cheap hasher of BenchmarkLoginCheap:
//
//	go test ./executor -run '^$' -bench BenchmarkLoginDeviceRead -benchtime 2000x
//
// devices/none is the ratio.
func BenchmarkLoginDeviceRead(b *testing.B) {
	with := newLoginBench(b, 1000, password.Policy{Iterations: 1})
	without := newLoginBench(b, 1000, password.Policy{Iterations: 1})
	if with.e.devices == nil {
		b.Fatal("the store keeps no devices")
	}
	without.e.devices = nil
	var withT, withoutT time.Duration
	n := 0
	for ; b.Loop(); n++ {
		t0 := time.Now()
		with.login(b, "bench-"+strconv.Itoa(n))
		t1 := time.Now()
		without.login(b, "bench-"+strconv.Itoa(n))
		withT += t1.Sub(t0)
		withoutT += time.Since(t1)
	}
	b.ReportMetric(float64(withT.Nanoseconds())/float64(n), "devices-ns/op")
	b.ReportMetric(float64(withoutT.Nanoseconds())/float64(n), "none-ns/op")
	b.ReportMetric(float64(withT)/float64(withoutT), "devices/none")
}
