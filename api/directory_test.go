package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/store"
)

// cheapPasswords is a password policy fast enough for tests.
var cheapPasswords = password.Policy{Iterations: 1000}

// testClock is a clock that moves only when told.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

// dirFixture is a store holding three groups and three users:
//
//	admins (superuser) ← child (its parent);  staff
//	alice: admins, path users, attributes {"settings": {"locale": "de"}, "n": 1}
//	bob:   child (a superuser through admins), path users/eng, external
//	carol: staff, a service account under goauthentik.io/service-accounts, inactive
type dirFixture struct {
	*client
	s                    *store.Store
	clock                *testClock
	admins, child, staff string
	alice, bob, carol    int64
	aliceUUID            string
}

func newDirFixture(t *testing.T, opts *api.Options) *dirFixture {
	t.Helper()
	clock := &testClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	s := newStore(t, &store.Options{Passwords: cheapPasswords, Now: clock.now})
	f := &dirFixture{client: &client{t: t, h: api.NewHandler(s, opts)}, s: s, clock: clock}
	f.admins = f.must(201, "POST", "/api/v3/core/groups/", `{"name": "admins", "is_superuser": true}`)["pk"].(string)
	f.child = f.must(201, "POST", "/api/v3/core/groups/", `{"name": "child", "parent": "`+f.admins+`"}`)["pk"].(string)
	f.staff = f.must(201, "POST", "/api/v3/core/groups/", `{"name": "staff", "attributes": {"team": "ops"}}`)["pk"].(string)
	a := f.must(201, "POST", "/api/v3/core/users/", `{"username": "alice", "name": "Alice A", "email": "alice@example.com",
		"groups": ["`+f.admins+`"], "attributes": {"settings": {"locale": "de"}, "n": 1}}`)
	f.alice, f.aliceUUID = int64(a["pk"].(float64)), a["uuid"].(string)
	f.bob = int64(f.must(201, "POST", "/api/v3/core/users/", `{"username": "bob", "name": "Bob B", "email": "bob@example.com",
		"groups": ["`+f.child+`"], "path": "users/eng", "type": "external", "attributes": {"settings": {"locale": "en"}}}`)["pk"].(float64))
	f.carol = int64(f.must(201, "POST", "/api/v3/core/users/", `{"username": "carol", "name": "Carol C",
		"groups": ["`+f.staff+`"], "path": "goauthentik.io/service-accounts", "type": "service_account", "is_active": false}`)["pk"].(float64))
	return f
}

func (f *dirFixture) user(pk int64) string   { return fmt.Sprintf("/api/v3/core/users/%d/", pk) }
func (f *dirFixture) group(pk string) string { return "/api/v3/core/groups/" + pk + "/" }

// names lists the values of key in a list response's results, in order.
func (f *dirFixture) names(path, key string) []string {
	f.t.Helper()
	res := f.do("GET", path, "")
	if res.Code != http.StatusOK {
		f.t.Fatalf("GET %s: status %d: %s", path, res.Code, res.Body)
	}
	var page struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(res.Body, &page); err != nil {
		f.t.Fatal(err)
	}
	out := []string{}
	for _, r := range page.Results {
		out = append(out, fmt.Sprint(r[key]))
	}
	return out
}

func list(vs ...string) []string { return append([]string{}, vs...) }

