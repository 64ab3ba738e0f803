package validate

import (
	"errors"
	"reflect"
	"regexp"
	"sort"
	"unicode/utf8"

	"github.com/invopop/validation"
)

// Error codes of the rules below. They are stable and can be compared with
// validation.Error.Code().
const (
	CodeChoice    = "authflow_invalid_choice"
	CodeMaxLength = "authflow_max_length"
	CodeSlug      = "authflow_slug"
	CodeBlank     = "authflow_blank"
)

// Rule is an invopop/validation rule whose failures carry authentik's exact
// message.
type Rule = validation.Rule

type ruleFunc func(value any) error

func (f ruleFunc) Validate(value any) error { return f(value) }

// textRule is a rule on a string: it passes anything that is not a string
// (or a pointer to one), as the rules below always have, and [Text] calls
// it on a string without boxing it into an interface.
type textRule func(s string) error

func (f textRule) Validate(value any) error {
	s, ok := stringOf(value)
	if !ok {
		return nil
	}
	return f(s)
}

// Text runs rules on the string v in order and returns the first failure,
// as [Rules] does; the rules of this package run without an allocation.
func Text[T ~string](v T, rules ...Rule) error {
	for _, r := range rules {
		var err error
		if t, ok := r.(textRule); ok {
			err = t(string(v))
		} else {
			err = r.Validate(v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func stringOf(value any) (string, bool) {
	v := reflect.ValueOf(value)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.String {
		return "", false
	}
	return v.String(), true
}

// Choice accepts exactly the given values; anything else (the empty string
// included) fails with `"<value>" is not a valid choice.`. A nil pointer
// passes, so nullable choices pair it with nothing else.
func Choice[T ~string](values ...T) Rule {
	set := make(map[string]bool, len(values))
	for _, v := range values {
		set[string(v)] = true
	}
	return textRule(func(s string) error {
		if set[s] {
			return nil
		}
		return validation.NewError(CodeChoice, InvalidChoice(s))
	})
}

// MaxLen fails a string longer than n characters (not bytes).
func MaxLen(n int) Rule {
	return textRule(func(s string) error {
		if utf8.RuneCountInString(s) <= n {
			return nil
		}
		return validation.NewError(CodeMaxLength, MaxLength(n))
	})
}

var reSlug = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)

// Slug fails a non-empty string outside ^[-a-zA-Z0-9_]+$.
var Slug Rule = textRule(func(s string) error {
	if s == "" || reSlug.MatchString(s) {
		return nil
	}
	return validation.NewError(CodeSlug, MsgSlug)
})

// NotBlank fails an empty or all-whitespace string. [Schema.Decode] already
// reports blank input; this rule covers values built in Go.
var NotBlank Rule = textRule(func(s string) error {
	if pyStrip(s) != "" {
		return nil
	}
	return validation.NewError(CodeBlank, MsgBlank)
})

// FieldValidator is implemented by types with field rules. Validate uses
// invopop/validation (ValidateStruct) and returns its errors unconverted.
type FieldValidator interface{ Validate() error }

// ObjectValidator is implemented by types with cross-field rules. Its
// failures are non-field errors. It runs only on an object whose fields are
// all valid, as in Django REST framework.
type ObjectValidator interface{ ValidateObject() error }

// From converts an error from invopop/validation (or an [*Error]) into an
// [*Error]. Nested keys are joined with ".". A leaf error at the root is a
// non-field error. Internal errors (validation.InternalError) and nil are
// returned as they are, wrapped in nothing: the result is then nil and ok is
// false.
func From(err error) (out *Error, ok bool) {
	if err == nil {
		return nil, false
	}
	var ie validation.InternalError
	if errors.As(err, &ie) {
		return nil, false
	}
	var ve *Error
	if errors.As(err, &ve) {
		return ve, true
	}
	out = &Error{}
	flatten(out, "", err)
	return out, true
}

func flatten(out *Error, prefix string, err error) {
	var es validation.Errors
	if errors.As(err, &es) {
		keys := make([]string, 0, len(es))
		for k, e := range es {
			if e != nil {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(out, p, es[k])
		}
		return
	}
	msgs := Messages{err.Error()}
	errors.As(err, &msgs)
	for _, m := range msgs {
		if prefix == "" {
			out.AddNonField(m)
		} else {
			out.Add(prefix, m)
		}
	}
}

// Check runs v's field rules (if v is a [FieldValidator]) and adds their
// messages to errs, except on fields that errs already holds an error for:
// a field that failed to decode is reported once. It returns an error only
// for an internal failure of a rule, which is not the caller's input's
// fault.
func Check(v any, errs *Error) error {
	fv, ok := v.(FieldValidator)
	if !ok {
		return nil
	}
	err := fv.Validate()
	if err == nil {
		return nil
	}
	conv, ok := From(err)
	if !ok {
		return err
	}
	for _, k := range sortedKeys(conv.Fields) {
		if errs.Has(k) {
			continue
		}
		for _, m := range conv.Fields[k] {
			errs.Add(k, m)
		}
	}
	errs.NonField = append(errs.NonField, conv.NonField...)
	return nil
}

// CheckObject runs v's cross-field rules (if v is an [ObjectValidator]) and
// returns their failures as non-field errors.
func CheckObject(v any) *Error {
	ov, ok := v.(ObjectValidator)
	if !ok {
		return nil
	}
	err := ov.ValidateObject()
	if err == nil {
		return nil
	}
	if conv, ok := From(err); ok {
		return conv
	}
	return &Error{NonField: []string{err.Error()}}
}

// Rules runs rules on value in order and returns the first failure, as
// validation.Validate does for a value that is not itself Validatable,
// without its reflection. Field rules of hot types use it.
func Rules(value any, rules ...Rule) error {
	for _, r := range rules {
		if err := r.Validate(value); err != nil {
			return err
		}
	}
	return nil
}
