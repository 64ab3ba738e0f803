// authentik's TypeScript client (@goauthentik/api, the version pinned in
// package-lock.json) against authflow's users and groups API: every call
// goes through the client's typed CoreApi, so a response the client cannot
// decode, or decodes to the wrong values, fails here as it would in
// authentik's own web interface.
//
// Usage: node users_groups.mjs BASE_URL
//
// BASE_URL is the server's root (http://127.0.0.1:9000) or its API root
// (http://127.0.0.1:9000/api/v3). $AUTHFLOW_TOKEN, when set, is sent as
// "Authorization: Bearer <token>", as `authflow serve` expects.
//
// Each step prints PASS, FAIL (with the call and what differed) or BLOCKED
// (an earlier step it needs failed). The exit status is 0 only when no step
// failed or was blocked. The objects the run creates are named with a
// random suffix and deleted at the end, also after a failure, so a run
// against a long-lived server leaves nothing behind.

import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";

import { Configuration, CoreApi, ResponseError, UserTypeEnum } from "@goauthentik/api";

const [baseArg] = process.argv.slice(2);
if (!baseArg) {
    console.error("usage: node users_groups.mjs BASE_URL  (token, if any, in $AUTHFLOW_TOKEN)");
    process.exit(2);
}
let basePath = baseArg.replace(/\/+$/, "");
if (!basePath.endsWith("/api/v3")) {
    basePath += "/api/v3";
}
const token = process.env.AUTHFLOW_TOKEN || undefined;
const core = new CoreApi(new Configuration({ basePath, accessToken: token }));

