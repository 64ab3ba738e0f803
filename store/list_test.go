package store_test

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

func slugsOf(p store.Page[flow.View]) []string {
	out := []string{}
	for _, f := range p.Results {
		out = append(out, f.Slug)
	}
	return out
}

func namesOf(p store.Page[stage.View]) []string {
	out := []string{}
	for _, s := range p.Results {
		out = append(out, s.Name)
	}
	return out
}

func TestListPagination(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()

	empty, err := s.ListFlows(ctx, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.Pagination{Count: 0, Current: 1, TotalPages: 1}); empty.Pagination != want {
		t.Errorf("empty pagination = %+v, want %+v", empty.Pagination, want)
	}
	if got := jsonOf(t, empty); got != `{"pagination":{"next":0,"previous":0,"count":0,"current":1,"total_pages":1,"start_index":0,"end_index":0},"results":[]}` {
		t.Errorf("empty page JSON = %s", got)
	}
	if _, err := s.ListFlows(ctx, store.Query{Page: 2}); !errors.Is(err, store.ErrInvalidPage) {
		t.Errorf("page 2 of an empty list: %v, want ErrInvalidPage", err)
	}
	if p, err := s.ListFlows(ctx, store.Query{Page: store.LastPage}); err != nil || p.Pagination.Current != 1 {
		t.Errorf("last page of an empty list: %+v, %v", p.Pagination, err)
	}

	for i := range 5 {
		mkFlow(t, s, fmt.Sprintf("flow-%d", i))
	}
	tests := []struct {
		q     store.Query
		want  store.Pagination
		slugs []string
	}{
		{store.Query{PageSize: 2}, store.Pagination{Next: 2, Count: 5, Current: 1, TotalPages: 3, StartIndex: 1, EndIndex: 2}, []string{"flow-0", "flow-1"}},
		{store.Query{PageSize: 2, Page: 2}, store.Pagination{Next: 3, Previous: 1, Count: 5, Current: 2, TotalPages: 3, StartIndex: 3, EndIndex: 4}, []string{"flow-2", "flow-3"}},
		{store.Query{PageSize: 2, Page: 3}, store.Pagination{Previous: 2, Count: 5, Current: 3, TotalPages: 3, StartIndex: 5, EndIndex: 5}, []string{"flow-4"}},
		{store.Query{PageSize: 2, Page: store.LastPage}, store.Pagination{Previous: 2, Count: 5, Current: 3, TotalPages: 3, StartIndex: 5, EndIndex: 5}, []string{"flow-4"}},
		{store.Query{PageSize: 5}, store.Pagination{Count: 5, Current: 1, TotalPages: 1, StartIndex: 1, EndIndex: 5}, []string{"flow-0", "flow-1", "flow-2", "flow-3", "flow-4"}},
		{store.Query{PageSize: -3}, store.Pagination{Count: 5, Current: 1, TotalPages: 1, StartIndex: 1, EndIndex: 5}, []string{"flow-0", "flow-1", "flow-2", "flow-3", "flow-4"}},
	}
	for _, tt := range tests {
		p, err := s.ListFlows(ctx, tt.q)
		if err != nil {
			t.Errorf("%+v: %v", tt.q, err)
			continue
		}
		if p.Pagination != tt.want {
			t.Errorf("%+v: pagination = %+v, want %+v", tt.q, p.Pagination, tt.want)
		}
		if got := slugsOf(p); !reflect.DeepEqual(got, tt.slugs) {
			t.Errorf("%+v: results = %v, want %v", tt.q, got, tt.slugs)
		}
	}
	for _, page := range []int{4, 100, -2} {
		if _, err := s.ListFlows(ctx, store.Query{PageSize: 2, Page: page}); !errors.Is(err, store.ErrInvalidPage) {
			t.Errorf("page %d: %v, want ErrInvalidPage", page, err)
		}
	}
}

