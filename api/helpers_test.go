package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
)

func lookupFlag(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// storesOpened numbers the stores newStore opens, for their ids.
var storesOpened atomic.Int64

// newStore opens a store in t.TempDir() without fsync, closed at cleanup.
// Unless opts sets NewID, the store's pks come from a counter
// (storetest.CounterIDs): the n-th store a test binary opens makes
// n<<32+1, n<<32+2, ..., so a run of one test makes the same pks every
// time, and no two stores of a run share one by chance.
func newStore(t testing.TB, opts *store.Options) *store.Store {
	t.Helper()
	var o store.Options
	if opts != nil {
		o = *opts
	}
	o.NoSync = true
	if o.NewID == nil {
		o.NewID = storetest.CounterIDs(storesOpened.Add(1)<<32+1, 1)
	}
	s, err := store.Open(filepath.Join(t.TempDir(), "api.db"), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// client drives a handler through httptest and checks every response
// against the OpenAPI document.
type client struct {
	t testing.TB
	h http.Handler
}

// newClient returns a client for a handler on a fresh store.
func newClient(t testing.TB, opts *api.Options) *client {
	t.Helper()
	return &client{t: t, h: api.NewHandler(newStore(t, nil), opts)}
}

type response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// do sends a request. body "" sends no body; a JSON body gets the JSON
// content type unless header sets one ("Content-Type", "...").
func (c *client) do(method, path, body string, header ...string) *response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	return c.send(req)
}

// send serves req and checks the response's schema.
func (c *client) send(req *http.Request) *response {
	c.t.Helper()
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	res := &response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	checkResponse(c.t, req, res.Code, res.Header, res.Body)
	if bytes.Contains(res.Body, []byte(secretMarker)) {
		c.t.Errorf("%s %s: a write-only secret is in the response: %s", req.Method, req.URL.Path, res.Body)
	}
	return res
}

// secretMarker starts every secret value the tests send; no response may
// contain it.
const secretMarker = "SECRET-"

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonValueEqual compares decoded JSON values, normalising want through
// a JSON round trip (so []string{} equals []any{}).
func jsonValueEqual(got, want any) bool {
	b, err := json.Marshal(want)
	if err != nil {
		return false
	}
	var w any
	if err := json.Unmarshal(b, &w); err != nil {
		return false
	}
	return reflect.DeepEqual(got, w)
}

// must sends a request and fails the test unless the status is want; it
// returns the decoded body (nil for an empty one).
func (c *client) must(want int, method, path, body string, header ...string) map[string]any {
	c.t.Helper()
	res := c.do(method, path, body, header...)
	if res.Code != want {
		c.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, res.Code, want, res.Body)
	}
	return res.object(c.t)
}

// object decodes the body as a JSON object; an empty body is nil.
func (r *response) object(t testing.TB) map[string]any {
	t.Helper()
	if len(r.Body) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// expect checks status and that the body equals the JSON want.
func (r *response) expect(t testing.TB, status int, want string) {
	t.Helper()
	if r.Code != status {
		t.Fatalf("status %d, want %d; body %s", r.Code, status, r.Body)
	}
	jsonEqual(t, r.Body, want)
}

// jsonEqual compares two JSON documents canonically.
func jsonEqual(t testing.TB, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v: %s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body\n got %s\nwant %s", compact(got), compact([]byte(want)))
	}
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

// errDenied is what the test authorizers deny with.
var errDenied = errors.New("denied")

// perms is an Authorize function that denies the permissions in deny and
// records every permission asked.
type perms struct {
	mu    sync.Mutex
	deny  map[string]bool
	asked []string
}

func denying(p ...string) *perms {
	d := &perms{deny: map[string]bool{}}
	for _, x := range p {
		d.deny[x] = true
	}
	return d
}

// set replaces the denied permissions.
func (p *perms) set(deny ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny = map[string]bool{}
	for _, x := range deny {
		p.deny[x] = true
	}
}

func (p *perms) authorize(_ *http.Request, perm string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, perm)
	if p.deny[perm] || p.deny["*"] {
		return errDenied
	}
	return nil
}

func (p *perms) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.asked
	p.asked = nil
	return a
}

// Fixture bodies.
const (
	flowBody = `{"name": "Welcome to authentik!", "slug": "default-authentication-flow",
		"title": "Welcome to authentik!", "designation": "authentication"}`
	userWriteBody  = `{"name": "default-source-enrollment-write"}`
	invitationBody = `{"name": "default-enrollment-invitation"}`
	duoBody        = `{"name": "default-duo-setup", "client_id": "DIXXXXXXXXXXXXXXXXXX",
		"client_secret": "SECRET-initial", "api_hostname": "api-xxxxxxxx.duosecurity.com"}`
)

// fixture is a store holding one flow, one stage of each built-in kind
// and a binding of the User Write stage into the flow.
type fixture struct {
	*client
	flowPK, flowSlug                   string
	userWrite, invitation, duo, bindPK string
}

func newFixture(t testing.TB, opts *api.Options) *fixture {
	t.Helper()
	c := newClient(t, opts)
	return setup(c)
}

func setup(c *client) *fixture {
	c.t.Helper()
	f := &fixture{client: c}
	fl := c.must(http.StatusCreated, "POST", "/api/v3/flows/instances/", flowBody)
	f.flowPK, f.flowSlug = fl["pk"].(string), fl["slug"].(string)
	f.userWrite = c.must(http.StatusCreated, "POST", "/api/v3/stages/user_write/", userWriteBody)["pk"].(string)
	f.invitation = c.must(http.StatusCreated, "POST", "/api/v3/stages/invitation/stages/", invitationBody)["pk"].(string)
	f.duo = c.must(http.StatusCreated, "POST", "/api/v3/stages/authenticator/duo/", duoBody)["pk"].(string)
	f.bindPK = c.must(http.StatusCreated, "POST", "/api/v3/flows/bindings/",
		`{"target": "`+f.flowPK+`", "stage": "`+f.userWrite+`", "order": 10}`)["pk"].(string)
	return f
}

// inView returns what fn reads in one read transaction of s.
func inView[T any](s *store.Store, fn func(*store.Tx) (T, error)) (T, error) {
	var out T
	err := s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

// inUpdate returns what fn returns in one write transaction of s, which
// commits unless fn fails.
func inUpdate[T any](s *store.Store, fn func(*store.Tx) (T, error)) (T, error) {
	var out T
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}
