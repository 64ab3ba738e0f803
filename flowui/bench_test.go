package flowui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flowui"
	"github.com/authflow/authflow/store"
)

// BenchmarkPage renders a flow's page through the UI (the session, the
// executor's Get, the page) and, alternately in the same loop, the
// executor's Get alone for the same execution, and its HTTPHandler's
// GET (the challenge as JSON, the session included), each written to a
// ResponseWriter that drops the body as a connection takes it, and
// reports each and the ratios page-x-get (issue 22 asks at most 2) and
// page-x-api:
//
//	go test ./flowui -run '^$' -bench BenchmarkPage -benchtime 10000x -count 4
//
// The -uncached runs render every page with its template
// (Options.CachePages -1), as a page answering a form is.
func BenchmarkPage(b *testing.B) {
	sv := newServer(b, "flows-enrollment-2-stage.yaml")
	uncached, err := flowui.New(sv.e, flowui.Options{CachePages: -1})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, slug string
		ui         *flowui.UI
	}{
		{"login", "default-authentication-flow", sv.ui},
		{"enrollment", "default-enrollment-flow", sv.ui},
		{"login-uncached", "default-authentication-flow", uncached},
		{"enrollment-uncached", "default-enrollment-flow", uncached},
	} {
		slug := c.slug
		b.Run(c.name, func(b *testing.B) {
			path := "/if/flow/" + slug + "/"
			first := httptest.NewRecorder()
			c.ui.ServeHTTP(first, httptest.NewRequest("GET", path, nil))
			cookie := first.Result().Cookies()[0]
			req := executor.Request{Session: cookie.Value}
			ctx := context.Background()
			api := sv.e.HTTPHandler(executor.HTTPOptions{})
			var page, get, apiGet time.Duration
			for b.Loop() {
				r := httptest.NewRequest("GET", path, nil)
				r.AddCookie(cookie)
				w := &discard{h: http.Header{}}
				t0 := time.Now()
				c.ui.ServeHTTP(w, r)
				t1 := time.Now()
				if _, err := sv.e.Get(ctx, slug, req); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				ar := httptest.NewRequest("GET", executor.ExecutorPath+slug+"/", nil)
				ar.AddCookie(cookie)
				aw := &discard{h: http.Header{}}
				t3 := time.Now()
				api.ServeHTTP(aw, ar)
				t4 := time.Now()
				if w.Code != http.StatusOK || aw.Code != http.StatusOK {
					b.Fatalf("%d %d", w.Code, aw.Code)
				}
				page, get, apiGet = page+t1.Sub(t0), get+t2.Sub(t1), apiGet+t4.Sub(t3)
			}
			n := float64(b.N)
			b.ReportMetric(float64(page.Nanoseconds())/n, "ns/page")
			b.ReportMetric(float64(get.Nanoseconds())/n, "ns/get")
			b.ReportMetric(float64(apiGet.Nanoseconds())/n, "ns/api")
			b.ReportMetric(float64(page)/float64(get), "page-x-get")
			b.ReportMetric(float64(page)/float64(apiGet), "page-x-api")
		})
	}
}

// discard is a ResponseWriter that keeps the status and drops the body,
// as a server's connection takes it: the benchmark measures the
// handlers, not a recorder's buffer.
type discard struct {
	h    http.Header
	Code int
}

func (d *discard) Header() http.Header { return d.h }

func (d *discard) Write(b []byte) (int, error) {
	if d.Code == 0 {
		d.Code = http.StatusOK
	}
	return len(b), nil
}

func (d *discard) WriteHeader(code int) { d.Code = code }

// BenchmarkRender renders each sample challenge's page by its template
// (no cache): the cost of html/template for each component.
//
//	go test ./flowui -run '^$' -bench BenchmarkRender
func BenchmarkRender(b *testing.B) {
	u, err := newTestUI(b, flowui.Options{CachePages: -1})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", flowui.FlowPath+"sample/", nil)
	for _, ch := range flowui.Samples() {
		b.Run(flowui.EnvelopeOf(ch).Component, func(b *testing.B) {
			for b.Loop() {
				u.Render(&discard{h: http.Header{}}, r, "nonce", ch, "csrf", nil)
			}
		})
	}
}

