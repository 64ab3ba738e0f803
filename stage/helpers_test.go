package stage_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/authflow/authflow/validate"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name byte for byte, or rewrites the
// file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	want = bytes.TrimSuffix(want, []byte("\n"))
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got %s\nwant %s", path, got, want)
	}
}

// invalid returns the *validate.Error of err, failing the test for any
// other error.
func invalid(t *testing.T, err error) *validate.Error {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *validate.Error
	if !errors.As(err, &ve) || !errors.Is(err, validate.ErrInvalid) {
		t.Fatalf("error %v (%T) is not a *validate.Error", err, err)
	}
	return ve
}

func sameFields(t *testing.T, what string, ve *validate.Error, want map[string][]string) {
	t.Helper()
	var got map[string][]string
	if ve != nil {
		got = ve.Fields
		if len(ve.NonField) != 0 {
			t.Errorf("%s: non-field errors %q", what, ve.NonField)
		}
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func one(field string, msgs ...string) map[string][]string {
	return map[string][]string{field: msgs}
}
