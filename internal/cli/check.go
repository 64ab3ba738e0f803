package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/authflow/authflow/store"
)

// check verifies a store file: bbolt's page structure, every record's
// checksum, every index entry, every reference and every count. It opens
// the file read-only and prints one line per problem.
func check(ctx context.Context, args []string, stdout, stderr io.Writer, nb newBackend) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := newSource(fs, nb, "path of the bbolt `file` to verify")
	if code, ok := parseFlags(fs, args, usageLine(nb, "usage: authflow check [-db PATH]"), stderr); !ok {
		return code
	}
	s, err := src.open(ctx, &store.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(stderr, "authflow: %s: %v\n", src, err)
		return 1
	}
	defer s.Close()
	problems := s.Check(ctx)
	for _, p := range problems {
		fmt.Fprintf(stdout, "%s: %v\n", src, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "authflow: %s: %d problems\n", src, len(problems))
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok\n", src)
	return 0
}