// TestUserListFilters: every filter of authentik's UsersFilter, search
// and the default ordering (test_users_api.py's filter tests and
// DIRECTORY.md §1.6).
func TestUserListFilters(t *testing.T) {
	f := newDirFixture(t, nil)
	attrs := func(v string) string { return "attributes=" + url.QueryEscape(v) }
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", list("alice", "bob", "carol")},
		{"ordering=-username", list("carol", "bob", "alice")},
		{"username=bob", list("bob")},
		{"username=Bob", list()}, // exact, case-sensitive
		{"email=alice@example.com", list("alice")},
		{"name=Carol+C", list("carol")},
		{"name=carol+c", list()},
		{"is_active=false", list("carol")},
		{"is_active=true", list("alice", "bob")},
		{"uuid=" + f.aliceUUID, list("alice")},
		{"uuid=" + strings.ToUpper(f.aliceUUID), list("alice")},
		// is_superuser reads the direct groups only: bob is a superuser
		// through child's parent, and is not listed as one.
		{"is_superuser=true", list("alice")},
		{"is_superuser=false", list("bob", "carol")},
		{"path=users", list("alice")},
		{"path_startswith=users", list("alice", "bob")},
		{"path_startswith=users/", list("bob")},
		{"path_startswith=Users", list()},
		{"type=external", list("bob")},
		{"type=external&type=service_account", list("bob", "carol")},
		{"type=internal", list("alice")},
		{"groups_by_name=admins", list("alice")}, // direct membership only
		{"groups_by_name=child", list("bob")},
		{"groups_by_name=admins&groups_by_name=staff", list("alice", "carol")},
		{"groups_by_pk=" + f.staff, list("carol")},
		{"groups_by_pk=" + f.staff + "&groups_by_pk=" + f.child, list("bob", "carol")},
		{attrs(`{"settings__locale": "de"}`), list("alice")},
		{attrs(`{"settings__locale__exact": "en"}`), list("bob")},
		{attrs(`{"settings": {"locale": "en"}}`), list("bob")},
		{attrs(`{"n": 1}`), list("alice")},
		{attrs(`{"n": 1.0}`), list("alice")},
		{attrs(`{"n": "1"}`), list()},
		{attrs(`{"missing": null}`), list()},
		{attrs(`{"settings__locale": "de", "n": 2}`), list()},
		{attrs(`{}`), list("alice", "bob", "carol")},
		{attrs(`  `), list("alice", "bob", "carol")},
		// Search: username, name, is_active, email, uuid and attributes.
		{"search=ALICE", list("alice")},
		{"search=example.com", list("alice", "bob")},
		{"search=locale", list("alice", "bob")},
		{"search=" + f.aliceUUID[:8], list("alice")},
		{"search=bob+example", list("bob")},
		// is_active is searched as PostgreSQL's text of a boolean.
		{"search=fals", list("carol")},
		{"search=TRUE+a", list("alice", "bob")},
		// include_groups is no filter.
		{"include_groups=false", list("alice", "bob", "carol")},
		// Filters combine.
		{"path_startswith=users&is_superuser=false", list("bob")},
	} {
		if got := f.names("/api/v3/core/users/?"+tt.query, "username"); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("?%s: %v, want %v", tt.query, got, tt.want)
		}
	}
	// bob is reported a superuser although the filter leaves him out.
	if got := f.must(200, "GET", f.user(f.bob), "")["is_superuser"]; got != true {
		t.Errorf("bob's is_superuser = %v, want true", got)
	}
	for _, tt := range []struct{ query, want string }{
		{attrs(`not json`), `["filter: failed to parse JSON"]`},
		{attrs(`{"a": `), `["filter: failed to parse JSON"]`},
		{attrs(`[1]`), `["filter: value must be key:value mapping"]`},
		{attrs(`"x"`), `["filter: value must be key:value mapping"]`},
		{"type=bogus", `{"type": ["Select a valid choice. bogus is not one of the available choices."]}`},
		// groups_by_pk and groups_by_name name groups (Django's
		// ModelMultipleChoiceFilter): the first bad value is reported.
		{"groups_by_pk=nope", `{"groups_by_pk": ["“nope” is not a valid value."]}`},
		{"groups_by_pk=" + f.staff + "&groups_by_pk=" + f.alicesGroupless(), `{"groups_by_pk": ["Select a valid choice. ` + f.alicesGroupless() + ` is not one of the available choices."]}`},
		{"groups_by_name=nobody", `{"groups_by_name": ["Select a valid choice. nobody is not one of the available choices."]}`},
		{"groups_by_name=Admins&groups_by_name=x", `{"groups_by_name": ["Select a valid choice. Admins is not one of the available choices."]}`},
		{"type=bogus&type=worse", `{"type": ["Select a valid choice. bogus is not one of the available choices."]}`},
		// A field's error comes first: authentik's attributes filter
		// runs once the form is valid.
		{"uuid=nope&" + attrs(`[1]`), `{"uuid": ["Enter a valid UUID."]}`},
	} {
		f.do("GET", "/api/v3/core/users/?"+tt.query, "").expect(t, 400, tt.want)
	}
}

// TestUserIncludeGroups: groups_obj lists the direct groups; with
// include_groups other than "true" (in any case) it is null, on the list,
// a retrieve and a write's answer alike.
func TestUserIncludeGroups(t *testing.T) {
	f := newDirFixture(t, nil)
	groupsObj := func(m map[string]any) any { return m["groups_obj"] }
	bob := f.must(200, "GET", f.user(f.bob), "")
	objs, ok := groupsObj(bob).([]any)
	if !ok || len(objs) != 1 || objs[0].(map[string]any)["name"] != "child" || objs[0].(map[string]any)["parent_name"] != "admins" {
		t.Fatalf("bob's groups_obj = %v, want [child] (direct groups only)", groupsObj(bob))
	}
	for _, q := range []string{"include_groups=true", "include_groups=TRUE", "include_groups=True", ""} {
		if got := f.must(200, "GET", f.user(f.bob)+"?"+q, ""); groupsObj(got) == nil {
			t.Errorf("?%s: groups_obj null", q)
		}
	}
	for _, q := range []string{"include_groups=false", "include_groups=", "include_groups=1", "include_groups=yes", "include_groups=true&include_groups=false"} {
		if got := f.must(200, "GET", f.user(f.bob)+"?"+q, ""); got["groups_obj"] != nil {
			t.Errorf("retrieve ?%s: groups_obj = %v, want null", q, got["groups_obj"])
		}
		res := f.do("GET", "/api/v3/core/users/?"+q, "")
		var page struct {
			Results []map[string]any `json:"results"`
		}
		if err := json.Unmarshal(res.Body, &page); err != nil || len(page.Results) != 3 {
			t.Fatalf("list ?%s: %v: %s", q, err, res.Body)
		}
		for _, u := range page.Results {
			if v, present := u["groups_obj"]; !present || v != nil {
				t.Errorf("list ?%s: %s's groups_obj = %v, want null", q, u["username"], v)
			}
		}
	}
	patched := f.must(200, "PATCH", f.user(f.bob)+"?include_groups=false", `{"name": "Bob"}`)
	if v, present := patched["groups_obj"]; !present || v != nil {
		t.Errorf("PATCH ?include_groups=false: groups_obj = %v", v)
	}
	for _, key := range []string{"avatar", "uid", "password_change_date", "date_joined"} {
		if s, _ := bob[key].(string); s == "" {
			t.Errorf("bob's %s = %v, want a string", key, bob[key])
		}
	}
}

