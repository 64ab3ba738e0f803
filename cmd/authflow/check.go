package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/authflow/authflow/store"
)

// check verifies a store file: bbolt's page structure, every record's
// checksum, every index entry, every reference and every count. It opens
// the file read-only and prints one line per problem.
func check(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", "authflow.db", "path of the bbolt `file` to verify")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: authflow check [-db PATH]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "authflow check: unexpected argument %q\n\n%s", fs.Arg(0), usage)
		return 2
	}
	if _, err := os.Stat(*dbPath); err != nil {
		fmt.Fprintf(stderr, "authflow: %v\n", err)
		return 1
	}
	s, err := store.Open(*dbPath, &store.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(stderr, "authflow: %s: %v\n", *dbPath, err)
		return 1
	}
	defer s.Close()
	problems := s.Check(ctx)
	for _, p := range problems {
		fmt.Fprintf(stdout, "%s: %v\n", *dbPath, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "authflow: %s: %d problems\n", *dbPath, len(problems))
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok\n", *dbPath)
	return 0
}
