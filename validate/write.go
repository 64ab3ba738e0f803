package validate

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/invopop/validation"
)

// Apply performs one write on a copy of cur and returns the result:
//
//   - [Create] and [Replace] decode body's keys onto cur and report missing
//     required fields. For Create, cur holds the defaults; for Replace, the
//     stored value, so omitted optional fields keep their stored values.
//   - [Patch] decodes only the keys of body. An explicit null sets a
//     nullable field to null and is "This field may not be null." on any
//     other field; an object value merges into an object field (RFC 7396).
//
// The field rules of the result (its Validate method) then run. Read-only
// fields of T and the keys for which ignore returns true are skipped; other
// unknown keys are errors. Cross-field rules are not run: see [CheckObject].
//
// The error is an [*Error] for rejected input, one wrapping [ErrSyntax] for
// a body that is not JSON, or another error for an internal failure.
func Apply[T any](cur T, body []byte, op Op, ignore func(string) bool) (T, error) {
	in, err := Object(body)
	if err != nil {
		return cur, err
	}
	return ApplyMap(cur, in, op, ignore)
}

// ApplyMap is [Apply] on a body that is already split into its keys.
func ApplyMap[T any](cur T, in map[string]json.RawMessage, op Op, ignore func(string) bool) (T, error) {
	s, err := SchemaOf(cur)
	if err != nil {
		return cur, err
	}
	next := cur
	errs := s.Decode(&next, in, op, ignore)
	if errs != nil && errs.Err != nil {
		return cur, errs.Err
	}
	if errs == nil {
		errs = &Error{}
	}
	if err := Check(next, errs); err != nil {
		return cur, err
	}
	if !errs.Empty() {
		return next, errs
	}
	return next, nil
}

// Keys returns a function reporting whether a key is one of keys, for the
// ignore argument of [Apply].
func Keys(keys ...string) func(string) bool {
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	return func(k string) bool { return set[k] }
}

// Messages is an error carrying several messages for one field, as Django
// REST framework reports every failing validator of a field. [From] adds
// each message.
type Messages []string

// Error joins the messages with spaces.
func (m Messages) Error() string { return strings.Join(m, " ") }

// All runs every rule and reports every failure, where invopop/validation
// stops at the first.
func All(rules ...Rule) Rule {
	run := func(check func(Rule) error) error {
		var msgs Messages
		for _, r := range rules {
			if err := check(r); err != nil {
				var ie validation.InternalError
				if errors.As(err, &ie) {
					return err
				}
				msgs = append(msgs, err.Error())
			}
		}
		if len(msgs) == 0 {
			return nil
		}
		return msgs
	}
	for _, r := range rules {
		if _, ok := r.(textRule); !ok {
			return ruleFunc(func(value any) error {
				return run(func(r Rule) error { return r.Validate(value) })
			})
		}
	}
	return textRule(func(s string) error {
		return run(func(r Rule) error { return r.(textRule)(s) })
	})
}
