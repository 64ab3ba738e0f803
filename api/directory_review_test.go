package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// set_password's parse errors say where the body stops being JSON, not
// which character: Go's messages quote it, and it may be one of the
// password's.
func TestSetPasswordSyntaxErrorQuotesNothing(t *testing.T) {
	f := newDirFixture(t, nil)
	path := f.user(f.bob) + "set_password/"
	for body, want := range map[string]string{
		`{"password": "ab\Xcd"}`:         `{"detail": "JSON parse error - invalid JSON: line 1 column 18 (char 17)"}`,
		"{\"password\":\n \"ab\x01cd\"}": `{"detail": "JSON parse error - invalid JSON: line 2 column 5 (char 17)"}`,
		`{"password": "abc" Y}`:          `{"detail": "JSON parse error - invalid JSON: line 1 column 20 (char 19)"}`,
		`{"password": "abcd`:             `{"detail": "JSON parse error - invalid JSON: line 1 column 19 (char 18)"}`,
		`{"password": "abc"}Z`:           `{"detail": "JSON parse error - invalid JSON: line 1 column 20 (char 19)"}`,
	} {
		res := f.do("POST", path, body)
		if res.Code != http.StatusBadRequest || strings.ContainsAny(string(res.Body), "XYZ\x01'") {
			t.Errorf("%q: %d %s", body, res.Code, res.Body)
		}
		res.expect(t, 400, want)
	}
}
