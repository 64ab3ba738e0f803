package validate_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

type color string

const (
	red  color = "red"
	blue color = "blue"
)

// sample has one field of every kind the "af" tag supports.
type sample struct {
	ID      uuid.UUID       `json:"id" af:"readonly"`
	Name    string          `json:"name" af:"required"`
	Note    string          `json:"note" af:"blank"`
	Nick    *string         `json:"nick"`
	Enabled bool            `json:"enabled"`
	Count   int32           `json:"count"`
	Big     int64           `json:"big"`
	Small   int             `json:"small" af:"min=1,max=10"`
	Color   color           `json:"color"`
	Owner   uuid.UUID       `json:"owner"`
	Parent  *uuid.UUID      `json:"parent" af:"ref=flow"`
	Token   validate.Secret `json:"token" af:"writeonly,blank"`
	Extra   map[string]any  `json:"extra"`
}

func (s sample) Validate() error {
	return validation.ValidateStruct(&s,
		validation.Field(&s.Name, validate.NotBlank),
		validation.Field(&s.Color, validate.Choice(red, blue)),
	)
}

func sampleDefaults() sample { return sample{Name: "n", Color: red, Small: 1} }

// apply runs validate.Apply with "computed" as an extra read-only key.
func apply(cur sample, body string, op validate.Op) (sample, error) {
	return validate.Apply(cur, []byte(body), op, validate.Keys("computed"))
}

func ptr[T any](v T) *T { return &v }

func TestCharField(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		want   string  // Name, on success
		nick   *string // Nick, on success
		errs   map[string][]string
		useCur bool
	}{
		{name: "plain", body: `{"name":"abc"}`, want: "abc"},
		{name: "trimmed", body: `{"name":"  abc \t\n"}`, want: "abc"},
		{name: "inner space kept", body: `{"name":"a  b"}`, want: "a  b"},
		{name: "unicode space trimmed", body: `{"name":"\u00a0abc\u3000"}`, want: "abc"},
		{name: "python whitespace \\x1f trimmed", body: `{"name":"\u001fabc\u001c"}`, want: "abc"},
		{name: "empty", body: `{"name":""}`, errs: testutil.One("name", validate.MsgBlank)},
		{name: "spaces are blank", body: `{"name":"  "}`, errs: testutil.One("name", validate.MsgBlank)},
		{name: "only python whitespace is blank", body: `{"name":"\u001e"}`, errs: testutil.One("name", validate.MsgBlank)},
		{name: "int coerced", body: `{"name":12}`, want: "12"},
		{name: "negative int coerced", body: `{"name":-7}`, want: "-7"},
		{name: "float coerced", body: `{"name":1.5}`, want: "1.5"},
		{name: "integral float coerced like Python", body: `{"name":2.0}`, want: "2.0"},
		{name: "exponent coerced like Python", body: `{"name":1e3}`, want: "1000.0"},
		{name: "big exponent coerced like Python", body: `{"name":1e20}`, want: "1e+20"},
		{name: "small float coerced like Python", body: `{"name":0.00001}`, want: "1e-05"},
		{name: "zero", body: `{"name":0}`, want: "0"},
		{name: "true", body: `{"name":true}`, errs: testutil.One("name", validate.MsgNotString)},
		{name: "false", body: `{"name":false}`, errs: testutil.One("name", validate.MsgNotString)},
		{name: "object", body: `{"name":{"a":1}}`, errs: testutil.One("name", validate.MsgNotString)},
		{name: "array", body: `{"name":["a"]}`, errs: testutil.One("name", validate.MsgNotString)},
		{name: "NUL", body: `{"name":"a\u0000b"}`, errs: testutil.One("name", validate.MsgNullCharacters)},
		{name: "only NUL", body: `{"name":"\u0000"}`, errs: testutil.One("name", validate.MsgNullCharacters)},
		{name: "null", body: `{"name":null}`, errs: testutil.One("name", validate.MsgNull)},
		{name: "blank allowed", body: `{"note":"   "}`, want: "n"},
		{name: "blank-allowed null", body: `{"note":null}`, errs: testutil.One("note", validate.MsgNull)},
		{name: "blank-allowed NUL", body: `{"note":"\u0000"}`, errs: testutil.One("note", validate.MsgNullCharacters)},
		{name: "pointer null", body: `{"nick":null}`, want: "n", nick: nil},
		{name: "pointer value", body: `{"nick":" x "}`, want: "n", nick: ptr("x")},
		{name: "pointer blank", body: `{"nick":""}`, errs: testutil.One("nick", validate.MsgBlank)},
		{name: "pointer number", body: `{"nick":5}`, want: "n", nick: ptr("5")},
		{name: "pointer bool", body: `{"nick":false}`, errs: testutil.One("nick", validate.MsgNotString)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := sampleDefaults()
			cur.Nick = ptr("old")
			got, err := apply(cur, tt.body, validate.Patch)
			testutil.WantFields(t, tt.body, err, tt.errs)
			if tt.errs != nil {
				return
			}
			if got.Name != tt.want {
				t.Errorf("Name = %q, want %q", got.Name, tt.want)
			}
			if strings.Contains(tt.body, `"nick"`) && !reflect.DeepEqual(got.Nick, tt.nick) {
				t.Errorf("Nick = %v, want %v", deref(got.Nick), deref(tt.nick))
			}
			if strings.Contains(tt.body, `"note"`) && got.Note != "" {
				t.Errorf("Note = %q, want blank", got.Note)
			}
		})
	}
}

