package pysyntax

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// cases are texts with CPython 3.13's str() of their SyntaxError (compile
// of authentik's wrapper under "temp-policy"), or "" where CPython
// accepts them or Check gives no verdict (noVerdict).
var cases = []struct{ src, want string }{
	{"return (1", "'(' was never closed (temp-policy, line 2)"},
	{"return (1\n", "'(' was never closed (temp-policy, line 2)"},
	{"x = [1,\n2\nreturn x", "'[' was never closed (temp-policy, line 2)"},
	{"return 1)", "unmatched ')' (temp-policy, line 2)"},
	{"return [1)", "closing parenthesis ')' does not match opening parenthesis '[' (temp-policy, line 2)"},
	{"x = [1,\n2)\nreturn x", "closing parenthesis ')' does not match opening parenthesis '[' on line 2 (temp-policy, line 3)"},
	{"return 'abc", "unterminated string literal (detected at line 2) (temp-policy, line 2)"},
	{"return \"abc\nreturn 1", "unterminated string literal (detected at line 2) (temp-policy, line 2)"},
	{"return '''abc\n", "unterminated triple-quoted string literal (detected at line 4) (temp-policy, line 2)"},
	{"if True:\n        x = 1\n    y = 2\nreturn 1", "unindent does not match any outer indentation level (temp-policy, line 4)"},
	{"x = 1\n    y = 2\nreturn 1", "unexpected indent (temp-policy, line 3)"},
	{"# only", "expected an indented block after function definition on line 1 (temp-policy, line 3)"},
	{"", "expected an indented block after function definition on line 1 (temp-policy, line 3)"},
	{"   ", "expected an indented block after function definition on line 1 (temp-policy, line 3)"},
	{"  return 1\n  ", ""},
	{"return 1\n\\", ""},
	{"x = 1 \\\n  + 2\nreturn x", ""},
	{"return a b\nreturn (1", "invalid syntax (temp-policy, line 2)"},
	{"return f'{x'", "f-string: expecting '}' (temp-policy, line 2)"},
	{"return (1,\n 'a", "unterminated string literal (detected at line 3) (temp-policy, line 3)"},
	{"if x:\nreturn 1", "expected an indented block after 'if' statement on line 2 (temp-policy, line 3)"},
	{"return 1\n  # c\nreturn 2", ""},
	{"x = 1\n    # c\nreturn x", ""},
	{"return rb'\\''", ""},
	{"return (\n#)\n", "'(' was never closed (temp-policy, line 2)"},
	{"x = 1\nif x:\n  y = 1\n z = 2\nreturn 1", "unindent does not match any outer indentation level (temp-policy, line 5)"},
	{"return '\\\n'", ""},
	{"return }", "unmatched '}' (temp-policy, line 2)"},
	{"return {1: (2]}", "closing parenthesis ']' does not match opening parenthesis '(' (temp-policy, line 2)"},
	{"return ([1", "'[' was never closed (temp-policy, line 2)"},
	{"if x:\nreturn 1", "expected an indented block after 'if' statement on line 2 (temp-policy, line 3)"},
	{"for x in y:\nreturn 1", "expected an indented block after 'for' statement on line 2 (temp-policy, line 3)"},
	{"while x:\nreturn 1", "expected an indented block after 'while' statement on line 2 (temp-policy, line 3)"},
	{"if x:\n  return 1\nelse:\nreturn 2", "expected an indented block after 'else' statement on line 4 (temp-policy, line 5)"},
	{"if x:\n  return 1\nelif y:\nreturn 2", "expected an indented block after 'elif' statement on line 4 (temp-policy, line 5)"},
	{"try:\nreturn 1", "expected an indented block after 'try' statement on line 2 (temp-policy, line 3)"},
	{"x = 1\n  # c\n    y = 2\nreturn x", "unexpected indent (temp-policy, line 4)"},
	{"return (1\n\n", "'(' was never closed (temp-policy, line 2)"},
	{"return 1 # (", ""},
	{"return '#('", ""},
	{"return b'\\'('", ""},
	{"x = 1\nif x: y = 2\n    z = 3\nreturn 1", "unexpected indent (temp-policy, line 4)"},
	{"x = (\n1)\n  y = 2", "unexpected indent (temp-policy, line 4)"},
	{"return $", "invalid syntax (temp-policy, line 2)"},
	{"return )\n'abc", "unmatched ')' (temp-policy, line 2)"},
	{"return 'a' \\\n  'b'", ""},
	{"return \"\"\"a\n'''\n\"\"\"", ""},
	{"return {'a': [1, (2, 3)]}", ""},
	{"x = u'(' + B'[' + Rb'{'\nreturn x", ""},
	{"if x:\n    return 1\nreturn 2", ""},
	{"  x = 1\n  return x", ""},
	{"return 1\n# ) ] }", ""},
	{"return ')' # '", ""},
	{"x = (1,\n    2,\n  3)\nreturn x", ""},
	{"  x = 1\n return x", "unindent does not match any outer indentation level (temp-policy, line 3)"},
}

