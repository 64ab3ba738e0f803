package directory_test

import (
	"reflect"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// storedGroup is a valid, stored group with non-default optional fields.
func storedGroup() directory.Group {
	g := directory.DefaultGroup()
	g.PK, g.Name, g.IsSuperuser = groupA, "admins", true
	parent := groupB
	g.Parent = &parent
	g.Users = []int64{42, 7}
	g.Attributes = map[string]any{"team": "ops"}
	return g
}

func TestGroupDefaults(t *testing.T) {
	got, err := directory.DecodeGroup(directory.DefaultGroup(), []byte(`{"name":"staff"}`), validate.Create)
	if err != nil {
		t.Fatal(err)
	}
	want := directory.Group{Name: "staff", Users: []int64{}, Attributes: map[string]any{}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("created %+v\nwant %+v", got, want)
	}
}

func TestGroupFieldRules(t *testing.T) {
	self := `"` + groupA.String() + `"`
	tests := []struct {
		name  string
		op    validate.Op
		body  string
		errs  map[string][]string
		check func(t *testing.T, g directory.Group)
	}{
		{name: "name missing", op: validate.Create, body: `{}`, errs: testutil.One("name", validate.MsgRequired)},
		{name: "name blank", op: validate.Patch, body: `{"name":" "}`, errs: testutil.One("name", validate.MsgBlank)},
		{name: "name null", op: validate.Patch, body: `{"name":null}`, errs: testutil.One("name", validate.MsgNull)},
		{name: "is_superuser invalid", op: validate.Patch, body: `{"is_superuser":"x"}`, errs: testutil.One("is_superuser", validate.MsgBoolean)},
		// parent (DIRECTORY.md §10.7)
		{name: "parent itself", op: validate.Patch, body: `{"parent":` + self + `}`, errs: testutil.One("parent", directory.MsgParentSelf)},
		{name: "parent itself on replace", op: validate.Replace, body: `{"name":"admins","parent":` + self + `}`, errs: testutil.One("parent", directory.MsgParentSelf)},
		{name: "parent null", op: validate.Patch, body: `{"parent":null}`, check: func(t *testing.T, g directory.Group) {
			if g.Parent != nil {
				t.Errorf("Parent = %v", g.Parent)
			}
		}},
		{name: "parent empty string is null", op: validate.Patch, body: `{"parent":""}`, check: func(t *testing.T, g directory.Group) {
			if g.Parent != nil {
				t.Errorf("Parent = %v", g.Parent)
			}
		}},
		{name: "parent malformed", op: validate.Patch, body: `{"parent":"nope"}`, errs: testutil.One("parent", validate.InvalidUUID("nope"))},
		{name: "parent bool", op: validate.Patch, body: `{"parent":true}`, errs: testutil.One("parent", validate.MsgPKBool)},
		// attributes
		{name: "attributes list", op: validate.Patch, body: `{"attributes":[]}`, errs: testutil.One("attributes", validate.MsgJSONDict)},
		// users: DRF's related-field messages, the first bad item only
		{name: "users null", op: validate.Patch, body: `{"users":null}`, errs: testutil.One("users", validate.MsgNull)},
		{name: "users string", op: validate.Patch, body: `{"users":"1"}`, errs: testutil.One("users", validate.NotAList("str"))},
		{name: "users object", op: validate.Patch, body: `{"users":{}}`, errs: testutil.One("users", validate.NotAList("dict"))},
		{name: "users number", op: validate.Patch, body: `{"users":1}`, errs: testutil.One("users", validate.NotAList("int"))},
		{name: "users bool item", op: validate.Patch, body: `{"users":[1,true]}`, errs: testutil.One("users", "Incorrect type. Expected pk value, received bool.")},
		{name: "users text item", op: validate.Patch, body: `{"users":["abc",true]}`, errs: testutil.One("users", "Incorrect type. Expected pk value, received str.")},
		{name: "users list item", op: validate.Patch, body: `{"users":[[1]]}`, errs: testutil.One("users", "Incorrect type. Expected pk value, received list.")},
		{name: "users dict item", op: validate.Patch, body: `{"users":[{}]}`, errs: testutil.One("users", "Incorrect type. Expected pk value, received dict.")},
		{name: "users float item", op: validate.Patch, body: `{"users":[1.5]}`, errs: testutil.One("users", "Incorrect type. Expected pk value, received float.")},
		{name: "users null item", op: validate.Patch, body: `{"users":[null]}`, errs: testutil.One("users", validate.DoesNotExist("None"))},
		{name: "users huge item", op: validate.Patch, body: `{"users":[99999999999999999999]}`, errs: testutil.One("users", validate.DoesNotExist("99999999999999999999"))},
		{name: "users coerced", op: validate.Patch, body: `{"users":[" 5 ","1_0",3.0,1e1,7]}`, check: func(t *testing.T, g directory.Group) {
			if want := []int64{5, 10, 3, 7}; !reflect.DeepEqual(g.Users, want) {
				t.Errorf("Users = %v, want %v", g.Users, want)
			}
		}},
		{name: "users empty", op: validate.Patch, body: `{"users":[]}`, check: func(t *testing.T, g directory.Group) {
			if g.Users == nil || len(g.Users) != 0 {
				t.Errorf("Users = %#v", g.Users)
			}
		}},
		// roles: none exist
		{name: "roles empty", op: validate.Patch, body: `{"roles":[]}`},
		{name: "roles given", op: validate.Patch, body: `{"roles":["` + groupB.String() + `"]}`, errs: testutil.One("roles", validate.DoesNotExist(groupB.String()))},
		{name: "roles malformed", op: validate.Patch, body: `{"roles":["x"]}`, errs: testutil.One("roles", validate.InvalidUUID("x"))},
		// unknown, read-only and computed keys
		{name: "unknown key", op: validate.Patch, body: `{"children":[]}`, errs: testutil.One("children", validate.MsgUnknownField)},
		{name: "read-only and computed keys ignored", op: validate.Patch, body: `{"pk":"` + groupB.String() + `","num_pk":1,
			"parent_name":"x","users_obj":[],"roles_obj":[]}`, check: func(t *testing.T, g directory.Group) {
			if !reflect.DeepEqual(g, storedGroup()) {
				t.Errorf("read-only keys changed the group:\n got %+v\nwant %+v", g, storedGroup())
			}
		}},
		{name: "several errors", op: validate.Patch, body: `{"name":"","users":["x"],"parent":` + self + `}`, errs: map[string][]string{
			"name": {validate.MsgBlank}, "users": {"Incorrect type. Expected pk value, received str."}, "parent": {directory.MsgParentSelf},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := storedGroup()
			if tt.op == validate.Create {
				cur = directory.DefaultGroup()
			}
			got, err := directory.DecodeGroup(cur, []byte(tt.body), tt.op)
			testutil.WantFields(t, tt.body, err, tt.errs)
			if err == nil && tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// TestGroupMergePatch: a PATCH leaves other fields, users included; a PUT
// without users leaves the group with none and keeps other omitted
// fields.
func TestGroupMergePatch(t *testing.T) {
	got, err := directory.DecodeGroup(storedGroup(), []byte(`{"is_superuser":false,"attributes":{"team":null,"x":true}}`), validate.Patch)
	if err != nil {
		t.Fatal(err)
	}
	want := storedGroup()
	want.IsSuperuser = false
	want.Attributes = map[string]any{"x": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("patch:\n got %+v\nwant %+v", got, want)
	}

	got, err = directory.DecodeGroup(storedGroup(), []byte(`{"name":"admins"}`), validate.Replace)
	if err != nil {
		t.Fatal(err)
	}
	want = storedGroup()
	want.Users = []int64{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("replace:\n got %+v\nwant %+v", got, want)
	}

	got, err = directory.DecodeGroup(storedGroup(), []byte(`{"name":"admins","users":[7,7,9]}`), validate.Replace)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{7, 9}; !reflect.DeepEqual(got.Users, want) {
		t.Errorf("Users = %v, want %v", got.Users, want)
	}
	if got := (directory.Group{}).DefaultOnReplace(); !reflect.DeepEqual(got, []string{"users"}) {
		t.Errorf("DefaultOnReplace = %q", got)
	}
}

// TestGroupParentSelfOnCreate: a create has no pk of its own to clash
// with, as in authentik (validate_parent checks updates only).
func TestGroupParentSelfOnCreate(t *testing.T) {
	_, err := directory.DecodeGroup(directory.DefaultGroup(), []byte(`{"name":"n","parent":"`+uuid.Nil.String()+`"}`), validate.Create)
	if err != nil {
		t.Errorf("create with a parent: %v", err)
	}
}

func TestGroupString(t *testing.T) {
	if got := storedGroup().String(); got != "Group admins" {
		t.Errorf("String() = %q", got)
	}
}

func TestNumPK(t *testing.T) {
	tests := []struct {
		pk   string
		want int64
	}{
		// int(str(UUID(pk).int)[:5]), computed with Python.
		{"aaaaaaaa-0000-4000-8000-000000000001", 22685},
		{"00000000-0000-0000-0000-00000000002a", 42},
		{"00000000-0000-0000-0000-000000000000", 0},
		{"ffffffff-ffff-ffff-ffff-ffffffffffff", 34028},
	}
	for _, tt := range tests {
		g := directory.Group{PK: uuid.MustParse(tt.pk)}
		if got := g.NumPK(); got != tt.want {
			t.Errorf("NumPK(%s) = %d, want %d", tt.pk, got, tt.want)
		}
	}
}

func TestSuperuserDenied(t *testing.T) {
	if got := directory.SuperuserDenied(true); got != "User does not have permission to set superuser status to True." {
		t.Errorf("true: %q", got)
	}
	if got := directory.SuperuserDenied(false); got != "User does not have permission to set superuser status to False." {
		t.Errorf("false: %q", got)
	}
}