// TestGroupListFilters: authentik's GroupFilter, search, the default
// ordering, include_users, and roles.
func TestGroupListFilters(t *testing.T) {
	f := newDirFixture(t, nil)
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", list("admins", "child", "staff")},
		{"name=child", list("child")},
		{"is_superuser=true", list("admins")},
		{"is_superuser=false", list("child", "staff")},
		{fmt.Sprintf("members_by_pk=%d", f.alice), list("admins")},
		{fmt.Sprintf("members_by_pk=%d&members_by_pk=%d", f.alice, f.carol), list("admins", "staff")},
		{"members_by_username=bob", list("child")},
		{"members_by_username=bob&members_by_username=carol", list("child", "staff")},
		{"attributes=" + url.QueryEscape(`{"team": "ops"}`), list("staff")},
		{"search=ADM", list("admins")},
		{"include_users=false", list("admins", "child", "staff")},
	} {
		if got := f.names("/api/v3/core/groups/?"+tt.query, "name"); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("?%s: %v, want %v", tt.query, got, tt.want)
		}
	}
	f.do("GET", "/api/v3/core/groups/?attributes=1", "").expect(t, 400, `["filter: value must be key:value mapping"]`)
	for _, tt := range []struct{ query, want string }{
		{"members_by_pk=x", `{"members_by_pk": ["“x” is not a valid value."]}`},
		{"members_by_pk=1.5", `{"members_by_pk": ["“1.5” is not a valid value."]}`},
		{"members_by_pk=99999", `{"members_by_pk": ["Select a valid choice. 99999 is not one of the available choices."]}`},
		{"members_by_username=BOB", `{"members_by_username": ["Select a valid choice. BOB is not one of the available choices."]}`},
	} {
		f.do("GET", "/api/v3/core/groups/?"+tt.query, "").expect(t, 400, tt.want)
	}

	g := f.must(200, "GET", f.group(f.admins), "")
	if !reflect.DeepEqual(g["roles"], []any{}) || !reflect.DeepEqual(g["roles_obj"], []any{}) {
		t.Errorf("roles %v, roles_obj %v, want [] and []", g["roles"], g["roles_obj"])
	}
	members, _ := g["users_obj"].([]any)
	if len(members) != 1 || members[0].(map[string]any)["username"] != "alice" {
		t.Errorf("admins' users_obj = %v, want [alice]", g["users_obj"])
	}
	for _, q := range []string{"include_users=false", "include_users=0"} {
		if got := f.must(200, "GET", f.group(f.admins)+"?"+q, ""); got["users_obj"] != nil {
			t.Errorf("retrieve ?%s: users_obj = %v, want null", q, got["users_obj"])
		}
		for _, name := range f.names("/api/v3/core/groups/?"+q, "users_obj") {
			if name != "<nil>" {
				t.Errorf("list ?%s: users_obj %s, want null", q, name)
			}
		}
	}
}

// TestUserPaths: GET /core/users/paths/ lists the distinct paths, sorted,
// of the users the list filters select (test_users_api.py test_paths).
func TestUserPaths(t *testing.T) {
	f := newDirFixture(t, nil)
	f.must(201, "POST", "/api/v3/core/users/", `{"username": "dave", "name": "D", "path": "users/eng"}`)
	f.do("GET", "/api/v3/core/users/paths/", "").expect(t, 200, `{"paths": ["goauthentik.io/service-accounts", "users", "users/eng"]}`)
	f.do("GET", "/api/v3/core/users/paths/?type=external", "").expect(t, 200, `{"paths": ["users/eng"]}`)
	f.do("GET", "/api/v3/core/users/paths/?page=7&page_size=1", "").expect(t, 200, `{"paths": ["goauthentik.io/service-accounts", "users", "users/eng"]}`)
	f.do("GET", "/api/v3/core/users/paths/?page=x", "").expect(t, 200, `{"paths": ["goauthentik.io/service-accounts", "users", "users/eng"]}`)
	f.do("GET", "/api/v3/core/users/paths/?search=alice", "").expect(t, 200, `{"paths": ["users"]}`)
	f.do("GET", "/api/v3/core/users/paths/?username=nobody", "").expect(t, 200, `{"paths": []}`)
	f.do("GET", "/api/v3/core/users/paths/?attributes=x", "").expect(t, 400, `["filter: failed to parse JSON"]`)
	f.do("POST", "/api/v3/core/users/paths/", "{}").expect(t, 405, `{"detail": "Method \"POST\" not allowed."}`)

	p := denying("authentik_core.view_user")
	d := newDirFixture(t, &api.Options{Authorize: p.authorize})
	d.do("GET", "/api/v3/core/users/paths/", "").expect(t, 200, `{"paths": []}`)
}