func deref(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestBooleanField(t *testing.T) {
	truthy := []string{`true`, `"true"`, `"True"`, `"TRUE"`, `"t"`, `"T"`, `"y"`, `"Y"`, `"yes"`, `"Yes"`, `"YES"`, `"on"`, `"On"`, `"ON"`, `"1"`, `1`, `1.0`}
	falsy := []string{`false`, `"false"`, `"False"`, `"FALSE"`, `"f"`, `"F"`, `"n"`, `"N"`, `"no"`, `"No"`, `"NO"`, `"off"`, `"Off"`, `"OFF"`, `"0"`, `0`, `0.0`}
	invalid := []string{`2`, `-1`, `0.5`, `"2"`, `""`, `" true"`, `"tRUE"`, `"yEs"`, `"enabled"`, `{}`, `[]`, `[true]`}
	for _, v := range truthy {
		body := `{"enabled":` + v + `}`
		got, err := apply(sampleDefaults(), body, validate.Patch)
		testutil.WantFields(t, body, err, nil)
		if !got.Enabled {
			t.Errorf("%s: Enabled = false, want true", body)
		}
	}
	for _, v := range falsy {
		body := `{"enabled":` + v + `}`
		cur := sampleDefaults()
		cur.Enabled = true
		got, err := apply(cur, body, validate.Patch)
		testutil.WantFields(t, body, err, nil)
		if got.Enabled {
			t.Errorf("%s: Enabled = true, want false", body)
		}
	}
	for _, v := range invalid {
		body := `{"enabled":` + v + `}`
		_, err := apply(sampleDefaults(), body, validate.Patch)
		testutil.WantFields(t, body, err, testutil.One("enabled", validate.MsgBoolean))
	}
	_, err := apply(sampleDefaults(), `{"enabled":null}`, validate.Patch)
	testutil.WantFields(t, "null", err, testutil.One("enabled", validate.MsgNull))
}

func TestIntegerField(t *testing.T) {
	long := `"` + strings.Repeat("1", 1001) + `"`
	tests := []struct {
		body string
		want int32
		errs map[string][]string
	}{
		{body: `12`, want: 12},
		{body: `-12`, want: -12},
		{body: `"12"`, want: 12},
		{body: `12.0`, want: 12},
		{body: `"12.000"`, want: 12},
		{body: `"12."`, want: 12},
		{body: `" 7 "`, want: 7},
		{body: `"+7"`, want: 7},
		{body: `"1_000"`, want: 1000},
		{body: `1e3`, want: 1000},
		{body: `-0`, want: 0},
		{body: `2147483647`, want: 2147483647},
		{body: `-2147483648`, want: -2147483648},
		{body: `"2147483647"`, want: 2147483647},
		{body: `1.5`, errs: testutil.One("count", validate.MsgInteger)},
		{body: `"1.5"`, errs: testutil.One("count", validate.MsgInteger)},
		{body: `1e20`, errs: testutil.One("count", validate.MsgInteger)},
		{body: `true`, errs: testutil.One("count", validate.MsgInteger)},
		{body: `false`, errs: testutil.One("count", validate.MsgInteger)},
		{body: `"abc"`, errs: testutil.One("count", validate.MsgInteger)},
		{body: `""`, errs: testutil.One("count", validate.MsgInteger)},
		{body: `"1 2"`, errs: testutil.One("count", validate.MsgInteger)},
		{body: `"_1"`, errs: testutil.One("count", validate.MsgInteger)},
		{body: `{}`, errs: testutil.One("count", validate.MsgInteger)},
		{body: `[1]`, errs: testutil.One("count", validate.MsgInteger)},
		{body: `null`, errs: testutil.One("count", validate.MsgNull)},
		{body: long, errs: testutil.One("count", validate.MsgIntegerTooLarge)},
		{body: `"` + strings.Repeat("1", 1000) + `"`, errs: testutil.One("count", "Ensure this value is less than or equal to 2147483647.")},
		{body: `2147483648`, errs: testutil.One("count", "Ensure this value is less than or equal to 2147483647.")},
		{body: `-2147483649`, errs: testutil.One("count", "Ensure this value is greater than or equal to -2147483648.")},
		{body: `"-2147483649"`, errs: testutil.One("count", "Ensure this value is greater than or equal to -2147483648.")},
		{body: `1e10`, errs: testutil.One("count", "Ensure this value is less than or equal to 2147483647.")},
	}
	for _, tt := range tests {
		body := `{"count":` + tt.body + `}`
		got, err := apply(sampleDefaults(), body, validate.Patch)
		testutil.WantFields(t, body, err, tt.errs)
		if tt.errs == nil && got.Count != tt.want {
			t.Errorf("%s: Count = %d, want %d", body, got.Count, tt.want)
		}
	}
}

func TestIntegerFieldBounds(t *testing.T) {
	tests := []struct {
		body string
		want sample
		errs map[string][]string
	}{
		{body: `{"big":9223372036854775807}`, want: sample{Big: 9223372036854775807}},
		{body: `{"big":9223372036854775808}`, errs: testutil.One("big", "Ensure this value is less than or equal to 9223372036854775807.")},
		{body: `{"small":10}`, want: sample{Small: 10}},
		{body: `{"small":11}`, errs: testutil.One("small", validate.MaxValue(10))},
		{body: `{"small":0}`, errs: testutil.One("small", validate.MinValue(1))},
	}
	for _, tt := range tests {
		got, err := apply(sampleDefaults(), tt.body, validate.Patch)
		testutil.WantFields(t, tt.body, err, tt.errs)
		if tt.errs != nil {
			continue
		}
		if tt.want.Big != 0 && got.Big != tt.want.Big {
			t.Errorf("%s: Big = %d", tt.body, got.Big)
		}
		if tt.want.Small != 0 && got.Small != tt.want.Small {
			t.Errorf("%s: Small = %d", tt.body, got.Small)
		}
	}
}

func TestChoiceField(t *testing.T) {
	tests := []struct {
		body string
		want color
		errs map[string][]string
	}{
		{body: `"blue"`, want: blue},
		{body: `"Blue"`, errs: testutil.One("color", `"Blue" is not a valid choice.`)},
		{body: `" blue"`, errs: testutil.One("color", `" blue" is not a valid choice.`)},
		{body: `""`, errs: testutil.One("color", `"" is not a valid choice.`)},
		{body: `5`, errs: testutil.One("color", `"5" is not a valid choice.`)},
		{body: `1.5`, errs: testutil.One("color", `"1.5" is not a valid choice.`)},
		{body: `2.0`, errs: testutil.One("color", `"2.0" is not a valid choice.`)},
		{body: `true`, errs: testutil.One("color", `"True" is not a valid choice.`)},
		{body: `false`, errs: testutil.One("color", `"False" is not a valid choice.`)},
		{body: `["a",1,null,true]`, errs: testutil.One("color", `"['a', 1, None, True]" is not a valid choice.`)},
		{body: `{"a":"x"}`, errs: testutil.One("color", `"{'a': 'x'}" is not a valid choice.`)},
		{body: `{"q":"it's"}`, errs: testutil.One("color", `"{'q': "it's"}" is not a valid choice.`)},
		{body: `null`, errs: testutil.One("color", validate.MsgNull)},
	}
	for _, tt := range tests {
		body := `{"color":` + tt.body + `}`
		got, err := apply(sampleDefaults(), body, validate.Patch)
		testutil.WantFields(t, body, err, tt.errs)
		if tt.errs == nil && got.Color != tt.want {
			t.Errorf("%s: Color = %q, want %q", body, got.Color, tt.want)
		}
	}
}

func TestUUIDField(t *testing.T) {
	id := uuid.MustParse("0b5a3f1e-7c2d-4e8f-9a1b-2c3d4e5f6a7b")
	tests := []struct {
		name   string
		body   string
		owner  uuid.UUID
		parent *uuid.UUID
		errs   map[string][]string
	}{
		{name: "canonical", body: `{"owner":"` + id.String() + `","parent":"` + id.String() + `"}`, owner: id, parent: &id},
		{name: "hex form", body: `{"owner":"0b5a3f1e7c2d4e8f9a1b2c3d4e5f6a7b"}`, owner: id},
		{name: "urn form", body: `{"owner":"urn:uuid:` + id.String() + `"}`, owner: id},
		{name: "integer", body: `{"owner":1}`, owner: uuid.UUID{15: 1}},
		{name: "bool", body: `{"owner":true}`, errs: testutil.One("owner", "Incorrect type. Expected pk value, received bool.")},
		{name: "nullable bool", body: `{"parent":false}`, errs: testutil.One("parent", "Incorrect type. Expected pk value, received bool.")},
		{name: "not a uuid", body: `{"owner":"abc"}`, errs: testutil.One("owner", "“abc” is not a valid UUID.")},
		{name: "nullable not a uuid", body: `{"parent":"abc"}`, errs: testutil.One("parent", "“abc” is not a valid UUID.")},
		{name: "float", body: `{"owner":1.5}`, errs: testutil.One("owner", "“1.5” is not a valid UUID.")},
		{name: "negative", body: `{"owner":-1}`, errs: testutil.One("owner", "“-1” is not a valid UUID.")},
		{name: "object", body: `{"owner":{}}`, errs: testutil.One("owner", "“{}” is not a valid UUID.")},
		{name: "list", body: `{"owner":[1]}`, errs: testutil.One("owner", "“[1]” is not a valid UUID.")},
		{name: "empty string is null", body: `{"owner":""}`, errs: testutil.One("owner", validate.MsgNull)},
		{name: "null", body: `{"owner":null}`, errs: testutil.One("owner", validate.MsgNull)},
		{name: "nullable empty string is null", body: `{"parent":""}`, owner: id},
		{name: "nullable null", body: `{"parent":null}`, owner: id},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := sampleDefaults()
			cur.Owner = id
			other := uuid.MustParse("11111111-2222-4333-8444-555555555555")
			cur.Parent = &other
			got, err := apply(cur, tt.body, validate.Patch)
			testutil.WantFields(t, tt.body, err, tt.errs)
			if tt.errs != nil {
				return
			}
			if got.Owner != tt.owner {
				t.Errorf("Owner = %s, want %s", got.Owner, tt.owner)
			}
			if strings.Contains(tt.body, `"parent"`) && !reflect.DeepEqual(got.Parent, tt.parent) {
				t.Errorf("Parent = %v, want %v", got.Parent, tt.parent)
			}
		})
	}
}

