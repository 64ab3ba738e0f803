//go:build race

package expression_test

// slow scales time bounds: the race detector slows the interpreter about tenfold.
const slow = 10
