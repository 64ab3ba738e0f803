package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
)

// The shipped out-of-the-box blueprint imports without warnings: its
// third policy's use of Django's ORM is the idiom the evaluator
// translates. "authflow plan" shows the update that policy asks for and
// applies nothing (it opens the store read-only): a second plan is still
// applicable. An expression using the ORM otherwise is imported with a
// warning naming the policy, the line and the construct, and "authflow
// check" lists it as a warning, exiting 0.
func TestImportAndCheckWarnExpressions(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	oobe := filepath.Join("..", "..", "blueprint", "testdata", "authentik", "default", "flow-oobe.yaml")
	// akadmin as authentik's bootstrap blueprint creates it, without a
	// password: nothing in authflow creates it.
	admin := filepath.Join(dir, "admin.yaml")
	orm := filepath.Join(dir, "orm.yaml")
	for f, doc := range map[string]string{
		admin: "version: 1\nentries:\n- {model: authentik_core.group, id: g, identifiers: {name: authentik Admins}, attrs: {is_superuser: true}}\n" +
			"- {model: authentik_core.user, identifiers: {username: akadmin}, attrs: {name: Admin, groups: [!KeyOf g]}}\n",
		orm: "version: 1\nentries:\n- model: authentik_policies_expression.expressionpolicy\n  identifiers: {name: orm}\n  attrs:\n    expression: |\n" +
			"      from authentik.flows.models import Flow\n      return Flow.objects.get(slug='x') != None\n",
	} {
		if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var out, errb bytes.Buffer
	imp := func(file string) []map[string]any {
		t.Helper()
		out.Reset()
		errb.Reset()
		code := run(context.Background(), []string{"import", "-db", db, "-o", "json", file}, &out, &errb)
		var res blueprint.Result
		if code != 0 || json.Unmarshal(out.Bytes(), &res) != nil || !res.Success {
			t.Fatalf("import %s: %d %s %s", file, code, out.String(), errb.String())
		}
		var warned []map[string]any
		for _, l := range res.Logs {
			if l.Event == blueprint.EventExpressionCannotRun {
				if l.LogLevel != "warning" {
					t.Errorf("level %q", l.LogLevel)
				}
				warned = append(warned, l.Attributes)
			}
		}
		return warned
	}
	if w := imp(admin); len(w) != 0 {
		t.Fatalf("warnings: %v", w)
	}
	if w := imp(oobe); len(w) != 0 {
		t.Fatalf("warnings: %v", w)
	}
	for range 2 {
		out.Reset()
		errb.Reset()
		code := run(context.Background(), []string{"plan", "-db", db, "-o", "json", "initial-setup"}, &out, &errb)
		var p struct {
			Applicable bool             `json:"applicable"`
			Updates    []map[string]any `json:"updates"`
		}
		if code != 0 || json.Unmarshal(out.Bytes(), &p) != nil || !p.Applicable || len(p.Updates) != 1 ||
			p.Updates[0]["policy"] != "default-oobe-flow-set-authentication" {
			t.Fatalf("plan: %d %s %s", code, out.String(), errb.String())
		}
	}
	warned := imp(orm)
	if len(warned) != 1 || warned[0]["policy"] != "orm" || warned[0]["line"] != float64(2) || warned[0]["construct"] != "Flow.objects.get" {
		t.Fatalf("warnings: %v", warned)
	}
	out.Reset()
	errb.Reset()
	code := run(context.Background(), []string{"check", "-db", db}, &out, &errb)
	want := `warning: expression policy "orm" cannot run: line 2: Flow.objects.get: Flow.objects.get is not supported`
	if code != 0 || !strings.Contains(out.String(), want) || !strings.Contains(out.String(), ": ok, 1 warnings\n") || strings.Count(out.String(), "warning:") != 1 {
		t.Errorf("check: %d %q %q", code, out.String(), errb.String())
	}
}

// A Python syntax error is refused when imported, with authentik's
// field error, and nothing is written.
func TestImportRefusesSyntaxError(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	bp := filepath.Join(dir, "bad.yaml")
	doc := "version: 1\nentries:\n- model: authentik_policies_expression.expressionpolicy\n  identifiers: {name: bad}\n  attrs:\n    expression: |\n      x = [1,\n        2)\n      return x\n"
	if err := os.WriteFile(bp, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"import", "-db", db, bp}, &out, &errb)
	want := `Expression Syntax Error: closing parenthesis ')' does not match opening parenthesis '[' on line 2 (temp-policy, line 3)`
	if code != exitInvalid || !strings.Contains(out.String(), want) {
		t.Errorf("import: %d %q %q", code, out.String(), errb.String())
	}
}

