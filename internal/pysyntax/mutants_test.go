package pysyntax

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestMutantsAgainstCPython checks soundness on a larger corpus when
// AUTHFLOW_PYTHON names a python3 (CPython 3.13, as authentik 2025.6
// runs): the shipped blueprints' expressions, and 20000 mutants of them
// (a bracket, quote, newline, indentation, colon or backslash inserted,
// or a character deleted, one to three times). Check must refuse nothing
// CPython accepts; it logs how many CPython refusals it finds and how many
// with CPython's very message (the rest have an earlier error of a kind
// Check does not see).
func TestMutantsAgainstCPython(t *testing.T) {
	py := os.Getenv("AUTHFLOW_PYTHON")
	if py == "" {
		t.Skip("AUTHFLOW_PYTHON is not set")
	}
	seeds := shippedExpressions(t)
	r := rand.New(rand.NewSource(1))
	ins := []string{"(", ")", "[", "]", "{", "}", "'", "\"", "\"\"\"", "'''", "\n", "  ", " ", "\n  ", ":", "\\", "#", "\n\n    ", "b'", "r\"", "\\\n"}
	srcs := append([]string{}, seeds...)
	for range 20000 {
		s := []byte(seeds[r.Intn(len(seeds))])
		for range 1 + r.Intn(3) {
			p := r.Intn(len(s) + 1)
			if r.Intn(3) == 0 && p < len(s) {
				s = append(s[:p], s[p+1:]...)
			} else {
				x := ins[r.Intn(len(ins))]
				s = append(s[:p], append([]byte(x), s[p:]...)...)
			}
		}
		srcs = append(srcs, string(s))
	}
	const prog = `import sys, json, textwrap, warnings
warnings.simplefilter("ignore")
out = []
for src in json.load(sys.stdin):
    w = "def handler(request,context):\n" + textwrap.indent(src, "    ") + "\nresult = handler(request,context)"
    try:
        compile(w, "temp-policy", "exec")
        out.append("")
    except (SyntaxError, ValueError) as e:
        out.append(str(e))
json.dump(out, sys.stdout)`
	in, _ := json.Marshal(srcs)
	cmd := exec.Command(py, "-c", prog)
	cmd.Stdin = bytes.NewReader(in)
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", py, err)
	}
	var want []string
	if err := json.Unmarshal(raw, &want); err != nil || len(want) != len(srcs) {
		t.Fatalf("%s: %v", py, err)
	}
	pyRefused, refused, same := 0, 0, 0
	for i, src := range srcs {
		got := ""
		if e := Check(Create, src); e != nil {
			got = e.Error()
		}
		if i < len(seeds) && got != "" {
			t.Errorf("shipped expression refused: %q: %s", src, got)
		}
		if want[i] != "" {
			pyRefused++
		}
		if got == "" {
			continue
		}
		refused++
		switch want[i] {
		case "":
			t.Errorf("Check(%q) = %q, CPython accepts it", src, got)
		case got:
			same++
		}
	}
	t.Logf("%d texts: CPython refuses %d, Check %d, %d with CPython's message", len(srcs), pyRefused, refused, same)
}

// shippedExpressions are the expression policies' expressions of the
// shipped blueprints (blueprint/testdata/authentik).
func shippedExpressions(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "blueprint", "testdata", "authentik", "*", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no shipped blueprints: %v", err)
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Entries []struct {
				Model string         `yaml:"model"`
				Attrs map[string]any `yaml:"attrs"`
			} `yaml:"entries"`
		}
		// The shipped files use authentik's tags (!KeyOf, !Find, ...),
		// which decode as their scalar or sequence here.
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range doc.Entries {
			if s, ok := e.Attrs["expression"].(string); ok && strings.HasSuffix(e.Model, ".expressionpolicy") {
				out = append(out, s)
			}
		}
	}
	return out
}

// The shipped blueprints' expressions are valid Python: Check accepts
// them all.
func TestShippedExpressions(t *testing.T) {
	srcs := shippedExpressions(t)
	if len(srcs) < 10 {
		t.Fatalf("%d shipped expressions", len(srcs))
	}
	for _, src := range srcs {
		if err := Check(Create, src); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}