// TestSetPassword: set_password hashes and stores the password (which
// then verifies) and moves password_change_date; a missing or null
// password makes it unusable, as in authentik 2025.6; a password that is
// not a string, or is blank, is refused (test_users_api.py
// test_set_password, test_set_password_blank).
func TestSetPassword(t *testing.T) {
	f := newDirFixture(t, nil)
	ctx := context.Background()
	path := f.user(f.bob) + "set_password/"
	before := f.must(200, "GET", f.user(f.bob), "")["password_change_date"]
	f.clock.t = f.clock.t.Add(time.Hour)
	res := f.do("POST", path, `{"password": "correct horse"}`)
	if res.Code != http.StatusNoContent || len(res.Body) != 0 {
		t.Fatalf("status %d, body %q; want 204 and no body", res.Code, res.Body)
	}
	if after := f.must(200, "GET", f.user(f.bob), "")["password_change_date"]; after == before {
		t.Errorf("password_change_date stayed %v", after)
	}
	if ok, err := f.s.CheckPassword(ctx, f.bob, "correct horse"); !ok || err != nil {
		t.Errorf("the new password does not verify: %v, %v", ok, err)
	}
	if ok, _ := f.s.CheckPassword(ctx, f.bob, "wrong"); ok {
		t.Error("a wrong password verifies")
	}

	for _, body := range []string{`{}`, `{"password": null}`, ``} {
		f.must(204, "POST", f.user(f.alice)+"set_password/", `{"password": "first"}`)
		f.must(204, "POST", f.user(f.alice)+"set_password/", body)
		usable, err := inView(f.s, func(tx *store.Tx) (bool, error) { return tx.HasUsablePassword(f.alice) })
		if err != nil || usable {
			t.Errorf("body %q: usable %v, %v; want an unusable password", body, usable, err)
		}
	}

	for _, tt := range []struct{ body, want string }{
		{`{"password": ""}`, `{"password": ["This field may not be blank."]}`},
		{`{"password": 5}`, `{"password": ["Not a valid string."]}`},
		{`{"password": true}`, `{"password": ["Not a valid string."]}`},
		{`{"password": ["a"]}`, `{"password": ["Not a valid string."]}`},
		{`["a"]`, `{"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}`},
		{`"a"`, `{"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}`},
		{`1.5`, `{"non_field_errors": ["Invalid data. Expected a dictionary, but got float."]}`},
	} {
		f.do("POST", path, tt.body).expect(t, 400, tt.want)
	}
	if ok, _ := f.s.CheckPassword(ctx, f.bob, "correct horse"); !ok {
		t.Error("a refused set_password changed the password")
	}
	f.do("POST", path, `{"password": "x`).expect(t, 400, `{"detail": "JSON parse error - invalid JSON: line 1 column 16 (char 15)"}`)
	f.do("POST", "/api/v3/core/users/99999/set_password/", `{"password": "x"}`).expect(t, 404, `{"detail": "Not found."}`)
	f.do("POST", "/api/v3/core/users/abc/set_password/", `{"password": "x"}`).expect(t, 404, `{"detail": "Not found."}`)
	f.do("GET", path, "").expect(t, 405, `{"detail": "Method \"GET\" not allowed."}`)
	f.do("POST", path, `{"password": "x"}`, "If-Match", `"1"`).expect(t, 412, `{"detail": "The object changed after the revision in If-Match."}`)
}

// TestSetPasswordPermissions: set_password needs the view permission
// (404 without) and reset_user_password (403 without), and changes
// nothing when refused.
func TestSetPasswordPermissions(t *testing.T) {
	p := denying()
	f := newDirFixture(t, &api.Options{Authorize: p.authorize})
	path := f.user(f.bob) + "set_password/"
	p.take()
	f.must(204, "POST", path, `{"password": "a"}`)
	if got, want := p.take(), list("authentik_core.view_user", "authentik_core.reset_user_password"); !reflect.DeepEqual(got, want) {
		t.Errorf("asked %q, want %q", got, want)
	}
	p.set("authentik_core.reset_user_password")
	f.do("POST", path, `{"password": "b"}`).expect(t, 403, `{"detail": "You do not have permission to perform this action."}`)
	f.do("POST", "/api/v3/core/users/99999/set_password/", `{"password": "b"}`).expect(t, 404, `{"detail": "Not found."}`)
	p.set("authentik_core.view_user")
	f.do("POST", path, `{"password": "b"}`).expect(t, 404, `{"detail": "Not found."}`)
	if ok, _ := f.s.CheckPassword(context.Background(), f.bob, "a"); !ok {
		t.Error("a refused set_password changed the password")
	}
}

