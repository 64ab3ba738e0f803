package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// authflow import: a blueprint into a file in one transaction, its
// metaapplyblueprint entries found beside it, a second run changing
// nothing, a dry run writing nothing, a failed one exiting 1.
func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	write := func(name, doc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("other.yaml", "version: 1\nmetadata: {name: Other}\nentries:\n- model: authentik_stages_deny.denystage\n  identifiers: {name: other}\n")
	main := write("main.yaml", `version: 1
entries:
- model: authentik_blueprints.metaapplyblueprint
  attrs: {identifiers: {name: Other}}
- model: authentik_core.group
  id: g
  identifiers: {name: users}
- model: authentik_stages_user_write.userwritestage
  identifiers: {name: w}
  attrs: {create_users_group: !KeyOf g}
`)
	runImport := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"import", "-db", db}, args...), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, out, errs := runImport("-dry-run", main); code != 0 || !strings.Contains(out, "create") {
		t.Fatalf("dry run: %d %s %s", code, out, errs)
	}
	code, out, errs := runImport("-o", "json", main)
	var res struct {
		Success bool `json:"success"`
		Logs    []struct {
			Attributes map[string]any `json:"attributes"`
		} `json:"logs"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || !res.Success {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	creates := 0
	for _, l := range res.Logs {
		if l.Attributes["action"] == "create" {
			creates++
		}
	}
	if creates != 3 { // the deny stage of the other blueprint, the group, the user write stage
		t.Errorf("%d creates: %s", creates, out)
	}
	if code, out, _ := runImport(main); code != 0 || !strings.HasSuffix(out, "ok: nothing to change\n") {
		t.Errorf("second import: %d %s", code, out)
	}
	bad := write("bad.yaml", "version: 1\nentries:\n- model: authentik_stages_deny.denystage\n  identifiers: {name: \"\"}\n")
	if code, out, _ := runImport(bad); code != 1 || !strings.Contains(out, "This field may not be blank.") || !strings.Contains(out, "nothing was written") {
		t.Errorf("bad import: %d %s", code, out)
	}
	unreadable := write("unreadable.yaml", "{{{")
	if code, _, errs := runImport(unreadable); code != 1 || !strings.Contains(errs, "unreadable.yaml") {
		t.Errorf("unreadable document: %d %s", code, errs)
	}
	if code, _, errs := runImport(); code != 2 || !strings.Contains(errs, "usage") {
		t.Errorf("no file: %d %s", code, errs)
	}
	if code, _, errs := runImport(filepath.Join(dir, "missing.yaml")); code != 3 || !strings.Contains(errs, "no such file") {
		t.Errorf("missing file: %d %s", code, errs)
	}
}

// -blueprint-env allows !Env (here in the blueprint's context) for the
// prefixes it names and no others: an empty item of the list allows
// nothing more, and a refused variable fails the import, named with its
// line, writing nothing.
func TestImportBlueprintEnv(t *testing.T) {
	t.Setenv("AUTHFLOW_CLI_MSG", "from the environment")
	t.Setenv("OTHER_CLI_MSG", "secret")
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	doc := func(name, variable string) string {
		p := filepath.Join(dir, name+".yaml")
		body := "version: 1\ncontext:\n  msg: !Env [" + variable + ", null]\nentries:\n" +
			"- model: authentik_stages_deny.denystage\n  identifiers: {name: " + name + "}\n  attrs: {deny_message: !Context msg}\n"
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, env := range []string{"AUTHFLOW_CLI_,", " AUTHFLOW_CLI_", ",AUTHFLOW_CLI_,,"} {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"import", "-db", db, "-dry-run", "-blueprint-env", env, doc("refused", "OTHER_CLI_MSG")}, &out, &errb)
		if code != exitInvalid || !strings.Contains(out.String(), `context failed error="key msg: line 3: !Env \"OTHER_CLI_MSG\" is not allowed here`) ||
			strings.Contains(out.String(), "secret") || !strings.Contains(out.String(), "nothing was written") {
			t.Errorf("-blueprint-env %q: %d %s %s", env, code, out.String(), errb.String())
		}
		out.Reset()
		code = run(context.Background(), []string{"import", "-db", db, "-dry-run", "-blueprint-env", env, doc("allowed", "AUTHFLOW_CLI_MSG")}, &out, &errb)
		if code != exitOK || !strings.Contains(out.String(), "create") {
			t.Errorf("-blueprint-env %q: %d %s %s", env, code, out.String(), errb.String())
		}
	}
}

