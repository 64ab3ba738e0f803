package directory_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/validate"
	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

const installID = "7c9e1b5a-0000-4000-8000-000000000000"

// The response key orders of authentik 2025.6's serializers
// (openapi-2025.6-core.yml: User, Group, UserGroup, GroupMember).
var (
	userKeys = []string{"pk", "username", "name", "is_active", "last_login", "date_joined", "is_superuser",
		"groups", "groups_obj", "email", "avatar", "attributes", "uid", "path", "type", "uuid", "password_change_date"}
	groupKeys = []string{"pk", "num_pk", "name", "is_superuser", "parent", "parent_name", "users", "users_obj",
		"attributes", "roles", "roles_obj"}
	userGroupKeys   = []string{"pk", "num_pk", "name", "is_superuser", "parent", "parent_name", "attributes"}
	groupMemberKeys = []string{"pk", "username", "name", "is_active", "last_login", "email", "attributes", "uid"}
)

func wantKeys(t *testing.T, what string, b []byte, want []string) {
	t.Helper()
	if got := testutil.Keys(t, b); !reflect.DeepEqual(got, want) {
		t.Errorf("%s keys = %q\nwant %q", what, got, want)
	}
}

func TestUserViewJSON(t *testing.T) {
	parentName := "everyone"
	g := storedGroup()
	v := directory.UserView{
		User:        storedUser(),
		IsSuperuser: true,
		GroupsObj:   []directory.UserGroup{{Group: g, ParentName: &parentName}},
		Avatar:      "data:image/svg+xml;base64,PHN2Zz4=",
		InstallID:   installID,
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "User", b, userKeys)
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"pk": 42.0, "username": "alice", "name": "Alice Liddell", "is_active": true,
		"last_login": "2025-03-04T05:06:07Z", "date_joined": "2025-01-02T03:04:05Z", "is_superuser": true,
		"groups": []any{groupA.String()},
		"groups_obj": []any{map[string]any{
			"pk": groupA.String(), "num_pk": 22685.0, "name": "admins", "is_superuser": true,
			"parent": groupB.String(), "parent_name": "everyone", "attributes": map[string]any{"team": "ops"},
		}},
		"email": "alice@example.com", "avatar": "data:image/svg+xml;base64,PHN2Zz4=",
		"attributes": map[string]any{"settings": map[string]any{"locale": "en"}},
		"uid":        "718e1dbca6e2eb9ff5c1003b40c35ea7d89aede49639134e42f3c9330e661c62",
		"path":       "users/wonderland", "type": "external", "uuid": userUUID.String(),
		"password_change_date": "2025-02-03T04:05:06.000007Z",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UserView =\n %s", b)
	}
	groupsObj, _ := json.Marshal(v.GroupsObj[0])
	wantKeys(t, "UserGroup", groupsObj, userGroupKeys)
}

