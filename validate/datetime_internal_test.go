package validate

import (
	"slices"
	"testing"
)

// The canonical form is read as the regular expression reads it.
func FuzzCanonicalDateTime(f *testing.F) {
	for _, s := range []string{"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123456Z", "2026-01-02T03:04:05.1Z", "2026-01-02T03:04:05.Z", "2026-01-02T03:04:05.1234567Z", "2026-01-02 03:04:05Z", "2026-1-02T03:04:05Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := canonicalDateTime(s)
		if !ok {
			return
		}
		if want := reDateTime.FindStringSubmatch(s); !slices.Equal(got[:], want) {
			t.Fatalf("canonicalDateTime(%q) = %q, the expression reads %q", s, got, want)
		}
	})
}

// Reading a date-time in the canonical form allocates nothing.
func TestParseDateTimeAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { ParseDateTime("2026-01-02T03:04:05.123456Z") }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
