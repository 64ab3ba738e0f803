// authentik's TypeScript client (@goauthentik/api, the version pinned in
// package-lock.json) runs flows on authflow's executor: every step goes
// through FlowsApi.flowsExecutorGet and flowsExecutorSolve, so a
// challenge the client cannot decode, or decodes to the wrong values,
// fails here as it would in authentik's flow interface.
//
// Usage: node flows.mjs BASE_URL
//
// The server is expected to hold authentik's default authentication,
// invalidation and user settings flows, the example two-stage enrollment
// (default-enrollment-flow), and the user alice with the password in
// $AUTHFLOW_ALICE_PASSWORD.
//
// Node's fetch keeps no cookies and follows redirects without them, and
// the executor's session is a cookie; so the client is given a fetchApi
// (Configuration.fetchApi) that keeps a cookie jar and follows the
// executor's 302 itself, sending the cookie, as a browser does. Node's
// fetch sends neither Origin nor Sec-Fetch-Site, so the executor's
// cross-origin check lets it in; a solve sent with another Origin is
// refused.
//
// Each step prints PASS, FAIL or BLOCKED (an earlier step it needs
// failed); the exit status is 0 only when every step passed.

import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";

import { Configuration, FlowsApi, ResponseError } from "@goauthentik/api";

const [baseArg] = process.argv.slice(2);
if (!baseArg) {
    console.error("usage: node flows.mjs BASE_URL");
    process.exit(2);
}
let basePath = baseArg.replace(/\/+$/, "");
if (!basePath.endsWith("/api/v3")) {
    basePath += "/api/v3";
}
const alicePassword = process.env.AUTHFLOW_ALICE_PASSWORD ?? "";

class Mismatch extends Error {}
class Blocked extends Error {}

function show(v) {
    try {
        return JSON.stringify(v) ?? String(v);
    } catch {
        return String(v);
    }
}

function equal(got, want, what) {
    if (!isDeepStrictEqual(got, want)) {
        throw new Mismatch(`${what}: got ${show(got)}, want ${show(want)}`);
    }
}

function need(value, what) {
    if (!value) {
        throw new Blocked(`needs ${what}, which an earlier step did not produce`);
    }
    return value;
}

