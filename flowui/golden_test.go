package flowui_test

import (
	"bytes"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/flowui"
	"github.com/authflow/authflow/internal/testutil"
)

// TestGolden renders every sample challenge's page by its template, as
// shown and as answering a form, and compares it byte for byte with
// testdata/golden: a change to the rendering (an optimisation) must not
// change a page. go test ./flowui -run TestGolden -update rewrites them.
func TestGolden(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{CachePages: -1})
	if err != nil {
		t.Fatal(err)
	}
	posted := url.Values{
		"uid_field": {"<b>sent&</b>"}, "password": {"secret"}, "field_text": {`"text" <x>`},
		"field_email": {"a@b.c"}, "field_number": {"7"}, "field_checkbox": {"false"},
		"field_dropdown": {"a"}, "field_radio-button-group": {"a"}, "field_password": {"secret"},
		"field_date": {"2026-02-03"}, "field_date-time": {"2026-02-03T04:05"}, "code": {"123456"},
	}
	for _, ch := range flowui.Samples() {
		c := flowui.EnvelopeOf(ch).Component
		for _, v := range []struct {
			name   string
			posted url.Values
		}{{"", nil}, {"-posted", posted}} {
			var form url.Values
			if v.posted != nil {
				form = url.Values{"component": {c}}
				for k, vs := range v.posted {
					form[k] = vs
				}
			}
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", flowui.FlowPath+"sample/?next=%2Fa%3Fb%3D1%26c", nil)
			u.Render(w, r, "nonce-value", ch, "csrf-token", form)
			got := w.Body.Bytes()
			file := filepath.Join("testdata", "golden", c+v.name+".html")
			if testutil.Updating() {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Errorf("%s differs from %s at byte %d: %q, want %q", c+v.name, file, i, tail(got, i), tail(want, i))
			}
		}
	}
}

func tail(b []byte, i int) string {
	j := min(len(b), i+80)
	return string(b[max(0, i-40):j])
}
