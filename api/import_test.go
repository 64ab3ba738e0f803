package api_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"os"
	"strings"
	"testing"
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
// transaction: 200 with its events, or 400 with every error and nothing
// written; !Env is refused over HTTP; groups are handled.
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
	got := string(res.status(t, 400))
	for _, want := range []string{`"user_type":["\"nobody\" is not a valid choice."]`, `!Env \"HOME\" is not allowed here`, `"success":false`} {
		if !strings.Contains(got, want) {
			t.Errorf("400 body lacks %s: %s", want, got)
		}
	}
	if n := c.must(200, "GET", "/api/v3/stages/user_write/?name=w", "")["pagination"].(map[string]any)["count"]; n != 0.0 {
		t.Error("a failed import wrote")
	}
	body, ct = upload(t, "file", "{{{")
	c.do("POST", "/api/v3/flows/instances/import/", body, "Content-Type", ct).status(t, 400)
}
