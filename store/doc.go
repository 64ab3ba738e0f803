// Package store persists an authflow configuration (flows, stages and
// bindings) in one bbolt file, and owns every rule that spans objects:
// flow slugs and stage names are unique, references point at objects that
// exist, and deletes cascade.
//
// # Basics
//
// [Open] a file, then use the typed operations on [*Store]: GetFlow,
// GetFlowBySlug, ListFlows, CreateFlow, ReplaceFlow, PatchFlow, DeleteFlow,
// and the same verbs for stages and bindings. Writes take authentik's JSON
// bodies (a POST, a PUT or an RFC 7396 merge patch) or values built in Go,
// and validate both the same way. A rejected write returns a
// *validate.Error, which marshals to authentik's 400 body, and writes
// nothing. To change several objects atomically, use [Store.Update] and the
// same methods on [*Tx].
//
// # Deletes
//
// Deleting a flow deletes its bindings and sets stage references to it
// (Duo's configure_flow) to null. Deleting a stage deletes its bindings.
// Each delete, with its cascade, is one transaction: nothing is ever left
// dangling.
//
// # File layout
//
// Every object is a JSON value in its own bucket, keyed by its 16-byte pk.
// Index buckets (flows_by_slug, stages_by_name, stages_by_model,
// bindings_by_flow, bindings_by_stage, stages_by_flowref) make a slug or
// name lookup, a flow's ordered bindings and a stage's flow_set read only
// what they return. The meta bucket holds the format version; a file of a
// newer format is refused with [ErrVersion].
//
// # Caveats
//
// One process at a time may open a file: a second [Open] fails with
// [ErrLocked] after Options.Timeout. Contexts are checked before each
// transaction, but bbolt itself cannot be interrupted. Stage kinds must be
// registered before a store holding them is read.
package store
