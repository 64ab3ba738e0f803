package stage

import "errors"

// ErrUnknownKind is returned for a model name that is not registered.
var ErrUnknownKind = errors.New("stage: unknown kind")
