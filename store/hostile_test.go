package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

// Hostile list queries and bodies: each is refused with a 400-shaped
// *validate.Error naming its parameter, or costs what the plain query it
// boils down to costs and answers the same. (The costs are measured by the
// Hostile benchmarks; no test here times anything.)

// wantFieldError fails t unless err is a *validate.Error holding exactly
// msg on key.
func wantFieldError(t *testing.T, err error, key, msg string) {
	t.Helper()
	var ve *validate.Error
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *validate.Error on %q", err, key)
	}
	if got := ve.Fields[key]; !reflect.DeepEqual(got, []string{msg}) {
		t.Fatalf("errors on %q: %q, want [%q] (all: %v)", key, got, msg, ve)
	}
}

// listQuery lists flows with the query string v, as the API does.
func listQuery(t *testing.T, s *store.Store, v url.Values) (store.Page[string], error) {
	t.Helper()
	q, err := store.QueryFromValues(v)
	if err != nil {
		return store.Page[string]{}, err
	}
	p, err := listIn(context.Background(), s, store.Flows, q)
	if err != nil {
		return store.Page[string]{}, err
	}
	return store.Page[string]{Pagination: p.Pagination, Results: slugsOf(p)}, nil
}

func hostileFlows(t *testing.T) *store.Store {
	t.Helper()
	s := newTestStore(t)
	for _, slug := range []string{"alpha-login", "beta-login", "gamma-signup"} {
		mkFlow(t, s, slug)
	}
	return s
}

func TestHostileSearchTerms(t *testing.T) {
	s := hostileFlows(t)
	terms := make([]string, 1000)
	for i := range terms {
		terms[i] = strconv.FormatInt(int64(i), 36) // short: 2,963 characters with the spaces
	}
	_, err := listQuery(t, s, url.Values{"search": {strings.Join(terms, " ")}})
	wantFieldError(t, err, "search", "Ensure this value has at most 32 search terms (it has 1000).")

	// The cap counts distinct terms; 33 is one too many.
	_, err = listQuery(t, s, url.Values{"search": {strings.Join(terms[:store.MaxSearchTerms+1], ",")}})
	wantFieldError(t, err, "search", "Ensure this value has at most 32 search terms (it has 33).")

	// MaxSearchTerms distinct terms are fine (here they match nothing).
	p, err := listQuery(t, s, url.Values{"search": {strings.Join(terms[:store.MaxSearchTerms], " ")}})
	if err != nil || p.Pagination.Count != 0 {
		t.Fatalf("32 terms: %+v, %v; want an empty page", p, err)
	}

	// A Go caller that builds the Query itself is refused too.
	_, err = listIn(context.Background(), s, store.Flows, store.Query{Search: strings.Join(terms, " ")})
	wantFieldError(t, err, "search", "Ensure this value has at most 32 search terms (it has 1000).")
	_, err = listIn(context.Background(), s, store.Bindings, store.Query{Search: strings.Join(terms, " ")})
	wantFieldError(t, err, "search", "Ensure this value has at most 32 search terms (it has 1000).")
	_, err = listIn(context.Background(), s, store.Stages, store.Query{Search: strings.Join(terms, " ")})
	wantFieldError(t, err, "search", "Ensure this value has at most 32 search terms (it has 1000).")
}

