package validate_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/validate"
)

const secretValue = "hunter2-s3cr3t"

type holder struct {
	Name   string           `json:"name"`
	Secret validate.Secret  `json:"secret"`
	Ptr    *validate.Secret `json:"ptr"`
}

func TestSecretNeverPrinted(t *testing.T) {
	s := validate.NewSecret(secretValue)
	h := holder{Name: "n", Secret: s, Ptr: &s}
	values := []any{s, &s, h, &h, []validate.Secret{s}, map[string]validate.Secret{"k": s}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%q", "%x", "%X", "%10s", "%-8v"} {
		for _, v := range values {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, secretValue) || strings.Contains(out, fmt.Sprintf("%x", secretValue)) {
				t.Errorf("Sprintf(%q, %T) = %q leaks the secret", verb, v, out)
			}
			if !strings.Contains(out, validate.Redacted) {
				t.Errorf("Sprintf(%q, %T) = %q lacks %q", verb, v, out, validate.Redacted)
			}
		}
	}
	if got := fmt.Sprint(s); got != "[redacted]" {
		t.Errorf("Sprint = %q", got)
	}
	if got := s.String(); got != "[redacted]" {
		t.Errorf("String() = %q", got)
	}
	if got := s.GoString(); got != "[redacted]" {
		t.Errorf("GoString() = %q", got)
	}
	if got := fmt.Errorf("wrapping %v: %w", s, errors.New("x")).Error(); strings.Contains(got, secretValue) {
		t.Errorf("error text %q leaks the secret", got)
	}
}

func TestSecretJSON(t *testing.T) {
	s := validate.NewSecret(secretValue)
	for _, v := range []any{s, &s, holder{Secret: s, Ptr: &s}, map[string]any{"s": s}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), secretValue) {
			t.Errorf("json.Marshal(%T) = %s leaks the secret", v, b)
		}
	}
	b, _ := json.Marshal(holder{Name: "n", Secret: s, Ptr: &s})
	if want := `{"name":"n","secret":null,"ptr":null}`; string(b) != want {
		t.Errorf("json.Marshal = %s, want %s", b, want)
	}

	var h holder
	if err := json.Unmarshal([]byte(`{"secret":"`+secretValue+`","ptr":null}`), &h); err != nil {
		t.Fatal(err)
	}
	if h.Secret.Reveal() != secretValue || h.Secret.IsZero() {
		t.Errorf("UnmarshalJSON: Reveal() = %q", h.Secret.Reveal())
	}
	if err := json.Unmarshal([]byte(`null`), &h.Secret); err != nil || !h.Secret.IsZero() {
		t.Errorf("UnmarshalJSON(null) = %v, IsZero %v", err, h.Secret.IsZero())
	}
	if err := json.Unmarshal([]byte(`12`), &h.Secret); err == nil {
		t.Error("UnmarshalJSON(12) succeeded")
	}
	var zero validate.Secret
	if !zero.IsZero() || zero.Reveal() != "" {
		t.Error("zero Secret is not empty")
	}
}

// A secret that fails validation is not echoed in the error.
func TestSecretNotInErrors(t *testing.T) {
	type creds struct {
		Key validate.Secret `json:"key" af:"required,writeonly"`
	}
	for _, body := range []string{
		`{"key":"` + secretValue + `\u0000"}`,
		`{"key":{"v":"` + secretValue + `"}}`,
		`{"key":["` + secretValue + `"]}`,
	} {
		_, err := validate.Apply(creds{}, []byte(body), validate.Create, nil)
		if err == nil {
			t.Fatalf("Apply(%s) succeeded", body)
		}
		var ve *validate.Error
		if !errors.As(err, &ve) || !ve.Has("key") {
			t.Fatalf("Apply(%s) = %v, want an error on key", body, err)
		}
		b, _ := json.Marshal(ve)
		for _, out := range []string{ve.Fields["key"][0], string(b), fmt.Sprintf("%+v", ve)} {
			if strings.Contains(out, secretValue+`"`) || strings.Contains(out, "'"+secretValue) || strings.Contains(out, secretValue+"\x00") {
				t.Errorf("Apply(%s): %q shows the value", body, out)
			}
		}
	}
	got, err := validate.Apply(creds{}, []byte(`{"key":" `+secretValue+` "}`), validate.Create, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Key.Reveal() != secretValue {
		t.Errorf("Key = %q, want the trimmed value", got.Key.Reveal())
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", got, got, got), secretValue) {
		t.Error("decoded struct prints its secret")
	}
}

func TestSchemaSecrets(t *testing.T) {
	type withSecrets struct {
		Name  string           `json:"name"`
		Key   validate.Secret  `json:"key" af:"writeonly"`
		Shown validate.Secret  `json:"shown"`
		Opt   *validate.Secret `json:"opt"`
	}
	sc, err := validate.SchemaOf(withSecrets{})
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.Secrets(); !slices.Equal(got, []string{"key", "shown", "opt"}) {
		t.Errorf("Secrets = %v", got)
	}
	opt := validate.NewSecret("o")
	in := withSecrets{Name: "n", Key: validate.NewSecret("k"), Shown: validate.NewSecret("s"), Opt: &opt}
	out, err := sc.MapSecrets(in, func(name string, v validate.Secret) (validate.Secret, error) {
		return validate.NewSecret(name + "=" + v.Reveal()), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := out.(withSecrets)
	if got.Name != "n" || got.Key.Reveal() != "key=k" || got.Shown.Reveal() != "shown=s" || got.Opt.Reveal() != "opt=o" {
		t.Errorf("MapSecrets = %+v", got)
	}
	if in.Key.Reveal() != "k" || in.Opt.Reveal() != "o" {
		t.Errorf("MapSecrets changed its input")
	}
	if _, err := sc.MapSecrets(&in, func(string, validate.Secret) (validate.Secret, error) { return validate.Secret{}, errors.New("no") }); err == nil {
		t.Error("MapSecrets dropped fn's error")
	}
	type bad struct {
		Key string `json:"key" af:"writeonly"`
	}
	if _, err := validate.SchemaOf(bad{}); err == nil {
		t.Error("a writeonly string is accepted")
	}
}
