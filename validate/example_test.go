package validate_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/authflow/authflow/validate"
	"github.com/invopop/validation"
)

// From converts invopop/validation errors, as Validate methods return them,
// into authentik's 400 body.
func ExampleFrom() {
	type flow struct {
		Slug string `json:"slug"`
		Mode string `json:"policy_engine_mode"`
	}
	f := flow{Slug: "Not A Slug", Mode: "sometimes"}
	err := validation.ValidateStruct(&f,
		validation.Field(&f.Slug, validate.All(validate.MaxLen(50), validate.Slug)),
		validation.Field(&f.Mode, validate.Choice("all", "any")),
	)
	ve, ok := validate.From(err)
	fmt.Println(ok, errors.Is(ve, validate.ErrInvalid))
	body, _ := json.Marshal(ve)
	fmt.Println(string(body))
	// Output:
	// true true
	// {"policy_engine_mode":["\"sometimes\" is not a valid choice."],"slug":["Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens."]}
}

// Apply decodes a body with Django REST framework's coercions and collects
// every problem.
func ExampleError() {
	type binding struct {
		Order   int32 `json:"order" af:"required"`
		Enabled bool  `json:"enabled"`
	}
	_, err := validate.Apply(binding{}, []byte(`{"enabled":"maybe","color":"red"}`), validate.Create, nil)
	var ve *validate.Error
	if errors.As(err, &ve) {
		body, _ := json.Marshal(ve)
		fmt.Println(string(body))
		fmt.Println(ve.Fields["order"])
	}
	// Output:
	// {"color":["Unknown field."],"enabled":["Must be a valid boolean."],"order":["This field is required."]}
	// [This field is required.]
}
