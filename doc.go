// Package authflow lets a Go program own an identity-flow configuration
// (flows, stages, the ordered bindings between them, prompts,
// invitations, policies and policy bindings, users and groups) with
// authentik's
// data model, validation rules and JSON wire format, stored in one bbolt
// file (or in etcd, for a service on several machines). There is no
// server, database or Python to run.
//
// # The model
//
// A flow ([flow.Flow]) is a named, designated sequence of steps: an
// authentication flow, an enrollment flow, a recovery flow. Each step is a
// stage ([stage.Stage]) of some kind — a User Write stage, an Invitation
// stage, a Duo authenticator setup stage, or a kind the host application
// registers ([stage.Register]). A binding ([binding.Binding]) places a
// stage in a flow at an order; a flow runs its stages in binding order.
// One stage can be bound into many flows. A prompt stage shows prompts
// ([stage.Prompt]); an invitation ([stage.Invite]) lets someone enroll
// with data fixed in advance. A policy ([policy.Policy], of a kind from
// [policy.Register]) is bound by a policy binding ([policy.Binding]) to a
// flow or to a binding, and decides whether it applies.
//
// # Packages
//
//   - [validate]: authentik's field rules and messages, and the 400 error
//     shape ([validate.Error]).
//   - [flow], [stage], [binding], [policy]: the pure domain types, their
//     defaults, validation and merge-patch semantics. They do no I/O.
//   - directory: authentik's users and groups as domain types, the group
//     hierarchy, and the seam (directory.Directory) a host with its own
//     users implements; the store holds the built-in ones.
//   - password: Django's password hashes, as authentik stores them;
//     password/strength: authentik's zxcvbn and Have I Been Pwned checks
//     for password policies.
//   - expression: authentik's Python expression policies and prompt
//     expressions, evaluated in pure Go (Starlark), sandboxed and bounded.
//   - [store]: the bbolt file; uniqueness, references, cascades, lists,
//     revisions and the change feed. store/kv is its storage seam.
//   - plan: authentik's flow planner (which stages a flow runs for a
//     request, and why), its policy engine and a plan cache that is never
//     stale.
//   - executor: runs flows challenge by challenge, with authentik's
//     executor protocol (a Go API and an http.Handler), its stages, run
//     state (executions, flow tokens, sessions) kept apart from the
//     configuration, and the seams stages need (mailer, captcha, devices).
//   - flowui: the flow interface, authentik's flows as server-rendered
//     web pages over the executor, sharing its sessions.
//   - reputation: the reputation scores failed logins feed, and the
//     reputation policy's evaluator.
//   - blueprint: authentik's blueprints, imported in one transaction, and
//     flows exported as blueprints.
//   - api: authentik's REST endpoints for all of the above, as an
//     http.Handler a host application mounts on its own mux.
//   - cmd/authflow: the command line (serve, run, import, diff, export,
//     plan, diagram, check, users, groups, version) over one file.
//   - etcd (a module of its own): the store on an etcd cluster.
//
// # Writes
//
// Every object can be created (authentik's POST), replaced (PUT: required
// fields must be sent, omitted optional ones keep their values) and
// patched (an RFC 7396 merge patch). Errors carry authentik's exact
// messages:
//
//	{"slug": ["Flow with this slug already exists."]}
//
// Where authflow deliberately differs from authentik (unknown keys are
// rejected, cross-field rules see the merged object, deletes are atomic,
// page sizes are bounded), the package documentation says so.
package authflow
