package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/getkin/kin-openapi/openapi3"
)

// flowsSchemas are the schemas of authentik's 2025.6 document the api
// package's schema tests use, with every object schema closed to
// undeclared keys, as authentik's Go client decodes them.
var flowsSchemas = sync.OnceValues(func() (openapi3.Schemas, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join("..", "api", "testdata", "openapi-2025.6-flows-stages.yml"))
	if err != nil {
		return nil, err
	}
	no := false
	for _, ref := range doc.Components.Schemas {
		s := ref.Value
		if s != nil && s.Type.Is("object") && len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			s.AdditionalProperties.Has = &no
		}
	}
	return doc.Components.Schemas, nil
})

// checkChallenge validates a challenge's JSON against ChallengeTypes.
func checkChallenge(t testing.TB, body []byte) {
	t.Helper()
	checkSchema(t, "ChallengeTypes", body)
}

// checkSchema validates JSON against the named schema of flowsSchemas.
func checkSchema(t testing.TB, name string, body []byte) {
	t.Helper()
	schemas, err := flowsSchemas()
	if err != nil {
		t.Fatal(err)
	}
	sc := schemas[name].Value
	if sc == nil {
		t.Fatalf("no schema %s", name)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	if err := sc.VisitJSON(v); err != nil {
		t.Errorf("does not match %s: %v\n%s", name, err, body)
	}
}

// harness is a store loaded from a blueprint, an executor on it, and an
// HTTP server with a cookie-jar client that does not follow redirects.
type harness struct {
	t      testing.TB
	s      *store.Store
	e      *Executor
	srv    *httptest.Server
	client *http.Client
	rs     *MemRunState

	// toggle is the result of dummy policies named "toggle*".
	toggle atomic.Bool
	clock  atomic.Int64 // unix nanoseconds
	// slept counts the identification stage's waits.
	slept atomic.Int64

	mu      sync.Mutex
	events  []Event
	applied []plan.Update
}

type harnessOpt func(*Options)

// testPasswords hashes quickly, for tests.
var testPasswords = password.Policy{Iterations: 1000}

func newHarness(t testing.TB, doc string, opts ...harnessOpt) *harness {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "x.db"), &store.Options{NoSync: true, Passwords: testPasswords})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if doc != "" {
		if _, err := blueprint.Load(context.Background(), s, strings.NewReader(doc), blueprint.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	h := &harness{t: t, s: s}
	h.toggle.Store(true)
	h.clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, h.clock.Load()) }
	h.rs = NewMemRunState(MemOptions{Now: now})
	evs := plan.Builtin(now)
	evs[policy.ModelDummy] = plan.EvaluatorFunc(h.dummyPolicy)
	o := Options{
		Plan: plan.Options{Evaluators: evs, Now: now}, RunState: h.rs, Now: now, Passwords: testPasswords,
		Sleep:  func(context.Context, time.Duration) { h.slept.Add(1) },
		Events: func(ev Event) { h.mu.Lock(); h.events = append(h.events, ev); h.mu.Unlock() },
		ApplyUpdates: func(_ context.Context, _ *store.Store, ups []plan.Update) error {
			h.mu.Lock()
			h.applied = append(h.applied, ups...)
			h.mu.Unlock()
			return nil
		},
	}
	for _, f := range opts {
		f(&o)
	}
	h.e, err = New(s, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.e.Close)
	h.srv = httptest.NewServer(h.e.HTTPHandler(HTTPOptions{}))
	t.Cleanup(h.srv.Close)
	h.client = h.newClient()
	return h
}

// newClient is another browser: its own cookie jar.
func (h *harness) newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// dummyPolicy evaluates dummy policies: "toggle*" gives h.toggle,
// "redirect*" inserts a redirect to /elsewhere and passes, "update*" asks
// for an update and passes; others their configured result.
func (h *harness) dummyPolicy(_ context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
	switch {
	case strings.HasPrefix(p.Name, "toggle"):
		return plan.Result{Passing: h.toggle.Load(), Messages: []string{"toggled"}}, nil
	case strings.HasPrefix(p.Name, "redirect"):
		if req.Plan != nil {
			req.Plan.Redirect("/elsewhere")
		}
		return plan.Result{Passing: true, Messages: []string{}}, nil
	case strings.HasPrefix(p.Name, "pending"):
		// Makes user 1 the pending user, as an expression writing
		// flow_plan.context["pending_user"] does.
		req.Context[directory.ContextPendingUser] = map[string]any{"pk": 1.0, "username": "one"}
		return plan.Result{Passing: true, Messages: []string{}}, nil
	case strings.HasPrefix(p.Name, "is-one"):
		return plan.Result{Passing: req.User.PK == 1 && req.User.Authenticated, Messages: []string{}}, nil
	case strings.HasPrefix(p.Name, "update"):
		req.Update(plan.Update{Model: "authentik_flows.flow", Filter: map[string]any{"slug": "f"}, Set: map[string]any{"title": "used"}})
		return plan.Result{Passing: true, Messages: []string{}}, nil
	}
	return plan.Result{Passing: p.Config.(policy.Dummy).Result, Messages: []string{"dummy"}, ValidUntil: plan.Forever}, nil
}

func (h *harness) advance(d time.Duration) { h.clock.Add(int64(d)) }

