package validate_test

import (
	"testing"

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
