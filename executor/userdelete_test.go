package executor

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
)

func userDeleteDoc(slug string, entries ...string) string {
	return strings.TrimPrefix(flowDoc(slug, "", append(entries, stageEntry("authentik_stages_user_delete.userdeletestage", slug, "delete-"+slug, 2, "", ""))...), "version: 1\nentries:\n")
}

// Without a user, the flow is denied ("Unknown error") and authentik's
// message is reported (test_no_user).
func TestUserDeleteNoUser(t *testing.T) {
	h := newHarness(t, "version: 1\nentries:\n"+userDeleteDoc("del"))
	h.get("del", "").want(t, ComponentAccessDenied, "error_message", MsgUnknownError)
	if len(h.events) != 1 || h.events[0].Action != EventMessage || h.events[0].Message != MsgNoPendingUser {
		t.Errorf("events %+v", h.events)
	}
}

// The request's user is deleted and logged out (test_user_delete_get);
// the pending user is deleted and leaves the context
// (test_user_delete_post).
func TestUserDelete(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "version: 1\nentries:\n"+
		strings.TrimPrefix(flowDoc("in", "", policyOn("in", "pending1", true),
			stageEntry("authentik_stages_user_login.userloginstage", "in", "login", 0, "", "")), "version: 1\nentries:\n")+
		userDeleteDoc("del")+
		userDeleteDoc("pend", policyOn("pend", "pending2", true), dummy("pend", "after", 3, "")))
	h.userWith("one", "one@example.com", ptr("pw"), true)
	h.get("in", "").want(t, ComponentRedirect, "to", "/")
	sid := h.sessionID()
	if _, ok, _ := h.e.SessionStore().User(ctx, sid); !ok {
		t.Fatal("not logged in")
	}
	h.events = nil
	h.get("del", "").want(t, ComponentRedirect, "to", "/")
	if _, err := h.s.Directory().User(ctx, 1); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("the user is still there: %v", err)
	}
	if h.sessionID() == sid {
		t.Error("the session id did not change")
	}
	if _, ok, _ := h.e.SessionStore().User(ctx, sid); ok {
		t.Error("the deleted user's session is logged in")
	}
	if len(h.events) != 1 || h.events[0].Action != EventLogout || h.events[0].User != "one" {
		t.Errorf("events %+v", h.events)
	}

	// A pending user: deleted, and removed from the context.
	h2 := newHarness(t, "version: 1\nentries:\n"+userDeleteDoc("pend", policyOn("pend", "pending2", true), dummy("pend", "after", 3, "")))
	h2.userWith("one", "one@example.com", nil, true)
	h2.userWith("two", "two@example.com", nil, true)
	h2.post("pend", "", `{}`)
	h2.get("pend", "").want(t, ComponentDummy, "name", "after")
	if x := h2.execution("pend"); x == nil || x.Context[directory.ContextPendingUser] != nil {
		t.Errorf("pending_user left in the context: %+v", x)
	}
	if _, err := h2.s.Directory().User(ctx, 1); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("the pending user is still there: %v", err)
	}
	if _, err := h2.s.Directory().User(ctx, 2); err != nil {
		t.Errorf("user 2: %v", err)
	}
}