// noVerdict are the syntax errors Check accepts, since it only sees
// brackets, strings and indentation.
var noVerdict = map[string]bool{
	"return f'{x'": true, // f-string
	"return $":     true,
}

// otherMessage are the syntax errors where CPython reports an earlier
// error of a kind Check does not see: Check still refuses them, with the
// error it sees.
var otherMessage = map[string]string{
	"return a b\nreturn (1": "'(' was never closed (temp-policy, line 3)",
}

func TestCheck(t *testing.T) {
	for _, c := range cases {
		want := c.want
		if noVerdict[c.src] {
			want = ""
		}
		if m, ok := otherMessage[c.src]; ok {
			want = m
		}
		err := Check(Create, c.src)
		got := ""
		if err != nil {
			got = err.Error()
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("%q: %v does not wrap ErrSyntax", c.src, err)
			}
		}
		if got != want {
			t.Errorf("Check(%q) = %q, want %q", c.src, got, want)
		}
	}
}

func TestCheckFilename(t *testing.T) {
	err := Check("my-policy", "return (1")
	if err == nil || err.Error() != "'(' was never closed (my-policy, line 2)" {
		t.Fatalf("got %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Line != 2 || e.Msg != "'(' was never closed" {
		t.Fatalf("got %#v", e)
	}
}

func TestNoVerdict(t *testing.T) {
	for _, src := range []string{"return (1\r", "\treturn (1", "return (1\x00", "\x1f\nreturn (1", "return f'{'", "x = 1 \\ y\nreturn ("} {
		if err := Check(Create, src); err != nil {
			t.Errorf("Check(%q) = %v, want no verdict", src, err)
		}
	}
}

// TestAgainstCPython compares Check with CPython on the cases and on
// FuzzCheck's corpus when AUTHFLOW_PYTHON names a python3 executable:
// Check may accept what CPython refuses, never the reverse, and on the
// cases its message is CPython's unless otherMessage says otherwise.
func TestAgainstCPython(t *testing.T) {
	py := os.Getenv("AUTHFLOW_PYTHON")
	if py == "" {
		t.Skip("AUTHFLOW_PYTHON is not set")
	}
	for _, c := range cases {
		compareCPython(t, py, c.src, true)
	}
}

// compareCPython fails when Check refuses what CPython accepts, and with
// exact, when their messages differ (otherwise CPython may name an
// earlier error of a kind Check does not see).
func compareCPython(t *testing.T, py, src string, exact bool) {
	t.Helper()
	const prog = `import sys, textwrap
src = sys.stdin.read()
w = "def handler(request,context):\n" + textwrap.indent(src, "    ") + "\nresult = handler(request,context)"
try:
    compile(w, "temp-policy", "exec")
except (SyntaxError, ValueError) as e:
    print(str(e), end="")`
	cmd := exec.Command(py, "-c", prog)
	cmd.Stdin = strings.NewReader(src)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", py, err)
	}
	got := ""
	if e := Check(Create, src); e != nil {
		got = e.Error()
	}
	switch {
	case got != "" && len(out) == 0:
		t.Errorf("Check(%q) = %q, CPython accepts it", src, got)
	case exact && got != "" && got != string(out) && otherMessage[src] == "":
		t.Errorf("Check(%q) = %q, CPython %q", src, got, out)
	}
}

func FuzzCheck(f *testing.F) {
	for _, c := range cases {
		f.Add(c.src)
	}
	py := os.Getenv("AUTHFLOW_PYTHON")
	f.Fuzz(func(t *testing.T, src string) {
		err := Check(Create, src)
		if py != "" && err != nil {
			compareCPython(t, py, src, false)
		}
	})
}
