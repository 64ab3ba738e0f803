package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
)

// goLoginBodies are goLogin's requests: nil for a Get.
var goLoginBodies = []json.RawMessage{
	nil, json.RawMessage(`{"component":"ak-stage-identification","uid_field":"alice"}`),
	nil, json.RawMessage(`{"component":"ak-stage-password","password":"right"}`),
	nil, nil,
}

// goLogin logs alice (password "right") in to the shipped
// default-authentication-flow through the Go API in session sid: the
// six requests of a login (Get, Submit, Get, Submit, Get, Get). It
// returns the last answer, which reports the login.
func goLogin(t testing.TB, h *harness, sid string) (Response, error) {
	return goLoginEach(h, sid, nil)
}

// goLoginEach is goLogin, calling after (when not nil) once each
// request i has answered.
func goLoginEach(h *harness, sid string, after func(i int)) (Response, error) {
	ctx := context.Background()
	req := Request{Session: sid}
	var resp Response
	for i, body := range goLoginBodies {
		var err error
		if body == nil {
			resp, err = h.e.Get(ctx, "default-authentication-flow", req)
		} else {
			resp, err = h.e.Submit(ctx, "default-authentication-flow", req, body)
		}
		if err != nil {
			return Response{}, err
		}
		if after != nil {
			after(i)
		}
	}
	return resp, nil
}

// loginHarness is the shipped default flows, with alice.
func loginHarness(t testing.TB) (*harness, int64) {
	h := newHarness(t, "", withExpression)
	loadDefaults(t, h, false)
	return h, h.userWith("alice", "alice@example.com", ptr("right"), true).PK
}

// A request's state is reused by the requests that follow (runs): a
// request that follows a login, in another session, reports no login
// and starts its own execution, however often the state is reused.
func TestRunReuseLeaksNothing(t *testing.T) {
	h, _ := loginHarness(t)
	ctx := context.Background()
	for i := range 20 {
		sid := fmt.Sprint("in", i)
		in, err := goLogin(t, h, sid)
		if err != nil || in.Login == nil || in.Login.Previous != sid {
			t.Fatalf("login %d: %+v, %v", i, in, err)
		}
		other, err := h.e.Get(ctx, "default-authentication-flow", Request{Session: fmt.Sprint("other", i)})
		if err != nil {
			t.Fatal(err)
		}
		if other.Login != nil || other.Logout != nil || other.MFA != nil || other.Reload {
			t.Fatalf("after login %d, another session's request answers %+v", i, other)
		}
		c, ok := other.Challenge.(*IdentificationChallenge)
		if !ok || c.ResponseErrors != nil {
			t.Fatalf("after login %d, another session's first challenge is %#v", i, other.Challenge)
		}
	}
}

// Logins run concurrently, each in its own request state (go test
// -race checks that none is shared).
func TestRunConcurrentLogins(t *testing.T) {
	h, pk := loginHarness(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				sid := fmt.Sprint("g", g, "-", i)
				resp, err := goLogin(t, h, sid)
				switch {
				case err != nil:
					errs <- err
					return
				case resp.Login == nil || resp.Login.Previous != sid || resp.Login.User != pk || resp.Login.Username != "alice":
					errs <- fmt.Errorf("login in %s: %+v", sid, resp)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
