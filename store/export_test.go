package store

// SetReindexChunk sets the reindex's transaction size for a test and
// returns the function that restores it.
func SetReindexChunk(n int) func() {
	old := reindexChunk
	reindexChunk = n
	return func() { reindexChunk = old }
}
