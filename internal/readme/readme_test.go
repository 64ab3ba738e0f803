package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's program is this package's main.go, so that it compiles and
// vets with everything else: a README edit that is not made here too (or
// the other way round) fails.
func TestREADMEProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```go\n(package main\n.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no Go block that is a whole program")
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(src), "\n") // past the doc comment
	if body != string(m[1]) {
		t.Errorf("internal/readme/main.go and the README's program differ:\n--- main.go\n%s\n--- README.md\n%s", body, m[1])
	}
}