// TestGroupMembership: add_user and remove_user (test_groups_api.py
// test_add_user, test_add_user_404, test_remove_user, ...): 204 with no
// body, a no-op when already done, 404 {"detail": "Not found."} for a
// user that does not exist, that the caller may not view, or a body
// without an integer pk.
func TestGroupMembership(t *testing.T) {
	p := denying()
	f := newDirFixture(t, &api.Options{Authorize: p.authorize})
	add, remove := f.group(f.staff)+"add_user/", f.group(f.staff)+"remove_user/"
	members := func() any { return f.must(200, "GET", f.group(f.staff), "")["users"] }
	pk := fmt.Sprint(f.alice)
	for range 2 { // the second is a no-op
		res := f.do("POST", add, `{"pk": `+pk+`}`)
		if res.Code != http.StatusNoContent || len(res.Body) != 0 {
			t.Fatalf("add_user: %d %q", res.Code, res.Body)
		}
		if got := members(); !reflect.DeepEqual(got, []any{float64(f.carol), float64(f.alice)}) && !reflect.DeepEqual(got, []any{float64(f.alice), float64(f.carol)}) {
			t.Fatalf("members after add_user: %v", got)
		}
	}
	if got := f.names("/api/v3/core/users/?groups_by_name=staff", "username"); !reflect.DeepEqual(got, list("alice", "carol")) {
		t.Errorf("staff's users after add_user: %v", got)
	}
	p.take()
	f.must(204, "POST", remove, `{"pk": "`+pk+`"}`)
	if got, want := p.take(), list("authentik_core.view_group", "authentik_core.remove_user_from_group", "authentik_core.view_user"); !reflect.DeepEqual(got, want) {
		t.Errorf("remove_user asked %q, want %q", got, want)
	}
	f.must(204, "POST", remove, `{"pk": `+pk+`}`) // not a member: no-op
	if got := members(); !reflect.DeepEqual(got, []any{float64(f.carol)}) {
		t.Errorf("members after remove_user: %v", got)
	}
	for _, body := range []string{`{"pk": 99999}`, `{}`, `{"pk": "x"}`, `{"pk": 1.5}`, `{"pk": null}`, `[]`, `not json`} {
		f.do("POST", add, body).expect(t, 404, `{"detail": "Not found."}`)
		f.do("POST", remove, body).expect(t, 404, `{"detail": "Not found."}`)
	}
	p.set("authentik_core.view_user")
	f.do("POST", add, `{"pk": `+pk+`}`).expect(t, 404, `{"detail": "Not found."}`)
	p.set("authentik_core.add_user_to_group")
	f.do("POST", add, `{"pk": `+pk+`}`).expect(t, 403, `{"detail": "You do not have permission to perform this action."}`)
	p.set("authentik_core.view_group")
	f.do("POST", add, `{"pk": `+pk+`}`).expect(t, 404, `{"detail": "Not found."}`)
	p.set()
	f.do("POST", "/api/v3/core/groups/"+f.alicesGroupless()+"/add_user/", `{"pk": `+pk+`}`).expect(t, 404, `{"detail": "Not found."}`)
	f.do("POST", "/api/v3/core/groups/not-a-uuid/add_user/", `{"pk": `+pk+`}`).expect(t, 404, `{"detail": "Not found."}`)
	f.do("GET", add, "").expect(t, 405, `{"detail": "Method \"GET\" not allowed."}`)
	if got := members(); !reflect.DeepEqual(got, []any{float64(f.carol)}) {
		t.Errorf("members after refused writes: %v", got)
	}
}

// alicesGroupless is a group pk that no group has.
func (f *dirFixture) alicesGroupless() string { return "00000000-0000-4000-8000-000000000000" }

// TestGroupSuperuserPermission: setting a group's is_superuser needs
// enable_group_superuser (to true) or disable_group_superuser (to false);
// creating with false, or a write that keeps the flag, needs neither
// (test_groups_api.py test_superuser_*).
func TestGroupSuperuserPermission(t *testing.T) {
	const (
		enable  = "authentik_core.enable_group_superuser"
		disable = "authentik_core.disable_group_superuser"
		toTrue  = `{"is_superuser": ["User does not have permission to set superuser status to True."]}`
		toFalse = `{"is_superuser": ["User does not have permission to set superuser status to False."]}`
	)
	p := denying()
	f := newDirFixture(t, &api.Options{Authorize: p.authorize})
	p.set(enable, disable)
	f.do("POST", "/api/v3/core/groups/", `{"name": "su", "is_superuser": true}`).expect(t, 400, toTrue)
	if got := f.names("/api/v3/core/groups/?name=su", "name"); len(got) != 0 {
		t.Errorf("a refused create created %v", got)
	}
	plain := f.must(201, "POST", "/api/v3/core/groups/", `{"name": "plain", "is_superuser": false}`)["pk"].(string)
	f.do("PATCH", f.group(plain), `{"is_superuser": true}`).expect(t, 400, toTrue)
	f.do("PUT", f.group(plain), `{"name": "plain", "is_superuser": true}`).expect(t, 400, toTrue)
	f.do("PATCH", f.group(f.admins), `{"is_superuser": false}`).expect(t, 400, toFalse)
	f.must(200, "PATCH", f.group(f.admins), `{"is_superuser": true, "attributes": {"a": 1}}`) // kept: no permission needed
	f.must(200, "PATCH", f.group(plain), `{"is_superuser": false}`)
	if got := f.must(200, "GET", f.group(f.admins), ""); got["is_superuser"] != true {
		t.Errorf("admins' is_superuser = %v after a refused write", got["is_superuser"])
	}
	p.set(disable)
	f.must(200, "PATCH", f.group(plain), `{"is_superuser": true}`)
	f.do("PATCH", f.group(plain), `{"is_superuser": false}`).expect(t, 400, toFalse)
	p.set(enable)
	f.must(200, "PATCH", f.group(plain), `{"is_superuser": false}`)
	f.must(201, "POST", "/api/v3/core/groups/", `{"name": "su2", "is_superuser": false}`)
	p.set()
	f.must(201, "POST", "/api/v3/core/groups/", `{"name": "su", "is_superuser": true}`)
}

