package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/authflow/authflow/api"
)

// tsclientVersion is the version of authentik's TypeScript client that
// api/tsclient/package-lock.json pins.
const tsclientVersion = "2025.6.4-1755003758"

// authentik's TypeScript client (@goauthentik/api) reads and writes users
// and groups through its typed CoreApi against the API, over HTTP, with a
// bearer token as `authflow serve` asks for: api/tsclient/users_groups.mjs
// does the calls and checks what the client decodes; every response it
// gets is also checked against the OpenAPI document. The test needs Node.js
// and `npm ci` in api/tsclient, so it runs only with AUTHFLOW_TSCLIENT=1
// (as .ci/run sets it), and then fails when either is missing.
func TestTypeScriptClient(t *testing.T) {
	if os.Getenv("AUTHFLOW_TSCLIENT") != "1" {
		t.Skip("authentik's TypeScript client: set AUTHFLOW_TSCLIENT=1 after `npm ci` in api/tsclient (needs Node.js 20)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("AUTHFLOW_TSCLIENT=1 but Node.js is not on PATH: %v", err)
	}
	dir, err := filepath.Abs("tsclient")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "@goauthentik", "api", "package.json"))
	if err != nil {
		t.Fatalf("AUTHFLOW_TSCLIENT=1 but the client is not installed (run `npm ci` in api/tsclient): %v", err)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatalf("node_modules/@goauthentik/api/package.json: %v", err)
	}
	if pkg.Version != tsclientVersion {
		t.Fatalf("node_modules has @goauthentik/api %s, want %s (run `npm ci` in api/tsclient)", pkg.Version, tsclientVersion)
	}

	const token = "tsclient-token"
	h := api.NewHandler(newStore(t, nil), &api.Options{
		Authorize: func(r *http.Request, _ string) error {
			if r.Header.Get("Authorization") != "Bearer "+token {
				return api.ErrNotAuthenticated
			}
			return nil
		},
	})
	mux := http.NewServeMux()
	mux.Handle(api.Prefix, schemaChecked(t, h))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "users_groups.mjs", srv.URL)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "AUTHFLOW_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	t.Logf("node users_groups.mjs %s:\n%s", srv.URL, out)
	if err != nil {
		t.Fatalf("authentik's TypeScript client: %v (the steps above say which calls failed)", err)
	}
}

// schemaChecked serves h and checks each response against the OpenAPI
// document (checkResponse), as the in-process client of the other tests
// does.
func schemaChecked(t *testing.T, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		checkResponse(t, r, rec.Code, rec.Header(), rec.Body.Bytes())
	})
}
