// Package etcd keeps an authflow configuration in an etcd cluster, so that
// several processes (the replicas of a service, several "authflow serve")
// read and write one configuration, each process's change feed hears every
// other's writes, and each process's plan cache drops what they change. It
// is the storage seam of package store (kv.DB) on etcd, in a Go module of
// its own so that the main module keeps its four dependencies (bbolt,
// uuid, validation and YAML) and no program links the etcd client unless
// it imports this package.
//
//	s, err := etcd.OpenStore(ctx, etcd.Config{
//		Endpoints: []string{"http://10.0.0.1:2379", "http://10.0.0.2:2379", "http://10.0.0.3:2379"},
//		Prefix:    "authflow/",
//	}, nil)
//
// The store on it is the same engine as on a bbolt file: the same
// validation, uniqueness, references, cascades, lists, revisions and
// change feed, checked by the same conformance suites.
//
// # Keys
//
// Every key is under Config.Prefix (DefaultPrefix): the store's bucket b,
// key k is the etcd key prefix+b+"/"+k, and prefix+"guard" is the key
// every commit writes. Several configurations share one cluster under
// different prefixes, as long as neither prefix starts with the other.
// Write under a prefix only through this package: a key deleted or written
// by hand (etcdctl) while processes use the prefix bypasses the guard that
// serializes their writes.
//
// # Memory
//
// Each process holds a copy of every key under its prefix (records,
// indexes and the change log), loaded at Open with one range read per
// thousand keys and kept current by an etcd watch, so reads cost no round
// trip beyond one linearizable read per transaction. That is about the
// size of the configuration in etcd, and somewhat more: a flow with no
// bindings is five keys of some 630 bytes in all (its record, its index
// entries and its change-log entry), about 1 KB in the copy.
//
// # Consistency
//
// Reads are linearizable: a View sees every write committed before it
// began, in any process, as one snapshot. Writes are serializable: see
// [DB]. A write that loses a race runs again on the new state, up to
// Config.Retries times; store revisions and If-Match preconditions are
// checked inside the transaction, so a conditional write that lost its
// race fails with store.ErrRevision rather than overwrite.
//
// # etcd server flags that matter
//
//   - --max-txn-ops (etcd's default 128): a store transaction is one etcd
//     transaction of one operation per record, index entry and change,
//     plus one. Creating a flow takes 8, patching it 3, importing one of
//     authentik's shipped blueprints about 90 and deleting its flow with
//     its bindings about 54; larger blueprints and cascades take more. Run
//     etcd with --max-txn-ops=10000 (RecommendedMaxTxnOps). A transaction
//     beyond the server's limit fails whole with store.ErrTooLarge (the
//     API answers 413), naming the flag.
//   - --max-request-bytes (default 1.5 MiB) bounds a transaction's total
//     size, and the client's own limit is 2 MiB; beyond them, likewise
//     store.ErrTooLarge.
//   - --quota-backend-bytes: when the database reaches it, etcd refuses
//     writes (its NOSPACE alarm) until compacted and defragmented. etcd
//     also answers "database space exceeded" to a write it applied as it
//     reached the quota, so such a write is resolved like a cut-off one;
//     when etcd refuses the fence too, the caller gets
//     store.ErrOutcomeUnknown.
//   - --auto-compaction-retention: etcd's compaction removes old
//     revisions of keys. A read transaction older than the retention
//     fails, and a write transaction runs again; the change feed is the
//     store's own log (store.Options.ChangeLog), so Watch is unaffected.
//     Keep the retention well above the longest transaction (a minute is
//     plenty).
//   - --heartbeat-interval and --election-timeout set how long a cluster
//     that lost its leader refuses writes (about the election timeout).
//
// # Failures
//
// Open fails within Config.DialTimeout when the cluster cannot be
// reached. Every request is bounded by Config.RequestTimeout, so a lost
// cluster fails calls instead of blocking them. A commit whose connection
// is lost before etcd answers is resolved when the cluster answers again:
// Update then returns nil when it applied (once), or runs the transaction
// again when it did not; only when the cluster stays out of reach does it
// fail with store.ErrOutcomeUnknown (the API answers 503), and then the
// write applied whole or not at all. Backup is not offered: use etcdctl
// snapshot save.
package etcd
