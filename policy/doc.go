// Package policy holds authentik's policies and policy bindings: the
// conditions that decide whether a flow may run and whether a stage of it
// is shown.
//
// Every policy has a pk, a name (unique across all kinds) and
// execution_logging; the rest is the kind's [Config]. Kinds come from a
// [Registry] keyed by authentik's model name, such as
// "authentik_policies_expression.expressionpolicy", built on the same
// mechanism as the stage registry: a kind is a plain struct whose fields
// are declared once with "json" and "af" tags. The built-in kinds are the
// eight of authentik 2025.6: [Expression], [Password], [Reputation],
// [Dummy], [EventMatcher], [PasswordExpiry], [GeoIP] and
// [UniquePassword]. A host application adds its own with [Register].
//
// A [Binding] attaches a policy, a group or a user to a target: a flow or
// a flow-stage binding (any object with a policy-binding-model id). Its
// group and user are references to the store's groups and users
// (package directory's Group and User); its view embeds theirs.
//
// Expression policies hold Python source, stored verbatim; package
// expression evaluates them. The store refuses the Python syntax errors it
// can find without a Python parser (store.Options.CheckExpression).
//
// The package does no I/O.
package policy
