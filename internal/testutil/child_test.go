package testutil_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/internal/testutil"
)

const envChildFrom = "TESTUTIL_CHILD_FROM"

// TestRunCases: a case that kills its child is "crashed", with the
// child's last words, and a new child goes on from the next case.
func TestRunCases(t *testing.T) {
	if from := os.Getenv(envChildFrom); from != "" {
		i, _ := strconv.Atoi(from)
		for ; i < 4; i++ {
			testutil.StartCase(i, "case"+strconv.Itoa(i))
			if i == 1 {
				os.Stderr.WriteString("dying in case 1\n")
				os.Exit(3)
			}
			testutil.DoneCase(i, "ok", "line one\nline two")
		}
		return
	}
	children := 0
	got := testutil.RunCases(t, 4, time.Minute, func(ctx context.Context, from int) *exec.Cmd {
		children++
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRunCases$", "-test.count=1")
		cmd.Env = append(testutil.ChildEnv(), envChildFrom+"="+strconv.Itoa(from))
		return cmd
	})
	if children != 2 {
		t.Errorf("%d children, want 2", children)
	}
	for i, r := range got {
		want := "ok"
		if i == 1 {
			want = testutil.OutcomeCrashed
		}
		if r.Outcome != want {
			t.Errorf("case %d: %q, want %q (%s)", i, r.Outcome, want, r.Detail)
		}
	}
	if got[0].Detail != "line one line two" {
		t.Errorf("detail %q", got[0].Detail)
	}
	if !strings.Contains(got[1].Detail, "dying in case 1") {
		t.Errorf("a crash's detail lacks the child's last words: %q", got[1].Detail)
	}
}
