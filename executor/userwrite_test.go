package executor

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// The cases of authentik 2025.6's stages/user_write/tests.py. The plan
// context authentik's tests put in the session is seeded here by a
// policy of the flow ("seed=ctx").

// writeDoc is authentik's setUp: groups test-group and other-group, a
// user_write stage "write" (inactive users, joining test-group, and
// stageAttrs), then a dummy stage "after", and the seeding policy.
func writeDoc(stageAttrs string) string {
	return flowDoc("f", "") +
		"- {model: authentik_core.group, id: test-group, identifiers: {name: test-group}}\n" +
		"- {model: authentik_core.group, id: other-group, identifiers: {name: other-group}}\n" +
		stageEntry("authentik_stages_user_write.userwritestage", "f", "write", 0,
			"create_users_as_inactive: true, create_users_group: !KeyOf test-group"+stageAttrs, "") +
		dummy("f", "after", 1, "") + policyOn("f", "seed=ctx", true)
}

// writeHarness seeds the context of every new execution with ctx().
func writeHarness(t *testing.T, stageAttrs string, ctx func() map[string]any) *harness {
	return newHarness(t, writeDoc(stageAttrs), withExpressions(map[string]func(map[string]any){
		"ctx": func(c map[string]any) { maps.Copy(c, ctx()) },
	}))
}

func userNamed(t *testing.T, s *store.Store, name string) (directory.User, bool) {
	t.Helper()
	u, err := s.Directory().FindUser(context.Background(), directory.Find{Identifier: name, Fields: []directory.Field{directory.FieldUsername}, CaseSensitive: true})
	if err != nil {
		return u, false
	}
	return u, true
}

func groupNamed(t *testing.T, s *store.Store, name string) uuid.UUID {
	t.Helper()
	var g directory.Group
	err := s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		g, err = store.Groups.Get(tx, store.By("name", name))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return g.PK
}

// test_user_create: a new user with the prompt's fields, its password,
// inactive, in the stage's group and the context's; it becomes the
// pending user.
func TestUserWriteCreate(t *testing.T) {
	var other uuid.UUID
	h := writeHarness(t, "", func() map[string]any {
		return map[string]any{
			ContextPromptData: map[string]any{"username": "test-user", "name": "name", "email": "test@goauthentik.io", "password": "s3cret pw", "component": ComponentPrompt},
			ContextGroups:     []any{other.String()},
		}
	})
	other = groupNamed(t, h.s, "other-group")
	h.afterWrite(t).want(t, ComponentDummy, "name", "after")
	u, ok := userNamed(t, h.s, "test-user")
	if !ok {
		t.Fatal("no user written")
	}
	if u.Name != "name" || u.Email != "test@goauthentik.io" || u.IsActive || u.Type != directory.UserTypeExternal || u.Path != directory.DefaultPath {
		t.Errorf("user %+v", u)
	}
	if len(u.Attributes) != 0 {
		t.Errorf("attributes %v", u.Attributes)
	}
	want := []uuid.UUID{groupNamed(t, h.s, "test-group"), other}
	if got := slices.Clone(u.Groups); !sameSet(got, want) {
		t.Errorf("groups %v, want %v", got, want)
	}
	if ok, err := h.s.CheckPassword(context.Background(), u.PK, "s3cret pw"); !ok || err != nil {
		t.Errorf("password: %v %v", ok, err)
	}
	x := h.execution("f")
	if pk, _ := directory.ContextUserPK(x.Context[directory.ContextPendingUser]); pk != u.PK {
		t.Errorf("pending_user %v", x.Context[directory.ContextPendingUser])
	}
	if x.Context[ContextUserBackend] != string(stage.BackendInbuilt) {
		t.Errorf("user_backend %v", x.Context[ContextUserBackend])
	}
	// A new user's password is no password_set; no event holds it.
	if got := eventsOf(h, EventPasswordSet, EventUserWrite); !slices.Equal(got, []string{EventUserWrite + `: User "test-user" was written (created: true).`}) {
		t.Errorf("events %q", got)
	}
	// No secret in the execution: the password stays in prompt_data as
	// authentik keeps it, but not in the user.
	if !reflect.DeepEqual(x.Context[directory.ContextPendingUser], jsonRound(t, directory.ContextUser(u))) {
		t.Errorf("pending_user %v, want %v", x.Context[directory.ContextPendingUser], directory.ContextUser(u))
	}
}

