package executor

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// The pending user read with the current stage serves the handler's
// first read of that user only: a read of another user, and any read
// after it, read the directory.
func TestPendingUserReadOnce(t *testing.T) {
	h := newHarness(t, "")
	alice := h.userWith("alice", "alice@example.com", nil, true)
	bob := h.userWith("bob", "bob@example.com", nil, true)
	ctx := context.Background()
	stale := alice
	stale.Username = "read-earlier"
	r := &run{e: h.e, pending: &pendingRead{pk: alice.PK, v: stale}}
	s := &Step{ex: h.e, run: r}
	if u, err := s.user(ctx, bob.PK); err != nil || u.Username != "bob" || r.pending == nil {
		t.Fatalf("another user: %+v %v, kept %v", u, err, r.pending != nil)
	}
	if u, err := s.user(ctx, alice.PK); err != nil || u.Username != "read-earlier" || r.pending != nil {
		t.Fatalf("first read: %+v %v, kept %v", u, err, r.pending != nil)
	}
	if u, err := s.user(ctx, alice.PK); err != nil || u.Username != "alice" {
		t.Fatalf("second read: %+v %v", u, err)
	}
	// So do the devices read with the current stage.
	r.devices = &devicesRead{pk: alice.PK, v: []directory.Device{{PK: 7, Class: directory.DeviceTOTP}}}
	if d, err := s.userDevices(ctx, bob.PK); err != nil || len(d) != 0 || r.devices == nil {
		t.Fatalf("another user's devices: %+v %v", d, err)
	}
	if d, err := s.userDevices(ctx, alice.PK); err != nil || len(d) != 1 || r.devices != nil {
		t.Fatalf("first read of the devices: %+v %v", d, err)
	}
	if d, err := s.userDevices(ctx, alice.PK); err != nil || len(d) != 0 {
		t.Fatalf("second read of the devices: %+v %v", d, err)
	}
}

// The pending user's hash read with the current stage serves the
// handler's first check of that user's password only: a check of
// another user, any check after it, and a check whose read failed, read
// the directory.
func TestPasswordHashReadOnce(t *testing.T) {
	h := newHarness(t, "")
	alice := h.userWith("alice", "alice@example.com", ptr("old"), true)
	bob := h.userWith("bob", "bob@example.com", ptr("bobs"), true)
	ctx := context.Background()
	var read store.PasswordHash
	if err := h.s.View(ctx, func(tx *store.Tx) (err error) { read, err = tx.PasswordHash(alice.PK); return err }); err != nil {
		t.Fatal(err)
	}
	if err := h.s.SetPassword(ctx, alice.PK, ptr("new")); err != nil {
		t.Fatal(err)
	}
	r := &run{e: h.e, hash: &hashRead{pk: alice.PK, v: read}}
	s := &Step{ex: h.e, run: r}
	if ok, err := s.checkPassword(ctx, bob.PK, "bobs"); !ok || err != nil || r.hash == nil {
		t.Fatalf("another user: %v %v, kept %v", ok, err, r.hash != nil)
	}
	if ok, err := s.checkPassword(ctx, alice.PK, "old"); !ok || err != nil || r.hash != nil {
		t.Fatalf("first check, of the hash read: %v %v, kept %v", ok, err, r.hash != nil)
	}
	if ok, err := s.checkPassword(ctx, alice.PK, "old"); ok || err != nil {
		t.Fatalf("second check, of the directory: %v %v", ok, err)
	}
	r.hash = &hashRead{pk: alice.PK, err: errors.New("unreadable")}
	if ok, err := s.checkPassword(ctx, alice.PK, "new"); !ok || err != nil || r.hash != nil {
		t.Fatalf("a failed read: %v %v", ok, err)
	}
}

// The response decoded and the user it names, read with the current
// stage, serve the identification stage's first Respond only; a stage
// with a captcha, or a response that does not decode, reads nothing.
func TestIdentificationReadOnce(t *testing.T) {
	h := newHarness(t, "")
	h.userWith("alice", "alice@example.com", nil, true)
	bob := h.userWith("bob", "bob@example.com", nil, true)
	ctx := context.Background()
	cfg := stage.DefaultIdentification()
	cfg.UserFields = []stage.UserField{stage.UserField(directory.FieldUsername)}
	st := stage.Stage{Name: "id", Config: cfg}
	body := json.RawMessage(`{"component":"ak-stage-identification","uid_field":"alice"}`)
	var pre identRead
	var ok bool
	_ = h.s.View(ctx, func(tx *store.Tx) error {
		pre, ok = identificationHandler{}.findsUser(ctx, tx, st, body)
		if _, read := (identificationHandler{}).findsUser(ctx, tx, st, json.RawMessage(`{"component":"ak-stage-identification"}`)); read {
			t.Error("a response that does not decode was read")
		}
		captcha := cfg
		captcha.CaptchaStage = &uuid.UUID{}
		if _, read := (identificationHandler{}).findsUser(ctx, tx, stage.Stage{Config: captcha}, body); read {
			t.Error("a stage with a captcha read the user before its token is verified")
		}
		return nil
	})
	if !ok || pre.err != nil || pre.user.Username != "alice" || pre.resp.UIDField != "alice" {
		t.Fatalf("read %+v, %v", pre, ok)
	}
	// Served as read: bob, though the body names alice.
	pre.user = bob
	r := &run{e: h.e, ident: &pre}
	pending := func() string {
		s := &Step{ex: h.e, run: r, Stage: st, Context: map[string]any{}}
		if _, err := (identificationHandler{}).Respond(ctx, s, body); err != nil {
			t.Fatal(err)
		}
		name, _ := s.pendingUsername()
		return name
	}
	if got := pending(); got != "bob" || r.ident != nil {
		t.Fatalf("first Respond: pending user %q, kept %v", got, r.ident != nil)
	}
	if got := pending(); got != "alice" {
		t.Fatalf("second Respond: pending user %q", got)
	}
}

// A login through the shipped flow reads with the current stage the
// user the identification stage's POST names, the pending user and its
// password hash at the password's POST, the pending user at
// user_login's GET, and the user's devices at the validation stage's
// GET, and only there.
func TestPendingUserPrefetched(t *testing.T) {
	h := newHarness(t, "", withExpression)
	loadDefaults(t, h, false)
	h.userWith("alice", "alice@example.com", ptr("right"), true)
	const slug = "default-authentication-flow"
	var read []string
	var fired []string
	testHookPrefetch = func(what string) { fired = append(fired, what) }
	t.Cleanup(func() { testHookPrefetch = nil })
	ctx := context.Background()
	req := Request{Session: "s"}
	step := func(name string, body string) Response {
		t.Helper()
		var resp Response
		var err error
		if body != "" {
			resp, err = h.e.Submit(ctx, slug, req, json.RawMessage(body))
		} else {
			resp, err = h.e.Get(ctx, slug, req)
		}
		if err != nil {
			t.Fatal(err)
		}
		if fired != nil {
			read = append(read, name+": "+strings.Join(fired, ", "))
		}
		fired = nil
		return resp
	}
	step("identification GET", "")
	step("identification POST", `{"component":"ak-stage-identification","uid_field":"alice"}`)
	step("password GET", "")
	step("password POST", `{"component":"ak-stage-password","password":"right"}`)
	step("mfa GET", "")
	if resp := step("user_login GET", ""); resp.Login == nil {
		t.Fatalf("no login: %+v", resp)
	}
	if want := []string{"identification POST: identified", "password POST: user, hash", "mfa GET: devices", "user_login GET: user"}; !slices.Equal(read, want) {
		t.Errorf("prefetched at %v, want %v", read, want)
	}
}
