package stage_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
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
	f.Fuzz(func(t *testing.T, patch []byte) {
		fuzzPatch(t, duoStage, patch)
	})
}

// FuzzApplyPatchKinds does the same to the kinds with float, any-JSON,
// read-only and many-to-many fields, and object rules.
func FuzzApplyPatchKinds(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"score_min_threshold":"1e3"}`, `{"score_max_threshold":true}`, `{"credentials":{"a":null}}`, `{"credentials":[1]}`,
		`{"configuration_stages":[]}`, `{"not_configured_action":"configure"}`, `{"user_fields":[],"sources":[]}`,
		`{"device_type_restrictions_obj":[{}]}`, `{"from_address":"a@b.de"}`,
	} {
		f.Add(byte(0), []byte(seed))
	}
	kinds := []func() stage.Stage{captchaStage, gdtcStage, validateStage, identificationStage, webauthnStage, emailStage}
	f.Fuzz(func(t *testing.T, which byte, patch []byte) {
		fuzzPatch(t, kinds[int(which)%len(kinds)], patch)
	})
}

// fuzzPatch applies patch to build() and checks what FuzzApplyPatch says.
func fuzzPatch(t *testing.T, build func() stage.Stage, patch []byte) {
	t.Helper()
	cur, orig := build(), build()
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
	if err := validate.CheckObject(next.Config); err != nil {
		t.Fatalf("ApplyPatch(%q) = %#v, which fails its object rule: %v", patch, next, err)
	}
	if err := next.Config.(validate.FieldValidator).Validate(); err != nil {
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
}