// BenchmarkLoginPages logs in through the pages of the shipped
// default-authentication-flow (the login page, the password page with
// the pending user, a wrong password's page, then the right password)
// and, alternately in the same loop, through the executor's Go API in
// a session of its own at the same point, step by step: each page's
// request (the UI's ServeHTTP, the executor's step behind it included)
// beside that step alone. The metrics are each request's ratio
// (page-x-step; issue 22 bounds a page's at 2) and the whole login's:
//
//	go test ./flowui -run '^$' -bench BenchmarkLoginPages -benchtime 2000x
//
// The store's hasher is pbkdf2 of 1,000 iterations (newServer), so a
// POST's step is mostly its password check, as in a real login.
func BenchmarkLoginPages(b *testing.B) {
	sv := newServer(b)
	ctx := context.Background()
	u := directory.DefaultUser()
	u.Username = "bench"
	if err := sv.s.Update(ctx, func(tx *store.Tx) error {
		var err error
		u, err = store.Users.Create(tx, u, nil)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	const secret = "correct horse battery staple"
	pw := secret
	if err := sv.s.SetPassword(ctx, u.PK, &pw); err != nil {
		b.Fatal(err)
	}
	const slug = "default-authentication-flow"
	path := flowui.FlowPath + slug + "/"
	type step struct {
		name   string
		post   url.Values // nil: a GET
		body   string     // the Go API's response, "" for a Get
		status int        // the page's
	}
	steps := []step{
		{"ident", nil, "", http.StatusOK},
		{"uid", url.Values{"component": {executor.ComponentIdentification}, "uid_field": {"bench"}}, `{"component":"ak-stage-identification","uid_field":"bench"}`, http.StatusSeeOther},
		{"password", nil, "", http.StatusOK},
		{"wrong", url.Values{"component": {executor.ComponentPassword}, "password": {"wrong"}}, `{"component":"ak-stage-password","password":"wrong"}`, http.StatusOK},
		{"right", url.Values{"component": {executor.ComponentPassword}, "password": {secret}}, `{"component":"ak-stage-password","password":"` + secret + `"}`, http.StatusSeeOther},
	}
	pageT := make([]time.Duration, len(steps)+1)
	stepT := make([]time.Duration, len(steps)+1)
	n := 0
	for ; b.Loop(); n++ {
		var cookie *http.Cookie
		req := executor.Request{Session: "bench-" + strconv.Itoa(n)}
		for i, s := range steps {
			var r *http.Request
			if s.post == nil {
				r = httptest.NewRequest("GET", path, nil)
			} else {
				s.post.Set(flowui.CSRFField, sv.ui.CSRF(cookie.Value))
				r = httptest.NewRequest("POST", path, strings.NewReader(s.post.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.Header.Set("Origin", "http://example.com")
			}
			if cookie != nil {
				r.AddCookie(cookie)
			}
			w := &discard{h: http.Header{}}
			t0 := time.Now()
			sv.ui.ServeHTTP(w, r)
			t1 := time.Now()
			var err error
			if s.body == "" {
				_, err = sv.e.Get(ctx, slug, req)
			} else {
				_, err = sv.e.Submit(ctx, slug, req, json.RawMessage(s.body))
			}
			t2 := time.Now()
			if err != nil || w.Code != s.status {
				b.Fatalf("%s: %d %v", s.name, w.Code, err)
			}
			if cookie == nil {
				cookie = (&http.Response{Header: w.h}).Cookies()[0]
			}
			pageT[i] += t1.Sub(t0)
			stepT[i] += t2.Sub(t1)
		}
		// After the password: the reloads to the flow's end, a redirect.
		for range 5 {
			r := httptest.NewRequest("GET", path, nil)
			r.AddCookie(cookie)
			w := &discard{h: http.Header{}}
			t0 := time.Now()
			sv.ui.ServeHTTP(w, r)
			t1 := time.Now()
			resp, err := sv.e.Get(ctx, slug, req)
			t2 := time.Now()
			if err != nil {
				b.Fatal(err)
			}
			pageT[len(steps)] += t1.Sub(t0)
			stepT[len(steps)] += t2.Sub(t1)
			if w.Code == http.StatusFound && resp.Login != nil {
				break
			}
		}
	}
	var page, stp time.Duration
	for i := range pageT {
		name := "end"
		if i < len(steps) {
			name = steps[i].name
		}
		b.ReportMetric(float64(pageT[i])/float64(stepT[i]), name+"-x-step")
		page, stp = page+pageT[i], stp+stepT[i]
	}
	b.ReportMetric(float64(page)/float64(stp), "all-x-step")
}
