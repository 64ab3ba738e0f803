package blueprint_test

import (
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
