// Package executor runs authentik's flows challenge by challenge
// (issue 21), speaking authentik 2025.6's executor protocol, so that
// authentik's own clients can drive it, and through a Go API for hosts
// that render their own UI. This is its core: the loop, the protocol,
// the run state, the simplest stages (dummy, deny, redirect), the
// login path (identification, password, user_login, user_logout), the
// enrollment stages (prompt, user_write), authenticator_validate (TOTP,
// static, WebAuthn, SMS, email and Duo devices, passwordless WebAuthn),
// the TOTP, static, WebAuthn, SMS, email and Duo setup stages, consent,
// user_delete, captcha, flow tokens, and the email and invitation
// stages.
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
// policies, the remembered-MFA cookie) and return a [Response]: a
// [Challenge], or Reload (ask again), a [Login] or [Logout] when a stage
// changed the session's user (see Login below), and an [MFACookie] for
// the client to keep when a validation stage remembers a device. A host gives the HTTP request; without one,
// policies and prompts see the executor endpoint's request as
// authentik's interface would make it (the method, the path, the query
// parameter, no headers, an unknown client address and the default
// tenant), since authentik always runs a flow inside an HTTP request and
// shipped policies read it. [Executor.HTTPHandler] serves the same over HTTP as authentik's
// GET and POST /api/v3/flows/executor/{slug}/?query=...: 200 with the
// challenge, 302 to the identical URL for Reload, 404 for an unknown
// flow, and ak-stage-flow-error with a request id (and a
// system_exception event holding the error, never shown to the client)
// for anything unexpected, a body over HTTPOptions.MaxBody or not a JSON
// object included. The session is the host's (HTTPOptions.Session) or
// the handler's own cookie (HttpOnly, SameSite=Lax, Path /, Secure under
// TLS, a proxy's too: X-Forwarded-Proto: https).
// A GET or POST from another origin is refused before any session is
// read or made (a GET reaches stages with side effects, user_delete
// and user_logout among them, and a cross-site navigation carries the
// SameSite=Lax cookie; authentik checks no GET): 403 {"detail":
// [MsgCrossOrigin]}, the shape of the message of authentik's API
// (DRF's SessionAuthentication over Django's CSRF check; authentik's executor renders it as ak-stage-flow-error, and
// checks only authenticated sessions, by an X-authentik-CSRF token).
// The check is net/http's CrossOriginProtection (HTTPOptions.CrossOrigin
// for trusted origins): Sec-Fetch-Site, else Origin against Host. A
// request with neither header is answered: every browser since 2023
// sends Sec-Fetch-Site, and Origin on every cross-origin POST, so it
// comes from a program (authentik's TypeScript client in Node, outposts,
// curl), which holds its own cookie and cannot be forged by a page; the
// SameSite=Lax cookie keeps an older browser's cross-site POST out of
// the session anyway. Referer is not read.
// [Executor.HTTPSessions] is HTTPHandler's session mechanism on its
// own (the origin check, a Request from an HTTP request, a login or
// logout applied, a flow error reported), for a host that serves flows
// in another shape: package flowui's pages use it, so that they and the
// API share one session per client. [Components] lists the challenge
// components the executor and its built-in handlers answer with.
// Package api serves it (api.Options.Executor), and "authflow serve"
// runs it over its store.
//
// Around the executor, as authentik's: [Executor.Cancel] and
// [Executor.CancelHandler] (GET /flows/-/cancel/, every challenge's
// cancel_url) drop the session's executions; [Executor.Execute] and
// [Executor.ExecuteHandler] (GET /api/v3/flows/instances/{slug}/execute/)
// plan a flow now for the request's user ([Executor.Running] says
// whether the session has one under way); [Executor.Inspect] and
// [Executor.InspectorHandler] (GET /api/v3/flows/inspector/{slug}/) show
// the session's plan of a flow and its history, one plan per stage
// passed. The history is kept in memory by the Executor (HistoryPlans
// per session and flow, HistoryKeys of them), so it is not kept across a
// restart nor shared between replicas, unlike the executions.
// [Executor.Configure] and [Executor.ConfigureHandler] (GET
// /flows/-/configure/{stage_uuid}/, [ConfigurePath]) start a stage's
// configure_flow for the logged-in user (planned now, as execute) and
// send them to its page; an anonymous request goes to the default
// authentication flow with next, a stage without a configure flow (or a
// flow that does not apply) is 404.
// [Executor.DefaultFlow] and [Executor.DefaultFlowHandler] (GET
// /flows/-/default/authentication/ and /flows/-/default/invalidation/,
// where cancel leads) find the flow of a designation: the brand's
// (Options.Brand, a [Brand]), else the first by slug whose own policies
// pass (plan.EvaluateFlow). authentik also drops the session's plan of
// another flow there, and prefers the authentication flow of the
// provider of the application being logged into; authflow keeps
// executions per session and flow, so drops none, and holds no
// applications. The brand also gives the password challenge's
// recovery_url (its recovery flow's page, after Options.BaseURL),
// flow_info.background for a flow without one, and http_request.brand
// in expressions (its attributes, for a request whose
// plan.HTTPRequest has none); its title is for a host's pages
// ([Executor.Brand]). authentik's identification stage links only its
// own recovery flow, never the brand's.
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
// query's next when it is relative (an absolute one, "//host", "/\host",
// or one a browser reads so once it strips a leading space, is refused
// with "Invalid next URL"), else to /. Writes that
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
//   - The requests of one execution (two tabs, a double click, a
//     replayed POST) run one after the other in a process, so that a
//     stage's side effects (a user written, an email sent, a login)
//     happen once: the second sees the first's step. Each step is saved
//     by compare-and-swap: of two requests racing on one execution in
//     two processes (replicas on etcd), the one that saves second
//     changes nothing and answers Reload, though both ran the stage.
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
// # Login
//
// Stages reach the host's services through their [Step], never
// globals: the user directory ([Step.Directory]; Options.Directory, by
// default the store's), the pending user ([Step.PendingUser],
// [Step.SetPendingUser], in directory.ContextUser's form under
// directory.ContextPendingUser), the captcha verifier ([Step.Captcha];
// Options.Captcha, a [CaptchaVerifier]), users' authenticator devices
// ([Step.Devices]; Options.Devices), the SMS sender (Options.SMS, an
// [SMSSender]), Duo (Options.Duo, a [Duo]) and the client's address
// ([Step.ClientIP]).
//
// As authentik 2025.6 (EXECUTOR.md §4.1, §4.2, §4.5, §4.6):
//
//   - identification finds the user by its user_fields (username,
//     email, the "upn" attribute; case-insensitive unless
//     case_insensitive_matching is off), with pretend_user_exists,
//     show_matched_user (else pending_user_identifier), the enrollment,
//     recovery and passwordless links (with the page's query), a
//     password stage's and a captcha stage's fields in the same
//     challenge, and "Failed to authenticate.". The captcha token is
//     verified for every identifier before it is looked up (authentik
//     verifies known identifiers only, so that a refused token tells
//     them apart). An unknown identifier leaves a stand-in pending user (its username and email the
//     identifier, no pk) and waits 90 to 210 ms (Options.Sleep), as in
//     authentik, or, when a password stage is embedded, spends a
//     password check instead (authentik waits, which makes an unknown
//     identifier slower than a wrong password). authflow holds no
//     sources: sources is always empty. An identification
//     stage with a captcha stage and no Options.Captcha denies the flow
//     with [MsgNoCaptchaVerifier] and a configuration_error event.
//   - password checks the pending user's username and password with the
//     stage's backends in order: the inbuilt one through the directory
//     (an inactive user fails as a wrong password does); the token
//     backend finds no app password, authflow having none; LDAP and
//     Kerberos find no source. Success sets the pending user with its
//     backend (the map's "backend" key, which the shipped
//     default-authentication-flow's hasattr(pending_user, "backend")
//     policy reads to skip the password stage after a combined
//     identification), user_backend, and auth_method "password" (the
//     first method stays). A wrong password is the field error "Invalid
//     password" and a login_failed event naming the username; any
//     invalid answer counts, and the failed_attempts_before_cancel-th
//     ends the flow with "Invalid password". The count is kept in the
//     plan context ([ContextInvalidTries]), so a restart without
//     context resets it, where authentik keeps it per session.
//   - user_login logs the pending user in (stage_invalid, "Unknown
//     error", without one or for an inactive one), asking remember_me
//     when remember_me_offset is set; the session lasts
//     session_duration (plus the offset when remembered; zero: until
//     the browser closes). network_binding and geoip_binding are not
//     enforced.
//   - user_logout logs the session out; the flow continues anonymously.
//
// A login or logout is reported in [Response] ([Login], [Logout]) with a
// new session id: the execution continues under it and the old id is
// given up (no session fixation); the session's other executions (other
// tabs' flows) start over. The host makes the new id the client's
// session. [Executor.HTTPHandler] with its own cookie does so itself:
// it keeps logged-in sessions in the run state's [Sessions] namespace
// ([SessionStore]: session to user, expiring with the session, and
// each user's list of at most [MaxUserSessions] sessions with their
// expiries, which terminate_other_sessions ends and [SessionStore.End]
// takes a session off; past the bound the expired ones leave first, then
// the oldest), sets the new cookie (with Max-Age for
// a session with an expiry), and takes a later request's user from it
// (a deleted or inactive user's session ends; of the store's own
// directory, the user is read as the steps read it, decoded once at the
// store's revision). With the host's session
// (HTTPOptions.Session), HTTPOptions.Login and Logout are called.
//
// Reputation (authentik's policies/reputation/signals.py): a password
// every backend refuses (login_failed) and an identifier that matches no
// user (identification_failed, which authentik logs without an event)
// lower the score of the client's address and the identifier by one, a
// login raises it by one, within -5 and 5, each (address, identifier)
// pair expiring a day after it was created ([Step.ChangeReputation];
// Options.Reputation, a reputation.Scores, by default a reputation.Mem).
// Reputation policies read the same scores: New's own plan cache
// evaluates them with reputation.Evaluator, never caching a plan that
// did; a host giving Options.Cache or Plan.Evaluators registers
// reputation.Evaluator over its Options.Reputation. [RunStateScores]
// keeps scores in the run state (the Reputation namespace), as authflow
// serve does.
//
// Events: login (with auth_method), login_failed and logout, never
// with a password. Unknown users cost a password check as known ones
// do: an unknown username spends one hash of Options.Passwords, and an
// unknown identifier in an identification stage with a password stage
// too, so that pretend_user_exists answers an unknown identifier and a
// wrong password with the same challenge at a comparable cost. Without
// a password stage, a known identifier answers at once and an unknown
// one after authentik's wait: its timing tells them apart, as in
// authentik.
//
// Figures (issue 21's bounds in brackets), at 1,000 and 100,000 users,
// on a shared two-core machine, medians of five runs; each ratio is of
// costs measured alternately in one loop, each first in turn:
//
//	go test ./executor -run '^$' -bench 'BenchmarkLogin$' -benchtime 20x
//	go test ./executor -run '^$' -bench 'BenchmarkLoginCheap/users=[0-9]*/(go|http)$' -benchtime 3000x
//	go test ./executor -run '^$' -bench Executions100k -benchtime 1x
//
// A complete login of the shipped default-authentication-flow
// (identification, password, MFA without devices, user_login) through
// the Go API with the store's default hasher costs 1.018 and 1.023
// times one password check [1.05] (BenchmarkLogin). 100,000 pending
// executions take 62 MB in a MemRunState [200]
// (BenchmarkExecutions100k). An unknown identifier costs what a wrong
// password does (BenchmarkEnumeration).
//
// With a pbkdf2 hasher of one iteration, the login (206 allocations,
// 18 kB) costs 17.3 and 20.2 times a cached plan of the flow (medians
// of fifteen runs) [20: met at 1,000 users; at 100,000 at the bound,
// runs spread from 16.9 to 21.7] (BenchmarkLoginCheap's go loop). The
// code before the last round of cuts (347 allocations, 41 kB) measured
// 23.2 and 22.2 in alternate runs; its login cost about half as much
// again, and its plan a tenth more (a plan is a read transaction, and
// read transactions got cheaper too). The plan is the warm one: flows,
// stages, policies and users stay decoded across revisions until a
// change touches them (internal/revcache), and last_login is written
// in the background, the logins of a tenth of a second in one write. A
// login is six requests (a Get and a Submit a stage, and the reloads
// between them, as the protocol's redirects), each of which takes its
// execution from the cache and its state from a pool, reaches its
// stage in one read transaction (with what its handler reads: the
// identified user, the pending user and its password's hash, its
// devices), runs the stage's handler and saves the execution; a plan
// is one lookup. What is left is spread thinly: six read transactions,
// mostly bbolt's own work and allocations; the password binding's
// expression policy, evaluated at the password stage's GET and POST as
// authentik does (EXECUTOR.md §2.4; a policy may answer differently at
// the POST, so its result is not kept); the context at each save,
// walked against the bytes it was loaded as when it may not have
// changed (a handler may change Step.Context's nested values in place,
// so only a walk tells), encoded once, into its record, when it did;
// the stage handlers; and the garbage of all these.
//
// Over HTTP on loopback (a new visitor each time, HTTPHandler's own
// cookie and sessions) a login costs, on the server's side, 2.95 and
// 3.06 times the Go API's login with the keeping of its session
// (SessionStore.Start, which the HTTP login does too) [3: met at 1,000
// users, at the bound at 100,000] (BenchmarkLoginCheap's lean: a
// client that writes its requests by hand on one kept-alive connection
// and reads the answers with http.ReadResponse, whose own work is all
// but nothing). With net/http's client in the same process (a new
// cookie jar each time; http) it costs 4.32 and 4.38 times [3: not
// met]: that client's Transport, goroutines and cookie jar cost about
// as much as the server's side of each round trip, on the same two
// CPUs, where a browser does that work on its own machine. The same six
// requests to a handler that only answers them cost 1.47 and 1.51
// times the Go API's login with the lean client (leannet/go) and 2.62
// and 2.76 with net/http's (net/go). The two bounds pull apart: HTTP's
// round trips cost the same whatever the executor does, so each cut to
// the executor raises the HTTP ratio (the last round took the lean
// figure from 2.7 to 3.0, and the plan figure from 23 to 17 and 20);
// net/http's round trips alone are over two and a half times the Go
// API's login. What the handler itself adds (the session cookie and its lookup, the
// policies' view of the request, the origin check, reading the body,
// writing the challenge's JSON by hand, byte for byte encoding/json's:
// TestAppendJSON) is about 0.15 times the Go API's login in process
// (BenchmarkHTTPLayer: a login's requests straight to ServeHTTP) and
// lean - leannet - go about half of it over loopback
// (BenchmarkHTTPLean, with the process's CPU time beside): the
// executor's requests take more CPU between HTTP's requests than back
// to back, and the login's garbage is collected on the same two CPUs.
//
// A request that continues an execution reaches its stage in one read
// transaction (the flow, the re-evaluated bindings' policies, the
// stage; a handler reads what it needs on its own), and flows and stages are kept decoded for the store revision
// they were read at (a write starts them over), so that they are read
// afresh, never stale, without being decoded again; so are the
// re-evaluated bindings, their policy bindings and policies, and the
// pending user with its groups' facts (plan.Options.Decoded, which New
// sets when the planner options have none); the password and user_login
// stages read the pending user through it too, when the directory is
// the store's, in the request's read transaction, and the password
// stage's POST the user's hash with it (store.Tx.PasswordHash, checked
// outside the transaction by store.Store.CheckPasswordHash); so does
// the identification stage's POST the user its response names, when
// it has no captcha (whose token is verified before the lookup). A
// request's own state, the [Step] it gives the handler among it, is
// reused by a later request once it has answered, and the keys of the
// executions of recent requests are kept, so that the requests of an
// execution hash its session id once. The executor keeps the
// execution it last loaded or saved under each key decoded (at most [DefaultDecodedExecutions]), and
// serves it to the next request of the execution only when the record
// the RunState returns has the same version and the very same bytes, so
// that another replica's step, or a record changed behind the
// executor's back, is decoded afresh. The request takes the execution
// out of the cache and works on it, without a copy (no change of a
// request that fails reaches the cache: the next one decodes the
// record), and its save puts back what it saved: the context as the
// request left it, made decoded JSON in place as it is encoded (an int
// becomes a float64; the values a handler puts into Step.Context are
// the executor's from then on), kept as the bytes it was loaded as when
// it encodes the same. A context of as many keys as the one loaded is
// first walked against the bytes it was loaded as, looking each member
// up (jsonvalue.EncodesAs): one unchanged is neither encoded nor walked
// again.
//
// # Enrollment stages
//
// The prompt stage (authentik's, EXECUTOR.md §4.3) shows its prompts by
// order in ak-stage-prompt ([PromptChallenge]): placeholders, initial
// values and choices come from package expression (PromptValue,
// PromptChoices) with the pending user (the context's, else the
// request's, read from the store's directory), the HTTP request and
// prompt_data, and a failing expression shows its raw text and reports a
// property_mapping_exception event; Options.Expressions configures them.
// A response is cleaned per prompt type with DRF's messages: text and
// text_area keep whitespace, the others trim; required and blank as
// authentik builds its fields (an initial value makes a field optional
// and is its default; checkbox, separator and static are never
// required); email, number (64-bit), checkbox, date, date-time,
// choices among the choices, file (a base64 data: URI of at most
// [MaxFileLength] characters, "Invalid scheme", "Invalid encoding");
// hidden, static and both read-only types take their default whatever is
// sent, as authentik's validate forces them (the read-only types are
// still validated as required text, authentik's quirk); a username
// another user has is [MsgUsernameTaken]; a stage with exactly two
// password prompts needs equal answers ([MsgPasswordsMismatch], compared
// as sent). The stage's validation_policies then run through
// plan.EvaluatePolicies (authentik's ListPolicyEngine: mode all, the
// planner's engine and evaluators) for the pending user with
// {"prompt_data": the cleaned values}: failing, their messages are
// non-field errors; passing, each message is an [EventMessage] event,
// which authentik shows the user as an INFO message. The cleaned values
// (component included; numbers as integers, dates as "YYYY-MM-DD",
// date-times as UTC ISO 8601) are merged into the context's prompt_data.
// New's own plan cache, when Options.Plan has no evaluators, evaluates
// expression policies (expression.Evaluator with Options.Expressions).
//
// The user_write stage (EXECUTOR.md §4.4) writes prompt_data onto the
// pending user (the request's user when none is set), or creates one
// per user_creation_mode (never_create: [MsgNoUserNoCreate]), with the
// context's user_path and user_type or the stage's path template and
// type (internal_service_account becomes service_account) and is_active
// unless create_users_as_inactive. It writes username, name, email,
// is_active, path and type; attributes merged shallowly; attributes.a.b
// and attributes_a_b into nested attributes (every "_" a "."); password
// hashed outside the write transaction (Store.HashPassword); other keys,
// groups included, are dropped. The user joins create_users_group and the
// context's groups, all in one transaction. No prompt_data is
// [MsgNoPendingData]; an empty username is "Unknown error"; a username
// taken, a value the user's fields refuse or an unknown group is
// [MsgUserWriteFailed], writing nothing. The written user becomes the
// pending user (directory.ContextUser), and a created one gets
// user_backend stage.BackendInbuilt. Events: [EventUserWrite], and
// [EventPasswordSet] when a stored user's password changed; their
// messages name the user only.
//
// # Other stages
//
// As authentik 2025.6 (EXECUTOR.md §4.7, §4.10, §4.14, §4.15):
//
//   - authenticator_validate: the devices come through Options.Devices
//     ([directory.Devices], else the directory's; nil: no user has one).
//     The user (the pending user, else the request's; a stand-in has
//     none) gets one device challenge per allowed class
//     (device_classes) of their confirmed devices (device_class,
//     device_uid, challenge, last_used; SMS devices kept as a hash
//     skipped), from the first such device of the class. Behaviour by
//     class is one map of device class handlers (devclass.go, checked by
//     New): totp and static are answered with "code", which is tried on
//     every confirmed device of the user whose class answers codes, as
//     authentik's match_token (the user does not choose), each inside
//     Devices.UpdateDevice, so that a code is accepted once: TOTP as
//     django-otp (package otp: a tolerance of the device's steps, its
//     drift kept, no step at or before the last accepted), a static code
//     removed when used. A code no device accepts is "Invalid Token. ..."
//     ([MsgInvalidToken]) on the code field, a login_failed event naming
//     the user, and reputation.LoginFailed on the client and username;
//     the [MaxCodeAttempts]th in one execution ends the flow with that
//     message (authentik throttles per device instead). A valid answer
//     sets auth_method auth_mfa (unless set), appends the device to
//     auth_method_args.mfa_devices ({app, model_name, pk, name}, as
//     authentik's events name a model) and sets its last_used. With a
//     last_auth_threshold of a second or more it asks the client to keep
//     the [CookieMFA] cookie (Response.MFA; HTTPSessions.Apply sets it
//     for HTTPHandler and package flowui alike, and Request.MFA brings
//     it back): authentik's HS256 JWT {device, stage (pk hex), exp},
//     whose key is the hex SHA-256 of "<secret>:<stage pk hex>:<user
//     pk>" (Options.MFASecret, else the store's installation id as
//     authentik's; the user pk is authflow's, so that a cookie does not
//     carry over to another user with a device of the same pk). A valid
//     cookie for this stage, one of the user's allowed devices, expiring
//     within the threshold, skips the stage. sms and email devices are
//     answered with "code" too: selecting their challenge
//     (selected_challenge) gives the device a new code (atomically) and
//     sends it now, through its setup stage's provider (Options.SMS) or
//     mailer (Options.Mailer, the mail queue), a response with nothing
//     else being "Empty response" as authentik's; a provider's refusal,
//     a missing sender, or the bound of codes sent (MaxEmailsPerUser
//     per EmailWindow, per user and class) is the selected_challenge's
//     message. A code opens the device once, before it expires (five
//     minutes for SMS, the stage's token_expiry for email). The email
//     challenge is {"email": the address masked as authentik's
//     mask_email}. duo is answered with "duo", the pk of one of the
//     user's Duo devices (another user's, or none, is an unexpected
//     error: authentik answers 404): a synchronous push through
//     Options.Duo with its setup stage's integration (factor auto, the
//     client's address, "<brand title> Login request", the username,
//     pushinfo Domain); a denial is "Duo denied access" (code denied), a
//     login_failed event and reputation.LoginFailed; a failure is a
//     configuration_error event and the same message. A user without a
//     challenge meets not_configured_action:
//     skip passes, deny is [MsgNoMFAConfigured], configure inserts the
//     only configuration stage as the next stage, or shows
//     ak-stage-authenticator-validate with configuration_stages
//     (friendly_name else name, the verbose name without "Setup Stage",
//     the model name) and inserts the one a response's selected_stage
//     names, whatever else the response holds, as authentik does; none
//     left is a configuration_error event and "Unknown error". A
//     selected_challenge must be one offered ("invalid challenge
//     selected"); a code, webauthn or duo answer without an offered
//     challenge of a class it answers is "No compatible device class
//     allowed"; a response with none of them is "Empty response".
//     Without a user, a flow that is not an authentication flow passes,
//     as does one whose device_classes lack webauthn; one that allows
//     webauthn offers passwordless WebAuthn (below). The shipped
//     default-authentication-flow logs in through it.
//   - WebAuthn (EXECUTOR.md §4.15, §4.16), through the relying party
//     of Options.WebAuthn ([WebAuthnOptions]: the RP id and the origins
//     of the pages, configured rather than taken from the request's
//     Host header as authentik does; nil: the stages that need it deny
//     the flow with [MsgNoWebAuthn] and a configuration_error event),
//     over github.com/go-webauthn/webauthn (internal/webauthnx).
//     authenticator_webauthn shows ak-stage-authenticator-webauthn with
//     new registration options at every render (RP id, RP name the
//     brand's title, user id the bytes of the user's uid, the stage's
//     user_verification, resident_key_requirement and
//     authenticator_attachment, attestation direct, and, beyond
//     authentik, the user's credentials excluded); the ceremony is kept
//     in the plan context ([ContextWebAuthnChallenge], authentik's
//     session key; no secret). The response's credential is verified
//     (attestation included): "Registration failed. Error: …",
//     "Credential ID already exists.", and "Invalid device type.
//     Contact your <brand> administrator for help." for an AAGUID
//     outside device_type_restrictions (the nil AAGUID, authentik's
//     unknown type, allows any authenticator of no known type; authflow
//     knows the types a Go caller describes in
//     device_type_restrictions_obj only). The device is named by its
//     type's description, else "WebAuthn Device"; a credential stored by
//     another request meanwhile is access denied "Device with Credential
//     ID already exists.". No user (or a stand-in) is access denied
//     [MsgNoPendingUser], where authentik fails.
//     In authenticator_validate, the WebAuthn challenge lists all the
//     user's credentials (its device_uid the first offered device) with
//     webauthn_user_verification; a device whose AAGUID is outside
//     webauthn_allowed_device_types gives no challenge (authflow counts
//     every AAGUID but the nil one as a type). The webauthn answer:
//     not a credential, an unknown one or another user's is "Invalid
//     device"; a refused type "Invalid device type. …"; an assertion that
//     does not verify (challenge, origin, RP id, signature, user
//     verification when required, a signature count that did not grow)
//     is "Assertion failed" with a login_failed event and a reputation
//     drop; the new signature count is stored atomically
//     (Devices.UpdateDevice), so one assertion opens once. Passwordless:
//     without a user, the one challenge is user-less (device_uid
//     [PasswordlessDeviceUID], no allowed credentials); an assertion
//     makes the device's user the pending user, auth_method
//     [AuthMethodWebAuthnPasswordless] and auth_method_args device and
//     device_type (null: authflow holds no types). The identification
//     stage's passwordless_flow links to such a flow.
//   - authenticator_totp and authenticator_static (EXECUTOR.md §4.16)
//     set a device up for the user (the pending user, else the
//     request's; none, or a stand-in, passes; an executor without
//     devices denies with [MsgNoDevices] and a configuration_error).
//     The device being set up is kept where authentik keeps it in
//     session keys, in the execution's plan context
//     ([ContextTOTPDevice], [ContextStaticTokens]; the inspector shows
//     them redacted, and a KVRunState with keys seals them at rest with
//     the rest of the record), so that a re-render shows the same key or
//     codes; it is removed when the device is saved. TOTP shows
//     ak-stage-authenticator-totp with config_url, authentik's otpauth
//     URI (package otp: a random 20-byte key, the stage's digits, the
//     brand title as issuer), and takes code (an integer): a code of
//     the key within a step ([MsgCodeMismatch] otherwise, no step at or
//     before the last) saves a confirmed "TOTP Authenticator" with that
//     step as its last. Static shows ak-stage-authenticator-static with
//     token_count codes of token_length letters and digits, and any
//     answer saves a confirmed "Static Token" device with their hashes
//     (directory.HashStaticToken): the codes are shown during setup
//     only.
//   - consent: always_require, or no application in the context
//     ([ContextApplication]), always asks and keeps nothing; permanent
//     and expiring keep the consent (permission ids) per user and
//     application, and a later run passes without asking when the
//     permissions asked for are the same, else shows the granted and the
//     new ones apart. ak-stage-consent has a new token at each rendering,
//     kept in the context; another is [MsgInvalidConsentToken]. Consents
//     are kept in the run state's [Consents] namespace, expiring with
//     the consent (a permanent one in a century), not in the
//     configuration: they are per-user data that bump no revision and
//     belong in no blueprint, a KVRunState keeps them across restarts
//     and replicas, and losing one (a MemRunState's eviction, which
//     takes the records expiring soonest first) only asks again.
//   - user_delete logs the session out, deletes the pending user (else
//     the request's) from the directory and drops pending_user; without
//     a user it reports [MsgNoPendingUser] (an [EventMessage] event) and
//     denies with "Unknown error".
//   - captcha shows ak-stage-captcha (site_key, js_url, interactive) and
//     verifies the response's token with Options.Captcha, whose refusals
//     are the token's errors; the answer is kept under [ContextCaptcha].
//     [HTTPCaptcha] is authentik's verification against the stage's
//     api_url (error codes, score_min_threshold, score_max_threshold,
//     error_on_invalid_score). Without a verifier the stage denies with
//     [MsgNoCaptchaVerifier] and a configuration_error event. The
//     private key is sent to the service only, never shown.
//
// # Side-channel setup stages
//
// As authentik 2025.6 (EXECUTOR.md §4.16). Each needs a user (the
// pending user, else the request's: [MsgSetupNoUser] otherwise) and a
// device store (Options.Devices: [MsgNoDevices] and a
// configuration_error event otherwise). What authentik keeps in session
// keys is kept in the plan context under the same names
// ([ContextSMSDevice], [ContextEmailDevice], [ContextDuoEnroll]), so it
// lives as long as the execution and survives re-renders; the inspector
// shows a pending code as "********". A device is saved confirmed.
//
//   - authenticator_sms: ak-stage-authenticator-sms
//     (phone_number_required). A number from prompt_data["phone"] gets
//     the code at once; a response's phone_number gets it and the same
//     challenge again; then its code (an integer, as authentik's; leading
//     zeros restored, where authentik refuses such a code) saves the
//     device, "SMS Device", with only "hash:" and the SHA-256 of the
//     number when verify_only. Messages: [MsgPhoneRequired],
//     [MsgInvalidPhone] (a number the stage's devices have, hashed or
//     not), [MsgCodeMismatch]. The code is sent by Options.SMS
//     ([SMSSender]; [HTTPSMS] is authentik's twilio and generic
//     providers over HTTP, with authentik's message "Use this code to
//     authenticate in authentik: <code>"); without one the stage denies
//     with [MsgNoSMSSender], and a generic stage with a webhook mapping
//     with [MsgSMSMapping] (authflow holds no mappings). A provider's
//     refusal is shown as authentik shows it, and reported
//     ([MsgSMSError]); its errors never hold the code, the credentials
//     or the URL.
//   - authenticator_email: ak-stage-authenticator-email (email, masked;
//     email_required). The address is the user's own, else
//     prompt_data["email"], else the one a response gives; a known one
//     gets the code at once, and when a device of the user has it
//     already it is dropped and one is asked for (authentik asks the
//     user's own again without end). The code works for the stage's
//     token_expiry and is mailed through Options.Mailer and the mail
//     queue with the stage's connection and subject, in authflow's words
//     (only authentik's email/email_otp.html is known: another template
//     is a configuration_error and an access denied); no mailer denies
//     with [MsgNoCodeMailer]. Messages: [MsgEmailRequired],
//     [MsgInvalidEmail] (an address of the user's devices: authentik's
//     check is per stage, the directory's unique key per user),
//     [MsgCodeMismatch]. The device is "Email Device".
//   - Both bound what authentik does not: [MaxSetupCodeAttempts] wrong
//     codes drop the code (the number or address given again sends a
//     new one, as it does once the code expired, where authentik sends
//     the expired code again), and the codes sent count against
//     MaxEmailsPerUser per EmailWindow per user and class
//     ([MsgCodesLimit]).
//   - authenticator_duo: ak-stage-authenticator-duo (activation_barcode,
//     activation_code, stage_uuid) from a Duo enrollment of the user's
//     username, made once per execution through Options.Duo ([Duo];
//     [HTTPDuo] is Duo's Auth API signed as duo_client 5.5, signature
//     version 5); a failed enrollment is a configuration_error event
//     "Failed to enroll user: <Duo's message>" and an access denied
//     with Duo's message. A response asks Duo for the enrollment's
//     status: not "success" denies with "Invalid enrollment status:
//     <status>."; a Duo user id that one of the user's devices has
//     already denies with [MsgDuoDeviceExists] (authentik looks among
//     every user's devices; the directory finds Duo devices per user);
//     else the device "Duo Authenticator" is saved. Without Options.Duo
//     the stage denies with [MsgNoDuo]. [Executor.DuoEnrollmentStatus]
//     and [Executor.DuoEnrollmentStatusHandler] serve authentik's POST
//     /api/v3/stages/authenticator/duo/{uuid}/enrollment_status/, which
//     the web client polls: Duo's status of the session's enrollment
//     ({"duo_response": status}), 400 without one, 404 for an unknown
//     stage; package api serves it with Options.Executor.
//
// # Flow tokens, email and invitations
//
// A flow token (authentik's FlowToken, EXECUTOR.md §2.13) is an
// execution suspended in the run state's [FlowTokens] namespace, under
// the SHA-256 of its key (60 letters and digits), expiring; the key
// itself is kept nowhere. A request whose query carries flow_token=<key>
// (the page's query, over HTTP the query parameter) restores it in its
// own session, whatever the session held, with [ContextIsRestored] set
// (the token's identifier, user and key hash); a token with
// revoke_on_execution is taken (one use, one winner of a race), one
// without is kept, and is not restored again over the execution it
// restored. An unknown, used or expired token (expired ones are removed
// on the way) changes nothing: the session's execution continues, or the
// flow starts over, as in authentik. A token of another flow is revoked
// but not restored, and the session's execution of this flow is kept
// (authentik cancels it). [Executor.Suspend] issues one for a session's
// execution (the admin recovery link's kind).
//
// The email stage (§4.13) sends through Options.Mailer ([Mailer]: one
// [Mail] with the stage's [MailSettings], use_global_settings meaning the
// host's own, its subject, the recipient, and text and HTML bodies;
// [SMTPMailer] sends over SMTP with net/smtp, Global being the host's
// own settings); without a mailer or Options.BaseURL it denies the flow with
// [MsgNoMailer] and a configuration_error event. Messages are sent in the
// background, as authentik's task queue sends them: a bounded queue
// (Options.MailQueue, [DefaultMailQueue]) and two workers, each message
// tried [MailAttempts] times, an email_sent event when it leaves and a
// system_exception event when it is given up (a full queue, a closed
// executor, or every try failed). So the client's answer never waits
// for the mail server, and a recovery flow answers a known identifier
// as fast as an unknown one; [Executor.Close] waits for the queue, at
// most [MailCloseWait]. authflow renders its
// own words for the templates, with the link
// BaseURL/if/flow/<slug>/?<query without flow_token>&flow_token=<key>,
// valid token_expiry plus a minute; password_reset and
// account_confirmation have their own text, the other built-in templates
// a generic one. The first GET with a pending user sends (the recipient
// the context's email, else the user's, named by the user's name unless
// it is not ASCII, as authentik sends; in a recovery flow an unknown
// identifier's stand-in gets no email and the same challenge) and sets
// email_sent: later GETs send nothing (authentik's send again). Every
// response sends a new link and answers ak-stage-email with
// "email-sent". At most [MaxEmailsPerUser] messages go to one user in
// [EmailWindow] (2025.8's recovery_max_attempts defaults, over every
// flow and session): past it nothing is sent, the answer is the same,
// and an [EventMessage] event says [MsgEmailLimit]. The link's plan
// starts with a consent (ak-stage-consent,
// "Continue to confirm this email address."), so that a mail scanner
// opening it uses nothing; confirming takes the token (of browsers that
// opened the link, the first to confirm goes on, the others get
// MsgLinkUsed), and the email
// stage then passes (stage_invalid if the token's user is not the
// pending user), activating the user with activate_user_on_success. A
// session whose link was used by another answers "Link was already
// used, please request a new link.". Without a pending user the stage is
// stage_invalid. Events: email_sent naming the recipient; the link and
// its key are never in an event, an error or the run state. A mailer's
// error is unexpected (ak-stage-flow-error), and the next GET sends
// again (authentik's task retries).
//
// The invitation stage (§4.11) reads the invitation's pk from the
// query's itoken, else token, else prompt_data's token; an unknown one,
// one bound to another flow or (authflow's addition: authentik leaves
// them to a cleanup task that runs every five minutes) an expired one is
// none, and the flow continues (continue_flow_without_invitation) or is
// denied with [MsgInvalidInvite]. A found one sets invitation_in_effect
// and invitation (its API representation), merges its fixed_data over
// prompt_data as deepmerge's always_merger does (objects key by key,
// lists appended, fixed_data winning), reports invitation_used (naming
// the invitation by name: its pk is its secret), and, when
// single_use, is deleted at once, before the user exists, as in
// authentik, and before it is used: of requests racing on it, the one
// that deletes it uses it, the others find none.
//
// # Run state
//
// Run state is high-churn, per-user data: the executions of flows in
// progress, keyed by session and flow ([ExecutionKey]), and flow tokens
// (a suspended plan restored from an emailed link, keyed by token, single
// use with [RunState.Take], expiring), logged-in sessions ([Sessions])
// and reputation scores. A session is keyed by its id's SHA-256, as a
// flow token by its key's: the run state (a bbolt file, its backups,
// etcd) holds no session id nor token key a reader could use. The
// reputation scores ([Reputation], [RunStateScores]) are a record per
// client address and per identifier, each of at most [MaxPairsPerKey]
// pairs; 100,000 distinct failing identifiers from one address take
// about 20 MB in a MemRunState (BenchmarkRunStateScores100k).
// [RunState] keeps them all as opaque
// bytes with an expiry and a version for compare-and-swap
// ([ErrConflict]). An execution is encoded compactly: about 250 to 350
// bytes for a four-stage login, and 100,000 pending ones take about
// 57 MB in a MemRunState (BenchmarkExecutions100k). An expired record is
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
//     bbolt file and replicas on etcd share them. It is bounded in
//     records (KVOptions.MaxRecords, [DefaultKVMaxRecords]) and evicts
//     as MemRunState does; each record is at most MaxDataSize. With
//     keys (KVOptions.Keys; NewStoreRunState takes the store's, see
//     package seal) every record's data is sealed, bound to its
//     namespace and key, so that what users typed (a password before
//     user_write writes it) is not in the file in the clear; a record
//     that does not open (its key dropped after a rotation: store.Rekey
//     does not re-seal run state) is removed when read, and its flow or
//     session starts over. A copy of the whole
//     bbolt file (store.Store.Backup) carries them; an etcd snapshot
//     does too. On etcd every process holds a copy of every key under
//     the store's prefix (package etcd, "Memory"), run state included,
//     and every write wakes the other processes' change-feed readers,
//     which find no change.
//
// # Not done yet
//
// Every stage kind but dummy, deny, redirect, identification, password,
// user_login, user_logout, prompt, user_write, authenticator_validate,
// authenticator_totp, authenticator_static, authenticator_webauthn,
// authenticator_sms, authenticator_email, authenticator_duo, consent,
// user_delete,
// captcha, email and invitation has a handler that
// denies the flow
// with [MsgUnsupportedStage] and a configuration_error event.
// Performance: a login with a cheap hasher costs about 23 times a cached
// plan, not the 20 issue 21 asks, and over HTTP 2.7 times the Go API on
// the server's side but 3.9 times with net/http's client in the same
// process, not 3 (see the figures above); no part of what is left is
// more than a quarter of it.
// Through the Go API, an identifier over half of [MaxDataSize] (the
// stand-in pending user keeps it as username and email) makes the
// execution too large to save: an unexpected error, where HTTPHandler
// refuses the body first (HTTPOptions.MaxBody).
// WebAuthn keeps no backup flags (an
// assertion's are taken as they come, as py_webauthn does) and no
// catalogue of authenticator types (FIDO metadata): attestation is
// verified, but not against trust anchors. A generic SMS stage with a
// webhook mapping cannot send ([MsgSMSMapping]). A Duo device's setup
// stage must still exist to push (authentik's device keeps its stage
// too).
// consent keeps a consent for the pending user when the request is
// anonymous (authentik fails there), and a deleted user's consents stay
// until they expire (the store never reuses a user pk; a host directory
// that does would hand them on). user_delete does not end the deleted
// user's other sessions itself (the session store ends each at its next
// request, its user gone), and a stand-in pending user is denied
// ("Unknown error") where authentik fails. Login-path gaps: application_pre, session
// binding (network_binding, geoip_binding), app-password tokens,
// LDAP and Kerberos backends, and the same session's other
// executions at a login or logout (they start over rather than move).
// user_login records last_login through a directory that implements
// directory.LoginRecorder (the store's and memdir do), in the
// background: the logins of a tenth of a second cost one write, which
// with the store's directory is a configuration revision (see the
// figures below).
// Logged-in sessions and reputation scores share the RunState's bounds
// with executions: a RunState under a flood of new executions (or of
// failing identifiers) evicts the records that expire soonest, sessions
// and scores included (their users log in again; the scores start
// over). On etcd, every Save of a new key of a KVRunState updates one
// usage key, so new executions of all replicas are serialized on it
// (Saves that replace a record are not). The reputation scores API
// (/policies/reputation/scores/) is not served. The
// enrollment stages read and write the store's users only (not a host
// directory), do not run authentik's password_validate signal (LDAP
// password checks), do not record a source connection in attributes
// (goauthentik.io/user/sources), do not keep the session of a logged-in
// user whose password they change, do not bound the number of prompts a
// stage shows, take integers beyond 64 bits as invalid, and answer a
// data: URI without a comma with MsgInvalidEncoding where authentik
// fails with a server error. authentik runs several validation_policies
// correctly only from 2025.8 (#15522); authflow evaluates them all, as
// 2025.8 does.
//
// Flow tokens and email: New uses no mailer unless given one
// (the queue is in memory: messages queued when the process stops
// without Close are lost, where authentik's task broker keeps them), no localisation of the email
// (authentik uses the user's locale), no custom template files, no
// per-stage resend limit (2025.8's recovery_max_attempts: authflow
// bounds every user to [MaxEmailsPerUser] in [EmailWindow], silently),
// no admin recovery-link
// endpoint (Suspend is its building block), and the in-memory consent is
// shown by the inspector as a binding without a pk. A MemRunState under
// a flood of new executions evicts flow tokens before executions (they
// expire sooner): their links then start the flow over. authflow serve
// configures no mailer yet.
//
// A challenge's pending_user_avatar is the display user's avatar by
// Options.Avatar, by default directory.Avatar (the API's user avatar:
// authentik's default "gravatar,initials" without gravatar, as authflow
// asks no network service), and DefaultAvatar for an anonymous user.
// The display user is what the context holds (a pending_user_identifier
// is a name alone; a pending user its username, name, email and
// attributes; the request's user its pk and username).
//
// Also missing: response error codes beyond DRF's
// required, blank, null and invalid_choice ("invalid" otherwise), a
// background sweeper in the package (authflow serve calls Sweep every
// ten minutes), the inspector's history beyond this process (it is kept
// in memory). The flow pages (FlowInterfacePath) that execute's link
// and the default flows' redirects lead to are package flowui's, over
// this package's Go API.
package executor
