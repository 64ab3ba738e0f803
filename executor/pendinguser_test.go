package executor

import (
	"bytes"
	"testing"
)

// The password stage writes only the backend into the pending user that
// identification set (SetPendingUser): every record a login saves is
// byte for byte what writing the user afresh saves, and the shortcut is
// taken (testHookPendingUserKept sees the map kept, with its backend).
func TestSetPendingUserSameRecords(t *testing.T) {
	h, _ := loginHarness(t)
	records := func(rewrite bool, sid string) [][]byte {
		testRewritePendingUser = rewrite
		defer func() { testRewritePendingUser = false }()
		var recs [][]byte
		before := map[memKey]bool{}
		h.rs.mu.Lock()
		for k := range h.rs.recs {
			before[k] = true
		}
		h.rs.mu.Unlock()
		_, err := goLoginEach(h, sid, func(i int) {
			h.rs.mu.Lock()
			defer h.rs.mu.Unlock()
			for k, r := range h.rs.recs {
				if k.ns == Executions && !before[k] {
					recs = append(recs, append([]byte{byte(i)}, r.data...))
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	var kept map[string]any
	testHookPendingUserKept = func(m map[string]any) { kept = m }
	defer func() { testHookPendingUserKept = nil }()
	got := records(false, "a")
	if kept == nil || kept[ContextUserBackendKey] == nil {
		t.Fatalf("the password stage wrote the pending user afresh (%v)", kept)
	}
	want := records(true, "b")
	if len(got) != len(want) || len(got) < 4 {
		t.Fatalf("%d records, want %d (at least 4)", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("record %d:\n%q\nwant\n%q", i, got[i], want[i])
		}
	}
}
