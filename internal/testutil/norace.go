//go:build !race

package testutil

// Race says the test binary was built with the race detector, under
// which allocation counts are not what they are in a build without it
// (sync.Pool drops some of what it is given): allocation tests skip.
const Race = false
