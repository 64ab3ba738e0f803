// Package executor runs authentik's flows challenge by challenge
// (issue 21), speaking authentik 2025.6's executor protocol, so that
// authentik's own clients can drive it, and through a Go API for hosts
// that render their own UI. This is its core: the loop, the protocol,
// the run state, and the simplest stages (dummy, deny, redirect).
//
// # Use
//
// [New] makes an [Executor] over a store. Plans come from a plan.Cache
// (Options.Cache, or one New makes), never stale; stage behaviour comes
// from handlers ([Handler]) keyed by stage model name (Options.Handlers, by default
// [Builtin]), in the shape package plan uses for policy evaluators: New
// refuses, with an error wrapping [ErrNoHandler] naming them, any stage
// kind the store serves without a handler, so a host kind registered
// without one is caught when the program starts. A host kind's handler
// answers with challenges of its own types, which embed [Envelope]; the
// challenge component belongs to the handler, and the stage kind
// registry stays data.
//
// The Go API: [Executor.Get] starts or resumes the execution of a flow
// for a session and answers the current challenge; [Executor.Submit]
// answers it with a JSON body. Both take a [Request] (session id, the
// page's query string, the request's user, the HTTP request for
// policies) and return a [Response]: a [Challenge], or Reload (ask
// again). [Executor.HTTPHandler] serves the same over HTTP as authentik's
// GET and POST /api/v3/flows/executor/{slug}/?query=...: 200 with the
// challenge, 302 to the identical URL for Reload, 404 for an unknown
// flow, and ak-stage-flow-error with a request id (and a
// system_exception event holding the error, never shown to the client)
// for anything unexpected, a body over HTTPOptions.MaxBody or not a JSON
// object included. The session is the host's (HTTPOptions.Session) or
// the handler's own cookie (HttpOnly, SameSite=Lax, Secure under TLS).
// Package api serves it (api.Options.Executor), and "authflow serve"
// runs it over its store.
//
// Around the executor, as authentik's: [Executor.Cancel] and
// [Executor.CancelHandler] (GET /flows/-/cancel/, every challenge's
// cancel_url) drop the session's executions; [Executor.Execute] and
// [Executor.ExecuteHandler] (GET /api/v3/flows/instances/{slug}/execute/)
// plan a flow now for the request's user; [Executor.Inspect] and
// [Executor.InspectorHandler] (GET /api/v3/flows/inspector/{slug}/) show
// the session's plan of a flow and its history, one plan per stage
// passed. The history is kept in memory by the Executor (HistoryPlans
// per session and flow, HistoryKeys of them), so it is not kept across a
// restart nor shared between replicas, unlike the executions.
//
// # The loop
//
// As authentik's executor (EXECUTOR.md §2): a request without an
// execution plans the flow (a denied plan answers per the flow's
// denied_action, a plan without stages ends at once); the current stage
// is reached, re-checking the policies of re-evaluated bindings through
// plan.EvaluateBinding (the planner's own engine, with flow_plan.redirect
// inserting a redirect as the next stage) and removing those that fail;
// its handler answers with a challenge, a pass (the stage is popped:
// Reload, or the end of the flow), stage_invalid ([Invalid]: the
// binding's invalid_response_action restart or restart_with_context
// re-plans, else ak-stage-access-denied and the execution ends), an
// invalid response ([Retry]: the challenge again with response_errors,
// unless the binding says restart), or an unconditional denial ([Deny]).
// The end of a flow redirects to the context's redirect, else to the
// query's next when it is relative (an absolute one, "//host" or
// "/\host" is refused with "Invalid next URL"), else to /. Writes that
// policies ask for (plan.Update) are applied through
// Options.ApplyUpdates once the step is saved.
//
// Where authflow differs from authentik, on purpose:
//
//   - Executions are kept per session and flow ([ExecutionKey]), so a
//     second flow in another tab does not destroy the first.
//   - A POST whose component names another challenge than the one last
//     shown is not submitted: the answer is the current challenge with a
//     non-field error ([MsgOtherStage]). A POST to a session without an
//     execution of the flow plans it and answers its first challenge,
//     submitting nothing.
//   - Executions expire (Options.ExecutionTTL, by default a day after
//     the last step); an expired one starts over, and its first challenge
//     says so ([MsgExpired]) unless the record was already swept.
//   - Each step is saved by compare-and-swap: of two requests racing on
//     one execution (two tabs, a replayed POST), the one that saves
//     second changes nothing and answers Reload.
//   - denied_action reads next from the query, as the end of a flow
//     does, not from the executor URL's own parameters (authentik's
//     quirk, issue #10333, under which no browser flow ever continues to
//     next).
//   - A stage's settings are read on every request, not snapshotted when
//     planned; a stage deleted while its flow runs ends the execution
//     ([MsgStageGone]).
//   - A redirect stage in flow mode replaces this flow's execution by
//     one of the target flow (is_redirected holds the pk of the flow it
//     came from), and a target that is denied is stage_invalid ("Unknown
//     error"), as in authentik's tests.
//
// # Run state
//
// Run state is high-churn, per-user data: the executions of flows in
// progress, keyed by session and flow ([ExecutionKey]), and flow tokens
// (a suspended plan restored from an emailed link, keyed by token, single
// use with [RunState.Take], expiring). [RunState] keeps them as opaque
// bytes with an expiry and a version for compare-and-swap
// ([ErrConflict]). An execution is encoded compactly: about 250 to 350
// bytes for a four-stage login, and 100,000 pending ones take about
// 60 MB in a MemRunState (BenchmarkExecutions100k). An expired record is
// never returned; reading it fails with [ErrExpired], told apart from
// [ErrNotFound], until [RunState.Sweep] removes it.
//
// Run state is never configuration: it bumps no store revision, enters
// neither the store's change log nor its change feed, drops no cached
// plan, and is in no blueprint export. Two implementations pass one
// conformance suite (package executortest):
//
//   - [MemRunState], in memory, bounded in records and bytes: past a
//     bound it evicts the records that expire soonest (expired ones
//     first), so that a flood of new executions cannot lock out new
//     logins; the users it evicts start their flow over. It is New's
//     default.
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
// # Not done yet
//
// Every stage kind but dummy, deny and redirect has a handler that denies
// the flow with [MsgUnsupportedStage] and a configuration_error event:
// identification, password, prompt, user_write, user_login and the rest
// come next. Also missing: the pending user (re-evaluated policies see
// the request's user), flow tokens and flow_token in the query, CSRF checks (an Origin check
// on POST), avatars and brand settings in challenges (pending_user_avatar
// is always authentik's default), response error codes beyond DRF's
// required, blank and null ("invalid" otherwise), login events, a
// background sweeper (nothing calls Sweep), and the
// brand's flows the cancel endpoint's redirect (InvalidationURL) and
// execute's link (FlowInterfacePath) lead to: authflow serves neither.
package executor
