package stage

import (
	"errors"

	"github.com/authflow/authflow/validate"
	"github.com/invopop/validation"
)

// ErrUnknownKind is returned for a model name that is not registered.
var ErrUnknownKind = errors.New("stage: unknown kind")

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
