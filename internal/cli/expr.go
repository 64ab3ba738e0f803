package cli

import (
	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/expression"
)

// checkExpression names the constructs of an expression that the
// evaluator (package expression) cannot run: blueprint.Options'
// CheckExpression of serve and import. blueprint and store do not import
// package expression, so that a host that needs no expressions does not
// link an interpreter; the command line does. The store's own check of
// an expression (a Python syntax error) is its default,
// store.Options.CheckExpression.
func checkExpression(src string) []blueprint.ExpressionProblem {
	ps := expression.Check(src)
	if len(ps) == 0 {
		return nil
	}
	out := make([]blueprint.ExpressionProblem, len(ps))
	for i, p := range ps {
		out[i] = blueprint.ExpressionProblem{Line: p.Line, Construct: p.Construct, Message: p.Msg}
	}
	return out
}
