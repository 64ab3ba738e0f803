package flowui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flowui"
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
