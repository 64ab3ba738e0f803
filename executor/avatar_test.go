package executor

import (
	"context"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/plan"
)

// A challenge's pending_user_avatar is the display user's avatar as the
// API shows it (authentik's flow tests compare it with user.avatar), the
// default for an anonymous user, and the host's with Options.Avatar.
func TestAvatar(t *testing.T) {
	ctx := context.Background()
	doc := flowDoc("f", "", stageEntry("authentik_stages_password.passwordstage", "f", "pw", 0, "backends: [authentik.core.auth.InbuiltBackend]", ""),
		policyOn("f", "pending", true)) +
		"- model: authentik_stages_identification.identificationstage\n  id: id\n  identifiers: {name: id}\n  attrs: {user_fields: [username]}\n" +
		"- model: authentik_stages_password.passwordstage\n  id: pw2\n  identifiers: {name: pw2}\n  attrs: {backends: [authentik.core.auth.InbuiltBackend]}\n" +
		"- model: authentik_flows.flow\n  id: g\n  identifiers: {slug: g}\n  attrs: {name: g, title: g, designation: authentication}\n" +
		"- model: authentik_flows.flowstagebinding\n  identifiers: {target: !KeyOf g, stage: !KeyOf id, order: 0}\n" +
		"- model: authentik_flows.flowstagebinding\n  identifiers: {target: !KeyOf g, stage: !KeyOf pw2, order: 1}\n"
	h := newHarness(t, doc)
	one := h.userWith("one", "one@example.com", ptr("pw"), true)
	one.Name = "Olga Nilsen"
	if _, err := h.s.Directory().UpdateUser(ctx, one); err != nil {
		t.Fatal(err)
	}
	stored, err := h.s.Directory().User(ctx, one.PK)
	if err != nil {
		t.Fatal(err)
	}
	// The pending user identification found: as the API shows it.
	identify := func(h *harness) reply {
		c := h.newClient()
		h.do(c, "GET", h.url("g", ""), "").want(t, ComponentIdentification)
		h.do(c, "POST", h.url("g", ""), `{"uid_field": "one"}`)
		return h.do(c, "GET", h.url("g", ""), "")
	}
	identify(h).want(t, ComponentPassword, "pending_user", "one", "pending_user_avatar", directory.Avatar(stored))
	// A pending user a policy set: what the context holds of it.
	h.get("f", "").want(t, ComponentPassword, "pending_user", "one", "pending_user_avatar", directory.Avatar(directory.User{Username: "one"}))
	// An identifier (show_matched_user off): its name alone, whoever it
	// names.
	hid := newHarness(t, strings.Replace(doc, "user_fields: [username]", "user_fields: [username], show_matched_user: false", 1))
	one = hid.userWith("one", "one@example.com", ptr("pw"), true)
	one.Name = "Olga Nilsen"
	if _, err := hid.s.Directory().UpdateUser(ctx, one); err != nil {
		t.Fatal(err)
	}
	identify(hid).want(t, ComponentPassword, "pending_user", "one", "pending_user_avatar", directory.Avatar(directory.User{Username: "one"}))
	// Anonymous: the default.
	if got := h.e.displayInfo(nil, Request{Username: ""}); got.PendingUserAvatar != DefaultAvatar {
		t.Errorf("anonymous: %q", got.PendingUserAvatar)
	}
	// The request's user.
	if got := h.e.displayInfo(nil, Request{User: plan.User{PK: 1, Authenticated: true}, Username: "one"}); got.PendingUserAvatar != directory.Avatar(directory.User{Username: "one"}) {
		t.Errorf("request user: %q", got.PendingUserAvatar)
	}

	var seen directory.User
	h = newHarness(t, doc, func(o *Options) {
		o.Avatar = func(u directory.User) string {
			seen = u
			if u.Username == "one" {
				return "https://avatars.example.com/" + u.Email
			}
			return ""
		}
	})
	h.userWith("one", "one@example.com", ptr("pw"), true)
	identify(h).want(t, ComponentPassword, "pending_user_avatar", "https://avatars.example.com/one@example.com")
	if seen.PK != 1 || seen.Username != "one" {
		t.Errorf("Avatar saw %+v", seen)
	}
	if got := h.e.displayInfo(map[string]any{ContextPendingUserIdentifier: "two"}, Request{}); got.PendingUserAvatar != DefaultAvatar {
		t.Errorf("\"\" from Avatar: %q", got.PendingUserAvatar)
	}
}
