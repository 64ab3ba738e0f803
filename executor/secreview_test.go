package executor

import (
	"context"
	"strings"

	"testing"

	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

// An email link opened in two browsers before either confirms is used
// once: the second confirmation finds the link used, and its flow does
// not go on (it would set a second password through one link).
func TestEmailLinkConfirmedOnce(t *testing.T) {
	m := &testMailer{}
	h := emailFlow(t, "authentication", "", withMailer(m))
	h.userWith("mail", "mail@example.com", nil, true)
	h.get("f", "")
	h.identifyEmail("", "mail").want(t, ComponentEmail)
	_, key := mailLink(t, m.last(t))
	q := "flow_token=" + key
	a, b := h.newClient(), h.newClient()
	ra := h.do(a, "GET", h.url("f", q), "")
	ra.want(t, ComponentConsent)
	rb := h.do(b, "GET", h.url("f", q), "")
	rb.want(t, ComponentConsent)
	ta, _ := ra.body["token"].(string)
	tb, _ := rb.body["token"].(string)
	h.do(a, "POST", h.url("f", q), `{"component":"ak-stage-consent","token":"`+ta+`"}`).wantReload(t, h.url("f", q))
	h.do(b, "POST", h.url("f", q), `{"component":"ak-stage-consent","token":"`+tb+`"}`).want(t, ComponentAccessDenied, "error_message", MsgLinkUsed)
	h.do(a, "GET", h.url("f", q), "").wantReload(t, h.url("f", q))
	h.do(a, "GET", h.url("f", q), "").want(t, ComponentDummy, "name", "after")
}

// A single-use invitation used by two racing requests is used once: the
// request whose delete finds it gone (another request won) has none.
func TestInvitationSingleUseRace(t *testing.T) {
	h := invitationFlow(t, "")
	inv := addInvite(t, h.s, stage.Invite{SingleUse: true})
	testHookInviteFound = func() {
		// The racing request deletes it first.
		if err := h.s.Update(context.Background(), func(tx *store.Tx) error {
			return store.Invites.Delete(tx, store.PK(inv.PK), nil)
		}); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { testHookInviteFound = nil })
	h.get("f", "itoken="+inv.PK.String()).want(t, ComponentAccessDenied, "error_message", MsgInvalidInvite)
}

// The inspector shows neither the consent token nor an invitation's pk,
// in the invitation or as prompt_data's token.
func TestSanitizeContextTokens(t *testing.T) {
	got := mustString(t, sanitizeContext(map[string]any{
		ContextConsentToken: "consent-secret",
		ContextInvitation:   map[string]any{"pk": "invite-secret", "name": "inv"},
		"prompt_data":       map[string]any{"token": "invite-secret", "username": "u"},
	}))
	if strings.Contains(got, "secret") || !strings.Contains(got, `"name":"inv"`) || !strings.Contains(got, `"username":"u"`) {
		t.Errorf("sanitized: %s", got)
	}
}