func TestListDefaultAndMaxPageSize(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	for i := range store.DefaultPageSize + 1 {
		mkFlow(t, s, fmt.Sprintf("f%03d", i))
	}
	p, err := s.ListFlows(ctx, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Results) != store.DefaultPageSize || p.Pagination.TotalPages != 2 || p.Pagination.Next != 2 {
		t.Errorf("default page: %d results, %+v", len(p.Results), p.Pagination)
	}

	capped := openTestStore(t, filepath.Join(t.TempDir(), "capped.db"), &store.Options{MaxPageSize: 3})
	for i := range 7 {
		mkFlow(t, capped, fmt.Sprintf("f%d", i))
	}
	for _, size := range []int{0, 4, 1000} {
		p, err := capped.ListFlows(ctx, store.Query{PageSize: size})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Results) != 3 || p.Pagination.TotalPages != 3 || p.Pagination.EndIndex != 3 {
			t.Errorf("page_size %d with MaxPageSize 3: %d results, %+v", size, len(p.Results), p.Pagination)
		}
	}
	p, _ = capped.ListFlows(ctx, store.Query{PageSize: 2})
	if len(p.Results) != 2 || p.Pagination.TotalPages != 4 {
		t.Errorf("page_size 2 under the cap: %d results, %+v", len(p.Results), p.Pagination)
	}
}

