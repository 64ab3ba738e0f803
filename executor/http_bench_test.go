package executor

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authflow/authflow/password"
)

// layerWriter is an http.ResponseWriter that keeps what a handler
// answers and costs next to nothing itself: its header map and body
// buffer are reused from one request to the next.
type layerWriter struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (w *layerWriter) Header() http.Header { return w.h }
func (w *layerWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *layerWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

func (w *layerWriter) reset() {
	clear(w.h)
	w.status = 0
	w.body.Reset()
}

// layerClient sends the requests of a login straight to a handler's
// ServeHTTP, in process, with the cookies it is given: what the
// executor's HTTP layer costs, without net/http's server or a
// connection.
type layerClient struct {
	b       *testing.B
	h       http.Handler
	u       *url.URL
	w       layerWriter
	cookies map[string]string
	line    []byte
	reader  bytes.Reader
}

func newLayerClient(b *testing.B, h http.Handler) *layerClient {
	u, _ := url.Parse(ExecutorPath + benchSlug + "/")
	return &layerClient{b: b, h: h, u: u, w: layerWriter{h: http.Header{}}, cookies: map[string]string{}}
}

func (c *layerClient) fresh() client {
	clear(c.cookies)
	return c
}

func (c *layerClient) do(method, _ string, body []byte) (int, []byte) {
	c.w.reset()
	r := &http.Request{Method: method, URL: c.u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Host: "127.0.0.1", RemoteAddr: "127.0.0.1:40000", RequestURI: c.u.Path}
	if len(c.cookies) > 0 {
		line := c.line[:0]
		for k, v := range c.cookies {
			if len(line) > 0 {
				line = append(line, "; "...)
			}
			line = append(append(append(line, k...), '='), v...)
		}
		c.line = line
		r.Header["Cookie"] = []string{string(line)}
	}
	if body != nil {
		c.reader.Reset(body)
		r.Body, r.ContentLength = readCloser{&c.reader}, int64(len(body))
		r.Header["Content-Type"] = []string{"application/json"}
	} else {
		r.Body = http.NoBody
	}
	c.h.ServeHTTP(&c.w, r)
	for _, line := range c.w.h["Set-Cookie"] {
		name, rest, _ := strings.Cut(line, "=")
		val, _, _ := strings.Cut(rest, ";")
		c.cookies[name] = val
	}
	return c.w.status, c.w.body.Bytes()
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// BenchmarkHTTPLayer measures what the executor's HTTP handler adds to a
// login through the Go API (with its session kept, SessionStore.Start),
// in process: the login's requests go straight to HTTPHandler's
// ServeHTTP (no server, no connection), alternately with the Go API's
// login, each first in turn:
//
//	go test ./executor -run '^$' -bench BenchmarkHTTPLayer -benchtime 3000x
//
// layer-ns/op is what the handler adds to a login, layer/go its share of
// the Go API's login; the cpu- metrics are the same of the process's CPU
// time (getrusage), which the machine's other load changes less than the
// time that passes.
func BenchmarkHTTPLayer(b *testing.B) {
	lb := newLoginBench(b, 1000, password.Policy{Iterations: 1})
	ctx := context.Background()
	lc := newLayerClient(b, lb.e.HTTPHandler(HTTPOptions{}))
	var goT, serveT, goCPU, serveCPU time.Duration
	runs := 0
	turns(b, &runs, func() {
		t0, c0 := time.Now(), cpuTime()
		l := lb.login(b, "layer-"+strconv.Itoa(runs))
		if err := lb.e.SessionStore().Start(ctx, l); err != nil {
			b.Fatal(err)
		}
		goT += time.Since(t0)
		goCPU += cpuTime() - c0
	}, func() {
		t0, c0 := time.Now(), cpuTime()
		lb.loginHTTP(b, lc)
		serveT += time.Since(t0)
		serveCPU += cpuTime() - c0
	})
	b.ReportMetric(float64(goT.Nanoseconds())/float64(b.N), "go-ns/op")
	b.ReportMetric(float64(serveT.Nanoseconds())/float64(b.N), "serve-ns/op")
	b.ReportMetric(float64((serveT-goT).Nanoseconds())/float64(b.N), "layer-ns/op")
	b.ReportMetric(float64(serveT-goT)/float64(goT), "layer/go")
	b.ReportMetric(float64((serveCPU-goCPU).Nanoseconds())/float64(b.N), "cpu-layer-ns/op")
	b.ReportMetric(float64(serveCPU-goCPU)/float64(goCPU), "cpu-layer/go")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHTTPLean is BenchmarkLoginCheap's go, lean and leannet parts
// (users=1000), alternately, each first in turn, with the process's CPU
// time each takes beside the time that passes: on a machine shared with
// other work the CPU time is the steadier of the two.
//
//	go test ./executor -run '^$' -bench BenchmarkHTTPLean -benchtime 3000x
//
// layer/go is (lean - leannet - go) / go: what the executor's HTTP
// handler adds to a login over HTTP beyond HTTP's own round trips, as a
// share of the Go API's login; cpu-layer/go the same of CPU time.
func BenchmarkHTTPLean(b *testing.B) {
	lb := newLoginBench(b, 1000, password.Policy{Iterations: 1})
	ctx := context.Background()
	lean, leanRaw := dialLean(b, lb.srv.URL), dialLean(b, lb.raw.URL)
	runs := 0
	parts := []func(){
		func() {
			l := lb.login(b, "lean-"+strconv.Itoa(runs))
			if err := lb.e.SessionStore().Start(ctx, l); err != nil {
				b.Fatal(err)
			}
		},
		func() { lb.loginHTTP(b, lean) },
		func() { lb.netHTTP(b, leanRaw) },
	}
	wall, cpu := make([]time.Duration, len(parts)), make([]time.Duration, len(parts))
	timed := make([]func(), len(parts))
	for i, p := range parts {
		timed[i] = func() {
			t0, c0 := time.Now(), cpuTime()
			p()
			wall[i] += time.Since(t0)
			cpu[i] += cpuTime() - c0
		}
	}
	turns(b, &runs, timed...)
	for i, name := range []string{"go", "lean", "leannet"} {
		b.ReportMetric(float64(wall[i].Nanoseconds())/float64(b.N), name+"-ns/op")
		if i > 0 {
			b.ReportMetric(float64(wall[i])/float64(wall[0]), name+"/go")
			b.ReportMetric(float64(cpu[i])/float64(cpu[0]), "cpu-"+name+"/go")
		}
	}
	b.ReportMetric(float64(wall[1]-wall[2]-wall[0])/float64(wall[0]), "layer/go")
	b.ReportMetric(float64(cpu[1]-cpu[2]-cpu[0])/float64(cpu[0]), "cpu-layer/go")
}
