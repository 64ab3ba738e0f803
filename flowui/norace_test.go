//go:build !race

package flowui_test

// raceEnabled: see race_test.go.
const raceEnabled = false
