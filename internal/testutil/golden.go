package testutil

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Updating says whether the tests run with -update: a package that
// compares its own golden files (not through Golden) rewrites them then.
func Updating() bool { return *update }

// Golden asserts that the file at path holds got followed by one newline,
// byte for byte. With -update it writes that content to path instead,
// creating the file's directory if needed. A missing file fails the test
// at once.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	content := make([]byte, 0, len(got)+1)
	content = append(append(content, got...), '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(content, want) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", path, content, want)
	}
}

// Keys returns the top-level keys of the JSON object b, in the order they
// appear. It fails the test at once if b is not a JSON object.
func Keys(t testing.TB, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