// TestDirectoryNotServed: the users' endpoints that need a session, flow
// tokens or the executor answer 404 saying so, whatever the method,
// never something that could pass for an answer.
func TestDirectoryNotServed(t *testing.T) {
	f := newDirFixture(t, nil)
	want := `{"detail": "authflow does not serve this endpoint: it needs a session or the flow executor."}`
	for _, tt := range []struct{ method, path string }{
		{"GET", "/api/v3/core/users/me/"},
		{"POST", "/api/v3/core/users/service_account/"},
		{"GET", "/api/v3/core/users/impersonate_end/"},
		{"POST", f.user(f.bob) + "recovery/"},
		{"POST", f.user(f.bob) + "recovery_email/?email_stage=" + f.staff},
		{"POST", f.user(f.bob) + "impersonate/"},
		{"GET", f.user(f.bob) + "metrics/"},
	} {
		f.do(tt.method, tt.path, "").expect(t, 404, want)
	}
	f.do("GET", f.user(f.bob)+"nothing/", "").expect(t, 404, `{"detail": "Not found."}`)
}

// TestDirectoryUsedBy: a user's and a group's used_by list memberships
// (cascade_many), a group's children (set_null) and the policy bindings
// to them (cascade), with authentik's actions; deleting the group deletes
// its binding.
func TestDirectoryUsedBy(t *testing.T) {
	f := newDirFixture(t, nil)
	actions := func(path string) map[string]string {
		res := f.do("GET", path+"used_by/", "")
		var got []map[string]any
		if err := json.Unmarshal(res.Body, &got); err != nil || res.Code != 200 {
			t.Fatalf("GET %sused_by/: %d %s", path, res.Code, res.Body)
		}
		out := map[string]string{}
		for _, u := range got {
			out[u["app"].(string)+"."+u["model_name"].(string)] = u["action"].(string)
		}
		return out
	}
	if got := actions(f.group(f.staff)); got["authentik_core.user"] != "cascade_many" {
		t.Errorf("staff's used_by: %v, want its member (cascade_many)", got)
	}
	if got := actions(f.user(f.carol)); got["authentik_core.group"] != "cascade_many" {
		t.Errorf("carol's used_by: %v, want her group (cascade_many)", got)
	}
	if got := actions(f.group(f.admins)); got["authentik_core.group"] != "set_null" {
		t.Errorf("admins' used_by: %v, want its child (set_null)", got)
	}
	flow := f.must(201, "POST", "/api/v3/flows/instances/", flowBody)["policybindingmodel_ptr_id"].(string)
	gb := f.must(201, "POST", "/api/v3/policies/bindings/", `{"target": "`+flow+`", "group": "`+f.staff+`", "order": 0}`)["pk"].(string)
	f.must(201, "POST", "/api/v3/policies/bindings/", fmt.Sprintf(`{"target": "%s", "user": %d, "order": 1}`, flow, f.carol))
	if got := actions(f.group(f.staff)); got["authentik_policies.policybinding"] != "cascade" {
		t.Errorf("staff's used_by: %v, want its binding (cascade)", got)
	}
	if got := actions(f.user(f.carol)); got["authentik_policies.policybinding"] != "cascade" {
		t.Errorf("carol's used_by: %v, want her binding (cascade)", got)
	}
	f.do("DELETE", f.group(f.staff), "")
	f.do("GET", "/api/v3/policies/bindings/"+gb+"/", "").status(t, 404)
}

