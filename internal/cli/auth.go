package cli

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/authflow/authflow/api"
)

// tokenEnv names the environment variable that holds serve's API token
// when -token-file is not given.
const tokenEnv = "AUTHFLOW_TOKEN"

// loadToken returns serve's API token: the contents of file (surrounding
// whitespace trimmed) or, without one, $AUTHFLOW_TOKEN. "" means no
// token. A named file that cannot be read, or that holds only
// whitespace, is an error: a typo must not turn authentication off.
func loadToken(file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv(tokenEnv)), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading the token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("the token file %s is empty", file)
	}
	return tok, nil
}

// bearer returns an api Authorize function that requires
// "Authorization: Bearer <token>", compared in constant time. A request
// without a bearer token is not authenticated; one with another token
// gets authentik's "Token invalid/expired".
func bearer(token string) func(*http.Request, string) error {
	want := []byte(token)
	return func(r *http.Request, _ string) error {
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(got) == "" {
			return api.ErrNotAuthenticated
		}
		if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) != 1 {
			return &api.AuthenticationFailed{Detail: "Token invalid/expired"}
		}
		return nil
	}
}

// errOpenAddr is serve's refusal to listen beyond loopback without a
// token.
var errOpenAddr = errors.New("refusing to serve without a token on an address other hosts can reach")

// checkAddr refuses a listening address that is not loopback when there
// is no token. An empty host (":9000") listens on every interface.
func checkAddr(addr, token string) error {
	if token != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); host == "localhost" || ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %s: %w: give one with -token-file FILE or $%s, or listen on 127.0.0.1", addr, errOpenAddr, tokenEnv)
}
