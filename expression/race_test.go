//go:build race

package expression_test

// The race detector allocates more: allocation counts are not checked.
func init() { raceEnabled = true }
