package cli

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"time"
)

// The default timeouts of serve's HTTP server; see the package doc.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = 30 * time.Second
	defaultWriteTimeout      = 60 * time.Second
	defaultIdleTimeout       = 120 * time.Second
)

// timeouts are serve's -*-timeout flags.
type timeouts struct {
	readHeader, read, write, idle time.Duration
}

// timeoutFlags declares the timeout flags on fs.
func timeoutFlags(fs *flag.FlagSet) *timeouts {
	t := &timeouts{}
	fs.DurationVar(&t.readHeader, "read-header-timeout", defaultReadHeaderTimeout, "longest time to read a request's headers (0: none)")
	fs.DurationVar(&t.read, "read-timeout", defaultReadTimeout, "longest time to read a whole request, body included (0: none)")
	fs.DurationVar(&t.write, "write-timeout", defaultWriteTimeout, "longest time from a request's headers to the end of its response, and the request's deadline (0: none)")
	fs.DurationVar(&t.idle, "idle-timeout", defaultIdleTimeout, "longest time a kept-alive connection waits for its next request (0: none)")
	return t
}

// check refuses a negative timeout.
func (t *timeouts) check() error {
	for _, d := range []time.Duration{t.readHeader, t.read, t.write, t.idle} {
		if d < 0 {
			return fmt.Errorf("a timeout cannot be negative (%v)", d)
		}
	}
	return nil
}

// apply sets the server's timeouts and gives its handler's requests the
// write timeout as their deadline.
func (t *timeouts) apply(srv *http.Server) {
	srv.ReadHeaderTimeout = t.readHeader
	srv.ReadTimeout = t.read
	srv.WriteTimeout = t.write
	srv.IdleTimeout = t.idle
	srv.Handler = withDeadline(srv.Handler, t.write)
}

// withDeadline gives each request's context a deadline d after it starts
// (none when d is 0). Set to the server's WriteTimeout, it stops work for
// a response that could no longer be written: the store checks the
// context as it goes, and the api answers its error with 503.
func withDeadline(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
