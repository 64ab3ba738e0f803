// authentik's TypeScript client (@goauthentik/api, the version pinned in
// package-lock.json) against authflow's /authenticators/ API: the admin
// paths and a user's own, each call through the client's typed
// AuthenticatorsApi, so a response the client cannot decode, or decodes to
// the wrong values, fails here as it would in authentik's web interface.
//
// Usage: node authenticators.mjs BASE_URL
//
// The server holds a user ($AUTHFLOW_USER_PK, alice) with one device of
// every class (TOTP "phone", static "codes", WebAuthn "key", SMS "sms", email
// "mail", Duo "duo"), as api/tsclient_test.go makes it. $AUTHFLOW_TOKEN
// is the admin's bearer token, $AUTHFLOW_USER_TOKEN the user's. Each step
// prints PASS or FAIL; the exit status is 0 only when none failed.

import { isDeepStrictEqual } from "node:util";

import { AuthenticatorsApi, Configuration, ResponseError } from "@goauthentik/api";

const [baseArg] = process.argv.slice(2);
if (!baseArg) {
    console.error("usage: node authenticators.mjs BASE_URL");
    process.exit(2);
}
const basePath = baseArg.replace(/\/+$/, "").replace(/(\/api\/v3)?$/, "/api/v3");
const admin = new AuthenticatorsApi(new Configuration({ basePath, accessToken: process.env.AUTHFLOW_TOKEN }));
const mine = new AuthenticatorsApi(new Configuration({ basePath, accessToken: process.env.AUTHFLOW_USER_TOKEN }));
const userPK = Number(process.env.AUTHFLOW_USER_PK);

class Mismatch extends Error {}

function equal(got, want, what) {
    if (!isDeepStrictEqual(got, want)) {
        throw new Mismatch(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
}

function isDate(d, what) {
    if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
        throw new Mismatch(`${what} is not a valid Date: ${d}`);
    }
}

const state = {};
const classes = ["Totp", "Static", "Webauthn", "Sms", "Email", "Duo"];

const steps = [
    ["admin_all", async () => {
        const all = await admin.authenticatorsAdminAllList({ user: userPK });
        equal(all.map((d) => d.name), ["codes", "phone", "key", "duo", "sms", "mail"], "names, by class");
        for (const d of all) {
            isDate(d.created, `${d.name}: created`);
            isDate(d.lastUpdated, `${d.name}: lastUpdated`);
            equal(typeof d.pk, "string", `${d.name}: pk type`);
        }
        equal(all[1].type, "authentik_stages_authenticator_totp.TOTPDevice", "type");
        equal(all[1].metaModelName, "authentik_stages_authenticator_totp.totpdevice", "metaModelName");
        state.all = all;
    }],
    ["admin_lists", async () => {
        for (const c of classes) {
            const page = await admin[`authenticatorsAdmin${c}List`]({});
            equal(page.pagination.count, page.results.length, `${c}: count`);
            const theirs = page.results.filter((d) => d.user.pk === userPK);
            equal(theirs.length, 1, `${c}: the user's devices`);
            equal(theirs[0].user.username, "alice", `${c}: user.username`);
            state[c] = theirs[0];
        }
        equal(state.Static.tokenSet, [], "static tokenSet");
        isDate(state.Webauthn.createdOn, "webauthn createdOn");
        equal(state.Sms.phoneNumber, "+15550100", "sms phoneNumber");
        equal(state.Email.email, "alice@example.com", "email");
    }],
    ["admin_rename", async () => {
        const id = state.Totp.pk;
        const d = await admin.authenticatorsAdminTotpPartialUpdate({ id, patchedTOTPDeviceRequest: { name: "renamed" } });
        equal(d.name, "renamed", "patched name");
        const r = await admin.authenticatorsAdminTotpUpdate({ id, tOTPDeviceRequest: { name: "phone" } });
        equal(r.name, "phone", "replaced name");
    }],
    ["own_all", async () => {
        const all = await mine.authenticatorsAllList();
        equal(all.map((d) => d.pk), state.all.map((d) => d.pk), "the user's devices");
    }],
    ["own_retrieve_used_by", async () => {
        const d = await mine.authenticatorsWebauthnRetrieve({ id: state.Webauthn.pk });
        equal(d.deviceType, null, "deviceType");
        equal(await mine.authenticatorsWebauthnUsedByList({ id: d.pk }), [], "used_by");
    }],
    ["own_delete", async () => {
        await mine.authenticatorsDuoDestroy({ id: state.Duo.pk });
        try {
            await mine.authenticatorsDuoRetrieve({ id: state.Duo.pk });
        } catch (err) {
            if (err instanceof ResponseError && err.response.status === 404) {
                return;
            }
            throw err;
        }
        throw new Mismatch("the deleted device is still there");
    }],
];

let failed = 0;
for (const [name, run] of steps) {
    try {
        await run();
        console.log(`PASS    ${name}`);
    } catch (err) {
        failed++;
        let detail = err?.message ?? String(err);
        if (err instanceof ResponseError) {
            detail = `HTTP ${err.response.status} ${err.response.url}: ${await err.response.text()}`;
        }
        console.log(`FAIL    ${name}: ${detail}`);
    }
}
console.log(`tsclient: ${steps.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
