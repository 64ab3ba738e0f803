package flow_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/validate"
)

// FuzzApplyPatch applies arbitrary bytes as a patch to a valid flow. It
// must never panic; a rejection is a *validate.Error or a syntax error; and
// an accepted result is itself valid, stable under an empty patch, and
// keeps the read-only fields.
func FuzzApplyPatch(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"name":"x"}`, `{"title":null}`, `{"slug":"Not A Slug"}`,
		`{"designation":"recovery","layout":"content_left","compatibility_mode":"yes"}`,
		`{"name":"\u001f"}`, `{"name":12,"title":1.5e300}`, `{"pk":"x","stages":[1]}`,
		`[]`, `null`, `"x"`, `{"name":`, `{"a":1}{}`, `{"slug":"` + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + `"}`,
		`{"policy_engine_mode":true,"denied_action":{},"authentication":[]}`,
	} {
		f.Add([]byte(seed))
	}
	cur := stored()
	f.Fuzz(func(t *testing.T, patch []byte) {
		next, err := flow.ApplyPatch(cur, patch)
		if err != nil {
			testutil.WantRejection(t, fmt.Sprintf("ApplyPatch(%q)", patch), err)
			return
		}
		if next.PK != cur.PK || next.PolicyBindingModelPtrID != cur.PolicyBindingModelPtrID || next.Background != cur.Background {
			t.Fatalf("ApplyPatch(%q) changed read-only fields: %+v", patch, next)
		}
		if err := next.Validate(); err != nil {
			t.Fatalf("ApplyPatch(%q) = %+v, which fails Validate: %v", patch, next, err)
		}
		again, err := flow.ApplyPatch(next, []byte(`{}`))
		if err != nil {
			t.Fatalf("ApplyPatch(%q) result rejected by an empty patch: %v", patch, err)
		}
		if !reflect.DeepEqual(again, next) {
			t.Fatalf("empty patch changed %+v to %+v", next, again)
		}
		if _, err := flow.Decode(flow.Defaults(), mustJSON(t, flow.View{Flow: next}), validate.Create); err != nil {
			t.Fatalf("representation of %+v does not re-create: %v", next, err)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
