package cli

import (
	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/password/strength"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/reputation"
)

// planOptions are the planner's options of serve, run and plan: the
// built-in evaluators, authentik's expression policies (package
// expression), whose helpers read the plan's own directory, and its
// reputation policies over rep, the scores the executor changes (nil:
// none kept, every score 0, as for "authflow plan"), and password
// policies with their zxcvbn check (package password/strength; the Have I
// Been Pwned check reaches the network, so it has no client here and
// fails, naming it).
func planOptions(rep reputation.Scores) plan.Options {
	evs := plan.Builtin(nil)
	evs[policy.ModelExpression] = expression.Evaluator(nil)
	evs[policy.ModelPassword] = strength.Evaluator(strength.Options{})
	if rep == nil {
		rep, _ = reputation.NewMem(reputation.Options{})
	}
	evs[policy.ModelReputation] = reputation.Evaluator(rep)
	return plan.Options{Evaluators: evs}
}

// checkExpression names the constructs of an expression that the
// evaluator (package expression) cannot run: blueprint.Options'
// CheckExpression of serve and import. blueprint and store do not import
// package expression, so that a host that needs no expressions does not
// link an interpreter; the command line does. The store's own check of
// an expression (a Python syntax error) is its default,
// store.Options.CheckExpression.
func checkExpression(src string) []blueprint.ExpressionProblem {
	return problems(expression.Check(src))
}

// checkPromptExpression is checkExpression for a prompt's placeholder or
// initial value (expression.CheckPrompt, with a prompt's parameters):
// blueprint.Options' CheckPromptExpression of serve and import.
// authentik stores prompt expressions unchecked, so the store does not
// check them, and a syntax error is a warning too.
func checkPromptExpression(src string) []blueprint.ExpressionProblem {
	return problems(expression.CheckPrompt(src))
}

func problems(ps []expression.Problem) []blueprint.ExpressionProblem {
	if len(ps) == 0 {
		return nil
	}
	out := make([]blueprint.ExpressionProblem, len(ps))
	for i, p := range ps {
		out[i] = blueprint.ExpressionProblem{Line: p.Line, Construct: p.Construct, Message: p.Msg}
	}
	return out
}
