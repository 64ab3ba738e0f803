package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/store"
)

// Hostile queries and bodies through the handler: each is a 400 in
// authentik's error shape, or the answer of the plain query it boils down
// to. (Their cost is measured by the store's Hostile benchmarks.)

func TestHostileSearchThroughHandler(t *testing.T) {
	f := newFixture(t, nil)
	terms := make([]string, 1000)
	for i := range terms {
		terms[i] = strconv.FormatInt(int64(i), 36)
	}
	for _, path := range []string{"/api/v3/flows/instances/", "/api/v3/flows/bindings/", "/api/v3/stages/all/", "/api/v3/stages/user_write/"} {
		f.do("GET", path+"?search="+url.QueryEscape(strings.Join(terms, " ")), "").
			expect(t, http.StatusBadRequest, `{"search": ["Ensure this value has at most 32 search terms (it has 1000)."]}`)
	}
	f.do("GET", "/api/v3/flows/instances/?search="+strings.Repeat("a", store.MaxSearchLength+1), "").
		expect(t, http.StatusBadRequest, `{"search": ["Ensure this value has at most 4096 characters (it has 4097)."]}`)

	// One term, repeated in any case up to the cap, is that term.
	want := f.must(http.StatusOK, "GET", "/api/v3/flows/instances/?search=welcome", "")
	if n := want["pagination"].(map[string]any)["count"]; n != 1.0 {
		t.Fatalf("search=welcome: count %v, want 1", n)
	}
	repeated := strings.Repeat("welcome,WELCOME+Welcome+", store.MaxSearchLength/len("welcome,WELCOME Welcome "))
	got := f.must(http.StatusOK, "GET", "/api/v3/flows/instances/?search="+repeated, "")
	if !jsonValueEqual(got, want) {
		t.Errorf("repeated term: %v, want %v", got, want)
	}
}

func TestHostileOrderingThroughHandler(t *testing.T) {
	f := newFixture(t, nil)
	for _, slug := range []string{"b-enroll", "c-recover"} {
		f.must(http.StatusCreated, "POST", "/api/v3/flows/instances/",
			`{"name": "`+slug+`", "slug": "`+slug+`", "title": "t", "designation": "`+map[string]string{"b-enroll": "enrollment", "c-recover": "recovery"}[slug]+`"}`)
	}
	want := f.must(http.StatusOK, "GET", "/api/v3/flows/instances/?ordering=-designation", "")
	got := f.must(http.StatusOK, "GET", "/api/v3/flows/instances/?ordering="+strings.Repeat("-designation,", 10000), "")
	if !jsonValueEqual(got, want) {
		t.Errorf("ordering=-designation, x10,000: %v\nwant %v", got, want)
	}
	// The first occurrence decides the direction.
	got = f.must(http.StatusOK, "GET", "/api/v3/flows/instances/?ordering="+strings.Repeat("-designation,designation,", 5000), "")
	if !jsonValueEqual(got, want) {
		t.Errorf("ordering=-designation,designation x5,000: %v\nwant %v", got, want)
	}
	// Bindings order by order or stage__name only; repeats change nothing.
	want = f.must(http.StatusOK, "GET", "/api/v3/flows/bindings/?ordering=-order", "")
	got = f.must(http.StatusOK, "GET", "/api/v3/flows/bindings/?ordering="+strings.Repeat("-order,order,pk,", 5000), "")
	if !jsonValueEqual(got, want) {
		t.Errorf("bindings ordering: %v\nwant %v", got, want)
	}
}

func TestHostileNumbersThroughHandler(t *testing.T) {
	f := newFixture(t, nil)
	f.do("GET", "/api/v3/flows/bindings/?order="+strings.Repeat("1", 1<<20), "").
		expect(t, http.StatusBadRequest, `{"order": ["Ensure this value has at most 1000 characters (it has 1048576)."]}`)
	list := f.must(http.StatusOK, "GET", "/api/v3/flows/bindings/?order="+strings.Repeat("0", 998)+"10", "")
	if n := list["pagination"].(map[string]any)["count"]; n != 1.0 {
		t.Errorf("1000-character order=10: count %v, want 1", n)
	}

	// A body number as large as the body limit allows, and one beyond it
	// with a larger limit: DRF's IntegerField message either way.
	prefix, suffix := `{"order": `, `}`
	digits := strings.Repeat("1", int(api.DefaultMaxBodyBytes)-len(prefix)-len(suffix))
	bindingPath := "/api/v3/flows/bindings/" + f.bindPK + "/"
	f.do("PATCH", bindingPath, prefix+digits+suffix).
		expect(t, http.StatusBadRequest, `{"order": ["String value too large."]}`)
	f.do("PATCH", bindingPath, `{"order": "`+digits[:1001]+`"}`).
		expect(t, http.StatusBadRequest, `{"order": ["String value too large."]}`)
	f.do("PATCH", bindingPath, `{"order": `+digits[:1000]+`}`).
		expect(t, http.StatusBadRequest, `{"order": ["Ensure this value is less than or equal to 2147483647."]}`)
	big := newClient(t, &api.Options{MaxBodyBytes: 4 << 20})
	bf := setup(big)
	big.do("PUT", "/api/v3/flows/bindings/"+bf.bindPK+"/",
		fmt.Sprintf(`{"target": %q, "stage": %q, "order": %s}`, bf.flowPK, bf.userWrite, strings.Repeat("9", 2<<20))).
		expect(t, http.StatusBadRequest, `{"order": ["String value too large."]}`)
	if got := f.must(http.StatusOK, "GET", bindingPath, "")["order"]; got != 10.0 {
		t.Errorf("order after the refused writes: %v, want 10", got)
	}
}
