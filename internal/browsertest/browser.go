package browsertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ExecPath is the Chromium that Debian's chromium package installs.
const ExecPath = "/usr/bin/chromium"

// execPath is ExecPath, but for the tests of Shared without a browser.
var execPath = ExecPath

// RequireEnv is the environment variable that makes a missing Chromium
// fail the tests that need it instead of skipping them.
const RequireEnv = "AUTHFLOW_BROWSER"

// Bounds on waiting for the browser. Every action of a [Page] runs under
// ActionTimeout; a page is closed after PageLifetime whatever it is
// doing; Chromium must start within StartTimeout.
const (
	ActionTimeout = 30 * time.Second
	PageLifetime  = 5 * time.Minute
	StartTimeout  = 60 * time.Second
)

// ErrNoBrowser is returned by [Start] when there is no Chromium at
// [ExecPath].
var ErrNoBrowser = errors.New("browsertest: no Chromium at " + ExecPath)

// flags are the command line of Chromium beside chromedp's defaults
// (which include --headless, --no-first-run, --disable-sync and
// --disable-background-networking): no sandbox (tests run as root in CI),
// no GPU, nothing that reaches the network on its own (QUIC probes,
// component updates), and a font rendering that does not depend on the
// machine's settings.
var flags = []chromedp.ExecAllocatorOption{
	chromedp.ExecPath(ExecPath),
	chromedp.Headless,
	chromedp.NoSandbox,
	chromedp.NoFirstRun,
	chromedp.Flag("disable-gpu", true),
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-domain-reliability", true),
	chromedp.Flag("no-pings", true),
	chromedp.Flag("font-render-hinting", "none"),
	chromedp.WindowSize(1280, 800),
}

// Browser is one headless Chromium process. Its pages are independent
// browsers as far as a server can tell: see [Browser.NewPage].
type Browser struct {
	ctx    context.Context // the chromedp context that owns the process
	cancel context.CancelFunc
	out    *syncBuffer // Chromium's standard output and error
}

// Start starts a headless Chromium from [ExecPath], with a profile in a
// new temporary directory (removed by Close). It returns [ErrNoBrowser]
// when Chromium is not installed.
func Start() (*Browser, error) {
	if _, err := os.Stat(execPath); err != nil {
		return nil, ErrNoBrowser
	}
	out := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], flags...)
	opts = append(opts, chromedp.CombinedOutput(out))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &Browser{ctx: ctx, out: out, cancel: func() { cancel(); acancel() }}
	// The first run starts the process and binds it to ctx, which must
	// have no deadline; the wait for it is bounded here instead.
	if err := bounded(StartTimeout, b.cancel, func() error { return chromedp.Do(ctx) }); err != nil {
		b.cancel()
		return nil, fmt.Errorf("browsertest: starting %s: %w\n%s", ExecPath, err, out)
	}
	return b, nil
}

// Close stops Chromium and removes its profile directory.
func (b *Browser) Close() error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Cancel(b.ctx) }()
	select {
	case err := <-done:
		b.cancel()
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		return err
	case <-time.After(ActionTimeout):
		b.cancel()
		return errors.New("browsertest: Chromium did not stop in time; killed")
	}
}

// bounded runs f and waits at most d for it; past d it calls stop (which
// should make f return, in its own time) and reports a timeout.
func bounded(d time.Duration, stop func(), f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		stop()
		return fmt.Errorf("no answer within %v", d)
	}
}

var shared struct {
	mu  sync.Mutex
	b   *Browser
	err error
}

// Shared returns the test binary's Chromium, started by the first test
// that asks. Without Chromium it skips t, or fails it when [RequireEnv]
// is set. A Chromium that does not start fails t, and every later test
// that asks.
func Shared(t testing.TB) *Browser {
	t.Helper()
	if _, err := os.Stat(execPath); err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%s is set and there is no Chromium at %s (apt-get install chromium)", RequireEnv, execPath)
		}
		t.Skipf("no Chromium at %s (apt-get install chromium; %s=1 makes this a failure)", execPath, RequireEnv)
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.b == nil && shared.err == nil {
		shared.b, shared.err = Start()
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.b
}

// CloseShared stops the Chromium that [Shared] started, if any. A test
// package's TestMain calls it after m.Run.
func CloseShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.b != nil {
		if err := shared.b.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		shared.b = nil
	}
}

// syncBuffer is a bytes.Buffer that Chromium's output goroutine and the
// test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