func TestHostileSearchRepeated(t *testing.T) {
	s := hostileFlows(t)
	want, err := listQuery(t, s, url.Values{"search": {"login"}})
	if err != nil || want.Pagination.Count != 2 {
		t.Fatalf("one term: %+v, %v", want, err)
	}
	// One term repeated up to the length cap, in any case and with any
	// separators, is one term: matching is case-insensitive.
	search := strings.Repeat("login ", store.MaxSearchLength/len("login "))
	got, err := listQuery(t, s, url.Values{"search": {search}})
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%d copies of one term: %+v, %v; want %+v", strings.Count(search, "login"), got, err, want)
	}
	mixed := strings.Repeat("login,LOGIN Login\tlOgIn ", store.MaxSearchLength/len("login,LOGIN Login\tlOgIn "))
	got, err = listQuery(t, s, url.Values{"search": {mixed}})
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("one term in four cases, repeated: %+v, %v; want %+v", got, err, want)
	}
	// Beyond the length cap, repeats are refused like anything else.
	_, err = listQuery(t, s, url.Values{"search": {strings.Repeat("login,", 10000)}})
	wantFieldError(t, err, "search", "Ensure this value has at most 4096 characters (it has 60000).")
	// Two distinct terms still both apply.
	got, err = listQuery(t, s, url.Values{"search": {"LOGIN beta login BETA"}})
	if err != nil || !reflect.DeepEqual(got.Results, []string{"beta-login"}) {
		t.Errorf("two terms, repeated: %+v, %v", got, err)
	}
}

func TestHostileSearchLength(t *testing.T) {
	s := hostileFlows(t)
	// Characters, not bytes: 4096 two-byte letters are within the cap.
	p, err := listQuery(t, s, url.Values{"search": {strings.Repeat("é", store.MaxSearchLength)}})
	if err != nil || p.Pagination.Count != 0 {
		t.Fatalf("%d characters: %+v, %v", store.MaxSearchLength, p, err)
	}
	_, err = listQuery(t, s, url.Values{"search": {strings.Repeat("é", store.MaxSearchLength+1)}})
	wantFieldError(t, err, "search", "Ensure this value has at most 4096 characters (it has 4097).")
	_, err = listQuery(t, s, url.Values{"search": {strings.Repeat("a", 1<<20)}})
	wantFieldError(t, err, "search", fmt.Sprintf("Ensure this value has at most 4096 characters (it has %d).", 1<<20))
}

func TestHostileOrdering(t *testing.T) {
	s := hostileFlows(t)
	mkFlow(t, s, "delta-signup")
	if _, err := patchIn(context.Background(), s, store.Flows, store.By("slug", "delta-signup"), []byte(`{"designation": "enrollment"}`)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, ordering, same string
	}{
		{"one field 10,000 times", strings.Repeat("designation,", 10000), "designation"},
		{"both directions: the first decides", strings.Repeat("-designation,designation,", 5000), "-designation"},
		{"repeats among others", strings.Repeat("-slug, slug ,name,", 5000), "-slug,name"},
		{"unknown fields among them", strings.Repeat("colour,-name,name,", 5000) + "slug", "-name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := listQuery(t, s, url.Values{"ordering": {tc.same}})
			if err != nil {
				t.Fatal(err)
			}
			got, err := listQuery(t, s, url.Values{"ordering": {tc.ordering}})
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("ordering %.40q...: %+v, %v; want %+v", tc.ordering, got, err, want)
			}
			// A Go caller's Query is deduplicated by the list itself.
			p, err := listIn(context.Background(), s, store.Flows, store.Query{Ordering: tc.ordering})
			if err != nil || !reflect.DeepEqual(slugsOf(p), want.Results) {
				t.Errorf("Query.Ordering %.40q...: %v, %v; want %v", tc.ordering, slugsOf(p), err, want.Results)
			}
		})
	}
	// QueryFromValues keeps an ordering without repeats as sent.
	q, err := store.QueryFromValues(url.Values{"ordering": {" -slug ,name,colour"}})
	if err != nil || q.Ordering != " -slug ,name,colour" {
		t.Errorf("QueryFromValues ordering = %q, %v", q.Ordering, err)
	}
	q, err = store.QueryFromValues(url.Values{"ordering": {"-slug,name, slug,-name"}})
	if err != nil || q.Ordering != "-slug,name" {
		t.Errorf("QueryFromValues ordering = %q, %v; want %q", q.Ordering, err, "-slug,name")
	}
}

