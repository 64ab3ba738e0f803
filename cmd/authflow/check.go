package main

import (
	"context"
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
	if code, ok := parseFlags(fs, args, "usage: authflow check [-db PATH]", stderr); !ok {
		return code
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
