package plan_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

const threeFlows = `version: 1
entries:
- {model: authentik_flows.flow, identifiers: {slug: setup}, attrs: {name: Setup, title: T, designation: stage_configuration}}
- {model: authentik_flows.flow, identifiers: {slug: other-setup}, attrs: {name: Other, title: T, designation: stage_configuration}}
- {model: authentik_flows.flow, identifiers: {slug: login}, attrs: {name: Login, title: T, designation: authentication}}
`

// authOf reads each flow's authentication and the store's revision.
func authOf(t *testing.T, s *store.Store) (map[string]flow.Authentication, int64) {
	t.Helper()
	out := map[string]flow.Authentication{}
	var rev int64
	err := s.View(context.Background(), func(tx *store.Tx) error {
		for _, slug := range []string{"setup", "other-setup", "login"} {
			f, err := store.Flows.Get(tx, store.By("slug", slug))
			if err != nil {
				return err
			}
			out[slug] = f.Authentication
		}
		var err error
		rev, err = tx.Revision()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, rev
}

func superuserOf(filter map[string]any) plan.Update {
	return plan.Update{Policy: "p", Model: store.ModelFlow, Filter: filter, Set: map[string]any{"authentication": "require_superuser"}}
}

// ApplyUpdates patches the flows the filter matches, through the store's
// write (a new revision in the change feed): by slug one flow, by
// designation every flow that has it, by pk one; a filter that matches
// none writes nothing.
func TestApplyUpdates(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		filter func(pks map[string]string) map[string]any
		want   []string // the flows that require a superuser afterwards
	}{
		{"slug", func(map[string]string) map[string]any { return map[string]any{"slug": "setup"} }, []string{"setup"}},
		{"slug and a field that differs", func(map[string]string) map[string]any {
			return map[string]any{"slug": "setup", "designation": "authentication"}
		}, nil},
		{"designation", func(map[string]string) map[string]any { return map[string]any{"designation": "stage_configuration"} }, []string{"other-setup", "setup"}},
		{"designation and name", func(map[string]string) map[string]any {
			return map[string]any{"designation": "stage_configuration", "name": "Other"}
		}, []string{"other-setup"}},
		{"name is exact", func(map[string]string) map[string]any { return map[string]any{"name": "other"} }, nil},
		{"pk", func(pks map[string]string) map[string]any { return map[string]any{"pk": pks["login"]} }, []string{"login"}},
		{"compatibility_mode", func(map[string]string) map[string]any { return map[string]any{"compatibility_mode": false} }, []string{"login", "other-setup", "setup"}},
		{"no match", func(map[string]string) map[string]any { return map[string]any{"slug": "nope"} }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := load(t, threeFlows)
			pks := map[string]string{}
			_ = s.View(ctx, func(tx *store.Tx) error {
				f, err := store.Flows.Get(tx, store.By("slug", "login"))
				pks["login"] = f.PK.String()
				return err
			})
			_, before := authOf(t, s)
			if err := plan.ApplyUpdates(ctx, s, []plan.Update{superuserOf(tt.filter(pks))}); err != nil {
				t.Fatal(err)
			}
			got, after := authOf(t, s)
			var super []string
			for _, slug := range []string{"login", "other-setup", "setup"} {
				if got[slug] == flow.AuthenticationRequireSuperuser {
					super = append(super, slug)
				} else if got[slug] != flow.AuthenticationNone {
					t.Errorf("%s: %s", slug, got[slug])
				}
			}
			if !reflect.DeepEqual(super, tt.want) {
				t.Errorf("require_superuser: %v, want %v", super, tt.want)
			}
			if wrote := after != before; wrote != (len(tt.want) > 0) {
				t.Errorf("revision %d → %d", before, after)
			}
		})
	}
}