// TestUserViewNulls: groups_obj is null when not included and [] when
// included and empty; a user with nil lists and maps renders them empty.
func TestUserViewNulls(t *testing.T) {
	tests := []struct {
		name string
		view directory.UserView
		want string
	}{
		{"not included", directory.UserView{User: directory.User{}}, `"groups_obj":null`},
		{"included, none", directory.UserView{User: directory.User{}, GroupsObj: []directory.UserGroup{}}, `"groups_obj":[]`},
		{"nil groups", directory.UserView{User: directory.User{}}, `"groups":[]`},
		{"nil attributes", directory.UserView{User: directory.User{}}, `"attributes":{}`},
		{"null last_login", directory.UserView{User: directory.User{}}, `"last_login":null`},
		{"no parent", directory.UserView{User: directory.User{}, GroupsObj: []directory.UserGroup{{Group: directory.Group{PK: groupA, Name: "g"}}}},
			`"parent":null,"parent_name":null,"attributes":{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.view)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tt.want) {
				t.Errorf("%s lacks %s", b, tt.want)
			}
		})
	}
}

func TestGroupViewJSON(t *testing.T) {
	parentName := "everyone"
	member := storedUser()
	member.Attributes = nil
	v := directory.GroupView{Group: storedGroup(), ParentName: &parentName, UsersObj: []directory.User{member}, InstallID: installID}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "Group", b, groupKeys)
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"pk": groupA.String(), "num_pk": 22685.0, "name": "admins", "is_superuser": true,
		"parent": groupB.String(), "parent_name": "everyone", "users": []any{42.0, 7.0},
		"users_obj": []any{map[string]any{
			"pk": 42.0, "username": "alice", "name": "Alice Liddell", "is_active": true,
			"last_login": "2025-03-04T05:06:07Z", "email": "alice@example.com", "attributes": map[string]any{},
			"uid": "718e1dbca6e2eb9ff5c1003b40c35ea7d89aede49639134e42f3c9330e661c62",
		}},
		"attributes": map[string]any{"team": "ops"}, "roles": []any{}, "roles_obj": []any{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GroupView =\n %s", b)
	}
	m, _ := json.Marshal(directory.MemberOf(member, installID))
	wantKeys(t, "GroupMember", m, groupMemberKeys)

	// users_obj is null when not included, and the other lists are
	// never null.
	b, _ = json.Marshal(directory.GroupView{Group: directory.Group{Name: "bare"}})
	for _, s := range []string{`"users_obj":null`, `"users":[]`, `"attributes":{}`, `"roles":[]`, `"roles_obj":[]`, `"parent":null`, `"parent_name":null`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("%s lacks %s", b, s)
		}
	}
	b, _ = json.Marshal(directory.GroupView{Group: directory.Group{Name: "bare"}, UsersObj: []directory.User{}})
	if !strings.Contains(string(b), `"users_obj":[]`) {
		t.Errorf("%s lacks users_obj []", b)
	}
}

// TestKeyOrderMatchesSchema reads authentik's core schema, when it is at
// hand, and checks the key orders above against its property order. Set
// AUTHFLOW_CORE_OPENAPI to its path; by default the shared copy beside
// the work trees is used.
func TestKeyOrderMatchesSchema(t *testing.T) {
	path := os.Getenv("AUTHFLOW_CORE_OPENAPI")
	if path == "" {
		path = filepath.Join("..", "..", "..", "shared", "authentik", "openapi-2025.6-core.yml")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("authentik's core schema is not at hand (%v); set AUTHFLOW_CORE_OPENAPI", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	props := func(schema string) []string {
		n := child(child(child(doc.Content[0], "components"), "schemas"), schema)
		p := child(n, "properties")
		if p == nil {
			t.Fatalf("schema %s has no properties", schema)
		}
		var out []string
		for i := 0; i < len(p.Content); i += 2 {
			out = append(out, p.Content[i].Value)
		}
		return out
	}
	for schema, want := range map[string][]string{"User": userKeys, "Group": groupKeys, "UserGroup": userGroupKeys, "GroupMember": groupMemberKeys} {
		if got := props(schema); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: schema order %q\n         tested %q", schema, got, want)
		}
	}

	// The renderings validate against the schemas, with and without the
	// optional parts.
	spec, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	parentName := "everyone"
	g := storedGroup()
	for name, v := range map[string]struct {
		schema string
		value  any
	}{
		"full user":  {"User", directory.UserView{User: storedUser(), IsSuperuser: true, GroupsObj: []directory.UserGroup{{Group: g, ParentName: &parentName}}, Avatar: "a", InstallID: installID}},
		"bare user":  {"User", directory.UserView{User: bareUser()}},
		"full group": {"Group", directory.GroupView{Group: g, ParentName: &parentName, UsersObj: []directory.User{storedUser()}, InstallID: installID}},
		"bare group": {"Group", directory.GroupView{Group: directory.Group{Name: "g"}}},
	} {
		b, err := json.Marshal(v.value)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if err := spec.Components.Schemas[v.schema].Value.VisitJSON(doc); err != nil {
			t.Errorf("%s does not validate as %s: %v\n%s", name, v.schema, err, b)
		}
	}
}

// bareUser is a created user with nothing but its required fields and
// what the store sets.
func bareUser() directory.User {
	u := directory.DefaultUser()
	u.PK, u.Username = 1, "u"
	u.DateJoined, u.PasswordChangeDate = "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"
	return u
}

// child is the value of key in the YAML mapping n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// TestNoPasswordAnywhere: a password sent in a write is refused without
// being echoed, and no rendering of a user holds one.
func TestNoPasswordAnywhere(t *testing.T) {
	const secret = "correct horse battery staple"
	u := storedUser()
	_, err := directory.DecodeUser(u, []byte(`{"password":"`+secret+`"}`), validate.Patch)
	if err == nil {
		t.Fatal("a password in a write was accepted")
	}
	body, _ := json.Marshal(err)
	renderings := map[string]string{
		"error":     err.Error(),
		"error 400": string(body),
		"String":    u.String(),
		"%+v":       fmt.Sprintf("%+v", u),
	}
	for name, v := range map[string]any{
		"User":      u,
		"UserView":  directory.UserView{User: u, InstallID: installID},
		"GroupView": directory.GroupView{Group: storedGroup(), UsersObj: []directory.User{u}},
		"Member":    directory.MemberOf(u, installID),
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		renderings[name] = string(b)
	}
	for name, s := range renderings {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains the password: %s", name, s)
		}
		if name != "error" && name != "error 400" && strings.Contains(s, "password\"") {
			t.Errorf("%s has a password key: %s", name, s)
		}
	}
	if s, err := validate.SchemaOf(directory.User{}); err != nil || s.Has("password") {
		t.Errorf("User's schema has a password field (err %v)", err)
	}
}