func TestHostileNumberFilter(t *testing.T) {
	s := newTestStore(t)
	f := mkFlow(t, s, "numbers")
	st := mkUserWrite(t, s, "numbers-write")
	mkBinding(t, s, f.PK, st.PK, 10)
	list := func(v string) (store.Page[string], error) {
		p, err := listIn(context.Background(), s, store.Bindings, store.Query{Filters: map[string]string{"order": v}})
		out := store.Page[string]{Pagination: p.Pagination}
		for _, b := range p.Results {
			out.Results = append(out.Results, b.PK.String())
		}
		return out, err
	}
	_, err := list(strings.Repeat("1", 1<<20))
	wantFieldError(t, err, "order", "Ensure this value has at most 1000 characters (it has 1048576).")
	_, err = list(strings.Repeat("٣", store.MaxNumberLength+1)) // Arabic-Indic digits: characters, not bytes
	wantFieldError(t, err, "order", "Ensure this value has at most 1000 characters (it has 1001).")
	// 1000 characters are read, and mean what they say.
	p, err := list(strings.Repeat("0", store.MaxNumberLength-2) + "10")
	if err != nil || p.Pagination.Count != 1 {
		t.Errorf("1000-character 10: %+v, %v; want the binding", p, err)
	}
	p, err = list(strings.Repeat("9", store.MaxNumberLength))
	if err != nil || p.Pagination.Count != 0 {
		t.Errorf("1000 nines: %+v, %v; want no match", p, err)
	}
	// Through the query string too, with the other errors beside it.
	q, err := store.QueryFromValues(url.Values{"order": {strings.Repeat("1", 1001)}, "target": {"xyz"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = listIn(context.Background(), s, store.Bindings, q)
	wantFieldError(t, err, "order", "Ensure this value has at most 1000 characters (it has 1001).")
	wantFieldError(t, err, "target", "Enter a valid UUID.")
}

func TestHostileBodyInteger(t *testing.T) {
	s := newTestStore(t)
	f := mkFlow(t, s, "body-numbers")
	st := mkUserWrite(t, s, "body-numbers-write")
	b := mkBinding(t, s, f.PK, st.PK, 10)
	ctx := context.Background()
	for _, tc := range []struct {
		name, value, msg string
	}{
		{"1 MiB number", strings.Repeat("1", 1<<20), validate.MsgIntegerTooLarge},
		{"1001-digit number", strings.Repeat("1", 1001), validate.MsgIntegerTooLarge},
		{"1 MiB string", `"` + strings.Repeat("1", 1<<20) + `"`, validate.MsgIntegerTooLarge},
		{"1 MiB float", "1." + strings.Repeat("0", 1<<20), validate.MsgIntegerTooLarge},
		{"1000-digit number", strings.Repeat("1", 1000), validate.MaxValue(2147483647)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := wantUnchanged(t, s, func() error {
				_, err := patchIn(ctx, s, store.Bindings, store.PK(b.PK), []byte(`{"order": `+tc.value+`}`))
				return err
			})
			wantFieldError(t, err, "order", tc.msg)
		})
	}
	// A reference given as a 1 MiB integer is no UUID, and says so without
	// parsing it.
	huge := strings.Repeat("1", 1<<20)
	_, err := createJSONIn(ctx, s, store.Bindings, []byte(`{"target": `+huge+`, "stage": "`+st.PK.String()+`", "order": 20}`))
	wantFieldError(t, err, "target", validate.InvalidUUID(huge))
	// A 39-digit integer is parsed: 2^128-1 is a UUID, of no flow.
	_, err = createJSONIn(ctx, s, store.Bindings, []byte(`{"target": 340282366920938463463374607431768211455, "stage": "`+st.PK.String()+`", "order": 20}`))
	wantFieldError(t, err, "target", validate.DoesNotExist("340282366920938463463374607431768211455"))
}
