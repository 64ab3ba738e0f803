package flowui_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/authflow/authflow/executor"
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

// A host's template, compiled on the samples, that fails on a
// visitor's challenge (a field of a nil pointer, which the samples
// set) answers the page that could not be shown, as html/template's
// error would; the next challenge that it renders is shown.
func TestCompiledTemplateFails(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{CachePages: -1, Templates: fstest.MapFS{
		"ak-stage-dummy.html": {Data: []byte(`<p id="cancel">{{.Challenge.FlowInfo.CancelURL}}</p>`)}}})
	if err != nil {
		t.Fatal(err)
	}
	if nc := u.NotCompiled(); len(nc) > 0 {
		t.Fatalf("not compiled: %s", nc)
	}
	r := httptest.NewRequest("GET", flowui.FlowPath+"sample/", nil)
	w := httptest.NewRecorder()
	u.Render(w, r, "nonce", &executor.DummyChallenge{Envelope: executor.Envelope{Component: executor.ComponentDummy}}, "csrf", nil)
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "could not be shown") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	u.Render(w, r, "nonce", &executor.DummyChallenge{Envelope: executor.Envelope{Component: executor.ComponentDummy,
		FlowInfo: &executor.FlowInfo{Title: "T", CancelURL: "/cancel"}}}, "csrf", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `<p id="cancel">/cancel</p>`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if nc := u.NotCompiled(); len(nc) > 0 {
		t.Fatalf("not compiled after the failure: %s", nc)
	}
}
