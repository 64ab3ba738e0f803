// Package stage holds authentik's stages: the steps a flow is made of.
//
// Every stage has a pk and a name (unique across all kinds); the rest is
// the kind's [Config]. Kinds come from a [Registry] keyed by authentik's
// model name, such as "authentik_stages_user_write.userwritestage". The
// built-in kinds are [UserWrite], [Invitation] and [AuthenticatorDuo]; a
// host application adds its own with [Register], and the store and API
// serve them without change.
//
// A kind is a plain struct. Its fields are declared once with "json" and
// "af" tags (see [validate.SchemaOf]): that drives decoding, validation,
// persistence and the representation. Write-only fields (secrets) use
// [validate.Secret] and never appear in output.
//
// The package does no I/O.
package stage
