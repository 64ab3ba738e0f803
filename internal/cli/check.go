package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

// check verifies a store file: bbolt's page structure, every record's
// checksum, every index entry, every reference and every count. It opens
// the file read-only and prints one line per problem. It also prints a
// warning for each construct of a stored expression policy, or of a
// prompt's placeholder or initial-value expression, that the evaluator
// cannot run (expression.Check, expression.CheckPrompt): authentik
// accepts them, so they do not make the file bad, and alone they leave
// the exit status 0.
func check(ctx context.Context, args []string, stdout, stderr io.Writer, nb newBackend) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := newSource(fs, nb, "path of the bbolt `file` to verify")
	if code, ok := parseFlags(fs, args, usageLine(nb, "usage: authflow check [-db PATH]"), stderr); !ok {
		return code
	}
	s, err := src.open(ctx, &store.Options{ReadOnly: true, MaxPageSize: listPageSize})
	if err != nil {
		fmt.Fprintf(stderr, "authflow: %s: %v\n", src, err)
		return 1
	}
	defer s.Close()
	problems := s.Check(ctx)
	for _, p := range problems {
		fmt.Fprintf(stdout, "%s: %v\n", src, p)
	}
	warnings, err := expressionWarnings(ctx, s)
	if err != nil {
		problems = append(problems, err)
		fmt.Fprintf(stdout, "%s: %v\n", src, err)
	}
	sw, err := sealWarnings(ctx, s)
	if err != nil {
		problems = append(problems, err)
		fmt.Fprintf(stdout, "%s: %v\n", src, err)
	}
	warnings = append(warnings, sw...)
	for _, w := range warnings {
		fmt.Fprintf(stdout, "%s: warning: %s\n", src, w)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "authflow: %s: %d problems\n", src, len(problems))
		return 1
	}
	if len(warnings) > 0 {
		fmt.Fprintf(stdout, "%s: ok, %d warnings\n", src, len(warnings))
		return 0
	}
	fmt.Fprintf(stdout, "%s: ok\n", src)
	return 0
}

// expressionWarnings lists, in the order of the policies' names, each
// construct of a stored expression policy that the evaluator cannot run:
// `expression policy "NAME" cannot run: line N: CONSTRUCT: why`, the line
// being that of the expression's own text; then, in the order of the
// prompts' names, each of a prompt's expressions: `prompt "NAME"
// placeholder cannot run: line N: CONSTRUCT: why` (or initial_value).
func expressionWarnings(ctx context.Context, s *store.Store) ([]string, error) {
	var out []string
	err := s.View(ctx, func(tx *store.Tx) error {
		ps, err := listAll(tx, store.Policies.Kind(string(policy.ModelExpression)), "")
		if err != nil {
			return err
		}
		for _, p := range ps {
			e, ok := p.Config.(policy.Expression)
			if !ok {
				continue
			}
			for _, pr := range checkExpression(e.Expression) {
				out = append(out, fmt.Sprintf("expression policy %q cannot run: line %d: %s: %s", p.Name, pr.Line, pr.Construct, pr.Message))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the expression policies: %w", err)
	}
	err = s.View(ctx, func(tx *store.Tx) error {
		ps, err := listAll(tx, store.Prompts, "")
		if err != nil {
			return err
		}
		slices.SortFunc(ps, func(a, b stage.PromptView) int { return strings.Compare(a.Name, b.Name) })
		for _, p := range ps {
			for _, f := range []struct {
				field  string
				src    string
				isExpr bool
			}{{"placeholder", p.Placeholder, p.PlaceholderExpression}, {"initial_value", p.InitialValue, p.InitialValueExpression}} {
				if !f.isExpr {
					continue
				}
				for _, pr := range checkPromptExpression(f.src) {
					out = append(out, fmt.Sprintf("prompt %q %s cannot run: line %d: %s: %s", p.Name, f.field, pr.Line, pr.Construct, pr.Message))
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the prompts: %w", err)
	}
	return out, nil
}
