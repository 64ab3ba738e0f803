package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
)

// Cancel drops every execution of the session, of every flow, and only
// the session's; the cancel endpoint does so for the cookie's session and
// redirects to the invalidation flow, as authentik's.
func TestCancel(t *testing.T) {
	doc := flowDoc("a", "", dummy("a", "a1", 0, "")) +
		strings.TrimPrefix(flowDoc("b", "", dummy("b", "b1", 0, "")), "version: 1\nentries:\n")
	h := newHarness(t, doc)
	ctx := context.Background()
	for _, sess := range []string{"s1", "s2"} {
		for _, slug := range []string{"a", "b"} {
			if _, err := h.e.Get(ctx, slug, Request{Session: sess}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := h.e.Cancel(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sess, slug string
		want       error
	}{{"s1", "a", ErrNotFound}, {"s1", "b", ErrNotFound}, {"s2", "a", nil}, {"s2", "b", nil}} {
		if _, err := h.rs.Load(ctx, Executions, ExecutionKey(c.sess, c.slug)); !errors.Is(err, c.want) {
			t.Errorf("%s %s after cancelling s1: %v, want %v", c.sess, c.slug, err, c.want)
		}
	}
	if err := h.e.Cancel(ctx, ""); !errors.Is(err, ErrNoSession) {
		t.Errorf("cancel without a session: %v", err)
	}

	mux := http.NewServeMux()
	mux.Handle(ExecutorPath, h.e.HTTPHandler(HTTPOptions{}))
	mux.Handle(CancelURL, h.e.CancelHandler(HTTPOptions{}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := h.newClient()
	h.do(c, "GET", srv.URL+ExecutorPath+"a/", "").want(t, ComponentDummy, "name", "a1")
	r := h.do(c, "GET", srv.URL+CancelURL, "")
	if r.status != http.StatusFound || r.location != InvalidationURL {
		t.Fatalf("cancel: %d %q", r.status, r.location)
	}
	if r := h.do(c, "POST", srv.URL+CancelURL, ""); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST cancel: %d", r.status)
	}
	// The execution is gone: a POST plans the flow anew and submits
	// nothing (it answers the first challenge, not a reload).
	h.do(c, "POST", srv.URL+ExecutorPath+"a/", `{"component":"ak-stage-dummy"}`).want(t, ComponentDummy, "name", "a1")
	// Without a session, cancel changes nothing and still redirects.
	if r := h.do(h.newClient(), "GET", srv.URL+CancelURL, ""); r.status != http.StatusFound {
		t.Errorf("cancel without a session: %d", r.status)
	}
}

// Execute replaces the session's execution by a new plan, with the
// request's user as pending_user when the directory holds it; a denied
// plan is a *NotApplicableError with the policies' messages.
func TestExecute(t *testing.T) {
	doc := flowDoc("f", "", dummy("f", "one", 0, ""), dummy("f", "two", 1, "")) +
		strings.TrimPrefix(flowDoc("closed", "", policyOn("closed", "no", false)), "version: 1\nentries:\n")
	h := newHarness(t, doc)
	ctx := context.Background()
	req := Request{Session: "s"}
	if _, err := h.e.Get(ctx, "f", req); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.Submit(ctx, "f", req, []byte(`{"component":"ak-stage-dummy"}`)); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Execute(ctx, "f", req); err != nil {
		t.Fatal(err)
	}
	resp, err := h.e.Get(ctx, "f", req)
	if err != nil || resp.Challenge.(*DummyChallenge).Name != "one" {
		t.Fatalf("after execute: %+v %v", resp, err)
	}
	ins, err := h.e.Inspect(ctx, "f", "s")
	if err != nil || len(ins.Plans) != 0 {
		t.Errorf("execute clears the history: %+v %v", ins, err)
	}
	// Running: the execution is under way until it is cancelled (or
	// ends, or expires); another session, or none, has none.
	for _, c := range []struct {
		slug, sess string
		want       bool
	}{{"f", "s", true}, {"f", "other", false}, {"f", "", false}, {"closed", "s", false}} {
		if got, err := h.e.Running(ctx, c.slug, c.sess); err != nil || got != c.want {
			t.Errorf("running %s %q: %v %v, want %v", c.slug, c.sess, got, err, c.want)
		}
	}
	// Designation: the flow's, and ErrUnknownFlow for no flow.
	if d, err := h.e.Designation(ctx, "f"); err != nil || d != flow.DesignationAuthentication {
		t.Errorf("designation of f: %q %v", d, err)
	}
	if _, err := h.e.Designation(ctx, "nope"); !errors.Is(err, ErrUnknownFlow) {
		t.Errorf("designation of no flow: %v", err)
	}
	if err := h.e.Cancel(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if got, err := h.e.Running(ctx, "f", "s"); err != nil || got {
		t.Errorf("running after a cancel: %v %v", got, err)
	}
	var na *NotApplicableError
	if err := h.e.Execute(ctx, "closed", req); !errors.As(err, &na) || na.Messages != "dummy" ||
		err.Error() != "Flow not applicable to current user/request: dummy" {
		t.Errorf("execute of a denied flow: %v", err)
	}
	if err := h.e.Execute(ctx, "nope", req); !errors.Is(err, ErrUnknownFlow) {
		t.Errorf("execute of an unknown flow: %v", err)
	}
	// The request's user is the pending_user; an anonymous request has
	// none.
	var alice directory.User
	err = h.s.Update(ctx, func(tx *store.Tx) error {
		var err error
		alice, err = store.Users.CreateJSON(tx, []byte(`{"username":"alice","name":"Alice","email":"a@example.com"}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pk   int64
		want string
	}{{alice.PK, `{"email":"a@example.com","pk":` + fmt.Sprint(alice.PK) + `,"username":"alice"}`}, {0, ""}} {
		if err := h.e.Execute(ctx, "f", Request{Session: "s", User: plan.User{PK: c.pk, Authenticated: c.pk != 0}}); err != nil {
			t.Fatal(err)
		}
		ins, err := h.e.Inspect(ctx, "f", "s")
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if u, ok := ins.CurrentPlan.PlanContext["pending_user"]; ok {
			got = mustString(t, u)
		}
		if got != c.want {
			t.Errorf("pending_user of user %d: %s, want %s", c.pk, got, c.want)
		}
	}
}

func mustString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The inspector's context: a user as {username, pk, email}, the HTTP
// request dropped, and prompt_data's passwords never shown.
func TestSanitizeContext(t *testing.T) {
	got := sanitizeContext(map[string]any{
		"pending_user": map[string]any{"pk": 3.0, "username": "u", "email": "e@x", "name": "U", "attributes": map[string]any{}},
		"prompt_data":  map[string]any{"email": "e@x", "password": "hunter2", "Password_Repeat": "hunter2"},
		"http_request": map[string]any{"path": "/"},
		"redirect":     "/next",
	})
	if s := mustString(t, got); strings.Contains(s, "hunter2") || strings.Contains(s, "http_request") ||
		!strings.Contains(s, `"pending_user":{"email":"e@x","pk":3,"username":"u"}`) || !strings.Contains(s, `"redirect":"/next"`) ||
		!strings.Contains(s, `"password":"********"`) {
		t.Errorf("sanitized: %s", s)
	}
}

// The history keeps the newest HistoryPlans plans per key, and
// HistoryKeys keys, dropping the least recently written.
func TestHistoryBounds(t *testing.T) {
	h := newHistory()
	x := &execution{Context: map[string]any{}}
	for range HistoryPlans + 5 {
		h.add("k", x, []byte("{}"))
	}
	if n := len(h.get("k")); n != HistoryPlans {
		t.Errorf("%d plans kept, want %d", n, HistoryPlans)
	}
	key := func(i int) string { return string(rune('a'+i%26)) + strings.Repeat("x", i/26+1) }
	for i := range HistoryKeys {
		h.add(key(i), x, []byte("{}"))
	}
	if h.get("k") != nil || h.lru.Len() != HistoryKeys || len(h.m) != HistoryKeys {
		t.Errorf("oldest key kept, or %d keys", h.lru.Len())
	}
	// Full, a new key takes the dropped one's entry, list element and
	// plans: it allocates nothing, and its history is its own.
	newest := h.get(key(HistoryKeys - 1))
	newKeys := make([]string, 11)
	for i := range newKeys {
		newKeys[i] = "n" + strconv.Itoa(i)
	}
	x = &execution{Query: "q"}
	ctxJSON := []byte("{}")
	i := 0
	if n := testing.AllocsPerRun(10, func() {
		h.add(newKeys[i], x, ctxJSON)
		i++
	}); n != 0 {
		t.Errorf("a new key of a full history: %v allocations", n)
	}
	if h.get(key(10)) != nil || h.get(key(11)) == nil || len(h.m) != HistoryKeys || !reflect.DeepEqual(h.get(key(HistoryKeys-1)), newest) {
		t.Error("the oldest keys are kept, or another's history changed")
	}
	if got := h.get(newKeys[3]); len(got) != 1 || got[0].query != "q" {
		t.Errorf("a new key's history: %+v", got)
	}
}

// ExecuteHandler with the handler's own cookie plans for the user the
// session is logged in as, as the executor endpoint does: a flow that
// requires authentication applies, with that user as pending_user.
func TestExecuteHandlerSessionUser(t *testing.T) {
	h := newHarness(t, flowDoc("f", ", authentication: require_authenticated", dummy("f", "one", 0, "")))
	ctx := context.Background()
	var alice directory.User
	err := h.s.Update(ctx, func(tx *store.Tx) error {
		var err error
		alice, err = store.Users.CreateJSON(tx, []byte(`{"username":"alice","name":"Alice","email":"a@example.com"}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sid := newSessionID()
	if err := h.e.sessions.Start(ctx, Login{User: alice.PK, Username: "alice", Session: sid}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.e.ExecuteHandler(HTTPOptions{}, "f"))
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		cookie string
		status int
	}{{sid, http.StatusOK}, {"", http.StatusBadRequest}} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if c.cookie != "" {
			req.AddCookie(&http.Cookie{Name: DefaultCookie, Value: c.cookie})
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.status {
			t.Errorf("execute with cookie %q: %d, want %d", c.cookie, res.StatusCode, c.status)
		}
	}
	ins, err := h.e.Inspect(ctx, "f", sid)
	if err != nil {
		t.Fatal(err)
	}
	if u := mustString(t, ins.CurrentPlan.PlanContext["pending_user"]); !strings.Contains(u, `"username":"alice"`) {
		t.Errorf("pending_user: %s", u)
	}
}
