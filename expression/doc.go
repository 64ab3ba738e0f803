// Package expression evaluates authentik's expression policies, Python
// function bodies, in pure Go: it rewrites them into Starlark
// (go.starlark.net), compiles each text once, and runs it sandboxed and
// bounded with authentik's semantics (EXPRESSIONS.md §1–§4).
//
// # Hosts
//
// The planner does not import this package, so that a host that needs
// no expressions does not link an interpreter. A host adds the
// evaluator to the planner's map:
//
//	evs := plan.Builtin(nil)
//	evs[policy.ModelExpression] = expression.Evaluator(nil)
//	p, err := plan.Make(ctx, tx, slug, req, plan.Options{Evaluators: evs})
//
// # Dialect
//
// An expression is the body of a function: return ends it, and a body
// without return gives None, so it fails. Starlark is a Python dialect;
// before compiling, a conservative rewrite on tokens (strings and
// comments are never touched), line for line so that error lines match,
// translates what authentik's expressions use and Starlark lacks:
//
//   - x is None, x is not None (and True, False) become == and !=;
//     'is' between other values is refused (it is identity in Python).
//   - from authentik.core.models import USER_ATTRIBUTE_CHANGE_EMAIL,
//     USER_ATTRIBUTE_CHANGE_NAME, USER_ATTRIBUTE_CHANGE_USERNAME, from
//     django.http import QueryDict, and from authentik.flows.models
//     import Flow, FlowAuthenticationRequirement, FlowDesignation or
//     FlowDeniedAction (see Django's ORM below; also "as" and the
//     parenthesised form) bind those names; any other module or name,
//     import M and import * are refused, naming it.
//   - try: / return A / except: (or except Exception:) / return B, each
//     one line, becomes a call that returns B when A raises; a step limit
//     or a cancelled context still stops it. Any other try is refused.
//   - The u prefix of a string is dropped (u'x' is 'x' in Python 3);
//     an f-string is refused.
//
// while loops and set() are allowed (the step limit bounds loops); set
// literals ({1, 2}) are not. class, with, raise, assert, del, global,
// yield, f-strings, chained comparisons and recursion are refused by
// Starlark, and a name that is not defined is refused when compiling
// (Python raises NameError only if the line runs); so is a Python builtin
// Starlark lacks (isinstance, sum, map, ...), naming it. [Check] lists
// these Problems, each with the construct and the line of the expression's
// text (authentik's tracebacks count one more line, for its def line).
// Strings are not iterable in Starlark, and %-formatting and int/float
// arithmetic differ from Python in corner cases. An exception's text is
// Starlark's, not CPython's: a missing key is `key "email" not in dict`
// where authentik shows 'email'.
//
// # Sandbox and bounds
//
// An expression sees only its parameters and the globals below: no
// file, network, environment or process access (open, __import__, eval,
// exec are refused by name; the network only through the host's
// Options.HTTPClient and Options.Resolver), no load. Each run has its own thread, with
// a step limit (Limits.MaxSteps: 1e6 by default, which stops a runaway
// loop in about 10 ms) and its context (the binding's timeout, which
// authentik never enforces), whose Err it looks at every 1024 steps
// without waiting on Done, cancelling it; every failure
// is an error, and a panic in the interpreter is recovered (ErrPanic).
// The helpers whose work grows with their arguments (regex_match,
// regex_replace, slugify, QueryDict, ak_call_policy and ak_create_event,
// which convert the context, a response's json())
// count it against the step limit, one step per 16 bytes or per value,
// each ak_call_policy 100 more, and each request or DNS lookup 1000
// (at most 1000 of them in an evaluation with the default limit);
// Starlark's own operations and string methods (s.replace, s * n, str
// of a list) are one step each, however large their operands, so a
// loop of them is bounded only by the deadline.
// What an expression writes to the plan context is bounded
// (Limits.MaxValues elements). Memory is not otherwise bounded:
// Starlark caps a single string or list repetition at 1 GiB but has no
// allocation limit, so a host that evaluates untrusted expressions runs
// the evaluator in a separate process. Nor is one operation cut short
// by the deadline, which is checked between steps: str() (or
// ak_message, or "%s" %) of a list that holds the same list twice,
// nested a few dozen times (a = [a, a] in a loop), grows exponentially
// in one step, and ("a " * 300_000_000).split() or list(range(10**8))
// allocates gigabytes in a few; such an expression can exhaust the
// process's memory.
//
// # Globals
//
// regex_match and regex_replace use Go's RE2, not Python's re: no
// look-arounds, back-references, possessive quantifiers or \Z (use \z),
// and $ does not match before a trailing newline; an unsupported pattern
// fails, naming RE2. regex_replace translates Python's replacement syntax
// (\1, \g<name>, \n, \\). list_flatten is authentik's. slugify is
// Django's, except that non-ASCII letters are dropped, not transliterated.
// ip_address parses an address (str(), ==, version and the is_* flags) and
// ip_network a network (strict, str(), ==, version, prefixlen,
// network_address, and an address in it); is_private and is_global follow
// Go's net/netip (RFC 1918 and 4193, loopback, link-local), where Python's
// tables also count other reserved ranges (192.0.2.0/24, 0.0.0.0/8, ...)
// as private. ak_user_has_authenticator is always false: authflow stores
// no authenticator devices yet. ak_logger accepts and discards its calls.
//
// # Directory
//
// Options.Directory (the store's: store.Store.Directory) backs the
// helpers that read users and groups; without one they fail wrapping
// [ErrNoHost], naming Options.Directory, never a silent pass.
//
//   - ak_user_by(**filters) returns the user with the lowest pk that
//     passes every filter, or None, as authentik's .first(). The lookups
//     are username and email, exact (username="x", username__exact="x")
//     or __iexact (compared in upper case, as the store and authentik on
//     PostgreSQL do), and pk, id and uuid, exact. A name that is not a
//     field of authentik's User (foo="bar"), or an unknown lookup
//     (username__foo), gives None, as authentik turns Django's
//     FieldError into None; a field or lookup authentik has and authflow
//     does not (name, attributes__upn, username__startswith, ...) fails
//     wrapping [ErrNotYet], naming it. The seam finds users by pk, uuid
//     or the lowest pk by username or email, so a combination of filters
//     answers when one of them is pk, uuid or an exact username, or when
//     the user found by the first email or __iexact filter passes the
//     others; otherwise (and for no filters, or an empty email) it fails
//     wrapping ErrNotYet rather than guess. Inactive users are found.
//   - ak_is_group_member(user, **group_filters) looks through the user's
//     groups and their ancestors (directory.User.AllGroups): name,
//     name__iexact, pk or group_uuid, is_superuser. An unknown field
//     raises Django's "Cannot resolve keyword 'x' into field."; another
//     Group field or lookup fails wrapping ErrNotYet. The user may be
//     request.user, an ak_user_by result, or a pending_user whose pk the
//     directory holds.
//   - request.user is the directory's user: pk, id, is_authenticated,
//     is_superuser and attributes are the planner's; username, name,
//     email, is_active, path, type, uuid (a string, where authentik has
//     a UUID), date_joined, last_login and password_change_date (strings
//     in DRF's format, where authentik has datetimes) are read from the
//     directory on first use; group_attributes(request=None) is the
//     planner's merge, with the brand's attributes of an HttpRequest
//     argument (http_request) merged first (see HTTP request);
//     has_usable_password() asks a directory that implements
//     directory.PasswordState (others fail wrapping ErrNoHost);
//     all_groups() is a list of groups (name, pk, group_uuid,
//     is_superuser, attributes, parent_id), direct groups first, each
//     once. Users compare equal by pk. ak_user_by's users are the same.
//   - A request without a user has Django's AnonymousUser (DIRECTORY.md
//     §4.1): pk and id None, username "", is_active, is_superuser and
//     is_authenticated False, is_anonymous True; name, email,
//     attributes, group_attributes() and the rest raise
//     "'AnonymousUser' object has no attribute 'x'", which
//     hasattr and getattr with a default see as absent.
//
// A user the planner passes with pk 0 and is_authenticated (one the
// directory does not hold) has only the planner's fields; the others
// fail wrapping ErrNotYet.
//
// # Django's ORM
//
// authentik's out-of-the-box flow (initial-setup) marks itself used, so
// that it cannot run twice, from a policy bound with evaluate_on_plan:
//
//	from authentik.flows.models import Flow, FlowAuthenticationRequirement
//	Flow.objects.filter(slug="initial-setup").update(
//	    authentication=FlowAuthenticationRequirement.REQUIRE_SUPERUSER,
//	)
//
// That one idiom is translated, without rewriting the source:
// Flow.objects.filter(f=v, ...).update(f=v, ...) asks the planner for a
// plan.Update of the flows whose fields equal the filter
// (plan.PolicyRequest.Update); the planner names the policy, keeps it in
// Plan.Updates and does not cache the plan, and plan.ApplyUpdates writes
// it as a store patch (the executor, once the step commits; the API's
// plan endpoint and "authflow plan" only show it). authentik writes at
// once, while planning, so that merely opening the flow marks it used;
// authflow writes when the executor applies the plan's updates. Nothing
// in the expression can tell: only this idiom reaches flows. update()
// returns None, where Django returns the number of rows written, which a
// plan cannot know before the write.
//
// The filter names the fields of a flow that the store matches exactly
// (pk or flow_uuid, slug, name, title, designation, authentication,
// denied_action, layout, policy_engine_mode, compatibility_mode; no
// lookups such as slug__iexact) and needs at least one; update() names
// the fields a flow's PATCH sets (plan.UpdateFields). Each value is a
// literal: a string, True or False for compatibility_mode, or a member of
// FlowAuthenticationRequirement, FlowDesignation or FlowDeniedAction
// (their values are authentik's, flows/models.py). Anything else is
// refused when compiling, naming it ("Flow.objects.get",
// "Flow.objects.filter(...).delete", "Flow.objects.filter(slug__iexact)",
// "Flow.objects.filter(slug)" for a value that is not a literal, "Flow"
// for the model used otherwise), so Check lists it and blueprint import
// warns; another model (User, Stage, ...) or Django module stays
// refused as an import or an undefined name. A value the store refuses
// (an authentication that is not a choice, a slug taken) fails
// plan.ApplyUpdates, writing nothing, where Django's update() would
// write it unvalidated. Without PolicyRequest.Update (a prompt
// expression, a host that applies no writes) update() fails wrapping
// [ErrNoHost], naming it and the line.
// # HTTP request
//
// plan.PolicyRequest.HTTP (the executor's, or a plan request's
// "http_request") is the HTTP request, as Django's HttpRequest:
//
//   - http_request.method, .path (and .path_info), .GET, a QueryDict of
//     the query (keys in sorted order: plan.HTTPRequest.Query has no
//     order), .headers, case-insensitive (get, [], in, keys, values,
//     items; several values of one name joined with ","), .META
//     (HTTP_<NAME>, CONTENT_TYPE, CONTENT_LENGTH, REQUEST_METHOD,
//     PATH_INFO, QUERY_STRING re-encoded, and REMOTE_ADDR, the client
//     address as the host determined it, where authentik's is the socket
//     peer), .tenant (default_user_change_name, _email, _username; nil
//     is authentik's defaults: name yes, email and username no) and
//     .brand.attributes. http_request.user fails wrapping [ErrNotYet]:
//     use request.user. COOKIES, session, body and the rest are absent.
//   - ak_client_ip is ip_address of the client address, 255.255.255.255
//     when the host could not tell it, as authentik's ClientIPMiddleware.
//   - A QueryDict (http_request.GET, or QueryDict(query_string=None,
//     mutable=False) after the import) gives the last value in [], get
//     and dict(), all of them in getlist and lists; [] of a missing key
//     raises with the quoted key, as Django's MultiValueDictKeyError;
//     keys, values, items, urlencode, in, len and iteration over keys
//     work; q[k] = v works only on QueryDict(..., mutable=True).
//     QueryDict parses as Python's parse_qsl(keep_blank_values=True),
//     UTF-8 only, at most 1000 fields (Django's TooManyFieldsSent past
//     them). dict(q) gives the lists, as in Python.
//   - user.group_attributes(http_request) merges the brand's attributes
//     first, then the groups', then the user's. For a user read from the
//     directory the merge is authentik's own; for request.user with the
//     planner's merged attributes, the brand is merged under them with
//     the directory's merge, which gives the same result except for a
//     key whose value changes type from one group to the next and back.
//
// Without an HTTP request, as in authentik, http_request and
// ak_client_ip are names the handler does not define: any use fails
// with "name 'http_request' is not defined" (their truth is False,
// where Python raises), and request.http_request is None. A plan cache
// does not compare the HTTP request (it differs on every request), so
// the result of an expression that names it (http_request,
// ak_client_ip, request.http_request, or the string "http_request", for
// getattr) is not kept.
//
// # Plan (flow_plan)
//
// The planner gives the policies of the bindings it evaluates the plan
// being built (plan.PolicyRequest.Plan); context["flow_plan"] is it, and
// flow_plan.redirect(url) inserts a redirect stage as the next stage
// (index 1 of the stages planned so far). A flow's own policies run
// before there is a plan: their context has no flow_plan, as in
// authentik (context["flow_plan"] is a KeyError;
// request.context.get("flow_plan") is None). A result that redirected
// is kept by a plan cache (the redirect stage is part of the cached
// plan, and the same request redirects the same way) unless it read the
// HTTP request.
// # Host helpers
//
// ak_call_policy(name, **kwargs) evaluates the policy named through the
// planner (plan.PolicyRequest.Call): authentik's throw-away binding (not
// negated, failure_result false, so an error is a failing result with
// its text), bounded by plan.MaxCallDepth; the called expressions run
// within what is left of the caller's step limit and their steps count
// against it, so a tree of calls shares the first caller's
// Limits.MaxSteps. kwargs are merged into the
// caller's request.context, which the caller then sees. It returns a
// PolicyResult with passing, messages (a tuple) and raw_result: the
// called expression's value, None when it failed or is of another kind.
// An unknown name raises authentik's "Policy '<name>' not found."
// (wrapping plan.ErrUnknownPolicy); without Call (prompt expressions, a
// host that gives none) it fails wrapping [ErrNoHost]. A called
// expression policy shares the caller's request and request.context, as
// in authentik: its context[k] = v reaches the caller, not the plan
// context; its flow_plan.context[k] = v and writes into values the plan
// context holds reach the plan context. A policy of another kind gets a
// copy of request.context without flow_plan (values that cannot be
// converted left out), and what its evaluator writes there is written
// into the caller's request.context. A plan that called a policy is
// dropped from a plan cache when that policy changes; one that called an
// unknown name is not kept.
//
// ak_create_event(action, **kwargs) hands an [Event] to Options.Event:
// action "custom_<action>", App the policy's (or prompt's) name, Context
// the handler's parameters (ak_message and ak_user_has_authenticator as
// authentik's {type: callable, name, module}, ak_is_sso_flow, request,
// context; a prompt's user, request and prompt_context) and kwargs,
// converted as authentik's sanitize_dict (users as {username, pk,
// email}, the anonymous user without a pk, request as {user,
// http_request, obj, context, debug}, flow_plan as {context} only, lists
// without their falsy items, a QueryDict as a dict of its last values,
// addresses and other values as str(); http_request.headers as a dict,
// Cookie cleansed as META's HTTP_COOKIE, where authentik's str() shows
// every header) and
// bounded by Limits.MaxValues (ErrTooLarge), then cleansed as authentik's
// cleanse_dict: the value of a key matching Django's hidden_settings
// (Django 5's API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE, any
// case), except passing and password_change_date, is
// [CleansedSubstitute], in maps and lists at any depth, so a prompt_data
// password never reaches the sink.
// With an HTTP request the context has authentik's http_request summary
// (path, method, args cleansed, user_agent). authentik always writes the
// event, so the expression never fails for lack of a sink: without
// Options.Event the event is dropped.
//
// requests is a narrow requests Session through Options.HTTPClient:
// get, post, put, patch, delete, head, options and request, with url,
// params, data (a string, bytes or a dict, form-encoded), json, headers
// and timeout (seconds); another argument fails wrapping [ErrNotYet].
// Only http and https URLs. A response has status_code, reason, url, ok,
// text, content (bytes), headers (case-insensitive: h["x"], h.get,
// h.keys()), json() and raise_for_status(), which raises requests'
// "404 Client Error: Not Found for url: <url>" with the URL's query and
// user left out. The context's deadline (the binding's timeout) bounds
// each request; a body larger than Options.MaxResponseBytes (1 MiB by
// default) fails wrapping ErrTooLarge. A failed request's error leaves
// the URL out, as it may hold a secret. requests has no authentik
// User-Agent or configured http_timeout: the host's client has its own.
// resolve_dns(host, ip_version=None) and reverse_dns(ip) ask
// Options.Resolver (a *net.Resolver): addresses de-duplicated in the
// resolver's order, only IPv4 or IPv6 for ip_version 4 or 6, [] on
// error; the first name with a dot (else the first name, else the input
// on error), without the trailing dot. authentik caches these lookups
// for 180 s; authflow does not. Without a client or resolver they fail
// wrapping [ErrNoHost], naming the option.
//
// ak_create_jwt fails wrapping [ErrNoJWT]: authflow issues no OAuth2
// tokens.
//
// A result whose run wrote an event or used the network is not kept by
// a plan cache.
//
// # Not yet
//
// These fail with an error wrapping [ErrNotYet], naming them, never a
// silent pass: user.uid, user.ak_groups, http_request.user, the
// arguments of requests named above, and the ak_user_by and
// ak_is_group_member lookups above. A Python syntax error is
// told apart from a dialect limit by internal/pysyntax, outside this
// package: the store refuses the first at write time, and blueprint
// import and "authflow check" report Check's problems as warnings, and
// CheckPrompt's for prompts (whose syntax errors authentik stores too).
// Package api evaluates expression policies only when its host adds this
// evaluator to the planner's (authflow serve and authflow plan do).
//
// # Prompts
//
// [PromptValue] and [PromptChoices] give a prompt's placeholder, initial
// value and choices as authentik shows them (EXPRESSIONS.md §5), for
// the planner and the executor: an expression runs with authentik's
// prompt parameters (user, http_request, request, prompt_context; no
// ak_message or context), its result becomes Python's str(), and on
// error the field's raw text is used and a property_mapping_exception
// [Event] goes to Options.Event (in a dry run, the API's preview, the
// error is returned). user and http_request, which authentik leaves out
// when there is no user or HTTP request, fail as a NameError; with
// PromptVars.HTTP, http_request and request.http_request are the HTTP
// request. user (and request.user) is the pending user: with
// [PromptVars].PendingUser and a directory, the directory's user, as
// request.user is for a policy (its fields, attributes,
// group_attributes(), all_groups(), has_usable_password()), and
// ak_user_by and ak_is_group_member read that directory; with
// PromptVars.User, a map of the user's fields, as the plan context
// holds a pending_user, whose methods fail. SkipObject is not bound.
// The event's message is the
// line and the error, where authentik's is a Python traceback.
//
// # Plan context
//
// As in authentik, request.context and context are one dict, a copy of
// the plan context plus flow_plan (when there is a plan);
// flow_plan.context is the plan context itself. So flow_plan.context[k] = v and writes into values the plan
// context holds (context["prompt_data"][k] = v) reach the plan context,
// and context[k] = v does not (authentik's planner copies the dict). A
// map under pending_user is a User whose attributes are its keys
// (hasattr(pending_user, "backend")), converted at the first use of one
// of them (so a value there that cannot be passed to an expression
// fails that use, not the whole evaluation); ak_user_by's user written there
// is kept as a map of its fields (pk, username, name, email, uuid,
// is_active, path, type, attributes). A result whose run wrote the plan
// context, read the directory, asked for an update, wrote an event or
// used the network is not kept by a plan cache; others are
// (plan.Forever).
//
// # Concurrency
//
// A Program, a Cache and the evaluator are safe for concurrent use. A
// Program defines its handler once, when compiled, and freezes it; each
// run calls it with arguments of its own on an interpreter thread of its
// own (threads are kept between runs, each run setting their step count,
// limit, cancellation and host afresh), so runs share nothing an
// expression can change. A run counts the steps of defining the handler,
// as if it had defined it itself.
//
// An evaluation builds only the parameters its expression can read,
// which the compiler finds from the names it uses (an expression reaches
// a parameter only by naming it): one that reads request only as
// request.context (the shipped password-stage policy) gets no
// request.user, http_request or ak_client_ip built, and one that names
// ak_create_event or ak_call_policy, which read or hand on every
// parameter, gets them all. request.user is still made, and its failure
// fails the evaluation, whenever the user has attributes to convert. An
// expression that reads its context dicts (request.context, context,
// flow_plan.context) only by looking values up in them (d.get(k),
// d.get(k, default) and d[k] read; never writing them, naming getattr or
// using request whole, as the shipped password-stage policy does) gets
// no dict built: each value it looks up is converted at its first
// lookup, once, and shared by both dicts' lookups, which it cannot tell
// from the dicts; Go code that needs a dict (an event's flow_plan) gets
// it made then, with the values given. A value that cannot be passed
// still fails the evaluation from the start. Such an evaluation's own
// state is kept for another when it ends well and the plan context
// held Go values only.
package expression
