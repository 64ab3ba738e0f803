package testutil

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Tests whose cases may crash the process (a damaged file that bbolt
// reads past its map, a size that makes it allocate gigabytes) run them
// in child processes: the test binary started again with an environment
// variable that selects the child's role. The child reports each case on
// standard output as it goes, with [StartCase] and [DoneCase]; the parent
// runs [RunCases], which starts a new child after the case that killed or
// hung the last one.

// CaseResult is what a child reported of one case: its outcome (one word)
// and a detail.
type CaseResult struct {
	Outcome, Detail string
}

// OutcomeCrashed is the outcome of a case that killed its child or hung
// it past the timeout; the detail holds the child's last lines of
// standard error.
const OutcomeCrashed = "crashed"

// StartCase reports, in a child, that case i (named name) starts.
func StartCase(i int, name string) { fmt.Printf("start %d %s\n", i, name) }

// DoneCase reports, in a child, the outcome of case i: one word, and a
// detail on the rest of the line.
func DoneCase(i int, outcome, detail string) {
	fmt.Printf("done %d %s %s\n", i, outcome, strings.ReplaceAll(detail, "\n", " "))
}

// ChildEnv is what every child's environment adds to the parent's: a
// race-enabled binary otherwise sleeps a second before it exits.
func ChildEnv() []string {
	return append(os.Environ(), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
}

// RunCases runs cases 0 to n-1 in child processes and returns what each
// reported. start makes the command of a child that runs the cases from
// from on (under ctx, which ends a hung child). A child that dies or
// hangs (no report for timeout) in a case gives that case
// [OutcomeCrashed], and a new child goes on from the next case. A child
// that fails outside a case fails the test.
func RunCases(t testing.TB, n int, timeout time.Duration, start func(ctx context.Context, from int) *exec.Cmd) []CaseResult {
	t.Helper()
	results := make([]CaseResult, n)
	for from := 0; from < n; {
		ctx, cancel := context.WithCancel(context.Background())
		var hung atomic.Bool
		timer := time.AfterFunc(timeout, func() { hung.Store(true); cancel() })
		cmd := start(ctx, from)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		started := -1
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			timer.Reset(timeout)
			f := strings.SplitN(sc.Text(), " ", 4)
			if len(f) < 3 {
				continue
			}
			i, err := strconv.Atoi(f[1])
			if err != nil || i < 0 || i >= n {
				continue
			}
			switch f[0] {
			case "start":
				started = i
			case "done":
				detail := ""
				if len(f) == 4 {
					detail = f[3]
				}
				results[i] = CaseResult{f[2], detail}
				started, from = -1, i+1
			}
		}
		err = cmd.Wait()
		timer.Stop()
		cancel()
		if started >= 0 {
			why := "crashed"
			if hung.Load() {
				why = "hung"
			}
			results[started] = CaseResult{OutcomeCrashed, fmt.Sprintf("%s: %v: %s", why, err, LastLines(stderr.String(), 12))}
			from = started + 1
			continue
		}
		if err != nil {
			t.Fatalf("a child failed outside a case (before case %d of %d): %v\n%s", from, n, err, stderr.String())
		}
		if from < n {
			t.Fatalf("a child stopped before case %d of %d: %s", from, n, LastLines(stderr.String(), 12))
		}
	}
	return results
}

// LastLines is the last n lines of s, joined with " | ".
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