func TestObjectField(t *testing.T) {
	cur := sampleDefaults()
	cur.Extra = map[string]any{"keep": "k", "drop": "d", "nested": map[string]any{"a": json.Number("1"), "b": json.Number("2")}}
	got, err := apply(cur, `{"extra":{"drop":null,"new":true,"nested":{"b":null}}}`, validate.Patch)
	testutil.WantFields(t, "merge", err, nil)
	want := map[string]any{"keep": "k", "new": true, "nested": map[string]any{"a": json.Number("1")}}
	if !reflect.DeepEqual(got.Extra, want) {
		t.Errorf("Extra = %#v, want %#v", got.Extra, want)
	}
	if _, ok := cur.Extra["drop"]; !ok {
		t.Error("Apply modified the current value's map")
	}
	got, err = apply(cur, `{"name":"n","extra":{"only":1}}`, validate.Replace)
	testutil.WantFields(t, "replace", err, nil)
	if want := map[string]any{"only": json.Number("1")}; !reflect.DeepEqual(got.Extra, want) {
		t.Errorf("Replace: Extra = %#v, want %#v", got.Extra, want)
	}
	_, err = apply(cur, `{"extra":[1]}`, validate.Patch)
	testutil.WantFields(t, "list", err, testutil.One("extra", `Expected a dictionary of items but got type "list".`))
	_, err = apply(cur, `{"extra":"x"}`, validate.Patch)
	testutil.WantFields(t, "str", err, testutil.One("extra", `Expected a dictionary of items but got type "str".`))
}

