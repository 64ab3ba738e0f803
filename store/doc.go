// Package store persists an authflow configuration in one bbolt file, or
// in any backend of the storage seam (package store/kv; the etcd module
// is one), and owns every rule that spans objects: slugs and names are
// unique, references point at objects that exist, and deletes do what
// each reference's on-delete action says. It holds nine built-in collections,
// each under authentik's model name: flows (authentik_flows.flow), stages
// (authentik_flows.stage, one collection for every stage kind), flow-stage
// bindings (authentik_flows.flowstagebinding), policies
// (authentik_policies.policy, every policy kind), policy bindings
// (authentik_policies.policybinding), prompts
// (authentik_stages_prompt.prompt), invitations
// (authentik_stages_invitation.invitation), users (authentik_core.user)
// and groups (authentik_core.group); the users' authenticator devices,
// one collection per class, each a [Declaration] (see "Authenticator
// devices"); and a host's own (see [Declaration]). [Store.Collections]
// and [Store.References] describe them.
//
// # Basics
//
// [Open] a file, then read in [Store.View] and write in [Store.Update]:
// each runs one transaction ([*Tx]), and a write transaction commits
// everything its function did or nothing. A collection is reached
// through its typed handle ([Coll]): [Flows], [Stages], [Bindings],
// [Policies], [PolicyBindings], [Prompts], [Invites], [Users] and
// [Groups], and
// Stages.Kind(model) (or Policies.Kind) for one kind. A handle names an
// object by a [Key], its pk ([PK]) or a unique field ([By], such as a
// flow's slug), and has
//   - Get, the stored record (a flow.Flow) without computed fields: the
//     cheap read, for a planner or an executor;
//   - View, the API representation (a flow.View, with its stages and
//     policies; a stage's flow_set);
//   - Create (a value built in Go), CreateJSON, Replace and Patch (PUT
//     and RFC 7396 merge patch bodies), Delete, and List (authentik's
//     filters, search, ordering and pagination);
//   - ByRef, the records whose reference field names an object, in the
//     order of the index that leads with it (a flow's bindings by
//     order).
//
// Writes take [*WriteOptions]: UnchangedSince makes a write conditional
// on its object being unchanged since a revision (an If-Match), Actor
// names the user who acts (an invitation's creator) by pk. [Tx.OnCommit] learns the
// revision a transaction committed at. Bodies and Go values are validated
// the same way; a rejected write returns a *validate.Error, which
// marshals to authentik's 400 body, and writes nothing.
//
// The generic form ([Tx.Create], [Tx.Get], [Tx.Patch], [Tx.Replace],
// [Tx.Delete], [Tx.List], [Tx.Stream], [Tx.Find]) reaches every
// collection and kind by its model name, with JSON bodies: what package
// api and package blueprint use. [Tx.Create] builds no view, the fast
// path for loading many objects; [Tx.Stream] renders a list's results one
// at a time.
//
// # One engine, declared collections
//
// Each collection is declared once, in its own file (c_flows.go, ...):
// its model, codec, unique fields, unique-together set, ordered indexes
// and the walks its lists take through them, kind index,
// policy-binding-model ids, view and list hooks, and its API path. A host
// declares its own collections the same way ([Declaration],
// Options.Collections): one Go type and one literal. A model whose pk is a
// number (a Django AutoField, as a user's) declares it as a sequence: the
// store gives the number at create, never twice, and keys the record by
// an id derived from it, so that a reference by number (an int64 field
// tagged ref=) is followed like one by UUID. References are
// declared on the fields that hold them, with validate's af tags: ref= names the target (a
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
// # Users, groups and passwords
//
// Users and groups are package directory's types. A user's pk is a
// number the store gives (1, 2, 3, ..., never reused), so a user is
// named By("pk", "7") or By("username", name); [Tx.UserByUUID] and
// [Tx.FindUser] (identification's lookup: username, email or
// attributes.upn, case-insensitive by default, lowest pk first; one index
// read per field) find the others. Membership is stored once, as each
// user's groups; a group's users are read from the reference index, and a
// group write that sets them writes the users it adds or removes, in its
// transaction; [Tx.SetMember] adds or removes one member by writing that
// user alone. [Store.Directory] is all of this as a directory.Directory,
// the seam a host with its own users implements instead.
//
// Password hashes are kept beside the users, never in a record, a view, a
// list, the change feed or an export (a [Store.Backup], a copy of the
// file, holds them). [Store.HashPassword] hashes (with
// Options.Passwords; Django's pbkdf2_sha256 by default) outside any
// transaction, since a hash takes a good part of a second and a write
// transaction holds the file's lock; [Tx.SetPassword] stores one and moves
// password_change_date; [Store.CheckPassword] checks one outside any
// transaction and upgrades a hash that is not current without moving
// it (a read-only store leaves the upgrade), and
// [Store.CheckPasswordHash] does so with a hash a transaction read
// ([Tx.PasswordHash], opaque as every PasswordHash is), for a caller
// that reads the user in one; [ImportPasswordHash] keeps another
// system's hash (an authentik database's) as it is. A user without a
// hash has an unusable password.
//
// # Secrets sealed at rest
//
// An object's secrets are the validate.Secret fields of its kind: every
// write-only field (a Duo stage's client_secret, a captcha stage's
// private_key, an email stage's password) and those authentik shows in
// responses (an SMS stage's auth, an email authenticator's password);
// [Store.SecretFields] lists them all. With Options.Keys (a
// seal.Keyring: package seal, AES-256-GCM), every write seals each
// secret under the keyring's primary key, bound to its collection, its
// object's pk and its field, so that the file (or etcd) holds none in the
// clear and a sealed value copied to another object or field does not
// open ([ErrSealed]); every read opens them, so typed reads (an
// executor's Stages.Get) see them in the clear, in memory. This is one
// mechanism in the store's encoding path, for every collection and kind,
// a host's included: a kind with a validate.Secret field is sealed
// without more. The meta bucket holds a check value sealed under the
// key: [Open] fails with [ErrWrongKey] for a keyring that does not open
// it and with [ErrKeyRequired] without one. Without a key, secrets are
// kept in the clear, as authentik keeps them in its database; a host
// should say so ([Store.Sealed], [Store.SecretFields]; authflow serve
// logs it). [Store.Rekey] re-seals every secret under the primary key
// (after a rotation, or those written in the clear before a key was
// given) in transactions of 100 records, while the store is in use;
// [Store.Check] reports every object whose secrets do not open. The
// change log holds no values, and exports leave secrets out (package
// blueprint). A [Store.Backup] is a copy of the file: its secrets are as
// sealed as the file's.
//
// # Authenticator devices
//
// The users' authenticator devices are kept in one collection per class,
// each declared as a host's would be (c_devices.go: one [Declaration]
// and one record type per class), under authentik's model names
// ([ModelTOTPDevice], [ModelStaticDevice], [ModelWebAuthnDevice],
// [ModelSMSDevice], [ModelEmailDevice], [ModelDuoDevice]): numbered per
// class, referring to their user (deleting the user deletes them; the
// user's used_by lists them) and, for sms, email and duo, to their setup
// stage (the same), with authentik's unique values (a WebAuthn credential
// id; an SMS number per stage; an email address per user). A store whose
// stage registry lacks a setup stage kind has no collection of its
// devices. The TOTP key and a pending SMS or email code are
// validate.Secret fields, sealed like any other; static codes are kept
// only as directory.HashStaticToken hashes. [Directory] implements
// directory.Devices over them, the one writer: UserDevices reads the
// user's entries of the reference index (no scan), FindDevice the unique
// indexes, and UpdateDevice is one write transaction, so that a one-time
// code is accepted once. No API path serves the records as stored:
// package api renders authentik's device shapes from directory.Device.
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
// # Revisions and the change feed
//
// Every write transaction that changes anything commits at the next
// revision, recorded in each record it wrote and in a change log of
// bounded length (Options.ChangeLog). [Tx.Revision],
// [Tx.ObjectRevision] and [Tx.IfRevision] (a write conditional on an
// object's revision, the API's If-Match) read them; [Store.Watch] and
// [Store.OnChange] follow the changes, those of other processes on the
// same backend included.
//
// # File layout and integrity
//
// Every object is a record in its collection's bucket, keyed by its
// 16-byte pk: an envelope (a format byte, the revision that wrote it, a
// CRC-32C of its bucket, key, revision and JSON) and the JSON. The format
// byte is 5 for a record whose secrets are sealed (its checksum covers
// the format byte too), 4 otherwise. A record
// that fails its checksum (a damaged byte in it or in its key) is
// reported as [ErrCorrupt], naming the object, instead of being served.
// Index buckets hold what the records imply (for flows: flows_by_slug,
// flows_by_designation; likewise for the other collections, with refs,
// pbm and counts shared by all). The changes and changes_recent buckets
// hold the change log, whose entries are checksummed too. The meta bucket
// holds the format version (5), a fingerprint of the index declarations
// and the store's revision, which must match the change log's last entry
// (a lost newest entry would make the next write reuse a revision that
// clients hold in an ETag). A file of format 5 holds every declared
// bucket, so one missing is [ErrCorrupt], never an empty collection; a
// list that walks a whole collection or a counted prefix compares what it
// saw with the kept count. Files of formats 2 to 4 are upgraded by a
// writable Open. A version-1 file is migrated in one transaction when
// opened writable, so a failed migration leaves it as it was (that needs
// memory in proportion to the file: bbolt keeps a transaction's pages
// until it commits). A file whose indexes were built
// for other declarations (an older authflow, or kinds whose references
// changed) is reindexed on a writable Open in transactions of a few
// thousand records, with the fingerprint written last, so an interrupted
// reindex starts again at the next Open. [Store.Check] (and the command
// authflow check) verifies the whole file.
//
// # Caveats
//
// Secrets written in the clear (before a key was given) and then sealed
// by a write or [Store.Rekey] may survive in the file's free pages until
// bbolt reuses them, and a [Store.Backup] copies those pages too; bbolt's
// compact command writes a copy without them. Sealing hides values, not their length, nor whether a secret is
// the same in two copies of the file (see package seal).
//
// One process at a time may open a file: a second [Open] fails with
// [ErrLocked] after Options.Timeout. The function given to [Store.Update]
// may run more than once on a backend with optimistic transactions, so it
// must have no effects outside the transaction. The store does not queue
// transactions: like bbolt and etcd, it leaves bounding concurrency to the
// host (a limit on the requests its server handles at once).
// Stage kinds must be registered before a store holding them is opened.
package store
