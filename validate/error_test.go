package validate_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/validate"
)

func TestErrorMarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		err  *validate.Error
		want string
	}{
		{"empty", &validate.Error{}, `{}`},
		{
			"fields sorted",
			&validate.Error{Fields: map[string][]string{
				"slug": {validate.MsgBlank},
				"name": {validate.MsgRequired, validate.MsgNull},
				"a":    {"x"},
			}},
			`{"a":["x"],"name":["This field is required.","This field may not be null."],"slug":["This field may not be blank."]}`,
		},
		{
			"non-field only",
			validate.NonFieldError("Either evaluation on plan or evaluation on run must be enabled"),
			`{"non_field_errors":["Either evaluation on plan or evaluation on run must be enabled"]}`,
		},
		{
			"non_field_errors in its sorted place",
			&validate.Error{
				Fields:   map[string][]string{"order": {validate.MsgInteger}, "target": {validate.MsgRequired}},
				NonField: []string{"one", "two"},
			},
			`{"non_field_errors":["one","two"],"order":["A valid integer is required."],"target":["This field is required."]}`,
		},
		{
			"cause not rendered",
			&validate.Error{Fields: map[string][]string{"slug": {validate.Unique("Flow", "slug")}}, Err: errors.New("conflict")},
			`{"slug":["Flow with this slug already exists."]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.err)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("json.Marshal:\n got %s\nwant %s", got, tt.want)
			}
			// The value form must marshal the same way as the pointer.
			got2, err := tt.err.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(got2) != tt.want {
				t.Errorf("MarshalJSON:\n got %s\nwant %s", got2, tt.want)
			}
		})
	}
}

func TestErrorUnmarshalJSONRoundTrip(t *testing.T) {
	in := &validate.Error{
		Fields: map[string][]string{
			"slug":        {validate.MaxLength(50), validate.MsgSlug},
			"designation": {validate.InvalidChoice("nope")},
		},
		NonField: []string{"The fields target, stage, order must make a unique set."},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out validate.Error
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Fields, in.Fields) {
		t.Errorf("Fields = %q, want %q", out.Fields, in.Fields)
	}
	if !reflect.DeepEqual(out.NonField, in.NonField) {
		t.Errorf("NonField = %q, want %q", out.NonField, in.NonField)
	}

	// Decoding into a used Error replaces it.
	if err := json.Unmarshal([]byte(`{"name":["x"]}`), &out); err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{"name": {"x"}}; !reflect.DeepEqual(out.Fields, want) || out.NonField != nil {
		t.Errorf("reused Error = %+v, want only %q", out, want)
	}

	if err := json.Unmarshal([]byte(`{"name":"not a list"}`), &out); err == nil {
		t.Error("UnmarshalJSON accepted a non-list message")
	}
}

func TestErrorString(t *testing.T) {
	e := &validate.Error{
		Fields: map[string][]string{
			"title": {validate.MsgBlank},
			"name":  {validate.MsgRequired},
			"slug":  {validate.MaxLength(50), validate.MsgSlug},
		},
		NonField: []string{"cross"},
	}
	want := `validation failed; name: This field is required.; slug: Ensure this field has no more than 50 characters. Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.; title: This field may not be blank.; non_field_errors: cross`
	for i := 0; i < 20; i++ {
		if got := e.Error(); got != want {
			t.Fatalf("Error() (call %d) =\n%s\nwant\n%s", i, got, want)
		}
	}
	if got := (&validate.Error{}).Error(); got != "validation failed" {
		t.Errorf("empty Error() = %q", got)
	}
}

func TestErrorIsUnwrap(t *testing.T) {
	cause := errors.New("store: conflict")
	e := &validate.Error{Fields: map[string][]string{"slug": {"x"}}, Err: cause}
	if !errors.Is(e, validate.ErrInvalid) {
		t.Error("errors.Is(e, ErrInvalid) = false")
	}
	if !errors.Is(e, cause) {
		t.Error("errors.Is(e, cause) = false")
	}
	if got := e.Unwrap(); got != cause {
		t.Errorf("Unwrap() = %v, want %v", got, cause)
	}
	if errors.Is(e, validate.ErrSyntax) {
		t.Error("errors.Is(e, ErrSyntax) = true")
	}
	plain := validate.FieldError("name", validate.MsgBlank)
	if plain.Unwrap() != nil {
		t.Errorf("Unwrap() without cause = %v", plain.Unwrap())
	}
	if !errors.Is(plain, validate.ErrInvalid) {
		t.Error("errors.Is(plain, ErrInvalid) = false")
	}

	// Through fmt's %w and errors.As.
	wrapped := fmt.Errorf("creating flow: %w", e)
	if !errors.Is(wrapped, validate.ErrInvalid) || !errors.Is(wrapped, cause) {
		t.Error("wrapped Error lost ErrInvalid or its cause")
	}
	var ve *validate.Error
	if !errors.As(wrapped, &ve) || ve != e {
		t.Error("errors.As did not find the *Error")
	}
	if errors.Is(errors.New("other"), validate.ErrInvalid) {
		t.Error("an unrelated error matches ErrInvalid")
	}
}

func TestErrorHelpers(t *testing.T) {
	var e validate.Error
	if !e.Empty() || e.OrNil() != nil || e.Has("x") || e.HasFieldErrors() {
		t.Fatal("zero Error is not empty")
	}
	var nilErr *validate.Error
	if !nilErr.Empty() || nilErr.OrNil() != nil || nilErr.Has("x") {
		t.Fatal("nil *Error is not empty")
	}
	e.Add("b", "1")
	e.Add("b", "2")
	e.AddNonField("n")
	other := &validate.Error{Fields: map[string][]string{"a": {"3"}, "b": {"4"}}, NonField: []string{"m"}, Err: validate.ErrSyntax}
	e.Merge(other)
	e.Merge(nil)
	want := map[string][]string{"a": {"3"}, "b": {"1", "2", "4"}}
	if !reflect.DeepEqual(e.Fields, want) {
		t.Errorf("Fields = %q, want %q", e.Fields, want)
	}
	if !reflect.DeepEqual(e.NonField, []string{"n", "m"}) {
		t.Errorf("NonField = %q", e.NonField)
	}
	if e.Err != validate.ErrSyntax {
		t.Errorf("Err = %v, want the merged cause", e.Err)
	}
	if !e.Has("a") || e.Has("c") || !e.HasFieldErrors() || e.Empty() {
		t.Error("Has/HasFieldErrors/Empty disagree with the contents")
	}
	if e.OrNil() == nil {
		t.Error("OrNil() = nil for a non-empty Error")
	}
	onlyNF := validate.NonFieldError("x")
	if onlyNF.HasFieldErrors() || onlyNF.Empty() {
		t.Error("a non-field-only Error is misreported")
	}
}

func TestMessages(t *testing.T) {
	tests := []struct{ got, want string }{
		{validate.MsgRequired, "This field is required."},
		{validate.MsgNull, "This field may not be null."},
		{validate.MsgBlank, "This field may not be blank."},
		{validate.MsgNotString, "Not a valid string."},
		{validate.MsgNullCharacters, "Null characters are not allowed."},
		{validate.MsgBoolean, "Must be a valid boolean."},
		{validate.MsgInteger, "A valid integer is required."},
		{validate.MsgIntegerTooLarge, "String value too large."},
		{validate.MsgSlug, `Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.`},
		{validate.MsgPKBool, "Incorrect type. Expected pk value, received bool."},
		{validate.MsgUnknownField, "Unknown field."},
		{validate.InvalidChoice("x"), `"x" is not a valid choice.`},
		{validate.MaxLength(50), "Ensure this field has no more than 50 characters."},
		{validate.MinValue(-2147483648), "Ensure this value is greater than or equal to -2147483648."},
		{validate.MaxValue(2147483647), "Ensure this value is less than or equal to 2147483647."},
		{validate.DoesNotExist("abc"), `Invalid pk "abc" - object does not exist.`},
		{validate.InvalidUUID("abc"), "“abc” is not a valid UUID."},
		{validate.Unique("Flow", "slug"), "Flow with this slug already exists."},
		{validate.Unique("stage", "name"), "stage with this name already exists."},
		{validate.UniqueTogether("target", "stage", "order"), "The fields target, stage, order must make a unique set."},
		{validate.NotObject("list"), "Invalid data. Expected a dictionary, but got list."},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// Errors on list items render nested, as authentik nests them, and read
// back into the same dotted keys.
func TestErrorNestedItems(t *testing.T) {
	e := &validate.Error{}
	e.Add("backends.0", `"x" is not a valid choice.`)
	e.Add("backends.2", `"y" is not a valid choice.`)
	e.Add("name", "This field is required.")
	if !e.Has("backends") || e.Has("backend") || !e.Has("backends.2") {
		t.Error("Has does not see item errors under their list")
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"backends":{"0":["\"x\" is not a valid choice."],"2":["\"y\" is not a valid choice."]},"name":["This field is required."]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back validate.Error
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Fields, e.Fields) {
		t.Errorf("round trip: %v, want %v", back.Fields, e.Fields)
	}
	// A list's own error beside its items' goes under non_field_errors.
	e.Add("backends", "This list may not be empty.")
	b, _ = json.Marshal(e)
	if !strings.Contains(string(b), `"backends":{"0":["\"x\" is not a valid choice."],"2":["\"y\" is not a valid choice."],"non_field_errors":["This list may not be empty."]}`) {
		t.Errorf("mixed: %s", b)
	}
}
