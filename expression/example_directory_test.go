package expression_test

import (
	"context"
	"fmt"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/google/uuid"
)

// With a directory, ak_user_by, ak_is_group_member and request.user's
// fields read users and groups (here memdir; the store's is
// store.Store.Directory). A result that read the directory is not
// cached with the plan.
func ExampleOptions_directory() {
	ctx := context.Background()
	d, _ := memdir.New(memdir.Options{})
	g := directory.DefaultGroup()
	g.Name = "authentik Admins"
	g, _ = d.AddGroup(g)
	u := directory.DefaultUser()
	u.Username, u.Name, u.Groups = "akadmin", "authentik Default Admin", []uuid.UUID{g.PK}
	if _, err := d.CreateUser(ctx, u); err != nil {
		fmt.Println(err)
		return
	}
	ev := expression.Evaluator(&expression.Options{Directory: d})
	p := policy.Policy{Name: "admin-without-password", Config: policy.Expression{Expression: `
akadmin = ak_user_by(username__iexact="AKADMIN")
ak_message(akadmin.name)
return ak_is_group_member(akadmin, name="authentik Admins") and not akadmin.has_usable_password()
`}}
	res, err := ev.Evaluate(ctx, p, plan.PolicyRequest{})
	fmt.Println(res.Passing, res.Messages, res.ValidUntil.IsZero(), err)

	// Without one, the helpers fail, naming what they need.
	_, err = expression.Evaluator(nil).Evaluate(ctx, p, plan.PolicyRequest{})
	fmt.Println(err)
	// Output:
	// true [authentik Default Admin] true <nil>
	// expression policy "admin-without-password", line 2: ak_user_by is not available to expressions in authflow unless the host provides it (a user directory: expression.Options.Directory)
}
