package policy_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// FuzzDecode patches a policy of every kind with arbitrary bodies: a
// refusal is a validation error, never a panic; an accepted result passes
// its object rules once checked, and reads back from its stored form
// unchanged.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"name":"x","execution_logging":"yes"}`, `{"expression":""}`, `{"check_ip":false,"check_username":false}`,
		`{"action":null,"client_ip":null,"app":null,"model":null}`, `{"countries":["DE","XX"],"asns":[1,"2",null]}`,
		`{"symbol_charset":"\u0000"}`, `{"days":"1e3"}`, `[1]`, `{"wait_min":-1,"wait_max":1e999}`,
	} {
		f.Add(byte(0), []byte(seed))
	}
	kinds := policy.Default.Kinds()
	f.Fuzz(func(t *testing.T, which byte, body []byte) {
		k := kinds[int(which)%len(kinds)]
		cur, err := policy.Default.New(k.Model)
		if err != nil {
			t.Fatal(err)
		}
		cur.PK, cur.Name = uuid.MustParse("5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"), "p"
		next, err := policy.Default.Decode(cur, body, validate.Patch)
		if err != nil {
			testutil.WantRejection(t, fmt.Sprintf("Decode(%q)", body), err)
			return
		}
		if next.PK != cur.PK || next.Model() != cur.Model() {
			t.Fatalf("Decode(%q) changed pk or model", body)
		}
		if validate.CheckObject(next.Config) != nil {
			return // the store refuses it
		}
		b, err := policy.Default.Encode(next)
		if err != nil {
			t.Fatalf("Encode(%#v): %v", next, err)
		}
		back, err := policy.Default.DecodeStored(b)
		if err != nil || !reflect.DeepEqual(back, next) {
			t.Fatalf("stored %s reads back as %#v, %v; want %#v", b, back, err, next)
		}
	})
}
