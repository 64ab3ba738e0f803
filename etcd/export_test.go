package etcd

// SetBeforeCommit makes fn run before each commit request of db.
func SetBeforeCommit(db *DB, fn func()) { db.beforeCommit = fn }
