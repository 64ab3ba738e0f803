// Package executor will run authentik's flows challenge by challenge
// (issue 21). This is its first part only: the run-state seam, where a
// running flow's state is kept between requests. Nothing of the executor
// itself exists yet: no stage handlers, no challenges, no HTTP protocol,
// no Go API to start or resume a flow.
//
// # Run state
//
// Run state is high-churn, per-user data: the executions of flows in
// progress (a plan, its position, its context, the pending user), keyed
// by session and flow ([ExecutionKey]), so that two flows in two tabs of
// one session do not collide; and flow tokens, a suspended plan restored
// from an emailed link, keyed by token, single use ([RunState.Take]) and
// expiring. [RunState] keeps them as opaque bytes (their encoding is the
// executor's, still to come) with an expiry and a version for
// compare-and-swap, so that two tabs or a replayed POST racing on one
// execution cannot both win ([ErrConflict]). An expired record is never
// returned; reading it fails with [ErrExpired], told apart from
// [ErrNotFound], so that the executor can say a flow expired before it
// starts over, until [RunState.Sweep] removes it.
//
// Run state is never configuration: it bumps no store revision, enters
// neither the store's change log nor its change feed, drops no cached
// plan, and is in no blueprint export. Two implementations pass one
// conformance suite (package executortest):
//
//   - [MemRunState], in memory, bounded in records and bytes: past a
//     bound it evicts the records that expire soonest (expired ones
//     first), so that a flood of new executions cannot lock out new
//     logins; the users it evicts start their flow over.
//   - [KVRunState], on a kv.DB: [NewStoreRunState] keeps it beside the
//     configuration in the store's own database (store.Store.Aside), in
//     buckets of their own, so that executions survive a restart on a
//     bbolt file and replicas on etcd share them. A copy of the whole
//     bbolt file (store.Store.Backup) carries them; an etcd snapshot
//     does too. On etcd every process holds a copy of every key under
//     the store's prefix (package etcd, "Memory"), run state included,
//     and every write wakes the other processes' change-feed readers,
//     which find no change.
//
// Not done yet: everything of issue 21 but this seam, and a background
// sweeper (the executor will call Sweep).
package executor
