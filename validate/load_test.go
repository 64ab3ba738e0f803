package validate_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

func storedSchema(t testing.TB) *validate.Schema {
	t.Helper()
	s, err := validate.SchemaOf(loadSample{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// loadSample flattens stored (validate does not follow embedded structs).
type loadSample struct {
	ID      uuid.UUID       `json:"id" af:"readonly"`
	Name    string          `json:"name" af:"required"`
	Nick    *string         `json:"nick"`
	Enabled bool            `json:"enabled"`
	Count   int32           `json:"count"`
	Big     int64           `json:"big"`
	Score   float64         `json:"score"`
	Color   color           `json:"color"`
	Parent  *uuid.UUID      `json:"parent" af:"ref=flow"`
	Token   validate.Secret `json:"token" af:"writeonly,blank"`
	Extra   map[string]any  `json:"extra"`
	Tags    []string        `json:"tags"`
	Flows   []uuid.UUID     `json:"flows"`
}

// Load reads back what AppendJSON wrote, secrets included.
func TestLoadRoundTrip(t *testing.T) {
	s := storedSchema(t)
	id := uuid.MustParse("11111111-2222-4333-8444-555555555555")
	in := loadSample{ID: id, Name: "a\"<b> é \u2028", Nick: ptr("nick"), Enabled: true, Count: -3, Big: 1 << 60, Score: -0.25,
		Color: blue, Parent: &id, Token: validate.NewSecret("hunter2"), Extra: map[string]any{"k": "v"},
		Tags: []string{"x", "y"}, Flows: []uuid.UUID{id}}
	body, err := s.AppendJSON([]byte("{"), in, true)
	if err != nil {
		t.Fatal(err)
	}
	var out loadSample
	if err := s.Load(&out, append(body, '}')); err != nil {
		t.Fatal(err)
	}
	if out.Token.Reveal() != "hunter2" {
		t.Errorf("token = %q", out.Token.Reveal())
	}
	out.Token, in.Token = validate.Secret{}, validate.Secret{}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("Load:\n got %+v\nwant %+v", out, in)
	}
}

func TestLoadRejects(t *testing.T) {
	s := storedSchema(t)
	for _, body := range []string{
		``, `[]`, `"s"`, `{"name":1}`, `{"enabled":"true"}`, `{"count":2147483648}`, `{"count":1.5}`,
		`{"parent":"nope"}`, `{"parent":7}`, `{"score":"1"}`, `{"score":1e999}`, `{"tags":"x"}`, `{"name":"x"`, `{"name":"x"}}`,
	} {
		var out loadSample
		if err := s.Load(&out, []byte(body)); err == nil {
			t.Errorf("Load(%s) succeeded: %+v", body, out)
		}
	}
	if err := s.Load(loadSample{}, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "is not *") {
		t.Errorf("Load into a non-pointer: %v", err)
	}
}

// Load agrees with json.Unmarshal on every object whose keys are spelt as
// the fields are (json.Unmarshal also matches other cases), and never
// panics.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"name":"a","nick":null,"enabled":true,"count":-3,"big":9,"color":"red","parent":"11111111-2222-4333-8444-555555555555"}`,
		`{"name":"a\u00e9\\","name":"b","extra":{"a":[1,{}]},"tags":["x"],"flows":[]}`, `{"token":null,"zzz":[1,2]}`,
		`{"name":"\xff"}`, `{"count":1e3}`, `{"score":-1.5e-3}`, `{"parent":""}`, ` {"id" : "11111111222243338444555555555555" } `,
	} {
		f.Add([]byte(seed))
	}
	s := storedSchema(f)
	names := map[string]bool{}
	for _, n := range s.Names() {
		names[n] = true
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got, want loadSample
		err := s.Load(&got, body)
		werr := json.Unmarshal(body, &want)
		if string(bytes.TrimSpace(body)) == "null" {
			if err == nil {
				t.Fatal("Load(null) succeeded") // a record is an object; json.Unmarshal ignores null
			}
			return
		}
		exact := true
		_ = validate.Members(body, func(k string, _ []byte) error {
			if !names[k] {
				for n := range names {
					exact = exact && !strings.EqualFold(n, k)
				}
			}
			return nil
		})
		if !exact {
			return
		}
		if werr != nil {
			if err == nil {
				t.Fatalf("Load(%q) succeeded; encoding/json: %v", body, werr)
			}
			return
		}
		if err != nil {
			t.Fatalf("Load(%q): %v; encoding/json accepts it", body, err)
		}
		if got.Token.Reveal() != want.Token.Reveal() {
			t.Fatalf("Load(%q) token %q, encoding/json %q", body, got.Token.Reveal(), want.Token.Reveal())
		}
		got.Token, want.Token = validate.Secret{}, validate.Secret{}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Load(%q):\n got %+v\nwant %+v", body, got, want)
		}
	})
}