// TestNoPasswordHashShown: after passwords are set, no users or groups
// response (lists, retrieves, writes, used_by, paths, every action) and
// no change in the store's change feed holds a hash or the password
// (client.send checks every response for the "SECRET-" marker too).
func TestNoPasswordHashShown(t *testing.T) {
	f := newDirFixture(t, nil)
	var bodies [][]byte
	do := func(status int, method, path, body string) {
		t.Helper()
		res := f.do(method, path, body)
		if res.Code != status {
			t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.Code, status, res.Body)
		}
		bodies = append(bodies, res.Body)
	}
	for _, pk := range []int64{f.alice, f.bob, f.carol} {
		do(204, "POST", f.user(pk)+"set_password/", `{"password": "SECRET-`+fmt.Sprint(pk)+`"}`)
		do(200, "GET", f.user(pk), "")
		do(200, "GET", f.user(pk)+"used_by/", "")
		do(200, "PATCH", f.user(pk), `{"name": "renamed"}`)
	}
	do(200, "PUT", f.user(f.alice), `{"username": "alice", "name": "Alice", "groups": ["`+f.admins+`"]}`)
	do(201, "POST", "/api/v3/core/users/", `{"username": "erin", "name": "E"}`)
	for _, q := range []string{"", "?include_groups=false", "?search=pbkdf2", "?attributes=%7B%7D"} {
		do(200, "GET", "/api/v3/core/users/"+q, "")
		do(200, "GET", "/api/v3/core/groups/"+q, "")
	}
	do(200, "GET", "/api/v3/core/users/paths/", "")
	for _, g := range []string{f.admins, f.child, f.staff} {
		do(200, "GET", f.group(g), "")
		do(200, "GET", f.group(g)+"used_by/", "")
		do(204, "POST", f.group(g)+"add_user/", `{"pk": `+fmt.Sprint(f.bob)+`}`)
		do(204, "POST", f.group(g)+"remove_user/", `{"pk": `+fmt.Sprint(f.bob)+`}`)
	}
	do(204, "DELETE", f.user(f.carol), "")
	for i, b := range bodies {
		if strings.Contains(strings.ToLower(string(b)), "pbkdf2") {
			t.Errorf("response %d holds a hash: %s", i, b)
		}
	}
	if got := f.names("/api/v3/core/users/?search=pbkdf2", "username"); len(got) != 0 {
		t.Errorf("a search for pbkdf2 finds %v: a hash is searchable", got)
	}
	// The change feed, up to now.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rev, err := inView(f.s, func(tx *store.Tx) (int64, error) { return tx.Revision() })
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for c, err := range f.s.Watch(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		b, _ := json.Marshal(c)
		if s := fmt.Sprintf("%s %+v", b, c); strings.Contains(strings.ToLower(s), "pbkdf2") || strings.Contains(s, "SECRET-") {
			t.Errorf("change %s holds a hash or a password", s)
		}
		if c.Revision >= rev {
			break
		}
	}
	if n == 0 {
		t.Error("the change feed showed nothing")
	}
}

// TestDirectoryCRUD: the users' and groups' writes through the API, with
// authentik's messages (DIRECTORY.md §10, test_users_api.py test_path_*,
// test_groups_api.py test_parent_self, ...).
func TestDirectoryCRUD(t *testing.T) {
	f := newDirFixture(t, nil)
	users := "/api/v3/core/users/"
	for _, tt := range []struct{ body, want string }{
		{`{"username": "alice", "name": "x"}`, `{"username": ["This field must be unique."]}`},
		{`{"username": "n1", "name": "x", "path": "/foo"}`, `{"path": ["No leading or trailing slashes allowed."]}`},
		{`{"username": "n1", "name": "x", "path": "foo/"}`, `{"path": ["No leading or trailing slashes allowed."]}`},
		{`{"username": "n1", "name": "x", "path": ""}`, `{"path": ["This field may not be blank."]}`},
		{`{"username": "n1", "name": "x", "path": "fos//o"}`, `{"path": ["No empty segments in user path allowed."]}`},
		{`{"username": "n1", "name": "x", "type": "internal_service_account"}`, `{"type": ["Setting a user to internal service account is not allowed."]}`},
		{`{"username": "n1"}`, `{"name": ["This field is required."]}`},
	} {
		f.do("POST", users, tt.body).expect(t, 400, tt.want)
	}
	created := f.must(201, "POST", users, `{"username": "Alice", "name": "", "groups": ["`+f.child+`"], "path": "foo"}`)
	if created["is_superuser"] != true {
		t.Errorf("a member of admins' child: is_superuser %v, want true", created["is_superuser"])
	}
	pk := int64(created["pk"].(float64))
	usable, err := inView(f.s, func(tx *store.Tx) (bool, error) { return tx.HasUsablePassword(pk) })
	if err != nil || usable {
		t.Errorf("a user created through the API: usable password %v, %v", usable, err)
	}
	f.must(200, "PUT", f.user(pk), `{"username": "Alice", "name": "A"}`)
	if got := f.must(200, "GET", f.user(pk), "")["groups"]; !reflect.DeepEqual(got, []any{}) {
		t.Errorf("a PUT without groups leaves groups %v, want []", got)
	}
	f.must(204, "DELETE", f.user(pk), "")
	f.do("GET", f.user(pk), "").expect(t, 404, `{"detail": "Not found."}`)

	groups := "/api/v3/core/groups/"
	f.do("POST", groups, `{"name": "admins"}`).expect(t, 400, `{"name": ["This field must be unique."]}`)
	f.do("PATCH", f.group(f.staff), `{"parent": "`+f.staff+`"}`).expect(t, 400, `{"parent": ["Cannot set group as parent of itself."]}`)
	f.do("PUT", f.group(f.staff), `{"name": "staff", "users": [99999]}`).expect(t, 400, `{"users": ["Invalid pk \"99999\" - object does not exist."]}`)
	g := f.must(201, "POST", groups, `{"name": "new", "users": [`+fmt.Sprint(f.alice)+`]}`)
	if got := f.names(users+"?groups_by_pk="+g["pk"].(string), "username"); !reflect.DeepEqual(got, list("alice")) {
		t.Errorf("members of a group created with users: %v", got)
	}
	f.must(204, "DELETE", f.group(g["pk"].(string)), "")
	f.do("GET", f.group(g["pk"].(string)), "").expect(t, 404, `{"detail": "Not found."}`)
}

