package flowui_test

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/authflow/authflow/internal/browsertest"
	"github.com/authflow/authflow/internal/tmplexec"
)

// TestMain stops the shared browser of the browser tests, and has
// every page that a compiled template renders in the tests rendered by
// html/template too: the tests fail when any differs. A run with
// benchmarks (-test.bench) does not, so that they measure the compiled
// templates alone.
func TestMain(m *testing.M) {
	var (
		mu      sync.Mutex
		differs []string
	)
	flag.Parse()
	if b := flag.Lookup("test.bench"); b != nil && b.Value.String() != "" {
		os.Exit(m.Run())
	}
	tmplexec.Verify = func(name string, html, compiled []byte) {
		mu.Lock()
		defer mu.Unlock()
		differs = append(differs, fmt.Sprintf("template %q:\nhtml/template: %q\ncompiled:      %q", name, html, compiled))
	}
	code := m.Run()
	browsertest.CloseShared()
	for _, d := range differs {
		fmt.Fprintln(os.Stderr, "compiled template differs from html/template:", d)
		code = 1
	}
	os.Exit(code)
}
