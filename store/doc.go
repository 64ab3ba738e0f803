// Package store persists an authflow configuration (flows, stages and
// bindings) in one bbolt file, or in any backend of the storage seam
// (package store/kv), and owns every rule that spans objects: flow slugs
// and stage names are unique, references point at objects that exist,
// and deletes do what each reference's on-delete action says.
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
// same methods on [*Tx]; the generic form ([Tx.Create], [Tx.Get],
// [Tx.Patch], [Tx.Replace], [Tx.Delete]) reaches every collection and
// stage kind by its model name, and [Tx.Create] builds no view, which
// makes it the fast path for loading many objects.
//
// # One engine, declared collections
//
// Each collection is declared once (schema.go): its model, codec, unique
// fields, unique-together set, ordered indexes, kind index and
// policy-binding-model ids. References are declared on the fields that
// hold them, with validate's af tags: ref= names the target (a
// collection, such as flow or stage, or one stage kind by its model
// name), on_delete= what deleting the target does (cascade, set_null,
// set_default, protect, or cascade_many for a many-to-many list), and
// related= the used_by accessor. [Open] checks the declarations, every
// registered kind's included, and refuses a bad one with [ErrSchema]
// before it touches the file. From them one engine derives, for every
// collection:
//   - writes in Django REST framework's order: field rules, reference
//     existence and unique fields (reported together), then, only when
//     the fields are valid, the unique-together set and the object rules;
//   - every index entry, from one function of the object;
//   - deletes, by walking the references to the object: cascades
//     (recursively), set_null, set_default, removal from many-to-many
//     lists, and protect, which refuses the whole delete with a
//     [*ProtectedError] listing the blockers;
//   - [Tx.UsedBy], authentik's used_by, and [Tx.DeleteImpact], the same
//     walk without the writes.
//
// # Lists
//
// Page N of a collection's default ordering, a filter on an indexed field
// (a flow's designation, a binding's target) and a kind's stages read only
// the page's index keys and objects, and take pagination.count from
// counts the engine keeps. Any other list scans its collection: a test
// on each record's stored bytes skips most non-matches without decoding
// them, and a bounded heap keeps only page×size items in memory. Scans
// check the transaction's context between records, so a request whose
// client has gone stops. Search terms, ordering fields and number filters
// are capped (see [Query]).
//
// # File layout and integrity
//
// Every object is a record in its collection's bucket, keyed by its
// 16-byte pk: a format byte, its revision, a CRC-32C of its bucket, key,
// revision and JSON, and the JSON. A record that fails its checksum (a
// damaged byte in it or in its key) is reported as [ErrCorrupt], naming
// the object, instead of being served. Index buckets hold what the
// records imply (flows_by_slug, stages_by_name, stages_by_model,
// stages_by_model_name, flows_by_designation, bindings_by_flow,
// bindings_by_stage, bindings_by_order, bindings_unique, refs, pbm and
// counts). The meta bucket holds the format version (5), a fingerprint
// of the index declarations and the store's revision, which must match
// the change log's last (checksummed) entry. A file of format 5 holds
// every declared bucket, so one missing is [ErrCorrupt]; a list that walks
// a whole collection or counted prefix compares what it saw with the
// kept count. Files of formats 2 to 4 are upgraded by a writable Open. A version-1 file is migrated in
// one transaction when opened writable, so a failed migration leaves it as
// it was (that needs memory in proportion to the file: bbolt keeps a
// transaction's pages until it commits). A file whose indexes were built
// for other declarations (an older authflow, or kinds whose references
// changed) is reindexed on a writable Open in transactions of a few
// thousand records, with the fingerprint written last, so an interrupted
// reindex starts again at the next Open. [Store.Check] (and the command
// authflow check) verifies the whole file.
//
// # Caveats
//
// One process at a time may open a file: a second [Open] fails with
// [ErrLocked] after Options.Timeout. The function given to [Store.Update]
// may run more than once on a backend with optimistic transactions, so it
// must have no effects outside the transaction. Read transactions are
// bounded (Options.MaxReaders) so that readers cannot starve writers.
// Stage kinds must be registered before a store holding them is opened.
package store
