// Package directory holds authentik 2025.6's users and groups as Go
// values: their fields, defaults, validation with authentik's exact
// messages, their API representations, the group hierarchy, and the
// seam ([Directory]) through which flows reach a directory of users. It
// does no I/O of its own ([FactsOf] reads through a Directory): the
// store keeps users and groups, assigns their ids and times, and checks
// what needs other objects (unique usernames and group names, that
// referenced groups and users exist).
//
// [User] and [Group] are the stored values; [DecodeUser] and
// [DecodeGroup] apply a create (POST), replace (PUT) or merge patch to
// them with authentik's rules. [UserView] and [GroupView] are the API
// representations, whose computed fields (is_superuser, groups_obj,
// avatar, uid, parent_name, users_obj) are given as plain values.
//
// # Hierarchy
//
// A group has at most one parent. Membership walks upwards: a member of
// a group is a member of every group above it, up to [RecursionLimit]
// levels. [User.AllGroups], [User.IsSuperuser], [Group.IsMember] and
// [User.GroupAttributes] follow authentik, cycles included (authentik
// refuses only a group as its own parent, and walks a longer cycle until
// the limit), given a [Lookup] for groups.
//
// # Membership
//
// [User.Groups] and [Group.Users] are one many-to-many relation seen
// from either side; a write may set either. The store keeps them
// consistent. A create or replace that omits them sets them to [] (their
// DefaultOnReplace methods say so), unlike other omitted fields, which
// keep their stored values on a replace.
//
// # Passwords
//
// A User holds no password and no password hash, on purpose: a value that
// never holds one cannot leak it through its JSON, its String, an error
// or an export. A [Directory] keeps hashes apart from users, keyed by
// the user's pk, and sets and checks them through its SetPassword and
// CheckPassword; package password makes them. A write body with a "password" key is refused like
// any unknown key: authentik accepts a raw password only in a blueprint
// entry, so a blueprint importer takes it out of the entry before it
// decodes the rest.
//
// # Seam
//
// [Directory] is what flows need from a user directory: get a user by
// pk or uuid, find one by identifier ([Find]: username, email or the
// "upn" attribute, case-insensitive by default, lowest pk first,
// inactive users included), create, update and delete one, set and
// check its password, and read a group. Its contract is in its
// documentation; [ErrNotFound], [ErrUsernameTaken] and [ErrReadOnly]
// are what callers branch on. Groups are created outside the seam (the
// store's API, a host's own tables).
//
// [FactsOf] reads, through any Directory, what the planner and policies
// need about a user: its groups with their ancestors, whether it is a
// superuser, and its merged group attributes ([Facts]).
//
// Implementations: the store's users and groups are the built-in one;
// package memdir is an in-memory one for tests; a host implements
// Directory over its own users table (see Example_hostDirectory; one
// that does not write returns ErrReadOnly from the writes). Package
// directorytest is the conformance suite each runs from its tests; it
// does not cover ErrReadOnly, nor the upgrade of an old hash on
// CheckPassword, which it cannot plant through the seam.
//
// # Differences from authentik
//
//   - Unknown keys are refused (authentik ignores them).
//   - A user pk given as a non-integral number (5.5) is refused as a float;
//     authentik truncates it to 5.
//   - A role pk is reported as not existing: authflow has no roles.
//   - Group names in [User.GroupAttributes] compare byte by byte, where
//     PostgreSQL uses the database's collation.
//   - [Facts.Groups] lists each group once, where authentik's
//     all_groups() repeats a group reached twice.
//   - [User.GroupAttributes] stops with [ErrTooLarge] past
//     [MaxMergedValues] values, where authentik builds them all.
package directory
