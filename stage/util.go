package stage

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/authflow/authflow/validate"
	"github.com/invopop/validation"
)

// ErrUnknownKind is returned for a model name that is not registered.
var ErrUnknownKind = errors.New("stage: unknown kind")

// deref turns the pointer that Kind.New returns into the value Config that
// a Stage holds, so that Stage values never share state.
func deref(c Config) Config {
	v := reflect.ValueOf(c)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		if vc, ok := v.Elem().Interface().(Config); ok {
			return vc
		}
	}
	return c
}

// copyConfig sets *ptr to cur, which must be of ptr's element type (or a
// pointer to it).
func copyConfig(ptr Config, cur Config) error {
	if cur == nil {
		return nil
	}
	dst := reflect.ValueOf(ptr).Elem()
	src := reflect.ValueOf(cur)
	if src.Kind() == reflect.Pointer {
		src = src.Elem()
	}
	if src.Type() != dst.Type() {
		return fmt.Errorf("stage: config is %s, kind needs %s", src.Type(), dst.Type())
	}
	dst.Set(src)
	return nil
}

// applyConfig decodes in onto *ptr and runs its field rules.
func applyConfig(ptr Config, in map[string]json.RawMessage, op validate.Op) (Config, error) {
	s, err := validate.SchemaOf(ptr)
	if err != nil {
		return nil, err
	}
	errs := s.Decode(ptr, in, op, commonKeys)
	if errs != nil && errs.Err != nil {
		return nil, errs.Err
	}
	if errs == nil {
		errs = &validate.Error{}
	}
	val := deref(ptr)
	if err := validate.Check(val, errs); err != nil {
		return nil, err
	}
	return val, errs.OrNil()
}

// nonEmpty is the rule of a list of n items that may not be empty, for
// values built in Go (a write already refuses an empty list: see the
// nonempty tag).
func nonEmpty(n int) validation.Rule {
	return validation.By(func(any) error {
		if n == 0 {
			return validation.NewError("authflow_empty_list", validate.MsgEmptyList)
		}
		return nil
	})
}
