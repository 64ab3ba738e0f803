package executor

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
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
