// Package api serves authentik's REST API for flows, stages, flow-stage
// bindings, prompts, invitations, policies, policy bindings, users and
// groups from a
// [store.Store], with the paths, bodies and status codes of authentik's
// seed era (2024.4–2025.6), so that authentik's admin UI calls, its
// generated API clients (the TypeScript client among them), its Terraform
// provider and scripts written for authentik work unchanged.
//
// A host application mounts it on its own mux:
//
//	s, err := store.Open("authflow.db", nil)
//	...
//	mux.Handle(api.Prefix, api.NewHandler(s, &api.Options{Authorize: authz}))
//
// # Routes
//
// Every path is under /api/v3/ and ends in a slash (a path without the
// trailing slash is 404):
//
//	/flows/instances/                           list, create
//	/flows/instances/{slug}/                    retrieve, replace, patch, delete
//	/flows/instances/{slug}/used_by/            used_by
//	/flows/instances/{slug}/export/             GET: the flow as a blueprint
//	/flows/instances/{slug}/diagram/            GET: authentik's Mermaid diagram
//	/flows/instances/{slug}/plan/               POST: a plan (authflow's own)
//	/flows/instances/{slug}/set_background_url/ POST: set the background URL
//	/flows/instances/import/                    POST: import a blueprint
//	/flows/instances/cache_info/                GET: plans in the plan cache
//	/flows/instances/cache_clear/               POST: empty the plan cache
//	/flows/bindings/                            list, create
//	/flows/bindings/{fsb_uuid}/                 retrieve, replace, patch, delete
//	/flows/bindings/{fsb_uuid}/used_by/         used_by
//	/stages/{kind path}/                        list, create
//	/stages/{kind path}/{stage_uuid}/           retrieve, replace, patch, delete
//	/stages/{kind path}/{stage_uuid}/used_by/   used_by
//	/stages/all/                                list
//	/stages/all/{stage_uuid}/                   retrieve, delete
//	/stages/all/{stage_uuid}/used_by/           used_by
//	/stages/all/types/                          the stage kinds that can be created
//	/stages/prompt/prompts/                     list, create (and each object,
//	                                            as above)
//	/stages/invitation/invitations/             list, create (and each object)
//	/stages/email/templates/                    the email stage's templates
//	/policies/{kind path}/                      list, create (and each object)
//	/policies/all/                              list (and retrieve, delete,
//	                                            used_by of each object)
//	/policies/all/types/                        the policy kinds that can be created
//	/policies/bindings/                         list, create (and each object)
//	/policies/geoip_iso3166/                    the GeoIP policy's countries
//	/core/users/                                list, create
//	/core/users/{id}/                           retrieve, replace, patch, delete
//	/core/users/{id}/used_by/                   used_by
//	/core/users/{id}/set_password/              POST: set (or unset) the password
//	/core/users/paths/                          GET: the users' distinct paths
//	/core/groups/                               list, create
//	/core/groups/{group_uuid}/                  retrieve, replace, patch, delete
//	/core/groups/{group_uuid}/used_by/          used_by
//	/core/groups/{group_uuid}/add_user/         POST: add a direct member
//	/core/groups/{group_uuid}/remove_user/      POST: remove a direct member
//	/authenticators/admin/{class}/              list, create (and each object:
//	                                            retrieve, replace, patch, delete)
//	/authenticators/admin/all/                  GET: every device, or ?user=<pk>'s
//	/authenticators/{class}/                    list (the requesting user's own;
//	                                            each: retrieve, replace, patch,
//	                                            delete, used_by)
//	/authenticators/all/                        GET: the requesting user's devices
//
// where {class} is totp, static, webauthn, sms, email or duo (see
// "Authenticator devices").
//
// A list is GET, a create POST (201 with the full representation), a
// retrieve GET, a replace PUT and a patch PATCH (200 with the full
// representation), a delete DELETE (204, empty body). HEAD is answered as
// GET. Lists take authentik's query parameters (the collection's filters,
// search, ordering, page, page_size; see [store.QueryFromValues]) and
// answer in the envelope {"pagination": {...}, "results": [...]}.
//
// The collections at fixed paths are those the store declares a path for
// ([store.Collection].Path), a host's own collections included, with
// permission codenames from the model ("acme_notes.view_note"); the kinds
// are found through the registries. Each request past its permission
// checks is one store transaction: a retrieve reads the object and the
// revision of its ETag together, a write commits and renders in one
// update. A list is written as a stream, one result at a time, each
// rendered when it is reached (a binding's stage_obj carries its stage's
// whole flow_set), so a request's memory is one result's representation,
// not the page's; the read transaction stays open while the page is
// written, so bound how long a client may take (http.Server's
// WriteTimeout). A result that fails to render after the first byte (a
// damaged file) ends the response short.
//
// A used_by is GET (or HEAD): 200 with an unpaginated JSON array of the
// objects that refer to this one, in authentik's shape and order
// ([store.Tx.UsedBy]): {"app", "model_name", "pk", "name", "action"},
// where action is what deleting this object does to that one (cascade,
// cascade_many, set_null or set_default; a protecting reference shows as
// cascade, as in authentik). Any other method on a used_by is 405. A
// path is matched as an object first, so the flow whose slug is
// "used_by" is /flows/instances/used_by/, and its used_by
// /flows/instances/used_by/used_by/.
//
// A delete also deletes the objects whose references to it cascade (a
// flow's or a stage's bindings) and sets other references to null or to
// their default (Duo's configure_flow), in one transaction. A delete that
// a protected reference refuses (on_delete=protect, which only kinds a
// host registers declare) deletes nothing and is 409; see Errors.
//
// The stage and policy collections come from the store's registries
// ([store.Store.StageKinds], [store.Store.PolicyKinds]): every kind registered
// with a Path is served at /stages/{Path}/ or /policies/{Path}/, so a kind
// that a host application registers needs no change here. The built-in
// kinds are every stage and policy kind of authentik 2025.6 (the Kinds
// of stage.Default and policy.Default). A stage is found only under its
// own kind's path: the pk of a Duo stage under /stages/user_write/ is
// 404.
// /stages/all/ and /policies/all/ serve every kind in the base
// representation (authentik's StageSerializer and PolicySerializer) and
// have no create, replace or patch.
//
// Objects carry an ETag: the revision their write committed at, or the
// store's revision when they were read (so the object did not change
// after it); a PUT,
// PATCH or DELETE with If-Match is refused with 412 when the object
// changed after that revision (see Errors).
//
// An import (POST /flows/instances/import/, the blueprint as the multipart
// field "file") applies the whole document in one transaction or nothing
// (package blueprint). Like authentik it answers 200 with {"success",
// "logs"} whether or not the document applied: success false, with a log
// event naming each failed entry, when an entry failed or the document
// could not be read; 400 only when there is no file.
//
// Write bodies are JSON. PATCH is an RFC 7396 merge patch and also
// accepts the media type application/merge-patch+json. Bodies are bounded
// by Options.MaxBodyBytes (1 MiB by default).
//
// # Permissions
//
// Before each operation the handler calls Options.Authorize with
// authentik's permission codename:
//
//	authentik_flows.{view,add,change,delete}_flow                    /flows/instances/
//	authentik_flows.{view,add,change,delete}_flowstagebinding        /flows/bindings/
//	<app_label>.{view,add,change,delete}_<model>                     /stages/{kind path}/, /policies/{kind path}/
//	authentik_flows.{view,delete}_stage                              /stages/all/
//	authentik_policies.{view,delete}_policy                          /policies/all/
//	authentik_policies.{view,add,change,delete}_policybinding        /policies/bindings/
//	authentik_stages_prompt.{view,add,change,delete}_prompt          /stages/prompt/prompts/
//	authentik_stages_invitation.{view,add,change,delete}_invitation  /stages/invitation/invitations/
//	authentik_flows.export_flow                                      export
//	authentik_flows.view_flow                                        diagram, plan
//	authentik_flows.change_flow                                      set_background_url
//	authentik_flows.view_flow_cache                                  cache_info
//	authentik_flows.clear_flow_cache                                 cache_clear
//	authentik_core.{view,add,change,delete}_user                     /core/users/ (view: paths too)
//	authentik_core.{view,add,change,delete}_group                    /core/groups/
//	authentik_core.reset_user_password                               set_password
//	authentik_core.add_user_to_group, remove_user_from_group         add_user, remove_user (and view_user)
//	authentik_core.enable_group_superuser, disable_group_superuser   a write that changes a group's is_superuser
//	<device app>.{view,add,change,delete}_<device model>             /authenticators/admin/{class}/ (view: admin/all/)
//
// where <app_label>.<model> is the kind's model name, for example
// authentik_stages_user_write.change_userwritestage; an import asks for
// add_ and change_ of flow, flowstagebinding, stage, policy,
// policybinding and prompt, each in turn, and, when the document has a
// user or group entry (or applies other blueprints from
// Options.Blueprint.Dir), add_ and change_ of user and group,
// reset_user_password, enable_group_superuser and
// disable_group_superuser: authentik asks for none of those, but an
// import must not grant what its caller could not grant through the
// users and groups endpoints. A list or retrieve
// asks for view, a create for add, a replace or patch for change, a
// delete for delete, a used_by for view. As in authentik, an object the
// user may not view does not exist for them: every operation on one
// object asks for view first, and a denial is 404, whatever the method.
// A used_by then asks, once per model among its entries, for that model's
// <app>.view_<model_name> and leaves out the entries the user may not
// view, as authentik lists only the related objects the user may view;
// the blockers of a 409 are filtered the same way. A denied add, change
// or delete is 403 {"detail": "You do not have permission to perform
// this action."} (or 404 when the object does not exist). A denied list
// is an empty page, as authentik filters lists down to the objects the
// user may view.
// An Authorize error wrapping [ErrNotAuthenticated] is 403 {"detail":
// "Authentication credentials were not provided."} on every operation,
// before its query parameters or path key are looked at (a method the
// path does not serve is still 405, and an unknown path 404).
// Permissions are checked before the body is read.
//
// # Errors
//
// Error bodies are authentik's:
//
//	400  a rejected write: the *validate.Error body,
//	     {"field": ["message"], "non_field_errors": ["message"]}; a body
//	     that is not a JSON object gets the non-field error "Invalid
//	     data. Expected a dictionary, but got list." and its kin; a bad
//	     list filter value gets its field error
//	400  {"detail": "JSON parse error - <parser message>"}
//	403  see Permissions
//	404  {"detail": "Not found."}: an unknown path, object or slug, a
//	     malformed UUID in the path, a stage under another kind's path
//	404  {"detail": "Invalid page."}: a page past the last, or not a number
//	405  {"detail": "Method \"X\" not allowed."}, with an Allow header
//	409  {"detail": "Cannot delete \"<object>\" because it is referenced
//	     by \"<blocker>\" and \"<blocker>\"; change or delete those
//	     first.", "protected_by": [<used_by entries>]}: a delete that a
//	     protected reference refuses ([store.ErrProtected]); nothing was
//	     deleted. The blockers are the objects whose references protect
//	     this one or an object its delete would cascade to; those the
//	     user may not view are only counted ("2 objects you may not
//	     view"). authentik answers 500 here
//	413  {"detail": "Request body too large: the limit is N bytes."}
//	415  {"detail": "Unsupported media type \"x\" in request."}
//	412  {"detail": "The object changed after the revision in
//	     If-Match."}: a PUT, PATCH or DELETE whose If-Match revision is
//	     older than the object's last change; nothing was written
//	500  {"detail": "The store's file is damaged: <message>"}: a record
//	     failed its checksum, an index points nowhere, or a collection's
//	     bucket is missing ([store.ErrCorrupt]); the store's message
//	     names the damage. It is also logged to Options.ErrorLog
//	500  {"detail": "A server error occurred."}: any other internal
//	     error; the cause goes to Options.ErrorLog, never into the
//	     response
//	413  {"detail": "The change is too large for the store to commit in
//	     one transaction."}: on etcd, the change exceeds the server's
//	     --max-txn-ops or --max-request-bytes ([store.ErrTooLarge]);
//	     nothing was written
//	503  {"detail": ...}: the store is closed ([store.ErrClosed]) or
//	     read-only ([store.ErrReadOnly]), or the request was cancelled;
//	     on etcd, the connection was lost while the change was being
//	     committed and its outcome could not be learnt
//	     ([store.ErrOutcomeUnknown]: it applied whole or not at all), or
//	     other writers kept winning the race to commit
//
// No response ever contains a write-only field (a stage's or policy's
// secrets, such as Duo's client_secret, a captcha stage's private_key or
// an email stage's password) or a stack trace. The secrets authentik
// shows in responses (an SMS stage's auth, an email authenticator's
// password) are shown; an export holds no secret at all.
//
// # Differences from authentik
//
// Beyond the deliberate differences of the store (a PATCH is a merge
// patch judged on its result; unknown keys are field errors; page sizes
// are bounded; see package store):
//
//   - The 404 body is the seed era's "Not found." (DRF 3.14), not the
//     later "No Flow matches the given query.".
//   - A body sent without a Content-Type is read as JSON; authentik
//     ignores it. An empty body is the empty object whatever its media
//     type, as in authentik. Form and multipart bodies are 415: authflow
//     has no form parsers.
//   - The JSON parse error message is Go's encoding/json message, not
//     orjson's.
//   - 405 is answered before permissions are asked; authentik asks first.
//   - Server errors have a JSON body; authentik's are HTML. A damaged
//     store (a 500) says so and names the damage; authentik has no such
//     check.
//   - A delete refused by a protected reference is 409 with the blockers
//     in protected_by; authentik lets Django's ProtectedError through as
//     a 500.
//   - The handler gives every store call the request's context, and list
//     scans stop between records when it is done: a request whose client
//     has gone stops (with a 503 nobody reads), where authentik's worker
//     runs it to the end.
//   - Served besides CRUD and used_by: the types lists, the GeoIP
//     countries, the email templates, export, import, diagram, plan,
//     cache_info, cache_clear and set_background_url, and, with
//     Options.Executor, the flow executor (/flows/executor/{slug}/, no
//     permission asked), the inspector (/flows/inspector/{slug}/,
//     inspect_flow, 404 without it), Duo's enrollment_status
//     (/stages/authenticator/duo/{uuid}/enrollment_status/, the
//     session's enrollment) and execute
//     (/flows/instances/{slug}/execute/, view_flow; a denied plan is 400
//     {"detail": "Flow not applicable to current user/request: …"} where
//     authentik answers an HTML page). The inspector's next_planned_stage
//     of a plan with one stage left is authentik's empty binding
//     (null target, stage, order and choices), which authentik's schema
//     does not allow either. Not served: OPTIONS metadata, policy test,
//     cache endpoints of policies, Duo device imports.
//   - POST /flows/instances/{slug}/set_background_url/ ({"url": "..."},
//     200 {} with the write's ETag; If-Match applies) asks for
//     authentik_flows.change_flow, where authentik 2025.6 asks for
//     authentik_core.change_application; a body without url is 400
//     {"url": ["This field is required."]}, where authentik's 400 is
//     empty. The image upload, set_background, is refused with a 400
//     naming set_background_url: authflow keeps no files.
//   - /stages/all/types/ and /policies/all/types/ list the kinds the
//     handler serves (those with a Path), by verbose name, each with
//     "icon_url": null as authentik sends it (its own schema says a
//     string). Like authentik they need authentication but no permission.
//   - Every list carries "autocomplete": {} after pagination and results,
//     as authentik 2025.8 and later do.
//   - A denied list is an empty page without checking its filters.
//
// # Users and groups
//
// /core/users/ and /core/groups/ answer in authentik 2025.6's shapes
// (the store renders them; see package directory), with every list
// filter of authentik's (the store's user and group listings), and:
//
//   - include_groups (users) and include_users (groups): absent or
//     "true" in any case includes groups_obj or users_obj; any other
//     value renders it null, on every response to the request (lists,
//     retrieves and writes). A group always has "roles": [] and
//     "roles_obj": [] (authflow has no roles).
//   - groups_by_pk, groups_by_name, members_by_pk and members_by_username
//     name objects: a value that names none is 400 {"groups_by_name":
//     ["Select a valid choice. x is not one of the available choices."]},
//     as in authentik.
//   - An attributes filter that is not JSON, or not an object, is 400
//     with a bare JSON list: ["filter: failed to parse JSON"] or
//     ["filter: value must be key:value mapping"], as authentik answers;
//     one of more than 100 keys is ["filter: at most 100 keys (it has
//     N)"] (authflow's bound: each key is a lookup into every row).
//   - set_password takes {"password": "..."} and answers 204: the hash is
//     made with the store's policy before the one write that stores it
//     and moves password_change_date. A missing or null password sets the
//     unusable password (as authentik 2025.6 does); a password that is
//     not a string is 400 {"password": ["Not a valid string."]} (authentik
//     2025.6 fails with a 500) and "" is 400 {"password": ["This field
//     may not be blank."]} (2025.6 stores the empty password; 2025.10
//     refuses it). No response, log or change ever holds a hash.
//   - add_user and remove_user take {"pk": <user pk>} and answer 204,
//     doing nothing when the user already is (or is not) a member; a
//     user that does not exist or that the caller may not view
//     (authentik_core.view_user), or a body without an integer pk, is
//     404 {"detail": "Not found."}.
//   - A create or update that changes a group's is_superuser (a create
//     with true counts) asks for enable_group_superuser (to true) or
//     disable_group_superuser (to false) inside its transaction, judged
//     on what was written; without it the write is undone and answered
//     400 {"is_superuser": ["User does not have permission to set
//     superuser status to True."]} (or "False."). Authorize decides
//     globally: authflow has no object permissions.
//   - paths takes the list's filters and search and answers {"paths":
//     [...]}, distinct and sorted, not paginated; without the view
//     permission it is empty, as a denied list is.
//   - Not served, each answered 404 {"detail": "authflow does not serve
//     this endpoint: it needs a session or the flow executor."} whatever
//     the method: me, service_account, impersonate_end, and a user's
//     recovery, recovery_email, impersonate and metrics.
//
// # Authenticator devices
//
// The users' authenticator devices (the store's directory.Devices; see
// package store) are served as authentik 2025.6 serves them, in its
// shapes (TOTPDevice, StaticDevice, WebAuthnDevice, SMSDevice,
// EmailDevice, DuoDevice, each with its user as a GroupMember, and
// Device for the all/ lists):
//
//   - /authenticators/admin/{class}/ asks Authorize for the device
//     model's permission, such as
//     authentik_stages_authenticator_totp.view_totpdevice, as for every
//     collection (a denied list is an empty page, a device the caller
//     may not view 404, a denied change or delete 403);
//     /authenticators/admin/all/ lists every device, or those of
//     ?user=<pk>, leaving out the classes the caller may not view (a
//     user that is not a number is 400 {"user": ["Enter a number."]},
//     where authentik fails with a 500).
//   - /authenticators/{class}/ and /authenticators/all/ serve the
//     requesting user's own devices: Options.RequestUser names the user
//     (nil answers them 403 {"detail": "Authentication credentials were
//     not provided."}); another user's device is 404, as authentik's
//     owner filter makes it.
//   - A replace or patch writes the name alone (other keys are ignored):
//     required on a replace, not blank, at most 64 characters (200 for
//     WebAuthn), each refusal a 400 with DRF's message on name.
//   - No secret is ever in a response: nothing shows a TOTP key, and a
//     static device's token_set is [] where authentik lists the codes
//     (authflow keeps only their hashes, directory.HashStaticToken: the
//     codes are shown once, by the setup stage).
//   - An admin create takes {"name", "user": <pk>} (user is authflow's:
//     authentik's document has no user in the body, and its create
//     fails) and makes an unconfirmed TOTP device with a new random key,
//     or a static device without codes; a missing user is 400 {"user":
//     ["This field is required."]}, an unknown one 400 with DRF's "does
//     not exist" message. The other classes are set up through their
//     stages: 400 {"non_field_errors": ["A device of this class is set
//     up through its stage."]}.
//   - A WebAuthn device's device_type is null and its Device
//     extra_description "Extra description not available": authflow keeps
//     no metadata of authenticator models.
//   - used_by of a device is [] (nothing refers to one). The endpoint
//     devices of authentik's enterprise edition are not served (404).
package api
