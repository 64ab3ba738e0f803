package cli

import (
	"net/http"
	"runtime"
)

// defaultMaxRequests is serve's -max-requests: enough to keep every core
// busy, few enough that writers are not starved by readers (the store,
// like bbolt and etcd, leaves bounding concurrency to its host).
func defaultMaxRequests() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// withLimit lets at most n requests into h at once (n < 1: no limit). A
// request waits for its turn until its context ends (the client went
// away, or the write timeout passed); then it is answered 503 without
// reaching h.
func withLimit(h http.Handler, n int) http.Handler {
	if n < 1 {
		return h
	}
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
		case <-r.Context().Done():
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"detail":"The server is busy; try again."}`, http.StatusServiceUnavailable)
			return
		}
		defer func() { <-slots }()
		h.ServeHTTP(w, r)
	})
}
