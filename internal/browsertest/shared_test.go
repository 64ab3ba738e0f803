package browsertest

import (
	"fmt"
	"runtime"
	"testing"
)

// recorder is a testing.TB that records a skip or a failure instead of
// ending the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// Without Chromium, Shared skips the test, or fails it when
// AUTHFLOW_BROWSER is set (as .ci/run sets it).
func TestSharedWithoutChromium(t *testing.T) {
	saved := execPath
	execPath = "/nonexistent/chromium"
	t.Cleanup(func() { execPath = saved })
	for _, env := range []string{"", "1"} {
		t.Setenv(RequireEnv, env)
		r := &recorder{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Shared(r)
		}()
		<-done
		if env == "" && (r.skipped == "" || r.failed != "") || env != "" && (r.failed == "" || r.skipped != "") {
			t.Errorf("%s=%q: skipped %q, failed %q", RequireEnv, env, r.skipped, r.failed)
		}
	}
}
