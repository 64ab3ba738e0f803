package executor

import (
	"context"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/expression"
)

// enrollDirectory is where the prompt and user_write stages read users
// from (a username taken, the pending user of prompt expressions): the
// store's directory, each read its own transaction.
func (s *Step) enrollDirectory() directory.Directory { return s.ex.s.Directory() }

// expressionOptions are the options of prompt expressions: o, or the
// defaults, with the events of failing expressions reported as the
// executor's events when o has no sink of its own.
func (e *Executor) expressionOptions(o *expression.Options) *expression.Options {
	var out expression.Options
	if o != nil {
		out = *o
	}
	if out.Event == nil {
		out.Event = func(_ context.Context, ev expression.Event) {
			msg, _ := ev.Context["message"].(string)
			e.event(Event{Action: ev.Action, Message: msg})
		}
	}
	return &out
}
