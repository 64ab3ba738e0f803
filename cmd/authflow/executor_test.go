package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// firstStartLines are what serve prints after its URL on a first start.
func firstStartLines(t *testing.T, srv *server) []string {
	t.Helper()
	var lines []string
	timeout := time.After(10 * time.Second)
	for len(lines) < 3 {
		select {
		case l, ok := <-srv.out:
			if !ok {
				return lines
			}
			lines = append(lines, l)
		case <-timeout:
			return lines
		}
	}
	return lines
}

// On a new file serve starts like authentik: the default flows, akadmin
// without a usable password in the superuser group "authentik Admins",
// and the URL of initial-setup. A second start changes nothing; a start
// with -no-defaults does none of it.
func TestFirstStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "authflow.db")
	srv := start(t, bin, db)
	host := strings.TrimSuffix(srv.base, "/api/v3/")
	lines := firstStartLines(t, srv)
	if len(lines) < 2 || lines[1] != "authflow: set it through the initial-setup flow: "+host+"/if/flow/initial-setup/" {
		t.Fatalf("first start printed %q", lines)
	}
	users := srv.call(t, http.StatusOK, "GET", "core/users/", "")
	flows := srv.call(t, http.StatusOK, "GET", "flows/instances/?page_size=100", "")
	groups := srv.call(t, http.StatusOK, "GET", "core/groups/", "")
	if n := users["pagination"].(map[string]any)["count"]; n != 1.0 {
		t.Fatalf("%v users after a first start", n)
	}
	admin := users["results"].([]any)[0].(map[string]any)
	g := admin["groups_obj"].([]any)
	if admin["username"] != "akadmin" || admin["is_superuser"] != true || len(g) != 1 ||
		g[0].(map[string]any)["name"] != "authentik Admins" || g[0].(map[string]any)["is_superuser"] != true {
		t.Errorf("akadmin: %v", admin)
	}
	slugs := map[string]bool{}
	for _, f := range flows["results"].([]any) {
		slugs[f.(map[string]any)["slug"].(string)] = true
	}
	for _, want := range []string{"default-authentication-flow", "default-invalidation-flow", "initial-setup", "default-password-change", "default-user-settings-flow"} {
		if !slugs[want] {
			t.Errorf("no flow %s after a first start: %v", want, slugs)
		}
	}
	// akadmin has no usable password: the initial-setup flow applies (its
	// plan would fail otherwise); planning it is read-only.
	if p := srv.call(t, http.StatusOK, "POST", "flows/instances/initial-setup/plan/", `{}`); p["applicable"] != true {
		t.Errorf("initial-setup does not apply: %v", p)
	}
	if err := srv.stop(t); err != nil {
		t.Fatal(err)
	}

	srv = start(t, bin, db)
	if lines := firstStartLines(t, srv); len(lines) != 0 {
		t.Errorf("a second start printed %q", lines)
	}
	for path, before := range map[string]map[string]any{"core/users/": users, "flows/instances/?page_size=100": flows, "core/groups/": groups} {
		if after := srv.call(t, http.StatusOK, "GET", path, ""); !jsonEqual(before, after) {
			t.Errorf("%s changed on a second start", path)
		}
	}
	// The printed URL is the initial-setup page (package flowui), and
	// / sends a visitor to the login page.
	host = strings.TrimSuffix(srv.base, "/api/v3/")
	for path, want := range map[string]string{"/if/flow/initial-setup/": `value="ak-stage-prompt"`, "/": `value="ak-stage-identification"`} {
		resp, err := http.Get(host + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	if err := srv.stop(t); err != nil {
		t.Fatal(err)
	}

	bare := start(t, bin, filepath.Join(t.TempDir(), "bare.db"), "-no-defaults")
	if lines := firstStartLines(t, bare); len(lines) != 0 {
		t.Errorf("-no-defaults printed %q", lines)
	}
	for _, path := range []string{"core/users/", "core/groups/", "flows/instances/"} {
		if n := bare.call(t, http.StatusOK, "GET", path, "")["pagination"].(map[string]any)["count"]; n != 0.0 {
			t.Errorf("-no-defaults: %v in %s", n, path)
		}
	}
	if err := bare.stop(t); err != nil {
		t.Fatal(err)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// serve runs the default flows: the executor answers without the API
// token (authentik's executor serves anyone), execute plans a flow for
// the session and links to it, the inspector shows it (to the token only),
// it survives a restart, cancel drops it, and the default flows lead to
// the shipped ones.
func TestServeExecutor(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("tok"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := start(t, bin, filepath.Join(dir, "x.db"), "-token-file", tokenFile)
	host := strings.TrimSuffix(srv.base, "/api/v3/")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, token bool) (int, map[string]any, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("GET", host+path, nil)
		if token {
			req.Header.Set("Authorization", "Bearer tok")
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return res.StatusCode, m, res.Header
	}

	code, ch, _ := get("/api/v3/flows/executor/default-authentication-flow/", false)
	switch {
	case code != 200:
		t.Fatalf("executor: %d %v", code, ch)
	case ch["component"] == "ak-stage-identification":
	case ch["component"] == "ak-stage-access-denied" && ch["error_message"] == "The stage kind Identification Stage is not supported by authflow yet.":
	default:
		t.Errorf("default-authentication-flow's first challenge: %v", ch)
	}
	if code, _, _ := get("/api/v3/flows/instances/initial-setup/execute/", false); code != 403 {
		t.Errorf("execute without the token: %d", code)
	}
	code, link, _ := get("/api/v3/flows/instances/initial-setup/execute/", true)
	if code != 200 || link["link"] != host+"/if/flow/initial-setup/" {
		t.Fatalf("execute: %d %v", code, link)
	}
	code, ins, _ := get("/api/v3/flows/inspector/initial-setup/", true)
	if code != 200 || ins["is_completed"] != false {
		t.Fatalf("inspector: %d %v", code, ins)
	}
	cur := ins["current_plan"].(map[string]any)["current_stage"].(map[string]any)["stage_obj"].(map[string]any)
	if cur["name"] != "stage-default-oobe-password" {
		t.Errorf("inspector's current stage: %v", cur)
	}
	if code, _, _ := get("/api/v3/flows/inspector/initial-setup/", false); code != 404 {
		t.Errorf("inspector without the token: %d, want authentik's 404", code)
	}
	// The execution is kept in the file: it survives a restart (the
	// cookie jar, keyed by host and not port, keeps the session).
	if err := srv.stop(t); err != nil {
		t.Fatal(err)
	}
	srv = start(t, bin, filepath.Join(dir, "x.db"), "-token-file", tokenFile)
	host = strings.TrimSuffix(srv.base, "/api/v3/")
	if code, ins, _ := get("/api/v3/flows/inspector/initial-setup/", true); code != 200 || ins["is_completed"] != false ||
		ins["current_plan"].(map[string]any)["current_stage"].(map[string]any)["stage_obj"].(map[string]any)["name"] != "stage-default-oobe-password" {
		t.Errorf("inspector after a restart: %d %v", code, ins)
	}
	code, _, h := get("/flows/-/cancel/", false)
	if code != http.StatusFound || h.Get("Location") != "/flows/-/default/invalidation/" {
		t.Errorf("cancel: %d %q", code, h.Get("Location"))
	}
	if code, ins, _ := get("/api/v3/flows/inspector/initial-setup/", true); code != 400 {
		t.Errorf("inspector after cancel: %d %v, want 400", code, ins)
	}
	// Where cancel leads: the shipped invalidation flow's page.
	code, _, h = get("/flows/-/default/invalidation/", false)
	if code != http.StatusFound || h.Get("Location") != "/if/flow/default-invalidation-flow/" {
		t.Errorf("default invalidation flow: %d %q", code, h.Get("Location"))
	}
	code, _, h = get("/flows/-/default/authentication/?next=%2Fx", false)
	if code != http.StatusFound || h.Get("Location") != "/if/flow/default-authentication-flow/?next=%2Fx" {
		t.Errorf("default authentication flow: %d %q", code, h.Get("Location"))
	}
	if err := srv.stop(t); err != nil {
		t.Fatal(err)
	}
}
