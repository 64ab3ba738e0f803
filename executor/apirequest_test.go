package executor

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"

	"github.com/authflow/authflow/stage"
)

// The Go API's request of an empty query is made once per flow and
// method and shared by the requests after it: a login through the Go
// API (expression policies reading the request) leaves each shared one
// as goAPIRequest makes it, with the brand; one of a query is the
// request's own; the shared ones are bounded.
func TestAPIRequestShared(t *testing.T) {
	brand := Brand{Attributes: map[string]any{"settings": map[string]any{"theme": "dark"}}}
	h := newHarness(t, "", withExpression, func(o *Options) { o.Brand = brand })
	loadDefaults(t, h, false)
	h.userWith("alice", "alice@example.com", ptr("right"), true)
	ctx := context.Background()
	const slug = "default-authentication-flow"
	uid, _ := json.Marshal(map[string]any{"component": ComponentIdentification, "uid_field": "alice"})
	pw, _ := json.Marshal(map[string]any{"component": ComponentPassword, "password": "right"})
	for i := range 2 {
		req := Request{Session: "s" + strconv.Itoa(i)}
		mustResp(t)(h.e.Get(ctx, slug, req))
		mustResp(t)(h.e.Submit(ctx, slug, req, uid))
		mustResp(t)(h.e.Get(ctx, slug, req))
		mustResp(t)(h.e.Submit(ctx, slug, req, pw))
		var resp Response
		for range 5 {
			if resp = mustResp(t)(h.e.Get(ctx, slug, req)); !resp.Reload {
				break
			}
		}
		if resp.Login == nil {
			t.Fatalf("no login: %+v", resp)
		}
	}
	if len(h.e.apiReqs.m) != 2 {
		t.Fatalf("%d shared requests, want 2 (GET and POST)", len(h.e.apiReqs.m))
	}
	for k, got := range h.e.apiReqs.m {
		want := goAPIRequest(k.slug, "", k.post)
		want.BrandAttributes = brand.Attributes
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: shared request %+v, want %+v", k, got, want)
		}
		if shared, keep := h.e.apiRequest(k.slug, "", k.post); shared != got || keep {
			t.Errorf("%v: not shared", k)
		}
	}
	a, keep := h.e.apiRequest(slug, "next=%2F", false)
	if b, _ := h.e.apiRequest(slug, "next=%2F", false); a == b || keep {
		t.Error("a request of a query is shared")
	}
	for i := range maxAPIRequests + 10 {
		f := "f" + strconv.Itoa(i)
		r, _ := h.e.apiRequest(f, "", false)
		h.e.keepAPIRequest(f, false, r)
	}
	if n := len(h.e.apiReqs.m); n != maxAPIRequests {
		t.Errorf("%d shared requests, want at most %d", n, maxAPIRequests)
	}
}

func mustResp(t *testing.T) func(Response, error) Response {
	return func(r Response, err error) Response {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// hostHandler is a host's dummy handler that changes the HTTP request
// and the parsed query it is given, as a host's handler may, and records
// what it saw first.
type hostHandler struct {
	dummyHandler
	seen *[]string
}

func (h hostHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	r := s.Request.HTTP
	*h.seen = append(*h.seen, r.Path+"|"+r.Header.Get("X-Host")+"|"+r.Query.Encode()+"|"+s.Query.Encode())
	s.Query.Set("host", "changed")
	r.Header.Set("X-Host", "changed")
	r.Query.Add("host", "changed")
	r.Path = "/changed/"
	return h.dummyHandler.Challenge(ctx, s)
}

// A host's handler that changes the Go API's request it is given (shared
// by the requests of a flow) changes its own copy: the next request, of
// another session, sees the request as goAPIRequest makes it. So does
// one that changes the parsed query, of an empty query too.
func TestAPIRequestHostHandler(t *testing.T) {
	var seen []string
	h := newHarness(t, twoDummies, func(o *Options) {
		o.Handlers = Builtin()
		o.Handlers[stage.ModelDummy] = hostHandler{seen: &seen}
	})
	ctx := context.Background()
	for i := range 3 {
		mustResp(t)(h.e.Get(ctx, "f", Request{Session: "s" + strconv.Itoa(i)}))
	}
	want := "/api/v3/flows/executor/f/||query=|"
	for i, s := range seen {
		if s != want {
			t.Errorf("request %d: the handler saw %q, want %q", i, s, want)
		}
	}
	if len(seen) != 3 {
		t.Fatalf("%d challenges", len(seen))
	}
	if got, _ := h.e.apiRequest("f", "", false); !reflect.DeepEqual(got, h.e.withBrand(goAPIRequest("f", "", false))) {
		t.Errorf("shared request %+v", got)
	}
}

// The Go API's request is kept for a flow that exists only: requests of
// unknown slugs leave no room taken, and a flow's after them is shared.
func TestAPIRequestUnknownFlow(t *testing.T) {
	h := newHarness(t, twoDummies)
	ctx := context.Background()
	for i := range maxAPIRequests + 1 {
		if _, err := h.e.Get(ctx, "nope"+strconv.Itoa(i), Request{Session: "s"}); !errors.Is(err, ErrUnknownFlow) {
			t.Fatalf("unknown flow: %v", err)
		}
	}
	if n := len(h.e.apiReqs.m); n != 0 {
		t.Errorf("%d requests kept for unknown flows", n)
	}
	mustResp(t)(h.e.Get(ctx, "f", Request{Session: "s"}))
	if h.e.apiReqs.m[apiRequestKey{"f", false}] == nil {
		t.Error("the flow's request is not kept")
	}
}
