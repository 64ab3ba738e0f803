package testutil_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/validate"
)

// recorder is a testing.TB that records failures instead of reporting
// them. Fatal ends the calling goroutine, as it does on a real T.
type recorder struct {
	testing.TB // nil: any method not overridden below panics
	failed     bool
	fatal      bool
	msgs       []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.fatal = true
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// run calls fn with a fresh recorder on its own goroutine, so that a
// Fatal ends only fn.
func run(fn func(t testing.TB)) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

// outcome is what a helper did to its test.
type outcome int

const (
	pass  outcome = iota
	fail          // Errorf: the test goes on
	fatal         // Fatalf: the test stops
)

func (r *recorder) outcome() outcome {
	switch {
	case r.fatal:
		return fatal
	case r.failed:
		return fail
	}
	return pass
}

func (o outcome) String() string { return [...]string{"pass", "fail", "fatal"}[o] }

func check(t *testing.T, name string, want outcome, fn func(t testing.TB)) {
	t.Helper()
	r := run(fn)
	if got := r.outcome(); got != want {
		t.Errorf("%s: %v %q, want %v", name, got, r.msgs, want)
	}
}

var (
	fieldErr    = validate.FieldError("name", validate.MsgBlank)
	nonFieldErr = validate.NonFieldError("cross")
	bothErr     = &validate.Error{Fields: map[string][]string{"name": {validate.MsgBlank}}, NonField: []string{"cross"}}
	plainErr    = errors.New("disk on fire")
)

func TestInvalid(t *testing.T) {
	var got *validate.Error
	check(t, "nil", pass, func(t testing.TB) { got = testutil.Invalid(t, nil) })
	if got != nil {
		t.Errorf("Invalid(nil) = %v", got)
	}
	wrapped := fmt.Errorf("store: %w", fieldErr)
	check(t, "wrapped", pass, func(t testing.TB) { got = testutil.Invalid(t, wrapped) })
	if got != fieldErr {
		t.Errorf("Invalid(wrapped) = %v, want the *validate.Error inside", got)
	}
	check(t, "plain error", fatal, func(t testing.TB) { testutil.Invalid(t, plainErr) })
	check(t, "syntax error", fatal, func(t testing.TB) { testutil.Invalid(t, validate.ErrSyntax) })
}

func TestWantFields(t *testing.T) {
	one := testutil.One("name", validate.MsgBlank)
	tests := []struct {
		name string
		err  error
		want map[string][]string
		out  outcome
	}{
		{"nil, nil", nil, nil, pass},
		{"nil, empty", nil, map[string][]string{}, pass},
		{"empty error, nil", &validate.Error{}, nil, pass},
		{"match", fieldErr, one, pass},
		{"wrapped match", fmt.Errorf("x: %w", fieldErr), one, pass},
		{"nil, want one", nil, one, fail},
		{"one, want none", fieldErr, nil, fail},
		{"other message", fieldErr, testutil.One("name", validate.MsgNull), fail},
		{"extra message", fieldErr, testutil.One("name", validate.MsgBlank, validate.MsgNull), fail},
		{"other field", fieldErr, testutil.One("slug", validate.MsgBlank), fail},
		{"non-field only", nonFieldErr, nil, fail},
		{"non-field too", bothErr, one, fail},
		{"plain error", plainErr, nil, fatal},
	}
	for _, tt := range tests {
		check(t, tt.name, tt.out, func(t testing.TB) { testutil.WantFields(t, tt.name, tt.err, tt.want) })
	}
}

func TestWantInvalid(t *testing.T) {
	one := testutil.One("name", validate.MsgBlank)
	tests := []struct {
		name     string
		err      error
		fields   map[string][]string
		nonField []string
		out      outcome
	}{
		{"fields", fieldErr, one, nil, pass},
		{"non-field", nonFieldErr, nil, []string{"cross"}, pass},
		{"non-field, empty fields", nonFieldErr, map[string][]string{}, []string{"cross"}, pass},
		{"both", bothErr, one, []string{"cross"}, pass},
		{"missing non-field", bothErr, one, nil, fail},
		{"missing fields", bothErr, nil, []string{"cross"}, fail},
		{"unexpected non-field", fieldErr, one, []string{"cross"}, fail},
		{"other non-field", nonFieldErr, nil, []string{"other"}, fail},
		{"other fields", fieldErr, testutil.One("slug", validate.MsgBlank), nil, fail},
		{"nil", nil, nil, nil, fatal},
		{"plain error", plainErr, nil, nil, fatal},
	}
	for _, tt := range tests {
		var got *validate.Error
		check(t, tt.name, tt.out, func(t testing.TB) { got = testutil.WantInvalid(t, tt.err, tt.fields, tt.nonField...) })
		if tt.out == pass && got != tt.err {
			t.Errorf("%s: returned %v, want %v", tt.name, got, tt.err)
		}
	}
}

func TestWantRejection(t *testing.T) {
	tests := []struct {
		name string
		err  error
		out  outcome
	}{
		{"validation error", fieldErr, pass},
		{"wrapped syntax error", fmt.Errorf("decoding: %w", validate.ErrSyntax), pass},
		{"empty validation error", &validate.Error{}, fail},
		{"plain error", plainErr, fail},
		{"nil", nil, fail},
	}
	for _, tt := range tests {
		check(t, tt.name, tt.out, func(t testing.TB) { testutil.WantRejection(t, tt.name, tt.err) })
	}
}

func TestOne(t *testing.T) {
	got := testutil.One("slug", "a", "b")
	if want := map[string][]string{"slug": {"a", "b"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("One = %q, want %q", got, want)
	}
}

func TestKeys(t *testing.T) {
	var got []string
	check(t, "object", pass, func(t testing.TB) {
		got = testutil.Keys(t, []byte(` {"z":1,"a":{"nested":[1,{"x":2}]},"m":null,"z":"again"}`))
	})
	if want := []string{"z", "a", "m", "z"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Keys = %q, want %q", got, want)
	}
	check(t, "empty object", pass, func(t testing.TB) { got = testutil.Keys(t, []byte(`{}`)) })
	if len(got) != 0 {
		t.Errorf("Keys({}) = %q", got)
	}
	for _, b := range []string{`[]`, `1`, `null`, ``, `{"a":`, `{"a" 1}`} {
		check(t, b, fatal, func(t testing.TB) { testutil.Keys(t, []byte(b)) })
	}
}

// setUpdate sets the -update flag that testutil registers, restoring it
// when t ends.
func setUpdate(t *testing.T, v bool) {
	t.Helper()
	f := flag.Lookup("update")
	if f == nil {
		t.Fatal("testutil registers no -update flag")
	}
	old := f.Value.String()
	if err := f.Value.Set(fmt.Sprint(v)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Value.Set(old) })
}

func TestGolden(t *testing.T) {
	setUpdate(t, false)
	dir := t.TempDir()
	path := filepath.Join(dir, "view.json")
	if err := os.WriteFile(path, []byte("{\"a\":1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check(t, "same", pass, func(t testing.TB) { testutil.Golden(t, path, []byte(`{"a":1}`)) })
	check(t, "different", fail, func(t testing.TB) { testutil.Golden(t, path, []byte(`{"a":2}`)) })
	check(t, "trailing newline in got", fail, func(t testing.TB) { testutil.Golden(t, path, []byte("{\"a\":1}\n")) })
	check(t, "missing", fatal, func(t testing.TB) { testutil.Golden(t, filepath.Join(dir, "none.json"), nil) })
	if err := os.WriteFile(path, []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	check(t, "file without final newline", fail, func(t testing.TB) { testutil.Golden(t, path, []byte(`{"a":1}`)) })
}

func TestGoldenUpdate(t *testing.T) {
	setUpdate(t, true)
	path := filepath.Join(t.TempDir(), "golden", "new.json")
	check(t, "update", pass, func(t testing.TB) { testutil.Golden(t, path, []byte(`{"b":2}`)) })
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"b\":2}\n"; string(b) != want {
		t.Errorf("-update wrote %q, want %q", b, want)
	}
	setUpdate(t, false)
	check(t, "after update", pass, func(t testing.TB) { testutil.Golden(t, path, []byte(`{"b":2}`)) })
}