func TestUnknownAndReadOnlyKeys(t *testing.T) {
	cur := sampleDefaults()
	cur.ID = uuid.MustParse("11111111-2222-4333-8444-555555555555")
	got, err := apply(cur, `{"id":"00000000-0000-4000-8000-000000000000","computed":[1,2],"nmae":"x","Name":"y"}`, validate.Patch)
	testutil.WantFields(t, "unknown", err, map[string][]string{
		"nmae": {validate.MsgUnknownField},
		"Name": {validate.MsgUnknownField},
	})
	if got.ID != cur.ID {
		t.Errorf("read-only id changed to %s", got.ID)
	}
	got, err = apply(cur, `{"id":"not even a uuid","computed":null}`, validate.Patch)
	testutil.WantFields(t, "read-only only", err, nil)
	if got.ID != cur.ID {
		t.Errorf("read-only id changed to %s", got.ID)
	}
}

func TestRequired(t *testing.T) {
	tests := []struct {
		op   validate.Op
		errs map[string][]string
	}{
		{validate.Create, testutil.One("name", validate.MsgRequired)},
		{validate.Replace, testutil.One("name", validate.MsgRequired)},
		{validate.Patch, nil},
	}
	for _, tt := range tests {
		got, err := apply(sampleDefaults(), `{"note":"x"}`, tt.op)
		testutil.WantFields(t, "op", err, tt.errs)
		if tt.errs == nil && (got.Note != "x" || got.Name != "n") {
			t.Errorf("op %d: got %+v", tt.op, got)
		}
	}
	// Present but null or blank is not "required".
	_, err := apply(sampleDefaults(), `{"name":null}`, validate.Create)
	testutil.WantFields(t, "create null", err, testutil.One("name", validate.MsgNull))
	_, err = apply(sampleDefaults(), `{"name":""}`, validate.Create)
	testutil.WantFields(t, "create blank", err, testutil.One("name", validate.MsgBlank))
}

