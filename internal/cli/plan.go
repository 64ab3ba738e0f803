package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
)

// planCmd prints the plan a flow makes for a described request.
func planCmd(ctx context.Context, args []string, stdout, stderr io.Writer, nb newBackend) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := newSource(fs, nb, "path of the bbolt `file`")
	userJSON := fs.String("user-json", "", "`file` holding the request as JSON: {\"user\": {...}, \"outpost\": bool, \"context\": {...}}")
	authed := fs.Bool("authenticated", false, "the user is authenticated")
	pk := fs.Int64("user", 0, "the user's `pk`, whose groups, superuser status and attributes are read from the store")
	outpost := fs.Bool("outpost", false, "the request comes from an outpost")
	out := fs.String("o", "text", "output `format`: text or json")
	line := usageLine(nb, "usage: authflow plan [-db PATH] [-user-json FILE | -authenticated -user PK -outpost] [-o text|json] SLUG")
	if code, ok := parseArgs(fs, args, line, stderr, func() bool { return fs.NArg() == 1 && (*out == "text" || *out == "json") }); !ok {
		return code
	}
	req := plan.Request{User: plan.User{PK: *pk, Authenticated: *authed}, Outpost: *outpost}
	if *userJSON != "" {
		raw, err := os.ReadFile(*userJSON)
		if err != nil {
			fmt.Fprintf(stderr, "authflow plan: %v\n", err)
			return exitError
		}
		if req, err = plan.ParseRequest(raw); err != nil {
			fmt.Fprintf(stderr, "authflow plan: %s: %v\n", *userJSON, err)
			return exitInvalid
		}
	}
	s, err := src.open(ctx, &store.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(stderr, "authflow: %v\n", err)
		return exitError
	}
	defer s.Close()
	var p plan.Plan
	err = s.View(ctx, func(tx *store.Tx) error {
		var err error
		p, err = plan.Make(ctx, tx, fs.Arg(0), req, planOptions(nil))
		return err
	})
	if err != nil {
		fmt.Fprintf(stderr, "authflow plan: %v\n", err)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, plan.ErrEmptyFlow) || errors.Is(err, plan.ErrNoEvaluator) || errors.Is(err, plan.ErrUnknownUser) {
			return exitInvalid
		}
		return exitError
	}
	if *out == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(p)
		return exitOK
	}
	if !p.Applicable {
		fmt.Fprintf(stdout, "denied (%s)", p.DeniedAction)
		if len(p.Messages) > 0 {
			fmt.Fprintf(stdout, ": %s", strings.Join(p.Messages, "; "))
		}
		fmt.Fprintln(stdout)
	}
	for i, st := range p.Stages {
		fmt.Fprintf(stdout, "%d. %s (order %d, %s)\n", i+1, st.Name, st.Order, st.Marker)
	}
	for _, step := range p.Trace {
		res := "fails"
		if step.Passing {
			res = "passes"
		}
		if !step.Evaluated {
			res = "not evaluated"
		}
		what := step.What
		if step.Policy != "" {
			what += " " + step.Policy
		}
		fmt.Fprintf(stdout, "  %s: %s: %s\n", what, res, step.Why)
	}
	return exitOK
}

// diagramCmd prints authentik's Mermaid drawing of a flow.
func diagramCmd(ctx context.Context, args []string, stdout, stderr io.Writer, nb newBackend) int {
	fs := flag.NewFlagSet("diagram", flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := newSource(fs, nb, "path of the bbolt `file`")
	planner := fs.Bool("planner", false, "draw what the planner does, not authentik's drawing")
	line := usageLine(nb, "usage: authflow diagram [-db PATH] [-planner] SLUG")
	if code, ok := parseArgs(fs, args, line, stderr, func() bool { return fs.NArg() == 1 }); !ok {
		return code
	}
	s, err := src.open(ctx, &store.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(stderr, "authflow: %v\n", err)
		return exitError
	}
	defer s.Close()
	var d string
	err = s.View(ctx, func(tx *store.Tx) error {
		var err error
		if *planner {
			d, err = plan.PlannerDiagram(tx, fs.Arg(0))
		} else {
			d, err = plan.Diagram(tx, fs.Arg(0))
		}
		return err
	})
	if err != nil {
		fmt.Fprintf(stderr, "authflow diagram: %v\n", err)
		if errors.Is(err, store.ErrNotFound) {
			return exitInvalid
		}
		return exitError
	}
	fmt.Fprintln(stdout, d)
	return exitOK
}
