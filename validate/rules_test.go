package validate_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/validate"
	"github.com/invopop/validation"
)

func TestRules(t *testing.T) {
	s := func(v string) *string { return &v }
	tests := []struct {
		name  string
		rule  validate.Rule
		value any
		want  string // "" for pass
	}{
		{"choice ok", validate.Choice(red, blue), red, ""},
		{"choice bad", validate.Choice(red, blue), color("green"), `"green" is not a valid choice.`},
		{"choice empty", validate.Choice(red, blue), color(""), `"" is not a valid choice.`},
		{"choice nil pointer", validate.Choice(red, blue), (*color)(nil), ""},
		{"choice non-string", validate.Choice(red), 5, ""},
		{"maxlen ok", validate.MaxLen(3), "abc", ""},
		{"maxlen counts runes", validate.MaxLen(3), "äöü", ""},
		{"maxlen bad", validate.MaxLen(3), "abcd", "Ensure this field has no more than 3 characters."},
		{"maxlen pointer", validate.MaxLen(1), s("ab"), "Ensure this field has no more than 1 characters."},
		{"slug ok", validate.Slug, "a-B_9", ""},
		{"slug empty", validate.Slug, "", ""},
		{"slug bad", validate.Slug, "a b", validate.MsgSlug},
		{"slug unicode", validate.Slug, "ä", validate.MsgSlug},
		{"slug newline", validate.Slug, "ab\n", validate.MsgSlug},
		{"notblank ok", validate.NotBlank, "x", ""},
		{"notblank empty", validate.NotBlank, "", validate.MsgBlank},
		{"notblank spaces", validate.NotBlank, " \t\u001f", validate.MsgBlank},
		{"notblank nil", validate.NotBlank, (*string)(nil), ""},
		{"notblank empty pointer", validate.NotBlank, s(""), validate.MsgBlank},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rule.Validate(tt.value)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate(%v) = %q, want %q", tt.value, got, tt.want)
			}
		})
	}
}

func TestRuleCodes(t *testing.T) {
	tests := []struct {
		err  error
		code string
	}{
		{validate.Choice(red).Validate(blue), validate.CodeChoice},
		{validate.MaxLen(1).Validate("ab"), validate.CodeMaxLength},
		{validate.Slug.Validate("a b"), validate.CodeSlug},
		{validate.NotBlank.Validate(" "), validate.CodeBlank},
	}
	for _, tt := range tests {
		var ve validation.Error
		if !errors.As(tt.err, &ve) || ve.Code() != tt.code {
			t.Errorf("%v: code = %v, want %s", tt.err, ve, tt.code)
		}
	}
}

func TestAll(t *testing.T) {
	rule := validate.All(validate.MaxLen(5), validate.Slug)
	if err := rule.Validate("abc"); err != nil {
		t.Errorf("All(ok) = %v", err)
	}
	err := rule.Validate("a b c d")
	var msgs validate.Messages
	if !errors.As(err, &msgs) {
		t.Fatalf("All = %v, want Messages", err)
	}
	want := validate.Messages{validate.MaxLength(5), validate.MsgSlug}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("All = %q, want %q", msgs, want)
	}
	if err.Error() != strings.Join(want, " ") {
		t.Errorf("Error() = %q", err.Error())
	}
	internal := validation.By(func(any) error { return validation.NewInternalError(errors.New("boom")) })
	var ie validation.InternalError
	if err := validate.All(validate.Slug, internal).Validate("a b"); !errors.As(err, &ie) {
		t.Errorf("All with an internal error = %v", err)
	}
}

type pair struct {
	A string `json:"a"`
	B string `json:"b"`
}