func TestReplaceKeepsOmittedFields(t *testing.T) {
	cur := sampleDefaults()
	cur.Note, cur.Count, cur.Enabled, cur.Color = "kept", 3, true, blue
	got, err := apply(cur, `{"name":"new"}`, validate.Replace)
	testutil.WantFields(t, "replace", err, nil)
	want := cur
	want.Name = "new"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Replace = %+v, want %+v", got, want)
	}
}

func TestAllErrorsCollected(t *testing.T) {
	_, err := apply(sampleDefaults(), `{"note":5,"nick":true,"enabled":"x","count":"y","color":"green","owner":true,"bogus":1}`, validate.Create)
	testutil.WantFields(t, "all", err, map[string][]string{
		"name":    {validate.MsgRequired},
		"nick":    {validate.MsgNotString},
		"enabled": {validate.MsgBoolean},
		"count":   {validate.MsgInteger},
		"color":   {`"green" is not a valid choice.`},
		"owner":   {validate.MsgPKBool},
		"bogus":   {validate.MsgUnknownField},
	})
}

func TestObject(t *testing.T) {
	tests := []struct {
		body string
		kind string // "" for an object
	}{
		{`{}`, ""},
		{` {"a":1} `, ""},
		{`[]`, "list"},
		{`[{"a":1}]`, "list"},
		{`"x"`, "str"},
		{`""`, "str"},
		{`1`, "int"},
		{`-0`, "int"},
		{`1.5`, "float"},
		{`1e3`, "float"},
		{`true`, "bool"},
		{`false`, "bool"},
		{`null`, "NoneType"},
	}
	for _, tt := range tests {
		m, err := validate.Object([]byte(tt.body))
		if tt.kind == "" {
			if err != nil || m == nil {
				t.Errorf("Object(%s) = %v, %v", tt.body, m, err)
			}
			continue
		}
		var ve *validate.Error
		if !errors.As(err, &ve) {
			t.Errorf("Object(%s) error = %v, want a *validate.Error", tt.body, err)
			continue
		}
		want := []string{"Invalid data. Expected a dictionary, but got " + tt.kind + "."}
		if len(ve.Fields) != 0 || !reflect.DeepEqual(ve.NonField, want) {
			t.Errorf("Object(%s) = %+v, want non-field %q", tt.body, ve, want)
		}
		if errors.Is(err, validate.ErrSyntax) {
			t.Errorf("Object(%s) matches ErrSyntax", tt.body)
		}
	}
}

func TestSyntaxError(t *testing.T) {
	for _, body := range []string{``, `{`, `{"a":}`, `{"a":1}x`, `{"a":1} {}`, `nul`, `{'a':1}`, "\xff"} {
		_, err := validate.Object([]byte(body))
		if !errors.Is(err, validate.ErrSyntax) {
			t.Errorf("Object(%q) = %v, want ErrSyntax", body, err)
		}
		if errors.Is(err, validate.ErrInvalid) {
			t.Errorf("Object(%q) matches ErrInvalid", body)
		}
		_, err = validate.Apply(sampleDefaults(), []byte(body), validate.Patch, nil)
		if !errors.Is(err, validate.ErrSyntax) {
			t.Errorf("Apply(%q) = %v, want ErrSyntax", body, err)
		}
	}
	_, err := validate.Apply(sampleDefaults(), []byte(`[1]`), validate.Patch, nil)
	var ve *validate.Error
	if !errors.As(err, &ve) || !reflect.DeepEqual(ve.NonField, []string{validate.NotObject("list")}) {
		t.Errorf("Apply([1]) = %v, want the non-field error", err)
	}
}

func TestApplyRunsFieldRules(t *testing.T) {
	// Validate reports a Go-built value, and skips a field that already
	// failed to decode.
	cur := sampleDefaults()
	cur.Color = "green"
	_, err := apply(cur, `{}`, validate.Patch)
	testutil.WantFields(t, "rule", err, testutil.One("color", `"green" is not a valid choice.`))
	_, err = apply(cur, `{"color":"purple"}`, validate.Patch)
	testutil.WantFields(t, "once", err, testutil.One("color", `"purple" is not a valid choice.`))
}

func TestApplyDoesNotModifyCurrent(t *testing.T) {
	cur := sampleDefaults()
	cur.Nick = ptr("x")
	got, err := apply(cur, `{"name":"y","nick":"z"}`, validate.Patch)
	testutil.WantFields(t, "copy", err, nil)
	if cur.Name != "n" || *cur.Nick != "x" || got.Name != "y" || *got.Nick != "z" {
		t.Errorf("cur = %+v, got = %+v", cur, got)
	}
}

