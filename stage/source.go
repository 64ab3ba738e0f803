package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// ModelSource is the model name of [Source].
const ModelSource ModelName = "authentik_stages_source.sourcestage"

// Source suspends the flow, sends the user to a source and resumes the
// flow afterwards: authentik's SourceStage (enterprise).
type Source struct {
	// Source is the pk of the source. authflow does not hold sources: any
	// well-formed pk is accepted and kept as given (authentik also
	// refuses a source that is not web-based, which authflow cannot
	// tell).
	Source uuid.UUID `json:"source" af:"required"`
	// ResumeTimeout is a timedelta string ([validate.Timedelta]): how
	// long the suspended flow waits.
	ResumeTimeout string `json:"resume_timeout"`
}

// DefaultSource returns a Source with authentik's defaults. The source
// has none: a create must give it.
func DefaultSource() Source { return Source{ResumeTimeout: "minutes=10"} }

// ModelName implements [Config].
func (Source) ModelName() ModelName { return ModelSource }

// Validate checks the timeout.
func (c Source) Validate() error {
	return validation.ValidateStruct(&c, validation.Field(&c.ResumeTimeout, validate.Timedelta))
}

var _ Config = Source{}
