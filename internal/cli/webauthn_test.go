package cli

import (
	"fmt"
	"testing"
)

// serve's WebAuthn relying party is the site's host name and origin
// (from -base-url, else the listening address); a loopback address
// stands for localhost; another IP address gives none.
func TestWebAuthnOf(t *testing.T) {
	for base, want := range map[string]string{
		"https://auth.example.com":       "&{auth.example.com [https://auth.example.com]}",
		"https://Auth.example.com:8443/": "&{auth.example.com [https://auth.example.com:8443]}",
		"http://localhost:9000":          "&{localhost [http://localhost:9000]}",
		"http://127.0.0.1:9000":          "&{localhost [http://localhost:9000]}",
		"http://[::1]:9000":              "&{localhost [http://localhost:9000]}",
		"http://192.0.2.1:9000":          "<nil>",
		"not a url":                      "<nil>",
	} {
		if got := fmt.Sprint(webauthnOf(base)); got != want {
			t.Errorf("webauthnOf(%q) = %s, want %s", base, got, want)
		}
	}
}