// afterWrite gets the flow: the write stage passes (a reload), then the
// next stage's challenge.
func (h *harness) afterWrite(t *testing.T) reply {
	t.Helper()
	h.get("f", "").wantReload(t, h.url("f", ""))
	return h.get("f", "")
}

func sameSet(a, b []uuid.UUID) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// test_user_update: the pending user is updated: username, password,
// nested attributes by dotted key, attributes merged; unknown keys
// dropped.
func TestUserWriteUpdate(t *testing.T) {
	var pending directory.User
	h := writeHarness(t, "", func() map[string]any {
		return map[string]any{
			directory.ContextPendingUser: directory.ContextUser(pending),
			ContextPromptData: map[string]any{
				"username": "test-user-new", "password": "new pw",
				"attributes.some.custom-attribute": "test", "attributes": map[string]any{"foo": "bar"},
				"attributes_deep_key": 1.0, "some_ignored_attribute": "bar", "groups": []any{"x"},
			},
		}
	})
	pending = addUser(t, h.s, "unittest")
	h.afterWrite(t).want(t, ComponentDummy)
	u, ok := userNamed(t, h.s, "test-user-new")
	if !ok || u.PK != pending.PK {
		t.Fatalf("user %+v", u)
	}
	want := map[string]any{"some": map[string]any{"custom-attribute": "test"}, "foo": "bar", "deep": map[string]any{"key": 1.0}}
	if !reflect.DeepEqual(u.Attributes, want) {
		t.Errorf("attributes %v, want %v", u.Attributes, want)
	}
	if ok, _ := h.s.CheckPassword(context.Background(), u.PK, "new pw"); !ok {
		t.Error("password not set")
	}
	// An existing user keeps its active flag and joins the stage's group.
	if !u.IsActive || !slices.Contains(u.Groups, groupNamed(t, h.s, "test-group")) {
		t.Errorf("user %+v", u)
	}
	if x := h.execution("f"); x.Context[ContextUserBackend] != nil {
		t.Errorf("user_backend set for an update: %v", x.Context)
	}
	want2 := []string{EventPasswordSet + `: The password of user "test-user-new" was set.`, EventUserWrite + `: User "test-user-new" was written (created: false).`}
	if got := eventsOf(h, EventPasswordSet, EventUserWrite); !slices.Equal(got, want2) {
		t.Errorf("events %q", got)
	}
}

// eventsOf are the harness's events of the actions, as "action: message".
func eventsOf(h *harness, actions ...string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ev := range h.events {
		if slices.Contains(actions, ev.Action) {
			out = append(out, ev.Action+": "+ev.Message)
		}
	}
	return out
}

// test_without_data.
func TestUserWriteWithoutData(t *testing.T) {
	h := writeHarness(t, "", func() map[string]any { return map[string]any{} })
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoPendingData)
}

// test_blank_username: "Unknown error".
func TestUserWriteBlankUsername(t *testing.T) {
	h := writeHarness(t, "", func() map[string]any {
		return map[string]any{ContextPromptData: map[string]any{"username": "", "attribute_some-custom-attribute": "test", "some_ignored_attribute": "bar"}}
	})
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgUnknownError)
}

// test_authenticated_no_user: the request's user is the pending user.
func TestUserWriteAuthenticatedNoUser(t *testing.T) {
	h := writeHarness(t, "", func() map[string]any {
		return map[string]any{ContextPromptData: map[string]any{"username": "foo", "attribute_some-custom-attribute": "test"}}
	})
	u := addUser(t, h.s, "someone")
	req := Request{Session: "s", User: plan.User{PK: u.PK, Authenticated: true}}
	resp, err := h.e.Get(context.Background(), "f", req)
	if err != nil || !resp.Reload {
		t.Fatalf("%+v %v", resp, err)
	}
	resp, err = h.e.Get(context.Background(), "f", req)
	if err != nil || resp.Challenge == nil {
		t.Fatalf("%+v %v", resp, err)
	}
	if c, ok := resp.Challenge.(*DummyChallenge); !ok {
		t.Fatalf("challenge %#v", resp.Challenge)
	} else if c.Component != ComponentDummy {
		t.Fatalf("challenge %#v", c)
	}
	got, ok := userNamed(t, h.s, "foo")
	if !ok || got.PK != u.PK {
		t.Fatalf("user %+v", got)
	}
	// "attribute_" is not "attributes_": dropped.
	if len(got.Attributes) != 0 {
		t.Errorf("attributes %v", got.Attributes)
	}
}