// authflow export writes a flow as a blueprint (authentik's form, or
// -portable), exit 1 for an unknown slug.
func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	doc := filepath.Join(dir, "f.yaml")
	if err := os.WriteFile(doc, []byte("version: 1\nentries:\n- model: authentik_flows.flow\n  identifiers: {slug: login}\n  attrs: {name: Login, title: Hi, designation: authentication}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"import", "-db", db, doc}, &out, &errb); code != 0 {
		t.Fatalf("import: %d %s", code, errb.String())
	}
	for _, args := range [][]string{{"export", "-db", db, "login"}, {"export", "-db", db, "-portable", "login"}} {
		out.Reset()
		if code := run(context.Background(), args, &out, &errb); code != 0 || !strings.Contains(out.String(), "slug: login") {
			t.Errorf("%v: %d %s %s", args, code, out.String(), errb.String())
		}
	}
	if code := run(context.Background(), []string{"export", "-db", db, "nope"}, &out, &errb); code != 1 {
		t.Errorf("unknown slug: exit %d", code)
	}
	if code := run(context.Background(), []string{"export", "-db", db}, &out, &errb); code != 2 {
		t.Errorf("no slug: exit %d", code)
	}
}

// import takes directories (their blueprints in name order, each in its
// own transaction, with a progress line), and diff reports without
// writing.
func TestImportDirAndDiff(t *testing.T) {
	db := filepath.Join(t.TempDir(), "a.db")
	dir := "../../blueprint/testdata/authentik/example"
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"diff", "-db", db, dir}, &out, &errb); code != 0 || !strings.Contains(out.String(), "[1/7]") || !strings.Contains(out.String(), "create") {
		t.Fatalf("diff: %d %s %s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"diff", "-db", db, "-o", "json", dir}, &out, &errb); code != 0 {
		t.Fatalf("diff -o json: %d", code)
	}
	var all []struct {
		File    string `json:"file"`
		Success bool   `json:"success"`
	}
	if err := json.Unmarshal(out.Bytes(), &all); err != nil || len(all) != 7 {
		t.Fatalf("diff -o json: %v, %d results", err, len(all))
	}
	out.Reset()
	if code := run(context.Background(), []string{"import", "-db", db, dir}, &out, &errb); code != 0 {
		t.Fatalf("import: %d %s %s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"diff", "-db", db, filepath.Join(dir, "flows-unenrollment.yaml")}, &out, &errb); code != 0 || !strings.HasSuffix(out.String(), "ok: nothing to change\n") {
		t.Errorf("diff after import: %d %s", code, out.String())
	}
}

// authflow plan prints a flow's plan for a described request.
func TestPlanCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	doc := filepath.Join(dir, "f.yaml")
	if err := os.WriteFile(doc, []byte(`version: 1
entries:
- model: authentik_flows.flow
  id: f
  identifiers: {slug: login}
  attrs: {name: Login, title: Hi, designation: authentication, authentication: require_authenticated}
- model: authentik_stages_user_login.userloginstage
  id: s
  identifiers: {name: done}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf f, stage: !KeyOf s, order: 10}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"import", "-db", db, doc}, &out, &errb); code != 0 {
		t.Fatalf("import: %d %s", code, errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"plan", "-db", db, "login"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "denied (message_continue)") {
		t.Errorf("anonymous: %d %q", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"plan", "-db", db, "-authenticated", "login"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "1. done (order 10, reevaluate)") {
		t.Errorf("authenticated: %d %q", code, out.String())
	}
	req := filepath.Join(dir, "req.json")
	os.WriteFile(req, []byte(`{"user": {"is_authenticated": true}}`), 0o600)
	out.Reset()
	if code := run(context.Background(), []string{"plan", "-db", db, "-user-json", req, "-o", "json", "login"}, &out, &errb); code != 0 || !strings.Contains(out.String(), `"applicable": true`) {
		t.Errorf("json: %d %s", code, out.String())
	}
	// A user pk is read from the store: one it does not hold is invalid,
	// and so are facts given without one.
	errb.Reset()
	if code := run(context.Background(), []string{"plan", "-db", db, "-user", "3", "login"}, &out, &errb); code != exitInvalid || !strings.Contains(errb.String(), "no user with this pk: 3") {
		t.Errorf("unknown user: exit %d %q", code, errb.String())
	}
	os.WriteFile(req, []byte(`{"user": {"is_authenticated": true, "is_superuser": true}}`), 0o600)
	if code := run(context.Background(), []string{"plan", "-db", db, "-user-json", req, "login"}, &out, &errb); code != exitInvalid {
		t.Errorf("facts without a pk: exit %d", code)
	}
	if code := run(context.Background(), []string{"plan", "-db", db, "nope"}, &out, &errb); code != 1 {
		t.Errorf("unknown flow: exit %d", code)
	}
	out.Reset()
	if code := run(context.Background(), []string{"diagram", "-db", db, "login"}, &out, &errb); code != 0 ||
		out.String() != "graph TD\nflow_auth_requirement[\"Flow authentication requirement\nrequire_authenticated\"]\n"+
			"flow_auth_requirement --Requirement not fulfilled--> done[[\"End of the flow\"]]\n"+
			"flow_auth_requirement --Requirement fulfilled--> flow_start[\"placeholder\"]\nflow_start[[\"Flow\nLogin\"]]\n"+
			"--> stage_0([\"Stage (User Login Stage)\ndone\"])\nstage_0 --> done[[\"End of the flow\"]]\n" {
		t.Errorf("diagram: %d %q", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"diagram", "-db", db, "-planner", "login"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "auth --fails--> denied") {
		t.Errorf("diagram -planner: %d %q", code, out.String())
	}
}

// authflow plan evaluates expression policies, whose helpers read the
// store's users: a flow gated by `return request.user.username ==
// "alice"` applies to alice and is denied to bob, with the policy's
// message.
func TestPlanExpressionPolicy(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	doc := filepath.Join(dir, "f.yaml")
	if err := os.WriteFile(doc, []byte(`version: 1
entries:
- model: authentik_core.user
  identifiers: {username: alice}
  attrs: {name: Alice}
- model: authentik_core.user
  identifiers: {username: bob}
  attrs: {name: Bob}
- model: authentik_flows.flow
  id: f
  identifiers: {slug: only-alice}
  attrs: {name: Only Alice, title: Hi, designation: authentication}
- model: authentik_stages_dummy.dummystage
  id: s
  identifiers: {name: d}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf f, stage: !KeyOf s, order: 10}
- model: authentik_policies_expression.expressionpolicy
  id: p
  identifiers: {name: alice-only}
  attrs:
    expression: |
      if request.user.username == "alice":
          return True
      ak_message("only alice")
      return False
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf f, policy: !KeyOf p, order: 0}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"import", "-db", db, doc}, &out, &errb); code != 0 {
		t.Fatalf("import: %d %s %s", code, out.String(), errb.String())
	}
	for _, tt := range []struct{ user, want string }{{"1", "1. d (order 10"}, {"2", "denied"}} {
		out.Reset()
		errb.Reset()
		code := run(context.Background(), []string{"plan", "-db", db, "-authenticated", "-user", tt.user, "only-alice"}, &out, &errb)
		if code != 0 || !strings.HasPrefix(out.String(), tt.want) || tt.user == "2" && !strings.Contains(out.String(), "only alice") {
			t.Errorf("user %s: %d %q %q", tt.user, code, out.String(), errb.String())
		}
	}
}
