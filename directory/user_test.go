package directory_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

var (
	userUUID = uuid.MustParse("5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f")
	groupA   = uuid.MustParse("aaaaaaaa-0000-4000-8000-000000000001")
	groupB   = uuid.MustParse("bbbbbbbb-0000-4000-8000-000000000002")
)

// storedUser is a valid, stored user with non-default optional fields.
func storedUser() directory.User {
	u := directory.DefaultUser()
	u.PK, u.UUID = 42, userUUID
	u.Username, u.Name, u.Email = "alice", "Alice Liddell", "alice@example.com"
	u.DateJoined, u.PasswordChangeDate = "2025-01-02T03:04:05Z", "2025-02-03T04:05:06.000007Z"
	login := "2025-03-04T05:06:07Z"
	u.LastLogin = &login
	u.Path = "users/wonderland"
	u.Type = directory.UserTypeExternal
	u.Groups = []uuid.UUID{groupA}
	u.Attributes = map[string]any{"settings": map[string]any{"locale": "en"}}
	return u
}

func TestUserDefaults(t *testing.T) {
	u := directory.DefaultUser()
	if !u.IsActive || u.Path != "users" || u.Type != directory.UserTypeInternal || u.Attributes == nil || u.Groups == nil || len(u.Groups) != 0 {
		t.Errorf("DefaultUser() = %+v", u)
	}
	// A create with only the required fields takes them.
	got, err := directory.DecodeUser(directory.DefaultUser(), []byte(`{"username":"bob","name":""}`), validate.Create)
	if err != nil {
		t.Fatal(err)
	}
	want := directory.DefaultUser()
	want.Username = "bob"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("created %+v\nwant %+v", got, want)
	}
}

