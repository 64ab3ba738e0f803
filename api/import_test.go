package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/authflow/authflow/api"
)

// upload is a multipart body with the file field, and its Content-Type.
func upload(t *testing.T, field, content string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if field != "" {
		fw, err := w.CreateFormFile(field, "flow.yaml")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(content))
	}
	w.Close()
	return b.String(), w.FormDataContentType()
}

// POST /flows/instances/import/ imports an uploaded blueprint in one
// transaction and answers 200 with its result, as authentik does: success
// and its events, or "success": false with every error, each entry named,
// and nothing written, also for a document that cannot be read; only a
// request without a file is a 400. !Env is refused over HTTP; groups are
// handled.
func TestImport(t *testing.T) {
	c := newClient(t, nil)
	body, ct := upload(t, "", "")
	c.do("POST", "/api/v3/flows/instances/import/", body, "Content-Type", ct).expect(t, 400, `{"logs":[],"success":false}`)
	c.do("GET", "/api/v3/flows/instances/import/", "").status(t, 405)

	raw, err := os.ReadFile("../blueprint/testdata/authentik/example/flows-enrollment-2-stage.yaml")
	if err != nil {
		t.Fatal(err)
	}
	body, ct = upload(t, "file", string(raw))
	res := c.do("POST", "/api/v3/flows/instances/import/", body, "Content-Type", ct)
	var out struct {
		Logs []struct {
			LogLevel   string         `json:"log_level"`
			Attributes map[string]any `json:"attributes"`
		} `json:"logs"`
		Success bool `json:"success"`
	}
	if err := json.Unmarshal(res.status(t, 200), &out); err != nil || !out.Success || len(out.Logs) == 0 {
		t.Fatalf("import: %v %+v", err, out)
	}
	if n := c.must(200, "GET", "/api/v3/flows/instances/?slug=default-enrollment-flow", "")["pagination"].(map[string]any)["count"]; n != 1.0 {
		t.Errorf("imported flow count %v", n)
	}

	bad := `version: 1
entries:
- model: authentik_core.group
  id: g
  identifiers: {name: users}
- model: authentik_stages_user_write.userwritestage
  identifiers: {name: w}
  attrs: {create_users_group: !KeyOf g, user_type: nobody}
- model: authentik_stages_deny.denystage
  identifiers: {name: !Env HOME}
`
	body, ct = upload(t, "file", bad)
	res = c.do("POST", "/api/v3/flows/instances/import/", body, "Content-Type", ct)
	out.Logs, out.Success = nil, true
	if err := json.Unmarshal(res.status(t, 200), &out); err != nil || out.Success {
		t.Fatalf("failed import: %v %+v", err, out)
	}
	var failed []any
	for _, l := range out.Logs {
		if l.LogLevel == "error" {
			entry, _ := l.Attributes["entry"].(map[string]any)
			failed = append(failed, entry["index"], entry["line"])
		}
	}
	if got := fmt.Sprint(failed); got != "[1 6 2 9]" {
		t.Errorf("failed entries (index, line): %s", got)
	}
	got := string(res.Body)
	for _, want := range []string{`"user_type":["\"nobody\" is not a valid choice."]`, `!Env \"HOME\" is not allowed here`, `"success":false`} {
		if !strings.Contains(got, want) {
			t.Errorf("body lacks %s: %s", want, got)
		}
	}
	if n := c.must(200, "GET", "/api/v3/stages/user_write/?name=w", "")["pagination"].(map[string]any)["count"]; n != 0.0 {
		t.Error("a failed import wrote")
	}
	body, ct = upload(t, "file", "{{{")
	res = c.do("POST", "/api/v3/flows/instances/import/", body, "Content-Type", ct)
	out.Logs, out.Success = nil, true
	if err := json.Unmarshal(res.status(t, 200), &out); err != nil || out.Success || len(out.Logs) != 1 || out.Logs[0].LogLevel != "error" {
		t.Errorf("unreadable document: %v %s", err, res.Body)
	}
}

// A blueprint whose context reads an environment variable the host does
// not allow imports nothing and answers 200 with success false, naming the
// tag and the variable, never its value.
func TestImportContextRefused(t *testing.T) {
	t.Setenv("AUTHFLOW_TEST_SECRET_URI", "https://secret.example/")
	c := newClient(t, nil)
	doc := `version: 1
context:
  uri: !Env [AUTHFLOW_TEST_SECRET_URI, null]
entries:
- model: authentik_flows.flow
  identifiers: {slug: ctx-flow}
  attrs: {name: ctx, title: !Context uri, designation: authentication}
`
	body, ct := upload(t, "file", doc)
	res := c.do("POST", "/api/v3/flows/instances/import/", body, "Content-Type", ct)
	var out struct {
		Success bool `json:"success"`
	}
	if err := json.Unmarshal(res.status(t, 200), &out); err != nil || out.Success {
		t.Fatalf("import: %v %s", err, res.Body)
	}
	got := string(res.Body)
	if !strings.Contains(got, `!Env \"AUTHFLOW_TEST_SECRET_URI\" is not allowed here`) || strings.Contains(got, "secret.example") {
		t.Errorf("body: %s", got)
	}
	c.do("GET", "/api/v3/flows/instances/ctx-flow/", "").status(t, 404)
}

