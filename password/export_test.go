package password

// SetTrace sets the hook told of each key derivation (algorithm and cost
// parameter), or removes it with nil.
func SetTrace(f func(alg Algorithm, cost uint64)) { traceWork = f }