func TestSchema(t *testing.T) {
	s, err := validate.SchemaOf(sample{})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := validate.SchemaOf(&sample{})
	if err != nil || s2 != s {
		t.Errorf("SchemaOf(&v) = %p, %v; want the cached %p", s2, err, s)
	}
	wantNames := []string{"id", "name", "note", "nick", "enabled", "count", "big", "small", "color", "owner", "parent", "token", "extra"}
	if got := s.Names(); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("Names() = %q", got)
	}
	if !reflect.DeepEqual(s.Required(), []string{"name"}) {
		t.Errorf("Required() = %q", s.Required())
	}
	if !s.Has("note") || s.Has("Note") || !s.ReadOnly("id") || s.ReadOnly("name") || !s.WriteOnly("token") || s.WriteOnly("name") {
		t.Error("Has/ReadOnly/WriteOnly disagree with the tags")
	}
	if !s.HasRefs() {
		t.Error("HasRefs() = false")
	}
	id := uuid.MustParse("11111111-2222-4333-8444-555555555555")
	refs := s.Refs(sample{Parent: &id})
	if want := []validate.Ref{{Field: "parent", Target: "flow", OnDelete: validate.SetNull, Nullable: true, ID: id}}; !reflect.DeepEqual(refs, want) {
		t.Errorf("Refs = %+v, want %+v", refs, want)
	}
	if refs := s.Refs(&sample{}); len(refs) != 1 || refs[0].ID != uuid.Nil {
		t.Errorf("Refs(null) = %+v", refs)
	}

	for _, bad := range []any{
		42,
		struct {
			X string
		}{},
		struct {
			X complex128 `json:"x"`
		}{},
		struct {
			X string `json:"x" af:"sometimes"`
		}{},
		struct {
			X string `json:"x" af:"ref=flow"`
		}{},
		struct {
			X int `json:"x" af:"min=a"`
		}{},
	} {
		if _, err := validate.SchemaOf(bad); err == nil {
			t.Errorf("SchemaOf(%T) succeeded", bad)
		}
	}
}

func TestAppendJSON(t *testing.T) {
	s, err := validate.SchemaOf(sample{})
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.MustParse("11111111-2222-4333-8444-555555555555")
	v := sample{ID: id, Name: `a"<b>`, Nick: ptr("nick"), Enabled: true, Count: -3, Color: blue, Owner: id, Token: validate.NewSecret("hunter2"), Extra: map[string]any{"k": 1}}
	out, err := s.AppendJSON(nil, v, false)
	if err != nil {
		t.Fatal(err)
	}
	want := `"id":"11111111-2222-4333-8444-555555555555","name":"a\"\u003cb\u003e","note":"","nick":"nick","enabled":true,"count":-3,"big":0,"small":0,"color":"blue","owner":"11111111-2222-4333-8444-555555555555","parent":null,"extra":{"k":1}`
	if string(out) != want {
		t.Errorf("AppendJSON:\n got %s\nwant %s", out, want)
	}
	if !json.Valid([]byte("{" + string(out) + "}")) {
		t.Error("AppendJSON output is not a valid object body")
	}
	withSecrets, err := s.AppendJSON(nil, &v, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(withSecrets), `"token":"hunter2"`) {
		t.Errorf("AppendJSON(withSecrets) lacks the token: %s", withSecrets)
	}
	if _, err := s.AppendJSON(nil, struct{}{}, false); err == nil {
		t.Error("AppendJSON of another type succeeded")
	}
}

// A patch of an object field that is still null merges into {}, so its
// nested nulls are dropped as RFC 7396 says.
func TestObjectFieldPatchOntoNull(t *testing.T) {
	cur := sampleDefaults()
	cur.Extra = nil
	got, err := apply(cur, `{"extra":{"a":{"b":null,"c":1},"d":null}}`, validate.Patch)
	testutil.WantFields(t, "merge onto null", err, nil)
	want := map[string]any{"a": map[string]any{"c": json.Number("1")}}
	if !reflect.DeepEqual(got.Extra, want) {
		t.Errorf("Extra = %#v, want %#v", got.Extra, want)
	}
}

// Invalid UTF-8 is a syntax error, not text that is quietly rewritten.
func TestObjectRejectsInvalidUTF8(t *testing.T) {
	if _, err := validate.Object([]byte("{\"name\":\"t\xff\"}")); !errors.Is(err, validate.ErrSyntax) {
		t.Fatalf("Object(invalid UTF-8) = %v, want ErrSyntax", err)
	}
}

