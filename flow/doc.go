// Package flow holds authentik's Flow: a named, designated sequence of
// stages. The stages themselves, and the ordered bindings that attach them
// to a flow, live in packages stage and binding; this package knows
// nothing of them.
//
// [Flow] is the stored value and [View] its API representation (with the
// computed background, stages, policies, cache_count and export_url).
// [Decode] and [ApplyPatch] perform writes with authentik's validation; the
// store adds slug uniqueness. The package does no I/O.
package flow