// serve and import share blueprintFlags.options, which passes
// expression.Check to the import: serve's import endpoint warns too.
func TestBlueprintOptionsCheckExpressions(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o := newBlueprintFlags(fs, "").options("")
	if o.CheckExpression == nil {
		t.Fatal("no expression checker")
	}
	ps := o.CheckExpression("x = 1\nimport os\nreturn True")
	if len(ps) != 1 || ps[0].Line != 2 || ps[0].Construct != "import" || ps[0].Message == "" {
		t.Errorf("problems %+v", ps)
	}
	if ps := o.CheckExpression("return True"); ps != nil {
		t.Errorf("problems of a runnable expression: %+v", ps)
	}
	// Prompts are checked with a prompt's parameters: user, not context.
	if o.CheckPromptExpression == nil {
		t.Fatal("no prompt expression checker")
	}
	if ps := o.CheckPromptExpression("return user.username"); ps != nil {
		t.Errorf("problems of a runnable prompt expression: %+v", ps)
	}
	if ps := o.CheckPromptExpression("return context"); len(ps) != 1 || ps[0].Construct != "context" {
		t.Errorf("prompt problems %+v", ps)
	}
}

// A prompt expression the evaluator cannot run imports with a warning
// naming the prompt, the field, the line and the construct (authentik
// stores prompt expressions unchecked, so a syntax error is only a
// warning too), and "authflow check" lists it; the shipped user-settings
// flow's prompt expressions run, so they give none.
func TestImportAndCheckWarnPromptExpressions(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	bp := filepath.Join(dir, "p.yaml")
	doc := "version: 1\nentries:\n" +
		"- model: authentik_stages_prompt.prompt\n  identifiers: {name: p-import}\n  attrs:\n" +
		"    {field_key: a, label: A, type: text, placeholder: \"x = 1\\nimport os\\nreturn x\", placeholder_expression: true}\n" +
		"- model: authentik_stages_prompt.prompt\n  identifiers: {name: p-syntax}\n  attrs:\n" +
		"    {field_key: b, label: B, type: text, initial_value: \"return [\", initial_value_expression: true, placeholder: \"import os\"}\n"
	if err := os.WriteFile(bp, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	settings := filepath.Join("..", "..", "blueprint", "testdata", "authentik", "default", "flow-default-user-settings-flow.yaml")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"import", "-db", db, "-o", "json", bp, settings}, &out, &errb)
	var results []blueprint.Result
	if err := json.Unmarshal(out.Bytes(), &results); err != nil || len(results) != 2 {
		t.Fatalf("import: %d %v %s %s", code, err, out.String(), errb.String())
	}
	var warned []map[string]any
	for _, res := range results {
		if !res.Success {
			t.Fatalf("import failed: %+v", res.Logs)
		}
		for _, l := range res.Logs {
			if l.Event == blueprint.EventExpressionCannotRun {
				warned = append(warned, l.Attributes)
			}
		}
	}
	if code != 0 || len(warned) != 2 ||
		warned[0]["prompt"] != "p-import" || warned[0]["field"] != "placeholder" || warned[0]["line"] != float64(2) || warned[0]["construct"] != "import" ||
		warned[1]["prompt"] != "p-syntax" || warned[1]["field"] != "initial_value" || warned[1]["construct"] != "syntax" {
		t.Fatalf("import: %d, warnings %v, %s", code, warned, errb.String())
	}
	out.Reset()
	errb.Reset()
	code = run(context.Background(), []string{"check", "-db", db}, &out, &errb)
	for _, want := range []string{
		`warning: prompt "p-import" placeholder cannot run: line 2: import: `,
		`warning: prompt "p-syntax" initial_value cannot run: line 1: syntax: `,
		": ok, 2 warnings\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check: no %q in %q", want, out.String())
		}
	}
	if code != 0 || strings.Count(out.String(), "warning:") != 2 {
		t.Errorf("check: %d %q %q", code, out.String(), errb.String())
	}
}