// test_no_create.
func TestUserWriteNoCreate(t *testing.T) {
	h := writeHarness(t, ", user_creation_mode: never_create", func() map[string]any {
		return map[string]any{ContextPromptData: map[string]any{"username": "foo"}}
	})
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoUserNoCreate)
	if _, ok := userNamed(t, h.s, "foo"); ok {
		t.Error("a user was created")
	}
}

// always_create creates a user even with a pending user.
func TestUserWriteAlwaysCreate(t *testing.T) {
	var pending directory.User
	h := writeHarness(t, ", user_creation_mode: always_create, user_type: internal_service_account, user_path_template: a/b", func() map[string]any {
		return map[string]any{
			directory.ContextPendingUser: directory.ContextUser(pending),
			ContextPromptData:            map[string]any{"username": "fresh"},
		}
	})
	pending = addUser(t, h.s, "old")
	h.afterWrite(t).want(t, ComponentDummy)
	u, ok := userNamed(t, h.s, "fresh")
	if !ok || u.PK == pending.PK || u.Type != directory.UserTypeServiceAccount || u.Path != "a/b" || u.IsActive {
		t.Fatalf("user %+v", u)
	}
	if old, _ := userNamed(t, h.s, "old"); old.PK != pending.PK {
		t.Errorf("the pending user changed: %+v", old)
	}
}

// The context's user_path and user_type win; an unknown type falls
// back to the stage's.
func TestUserWriteContextPathType(t *testing.T) {
	for _, tt := range []struct {
		typ  string
		want directory.UserType
	}{{"internal", directory.UserTypeInternal}, {"nonsense", directory.UserTypeExternal}} {
		h := writeHarness(t, ", user_path_template: stage/path", func() map[string]any {
			return map[string]any{
				ContextUserPath: "ctx/path", ContextUserType: tt.typ,
				ContextPromptData: map[string]any{"username": "u"},
			}
		})
		h.afterWrite(t).want(t, ComponentDummy)
		u, _ := userNamed(t, h.s, "u")
		if u.Path != "ctx/path" || u.Type != tt.want {
			t.Errorf("%s: user %+v", tt.typ, u)
		}
	}
}

// test_duplicate_data: a username taken fails the write.
func TestUserWriteDuplicate(t *testing.T) {
	h := writeHarness(t, "", func() map[string]any {
		return map[string]any{ContextPromptData: map[string]any{"username": "taken", "attribute_some-custom-attribute": "test"}}
	})
	addUser(t, h.s, "taken")
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgUserWriteFailed)
}

// Values the user's fields refuse fail the write, writing nothing.
func TestUserWriteRefused(t *testing.T) {
	for _, data := range []map[string]any{
		{"username": "x", "email": "not an email"},
		{"username": "x", "path": "/bad"},
		{"username": 5.0},
		{"username": "x", "attributes": "not a map"},
		{"username": "x", "password": 5.0},
	} {
		h := writeHarness(t, "", func() map[string]any { return map[string]any{ContextPromptData: data} })
		h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgUserWriteFailed)
		if _, ok := userNamed(t, h.s, "x"); ok {
			t.Errorf("%v: a user was written", data)
		}
	}
	// An unknown group in the context.
	h := writeHarness(t, "", func() map[string]any {
		return map[string]any{ContextPromptData: map[string]any{"username": "x"}, ContextGroups: []any{uuid.NewString()}}
	})
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgUserWriteFailed)
}

// test_write_attribute.
func TestWriteAttribute(t *testing.T) {
	u := directory.User{Attributes: map[string]any{"foo": "bar", "baz": map[string]any{"qwer": []any{"quox"}}}}
	if err := applyPromptData(&u, map[string]any{"attributes.foo": "baz"}); err != nil {
		t.Fatal(err)
	}
	if err := applyPromptData(&u, map[string]any{"attributes.foob.bar": "baz"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"foo": "baz", "foob": map[string]any{"bar": "baz"}, "baz": map[string]any{"qwer": []any{"quox"}}}
	if !reflect.DeepEqual(u.Attributes, want) {
		t.Errorf("%v, want %v", u.Attributes, want)
	}
}

// jsonRound is v after a JSON round trip, as a saved execution holds it.
func jsonRound(t *testing.T, v any) any {
	t.Helper()
	var out any
	if err := json.Unmarshal([]byte(jsonOf(t, v)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}