// A \u escape of half a surrogate pair is a syntax error; a whole pair and
// an escaped backslash before "u" are fine.
func TestObjectLoneSurrogates(t *testing.T) {
	for body, bad := range map[string]bool{
		`{"name":"\ud800"}`:       true,
		`{"name":"\udc00x"}`:      true,
		`{"name":"\ud800\u0041"}`: true,
		`{"name":"a\ud800"}`:      true,
		`{"\ud800":"x"}`:          true,
		`{"name":"\ud83d\ude00"}`: false,
		`{"name":"\\ud800"}`:      false,
		`{"name":"\u00e9\"\\"}`:   false,
		`{"name":"ud800"}`:        false,
	} {
		_, err := validate.Object([]byte(body))
		if got := errors.Is(err, validate.ErrSyntax); got != bad {
			t.Errorf("Object(%s): syntax error %v, want %v (%v)", body, got, bad, err)
		}
	}
}

// The reference options: a target, an on_delete action (defaulted from
// nullability), a used_by accessor, and the shapes refused.
func TestRefOptions(t *testing.T) {
	type refs struct {
		Owner  uuid.UUID  `json:"owner" af:"ref=authentik_flows.flow"`
		Pin    *uuid.UUID `json:"pin" af:"ref=stage,on_delete=protect,related=+"`
		Back   *uuid.UUID `json:"back" af:"ref=flow,on_delete=set_default"`
		Plain  string     `json:"plain"`
		Number int        `json:"number"`
	}
	s, err := validate.SchemaOf(refs{})
	if err != nil {
		t.Fatal(err)
	}
	want := []validate.Ref{
		{Field: "owner", Target: "authentik_flows.flow", OnDelete: validate.Cascade},
		{Field: "pin", Target: "stage", OnDelete: validate.Protect, Related: "+", Nullable: true},
		{Field: "back", Target: "flow", OnDelete: validate.SetDefault, Nullable: true},
	}
	if got := s.RefFields(); !reflect.DeepEqual(got, want) {
		t.Errorf("RefFields = %+v, want %+v", got, want)
	}
	id := uuid.MustParse("11111111-2222-4333-8444-555555555555")
	v := refs{Owner: id, Plain: "x", Number: 7}
	for name, w := range map[string]any{"owner": id, "pin": nil, "plain": "x", "number": int64(7)} {
		if got, ok := s.Value(v, name); !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("Value(%q) = %v, %v; want %v", name, got, ok, w)
		}
	}
	if _, ok := s.Value(v, "nope"); ok {
		t.Error("Value(nope) ok")
	}
	if raw, ok := s.FieldJSON(v, "owner"); !ok || string(raw) != `"`+id.String()+`"` {
		t.Errorf("FieldJSON(owner) = %s, %v", raw, ok)
	}
	if raw, ok := s.FieldJSON(v, "back"); !ok || string(raw) != "null" {
		t.Errorf("FieldJSON(back) = %s, %v", raw, ok)
	}
	for _, bad := range []any{
		struct {
			X *uuid.UUID `json:"x" af:"ref=flow,on_delete=explode"`
		}{},
		struct {
			X uuid.UUID `json:"x" af:"ref=flow,on_delete=set_null"`
		}{},
		struct {
			X uuid.UUID `json:"x" af:"on_delete=cascade"`
		}{},
		struct {
			X uuid.UUID `json:"x" af:"ref=Flow"`
		}{},
		struct {
			X uuid.UUID `json:"x" af:"ref=flow,related="`
		}{},
	} {
		if _, err := validate.SchemaOf(bad); err == nil {
			t.Errorf("SchemaOf(%T) succeeded", bad)
		}
	}
}