func TestFrom(t *testing.T) {
	if out, ok := validate.From(nil); out != nil || ok {
		t.Errorf("From(nil) = %v, %v", out, ok)
	}
	p := pair{A: "a b", B: ""}
	err := validation.ValidateStruct(&p,
		validation.Field(&p.A, validate.All(validate.MaxLen(1), validate.Slug)),
		validation.Field(&p.B, validate.NotBlank),
	)
	out, ok := validate.From(err)
	if !ok {
		t.Fatal("From: not ok")
	}
	want := map[string][]string{"a": {validate.MaxLength(1), validate.MsgSlug}, "b": {validate.MsgBlank}}
	if !reflect.DeepEqual(out.Fields, want) || out.NonField != nil {
		t.Errorf("From = %+v, want %q", out, want)
	}

	nested := validation.Errors{
		"bindings": validation.Errors{"0": validation.Errors{"stage": errors.New("bad")}, "2": nil},
		"x":        nil,
	}
	out, _ = validate.From(nested)
	if want := map[string][]string{"bindings.0.stage": {"bad"}}; !reflect.DeepEqual(out.Fields, want) {
		t.Errorf("From(nested) = %q, want %q", out.Fields, want)
	}

	out, _ = validate.From(errors.New("a and b disagree"))
	if out.Fields != nil || !reflect.DeepEqual(out.NonField, []string{"a and b disagree"}) {
		t.Errorf("From(root) = %+v", out)
	}

	ve := validate.FieldError("slug", "x")
	if out, ok := validate.From(ve); !ok || out != ve {
		t.Errorf("From(*Error) = %p, %v; want %p", out, ok, ve)
	}

	ie := validation.NewInternalError(errors.New("boom"))
	if out, ok := validate.From(ie); out != nil || ok {
		t.Errorf("From(internal) = %v, %v", out, ok)
	}
}

type crossed struct {
	A string `json:"a"`
	B string `json:"b"`
}

func (c crossed) Validate() error {
	return validation.ValidateStruct(&c, validation.Field(&c.A, validate.NotBlank), validation.Field(&c.B, validate.NotBlank))
}

func (c crossed) ValidateObject() error {
	if c.A == c.B {
		return errors.New("a and b must differ")
	}
	return nil
}

func TestCheck(t *testing.T) {
	errs := &validate.Error{}
	errs.Add("a", "decode failed")
	if err := validate.Check(crossed{}, errs); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"a": {"decode failed"}, "b": {validate.MsgBlank}}
	if !reflect.DeepEqual(errs.Fields, want) {
		t.Errorf("Check = %q, want %q", errs.Fields, want)
	}
	errs = &validate.Error{}
	if err := validate.Check(struct{}{}, errs); err != nil || !errs.Empty() {
		t.Errorf("Check(no rules) = %v, %+v", err, errs)
	}

	oe := validate.CheckObject(crossed{A: "x", B: "x"})
	if oe == nil || oe.Fields != nil || !reflect.DeepEqual(oe.NonField, []string{"a and b must differ"}) {
		t.Errorf("CheckObject = %+v", oe)
	}
	if oe := validate.CheckObject(crossed{A: "x", B: "y"}); oe != nil {
		t.Errorf("CheckObject(ok) = %+v", oe)
	}
	if oe := validate.CheckObject(pair{}); oe != nil {
		t.Errorf("CheckObject(no rules) = %+v", oe)
	}
}

// Rules stops at the first failing rule, as validation.Validate does.
func TestRulesFirstFailure(t *testing.T) {
	if err := validate.Rules("ok", validate.NotBlank, validate.MaxLen(5)); err != nil {
		t.Errorf("Rules on a good value = %v", err)
	}
	err := validate.Rules(" ", validate.NotBlank, validate.MaxLen(0))
	if err == nil || err.Error() != validate.MsgBlank {
		t.Errorf("Rules = %v, want the first rule's %q", err, validate.MsgBlank)
	}
}

// Text gives what Rules gives, and the package's own rules run on a string
// without an allocation (a write checks every field of every object).
func TestText(t *testing.T) {
	type mode string
	slug := validate.All(validate.MaxLen(5), validate.Slug)
	choice := validate.Choice[mode]("a", "b")
	custom := validation.By(func(v any) error {
		if v.(mode) == "zz" {
			return errors.New("no zz")
		}
		return nil
	})
	for _, v := range []mode{"", " ", "a", "b", "c", "bad slug!", "toolong", "zz"} {
		for _, rules := range [][]validate.Rule{{validate.NotBlank}, {slug}, {choice}, {validate.NotBlank, slug, choice}, {custom, choice}} {
			want, got := validate.Rules(v, rules...), validate.Text(v, rules...)
			if fmt.Sprint(want) != fmt.Sprint(got) {
				t.Errorf("Text(%q) = %v, Rules = %v", v, got, want)
			}
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = validate.Text(mode("a-b"), validate.NotBlank, slug, choice) }); n > 2 {
		t.Errorf("Text allocates %v times per run", n) // the choice error and its message
	}
	if n := testing.AllocsPerRun(100, func() { _ = validate.Text(mode("a"), validate.NotBlank, slug, choice) }); n != 0 {
		t.Errorf("Text of a valid value allocates %v times per run", n)
	}
}
