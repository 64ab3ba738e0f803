package flowui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authflow/authflow/executor"
)

// BenchmarkPage renders a flow's page through the UI (the session, the
// executor's Get, the page) and, alternately in the same loop, the
// executor's Get alone for the same execution, and its HTTPHandler's
// GET (the challenge as JSON, the session included), and reports each
// and the ratios page-x-get (issue 22 asks at most 2) and page-x-api:
//
//	go test ./flowui -run '^$' -bench BenchmarkPage -benchtime 2000x
func BenchmarkPage(b *testing.B) {
	sv := newServer(b, "flows-enrollment-2-stage.yaml")
	for _, slug := range []string{"default-authentication-flow", "default-enrollment-flow"} {
		b.Run(slug, func(b *testing.B) {
			path := "/if/flow/" + slug + "/"
			first := httptest.NewRecorder()
			sv.ui.ServeHTTP(first, httptest.NewRequest("GET", path, nil))
			cookie := first.Result().Cookies()[0]
			req := executor.Request{Session: cookie.Value}
			ctx := context.Background()
			api := sv.e.HTTPHandler(executor.HTTPOptions{})
			var page, get, apiGet time.Duration
			for b.Loop() {
				r := httptest.NewRequest("GET", path, nil)
				r.AddCookie(cookie)
				w := httptest.NewRecorder()
				t0 := time.Now()
				sv.ui.ServeHTTP(w, r)
				t1 := time.Now()
				if _, err := sv.e.Get(ctx, slug, req); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				ar := httptest.NewRequest("GET", executor.ExecutorPath+slug+"/", nil)
				ar.AddCookie(cookie)
				aw := httptest.NewRecorder()
				t3 := time.Now()
				api.ServeHTTP(aw, ar)
				t4 := time.Now()
				if w.Code != http.StatusOK || aw.Code != http.StatusOK {
					b.Fatalf("%d %s %d %s", w.Code, w.Body, aw.Code, aw.Body)
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