// patchFields decodes body onto dst as a patch and returns the field
// errors (nil for none).
func patchFields(t *testing.T, s *validate.Schema, dst any, body string) map[string][]string {
	t.Helper()
	in, err := validate.Object([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if e := s.Decode(dst, in, validate.Patch, nil); e != nil {
		return e.Fields
	}
	return nil
}

// List fields decode as DRF's ListField and ManyRelatedField do.
func TestListFields(t *testing.T) {
	type lists struct {
		IDs   []uuid.UUID `json:"ids" af:"ref=flow,nonempty"`
		Names []string    `json:"names" af:"blank"`
	}
	s, err := validate.SchemaOf(lists{})
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.MustParse("11111111-2222-4333-8444-555555555555")
	refs := s.RefFields()
	if len(refs) != 1 || !refs[0].Many || refs[0].OnDelete != validate.CascadeMany {
		t.Errorf("RefFields = %+v, want one many-to-many, cascade_many", refs)
	}
	for _, tt := range []struct {
		body string
		want map[string][]string
	}{
		{`{"ids":["` + id.String() + `"],"names":["a"," b ",""]}`, nil},
		{`{"ids":[],"names":[]}`, map[string][]string{"ids": {"This list may not be empty."}}},
		{`{"ids":"x","names":{"a":1}}`, map[string][]string{"ids": {`Expected a list of items but got type "str".`}, "names": {`Expected a list of items but got type "dict".`}}},
		{`{"ids":["nope", "also"],"names":[null, true]}`, map[string][]string{"ids": {validate.InvalidUUID("nope")}, "names.0": {validate.MsgNull}, "names.1": {validate.MsgNotString}}},
		{`{"ids":null}`, map[string][]string{"ids": {validate.MsgNull}}},
	} {
		var v lists
		got := patchFields(t, s, &v, tt.body)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.body, got, tt.want)
		}
		if tt.want == nil {
			if len(v.IDs) != 1 || !reflect.DeepEqual(v.Names, []string{"a", "b", ""}) {
				t.Errorf("%s: decoded %+v", tt.body, v)
			}
			if r := s.Refs(v); len(r) != 1 || r[0].ID != id || !r[0].Many {
				t.Errorf("Refs = %+v", r)
			}
			w, err := s.Without(v, "ids", id)
			if err != nil || len(w.(lists).IDs) != 0 || len(v.IDs) != 1 {
				t.Errorf("Without = %+v, %v (and the original must keep its list)", w, err)
			}
		}
	}
	b, err := s.AppendJSON(nil, lists{}, false)
	if err != nil || string(b) != `"ids":[],"names":[]` {
		t.Errorf("AppendJSON of empty lists = %s, %v", b, err)
	}
	for _, bad := range []any{
		struct {
			X []uuid.UUID `json:"x" af:"ref=flow,on_delete=set_null"`
		}{},
		struct {
			X *uuid.UUID `json:"x" af:"ref=flow,on_delete=cascade_many"`
		}{},
		struct {
			X string `json:"x" af:"nonempty"`
		}{},
	} {
		if _, err := validate.SchemaOf(bad); err == nil {
			t.Errorf("SchemaOf(%T) succeeded", bad)
		}
	}
}

// Integer lists decode each item as IntegerField, in the element type's
// range, reporting a bad item under its index.
func TestIntListField(t *testing.T) {
	type asns struct {
		ASNs []int32 `json:"asns"`
	}
	s, err := validate.SchemaOf(asns{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		body string
		want map[string][]string
		got  []int32
	}{
		{`{"asns":[1,"2",3.0]}`, nil, []int32{1, 2, 3}},
		{`{"asns":[]}`, nil, []int32{}},
		{`{"asns":[null,"x",2147483648,true]}`, map[string][]string{"asns.0": {validate.MsgNull}, "asns.1": {validate.MsgInteger}, "asns.2": {validate.MaxValue(2147483647)}, "asns.3": {validate.MsgInteger}}, nil},
		{`{"asns":5}`, map[string][]string{"asns": {`Expected a list of items but got type "int".`}}, nil},
	} {
		var v asns
		got := patchFields(t, s, &v, tt.body)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.body, got, tt.want)
		}
		if tt.want == nil && !reflect.DeepEqual(v.ASNs, tt.got) {
			t.Errorf("%s: decoded %v, want %v", tt.body, v.ASNs, tt.got)
		}
		if tt.want != nil && v.ASNs != nil {
			t.Errorf("%s: a rejected list was set to %v", tt.body, v.ASNs)
		}
	}
	b, err := s.AppendJSON(nil, asns{ASNs: []int32{64512, 1}}, false)
	if err != nil || string(b) != `"asns":[64512,1]` {
		t.Errorf("AppendJSON = %s, %v", b, err)
	}
	var back asns
	if err := s.Load(&back, []byte(`{"asns":[64512,1]}`)); err != nil || !reflect.DeepEqual(back.ASNs, []int32{64512, 1}) {
		t.Errorf("Load = %v, %v", back.ASNs, err)
	}
}

// FuzzObject checks Object's own splitter against encoding/json: the same
// members, the same raw values, the same refusals.
func FuzzObject(f *testing.F) {
	for _, seed := range []string{
		`{}`, ` { "a" : 1 , "b":[1,{"c":"}"}], "a":"x\"y" } `, `{"k\u00e9y":null,"e":{"x":[]}}`,
		`{"a":1}x`, `{"a":}`, `{"a":1,}`, `{"\\":"\\\\","t":true,"f":false,"n":-1.5e3}`, `[1]`, `"s"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := validate.Object(body)
		var want map[string]json.RawMessage
		werr := json.Unmarshal(body, &want)
		if t0 := bytes.TrimLeft(body, " \t\r\n"); len(t0) == 0 || t0[0] != '{' {
			return // not an object: the old path, unchanged
		}
		if (err == nil) != (werr == nil && utf8.Valid(body)) {
			if err != nil && errors.Is(err, validate.ErrSyntax) && werr == nil {
				return // refused for invalid UTF-8 or a lone surrogate, which encoding/json accepts
			}
			t.Fatalf("Object(%q) = %v; encoding/json: %v", body, err, werr)
		}
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("Object(%q): %d members, encoding/json %d", body, len(got), len(want))
		}
		for k, v := range want {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("Object(%q)[%q] = %s, encoding/json %s", body, k, got[k], v)
			}
		}
	})
}