// reply is one HTTP answer.
type reply struct {
	status   int
	location string
	body     map[string]any
	raw      []byte
	header   http.Header
}

// url is the executor URL of slug with the page query q.
func (h *harness) url(slug, q string) string {
	u := h.srv.URL + ExecutorPath + slug + "/"
	if q != "" {
		u += "?query=" + url.QueryEscape(q)
	}
	return u
}

func (h *harness) do(c *http.Client, method, u, body string) reply {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	h.settle()
	raw, _ := io.ReadAll(resp.Body)
	out := reply{status: resp.StatusCode, location: resp.Header.Get("Location"), raw: raw, header: resp.Header}
	if resp.StatusCode == http.StatusOK {
		checkChallenge(h.t, raw)
		if err := json.Unmarshal(raw, &out.body); err != nil {
			h.t.Fatalf("%s %s: %v: %s", method, u, err, raw)
		}
	}
	return out
}

// settle waits for the executor's background work (the email stage's
// queued messages, the last logins noted), so that a test sees it done as
// soon as its request is answered.
func (h *harness) settle() {
	if h.e.mail != nil {
		h.e.mail.wait()
	}
	if h.e.logins != nil {
		h.e.logins.wait()
	}
}

func (h *harness) get(slug, q string) reply {
	h.t.Helper()
	return h.do(h.client, "GET", h.url(slug, q), "")
}

func (h *harness) post(slug, q, body string) reply {
	h.t.Helper()
	return h.do(h.client, "POST", h.url(slug, q), body)
}

// execution returns the decoded execution of slug in the only session
// of h.client.
func (h *harness) execution(slug string) *execution {
	h.t.Helper()
	u, _ := url.Parse(h.srv.URL)
	var sid string
	for _, c := range h.client.Jar.Cookies(u) {
		if c.Name == DefaultCookie {
			sid = c.Value
		}
	}
	rec, err := h.rs.Load(context.Background(), Executions, ExecutionKey(sid, slug))
	if err != nil {
		return nil
	}
	x, err := decodeExecution(rec.Data)
	if err != nil {
		h.t.Fatal(err)
	}
	return x
}

// stageNames are the names of the stages left in x.
func stageNames(x *execution) []string {
	if x == nil {
		return nil
	}
	var out []string
	for _, s := range x.Stages {
		out = append(out, s.Name)
	}
	return out
}

// want checks a 200 challenge's component and keys.
func (r reply) want(t *testing.T, component string, kv ...any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d (Location %q), want 200 %s: %s", r.status, r.location, component, r.raw)
	}
	if r.body["component"] != component {
		t.Fatalf("component %v, want %s: %s", r.body["component"], component, r.raw)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if got := fmt.Sprint(r.body[k]); got != fmt.Sprint(kv[i+1]) {
			t.Errorf("%s = %s, want %v: %s", k, got, kv[i+1], r.raw)
		}
	}
}

// wantReload checks a 302 to the identical URL.
func (r reply) wantReload(t *testing.T, u string) {
	t.Helper()
	if r.status != http.StatusFound {
		t.Fatalf("status %d, want 302: %s", r.status, r.raw)
	}
	if want := strings.TrimPrefix(u, strings.SplitN(u, "/api/", 2)[0]); r.location != want {
		t.Fatalf("Location %q, want %q", r.location, want)
	}
}

// flowDoc is a blueprint of flow slug with the given extra entries.
func flowDoc(slug, attrs string, entries ...string) string {
	return "version: 1\nentries:\n- model: authentik_flows.flow\n  id: " + slug + "\n  identifiers: {slug: " + slug +
		"}\n  attrs: {name: " + slug + ", title: Welcome " + slug + ", designation: authentication" + attrs + "}\n" + strings.Join(entries, "")
}

// dummy is a dummy stage bound into flow at order, with binding attrs.
func dummy(flow, name string, order int, attrs string) string {
	return stageEntry("authentik_stages_dummy.dummystage", flow, name, order, "", attrs)
}

func stageEntry(model, flow, name string, order int, stageAttrs, bindingAttrs string) string {
	s := "- model: " + model + "\n  id: " + name + "\n  identifiers: {name: " + name + "}\n"
	if stageAttrs != "" {
		s += "  attrs: {" + stageAttrs + "}\n"
	}
	s += fmt.Sprintf("- model: authentik_flows.flowstagebinding\n  id: b-%s\n  identifiers: {target: !KeyOf %s, stage: !KeyOf %s, order: %d}\n", name, flow, name, order)
	if bindingAttrs != "" {
		s += "  attrs: {" + bindingAttrs + "}\n"
	}
	return s
}

// policyOn is a dummy policy bound to target.
func policyOn(target, name string, result bool) string {
	return fmt.Sprintf("- model: authentik_policies_dummy.dummypolicy\n  id: %s\n  identifiers: {name: %s}\n  attrs: {result: %v}\n"+
		"- model: authentik_policies.policybinding\n  identifiers: {target: !KeyOf %s, policy: !KeyOf %s, order: 0}\n", name, name, result, target, name)
}

// lastEvent is the last event of action a, failing the test without one.
func (h *harness) lastEvent(t *testing.T, a string) Event {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.events) - 1; i >= 0; i-- {
		if h.events[i].Action == a {
			return h.events[i]
		}
	}
	t.Fatalf("no %s event in %+v", a, h.events)
	return Event{}
}
