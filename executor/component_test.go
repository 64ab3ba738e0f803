package executor

import (
	"bytes"
	"encoding/json"
	"testing"
)

// responseComponent is what json.Unmarshal decodes into a struct's
// Component field, for any input.
func FuzzResponseComponent(f *testing.F) {
	for _, s := range []string{
		`{"component":"ak-stage-password","password":"right"}`,
		`{"component":"ak-stage-identification","uid_field":"alice"}`,
		` { "a" : [1, {"component": "x"}, "]"] , "Component" : "b" } `,
		`{"component":"a","component":null}`,
		`{"component":"a","COMPONENT":3,"x":{"y":"z"}}`,
		`{"component":"a","cOmPoNeNt":"b"}`,
		`{"component":"a\u0062"}`,
		`{"componen\u0074":"b"}`,
		`{"component":"é"}`,
		`{"component":"\xff"}`,
		`{"compoKent":"b"}`,
		`{"x":"\"","component":true,"y":[{"a":"\\"}],"component":"c"}`,
		`["component"]`, `"component"`, `null`, `{`, `{"component":"a",}`, ``, `{}`, `1`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var head struct {
			Component string `json:"component"`
		}
		_ = json.Unmarshal(body, &head)
		if got := responseComponent(body); !bytes.Equal(got, []byte(head.Component)) {
			t.Errorf("%q: %q, want %q", body, got, head.Component)
		}
	})
}

// A response's component is read without an allocation.
func TestResponseComponentAllocs(t *testing.T) {
	body := []byte(`{"component":"ak-stage-password","password":"right"}`)
	if n := testing.AllocsPerRun(50, func() {
		if string(responseComponent(body)) != "ak-stage-password" {
			t.Fatal("wrong component")
		}
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
