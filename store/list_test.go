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
	"github.com/authflow/authflow/store/storetest"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
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

	empty, err := listIn(ctx, s, store.Flows, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.Pagination{Count: 0, Current: 1, TotalPages: 1}); empty.Pagination != want {
		t.Errorf("empty pagination = %+v, want %+v", empty.Pagination, want)
	}
	if got := jsonOf(t, empty); got != `{"pagination":{"next":0,"previous":0,"count":0,"current":1,"total_pages":1,"start_index":0,"end_index":0},"results":[]}` {
		t.Errorf("empty page JSON = %s", got)
	}
	if _, err := listIn(ctx, s, store.Flows, store.Query{Page: 2}); !errors.Is(err, store.ErrInvalidPage) {
		t.Errorf("page 2 of an empty list: %v, want ErrInvalidPage", err)
	}
	if p, err := listIn(ctx, s, store.Flows, store.Query{Page: store.LastPage}); err != nil || p.Pagination.Current != 1 {
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
		p, err := listIn(ctx, s, store.Flows, tt.q)
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
		if _, err := listIn(ctx, s, store.Flows, store.Query{PageSize: 2, Page: page}); !errors.Is(err, store.ErrInvalidPage) {
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
	p, err := listIn(ctx, s, store.Flows, store.Query{})
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
		p, err := listIn(ctx, capped, store.Flows, store.Query{PageSize: size})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Results) != 3 || p.Pagination.TotalPages != 3 || p.Pagination.EndIndex != 3 {
			t.Errorf("page_size %d with MaxPageSize 3: %d results, %+v", size, len(p.Results), p.Pagination)
		}
	}
	p, _ = listIn(ctx, capped, store.Flows, store.Query{PageSize: 2})
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
		Filters: map[string]string{"designation": "enrollment", "slug": "x"},
		// Every key given twice keeps its values for a filter that takes
		// several; one that takes one reads Filters, the last value.
		Multi: map[string][]string{"designation": {"recovery", "enrollment"}}}
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
		if _, err := createIn(ctx, s, store.Flows, f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := patchIn(ctx, s, store.Flows, store.By("slug", "a-recover"), []byte(`{"denied_action":"continue"}`)); err != nil {
		t.Fatal(err)
	}
	target, _ := viewIn(ctx, s, store.Flows, store.By("slug", "c-signup"))

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
		// FlowViewSet has no ordering_fields, so pk may be named.
		{"pk ascending", store.Query{Ordering: "pk"}, []string{"b-login", "c-signup", "a-recover", "B-upper"}},
		{"pk descending", store.Query{Ordering: "-pk"}, []string{"B-upper", "a-recover", "c-signup", "b-login"}},
		{"ordering terms are trimmed", store.Query{Ordering: " -pk\t"}, []string{"B-upper", "a-recover", "c-signup", "b-login"}},
		{"a double minus is no term", store.Query{Ordering: "--slug"}, []string{"B-upper", "a-recover", "b-login", "c-signup"}},
		// Text filters are Django CharFields: surrounding whitespace goes.
		{"slug filter is trimmed", store.Query{Filters: map[string]string{"slug": " B-upper\t\u00a0"}}, []string{"B-upper"}},
		{"name filter is trimmed", store.Query{Filters: map[string]string{"name": "\x1cSame\n"}}, []string{"B-upper"}},
		{"whitespace-only text filter is no filter", store.Query{Filters: map[string]string{"slug": " \t "}}, []string{"B-upper", "a-recover", "b-login", "c-signup"}},
		{"whitespace-only UUID filter is no filter", store.Query{Filters: map[string]string{"flow_uuid": "  "}}, []string{"B-upper", "a-recover", "b-login", "c-signup"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := listIn(ctx, s, store.Flows, tt.q)
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
		// Choice filters are not trimmed.
		{map[string]string{"designation": " enrollment"}, map[string][]string{"designation": {"Select a valid choice.  enrollment is not one of the available choices."}}},
		{map[string]string{"slug": "B-upper\x00", "name": "\x00"}, map[string][]string{
			"slug": {"Null characters are not allowed."}, "name": {"Null characters are not allowed."}}},
	}
	for _, tt := range bad {
		_, err := listIn(ctx, s, store.Flows, store.Query{Filters: tt.filters})
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
	cont, err := createIn(ctx, s, store.Stages, stage.Stage{Name: "d-invite-continue", Config: stage.Invitation{ContinueFlowWithoutInvitation: true}})
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
		{"all kinds, two search terms", "", store.Query{Search: "duo,B"}, []string{"b-duo"}},
		{"all kinds, terms in any order", "", store.Query{Search: "invite a-"}, []string{"a-invite-free"}},
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
			p, err := listIn(ctx, s, stagesOf(tt.model), tt.q)
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
	p, _ := listIn(ctx, s, store.Stages.Kind(string(stage.ModelInvitation)), store.Query{Filters: map[string]string{"name": "c-invite-bound"}})
	if len(p.Results) != 1 || len(p.Results[0].FlowSet) != 1 || p.Results[0].FlowSet[0].PK != f.PK {
		t.Errorf("flow_set in a list: %s", jsonOf(t, p))
	}
	if !strings.Contains(jsonOf(t, p), `"continue_flow_without_invitation":false`) {
		t.Errorf("kind fields missing from the list: %s", jsonOf(t, p))
	}
	_, err = listIn(ctx, s, store.Stages.Kind(string(stage.ModelInvitation)), store.Query{Filters: map[string]string{"stage_uuid": "x"}})
	testutil.WantInvalid(t, err, map[string][]string{"stage_uuid": {"Enter a valid UUID."}})
	if _, err := listIn(ctx, s, store.Stages.Kind(string(stage.ModelInvitation)), store.Query{Page: 2}); !errors.Is(err, store.ErrInvalidPage) {
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
	if _, err := patchIn(ctx, s, store.Bindings, store.PK(ga.PK), []byte(`{"evaluate_on_plan":true,"invalid_response_action":"restart"}`)); err != nil {
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
		{"search terms each match", store.Query{Search: "AL PHA"}, []string{"ga", "fa"}},
		{"search terms all must match", store.Query{Search: "alpha beta"}, []string{}},
		// Seed-era ordering_fields are order and stage__name: pk is only
		// the tie-break.
		{"pk is not an ordering field", store.Query{Ordering: "-pk"}, []string{"fg", "fb", "ga", "fa"}},
		{"pk is not an ordering field ascending", store.Query{Ordering: "pk"}, []string{"fg", "fb", "ga", "fa"}},
		{"pk skipped, order kept", store.Query{Ordering: "-pk,-order"}, []string{"fa", "fb", "ga", "fg"}},
		{"ties broken by pk", store.Query{Ordering: "-stage__name"}, []string{"fg", "fb", "fa", "ga"}},
		// order is a NumberFilter: a Django DecimalField, compared as an
		// integer (the fraction dropped).
		{"order as decimal", store.Query{Filters: map[string]string{"order": "10.0"}}, []string{"fb", "ga"}},
		{"order with exponent", store.Query{Filters: map[string]string{"order": "1E1"}}, []string{"fb", "ga"}},
		{"order fraction dropped", store.Query{Filters: map[string]string{"order": "10.99"}}, []string{"fb", "ga"}},
		{"order with sign, spaces and underscore", store.Query{Filters: map[string]string{"order": " +1_0\n"}}, []string{"fb", "ga"}},
		{"order in Arabic-Indic digits", store.Query{Filters: map[string]string{"order": "\u0661\u0660"}}, []string{"fb", "ga"}},
		{"order 0.2e2", store.Query{Filters: map[string]string{"order": "0.2e2"}}, []string{"fa"}},
		{"order negative fraction truncates toward zero", store.Query{Filters: map[string]string{"order": "-1.9"}}, []string{"fg"}},
		{"order -0.5 is 0", store.Query{Filters: map[string]string{"order": "-0.5"}}, []string{}},
		{"order out of range matches nothing", store.Query{Filters: map[string]string{"order": "123456789012345678901234567890"}}, []string{}},
		{"order huge exponent matches nothing", store.Query{Filters: map[string]string{"order": "1e400"}}, []string{}},
		{"order tiny value is 0", store.Query{Filters: map[string]string{"order": "1e-400"}}, []string{}},
		// Boolean filters take Django's NullBooleanField spellings only.
		{"evaluate_on_plan True", store.Query{Filters: map[string]string{"evaluate_on_plan": "True"}}, []string{"ga"}},
		{"evaluate_on_plan 1", store.Query{Filters: map[string]string{"evaluate_on_plan": "1"}}, []string{"ga"}},
		{"evaluate_on_plan False", store.Query{Filters: map[string]string{"evaluate_on_plan": "False"}}, []string{"fg", "fb", "fa"}},
		{"evaluate_on_plan 0", store.Query{Filters: map[string]string{"evaluate_on_plan": "0"}}, []string{"fg", "fb", "fa"}},
		{"evaluate_on_plan TRUE ignored", store.Query{Filters: map[string]string{"evaluate_on_plan": "TRUE"}}, []string{"fg", "fb", "ga", "fa"}},
		{"evaluate_on_plan yes ignored", store.Query{Filters: map[string]string{"evaluate_on_plan": "yes"}}, []string{"fg", "fb", "ga", "fa"}},
		{"target with braces", store.Query{Filters: map[string]string{"target": "{" + g.PK.String() + "}"}}, []string{"ga"}},
		{"by pbm_uuid", store.Query{Filters: map[string]string{"pbm_uuid": fb.PolicyBindingModelPtrID.String()}}, []string{"fb"}},
		{"by fsb_uuid", store.Query{Filters: map[string]string{"fsb_uuid": fa.PK.String()}}, []string{"fa"}},
		{"a pk is no pbm_uuid", store.Query{Filters: map[string]string{"pbm_uuid": fb.PK.String()}}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := listIn(ctx, s, store.Bindings, tt.q)
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
		{map[string]string{"order": "ten", "stage": "x"}, map[string][]string{"order": {"Enter a number."}, "stage": {"Enter a valid UUID."}}},
		{map[string]string{"policy_engine_mode": "some"}, map[string][]string{"policy_engine_mode": {"Select a valid choice. some is not one of the available choices."}}},
		{map[string]string{"order": "abc"}, testutil.One("order", "Enter a number.")},
		{map[string]string{"order": "NaN"}, testutil.One("order", "Enter a number.")},
		{map[string]string{"order": "Infinity"}, testutil.One("order", "Enter a number.")},
		{map[string]string{"order": "1 0"}, testutil.One("order", "Enter a number.")},
		{map[string]string{"order": "."}, testutil.One("order", "Enter a number.")},
		{map[string]string{"order": "1e"}, testutil.One("order", "Enter a number.")},
		{map[string]string{"order": "1e+-2"}, testutil.One("order", "Enter a number.")},
		{map[string]string{"order": " "}, testutil.One("order", "Enter a number.")},
		{map[string]string{"order": "0x10"}, testutil.One("order", "Enter a number.")},
		{map[string]string{"target": "URN:UUID:" + f.PK.String()}, testutil.One("target", "Enter a valid UUID.")},
	} {
		_, err := listIn(ctx, s, store.Bindings, store.Query{Filters: tt.filters})
		testutil.WantInvalid(t, err, tt.want)
	}
	// Pagination over a target's bindings.
	p, err := listIn(ctx, s, store.Bindings, store.Query{Filters: map[string]string{"target": f.PK.String()}, PageSize: 2, Page: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Results) != 1 || p.Results[0].PK != fa.PK || p.Pagination.Count != 3 || p.Pagination.Previous != 1 {
		t.Errorf("page 2 of f's bindings: %+v", p.Pagination)
	}
	if _, err := listIn(ctx, s, store.Bindings, store.Query{Page: 9}); !errors.Is(err, store.ErrInvalidPage) {
		t.Errorf("page 9: %v", err)
	}
}

// TestListSearchTerms: search is split into terms at commas and
// whitespace, and every term must match some search field (DRF 3.14's
// SearchFilter).
func TestListSearchTerms(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	for i := range 5 {
		name := fmt.Sprintf("Named %d", i)
		if i == 4 {
			name = "Other 4"
		}
		f := flow.New(name, fmt.Sprintf("default-flow-%d", i), fmt.Sprintf("Title %d", i), flow.DesignationAuthentication)
		if _, err := createIn(ctx, s, store.Flows, f); err != nil {
			t.Fatal(err)
		}
	}
	all := []string{"default-flow-0", "default-flow-1", "default-flow-2", "default-flow-3", "default-flow-4"}
	tests := []struct {
		search string
		want   []string
	}{
		{"default flow", all},
		{"DEFAULT   FLOW", all},
		{"flow,name", all[:4]},            // one term in the slug, one in the name
		{"named,,title", all[:4]},         // name and title; empty terms between commas
		{"flow 1", all[1:2]},              // "1" in slug, name and title of one flow
		{"flow\x00-1", all[1:2]},          // NULs are removed before splitting
		{"\x1cflow\x1f1\u00a0", all[1:2]}, // Python's whitespace separates too
		{"flow zzz", []string{}},
		{"default-flow-4 named", []string{}},
		{"", all},
		{" \t\n", all},
		{",,, ,", all},
		{"\x00", all},
	}
	for _, tt := range tests {
		p, err := listIn(ctx, s, store.Flows, store.Query{Search: tt.search})
		if err != nil {
			t.Fatalf("search %q: %v", tt.search, err)
		}
		if got := slugsOf(p); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("search %q = %v, want %v", tt.search, got, tt.want)
		}
	}
}

// TestListUUIDFilterSpellings: a UUID filter reads its value as Django's
// forms.UUIDField (Python's uuid.UUID) does.
func TestListUUIDFilterSpellings(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	a := mkFlow(t, s, "a") // 00000000-0000-7000-8000-000000000001
	mkFlow(t, s, "b")
	pk := a.PK.String()
	hex := strings.ReplaceAll(pk, "-", "")
	if !strings.HasPrefix(hex, "00") {
		t.Fatalf("counter ids changed: %s", pk)
	}
	for _, v := range []string{
		pk,
		strings.ToUpper(pk),
		"  " + pk + "\n",
		"{" + pk + "}",
		"{{" + pk + "}",
		"urn:uuid:" + pk,
		"uuid:" + pk,
		hex,
		hex[:4] + "-" + hex[4:7] + "--" + hex[7:],
		"0x" + hex[2:],           // int(x, 16) takes a 0x prefix
		"0X_" + hex[3:],          // and an underscore after it
		"+" + hex[1:],            // a sign
		"0_" + hex[2:],           // underscores between digits
		"{ " + hex[1:] + "}",     // inner whitespace
		"\u0660" + hex[1:],       // a Unicode digit
		"\uff10" + hex[1:],       // a full-width digit
		"\u00a0" + pk + "\u3000", // Unicode whitespace around it
	} {
		p, err := listIn(ctx, s, store.Flows, store.Query{Filters: map[string]string{"flow_uuid": v}})
		if err != nil {
			t.Errorf("flow_uuid %q: %v", v, err)
			continue
		}
		if got := slugsOf(p); !reflect.DeepEqual(got, []string{"a"}) {
			t.Errorf("flow_uuid %q = %v, want [a]", v, got)
		}
	}
	for _, v := range []string{
		"nope",
		"URN:UUID:" + pk,
		hex + "0",
		hex[1:],
		"_0" + hex[2:],
		"0__" + hex[3:],
		hex[:31] + "_",
		"-" + hex[1:],           // hyphens go first, so a sign "-" leaves 31 digits
		"0x_" + hex[3:31] + "_", // a trailing underscore
		"0x" + hex[2:31] + "g",
		"0x",
		"{" + strings.Repeat(" ", 32) + "}",
		"a" + hex[1:31] + "\x00",
	} {
		_, err := listIn(ctx, s, store.Flows, store.Query{Filters: map[string]string{"flow_uuid": v}})
		testutil.WantFields(t, fmt.Sprintf("flow_uuid %q", v), err, testutil.One("flow_uuid", "Enter a valid UUID."))
	}
}

// TestListStagesKindFilters: each kind filters on its own seed-era filter
// set, with typed values.
func TestListStagesKindFilters(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	group := newGroup(t, s, "new users")
	wBound := mkUserWrite(t, s, "w-bound")
	inactive := stage.UserWrite{UserCreationMode: stage.UserCreationAlways, CreateUsersAsInactive: true,
		CreateUsersGroup: &group, UserType: stage.UserTypeInternal, UserPathTemplate: "goauthentik.io/x"}
	wInactive, err := createIn(ctx, s, store.Stages, stage.Stage{Name: "w-inactive", Config: inactive})
	if err != nil {
		t.Fatal(err)
	}
	dBound := mkDuo(t, s, "d-bound", &f.PK)
	mkDuo(t, s, "d-free", nil)
	iBound := mkInvitation(t, s, "i-bound")
	mkInvitation(t, s, "i-free")
	for i, st := range []uuid.UUID{wBound.PK, dBound.PK, iBound.PK} {
		mkBinding(t, s, f.PK, st, int32(i))
	}

	uw, duo, inv := stage.ModelUserWrite, stage.ModelAuthenticatorDuo, stage.ModelInvitation
	ws := []string{"w-bound", "w-inactive"}
	ds := []string{"d-bound", "d-free"}
	is := []string{"i-bound", "i-free"}
	q := func(kv ...string) store.Query {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return store.Query{Filters: m}
	}
	tests := []struct {
		name  string
		model stage.ModelName
		q     store.Query
		want  []string
	}{
		// no_flows is Invitation's alone.
		{"invitation no_flows", inv, q("no_flows", "true"), is[1:]},
		{"invitation no_flows True", inv, q("no_flows", "True"), is[1:]},
		{"invitation no_flows 0", inv, q("no_flows", "0"), is[:1]},
		{"invitation no_flows TRUE ignored", inv, q("no_flows", "TRUE"), is},
		{"user write has no no_flows", uw, q("no_flows", "true"), ws},
		{"duo has no no_flows", duo, q("no_flows", "true"), ds},
		{"invitation continue 0", inv, q("continue_flow_without_invitation", "0"), is},
		{"invitation continue 1", inv, q("continue_flow_without_invitation", "1"), []string{}},
		// Duo filters name, configure_flow, client_id and api_hostname only.
		{"duo friendly_name is no filter", duo, q("friendly_name", "zzz"), ds},
		{"duo admin_integration_key is no filter", duo, q("admin_integration_key", "zzz"), ds},
		{"duo client_id", duo, q("client_id", "other"), []string{}},
		{"duo client_id trimmed", duo, q("client_id", " DIXXXXXXXXXXXXXXXXXX\t"), ds},
		{"duo api_hostname", duo, q("api_hostname", "api-xxxxxxxx.duosecurity.com"), ds},
		{"duo configure_flow upper case", duo, q("configure_flow", strings.ToUpper(f.PK.String())), ds[:1]},
		{"duo configure_flow of no stage", duo, q("configure_flow", uuid.Nil.String()), []string{}},
		{"duo stage_uuid", duo, q("stage_uuid", dBound.PK.String()), ds[:1]},
		{"duo name trimmed", duo, q("name", " d-free "), ds[1:]},
		// User Write: filterset __all__.
		{"user write inactive true", uw, q("create_users_as_inactive", "true"), ws[1:]},
		{"user write inactive True", uw, q("create_users_as_inactive", "True"), ws[1:]},
		{"user write inactive 1", uw, q("create_users_as_inactive", "1"), ws[1:]},
		{"user write inactive false", uw, q("create_users_as_inactive", "false"), ws[:1]},
		{"user write inactive False", uw, q("create_users_as_inactive", "False"), ws[:1]},
		{"user write inactive 0", uw, q("create_users_as_inactive", "0"), ws[:1]},
		{"user write inactive TRUE ignored", uw, q("create_users_as_inactive", "TRUE"), ws},
		{"user write inactive t ignored", uw, q("create_users_as_inactive", "t"), ws},
		{"user write group", uw, q("create_users_group", group.String()), ws[1:]},
		{"user write group upper case", uw, q("create_users_group", strings.ToUpper(group.String())), ws[1:]},
		{"user write group braces", uw, q("create_users_group", "{"+group.String()+"}"), ws[1:]},
		{"user write group blank", uw, q("create_users_group", "  "), ws},
		{"user write user_type", uw, q("user_type", "internal"), ws[1:]},
		{"user write user_type external", uw, q("user_type", "external"), ws[:1]},
		{"user write creation mode", uw, q("user_creation_mode", "always_create"), ws[1:]},
		{"user write path template trimmed", uw, q("user_path_template", " goauthentik.io/x "), ws[1:]},
		{"user write stage_uuid", uw, q("stage_uuid", wInactive.PK.String()), ws[1:]},
		// Ordering: bool false first; null last ascending, first descending.
		{"order by bool", uw, store.Query{Ordering: "-create_users_as_inactive"}, []string{"w-inactive", "w-bound"}},
		{"order by bool ascending", uw, store.Query{Ordering: "create_users_as_inactive,-name"}, ws},
		{"null group last", uw, store.Query{Ordering: "create_users_group"}, []string{"w-inactive", "w-bound"}},
		{"null group first descending", uw, store.Query{Ordering: "-create_users_group"}, ws},
		{"null configure_flow last", duo, store.Query{Ordering: "configure_flow,-name"}, ds},
		{"null configure_flow first descending", duo, store.Query{Ordering: "-configure_flow"}, []string{"d-free", "d-bound"}},
		{"stages order by pk", duo, store.Query{Ordering: "-pk"}, []string{"d-free", "d-bound"}},
		{"secrets do not order", duo, store.Query{Ordering: "-client_secret"}, ds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := listIn(ctx, s, stagesOf(tt.model), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := namesOf(p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("names = %v, want %v", got, tt.want)
			}
		})
	}

	bad := []struct {
		model stage.ModelName
		q     store.Query
		want  map[string][]string
	}{
		{uw, q("user_type", "bogus"), testutil.One("user_type", "Select a valid choice. bogus is not one of the available choices.")},
		{uw, q("user_type", " internal"), testutil.One("user_type", "Select a valid choice.  internal is not one of the available choices.")},
		{uw, q("user_creation_mode", "Always_create", "create_users_group", "group"), map[string][]string{
			"user_creation_mode": {"Select a valid choice. Always_create is not one of the available choices."},
			"create_users_group": {"Enter a valid UUID."}}},
		{duo, q("configure_flow", "f"), testutil.One("configure_flow", "Enter a valid UUID.")},
		{duo, q("name", "d\x00"), testutil.One("name", "Null characters are not allowed.")},
		{inv, q("stage_uuid", "x"), testutil.One("stage_uuid", "Enter a valid UUID.")},
	}
	for _, tt := range bad {
		_, err := listIn(ctx, s, stagesOf(tt.model), tt.q)
		testutil.WantInvalid(t, err, tt.want)
	}
}

// TestBuiltinStageFilters: the built-in kinds carry authentik's seed-era
// filter sets, each naming a real, readable field (or no_flows).
func TestBuiltinStageFilters(t *testing.T) {
	want := map[stage.ModelName][]string{
		stage.ModelUserWrite:        {"user_creation_mode", "create_users_as_inactive", "create_users_group", "user_type", "user_path_template"},
		stage.ModelInvitation:       {"continue_flow_without_invitation", "no_flows"},
		stage.ModelAuthenticatorDuo: {"configure_flow", "client_id", "api_hostname"},
	}
	for _, k := range stage.Default.Kinds() {
		w, ok := want[k.Model]
		if !ok {
			continue
		}
		delete(want, k.Model)
		if !reflect.DeepEqual(k.Filters, w) {
			t.Errorf("%s Filters = %q, want %q", k.Model, k.Filters, w)
		}
		for _, n := range k.Filters {
			if n != "no_flows" && (!k.Schema().Has(n) || k.Schema().WriteOnly(n)) {
				t.Errorf("%s filter %q is no readable field", k.Model, n)
			}
		}
	}
	for m := range want {
		t.Errorf("%s is not registered", m)
	}
}

// probeMode is a choice field: its rule is validate.Choice.
type probeMode string

// probeTag is a named string type with no choice rule.
type probeTag string

type probeConfig struct {
	Level  int32           `json:"level"`
	Mode   probeMode       `json:"mode"`
	Tag    probeTag        `json:"tag" af:"blank"`
	Note   *string         `json:"note"`
	Key    validate.Secret `json:"key" af:"blank,writeonly"`
	Active bool            `json:"active"`
}

func (probeConfig) ModelName() stage.ModelName { return "authflow_test.probestage" }

func (c probeConfig) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.Mode, validate.Choice[probeMode]("fast", "slow")),
		validation.Field(&c.Note, validate.NotBlank),
	)
}

// probeQuiet's Filters name only a write-only and an unknown field.
type probeQuiet struct {
	Level int32           `json:"level"`
	Key   validate.Secret `json:"key" af:"blank,writeonly"`
}

func (probeQuiet) ModelName() stage.ModelName { return "authflow_test.quietstage" }

// TestListStagesCustomKinds: a kind with nil Filters filters on every
// readable config field (no no_flows); one with an empty list on none.
func TestListStagesCustomKinds(t *testing.T) {
	reg := &stage.Registry{}
	for _, k := range stage.Default.Kinds() {
		reg.Register(k)
	}
	reg.Register(stage.Kind{Model: "authflow_test.probestage", New: func() stage.Config { return &probeConfig{Mode: "fast"} },
		Component: "ak-stage-probe-form", VerboseName: "Probe Stage"})
	reg.Register(stage.Kind{Model: "authflow_test.quietstage", New: func() stage.Config { return &probeQuiet{} },
		Component: "ak-stage-quiet-form", VerboseName: "Quiet Stage", Filters: []string{"key", "no_such", "no_flows"}})
	s := openTestStore(t, filepath.Join(t.TempDir(), "kinds.db"), &store.Options{StageKinds: reg, NewID: storetest.CounterIDs(1, 1)})
	ctx := t.Context()
	const model = "authflow_test.probestage"
	for _, body := range []string{
		`{"name":"p3","level":3,"mode":"slow","tag":"x","note":"hello","key":"k3","active":true}`,
		`{"name":"p7","level":7,"key":"k7"}`,
		`{"name":"p-1","level":-1,"note":"n"}`,
	} {
		if _, err := createJSONIn(ctx, s, store.Stages.Kind(model), []byte(body)); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	all := []string{"p-1", "p3", "p7"}
	tests := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"int", store.Query{Filters: map[string]string{"level": "3"}}, []string{"p3"}},
		{"int as decimal", store.Query{Filters: map[string]string{"level": "7.5"}}, []string{"p7"}},
		{"negative int", store.Query{Filters: map[string]string{"level": "-1"}}, []string{"p-1"}},
		{"choice", store.Query{Filters: map[string]string{"mode": "fast"}}, []string{"p-1", "p7"}},
		{"named string without a rule takes any value", store.Query{Filters: map[string]string{"tag": "nope"}}, []string{}},
		{"named string without a rule", store.Query{Filters: map[string]string{"tag": "x"}}, []string{"p3"}},
		{"nullable text", store.Query{Filters: map[string]string{"note": "n"}}, []string{"p-1"}},
		{"bool", store.Query{Filters: map[string]string{"active": "True"}}, []string{"p3"}},
		{"write-only is no filter", store.Query{Filters: map[string]string{"key": "k3"}}, all},
		{"no no_flows without Filters naming it", store.Query{Filters: map[string]string{"no_flows": "false"}}, all},
		{"order by int", store.Query{Ordering: "-level"}, []string{"p7", "p3", "p-1"}},
		{"null note last", store.Query{Ordering: "note"}, []string{"p3", "p-1", "p7"}},
		{"null note first descending", store.Query{Ordering: "-note"}, []string{"p7", "p-1", "p3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := listIn(ctx, s, store.Stages.Kind(model), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := namesOf(p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("names = %v, want %v", got, tt.want)
			}
		})
	}
	_, err := listIn(ctx, s, store.Stages.Kind(model), store.Query{Filters: map[string]string{"level": "three", "mode": "medium"}})
	testutil.WantInvalid(t, err, map[string][]string{"level": {"Enter a number."},
		"mode": {"Select a valid choice. medium is not one of the available choices."}})

	// A kind whose Filters leave its fields out filters on none of them,
	// even on a bad value, but still on name, stage_uuid and no_flows.
	const quiet = "authflow_test.quietstage"
	q1, err := createJSONIn(ctx, s, store.Stages.Kind(quiet), []byte(`{"name":"q1","level":1,"key":"k"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := createJSONIn(ctx, s, store.Stages.Kind(quiet), []byte(`{"name":"q2","level":2}`)); err != nil {
		t.Fatal(err)
	}
	f := mkFlow(t, s, "f")
	mkBinding(t, s, f.PK, q1.PK, 1)
	for _, tt := range []struct {
		filters map[string]string
		want    []string
	}{
		{map[string]string{"level": "1"}, []string{"q1", "q2"}},
		{map[string]string{"level": "one"}, []string{"q1", "q2"}},
		{map[string]string{"key": "k"}, []string{"q1", "q2"}},
		{map[string]string{"no_flows": "1"}, []string{"q2"}},
		{map[string]string{"name": "q1"}, []string{"q1"}},
		{map[string]string{"stage_uuid": q1.PK.String()}, []string{"q1"}},
	} {
		p, err := listIn(ctx, s, store.Stages.Kind(quiet), store.Query{Filters: tt.filters})
		if err != nil {
			t.Errorf("%v: %v", tt.filters, err)
			continue
		}
		if got := namesOf(p); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%v: names = %v, want %v", tt.filters, got, tt.want)
		}
	}
}
