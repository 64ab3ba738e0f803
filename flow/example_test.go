package flow_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/validate"
)

// ApplyPatch applies a merge patch to a stored flow: the keys it names
// change, the others keep their values, and invalid values are reported
// per field.
func ExampleApplyPatch() {
	cur := flow.New("Welcome", "default-authentication-flow", "Welcome!", flow.DesignationAuthentication)

	next, err := flow.ApplyPatch(cur, []byte(`{"title":"  Sign in  ","layout":"content_left","export_url":"ignored"}`))
	fmt.Println(next.Title, next.Layout, next.Designation, err)

	_, err = flow.ApplyPatch(cur, []byte(`{"title":null,"slug":"Not A Slug","designation":"nope"}`))
	var ve *validate.Error
	if errors.As(err, &ve) {
		body, _ := json.Marshal(ve)
		fmt.Println(string(body))
	}
	// Output:
	// Sign in content_left authentication <nil>
	// {"designation":["\"nope\" is not a valid choice."],"slug":["Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens."],"title":["This field may not be null."]}
}
