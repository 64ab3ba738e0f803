package directory_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/validate"
)

// FuzzDecodeUser patches a stored user with arbitrary bytes. It must never
// panic; a rejection is a *validate.Error or a syntax error; an accepted
// result keeps the read-only fields, and its representation, written
// back as a PUT, changes nothing.
func FuzzDecodeUser(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"username":"x"}`, `{"path":"a//b"}`, `{"path":"/"}`, `{"type":"internal_service_account"}`,
		`{"groups":["aaaaaaaa-0000-4000-8000-000000000001",1]}`, `{"attributes":{"a":[1,{"b":null}]}}`,
		`{"last_login":"2025-01-01"}`, `{"email":"a@b"}`, `[]`, `{"password":"x"}`, `{"is_active":"off"}`,
	} {
		f.Add([]byte(seed))
	}
	cur := storedUser()
	f.Fuzz(func(t *testing.T, patch []byte) {
		next, err := directory.DecodeUser(cur, patch, validate.Patch)
		if err != nil {
			testutil.WantRejection(t, fmt.Sprintf("DecodeUser(%q)", patch), err)
			return
		}
		if next.PK != cur.PK || next.UUID != cur.UUID || next.DateJoined != cur.DateJoined || next.PasswordChangeDate != cur.PasswordChangeDate {
			t.Fatalf("DecodeUser(%q) changed read-only fields: %+v", patch, next)
		}
		if next.Type == directory.UserTypeInternalServiceAccount {
			return // every later write is refused
		}
		view, err := json.Marshal(directory.UserView{User: next})
		if err != nil {
			t.Fatal(err)
		}
		again, err := directory.DecodeUser(next, view, validate.Replace)
		if err != nil {
			t.Fatalf("PUT of the representation %s: %v", view, err)
		}
		if !reflect.DeepEqual(again, next) {
			t.Fatalf("PUT of the representation changed\n %+v\nto %+v", next, again)
		}
	})
}

// FuzzDecodeGroup does the same for a stored group.
func FuzzDecodeGroup(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"name":"x"}`, `{"users":[1,"2",3.0,null]}`, `{"users":["1e3"]}`, `{"parent":"aaaaaaaa-0000-4000-8000-000000000001"}`,
		`{"roles":[]}`, `{"roles":[1]}`, `{"attributes":{"a":{"b":[]}}}`, `{"users":[99999999999999999999999]}`, `{"users":[-0.0]}`,
	} {
		f.Add([]byte(seed))
	}
	cur := storedGroup()
	f.Fuzz(func(t *testing.T, patch []byte) {
		next, err := directory.DecodeGroup(cur, patch, validate.Patch)
		if err != nil {
			testutil.WantRejection(t, fmt.Sprintf("DecodeGroup(%q)", patch), err)
			return
		}
		if next.PK != cur.PK {
			t.Fatalf("DecodeGroup(%q) changed the pk", patch)
		}
		view, err := json.Marshal(directory.GroupView{Group: next})
		if err != nil {
			t.Fatal(err)
		}
		again, err := directory.DecodeGroup(next, view, validate.Replace)
		if err != nil {
			t.Fatalf("PUT of the representation %s: %v", view, err)
		}
		if !reflect.DeepEqual(again, next) {
			t.Fatalf("PUT of the representation changed\n %+v\nto %+v", next, again)
		}
	})
}
