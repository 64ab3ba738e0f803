package flowui_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authflow/authflow/flowui"
)

// FuzzForm posts any body under any content type to the form
// decoders: an answer is a JSON object naming a known component, or an
// ErrForm; never a panic, whatever the body (multipart with many parts
// or long headers, repeated keys, prompt types, a bad selected
// challenge).
func FuzzForm(f *testing.F) {
	u, err := newTestUI(f, flowui.Options{MaxBody: 4 << 10, MaxUpload: 8 << 10, MaxFields: 32})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][2]string{
		{"application/x-www-form-urlencoded", "component=ak-stage-identification&uid_field=a&password=b&remember_me=on"},
		{"application/x-www-form-urlencoded", "component=ak-stage-prompt&type:a=checkbox&a=on&type:b=number&b=&type:c=file&type:d=text&d=x&d=y"},
		{"application/x-www-form-urlencoded", "component=ak-stage-authenticator-validate&selected_challenge=%7B%7D&code=1"},
		{"application/x-www-form-urlencoded", "component=ak-stage-authenticator-validate&selected_challenge=null"},
		{"application/x-www-form-urlencoded", "component=ak-stage-captcha&h-captcha-response=t;x"},
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"component\"\r\n\r\nak-stage-prompt\r\n--x\r\nContent-Disposition: form-data; name=\"type:f\"\r\n\r\nfile\r\n--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\nContent-Type: image/png;,x\r\n\r\nabc\r\n--x--\r\n"},
		{"multipart/form-data; boundary=x", "--x\r\nbroken"},
		{"text/plain", "component=ak-stage-dummy"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, ctype, body string) {
		r := httptest.NewRequest("POST", flowui.FlowPath+"f/?next=/a;b", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		b, err := u.DecodeRequest(httptest.NewRecorder(), r)
		if err != nil {
			if !errors.Is(err, flowui.ErrForm) {
				t.Fatalf("%v is no ErrForm", err)
			}
			return
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if c, _ := m["component"].(string); c == "" {
			t.Fatalf("no component: %s", b)
		}
		// Bounded by the body: JSON escapes a byte in at most 6.
		if len(b) > 6*len(body)+128 {
			t.Fatalf("%d bytes from a body of %d", len(b), len(body))
		}
	})
}
