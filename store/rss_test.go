package store_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/authflow/authflow/store"
)

// TestRSSAfterList measures, on a file named by AUTHFLOW_RSS_DB (skipped
// without it), the process's resident memory after Open and after listing
// flows page 1, which should stay close: a list reads a page, not the
// collection.
//
//	AUTHFLOW_RSS_DB=/path/to/big.db go test -run=TestRSSAfterList -v ./store/
func TestRSSAfterList(t *testing.T) {
	path := os.Getenv("AUTHFLOW_RSS_DB")
	if path == "" {
		t.Skip("AUTHFLOW_RSS_DB is not set")
	}
	s, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := viewIn(ctx, s, store.Flows, store.By("slug", "nope")); err == nil {
		t.Fatal("found a flow that should not exist")
	}
	opened := rssKB(t)
	p, err := listIn(ctx, s, store.Flows, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	listed := rssKB(t)
	q, err := listIn(ctx, s, store.Stages.Kind("authentik_stages_invitation.invitationstage"), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d flows, %d invitation stages; RSS after open %d KiB, after flows page 1 %d KiB (%.2fx), after stages page 1 %d KiB",
		p.Pagination.Count, q.Pagination.Count, opened, listed, float64(listed)/float64(opened), rssKB(t))
}

func rssKB(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n := 0
			for _, c := range f[1] {
				n = n*10 + int(c-'0')
			}
			return n
		}
	}
	t.Skip("no VmRSS")
	return 0
}
