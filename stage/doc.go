// Package stage holds authentik's stages: the steps a flow is made of.
//
// Every stage has a pk and a name (unique across all kinds); the rest is
// the kind's [Config]. Kinds come from a [Registry] keyed by authentik's
// model name, such as "authentik_stages_user_write.userwritestage". The
// built-in kinds are the 24 stage kinds of authentik 2025.6 (user write,
// invitation, prompt, identification, password, the authenticator setup
// and validation stages, email, captcha, consent, deny, redirect, source,
// mTLS and the rest; Default.Kinds lists them); a host application adds its
// own with [Register], and the store and API serve them without change.
//
// Prompts ([Prompt], the fields a prompt stage shows) and invitations
// ([Invite]) live here too, as authentik keeps them in its prompt and
// invitation stage apps.
//
// A kind is a plain struct. Its fields are declared once with "json" and
// "af" tags (see [validate.SchemaOf]): that drives decoding, validation,
// persistence and the representation. Write-only fields (secrets) use
// [validate.Secret] and never appear in output.
//
// The package does no I/O.
package stage