// browser is a client with its own cookie jar (name to value, one host).
function browser() {
    const jar = new Map();
    const fetchApi = async (url, init) => {
        for (let hops = 0; hops < 10; hops++) {
            const headers = new Headers(init?.headers);
            if (jar.size) {
                headers.set("Cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
            }
            const res = await fetch(url, { ...init, headers, redirect: "manual" });
            for (const c of res.headers.getSetCookie()) {
                const [pair, ...attrs] = c.split(";");
                const i = pair.indexOf("=");
                const gone = attrs.some((a) => /^\s*max-age=(0|-)/i.test(a));
                if (gone) {
                    jar.delete(pair.slice(0, i).trim());
                } else {
                    jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
                }
            }
            if (res.status !== 302) {
                return res;
            }
            // The executor's 302 is to its own URL: the next challenge.
            url = new URL(res.headers.get("Location"), url).toString();
            init = { ...init, method: "GET", body: undefined };
            const h = new Headers(init.headers);
            h.delete("Content-Type");
            init.headers = h;
        }
        throw new Error("more than 10 redirects");
    };
    return { jar, flows: new FlowsApi(new Configuration({ basePath, fetchApi })) };
}

const get = (b, flowSlug) => b.flows.flowsExecutorGet({ flowSlug, query: "" });
const solve = (b, flowSlug, flowChallengeResponseRequest, init) =>
    b.flows.flowsExecutorSolve({ flowSlug, query: "", flowChallengeResponseRequest }, init);

const state = {};
const login = "default-authentication-flow";
const enroll = "default-enrollment-flow";
const newUser = `ts-${randomBytes(4).toString("hex")}`;

const steps = [
    ["login_identification", "flowsExecutorGet", async () => {
        const b = browser();
        const c = await get(b, login);
        equal(c.component, "ak-stage-identification", "component");
        equal(c.userFields, ["email", "username"], "userFields");
        equal(c.flowInfo?.title, "Welcome to authentik!", "flowInfo.title");
        state.login = b;
    }],
    ["login_password", "flowsExecutorSolve", async () => {
        const b = need(state.login, "a login in progress");
        const c = await solve(b, login, { component: "ak-stage-identification", uidField: "alice" });
        equal(c.component, "ak-stage-password", "component");
        equal(c.pendingUser, "alice", "pendingUser");
        const wrong = await solve(b, login, { component: "ak-stage-password", password: alicePassword + "x" });
        equal(wrong.component, "ak-stage-password", "component after a wrong password");
        equal(wrong.responseErrors, { password: [{ string: "Invalid password", code: "invalid" }] }, "responseErrors");
        state.password = true;
    }],
    ["login_mfa", "flowsExecutorSolve", async () => {
        const b = need(state.password, "the password stage") && state.login;
        const sid = b.jar.get("authflow_session");
        const c = await solve(b, login, { component: "ak-stage-password", password: alicePassword });
        // alice has no devices: the MFA stage (not_configured_action
        // skip) passes, user_login logs her in under a new session id,
        // and the flow ends.
        equal(c.component, "xak-flow-redirect", "component");
        equal(c.to, "/", "to");
        const now = b.jar.get("authflow_session");
        if (!now || now === sid) {
            throw new Mismatch(`the session id did not change at login: ${sid} -> ${now}`);
        }
    }],
    ["enroll_first_prompt", "flowsExecutorGet", async () => {
        const b = browser();
        const c = await get(b, enroll);
        equal(c.component, "ak-stage-prompt", "component");
        equal(c.fields.map((f) => f.fieldKey), ["username", "password", "password_repeat"], "fields");
        const bad = await solve(b, enroll, { component: "ak-stage-prompt", username: newUser, password: "one Passw0rd", password_repeat: "another" });
        equal(bad.component, "ak-stage-prompt", "component after mismatched passwords");
        equal(bad.responseErrors, { non_field_errors: [{ string: "Passwords don't match.", code: "invalid" }] }, "responseErrors");
        state.enroll = b;
        state.session = b.jar.get("authflow_session");
    }],
    ["enroll_second_prompt", "flowsExecutorSolve", async () => {
        const b = need(state.enroll, "an enrollment in progress");
        const c = await solve(b, enroll, { component: "ak-stage-prompt", username: newUser, password: "one Passw0rd", password_repeat: "one Passw0rd" });
        equal(c.component, "ak-stage-prompt", "component");
        equal(c.fields.map((f) => f.fieldKey), ["name", "email"], "fields");
        state.second = true;
    }],
    ["enroll_write_login", "flowsExecutorSolve", async () => {
        const b = need(state.second, "the second prompt") && state.enroll;
        const c = await solve(b, enroll, { component: "ak-stage-prompt", name: "TS Client", email: `${newUser}@example.com` });
        equal(c.component, "xak-flow-redirect", "component");
        equal(c.to, "/", "to");
        // user_login gave the session a new id (no fixation).
        const sid = b.jar.get("authflow_session");
        if (!sid || sid === state.session) {
            throw new Mismatch(`the session cookie did not change at login: ${show(sid)}`);
        }
        state.loggedIn = b;
    }],
    ["enrolled_user_settings", "flowsExecutorGet", async () => {
        const b = need(state.loggedIn, "a logged-in session");
        // default-user-settings-flow needs an authenticated user: the
        // cookie says who.
        const c = await get(b, "default-user-settings-flow");
        equal(c.component, "ak-stage-prompt", "component");
        const initial = Object.fromEntries(c.fields.map((f) => [f.fieldKey, f.initialValue]));
        equal([initial.username, initial.name, initial.email], [newUser, "TS Client", `${newUser}@example.com`], "initial values");
    }],
    ["cross_origin_refused", "flowsExecutorSolve", async () => {
        const b = need(state.loggedIn, "a logged-in session");
        try {
            await solve(b, "default-user-settings-flow", { component: "ak-stage-prompt" }, { headers: { Origin: "https://evil.example" } });
        } catch (err) {
            if (!(err instanceof ResponseError)) {
                throw err;
            }
            equal(err.response.status, 403, "status");
            equal(await err.response.json(), { detail: "CSRF Failed: Origin checking failed - https://evil.example does not match any trusted origins." }, "body");
            return;
        }
        throw new Mismatch("a solve with another Origin succeeded");
    }],
    ["logout", "flowsExecutorGet", async () => {
        const b = need(state.loggedIn, "a logged-in session");
        const c = await get(b, "default-invalidation-flow");
        equal(c.component, "xak-flow-redirect", "component");
        const after = await get(b, "default-user-settings-flow");
        equal(after.component, "ak-stage-access-denied", "component of user settings after logout");
        equal(after.errorMessage, "Flow does not apply to current user.", "errorMessage");
    }],
];

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
    return `${err?.name ?? "Error"}: ${err?.message ?? err}${err?.cause ? ` (cause: ${err.cause.message ?? err.cause})` : ""}`;
}

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
const summary = `tsclient flows: ${counts.PASS} passed, ${counts.FAIL} failed, ${counts.BLOCKED} blocked`;
console.log(summary);
process.exit(counts.FAIL + counts.BLOCKED > 0 ? 1 : 0);