const suffix = randomBytes(4).toString("hex");
const groupName = `tsclient-group-${suffix}`;
const username = `tsclient-user-${suffix}`;
const otherName = `tsclient-other-${suffix}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// Keys of authentik 2025.6's User and Group responses (core.yml `User`,
// `Group`); the response must have each, and nothing else.
const USER_KEYS = [
    "pk", "username", "name", "is_active", "last_login", "date_joined", "is_superuser", "groups",
    "groups_obj", "email", "avatar", "attributes", "uid", "path", "type", "uuid",
    "password_change_date",
];
const GROUP_KEYS = [
    "pk", "num_pk", "name", "is_superuser", "parent", "parent_name", "users", "users_obj",
    "attributes", "roles", "roles_obj",
];

// Mismatch is a check that failed; Blocked is a step that cannot run
// because an earlier one did not produce what it needs.
class Mismatch extends Error {}
class Blocked extends Error {}


function check(ok, what, got) {
    if (!ok) {
        throw new Mismatch(`${what}; got ${show(got)}`);
    }
}

function equal(got, want, what) {
    if (!isDeepStrictEqual(got, want)) {
        throw new Mismatch(`${what}: got ${show(got)}, want ${show(want)}`);
    }
}

function validDate(d, what) {
    check(d instanceof Date && !Number.isNaN(d.getTime()), `${what} is not a valid Date`, d);
}

function show(v) {
    if (v instanceof Date) {
        return Number.isNaN(v.getTime()) ? "Invalid Date" : `Date(${v.toISOString()})`;
    }
    try {
        return JSON.stringify(v) ?? String(v);
    } catch {
        return String(v);
    }
}

function need(value, what) {
    if (value === undefined || value === null) {
        throw new Blocked(`needs ${what}, which an earlier step did not produce`);
    }
    return value;
}

// raw calls a CoreApi ...Raw method and returns the decoded value, the
// JSON as sent, and the HTTP status.
async function raw(call) {
    const res = await call;
    const json = res.raw.status === 204 ? undefined : await res.raw.clone().json();
    const value = await res.value();
    return { value, json, status: res.raw.status };
}

function keysExactly(json, want, what) {
    const got = Object.keys(json ?? {});
    const missing = want.filter((k) => !got.includes(k));
    const extra = got.filter((k) => !want.includes(k));
    if (missing.length || extra.length) {
        throw new Mismatch(`${what}: missing keys ${show(missing)}, unexpected keys ${show(extra)}`);
    }
}

// status returns err's HTTP status when it is the client's ResponseError.
function status(err) {
    return err instanceof ResponseError ? err.response.status : undefined;
}

async function describe(err) {
    if (err instanceof ResponseError) {
        let body = "";
        try {
            body = await err.response.text();
        } catch {
            body = "(body already read)";
        }
        return `ResponseError: HTTP ${err.response.status} ${err.response.url}: ${body.trim() || "(empty body)"}`;
    }
    if (err instanceof Mismatch || err instanceof Blocked) {
        return err.message;
    }
    // A TypeError from the client's FromJSON (a key it maps unconditionally
    // is missing), a FetchError (the server is unreachable), ...
    return `${err?.name ?? "Error"}: ${err?.message ?? err}${err?.cause ? ` (cause: ${err.cause.message ?? err.cause})` : ""}`;
}

// expectError runs call and returns the ResponseError it must throw.
async function expectError(call, what) {
    try {
        await call;
    } catch (err) {
        if (err instanceof ResponseError) {
            return err;
        }
        throw err;
    }
    throw new Mismatch(`${what}: the call succeeded, want a ResponseError`);
}

// state holds what the steps create.
const state = {};

function checkUser(u, json, what) {
    keysExactly(json, USER_KEYS, `${what}: User keys`);
    check(Number.isInteger(u.pk) && u.pk > 0, `${what}: pk is not a positive integer`, u.pk);
    check(typeof u.name === "string", `${what}: name is not a string`, u.name);
    check(typeof u.isActive === "boolean", `${what}: isActive is not a boolean`, u.isActive);
    check(typeof u.isSuperuser === "boolean", `${what}: isSuperuser is not a boolean`, u.isSuperuser);
    validDate(u.dateJoined, `${what}: dateJoined`);
    validDate(u.passwordChangeDate, `${what}: passwordChangeDate`);
    check(u.lastLogin === undefined || u.lastLogin instanceof Date, `${what}: lastLogin`, u.lastLogin);
    check(Array.isArray(u.groups), `${what}: groups is not an array`, u.groups);
    check(typeof u.avatar === "string" && u.avatar.length > 0, `${what}: avatar is not a non-empty string`, u.avatar);
    check(typeof u.uid === "string" && /^[0-9a-f]{64}$/.test(u.uid), `${what}: uid is not 64 hex characters`, u.uid);
    check(Object.values(UserTypeEnum).includes(u.type) && u.type !== UserTypeEnum.UnknownDefaultOpenApi,
        `${what}: type is not one of UserTypeEnum`, u.type);
    check(typeof u.uuid === "string" && UUID.test(u.uuid), `${what}: uuid is not a UUID`, u.uuid);
    check(typeof u.attributes === "object" && u.attributes !== null && !Array.isArray(u.attributes),
        `${what}: attributes is not an object`, u.attributes);
}

function checkGroup(g, json, what) {
    keysExactly(json, GROUP_KEYS, `${what}: Group keys`);
    check(typeof g.pk === "string" && UUID.test(g.pk), `${what}: pk is not a UUID`, g.pk);
    check(Number.isInteger(g.numPk), `${what}: numPk is not an integer`, g.numPk);
    check(Array.isArray(g.rolesObj), `${what}: rolesObj is not an array`, g.rolesObj);
    equal(g.rolesObj, [], `${what}: rolesObj`);
    equal(g.roles, [], `${what}: roles`);
    check(g.parentName === null, `${what}: parentName is not null for a group without a parent`, g.parentName);
}

const steps = [
    ["create_group", "coreGroupsCreate", async () => {
        const { value: g, json } = await raw(core.coreGroupsCreateRaw({
            groupRequest: { name: groupName, attributes: { team: "tsclient" } },
        }));
        state.group = g;
        checkGroup(g, json, "coreGroupsCreate");
        equal(g.name, groupName, "name");
        equal(g.isSuperuser, false, "isSuperuser");
        equal(g.attributes, { team: "tsclient" }, "attributes");
        equal(g.users, [], "users");
    }],
    ["create_user", "coreUsersCreate", async () => {
        const group = need(state.group, "the group");
        const { value: u, json } = await raw(core.coreUsersCreateRaw({
            userRequest: {
                username,
                name: "TS Client",
                email: `${username}@example.com`,
                groups: [group.pk],
                path: "users/tsclient",
                type: UserTypeEnum.Internal,
                attributes: { locale: "de" },
            },
        }));
        state.user = u;
        state.userPasswordChangeDate = json.password_change_date;
        checkUser(u, json, "coreUsersCreate");
        equal(u.username, username, "username");
        equal(u.groups, [group.pk], "groups");
        // A second user, without groups, for add_user and remove_user.
        const { value: o, json: ojson } = await raw(core.coreUsersCreateRaw({
            userRequest: { username: otherName, name: "" },
        }));
        state.other = o;
        checkUser(o, ojson, "coreUsersCreate (no groups)");
        equal(o.groups, [], "groups of a user created without them");
        equal(o.groupsObj, [], "groupsObj of a user created without groups");
        equal(o.path, "users", "default path");
        equal(o.type, UserTypeEnum.Internal, "default type");
        equal(o.isActive, true, "default isActive");
    }],
    ["retrieve_user", "coreUsersRetrieve", async () => {
        const user = need(state.user, "the user");
        const group = state.group;
        const { value: u, json } = await raw(core.coreUsersRetrieveRaw({ id: user.pk }));
        checkUser(u, json, "coreUsersRetrieve");
        equal(u.pk, user.pk, "pk");
        equal(u.username, username, "username");
        equal(u.name, "TS Client", "name");
        equal(u.email, `${username}@example.com`, "email");
        equal(u.isActive, true, "isActive");
        equal(u.isSuperuser, false, "isSuperuser");
        equal(u.path, "users/tsclient", "path");
        equal(u.type, UserTypeEnum.Internal, "type");
        equal(u.uuid, user.uuid, "uuid");
        equal(u.uid, user.uid, "uid");
        equal(u.attributes, { locale: "de" }, "attributes");
        equal(u.groups, [group.pk], "groups");
        check(Array.isArray(u.groupsObj) && u.groupsObj.length === 1, "groupsObj is not one group", u.groupsObj);
        const ug = u.groupsObj[0];
        equal({ pk: ug.pk, numPk: ug.numPk, name: ug.name, isSuperuser: ug.isSuperuser, parent: ug.parent, parentName: ug.parentName, attributes: ug.attributes },
            { pk: group.pk, numPk: group.numPk, name: groupName, isSuperuser: false, parent: undefined, parentName: null, attributes: { team: "tsclient" } },
            "groupsObj[0]");
        equal(u.passwordChangeDate.getTime(), user.passwordChangeDate.getTime(), "passwordChangeDate (unchanged since create)");
    }],
    ["list_users_filter", "coreUsersList", async () => {
        const user = need(state.user, "the user");
        const byName = await core.coreUsersList({ username });
        equal(byName.results.map((u) => u.pk), [user.pk], "coreUsersList({username}) pks");
        equal(byName.pagination.count, 1, "coreUsersList({username}) pagination.count");
        check(Array.isArray(byName.results[0].groupsObj), "coreUsersList: groupsObj is not an array by default", byName.results[0].groupsObj);
        const bySearch = await core.coreUsersList({ search: `tsclient-user-${suffix}`.toUpperCase(), includeGroups: false });
        equal(bySearch.results.map((u) => u.pk), [user.pk], "coreUsersList({search}) pks (search is case-insensitive)");
        equal(bySearch.results[0].groupsObj, null, "coreUsersList({includeGroups: false}) groupsObj");
        const none = await core.coreUsersList({ username: username.toUpperCase() });
        equal(none.results, [], "coreUsersList({username}) with other case (the filter is exact)");
        const both = await core.coreUsersList({ search: suffix, ordering: "-username" });
        equal(both.results.map((u) => u.username), [username, otherName], "coreUsersList({search, ordering: -username})");
    }],
    ["partial_update_user", "coreUsersPartialUpdate", async () => {
        const user = need(state.user, "the user");
        const { value: u, json } = await raw(core.coreUsersPartialUpdateRaw({
            id: user.pk,
            patchedUserRequest: { name: "TS Client Renamed", attributes: { locale: "fr" } },
        }));
        checkUser(u, json, "coreUsersPartialUpdate");
        equal(u.name, "TS Client Renamed", "name");
        equal(u.attributes, { locale: "fr" }, "attributes");
        equal(u.username, username, "username (not sent, kept)");
        equal(u.groups, [need(state.group, "the group").pk], "groups (not sent, kept)");
        const again = await core.coreUsersRetrieve({ id: user.pk });
        equal(again.name, "TS Client Renamed", "name read back");
    }],
    ["list_groups_include_users", "coreGroupsList", async () => {
        const group = need(state.group, "the group");
        const user = need(state.user, "the user");
        const res = await core.coreGroupsList({ name: groupName, includeUsers: true });
        equal(res.results.map((g) => g.pk), [group.pk], "coreGroupsList({name}) pks");
        const g = res.results[0];
        check(Array.isArray(g.rolesObj), "rolesObj is not an array", g.rolesObj);
        equal(g.users, [user.pk], "users");
        check(Array.isArray(g.usersObj) && g.usersObj.length === 1, "usersObj is not one member", g.usersObj);
        const m = g.usersObj[0];
        equal({ pk: m.pk, username: m.username, name: m.name, isActive: m.isActive, email: m.email, attributes: m.attributes, uid: m.uid },
            { pk: user.pk, username, name: "TS Client Renamed", isActive: true, email: `${username}@example.com`, attributes: { locale: "fr" }, uid: user.uid },
            "usersObj[0]");
        const without = await core.coreGroupsList({ name: groupName, includeUsers: false });
        equal(without.results[0]?.usersObj, null, "coreGroupsList({includeUsers: false}) usersObj");
        const searched = await core.coreGroupsList({ search: suffix });
        equal(searched.results.map((g) => g.pk), [group.pk], "coreGroupsList({search}) pks");
    }],
    ["retrieve_group", "coreGroupsRetrieve", async () => {
        const group = need(state.group, "the group");
        const { value: g, json } = await raw(core.coreGroupsRetrieveRaw({ groupUuid: group.pk }));
        checkGroup(g, json, "coreGroupsRetrieve");
        equal(g.pk, group.pk, "pk");
        equal(g.numPk, group.numPk, "numPk");
        equal(g.name, groupName, "name");
        equal(g.users, [need(state.user, "the user").pk], "users");
    }],
    ["duplicate_username", "coreUsersCreate (duplicate)", async () => {
        need(state.user, "the user");
        const err = await expectError(core.coreUsersCreate({ userRequest: { username, name: "Again" } }), "a second user with the same username");
        equal(err.response.status, 400, "status");
        equal(await err.response.json(), { username: ["This field must be unique."] }, "400 body");
    }],
    ["set_password", "coreUsersSetPasswordCreate", async () => {
        const user = need(state.user, "the user");
        const res = await core.coreUsersSetPasswordCreateRaw({
            id: user.pk,
            userPasswordSetRequest: { password: `tsclient-${suffix}-Pa55!` },
        });
        equal(res.raw.status, 204, "status");
        equal(await res.raw.text(), "", "body");
        const { value: u, json } = await raw(core.coreUsersRetrieveRaw({ id: user.pk }));
        check(json.password_change_date !== state.userPasswordChangeDate,
            `password_change_date did not move from ${state.userPasswordChangeDate}`, json.password_change_date);
        check(u.passwordChangeDate.getTime() >= user.passwordChangeDate.getTime(), "passwordChangeDate went back", u.passwordChangeDate);
        check(!JSON.stringify(json).includes("tsclient-" + suffix + "-Pa55!"), "the password is in the user's response", json);
    }],
    ["add_user", "coreGroupsAddUserCreate", async () => {
        const group = need(state.group, "the group");
        const other = need(state.other, "the second user");
        const res = await core.coreGroupsAddUserCreateRaw({ groupUuid: group.pk, userAccountRequest: { pk: other.pk } });
        equal(res.raw.status, 204, "status");
        const g = await core.coreGroupsRetrieve({ groupUuid: group.pk, includeUsers: true });
        equal([...g.users].sort((a, b) => a - b), [state.user.pk, other.pk].sort((a, b) => a - b), "users after add_user");
        const o = await core.coreUsersRetrieve({ id: other.pk });
        equal(o.groups, [group.pk], "the added user's groups");
        const missing = await expectError(core.coreGroupsAddUserCreate({ groupUuid: group.pk, userAccountRequest: { pk: 2147483000 } }), "add_user of a user that does not exist");
        equal(missing.response.status, 404, "add_user of a user that does not exist: status");
    }],
    ["remove_user", "coreGroupsRemoveUserCreate", async () => {
        const group = need(state.group, "the group");
        const other = need(state.other, "the second user");
        const res = await core.coreGroupsRemoveUserCreateRaw({ groupUuid: group.pk, userAccountRequest: { pk: other.pk } });
        equal(res.raw.status, 204, "status");
        const g = await core.coreGroupsRetrieve({ groupUuid: group.pk });
        equal(g.users, [state.user.pk], "users after remove_user");
        const o = await core.coreUsersRetrieve({ id: other.pk });
        equal(o.groups, [], "the removed user's groups");
    }],
    ["delete_users", "coreUsersDestroy", async () => {
        for (const [key, what] of [["user", "the user"], ["other", "the second user"]]) {
            const u = need(state[key], what);
            const res = await core.coreUsersDestroyRaw({ id: u.pk });
            equal(res.raw.status, 204, `deleting ${what}: status`);
            state[key] = undefined;
            const err = await expectError(core.coreUsersRetrieve({ id: u.pk }), `retrieving ${what} after deleting it`);
            equal(err.response.status, 404, `retrieving ${what} after deleting it: status`);
        }
    }],
    ["delete_group", "coreGroupsDestroy", async () => {
        const group = need(state.group, "the group");
        const res = await core.coreGroupsDestroyRaw({ groupUuid: group.pk });
        equal(res.raw.status, 204, "status");
        state.group = undefined;
        const err = await expectError(core.coreGroupsRetrieve({ groupUuid: group.pk }), "retrieving the group after deleting it");
        equal(err.response.status, 404, "status");
    }],
];

const counts = { PASS: 0, FAIL: 0, BLOCKED: 0 };
for (const [name, call, run] of steps) {
    let outcome = "PASS";
    let detail = "";
    try {
        await run();
    } catch (err) {
        outcome = err instanceof Blocked ? "BLOCKED" : "FAIL";
        detail = await describe(err);
    }
    counts[outcome]++;
    console.log(`${outcome.padEnd(7)} ${name} (${call})${detail ? `: ${detail}` : ""}`);
}

// Best-effort clean-up of whatever a failed step left behind.
for (const [key, del] of [
    ["user", (u) => core.coreUsersDestroy({ id: u.pk })],
    ["other", (u) => core.coreUsersDestroy({ id: u.pk })],
    ["group", (g) => core.coreGroupsDestroy({ groupUuid: g.pk })],
]) {
    if (state[key]) {
        await del(state[key]).catch(() => {});
    }
}

const summary = `tsclient: ${counts.PASS} passed, ${counts.FAIL} failed, ${counts.BLOCKED} blocked`;
console.log(summary);
process.exit(counts.FAIL + counts.BLOCKED > 0 ? 1 : 0);