func TestQueryFromValues(t *testing.T) {
	q, err := store.QueryFromValues(url.Values{
		"page": {"3"}, "page_size": {"20"}, "ordering": {"-slug,name"}, "search": {"Auth"},
		"designation": {"recovery", "enrollment"}, "slug": {"x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := store.Query{Page: 3, PageSize: 20, Ordering: "-slug,name", Search: "Auth",
		Filters: map[string]string{"designation": "enrollment", "slug": "x"}}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("QueryFromValues = %+v, want %+v", q, want)
	}
	if q, err := store.QueryFromValues(url.Values{"page": {"last"}, "page_size": {"lots"}}); err != nil || q.Page != store.LastPage || q.PageSize != 0 {
		t.Errorf("page=last&page_size=lots: %+v, %v", q, err)
	}
	for _, bad := range []string{"0", "-1", "two", ""} {
		if _, err := store.QueryFromValues(url.Values{"page": {bad}}); !errors.Is(err, store.ErrInvalidPage) {
			t.Errorf("page=%q: %v, want ErrInvalidPage", bad, err)
		}
	}
}

func TestListFlowsQueries(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	for _, f := range []flow.Flow{
		flow.New("Zeta login", "b-login", "Welcome back", flow.DesignationAuthentication),
		flow.New("Alpha signup", "c-signup", "Join us", flow.DesignationEnrollment),
		flow.New("Mid recovery", "a-recover", "Forgot your password?", flow.DesignationRecovery),
		flow.New("Same", "B-upper", "Upper", flow.DesignationEnrollment),
	} {
		if _, err := s.CreateFlow(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PatchFlow(ctx, "a-recover", []byte(`{"denied_action":"continue"}`)); err != nil {
		t.Fatal(err)
	}
	target, _ := s.GetFlowBySlug(ctx, "c-signup")

	tests := []struct {
		name  string
		q     store.Query
		slugs []string
	}{
		{"default ordering slug,name", store.Query{}, []string{"B-upper", "a-recover", "b-login", "c-signup"}},
		{"descending", store.Query{Ordering: "-slug"}, []string{"c-signup", "b-login", "a-recover", "B-upper"}},
		{"by name", store.Query{Ordering: "name"}, []string{"c-signup", "a-recover", "B-upper", "b-login"}},
		{"unknown terms ignored", store.Query{Ordering: "colour, -slug ,stages"}, []string{"c-signup", "b-login", "a-recover", "B-upper"}},
		{"only unknown terms", store.Query{Ordering: "colour"}, []string{"B-upper", "a-recover", "b-login", "c-signup"}},
		{"two terms", store.Query{Ordering: "designation,-slug"}, []string{"b-login", "c-signup", "B-upper", "a-recover"}},
		{"designation filter", store.Query{Filters: map[string]string{"designation": "enrollment"}}, []string{"B-upper", "c-signup"}},
		{"slug filter is exact and case-sensitive", store.Query{Filters: map[string]string{"slug": "b-upper"}}, []string{}},
		{"slug filter", store.Query{Filters: map[string]string{"slug": "B-upper"}}, []string{"B-upper"}},
		{"name filter", store.Query{Filters: map[string]string{"name": "Same"}}, []string{"B-upper"}},
		{"flow_uuid filter", store.Query{Filters: map[string]string{"flow_uuid": target.PK.String()}}, []string{"c-signup"}},
		{"denied_action filter", store.Query{Filters: map[string]string{"denied_action": "continue"}}, []string{"a-recover"}},
		{"two filters", store.Query{Filters: map[string]string{"designation": "enrollment", "name": "Same"}}, []string{"B-upper"}},
		{"unknown filter ignored", store.Query{Filters: map[string]string{"colour": "red", "title": "nope"}}, []string{"B-upper", "a-recover", "b-login", "c-signup"}},
		{"empty filter values ignored", store.Query{Filters: map[string]string{"designation": "", "flow_uuid": "", "slug": ""}}, []string{"B-upper", "a-recover", "b-login", "c-signup"}},
		{"search title, case-insensitive", store.Query{Search: "WELCOME"}, []string{"b-login"}},
		{"search name", store.Query{Search: "alpha"}, []string{"c-signup"}},
		{"search slug", store.Query{Search: "UP"}, []string{"B-upper", "c-signup"}},
		{"search designation", store.Query{Search: "recov"}, []string{"a-recover"}},
		{"search denied_action", store.Query{Search: "continue"}, []string{"B-upper", "a-recover", "b-login", "c-signup"}},
		{"search none", store.Query{Search: "zzz"}, []string{}},
		{"search and filter", store.Query{Search: "up", Filters: map[string]string{"designation": "enrollment"}, Ordering: "-name"}, []string{"B-upper", "c-signup"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.ListFlows(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := slugsOf(p); !reflect.DeepEqual(got, tt.slugs) {
				t.Errorf("slugs = %v, want %v", got, tt.slugs)
			}
			if p.Pagination.Count != len(tt.slugs) {
				t.Errorf("count = %d, want %d", p.Pagination.Count, len(tt.slugs))
			}
		})
	}

	bad := []struct {
		filters map[string]string
		want    map[string][]string
	}{
		{map[string]string{"designation": "x"}, map[string][]string{"designation": {"Select a valid choice. x is not one of the available choices."}}},
		{map[string]string{"flow_uuid": "nope"}, map[string][]string{"flow_uuid": {"Enter a valid UUID."}}},
		{map[string]string{"flow_uuid": "nope", "denied_action": "Continue"}, map[string][]string{
			"flow_uuid": {"Enter a valid UUID."}, "denied_action": {"Select a valid choice. Continue is not one of the available choices."}}},
	}
	for _, tt := range bad {
		_, err := s.ListFlows(ctx, store.Query{Filters: tt.filters})
		testutil.WantInvalid(t, err, tt.want)
	}
}

func TestListStagesQueries(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	// Created in an order that differs from name order.
	mkUserWrite(t, s, "b-write")
	invBound := mkInvitation(t, s, "c-invite-bound")
	mkDuo(t, s, "a-duo", &f.PK)
	mkInvitation(t, s, "a-invite-free")
	mkUserWrite(t, s, "a-write")
	cont, err := s.CreateStage(ctx, stage.Stage{Name: "d-invite-continue", Config: stage.Invitation{ContinueFlowWithoutInvitation: true}})
	if err != nil {
		t.Fatal(err)
	}
	mkDuo(t, s, "b-duo", nil)
	mkBinding(t, s, f.PK, invBound.PK, 1)

	tests := []struct {
		name  string
		model stage.ModelName
		q     store.Query
		want  []string
	}{
		{"all kinds, pk order", "", store.Query{}, []string{"b-write", "c-invite-bound", "a-duo", "a-invite-free", "a-write", "d-invite-continue", "b-duo"}},
		{"all kinds by name", "", store.Query{Ordering: "name"}, []string{"a-duo", "a-invite-free", "a-write", "b-duo", "b-write", "c-invite-bound", "d-invite-continue"}},
		{"all kinds, name filter", "", store.Query{Filters: map[string]string{"name": "a-duo"}}, []string{"a-duo"}},
		{"all kinds ignore kind filters", "", store.Query{Filters: map[string]string{"no_flows": "true", "client_id": "x"}}, []string{"b-write", "c-invite-bound", "a-duo", "a-invite-free", "a-write", "d-invite-continue", "b-duo"}},
		{"all kinds search", "", store.Query{Search: "DUO"}, []string{"a-duo", "b-duo"}},
		{"user write", stage.ModelUserWrite, store.Query{}, []string{"a-write", "b-write"}},
		{"user write descending", stage.ModelUserWrite, store.Query{Ordering: "-name"}, []string{"b-write", "a-write"}},
		{"invitation", stage.ModelInvitation, store.Query{}, []string{"a-invite-free", "c-invite-bound", "d-invite-continue"}},
		{"invitation no_flows", stage.ModelInvitation, store.Query{Filters: map[string]string{"no_flows": "true"}}, []string{"a-invite-free", "d-invite-continue"}},
		{"invitation bound ones", stage.ModelInvitation, store.Query{Filters: map[string]string{"no_flows": "false"}}, []string{"c-invite-bound"}},
		{"invitation continue filter", stage.ModelInvitation, store.Query{Filters: map[string]string{"continue_flow_without_invitation": "true"}}, []string{"d-invite-continue"}},
		{"stage_uuid filter", stage.ModelInvitation, store.Query{Filters: map[string]string{"stage_uuid": cont.PK.String()}}, []string{"d-invite-continue"}},
		{"stage_uuid of another kind", stage.ModelUserWrite, store.Query{Filters: map[string]string{"stage_uuid": cont.PK.String()}}, []string{}},
		{"duo", stage.ModelAuthenticatorDuo, store.Query{}, []string{"a-duo", "b-duo"}},
		{"duo configure_flow filter", stage.ModelAuthenticatorDuo, store.Query{Filters: map[string]string{"configure_flow": f.PK.String()}}, []string{"a-duo"}},
		{"duo client_id filter", stage.ModelAuthenticatorDuo, store.Query{Filters: map[string]string{"client_id": "DIXXXXXXXXXXXXXXXXXX", "api_hostname": "api-xxxxxxxx.duosecurity.com"}}, []string{"a-duo", "b-duo"}},
		// A write-only field is no filter: it must not let a caller probe a secret.
		{"duo secret is no filter", stage.ModelAuthenticatorDuo, store.Query{Filters: map[string]string{"client_secret": "wrong", "admin_secret_key": "wrong"}}, []string{"a-duo", "b-duo"}},
		{"duo search", stage.ModelAuthenticatorDuo, store.Query{Search: "B-"}, []string{"b-duo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.ListStages(ctx, tt.model, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := namesOf(p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("names = %v, want %v", got, tt.want)
			}
			for _, v := range p.Results {
				if tt.model != "" && v.Model() != tt.model {
					t.Errorf("%s is a %s", v.Name, v.Model())
				}
			}
		})
	}
	// The per-kind list carries the kind's fields; flow_set is filled in.
	p, _ := s.ListStages(ctx, stage.ModelInvitation, store.Query{Filters: map[string]string{"name": "c-invite-bound"}})
	if len(p.Results) != 1 || len(p.Results[0].FlowSet) != 1 || p.Results[0].FlowSet[0].PK != f.PK {
		t.Errorf("flow_set in a list: %s", jsonOf(t, p))
	}
	if !strings.Contains(jsonOf(t, p), `"continue_flow_without_invitation":false`) {
		t.Errorf("kind fields missing from the list: %s", jsonOf(t, p))
	}
	_, err = s.ListStages(ctx, stage.ModelInvitation, store.Query{Filters: map[string]string{"stage_uuid": "x"}})
	testutil.WantInvalid(t, err, map[string][]string{"stage_uuid": {"Enter a valid UUID."}})
	if _, err := s.ListStages(ctx, stage.ModelInvitation, store.Query{Page: 2}); !errors.Is(err, store.ErrInvalidPage) {
		t.Errorf("page 2: %v", err)
	}
}

func TestListBindingsQueries(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	g := mkFlow(t, s, "g")
	alpha := mkUserWrite(t, s, "alpha")
	beta := mkInvitation(t, s, "beta")
	gamma := mkDuo(t, s, "gamma", nil)
	fa := mkBinding(t, s, f.PK, alpha.PK, 20)
	fb := mkBinding(t, s, f.PK, beta.PK, 10)
	fg := mkBinding(t, s, f.PK, gamma.PK, -1)
	ga := mkBinding(t, s, g.PK, alpha.PK, 10)
	if _, err := s.PatchBinding(ctx, ga.PK, []byte(`{"evaluate_on_plan":true,"invalid_response_action":"restart"}`)); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{fa.PK.String(): "fa", fb.PK.String(): "fb", fg.PK.String(): "fg", ga.PK.String(): "ga"}
	tests := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"default ordering by order", store.Query{}, []string{"fg", "fb", "ga", "fa"}},
		{"descending order", store.Query{Ordering: "-order"}, []string{"fa", "fb", "ga", "fg"}},
		{"by stage name", store.Query{Ordering: "stage__name,-order"}, []string{"fa", "ga", "fb", "fg"}},
		{"target", store.Query{Filters: map[string]string{"target": f.PK.String()}}, []string{"fg", "fb", "fa"}},
		{"target in upper case", store.Query{Filters: map[string]string{"target": strings.ToUpper(g.PK.String())}}, []string{"ga"}},
		{"stage", store.Query{Filters: map[string]string{"stage": alpha.PK.String()}}, []string{"ga", "fa"}},
		{"order", store.Query{Filters: map[string]string{"order": "10"}}, []string{"fb", "ga"}},
		{"negative order", store.Query{Filters: map[string]string{"order": "-1"}}, []string{"fg"}},
		{"target and order", store.Query{Filters: map[string]string{"target": f.PK.String(), "order": "10"}}, []string{"fb"}},
		{"evaluate_on_plan", store.Query{Filters: map[string]string{"evaluate_on_plan": "true"}}, []string{"ga"}},
		{"invalid_response_action", store.Query{Filters: map[string]string{"invalid_response_action": "retry"}}, []string{"fg", "fb", "fa"}},
		{"fsb_uuid", store.Query{Filters: map[string]string{"fsb_uuid": fa.PK.String()}}, []string{"fa"}},
		{"search stage name", store.Query{Search: "ALP"}, []string{"ga", "fa"}},
		{"empty filter values ignored", store.Query{Filters: map[string]string{"target": "", "order": ""}}, []string{"fg", "fb", "ga", "fa"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.ListBindings(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, b := range p.Results {
				got = append(got, names[b.PK.String()])
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("bindings = %v, want %v", got, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		filters map[string]string
		want    map[string][]string
	}{
		{map[string]string{"target": "f"}, map[string][]string{"target": {"Enter a valid UUID."}}},
		{map[string]string{"order": "ten", "stage": "x"}, map[string][]string{"order": {"Enter a whole number."}, "stage": {"Enter a valid UUID."}}},
		{map[string]string{"policy_engine_mode": "some"}, map[string][]string{"policy_engine_mode": {"Select a valid choice. some is not one of the available choices."}}},
	} {
		_, err := s.ListBindings(ctx, store.Query{Filters: tt.filters})
		testutil.WantInvalid(t, err, tt.want)
	}
	// Pagination over a target's bindings.
	p, err := s.ListBindings(ctx, store.Query{Filters: map[string]string{"target": f.PK.String()}, PageSize: 2, Page: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Results) != 1 || p.Results[0].PK != fa.PK || p.Pagination.Count != 3 || p.Pagination.Previous != 1 {
		t.Errorf("page 2 of f's bindings: %+v", p.Pagination)
	}
	if _, err := s.ListBindings(ctx, store.Query{Page: 9}); !errors.Is(err, store.ErrInvalidPage) {
		t.Errorf("page 9: %v", err)
	}
}
