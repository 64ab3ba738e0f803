//go:build race

package flowui_test

// raceEnabled says the test binary was built with the race detector,
// under which allocation counts are not what they are without it
// (sync.Pool drops some of what it is given); internal/testutil.Race,
// which this package's tests cannot import (its golden files' -update
// flag is golden_test.go's too).
const raceEnabled = true