// TestDirectoryPermissionCodenames: users and groups ask for
// authentik_core's codenames, view first on every object operation.
func TestDirectoryPermissionCodenames(t *testing.T) {
	p := denying()
	f := newDirFixture(t, &api.Options{Authorize: p.authorize})
	const viewUser, viewGroup = "authentik_core.view_user", "authentik_core.view_group"
	for _, tt := range []struct {
		method, path, body string
		status             int
		want               []string
	}{
		{"GET", "/api/v3/core/users/", "", 200, list(viewUser)},
		{"GET", "/api/v3/core/users/paths/", "", 200, list(viewUser)},
		{"POST", "/api/v3/core/users/", `{"username": "n", "name": "n"}`, 201, list("authentik_core.add_user")},
		{"GET", f.user(f.bob), "", 200, list(viewUser)},
		{"PATCH", f.user(f.bob), `{}`, 200, list(viewUser, "authentik_core.change_user")},
		{"GET", f.user(f.bob) + "used_by/", "", 200, list(viewUser, viewGroup)},
		{"GET", "/api/v3/core/groups/", "", 200, list(viewGroup)},
		{"POST", "/api/v3/core/groups/", `{"name": "g"}`, 201, list("authentik_core.add_group")},
		{"POST", "/api/v3/core/groups/", `{"name": "g2", "is_superuser": true}`, 201, list("authentik_core.add_group", "authentik_core.enable_group_superuser")},
		{"PUT", f.group(f.staff), `{"name": "staff", "users": [` + fmt.Sprint(f.carol) + `]}`, 200, list(viewGroup, "authentik_core.change_group")},
		{"PATCH", f.group(f.staff), `{"is_superuser": true}`, 200, list(viewGroup, "authentik_core.change_group", "authentik_core.enable_group_superuser")},
		{"PATCH", f.group(f.staff), `{"is_superuser": false}`, 200, list(viewGroup, "authentik_core.change_group", "authentik_core.disable_group_superuser")},
		{"POST", f.group(f.staff) + "add_user/", `{"pk": ` + fmt.Sprint(f.bob) + `}`, 204, list(viewGroup, "authentik_core.add_user_to_group", viewUser)},
		{"DELETE", f.group(f.child), "", 204, list(viewGroup, "authentik_core.delete_group")},
		{"DELETE", f.user(f.bob), "", 204, list(viewUser, "authentik_core.delete_user")},
	} {
		p.take()
		if res := f.do(tt.method, tt.path, tt.body); res.Code != tt.status {
			t.Fatalf("%s %s: status %d, want %d: %s", tt.method, tt.path, res.Code, tt.status, res.Body)
		}
		if got := p.take(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %s: asked %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

// An invitation created by a request whose Creator names a user is
// listed in that user's used_by (invitation_set, cascade), shows the user
// as its created_by, and goes when the user is deleted.
func TestInvitationCreatorUser(t *testing.T) {
	var creator int64
	f := newDirFixture(t, &api.Options{Creator: func(*http.Request) (int64, bool) { return creator, creator != 0 }})
	creator = f.bob
	inv := f.must(201, "POST", "/api/v3/stages/invitation/invitations/", `{"name": "bobs-invite"}`)
	if by := inv["created_by"].(map[string]any); by["username"] != "bob" || by["pk"] != float64(f.bob) {
		t.Errorf("created_by = %v", by)
	}
	res := f.do("GET", f.user(f.bob)+"used_by/", "")
	var used []map[string]any
	if err := json.Unmarshal(res.Body, &used); err != nil || res.Code != 200 {
		t.Fatalf("used_by: %d %s", res.Code, res.Body)
	}
	found := false
	for _, u := range used {
		found = found || u["model_name"] == "invitation" && u["action"] == "cascade"
	}
	if !found {
		t.Errorf("bob's used_by does not list his invitation (cascade): %s", res.Body)
	}
	f.do("DELETE", f.user(f.bob), "").status(t, 204)
	f.do("GET", "/api/v3/stages/invitation/invitations/"+inv["pk"].(string)+"/", "").status(t, 404)
}
