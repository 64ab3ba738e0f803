package validate_test

import (
	"testing"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/validate"
)

// A reference by number is an int64 field: Refs reports its number, and
// no id, for the store to resolve; another integer type is refused.
func TestRefByNumber(t *testing.T) {
	type byNumber struct {
		User  *int64 `json:"user" af:"ref=user"`
		Owner int64  `json:"owner" af:"ref=user,on_delete=protect"`
	}
	s, err := validate.SchemaOf(byNumber{})
	if err != nil {
		t.Fatal(err)
	}
	seven := int64(7)
	refs := s.Refs(byNumber{User: &seven, Owner: 3})
	if len(refs) != 2 || !refs[0].Numbered || refs[0].Num != 7 || refs[0].Null || refs[1].Num != 3 || refs[1].OnDelete != validate.Protect {
		t.Errorf("refs: %+v", refs)
	}
	if refs := s.Refs(byNumber{}); !refs[0].Null || refs[0].Num != 0 {
		t.Errorf("a null reference by number: %+v", refs[0])
	}
	if f := s.RefFields(); len(f) != 2 || !f[0].Numbered {
		t.Errorf("ref fields: %+v", f)
	}
	type narrow struct {
		User int32 `json:"user" af:"ref=user"`
	}
	if _, err := validate.SchemaOf(narrow{}); err == nil {
		t.Error("a reference on an int32 field was accepted")
	}
}

// A reference by number is read as DRF's related field over an integer
// pk reads it, with its messages, not an IntegerField's: a number beyond
// int64 names no object, a string of digits is the number.
func TestRefByNumberDecode(t *testing.T) {
	type byNumber struct {
		User *int64 `json:"user" af:"ref=user"`
	}
	for _, tt := range []struct {
		body string
		want int64
		msg  string
	}{
		{body: `{"user":7}`, want: 7},
		{body: `{"user":"7"}`, want: 7},
		{body: `{"user":" +1_0 "}`, want: 10},
		{body: `{"user":7.0}`, want: 7},
		{body: `{"user":1e2}`, want: 100},
		{body: `{"user":-3}`, want: -3},
		{body: `{"user":true}`, msg: "Incorrect type. Expected pk value, received bool."},
		{body: `{"user":"x"}`, msg: "Incorrect type. Expected pk value, received str."},
		{body: `{"user":"1.0"}`, msg: "Incorrect type. Expected pk value, received str."},
		{body: `{"user":[1]}`, msg: "Incorrect type. Expected pk value, received list."},
		{body: `{"user":{}}`, msg: "Incorrect type. Expected pk value, received dict."},
		{body: `{"user":1.5}`, msg: "Incorrect type. Expected pk value, received float."},
		{body: `{"user":99999999999999999999}`, msg: `Invalid pk "99999999999999999999" - object does not exist.`},
		{body: `{"user":"99999999999999999999"}`, msg: `Invalid pk "99999999999999999999" - object does not exist.`},
	} {
		got, err := validate.Apply(byNumber{}, []byte(tt.body), validate.Patch, nil)
		if tt.msg != "" {
			testutil.WantFields(t, tt.body, err, testutil.One("user", tt.msg))
			continue
		}
		if err != nil || got.User == nil || *got.User != tt.want {
			t.Errorf("%s: %v, %v; want %d", tt.body, got.User, err, tt.want)
		}
	}
}
