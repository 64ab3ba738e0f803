package executor

import (
	"context"
	"errors"
	"testing"
)

// HTTPSessions reads a session's user as the steps do, decoded once at
// the store's revision (Executor.sessionUser): fewer allocations than
// SessionStore.User's read of the directory, which decodes it each
// time; and a user made inactive since is seen at once, its session
// ended.
func TestSessionUserDecodedOnce(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "")
	u := h.userWith("one", "one@example.com", nil, true)
	ss := h.e.SessionStore()
	if err := ss.Start(ctx, Login{User: u.PK, Session: "a"}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := h.e.sessionUser(ctx, "a")
	if !ok || err != nil || got.PK != u.PK || got.Username != "one" {
		t.Fatalf("%v %v %v", got, ok, err)
	}
	dir := testing.AllocsPerRun(50, func() { _, _, _ = ss.User(ctx, "a") })
	decoded := testing.AllocsPerRun(50, func() { _, _, _ = h.e.sessionUser(ctx, "a") })
	if decoded >= dir {
		t.Errorf("%v allocations a session's user, the directory's read %v", decoded, dir)
	}
	u.IsActive = false
	if _, err := h.s.Directory().UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := h.e.sessionUser(ctx, "a"); ok || err != nil {
		t.Errorf("the session of an inactive user: %v %v", ok, err)
	}
	if _, err := ss.rs.Load(ctx, Sessions, sessionKey("a")); !errors.Is(err, ErrNotFound) {
		t.Errorf("the session was kept: %v", err)
	}
}