// GET /flows/instances/{slug}/export/ is the flow's blueprint, as an
// attachment; export_url points at it; it imports back unchanged.
func TestExportRoute(t *testing.T) {
	c := newClient(t, nil)
	f := c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"Login","slug":"login","title":"Hi","designation":"authentication"}`)
	st := c.must(201, "POST", "/api/v3/stages/deny/", `{"name":"deny","deny_message":"no"}`)
	c.must(201, "POST", "/api/v3/flows/bindings/", `{"target":"`+f["pk"].(string)+`","stage":"`+st["pk"].(string)+`","order":1}`)
	res := c.do("GET", f["export_url"].(string), "")
	if res.Code != 200 || res.Header.Get("Content-Disposition") != `attachment; filename="login.yaml"` ||
		!strings.Contains(string(res.Body), "model: authentik_stages_deny.denystage") {
		t.Fatalf("export: %d %v %s", res.Code, res.Header, res.Body)
	}
	body, ct := upload(t, "file", string(res.Body))
	var out struct {
		Success bool `json:"success"`
		Logs    []struct {
			Attributes map[string]any `json:"attributes"`
		} `json:"logs"`
	}
	if err := json.Unmarshal(c.do("POST", "/api/v3/flows/instances/import/", body, "Content-Type", ct).status(t, 200), &out); err != nil || !out.Success {
		t.Fatalf("re-import: %v %+v", err, out)
	}
	for _, l := range out.Logs {
		if l.Attributes["action"] != "unchanged" {
			t.Errorf("re-import changed something: %v", l.Attributes)
		}
	}
	c.do("GET", "/api/v3/flows/instances/nope/export/", "").status(t, 404)
}

// An invitation a blueprint import creates has the request's creator
// (Options.Creator) as its created_by, as one created with POST has: with
// a pk identifier and without.
func TestImportInvitationCreator(t *testing.T) {
	s := newStore(t, nil)
	admin, _ := mkUsers(t, s, `{"username":"akadmin","name":"Admin"}`)
	c := &client{t: t, h: api.NewHandler(s, &api.Options{Creator: func(*http.Request) (int64, bool) { return admin.PK, true }})}
	doc := `version: 1
entries:
- model: authentik_stages_invitation.invitation
  identifiers: {name: a}
- model: authentik_stages_invitation.invitation
  identifiers: {pk: 0193f1e2-0000-7000-8000-000000000001}
  attrs: {name: b}
`
	body, ct := upload(t, "file", doc)
	res := c.do("POST", "/api/v3/flows/instances/import/", body, "Content-Type", ct)
	if !bytes.Contains(res.status(t, 200), []byte(`"success":true`)) {
		t.Fatalf("import: %s", res.Body)
	}
	list := c.must(200, "GET", "/api/v3/stages/invitation/invitations/", "")
	results := list["results"].([]any)
	if len(results) != 2 {
		t.Fatalf("%d invitations", len(results))
	}
	for _, r := range results {
		inv := r.(map[string]any)
		if by := inv["created_by"].(map[string]any)["username"]; by != "akadmin" {
			t.Errorf("invitation %v created by %v, want akadmin", inv["name"], by)
		}
	}
}

// An import whose document has a user or group entry needs the
// permissions the users and groups endpoints would ask for (a group entry
// can make superusers, a user entry sets a password); one without them
// needs only the flow permissions.
func TestImportDirectoryPermissions(t *testing.T) {
	p := denying("authentik_core.enable_group_superuser")
	f := newFixture(t, &api.Options{Authorize: p.authorize})
	c := f.client
	flowsOnly := "version: 1\nentries:\n- model: authentik_stages_deny.denystage\n  identifiers: {name: d}\n"
	body, ct := upload(t, "file", flowsOnly)
	c.do("POST", "/api/v3/flows/instances/import/", body, "Content-Type", ct).status(t, 200)
	for _, asked := range p.take() {
		if strings.HasPrefix(asked, "authentik_core.") {
			t.Errorf("a document without users or groups asked for %s", asked)
		}
	}
	admins := "version: 1\nentries:\n- model: authentik_core.group\n  identifiers: {name: admins}\n  attrs: {is_superuser: true}\n"
	body, ct = upload(t, "file", admins)
	c.do("POST", "/api/v3/flows/instances/import/", body, "Content-Type", ct).status(t, 403)
	if n := c.must(200, "GET", "/api/v3/core/groups/?name=admins", "")["pagination"].(map[string]any)["count"]; n != 0.0 {
		t.Errorf("a refused import made %v groups", n)
	}
	p.set()
	body, ct = upload(t, "file", admins)
	c.do("POST", "/api/v3/flows/instances/import/", body, "Content-Type", ct).status(t, 200)
}
