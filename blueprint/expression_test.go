package blueprint_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
)

// Options.CheckExpression: each problem of a written expression policy's
// stored expression is a warning naming the policy, the line and the
// construct; the entry still imports, on a create, an update and an
// unchanged re-import alike; other models are not checked.
func TestCheckExpressionWarns(t *testing.T) {
	s := newStore(t)
	var asked []string
	opts := blueprint.Options{CheckExpression: func(src string) []blueprint.ExpressionProblem {
		asked = append(asked, src)
		if !strings.Contains(src, "import os") {
			return nil
		}
		return []blueprint.ExpressionProblem{{Line: 2, Construct: "import os", Message: "module \"os\" is not available"}}
	}}
	doc := func(expr string) string {
		return "version: 1\nentries:\n- model: authentik_stages_deny.denystage\n  identifiers: {name: deny}\n" +
			"- model: authentik_policies_expression.expressionpolicy\n  identifiers: {name: p}\n  attrs:\n    expression: " + expr + "\n"
	}
	warnings := func(res blueprint.Result) []map[string]any {
		var out []map[string]any
		for _, l := range res.Logs {
			if l.Event == blueprint.EventExpressionCannotRun && l.LogLevel == "warning" {
				out = append(out, l.Attributes)
			}
		}
		return out
	}
	for i, step := range []struct {
		expr  string
		warns int
	}{
		{`"# x\nimport os\nreturn True"`, 1},
		{`"# x\nimport os\nreturn True"`, 1}, // unchanged
		{`"return True"`, 0},                 // updated
	} {
		res := apply(t, s, doc(step.expr), opts)
		w := warnings(res)
		if !res.Success || len(w) != step.warns {
			t.Fatalf("step %d: success %v, warnings %v", i, res.Success, w)
		}
		if step.warns == 1 && (w[0]["policy"] != "p" || w[0]["line"] != 2 || w[0]["construct"] != "import os" || w[0]["message"] != `module "os" is not available`) {
			t.Errorf("step %d: warning %v", i, w[0])
		}
	}
	if len(asked) != 3 || asked[2] != "return True" {
		t.Errorf("asked %q", asked)
	}
	// Without a checker there are no such warnings.
	if w := warnings(apply(t, newStore(t), doc(`"import os\nreturn True"`), blueprint.Options{})); len(w) != 0 {
		t.Errorf("no checker: %v", w)
	}
}

// Options.CheckPromptExpression: each problem of a written prompt's
// placeholder or initial value, when it is an expression, is a warning
// naming the prompt, the field, the line and the construct; the entry
// imports; a text that is not an expression is not checked.
func TestCheckPromptExpressionWarns(t *testing.T) {
	var asked []string
	opts := blueprint.Options{CheckPromptExpression: func(src string) []blueprint.ExpressionProblem {
		asked = append(asked, src)
		if !strings.Contains(src, "import os") {
			return nil
		}
		return []blueprint.ExpressionProblem{{Line: 1, Construct: "import", Message: "not supported"}}
	}}
	doc := func(phExpr, ivExpr bool) string {
		return "version: 1\nentries:\n- model: authentik_stages_prompt.prompt\n  identifiers: {name: p}\n  attrs:\n" +
			"    field_key: k\n    label: K\n    type: text\n" +
			"    placeholder: \"import os\\nreturn 1\"\n    placeholder_expression: " + strconv.FormatBool(phExpr) + "\n" +
			"    initial_value: \"return 2\"\n    initial_value_expression: " + strconv.FormatBool(ivExpr) + "\n"
	}
	warnings := func(res blueprint.Result) []map[string]any {
		var out []map[string]any
		for _, l := range res.Logs {
			if l.Event == blueprint.EventExpressionCannotRun && l.LogLevel == "warning" {
				out = append(out, l.Attributes)
			}
		}
		return out
	}
	s := newStore(t)
	res := apply(t, s, doc(true, true), opts)
	w := warnings(res)
	if !res.Success || len(w) != 1 || w[0]["prompt"] != "p" || w[0]["field"] != "placeholder" || w[0]["line"] != 1 ||
		w[0]["construct"] != "import" || w[0]["message"] != "not supported" {
		t.Errorf("success %v, warnings %v", res.Success, w)
	}
	if len(asked) != 2 || asked[0] != "import os\nreturn 1" || asked[1] != "return 2" {
		t.Errorf("asked %q", asked)
	}
	asked = nil
	if res := apply(t, s, doc(false, false), opts); !res.Success || len(warnings(res)) != 0 || len(asked) != 0 {
		t.Errorf("not expressions: success %v, warnings %v, asked %q", res.Success, warnings(res), asked)
	}
	// The policy checker does not see prompts.
	policyOnly := blueprint.Options{CheckExpression: opts.CheckPromptExpression}
	if w := warnings(apply(t, newStore(t), doc(true, false), policyOnly)); len(w) != 0 || len(asked) != 0 {
		t.Errorf("policy checker: %v, asked %q", w, asked)
	}
}
