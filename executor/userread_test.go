package executor

import (
	"context"
	"encoding/json"
	"testing"
)

// identPasswordLogin is flow f: identification, password, user_login.
var identPasswordLogin = identFlow("authentication", "",
	"- model: authentik_flows.flowstagebinding\n  identifiers: {target: !KeyOf f, stage: !KeyOf pw, order: 1}\n",
	stageEntry("authentik_stages_user_login.userloginstage", "f", "login", 2, "", ""))

// The password and user_login stages read the pending user as the
// directory holds it when they run: renamed after a first password
// attempt, it is not found by its former username; made inactive after the password
// stage, it is not logged in.
func TestPendingUserReadFresh(t *testing.T) {
	ctx := context.Background()
	for _, change := range []string{"rename", "deactivate"} {
		t.Run(change, func(t *testing.T) {
			h := newHarness(t, identPasswordLogin)
			u := h.userWith("one", "one@example.com", ptr("pw"), true)
			req := Request{Session: "s"}
			step := func(post bool, body map[string]any) Response {
				t.Helper()
				var resp Response
				var err error
				for range 5 {
					if post {
						b, _ := json.Marshal(body)
						resp, err = h.e.Submit(ctx, "f", req, b)
						post = false
					} else {
						resp, err = h.e.Get(ctx, "f", req)
					}
					if err != nil {
						t.Fatal(err)
					}
					if !resp.Reload {
						return resp
					}
				}
				t.Fatal("reloads without end")
				return resp
			}
			step(false, nil)
			if c, ok := step(true, map[string]any{"uid_field": "one@example.com"}).Challenge.(*PasswordChallenge); !ok {
				t.Fatalf("%#v", c)
			}
			if change == "rename" {
				// A wrong password first: the user is read before it is
				// renamed.
				if c, ok := step(true, map[string]any{"password": "wrong"}).Challenge.(*PasswordChallenge); !ok || len(c.ResponseErrors["password"]) != 1 {
					t.Fatalf("%#v", c)
				}
				cur, _ := h.s.Directory().User(ctx, u.PK)
				cur.Username = "uno"
				if _, err := h.s.Directory().UpdateUser(ctx, cur); err != nil {
					t.Fatal(err)
				}
				c, ok := step(true, map[string]any{"password": "pw"}).Challenge.(*PasswordChallenge)
				if !ok || len(c.ResponseErrors["password"]) != 1 {
					t.Fatalf("the renamed user was found by its former username: %#v", c)
				}
				return
			}
			// Deactivated between the password stage and user_login
			// (the login passes the pending user's read before and after).
			resp, err := h.e.Submit(ctx, "f", req, json.RawMessage(`{"component":"ak-stage-password","password":"pw"}`))
			if err != nil || !resp.Reload {
				t.Fatal(resp, err)
			}
			cur, _ := h.s.Directory().User(ctx, u.PK)
			cur.IsActive = false
			if _, err := h.s.Directory().UpdateUser(ctx, cur); err != nil {
				t.Fatal(err)
			}
			resp = step(false, nil)
			if _, ok := resp.Challenge.(*AccessDenied); !ok || resp.Login != nil {
				t.Fatalf("an inactive user logged in: %#v", resp)
			}
		})
	}
}
