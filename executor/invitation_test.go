package executor

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

func addInvite(t *testing.T, s *store.Store, inv stage.Invite) stage.Invite {
	t.Helper()
	if inv.Name == "" {
		inv.Name = "invite"
	}
	if inv.FixedData == nil {
		inv.FixedData = map[string]any{}
	}
	var out stage.Invite
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = store.Invites.Create(tx, inv, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func inviteExists(t *testing.T, s *store.Store, pk uuid.UUID) bool {
	t.Helper()
	err := s.View(context.Background(), func(tx *store.Tx) error {
		_, err := store.Invites.Get(tx, store.PK(pk))
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func flowPKOf(t *testing.T, s *store.Store, slug string) uuid.UUID {
	t.Helper()
	var f flow.Flow
	err := s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		f, err = store.Flows.Get(tx, store.By("slug", slug))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f.PK
}

// invitationFlow is flow f: an invitation stage, then a dummy stage
// (where the context can be read).
func invitationFlow(t *testing.T, stageAttrs string) *harness {
	return newHarness(t, flowDoc("f", "",
		stageEntry("authentik_stages_invitation.invitationstage", "f", "invitation", 2, stageAttrs, ""),
		dummy("f", "after", 10, "")))
}

func inviteJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// test_without_invitation_fail.
func TestInvitationWithoutInvitationFails(t *testing.T) {
	h := invitationFlow(t, "")
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgInvalidInvite)
	// A token that is no invitation's, or not a UUID, is none.
	h.get("f", "itoken="+uuid.NewString()).want(t, ComponentAccessDenied, "error_message", MsgInvalidInvite)
	h.get("f", "itoken=not-a-uuid").want(t, ComponentAccessDenied, "error_message", MsgInvalidInvite)
}

// test_without_invitation_continue.
func TestInvitationWithoutInvitationContinues(t *testing.T) {
	h := invitationFlow(t, "continue_flow_without_invitation: true")
	u := h.url("f", "")
	h.get("f", "").wantReload(t, u)
	h.get("f", "").want(t, ComponentDummy, "name", "after")
	if x := h.execution("f"); x.Context[ContextInvitationInEffect] != nil {
		t.Errorf("context %v", x.Context)
	}
}

// test_with_invitation_get: the query's itoken (a UUID's hex, as
// authentik's test gives it) finds the invitation; fixed_data becomes
// the prompt data, and invitation_used is reported.
func TestInvitationFromQuery(t *testing.T) {
	h := invitationFlow(t, "")
	inv := addInvite(t, h.s, stage.Invite{FixedData: map[string]any{"foo": "bar"}})
	q := "itoken=" + strings.ReplaceAll(inv.PK.String(), "-", "")
	h.get("f", q).wantReload(t, h.url("f", q))
	h.get("f", q).want(t, ComponentDummy)
	x := h.execution("f")
	if got := inviteJSON(x.Context[ContextPromptData]); got != `{"foo":"bar"}` {
		t.Errorf("prompt_data %s", got)
	}
	if x.Context[ContextInvitationInEffect] != true {
		t.Errorf("invitation_in_effect %v", x.Context[ContextInvitationInEffect])
	}
	if m, _ := x.Context[ContextInvitation].(map[string]any); m["pk"] != inv.PK.String() || m["name"] != "invite" {
		t.Errorf("invitation %v", x.Context[ContextInvitation])
	}
	if !inviteExists(t, h.s, inv.PK) {
		t.Error("an invitation that is not single_use was deleted")
	}
	var used []Event
	for _, ev := range h.events {
		if ev.Action == EventInvitationUsed {
			used = append(used, ev)
		}
	}
	if len(used) != 1 || used[0].Message != "Invitation invite used" {
		t.Errorf("events %+v", h.events)
	}
}

// token works as itoken does; itoken comes first.
func TestInvitationTokenParameter(t *testing.T) {
	h := invitationFlow(t, "")
	a := addInvite(t, h.s, stage.Invite{FixedData: map[string]any{"which": "a"}})
	b := addInvite(t, h.s, stage.Invite{FixedData: map[string]any{"which": "b"}})
	q := "token=" + b.PK.String()
	h.get("f", q).wantReload(t, h.url("f", q))
	h.get("f", q).want(t, ComponentDummy)
	if got := inviteJSON(h.execution("f").Context[ContextPromptData]); got != `{"which":"b"}` {
		t.Errorf("prompt_data %s", got)
	}
	c := h.newClient()
	q = "token=" + b.PK.String() + "&itoken=" + a.PK.String()
	h.do(c, "GET", h.url("f", q), "").wantReload(t, h.url("f", q))
	h.client = c
	if got := inviteJSON(h.execution("f").Context[ContextPromptData]); got != `{"which":"a"}` {
		t.Errorf("prompt_data %s", got)
	}
}

// test_invalid_flow: an invitation bound to another flow is none.
func TestInvitationOtherFlow(t *testing.T) {
	h := newHarness(t, flowDoc("f", "",
		stageEntry("authentik_stages_invitation.invitationstage", "f", "invitation", 2, "", ""))+
		strings.TrimPrefix(flowDoc("g", ""), "version: 1\nentries:\n"))
	g := flowPKOf(t, h.s, "g")
	inv := addInvite(t, h.s, stage.Invite{FixedData: map[string]any{"foo": "bar"}, Flow: &g})
	h.get("f", "itoken="+inv.PK.String()).want(t, ComponentAccessDenied, "error_message", MsgInvalidInvite)
	f := flowPKOf(t, h.s, "f")
	ok := addInvite(t, h.s, stage.Invite{Flow: &f})
	h.get("f", "itoken="+ok.PK.String()).want(t, ComponentRedirect, "to", "/")
}

// test_with_invitation_prompt_data: the token in prompt_data; fixed_data
// merged over it; a single_use invitation is deleted when used.
func TestInvitationPromptDataSingleUse(t *testing.T) {
	fixed := map[string]any{"foo": "bar", "kept": "fixed", "list": []any{"b"}, "nested": map[string]any{"y": 2.0}}
	h2 := newHarness(t, flowDoc("f", "",
		stageEntry("authentik_stages_dummy.dummystage", "f", "before", 1, "", ""),
		stageEntry("authentik_stages_invitation.invitationstage", "f", "invitation", 2, "", ""),
		dummy("f", "after", 10, "")))
	inv := addInvite(t, h2.s, stage.Invite{SingleUse: true, FixedData: fixed})
	h2.get("f", "").want(t, ComponentDummy, "name", "before")
	// The prompt data a prompt stage left.
	x := h2.execution("f")
	x.Context[ContextPromptData] = map[string]any{"token": inv.PK.String(), "kept": "prompt", "list": []any{"a"}, "nested": map[string]any{"x": 1.0}}
	replaceExecution(t, h2, "f", x)
	h2.post("f", "", `{"component":"ak-stage-dummy"}`)
	h2.get("f", "").wantReload(t, h2.url("f", ""))
	h2.get("f", "").want(t, ComponentDummy, "name", "after")
	got := inviteJSON(h2.execution("f").Context[ContextPromptData])
	want := `{"foo":"bar","kept":"fixed","list":["a","b"],"nested":{"x":1,"y":2},"token":"` + inv.PK.String() + `"}`
	if got != want {
		t.Errorf("prompt_data %s, want %s", got, want)
	}
	if inviteExists(t, h2.s, inv.PK) {
		t.Error("a single_use invitation was kept")
	}
}

// authflow checks an invitation's expiry (authentik leaves an expired one
// to its cleanup task, which deletes it within five minutes).
func TestInvitationExpired(t *testing.T) {
	h := invitationFlow(t, "")
	past := time.Unix(0, h.clock.Load()).Add(-time.Second).UTC().Format(time.RFC3339Nano)
	future := time.Unix(0, h.clock.Load()).Add(time.Hour).UTC().Format(time.RFC3339Nano)
	old := addInvite(t, h.s, stage.Invite{Expires: &past})
	h.get("f", "itoken="+old.PK.String()).want(t, ComponentAccessDenied, "error_message", MsgInvalidInvite)
	live := addInvite(t, h.s, stage.Invite{Expires: &future})
	q := "itoken=" + live.PK.String()
	h.get("f", q).wantReload(t, h.url("f", q))
}

// saveExecution replaces the execution of slug in h.client's session.
func replaceExecution(t *testing.T, h *harness, slug string, x *execution) {
	t.Helper()
	u, _ := url.Parse(h.srv.URL)
	var sid string
	for _, c := range h.client.Jar.Cookies(u) {
		if c.Name == DefaultCookie {
			sid = c.Value
		}
	}
	rec, err := h.rs.Load(context.Background(), Executions, ExecutionKey(sid, slug))
	if err != nil {
		t.Fatal(err)
	}
	data, err := x.encode()
	if err != nil {
		t.Fatal(err)
	}
	rec.Data = data
	if _, err := h.rs.Save(context.Background(), Executions, ExecutionKey(sid, slug), rec); err != nil {
		t.Fatal(err)
	}
}

// An enrollment with an invitation, over HTTP: authentik's example
// enrollment flow with an invitation stage first, whose fixed_data the
// user_write stage writes onto the new user.
func TestEnrollmentWithInvitation(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "blueprint", "testdata", "authentik", "example", "flows-enrollment-2-stage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, string(doc))
	const slug = "default-enrollment-flow"
	extra := "version: 1\nentries:\n" +
		"- model: authentik_flows.flow\n  id: flow\n  identifiers: {slug: " + slug + "}\n" +
		strings.TrimPrefix(stageEntry("authentik_stages_invitation.invitationstage", "flow", "enrollment-invitation", 1, "", ""), "")
	if _, err := blueprint.Load(context.Background(), h.s, strings.NewReader(extra), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	f := flowPKOf(t, h.s, slug)
	inv := addInvite(t, h.s, stage.Invite{SingleUse: true, Flow: &f, FixedData: map[string]any{"attributes": map[string]any{"invited": true}}})

	// Without the invitation: denied.
	h.get(slug, "").want(t, ComponentAccessDenied, "error_message", MsgInvalidInvite)

	q := "itoken=" + inv.PK.String()
	u := h.url(slug, q)
	h.get(slug, q).wantReload(t, u)
	h.get(slug, q).want(t, ComponentPrompt)
	if inviteExists(t, h.s, inv.PK) {
		t.Error("the single_use invitation was kept")
	}
	post := func(body string) reply { return h.do(h.client, "POST", u, body) }
	post(`{"component":"ak-stage-prompt","username":"invited","password":"pw one","password_repeat":"pw one"}`).wantReload(t, u)
	h.get(slug, q).want(t, ComponentPrompt)
	post(`{"component":"ak-stage-prompt","name":"In Vited","email":"invited@example.com"}`).wantReload(t, u)
	h.get(slug, q).wantReload(t, u) // user_write
	nu, ok := userNamed(t, h.s, "invited")
	if !ok {
		t.Fatal("the user was not written")
	}
	if nu.Attributes["invited"] != true || nu.Email != "invited@example.com" {
		t.Errorf("user %+v", nu)
	}
	// The same link again: the invitation is gone.
	c := h.newClient()
	h.do(c, "GET", u, "").want(t, ComponentAccessDenied, "error_message", MsgInvalidInvite)
}
