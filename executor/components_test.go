package executor

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Components lists every challenge component this package declares,
// sorted, so that a host rendering challenges (package flowui) learns of
// a new one when it is added.
func TestComponents(t *testing.T) {
	got := Components()
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("not sorted and unique: %v", got)
	}
	files, _ := filepath.Glob("*.go")
	decl := regexp.MustCompile(`(?m)^\s*(?:const )?Component\w+\s*=\s*"([^"]+)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllStringSubmatch(string(b), -1) {
			n++
			if !slices.Contains(got, m[1]) {
				t.Errorf("%s: %s is not in Components", f, m[1])
			}
		}
	}
	if n != len(got) {
		t.Errorf("%d components declared, %d listed", n, len(got))
	}
}