// Every update applies in one transaction, in order; one the store
// refuses, or one that cannot be applied as it stands, writes nothing,
// the updates before it included.
func TestApplyUpdatesAllOrNothing(t *testing.T) {
	ctx := context.Background()
	good := superuserOf(map[string]any{"slug": "setup"})
	tests := []struct {
		name    string
		bad     plan.Update
		wantErr error // nil: a *validate.Error
		msg     string
	}{
		{"invalid choice", plan.Update{Policy: "p", Model: store.ModelFlow, Filter: map[string]any{"slug": "login"}, Set: map[string]any{"authentication": "bogus"}}, nil, `"bogus" is not a valid choice.`},
		{"invalid choice, no match", plan.Update{Policy: "p", Model: store.ModelFlow, Filter: map[string]any{"slug": "nope"}, Set: map[string]any{"authentication": "bogus"}}, nil, `"bogus" is not a valid choice.`},
		{"slug taken", plan.Update{Policy: "p", Model: store.ModelFlow, Filter: map[string]any{"slug": "login"}, Set: map[string]any{"slug": "setup"}}, nil, "Flow with this slug already exists."},
		{"read-only field", plan.Update{Policy: "p", Model: store.ModelFlow, Filter: map[string]any{"slug": "login"}, Set: map[string]any{"background": "x"}}, plan.ErrUpdate, `does not set "background"`},
		{"unknown field", plan.Update{Policy: "p", Model: store.ModelFlow, Filter: map[string]any{"slug": "login"}, Set: map[string]any{"foo": "x"}}, plan.ErrUpdate, `does not set "foo"`},
		{"nothing set", plan.Update{Policy: "p", Model: store.ModelFlow, Filter: map[string]any{"slug": "login"}}, plan.ErrUpdate, "sets no field"},
		{"unknown filter", plan.Update{Policy: "p", Model: store.ModelFlow, Filter: map[string]any{"slug__iexact": "login"}, Set: map[string]any{"title": "x"}}, plan.ErrUpdate, `cannot be filtered on "slug__iexact"`},
		{"no filter", plan.Update{Policy: "p", Model: store.ModelFlow, Set: map[string]any{"title": "x"}}, plan.ErrUpdate, "needs a filter"},
		{"another model", plan.Update{Policy: "p", Model: store.ModelUser, Filter: map[string]any{"username": "akadmin"}, Set: map[string]any{"is_active": false}}, plan.ErrUpdate, `do not write "authentik_core.user"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := load(t, threeFlows)
			_, before := authOf(t, s)
			err := plan.ApplyUpdates(ctx, s, []plan.Update{good, tt.bad})
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if _, ok := validate.From(err); tt.wantErr == nil && !ok {
				t.Errorf("error %v, want a *validate.Error", err)
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), `policy "p"`) {
				t.Errorf("error %v, want %q naming the policy", err, tt.msg)
			}
			got, after := authOf(t, s)
			if after != before || got["setup"] != flow.AuthenticationNone {
				t.Errorf("written: revision %d → %d, setup %s", before, after, got["setup"])
			}
		})
	}
}

// UpdateFields names the store's JSON fields: a filter matches pk and
// the writable fields; a write sets the writable fields only.
func TestUpdateFields(t *testing.T) {
	filter, set := plan.UpdateFields(store.ModelFlow)
	wantSet := []string{"authentication", "compatibility_mode", "denied_action", "designation", "layout", "name", "policy_engine_mode", "slug", "title"}
	if !reflect.DeepEqual(set, wantSet) {
		t.Errorf("set %v, want %v", set, wantSet)
	}
	wantFilter := []string{"authentication", "compatibility_mode", "denied_action", "designation", "layout", "name", "pk", "policy_engine_mode", "slug", "title"}
	if !reflect.DeepEqual(filter, wantFilter) {
		t.Errorf("filter %v, want %v", filter, wantFilter)
	}
	if f, s := plan.UpdateFields(store.ModelUser); f != nil || s != nil {
		t.Errorf("users: %v %v", f, s)
	}
}

// A plan's updates are in its JSON, which the API's plan endpoint and
// "authflow plan" show, as "updates"; a plan without any has none.
func TestPlanJSONUpdates(t *testing.T) {
	b, err := json.Marshal(plan.Plan{Updates: []plan.Update{superuserOf(map[string]any{"slug": "setup"})}})
	if err != nil {
		t.Fatal(err)
	}
	want := `"updates":[{"policy":"p","model":"authentik_flows.flow","filter":{"slug":"setup"},"set":{"authentication":"require_superuser"}}]`
	if !strings.Contains(string(b), want) {
		t.Errorf("%s, want %s", b, want)
	}
	if b, _ := json.Marshal(plan.Plan{}); strings.Contains(string(b), "updates") {
		t.Errorf("%s has updates", b)
	}
}
