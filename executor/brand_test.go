package executor

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
)

// defaultFlowsDoc holds authentication flows a-login (a failing
// policy), b-login (passing only for user 1), c-login and z-login (a
// failing policy), and logout, an invalidation flow.
func defaultFlowsDoc() string {
	return flowDoc("a-login", "", policyOn("a-login", "a-deny", false)) +
		strings.TrimPrefix(flowDoc("b-login", "", policyOn("b-login", "is-one", false)), "version: 1\nentries:\n") +
		strings.TrimPrefix(flowDoc("c-login", ""), "version: 1\nentries:\n") +
		strings.TrimPrefix(flowDoc("z-login", "", policyOn("z-login", "z-deny", false)), "version: 1\nentries:\n") +
		strings.TrimPrefix(strings.Replace(flowDoc("logout", ""), "designation: authentication", "designation: invalidation", 1), "version: 1\nentries:\n")
}

func TestDefaultFlow(t *testing.T) {
	ctx := context.Background()
	one := Request{User: plan.User{PK: 1, Authenticated: true}}
	for _, tc := range []struct {
		name  string
		brand Brand
		d     flow.Designation
		req   Request
		want  string
	}{
		// The first by slug whose policies pass: a-login's fail.
		{"policies", Brand{}, flow.DesignationAuthentication, Request{}, "c-login"},
		{"policies see the user", Brand{}, flow.DesignationAuthentication, one, "b-login"},
		// The brand's flow wins, its policies unchecked.
		{"brand", Brand{FlowAuthentication: "z-login"}, flow.DesignationAuthentication, Request{}, "z-login"},
		// A brand flow that is gone is as none.
		{"brand flow gone", Brand{FlowAuthentication: "gone"}, flow.DesignationAuthentication, Request{}, "c-login"},
		{"invalidation", Brand{}, flow.DesignationInvalidation, Request{}, "logout"},
		{"brand invalidation", Brand{FlowInvalidation: "c-login"}, flow.DesignationInvalidation, Request{}, "c-login"},
		{"brand recovery", Brand{FlowRecovery: "c-login"}, flow.DesignationRecovery, Request{}, "c-login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, defaultFlowsDoc(), func(o *Options) { o.Brand = tc.brand })
			addUser(t, h.s, "one")
			got, err := h.e.DefaultFlow(ctx, tc.d, tc.req)
			if err != nil || got != tc.want {
				t.Fatalf("DefaultFlow = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	h := newHarness(t, defaultFlowsDoc(), func(o *Options) { o.Brand = Brand{FlowAuthentication: "logout"} })
	if _, err := h.e.DefaultFlow(ctx, flow.DesignationEnrollment, Request{}); !errors.Is(err, ErrNoDefaultFlow) {
		t.Errorf("no enrollment flow: err %v, want ErrNoDefaultFlow", err)
	}
	if _, err := h.e.DefaultFlow(ctx, "bogus", Request{}); !errors.Is(err, ErrNoDefaultFlow) {
		t.Errorf("no designation: err %v, want ErrNoDefaultFlow", err)
	}
	// With every policy failing, none applies; the updates they ask
	// for are applied.
	h = newHarness(t, flowDoc("a", "", policyOn("a", "a-deny", false))+
		strings.TrimPrefix(flowDoc("b", ", policy_engine_mode: all", policyOn("b", "update", true), policyOn("b", "b-deny", false)), "version: 1\nentries:\n"))
	if _, err := h.e.DefaultFlow(ctx, flow.DesignationAuthentication, Request{}); !errors.Is(err, ErrNoDefaultFlow) {
		t.Errorf("failing policies: err %v, want ErrNoDefaultFlow", err)
	}
	if len(h.applied) != 1 {
		t.Errorf("applied %v, want the update policy's", h.applied)
	}
}

// DefaultFlowHandler redirects to the default flow's page with the
// query string, as the request's user finds it.
func TestDefaultFlowHandler(t *testing.T) {
	h := newHarness(t, defaultFlowsDoc())
	addUser(t, h.s, "one")
	mux := http.NewServeMux()
	mux.Handle(DefaultFlowPath, h.e.DefaultFlowHandler(HTTPOptions{}))
	asOne := HTTPOptions{User: func(*http.Request) (plan.User, string) { return plan.User{PK: 1, Authenticated: true}, "one" }}
	mux.Handle("/as-one"+DefaultFlowPath, http.StripPrefix("/as-one", h.e.DefaultFlowHandler(asOne)))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct {
		method, path string
		status       int
		location     string
	}{
		{"GET", "authentication/?next=%2Fapp%2F&b=1", http.StatusFound, "/if/flow/c-login/?next=%2Fapp%2F&b=1"},
		{"GET", "invalidation/", http.StatusFound, "/if/flow/logout/"},
		{"HEAD", "invalidation/", http.StatusFound, "/if/flow/logout/"},
		{"GET", "recovery/", http.StatusNotFound, ""},
		{"GET", "authentication", http.StatusNotFound, ""},
		{"GET", "authentication/x/", http.StatusNotFound, ""},
		{"POST", "authentication/", http.StatusMethodNotAllowed, ""},
	} {
		r := h.do(h.newClient(), tc.method, srv.URL+DefaultFlowPath+tc.path, "")
		if r.status != tc.status || r.location != tc.location {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, r.status, r.location, tc.status, tc.location)
		}
	}
	if r := h.do(h.newClient(), "GET", srv.URL+"/as-one"+DefaultFlowPath+"authentication/", ""); r.location != "/if/flow/b-login/" {
		t.Errorf("as user one: %d %q, want b-login", r.status, r.location)
	}
	// No flow of the designation: 404.
	h2 := newHarness(t, flowDoc("a", ""))
	srv2 := httptest.NewServer(h2.e.DefaultFlowHandler(HTTPOptions{}))
	defer srv2.Close()
	if r := h2.do(h2.newClient(), "GET", srv2.URL+InvalidationURL, ""); r.status != http.StatusNotFound {
		t.Errorf("no invalidation flow: %d", r.status)
	}
}

// The password challenge links to the brand's recovery flow, after the
// base URL, when it names one.
func TestBrandRecoveryURL(t *testing.T) {
	doc := flowDoc("f", "", stageEntry("authentik_stages_password.passwordstage", "f", "pw", 0, "backends: [authentik.core.auth.InbuiltBackend]", ""),
		policyOn("f", "pending", true)) +
		strings.TrimPrefix(strings.Replace(flowDoc("rec", ""), "designation: authentication", "designation: recovery", 1), "version: 1\nentries:\n")
	for _, tc := range []struct {
		name  string
		brand Brand
		base  string
		want  any
	}{
		{"none", Brand{}, "", nil},
		{"relative", Brand{FlowRecovery: "rec"}, "", "/if/flow/rec/"},
		{"absolute", Brand{FlowRecovery: "rec"}, "https://auth.example.com/", "https://auth.example.com/if/flow/rec/"},
		{"gone", Brand{FlowRecovery: "gone"}, "https://auth.example.com", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, doc, func(o *Options) { o.Brand, o.BaseURL = tc.brand, tc.base })
			addUser(t, h.s, "one")
			r := h.get("f", "")
			r.want(t, ComponentPassword)
			if got := r.body["recovery_url"]; got != tc.want {
				t.Errorf("recovery_url %v, want %v", got, tc.want)
			}
		})
	}
}

// A flow without a background shows the brand's default.
func TestBrandBackground(t *testing.T) {
	doc := flowDoc("f", "", dummy("f", "d", 0, "")) +
		strings.TrimPrefix(flowDoc("g", "", dummy("g", "e", 0, "")), "version: 1\nentries:\n")
	h := newHarness(t, doc)
	if bg := h.get("f", "").body["flow_info"].(map[string]any)["background"]; bg != flow.DefaultBackground {
		t.Errorf("no brand: background %v", bg)
	}
	h = newHarness(t, doc, func(o *Options) { o.Brand.DefaultFlowBackground = "/media/brand.jpg" })
	if err := h.s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := store.SetBackgroundURL(tx, store.By("slug", "g"), "https://img.example.com/g.png", nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if bg := h.get("f", "").body["flow_info"].(map[string]any)["background"]; bg != "/media/brand.jpg" {
		t.Errorf("brand: background %v", bg)
	}
	if bg := h.get("g", "").body["flow_info"].(map[string]any)["background"]; bg != "https://img.example.com/g.png" {
		t.Errorf("the flow's own: background %v", bg)
	}
	if b := h.e.Brand(); b.Title != DefaultBrandTitle || b.DefaultFlowBackground != "/media/brand.jpg" {
		t.Errorf("Brand() = %+v", b)
	}
}

// Expressions see the brand's attributes as http_request.brand.attributes,
// over HTTP and through the Go API; a request's own are kept.
func TestBrandAttributes(t *testing.T) {
	doc := flowDoc("f", "", dummy("f", "d", 0, ""), expressionPolicy("branded", "return request.http_request.brand.attributes.get('k') == 'v'"),
		"- model: authentik_policies.policybinding\n  identifiers: {target: !KeyOf f, policy: !KeyOf branded, order: 0}\n")
	attrs := map[string]any{"k": "v"}
	h := newHarness(t, doc, withExpressions(nil), func(o *Options) { o.Brand.Attributes = attrs })
	attrs["k"] = "changed after New"
	h.get("f", "").want(t, ComponentDummy)
	ctx := context.Background()
	resp, err := h.e.Get(ctx, "f", Request{Session: "s"})
	if err != nil || resp.Challenge.envelope().Component != ComponentDummy {
		t.Fatalf("Go API: %v %+v", err, resp)
	}
	own := &plan.HTTPRequest{Method: "GET", Path: "/", BrandAttributes: map[string]any{"k": "other"}}
	resp, err = h.e.Get(ctx, "f", Request{Session: "s2", HTTP: own})
	if err != nil || resp.Challenge.envelope().Component != ComponentAccessDenied {
		t.Fatalf("own brand attributes: %v %+v", err, resp)
	}
	if own.BrandAttributes["k"] != "other" {
		t.Errorf("the request's HTTP was changed: %v", own.BrandAttributes)
	}
	h = newHarness(t, doc, withExpressions(nil))
	h.get("f", "").want(t, ComponentAccessDenied)
}