func TestUserFieldRules(t *testing.T) {
	long := strings.Repeat("u", 151)
	tests := []struct {
		name  string
		op    validate.Op
		body  string
		errs  map[string][]string
		check func(t *testing.T, u directory.User)
	}{
		// username
		{name: "username missing", op: validate.Create, body: `{"name":"n"}`, errs: testutil.One("username", validate.MsgRequired)},
		{name: "username blank", op: validate.Patch, body: `{"username":""}`, errs: testutil.One("username", validate.MsgBlank)},
		{name: "username 150", op: validate.Patch, body: `{"username":"` + long[:150] + `"}`},
		{name: "username 151", op: validate.Patch, body: `{"username":"` + long + `"}`, errs: testutil.One("username", validate.MaxLength(150))},
		{name: "username 150 runes", op: validate.Patch, body: `{"username":"` + strings.Repeat("ü", 150) + `"}`},
		{name: "username any characters", op: validate.Patch, body: `{"username":"Alice Liddell/#1"}`, check: func(t *testing.T, u directory.User) {
			if u.Username != "Alice Liddell/#1" {
				t.Errorf("Username = %q", u.Username)
			}
		}},
		{name: "username case kept", op: validate.Patch, body: `{"username":" Alice "}`, check: func(t *testing.T, u directory.User) {
			if u.Username != "Alice" {
				t.Errorf("Username = %q", u.Username)
			}
		}},
		{name: "username null", op: validate.Patch, body: `{"username":null}`, errs: testutil.One("username", validate.MsgNull)},
		// name
		{name: "name missing", op: validate.Create, body: `{"username":"u"}`, errs: testutil.One("name", validate.MsgRequired)},
		{name: "name missing on replace", op: validate.Replace, body: `{"username":"u"}`, errs: testutil.One("name", validate.MsgRequired)},
		{name: "name blank allowed", op: validate.Patch, body: `{"name":"  "}`, check: func(t *testing.T, u directory.User) {
			if u.Name != "" {
				t.Errorf("Name = %q", u.Name)
			}
		}},
		// email
		{name: "email invalid", op: validate.Patch, body: `{"email":"not-an-email"}`, errs: testutil.One("email", validate.MsgEmail)},
		{name: "email blank allowed", op: validate.Patch, body: `{"email":""}`, check: func(t *testing.T, u directory.User) {
			if u.Email != "" {
				t.Errorf("Email = %q", u.Email)
			}
		}},
		{name: "email 254", op: validate.Patch, body: `{"email":"` + strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + `.com"}`},
		{name: "email 255", op: validate.Patch, body: `{"email":"` + strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 58) + `.com"}`,
			errs: testutil.One("email", validate.MaxLength(254))},
		{name: "email too long and invalid", op: validate.Patch, body: `{"email":"` + strings.Repeat("x", 300) + `"}`,
			errs: testutil.One("email", validate.MaxLength(254), validate.MsgEmail)},
		// is_active
		{name: "is_active false", op: validate.Patch, body: `{"is_active":false}`, check: func(t *testing.T, u directory.User) {
			if u.IsActive {
				t.Error("IsActive = true")
			}
		}},
		{name: "is_active invalid", op: validate.Patch, body: `{"is_active":"maybe"}`, errs: testutil.One("is_active", validate.MsgBoolean)},
		// last_login
		{name: "last_login null", op: validate.Patch, body: `{"last_login":null}`, check: func(t *testing.T, u directory.User) {
			if u.LastLogin != nil {
				t.Errorf("LastLogin = %q", *u.LastLogin)
			}
		}},
		{name: "last_login normalised", op: validate.Patch, body: `{"last_login":"2025-06-01T12:00:00+02:00"}`, check: func(t *testing.T, u directory.User) {
			if u.LastLogin == nil || *u.LastLogin != "2025-06-01T10:00:00Z" {
				t.Errorf("LastLogin = %v", u.LastLogin)
			}
		}},
		{name: "last_login invalid", op: validate.Patch, body: `{"last_login":"yesterday"}`, errs: testutil.One("last_login", validate.MsgDateTime)},
		{name: "last_login empty", op: validate.Patch, body: `{"last_login":""}`, errs: testutil.One("last_login", validate.MsgDateTime)},
		// attributes
		{name: "attributes list", op: validate.Patch, body: `{"attributes":[1]}`, errs: testutil.One("attributes", validate.MsgJSONDict)},
		{name: "attributes string", op: validate.Patch, body: `{"attributes":"x"}`, errs: testutil.One("attributes", validate.MsgJSONDict)},
		{name: "attributes null", op: validate.Patch, body: `{"attributes":null}`, errs: testutil.One("attributes", validate.MsgNull)},
		{name: "attributes merged by a patch", op: validate.Patch, body: `{"attributes":{"settings":{"theme":"dark"},"a":1}}`, check: func(t *testing.T, u directory.User) {
			want := map[string]any{"settings": map[string]any{"locale": "en", "theme": "dark"}, "a": "1"}
			if fmt.Sprint(u.Attributes) != fmt.Sprint(want) {
				t.Errorf("Attributes = %v", u.Attributes)
			}
		}},
		// path (DIRECTORY.md §10.2)
		{name: "path leading slash", op: validate.Patch, body: `{"path":"/foo"}`, errs: testutil.One("path", directory.MsgPathSlashes)},
		{name: "path trailing slash", op: validate.Patch, body: `{"path":"foo/"}`, errs: testutil.One("path", directory.MsgPathSlashes)},
		{name: "path blank", op: validate.Patch, body: `{"path":""}`, errs: testutil.One("path", validate.MsgBlank)},
		{name: "path empty segment", op: validate.Patch, body: `{"path":"fos//o"}`, errs: testutil.One("path", directory.MsgPathEmptySegment)},
		{name: "path both problems: the first only", op: validate.Patch, body: `{"path":"/a//b"}`, errs: testutil.One("path", directory.MsgPathSlashes)},
		{name: "path any characters", op: validate.Patch, body: `{"path":"goauthentik.io/sources/a b"}`},
		// type (DIRECTORY.md §10.3)
		{name: "type invalid", op: validate.Patch, body: `{"type":"robot"}`, errs: testutil.One("type", validate.InvalidChoice("robot"))},
		{name: "type create internal_service_account", op: validate.Create, body: `{"username":"u","name":"n","type":"internal_service_account"}`,
			errs: testutil.One("type", directory.MsgTypeCreateInternalServiceAccount)},
		{name: "type create service_account", op: validate.Create, body: `{"username":"u","name":"n","type":"service_account"}`},
		{name: "type update to internal_service_account", op: validate.Patch, body: `{"type":"internal_service_account"}`, check: func(t *testing.T, u directory.User) {
			if u.Type != directory.UserTypeInternalServiceAccount {
				t.Errorf("Type = %q", u.Type)
			}
		}},
		// groups
		{name: "groups malformed", op: validate.Patch, body: `{"groups":["nope"]}`, errs: testutil.One("groups", validate.InvalidUUID("nope"))},
		{name: "groups not a list", op: validate.Patch, body: `{"groups":"x"}`, errs: testutil.One("groups", validate.NotAList("str"))},
		{name: "groups deduplicated", op: validate.Patch, body: `{"groups":["` + groupB.String() + `","` + groupA.String() + `","` + groupB.String() + `"]}`, check: func(t *testing.T, u directory.User) {
			if want := []uuid.UUID{groupB, groupA}; !reflect.DeepEqual(u.Groups, want) {
				t.Errorf("Groups = %v", u.Groups)
			}
		}},
		// unknown, read-only and computed keys
		{name: "password is unknown", op: validate.Patch, body: `{"password":"hunter2"}`, errs: testutil.One("password", validate.MsgUnknownField)},
		{name: "read-only and computed keys ignored", op: validate.Patch, body: `{"pk":7,"uuid":"` + groupB.String() + `",
			"date_joined":"2020-01-01T00:00:00Z","password_change_date":"x","is_superuser":true,"groups_obj":[],
			"avatar":"a","uid":"u"}`, check: func(t *testing.T, u directory.User) {
			if !reflect.DeepEqual(u, storedUser()) {
				t.Errorf("read-only keys changed the user:\n got %+v\nwant %+v", u, storedUser())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := storedUser()
			if tt.op == validate.Create {
				cur = directory.DefaultUser()
			}
			got, err := directory.DecodeUser(cur, []byte(tt.body), tt.op)
			testutil.WantFields(t, tt.body, err, tt.errs)
			if err == nil && tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// TestUserRulesOnSentFieldsOnly: authentik validates the fields a write
// sends; a value stored unchecked (user_write writes paths and emails
// as given) does not fail a write of another field.
func TestUserRulesOnSentFieldsOnly(t *testing.T) {
	cur := storedUser()
	cur.Path, cur.Email = "/odd//path/", "not an email"
	got, err := directory.DecodeUser(cur, []byte(`{"name":"Renamed"}`), validate.Patch)
	if err != nil {
		t.Fatalf("PATCH name: %v", err)
	}
	if got.Path != cur.Path || got.Email != cur.Email || got.Name != "Renamed" {
		t.Errorf("got %+v", got)
	}
	if err := cur.Validate(); err == nil {
		t.Error("Validate passed the odd path and email")
	}
}

func TestUserValidate(t *testing.T) {
	if err := storedUser().Validate(); err != nil {
		t.Errorf("stored user: %v", err)
	}
	u := directory.User{Username: strings.Repeat("x", 151), Path: "/p", Type: "robot", Email: "x"}
	bad := "soon"
	u.LastLogin = &bad
	ve, ok := validate.From(u.Validate())
	if !ok {
		t.Fatal("Validate passed")
	}
	want := map[string][]string{
		"username":   {validate.MaxLength(150)},
		"path":       {directory.MsgPathSlashes},
		"type":       {validate.InvalidChoice("robot")},
		"email":      {validate.MsgEmail},
		"last_login": {validate.MsgDateTime},
	}
	if !reflect.DeepEqual(ve.Fields, want) {
		t.Errorf("fields = %q\nwant %q", ve.Fields, want)
	}
}

func TestInternalServiceAccount(t *testing.T) {
	isa := storedUser()
	isa.Type = directory.UserTypeInternalServiceAccount
	tests := []struct {
		name     string
		op       validate.Op
		body     string
		fields   map[string][]string
		nonField []string
	}{
		{"patch name", validate.Patch, `{"name":"x"}`, nil, []string{directory.MsgModifyInternalServiceAccount}},
		{"empty patch", validate.Patch, `{}`, nil, []string{directory.MsgModifyInternalServiceAccount}},
		{"replace", validate.Replace, `{"username":"outpost","name":"x"}`, nil, []string{directory.MsgModifyInternalServiceAccount}},
		{"keep type", validate.Patch, `{"type":"internal_service_account"}`, nil, []string{directory.MsgModifyInternalServiceAccount}},
		{"change type", validate.Patch, `{"type":"internal"}`, testutil.One("type", directory.MsgTypeFromInternalServiceAccount), nil},
		// The object rule runs only when every field is valid.
		{"bad field", validate.Patch, `{"path":"/x"}`, testutil.One("path", directory.MsgPathSlashes), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := directory.DecodeUser(isa, []byte(tt.body), tt.op)
			testutil.WantInvalid(t, err, tt.fields, tt.nonField...)
		})
	}
}

// TestUserMergePatch: a PATCH leaves the fields it does not name as they
// were, groups included; a PUT sets omitted groups to [] and keeps other
// omitted fields.
func TestUserMergePatch(t *testing.T) {
	cur := storedUser()
	got, err := directory.DecodeUser(cur, []byte(`{"email":"a@b.example"}`), validate.Patch)
	if err != nil {
		t.Fatal(err)
	}
	want := storedUser()
	want.Email = "a@b.example"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("patch:\n got %+v\nwant %+v", got, want)
	}
	if cur.Email != "alice@example.com" {
		t.Error("DecodeUser changed cur")
	}

	got, err = directory.DecodeUser(cur, []byte(`{"username":"alice","name":"A"}`), validate.Replace)
	if err != nil {
		t.Fatal(err)
	}
	want = storedUser()
	want.Name, want.Groups = "A", []uuid.UUID{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("replace:\n got %+v\nwant %+v", got, want)
	}
	if got := (directory.User{}).DefaultOnReplace(); !reflect.DeepEqual(got, []string{"groups"}) {
		t.Errorf("DefaultOnReplace = %q", got)
	}
}

func TestUserDecodeSyntax(t *testing.T) {
	_, err := directory.DecodeUser(storedUser(), []byte(`{"name":`), validate.Patch)
	if !errors.Is(err, validate.ErrSyntax) {
		t.Errorf("err = %v, want ErrSyntax", err)
	}
	_, err = directory.DecodeUser(storedUser(), []byte(`[]`), validate.Patch)
	testutil.WantInvalid(t, err, nil, validate.NotObject("list"))
}

func TestUserString(t *testing.T) {
	if got := storedUser().String(); got != "alice" {
		t.Errorf("String() = %q", got)
	}
}

// TestUID: authentik's uid is sha256("<pk>-<install id>") in hex.
func TestUID(t *testing.T) {
	// hashlib.sha256(b"42-7c9e1b5a-0000-4000-8000-000000000000").hexdigest()
	const want = "718e1dbca6e2eb9ff5c1003b40c35ea7d89aede49639134e42f3c9330e661c62"
	const install = "7c9e1b5a-0000-4000-8000-000000000000"
	if got := directory.UID(42, install); got != want {
		t.Errorf("UID = %q, want %q", got, want)
	}
	if got := storedUser().UID(install); got != want {
		t.Errorf("User.UID = %q, want %q", got, want)
	}
}
