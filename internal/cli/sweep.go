package cli

import (
	"context"
	"time"

	"github.com/authflow/authflow/executor"
)

// sweepEvery is how often serve removes expired run state (executions
// past their TTL), so that a file does not keep every abandoned login.
const sweepEvery = 10 * time.Minute

// sweep removes expired run state at every tick until ctx ends, in
// batches of executor.MaxSweep until a batch finds fewer. A failure is
// logged and tried again at the next tick.
func sweep(ctx context.Context, rs executor.RunState, tick <-chan time.Time, now func() time.Time, logf func(string, ...any)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		for {
			n, err := rs.Sweep(ctx, now(), executor.MaxSweep)
			if err != nil {
				if ctx.Err() == nil {
					logf("sweeping expired executions: %v", err)
				}
				break
			}
			if n < executor.MaxSweep {
				break
			}
		}
	}
}
