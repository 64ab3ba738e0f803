package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// At most n requests are inside the handler at once; one that cannot get
// in before its context ends is answered 503 without reaching it.
func TestWithLimit(t *testing.T) {
	inside, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	served := 0
	h := withLimit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		served++
		mu.Unlock()
		inside <- struct{}{}
		<-release
	}), 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		}()
	}
	<-inside
	<-inside
	// Both slots are taken: a third request waits, and leaves with 503
	// when its context ends.
	ctx, cancel := context.WithCancel(context.Background())
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil).WithContext(ctx))
		close(done)
	}()
	cancel()
	<-done
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("a request that found no slot: %d %v", w.Code, w.Header())
	}
	close(release)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if served != 2 {
		t.Errorf("%d requests reached the handler, want 2", served)
	}
	// With the slots free again, a request gets in.
	inside2 := make(chan struct{}, 1)
	h2 := withLimit(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { inside2 <- struct{}{} }), 1)
	h2.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if len(inside2) != 1 {
		t.Error("a request with a free slot did not get in")
	}
	// 0 is no limit: three requests are inside at once.
	in0, out0 := make(chan struct{}), make(chan struct{})
	h0 := withLimit(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { in0 <- struct{}{}; <-out0 }), 0)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h0.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		}()
	}
	for range 3 {
		<-in0
	}
	close(out0)
	wg.Wait()
}
