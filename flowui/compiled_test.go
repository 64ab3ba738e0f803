package flowui_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authflow/authflow/flowui"
)

// Every page of the UI's own templates renders compiled
// (internal/tmplexec), not by html/template: its samples' pages, as a
// visitor sees them and as they are kept.
func TestTemplatesCompiled(t *testing.T) {
	for _, cache := range []int{0, -1} {
		u, err := newTestUI(t, flowui.Options{CachePages: cache})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", flowui.FlowPath+"sample/", nil)
		for _, ch := range flowui.Samples() {
			for range 2 {
				u.Render(&discard{h: http.Header{}}, r, "nonce", ch, "csrf", nil)
			}
		}
		if nc := u.NotCompiled(); len(nc) > 0 {
			t.Errorf("cache %d: not compiled:\n%s", cache, nc)
		}
	}
}
