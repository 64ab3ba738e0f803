package plan_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// The users newDirectory creates, by pk.
const (
	plainPK int64 = 1 // in no group
	annPK   int64 = 2 // in eng
	bobPK   int64 = 3 // in other
)

// testDirectory is what newDirectory created: the groups' pks by name.
type testDirectory struct{ groups map[string]uuid.UUID }

// replace writes each group's pk for GROUP_<name> in doc.
func (d testDirectory) replace(doc string) string {
	for name, pk := range d.groups {
		doc = strings.ReplaceAll(doc, "GROUP_"+name, pk.String())
	}
	return doc
}

// newDirectory creates, in s's users and groups: the groups admins (a
// superuser group, attributes {"level": "admin", "tags": ["a"]}), staff
// below it, eng below staff ({"level": "eng"}) and other; the users
// plain (no group), ann (in eng, attributes {"desk": 7}, a password set
// on 2026-01-01) and bob (in other).
func newDirectory(t *testing.T, s *store.Store) testDirectory {
	t.Helper()
	d := testDirectory{groups: map[string]uuid.UUID{}}
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		for _, g := range []struct{ name, parent, attrs string }{
			{"admins", "", `,"is_superuser":true,"attributes":{"level":"admin","tags":["a"]}`},
			{"staff", "admins", ""},
			{"eng", "staff", `,"attributes":{"level":"eng"}`},
			{"other", "", ""},
		} {
			parent := "null"
			if g.parent != "" {
				parent = `"` + d.groups[g.parent].String() + `"`
			}
			v, err := store.Groups.CreateJSON(tx, fmt.Appendf(nil, `{"name":%q,"parent":%s%s}`, g.name, parent, g.attrs), nil)
			if err != nil {
				return err
			}
			d.groups[g.name] = v.PK
		}
		for _, u := range []struct {
			name, body string
			pk         int64
		}{
			{"plain", `{"username":"plain","name":"Plain"}`, plainPK},
			{"ann", fmt.Sprintf(`{"username":"ann","name":"Ann","groups":["%s"],"attributes":{"desk":7}}`, d.groups["eng"]), annPK},
			{"bob", fmt.Sprintf(`{"username":"bob","name":"Bob","groups":["%s"]}`, d.groups["other"]), bobPK},
		} {
			v, err := store.Users.CreateJSON(tx, []byte(u.body), nil)
			if err != nil {
				return err
			}
			if v.PK != u.pk {
				return fmt.Errorf("%s numbered %d, want %d", u.name, v.PK, u.pk)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// mustTime reads a stored date-time.
func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, ok := validate.ParseDateTime(s)
	if !ok {
		t.Fatalf("date-time %q", s)
	}
	return v
}

// patchUser patches the user numbered pk with body.
func patchUser(t *testing.T, s *store.Store, pk int64, body string) {
	t.Helper()
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := store.Users.Patch(tx, store.By("pk", fmt.Sprint(pk)), []byte(body), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// patchGroup patches the group pk with body.
func patchGroup(t *testing.T, s *store.Store, pk uuid.UUID, body string) {
	t.Helper()
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := store.Groups.Patch(tx, store.PK(pk), []byte(body), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// policyFlow is a flow (policy engine mode all) with one stage and one
// policy, a dummy; a test adds bindings.
const policyFlow = `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: W, designation: authentication, policy_engine_mode: all}
- model: authentik_stages_deny.denystage
  id: st
  identifiers: {name: st}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf st, order: 0}
- model: authentik_policies_dummy.dummypolicy
  id: yes
  identifiers: {name: yes}
  attrs: {result: true}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf flow, policy: !KeyOf yes, order: 0}
`

// recording returns evaluators whose dummy passes and records the
// user it is evaluated for.
func recording(seen *plan.User) map[policy.ModelName]plan.Evaluator {
	evs := plan.Builtin(nil)
	evs[policy.ModelDummy] = plan.EvaluatorFunc(func(_ context.Context, _ policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		*seen = req.User
		return plan.Result{Passing: true, ValidUntil: plan.Forever}, nil
	})
	return evs
}

// The planner reads the request's user from the store: its groups with
// their ancestors (direct first), superuser status through them, its own
// attributes, the merged group attributes and its password change date.
// What the request says about them is ignored for a pk; a pk the store
// does not hold is ErrUnknownUser; facts without a pk are ErrUserFacts.
func TestPlanReadsTheUser(t *testing.T) {
	s := openStore(t)
	d := newDirectory(t, s)
	loadInto(t, s, policyFlow)
	var seen plan.User
	opts := plan.Options{Evaluators: recording(&seen)}
	if _, err := makePlan(t, s, plan.Request{User: plan.User{PK: annPK, Authenticated: true}}, opts); err != nil {
		t.Fatal(err)
	}
	var changed string
	err := s.View(context.Background(), func(tx *store.Tx) error {
		u, err := store.Users.Get(tx, store.By("pk", fmt.Sprint(annPK)))
		changed = u.PasswordChangeDate
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantGroups := []uuid.UUID{d.groups["eng"], d.groups["staff"], d.groups["admins"]}
	wantAttrs := map[string]any{"level": "eng", "tags": []any{"a"}, "desk": 7.0}
	if seen.PK != annPK || !seen.Authenticated || !seen.Superuser || !reflect.DeepEqual(seen.Groups, wantGroups) ||
		!reflect.DeepEqual(seen.Attributes, map[string]any{"desk": 7.0}) || !reflect.DeepEqual(seen.GroupAttributes, wantAttrs) ||
		seen.PasswordChangeDate == nil || !seen.PasswordChangeDate.Equal(mustTime(t, changed)) {
		t.Errorf("the evaluator saw %+v (password changed %q)", seen, changed)
	}

	// The directory's facts win over the request's.
	given := plan.Request{User: plan.User{PK: plainPK, Superuser: true, Groups: []uuid.UUID{d.groups["admins"]}, Attributes: map[string]any{"x": 1}}}
	if _, err := makePlan(t, s, given, opts); err != nil {
		t.Fatal(err)
	}
	if seen.PK != plainPK || seen.Superuser || len(seen.Groups) != 0 || len(seen.Attributes) != 0 || seen.Authenticated {
		t.Errorf("the request's facts were used: %+v", seen)
	}

	_, err = makePlan(t, s, plan.Request{User: plan.User{PK: 99, Authenticated: true}}, opts)
	if !errors.Is(err, plan.ErrUnknownUser) || err.Error() != "plan: the directory holds no user with this pk: 99" {
		t.Errorf("an unknown pk: %v", err)
	}
	for _, u := range []plan.User{{Superuser: true}, {Groups: []uuid.UUID{d.groups["eng"]}}, {Attributes: map[string]any{"a": 1}}, {PasswordChangeDate: &time.Time{}}} {
		if _, err := makePlan(t, s, plan.Request{User: u}, opts); !errors.Is(err, plan.ErrUserFacts) {
			t.Errorf("facts without a pk %+v: %v", u, err)
		}
	}
	if _, err := plan.ParseRequest([]byte(`{"user": {"is_authenticated": true, "groups": ["` + d.groups["eng"].String() + `"]}}`)); !errors.Is(err, plan.ErrUserFacts) {
		t.Errorf("ParseRequest of groups without a pk: %v", err)
	}
	// The anonymous user, and an authenticated one without a pk, have
	// no groups and read nothing.
	for _, u := range []plan.User{{}, {Authenticated: true}} {
		if _, err := makePlan(t, s, plan.Request{User: u}, opts); err != nil || !reflect.DeepEqual(seen, u) {
			t.Errorf("a user without a pk %+v: saw %+v, %v", u, seen, err)
		}
	}
}

// A cached plan is dropped when the user's groups change, when a group
// above them moves, and when a group's superuser status changes; changes
// to other users and groups leave it.
func TestCacheFollowsUsersAndGroups(t *testing.T) {
	s := openStore(t)
	d := newDirectory(t, s)
	loadInto(t, s, d.replace(policyFlow+`- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf flow, group: GROUP_staff, order: 1}
`))
	var calls int
	evs := plan.Builtin(nil)
	evs[policy.ModelDummy] = plan.EvaluatorFunc(func(context.Context, policy.Policy, plan.PolicyRequest) (plan.Result, error) {
		calls++
		return plan.Result{Passing: true, ValidUntil: plan.Forever}, nil
	})
	c := plan.NewCache(s, plan.CacheOptions{Options: plan.Options{Evaluators: evs}})
	defer c.Close()
	ctx := context.Background()
	applicable := func(pk int64, want bool, wantCalls int, what string) {
		t.Helper()
		p, err := c.Make(ctx, "login", plan.Request{User: plan.User{PK: pk, Authenticated: true}})
		if err != nil || p.Applicable != want || calls != wantCalls {
			t.Errorf("%s: applicable %v, %v, %d evaluations; want %v, %d", what, p.Applicable, err, calls, want, wantCalls)
		}
	}
	applicable(plainPK, false, 1, "plain, in no group")
	applicable(plainPK, false, 1, "plain again, from the cache")
	applicable(annPK, true, 2, "ann, in eng below staff")
	applicable(annPK, true, 2, "ann again, from the cache")

	// Another user's and an unrelated group's changes keep both plans.
	patchUser(t, s, bobPK, `{"name":"Bob"}`)
	patchGroup(t, s, d.groups["other"], `{"attributes":{"x":1}}`)
	applicable(plainPK, false, 2, "plain after bob changed")
	applicable(annPK, true, 2, "ann after bob and other changed")

	// Membership: plain joins eng.
	patchUser(t, s, plainPK, fmt.Sprintf(`{"groups":["%s"]}`, d.groups["eng"]))
	applicable(plainPK, true, 3, "plain after joining eng")
	// The hierarchy: eng leaves staff.
	patchGroup(t, s, d.groups["eng"], `{"parent":null}`)
	applicable(annPK, false, 4, "ann after eng left staff")
	applicable(plainPK, false, 5, "plain after eng left staff")
	// Membership through the group's side: staff's users.
	patchGroup(t, s, d.groups["staff"], fmt.Sprintf(`{"users":[%d]}`, annPK))
	applicable(annPK, true, 6, "ann after joining staff through the group")
}

// A plan requiring a superuser follows the superuser status of a group
// above the user.
func TestCacheFollowsSuperuser(t *testing.T) {
	s := openStore(t)
	d := newDirectory(t, s)
	loadInto(t, s, strings.Replace(policyFlow, "policy_engine_mode: all}", "policy_engine_mode: all, authentication: require_superuser}", 1))
	c := plan.NewCache(s, plan.CacheOptions{})
	defer c.Close()
	req := plan.Request{User: plan.User{PK: annPK, Authenticated: true}}
	for i, tt := range []struct {
		patch string
		want  bool
	}{{"", true}, {`{"is_superuser":false}`, false}, {`{"is_superuser":true}`, true}} {
		if tt.patch != "" {
			patchGroup(t, s, d.groups["admins"], tt.patch)
		}
		if p, err := c.Make(context.Background(), "login", req); err != nil || p.Applicable != tt.want || c.Len() != 1 {
			t.Errorf("%d: applicable %v, %v, %d cached; want %v", i, p.Applicable, err, c.Len(), tt.want)
		}
	}
}

// With a host's directory, the user is read from it, not from the
// store; a plan that read it is not cached unless DirectoryMaxAge says
// for how long; a plan without a user pk reads nothing from it and is
// cached as usual.
func TestHostDirectory(t *testing.T) {
	s := openStore(t)
	d := newDirectory(t, s)
	loadInto(t, s, d.replace(policyFlow+`- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf flow, group: GROUP_staff, order: 1}
`))
	host, err := memdir.New(memdir.Options{Policy: password.Policy{Iterations: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The host's groups share the store's pks: the bindings name them.
	staff, err := host.AddGroup(directory.Group{PK: d.groups["staff"], Name: "staff"})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := host.AddGroup(directory.Group{PK: d.groups["eng"], Name: "eng", Parent: &staff.PK})
	if err != nil {
		t.Fatal(err)
	}
	nu := directory.DefaultUser()
	nu.Username, nu.Name, nu.Groups = "hostuser", "Host User", []uuid.UUID{eng.PK}
	u, err := host.CreateUser(ctx, nu)
	if err != nil || u.PK != plainPK {
		t.Fatalf("host user: %+v, %v", u, err)
	}
	// The store's user 1 (plain) is in no group; the host's is in eng.
	req := plan.Request{User: plan.User{PK: plainPK, Authenticated: true}}
	if p, err := makePlan(t, s, req, plan.Options{Directory: host}); err != nil || !p.Applicable {
		t.Errorf("with the host's directory: %+v, %v", p, err)
	}
	if _, err := makePlan(t, s, plan.Request{User: plan.User{PK: annPK}}, plan.Options{Directory: host}); !errors.Is(err, plan.ErrUnknownUser) {
		t.Errorf("a pk only the store holds: %v", err)
	}

	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	c := plan.NewCache(s, plan.CacheOptions{Options: plan.Options{Directory: host, Now: now}})
	defer c.Close()
	if p, err := c.Make(ctx, "login", req); err != nil || !p.Applicable || c.Len() != 0 {
		t.Errorf("a plan of a host user: %v, %v, %d cached; want none", p.Applicable, err, c.Len())
	}
	if _, err := c.Make(ctx, "login", plan.Request{}); err != nil || c.Len() != 1 {
		t.Errorf("an anonymous plan: %v, %d cached; want 1", err, c.Len())
	}

	aged := plan.NewCache(s, plan.CacheOptions{Options: plan.Options{Directory: host, DirectoryMaxAge: time.Minute, Now: now}})
	defer aged.Close()
	if _, err := aged.Make(ctx, "login", req); err != nil || aged.Len() != 1 {
		t.Errorf("with DirectoryMaxAge: %v, %d cached; want 1", err, aged.Len())
	}
	// The host's change is not seen until the plan is a minute old.
	u.Groups = nil
	if _, err := host.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(59 * time.Second)
	if p, err := aged.Make(ctx, "login", req); err != nil || !p.Applicable {
		t.Errorf("within DirectoryMaxAge: %v, %v; want the cached plan", p.Applicable, err)
	}
	clock = clock.Add(time.Second)
	if p, err := aged.Make(ctx, "login", req); err != nil || p.Applicable {
		t.Errorf("after DirectoryMaxAge: %v, %v; want the host's change", p.Applicable, err)
	}
}
