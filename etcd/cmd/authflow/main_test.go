package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/etcd"
	"github.com/authflow/authflow/etcd/internal/etcdtest"
)

var binPath string

// TestMain builds the command once, before the tests run it.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authflow-etcd-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "authflow")
	if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var servingLine = regexp.MustCompile(`^authflow: serving (http://127\.0\.0\.1:\d+/api/v3/) \(etcd .* prefix .*\)$`)

// serve starts "authflow serve -etcd ..." on a free port and returns its
// API's base URL.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-lines:
		m := servingLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("first line %q; stderr: %s", line, stderr.String())
		}
		return m[1]
	case <-time.After(30 * time.Second):
		t.Fatalf("no URL after 30s; stderr: %s", stderr.String())
	}
	return ""
}

func call(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: %d %s", method, url, res.StatusCode, b)
		}
	}
	return res.StatusCode, out
}

// Two "authflow serve" processes on one etcd: what one writes the other
// reads at once, and its cached plans follow; a third on another prefix
// sees a configuration of its own.
func TestTwoServers(t *testing.T) {
	c := etcdtest.Start(t, 1, nil)
	a := serve(t, "-etcd", c.Endpoints()[0])
	b := serve(t, "-etcd", strings.Join(c.Endpoints(), ","))
	other := serve(t, "-etcd", c.Endpoints()[0], "-etcd-prefix", "other/")

	if code, body := call(t, "POST", a+"flows/instances/", `{"name":"Login","slug":"login","title":"Welcome","designation":"authentication"}`); code != 201 {
		t.Fatalf("POST through a: %d %v", code, body)
	}
	code, stage := call(t, "POST", a+"stages/dummy/", `{"name":"d"}`)
	if code != 201 {
		t.Fatalf("POST stage: %d %v", code, stage)
	}
	code, f := call(t, "GET", b+"flows/instances/login/", "")
	if code != 200 || f["title"] != "Welcome" {
		t.Fatalf("GET through b: %d %v", code, f)
	}
	if code, body := call(t, "POST", b+"flows/bindings/", fmt.Sprintf(`{"target":%q,"stage":%q,"order":1}`, f["pk"], stage["pk"])); code != 201 {
		t.Fatalf("POST binding through b: %d %v", code, body)
	}
	if code, body := call(t, "GET", a+"flows/instances/login/", ""); code != 200 || body["title"] != "Welcome" {
		t.Fatalf("GET through b: %d %v", code, body)
	}
	if code, body := call(t, "GET", other+"flows/instances/login/", ""); code != 404 {
		t.Errorf("GET through the other prefix: %d %v; want 404", code, body)
	}

	// b plans the flow and caches the plan; a changes the flow; b's cache
	// drops the plan and b plans the change.
	if code, body := call(t, "POST", b+"flows/instances/login/plan/", `{}`); code != 200 || body["applicable"] != true {
		t.Fatalf("plan through b: %d %v", code, body)
	}
	if _, body := call(t, "GET", b+"flows/instances/cache_info/", ""); body["count"] != 1.0 {
		t.Fatalf("b's cache_info %v, want a count of 1", body)
	}
	if code, body := call(t, "PATCH", a+"flows/instances/login/", `{"authentication":"require_superuser"}`); code != 200 {
		t.Fatalf("PATCH through a: %d %v", code, body)
	}
	if code, body := call(t, "POST", b+"flows/instances/login/plan/", `{}`); code != 200 || body["applicable"] != false {
		t.Errorf("plan through b after a required a superuser: %d %v; want not applicable", code, body)
	}
	// That plan is cached in its turn; a's next change to the flow drops it.
	if code, body := call(t, "PATCH", a+"flows/instances/login/", `{"title":"Hello"}`); code != 200 {
		t.Fatalf("PATCH through a: %d %v", code, body)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, body := call(t, "GET", b+"flows/instances/cache_info/", "")
		if body["count"] == 0.0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b's cache_info %v 10s after a changed the flow", body)
		}
	}
}

