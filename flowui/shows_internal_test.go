package flowui

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/authflow/authflow/executor"
)

// showsVisitor finds a pending user or visitor in a challenge's JSON as
// json.Marshal writes them (HTML and control characters escaped, bytes
// that are not UTF-8 as \ufffd), and, for names of a usual length,
// without allocating: it runs at every page kept's showing.
func TestShowsVisitor(t *testing.T) {
	for _, name := range []string{"alice", `a<b>&"c\`, "tab\there", "line\u2028sep", "bad\xffbyte", "é", strings.Repeat("long", 60)} {
		ch := &executor.DummyChallenge{Envelope: executor.Envelope{Component: executor.ComponentDummy, FlowInfo: &executor.FlowInfo{Title: "Hi " + name + "!"}}}
		b, err := json.Marshal(ch)
		if err != nil {
			t.Fatal(err)
		}
		user := &executor.UserInfo{PendingUser: name}
		if !showsVisitor(b, user, "", nil) || !showsVisitor(b, nil, name, nil) {
			t.Errorf("%q is not found in %s", name, b)
		}
		if showsVisitor(b, &executor.UserInfo{PendingUser: name + "x"}, "", nil) {
			t.Errorf("%q is found in %s", name+"x", b)
		}
	}
	b := []byte(`{"component":"ak-stage-dummy","pending_user":"ZQmarker"}`)
	user := &executor.UserInfo{PendingUser: "alice@example.org"}
	if n := testing.AllocsPerRun(50, func() { showsVisitor(b, user, "bob", nil) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// A TOTP setup page's key holds its shape's JSON byte for byte as
// json.Marshal writes linkless's copy (HTML and control characters
// escaped, bytes that are not UTF-8 as \ufffd, no flow info omitted),
// written without the copy: so two challenges share a key only when
// their kept pages are the same. One with response errors is left to
// json.Marshal.
func TestAppendTOTPShape(t *testing.T) {
	texts := []string{"", "alice", `a<b>&"c\`, "tab\there", "line\u2028sep", "bad\xffbyte", "é", strings.Repeat("long", 60)}
	for _, s := range texts {
		for _, info := range []*executor.FlowInfo{nil, {Title: s, Background: "/bg" + s, CancelURL: s, Layout: "stacked" + s}} {
			c := &executor.AuthenticatorTOTPChallenge{Envelope: executor.Envelope{Component: executor.ComponentAuthenticatorTOTP + s, FlowInfo: info},
				UserInfo: executor.UserInfo{PendingUser: "bob", PendingUserAvatar: "b"}, ConfigURL: "otpauth://totp/x?secret=" + s}
			user := executor.UserInfo{PendingUser: s, PendingUserAvatar: "/a" + s}
			want, err := json.Marshal(linkless(c, user))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := appendTOTPShape([]byte("k"), c, user)
			if !ok || string(got) != "k"+string(want) {
				t.Errorf("%q: %v %s, want %s", s, ok, got, want)
			}
		}
	}
	c := &executor.AuthenticatorTOTPChallenge{Envelope: executor.Envelope{Component: executor.ComponentAuthenticatorTOTP,
		ResponseErrors: map[string][]executor.ErrorDetail{"code": {{String: "Code does not match", Code: "invalid"}}}}}
	if got, ok := appendTOTPShape([]byte("k"), c, executor.UserInfo{}); ok || string(got) != "k" {
		t.Errorf("with response errors: %v %s", ok, got)
	}
}
