package executor

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
)

// A session that ended on its own (logged out, expired) is dropped from
// its user's list before a live one ends to keep the list within
// MaxUserSessions.
func TestSessionStoreBoundEndedFirst(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "")
	u := h.userWith("one", "one@example.com", nil, true)
	ss := h.e.SessionStore()
	start := func(id string, exp time.Time) {
		t.Helper()
		if err := ss.Start(ctx, Login{User: u.PK, Session: id, Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	start("short", h.e.now().Add(time.Minute))
	for i := range MaxUserSessions - 1 {
		start("s"+strconv.Itoa(i), time.Time{})
	}
	if err := ss.End(ctx, "s5"); err != nil {
		t.Fatal(err)
	}
	h.advance(2 * time.Minute) // "short" expires
	start("new1", time.Time{})
	start("new2", time.Time{})
	for i := range MaxUserSessions - 1 {
		if _, ok, _ := ss.User(ctx, "s"+strconv.Itoa(i)); ok != (i != 5) {
			t.Errorf("session s%d logged in: %v", i, ok)
		}
	}
	ids, _ := ss.List(ctx, u.PK)
	if len(ids) != MaxUserSessions || ids[len(ids)-1] != sessionHash("new2") {
		t.Errorf("%d sessions listed", len(ids))
	}
	// One more ends the oldest live session.
	start("new3", time.Time{})
	if _, ok, _ := ss.User(ctx, "s0"); ok {
		t.Error("the oldest session is still logged in")
	}
	if _, ok, _ := ss.User(ctx, "s1"); !ok {
		t.Error("the second oldest session ended")
	}
}

// A user's list of sessions kept as JSON, as it first was, is read.
func TestSessionListJSON(t *testing.T) {
	ctx := context.Background()
	h, u, ss := sessionOfOne(t)
	old, _ := json.Marshal([]string{sessionHash("a")})
	rec, err := h.rs.Load(ctx, Sessions, userKey(u.PK))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.rs.Save(ctx, Sessions, userKey(u.PK), Record{Data: old, Expires: rec.Expires, Version: rec.Version}); err != nil {
		t.Fatal(err)
	}
	if err := ss.Start(ctx, Login{User: u.PK, Session: "b"}); err != nil {
		t.Fatal(err)
	}
	if ids, err := ss.List(ctx, u.PK); err != nil || len(ids) != 2 || ids[0] != sessionHash("a") || ids[1] != sessionHash("b") {
		t.Errorf("%v %v", ids, err)
	}
	if err := ss.Start(ctx, Login{User: u.PK, Session: "c", TerminateOthers: true}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if _, ok, _ := ss.User(ctx, id); ok {
			t.Errorf("session %s still logged in", id)
		}
	}
}

// SessionStore.User reads a session's user as the steps do, decoded
// once at the store's revision: fewer allocations than a read through
// the store's directory, which decodes it each time; and a user made
// inactive since is seen at once, its session ended.
func TestSessionUserDecodedOnce(t *testing.T) {
	ctx := context.Background()
	h, u, ss := sessionOfOne(t)
	got, ok, err := ss.User(ctx, "a")
	if !ok || err != nil || got.PK != u.PK || got.Username != "one" {
		t.Fatalf("%v %v %v", got, ok, err)
	}
	byDir := &SessionStore{rs: ss.rs, user: h.s.Directory().User, now: ss.now}
	dir := testing.AllocsPerRun(50, func() { _, _, _ = byDir.User(ctx, "a") })
	decoded := testing.AllocsPerRun(50, func() { _, _, _ = ss.User(ctx, "a") })
	if decoded >= dir {
		t.Errorf("%v allocations a session's user, the directory's read %v", decoded, dir)
	}
	u.IsActive = false
	if _, err := h.s.Directory().UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ss.User(ctx, "a"); ok || err != nil {
		t.Errorf("the session of an inactive user: %v %v", ok, err)
	}
	if _, err := ss.rs.Load(ctx, Sessions, sessionKey("a")); !errors.Is(err, ErrNotFound) {
		t.Errorf("the session was kept: %v", err)
	}
}

// sessionOfOne is a harness with a user "one" logged in as session "a"
// of its SessionStore.
func sessionOfOne(t *testing.T) (*harness, directory.User, *SessionStore) {
	t.Helper()
	h := newHarness(t, "")
	u := h.userWith("one", "one@example.com", nil, true)
	ss := h.e.SessionStore()
	if err := ss.Start(context.Background(), Login{User: u.PK, Session: "a"}); err != nil {
		t.Fatal(err)
	}
	return h, u, ss
}
