package stage_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/stage"
)

// FuzzApplyPatch applies arbitrary bytes as a patch to a valid Duo stage,
// the kind with nullable, reference and write-only fields. It must never
// panic; a rejection is a *validate.Error or a syntax error; an accepted
// result is valid, stable under an empty patch and a stored round trip,
// and the argument is left as it was.
func FuzzApplyPatch(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"name":"x"}`, `{"friendly_name":null}`, `{"friendly_name":""}`,
		`{"configure_flow":""}`, `{"configure_flow":"abc"}`, `{"configure_flow":1}`,
		`{"client_secret":"new","admin_secret_key":null}`, `{"flow_set":[{}],"pk":1}`,
		`[]`, `{"client_id":`, `{"name":"\u0000"}`,
	} {
		f.Add([]byte(seed))
	}
	cur := duoStage()
	orig := duoStage()
	f.Fuzz(func(t *testing.T, patch []byte) {
		next, err := stage.ApplyPatch(cur, patch)
		if !reflect.DeepEqual(cur, orig) {
			t.Fatalf("ApplyPatch(%q) modified its argument", patch)
		}
		if err != nil {
			testutil.WantRejection(t, fmt.Sprintf("ApplyPatch(%q)", patch), err)
			if strings.Contains(err.Error(), clientSecret) || strings.Contains(err.Error(), adminSecret) {
				t.Fatalf("ApplyPatch(%q): error shows a secret: %v", patch, err)
			}
			return
		}
		if next.PK != cur.PK || next.Model() != cur.Model() {
			t.Fatalf("ApplyPatch(%q) changed pk or model", patch)
		}
		if err := next.Config.(stage.AuthenticatorDuo).Validate(); err != nil {
			t.Fatalf("ApplyPatch(%q) = %#v, which fails Validate: %v", patch, next, err)
		}
		again, err := stage.ApplyPatch(next, []byte(`{}`))
		if err != nil || !reflect.DeepEqual(again, next) {
			t.Fatalf("empty patch on %#v = %#v, %v", next, again, err)
		}
		b, err := stage.Default.Encode(next)
		if err != nil {
			t.Fatal(err)
		}
		back, err := stage.Default.DecodeStored(b)
		if err != nil || !reflect.DeepEqual(back, next) {
			t.Fatalf("stored round trip of %#v = %#v, %v", next, back, err)
		}
	})
}