// serve fails at once, and clearly, when etcd cannot be reached.
func TestUnreachable(t *testing.T) {
	start := time.Now()
	out, err := exec.Command(binPath, "serve", "-addr", "127.0.0.1:0", "-etcd", "http://127.0.0.1:1", "-etcd-dial-timeout", "1s").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "cannot reach") {
		t.Fatalf("serve on an unreachable etcd: %v, %s", err, out)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v to fail", took)
	}
}

// The users commands on etcd: a user added with a password from a file
// is listed, its password verifies through another store on the same
// cluster, and a second add of the username is refused with authentik's
// message.
func TestUsersOnEtcd(t *testing.T) {
	c := etcdtest.Start(t, 1, nil)
	url := c.Endpoints()[0]
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(binPath, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	}
	if code, out, errs := run("users", "add", "-etcd", url, "-username", "alice", "-password-file", pwFile); code != 0 || out != "created user alice (pk 1)\n" {
		t.Fatalf("users add: %d %q %q", code, out, errs)
	}
	if code, _, errs := run("users", "add", "-etcd", url, "-username", "alice", "-no-password"); code != 1 || !strings.Contains(errs, "username: This field must be unique.") {
		t.Errorf("second add: %d %q", code, errs)
	}
	code, out, errs := run("users", "list", "-etcd", url, "-o", "json")
	var users []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &users) != nil || len(users) != 1 || users[0]["username"] != "alice" || strings.Contains(out, "pbkdf2") {
		t.Fatalf("users list: %d %q %q", code, out, errs)
	}
	s, err := etcd.OpenStore(t.Context(), etcd.Config{Endpoints: c.Endpoints()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, err := s.CheckPassword(t.Context(), 1, "s3cret"); !ok || err != nil {
		t.Errorf("alice's password does not verify: %v %v", ok, err)
	}
}

// authflow run on etcd: a flow imported there is walked to its end, and
// serve's first start on a new prefix gives it authentik's default flows
// and akadmin, which a second server on the prefix finds and keeps.
func TestRunOnEtcd(t *testing.T) {
	c := etcdtest.Start(t, 1, nil)
	url := c.Endpoints()[0]
	doc := filepath.Join(t.TempDir(), "walk.yaml")
	if err := os.WriteFile(doc, []byte(`version: 1
entries:
- {model: authentik_flows.flow, id: f, identifiers: {slug: walk}, attrs: {name: walk, title: Walk, designation: authentication}}
- {model: authentik_stages_dummy.dummystage, id: d, identifiers: {name: d}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf f, stage: !KeyOf d, order: 10}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(binPath, "import", "-etcd", url, "-etcd-prefix", "walk/", doc).CombinedOutput(); err != nil {
		t.Fatalf("import: %v %s", err, out)
	}
	out, err := exec.Command(binPath, "run", "-etcd", url, "-etcd-prefix", "walk/", "walk").CombinedOutput()
	if err != nil || string(out) != "== Walk ==\nak-stage-dummy\nflow done: redirect to /\n" {
		t.Errorf("run on etcd: %v %q", err, out)
	}

	a := serve(t, "-etcd", url, "-etcd-prefix", "fresh/")
	b := serve(t, "-etcd", url, "-etcd-prefix", "fresh/")
	for _, base := range []string{a, b} {
		code, users := call(t, "GET", base+"core/users/", "")
		if code != 200 || users["pagination"].(map[string]any)["count"] != 1.0 {
			t.Errorf("users on a first-started prefix: %d %v", code, users)
		}
		code, flows := call(t, "GET", base+"flows/instances/?slug=initial-setup", "")
		if code != 200 || flows["pagination"].(map[string]any)["count"] != 1.0 {
			t.Errorf("initial-setup on a first-started prefix: %d %v", code, flows)
		}
	}
}
