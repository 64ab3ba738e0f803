package flowui

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strconv"
	"testing"
)

// A session's CSRF token is the HMAC of its id, kept for its next
// pages, at most maxTokens of them.
func TestCSRFTokens(t *testing.T) {
	u := &UI{key: []byte("key")}
	u.keyed, _ = hmac.New(sha256.New, u.key).(hash.Cloner)
	for i := range maxTokens + 10 {
		s := "session" + strconv.Itoa(i)
		m := hmac.New(sha256.New, u.key)
		m.Write([]byte("flowui csrf\x00" + s))
		want := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
		if got := u.csrf(s); got != want || u.csrf(s) != want || !u.csrfOK(s, want) || u.csrfOK(s, want+"x") {
			t.Fatalf("%s: %s, want %s", s, got, want)
		}
		if len(u.tokens.m) > maxTokens {
			t.Fatalf("%d tokens kept", len(u.tokens.m))
		}
	}
}
