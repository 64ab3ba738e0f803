package testutil

import (
	"errors"
	"reflect"
	"testing"

	"github.com/authflow/authflow/validate"
)

// Invalid returns the [*validate.Error] in err, or nil when err is nil.
// Any other error, or one that does not match [validate.ErrInvalid], fails
// the test at once.
func Invalid(t testing.TB, err error) *validate.Error {
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

// WantFields asserts that err carries exactly the field errors want and
// no non-field errors. A nil err and a nil or empty want both mean "no
// errors", so WantFields(t, what, nil, nil) passes. An error that is not a
// [*validate.Error] fails the test at once (see [Invalid]). what names the
// case in failure messages.
func WantFields(t testing.TB, what string, err error, want map[string][]string) {
	t.Helper()
	var got map[string][]string
	if ve := Invalid(t, err); ve != nil {
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

// WantInvalid asserts that err is a [*validate.Error] with exactly the
// field errors fields and the non-field errors nonField (nil and empty are
// the same), and returns it. A nil err, or one that is not a
// [*validate.Error], fails the test at once.
func WantInvalid(t testing.TB, err error, fields map[string][]string, nonField ...string) *validate.Error {
	t.Helper()
	ve := Invalid(t, err)
	if ve == nil {
		t.Fatal("error = nil, want a *validate.Error")
	}
	if got := ve.Fields; (len(got) != 0 || len(fields) != 0) && !reflect.DeepEqual(got, fields) {
		t.Errorf("field errors = %q, want %q", got, fields)
	}
	if got := ve.NonField; (len(got) != 0 || len(nonField) != 0) && !reflect.DeepEqual(got, nonField) {
		t.Errorf("non-field errors = %q, want %q", got, nonField)
	}
	return ve
}

// One is the field errors of a single field: map[string][]string{field:
// msgs}.
func One(field string, msgs ...string) map[string][]string {
	return map[string][]string{field: msgs}
}

// WantRejection asserts what a fuzz target expects of an input it
// rejected: err, which must not be nil, is a non-empty [*validate.Error] or
// matches [validate.ErrSyntax]. what names the input in failure messages.
func WantRejection(t testing.TB, what string, err error) {
	t.Helper()
	var ve *validate.Error
	if !errors.As(err, &ve) && !errors.Is(err, validate.ErrSyntax) {
		t.Errorf("%s: error %v (%T) is neither a validation nor a syntax error", what, err, err)
	}
	if ve != nil && ve.Empty() {
		t.Errorf("%s: an empty validation error", what)
	}
}
