package executor_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/store"
)

// The flow a site's "/" leads to: the brand's authentication flow, else
// the first authentication flow by slug whose policies let the request
// in.
func ExampleExecutor_DefaultFlow() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	s, _ := store.Open(filepath.Join(dir, "x.db"), &store.Options{NoSync: true})
	defer s.Close()
	_, err := blueprint.Load(ctx, s, strings.NewReader(`version: 1
entries:
- {model: authentik_flows.flow, identifiers: {slug: login}, attrs: {name: Login, title: Log in, designation: authentication}}
- {model: authentik_flows.flow, identifiers: {slug: sso}, attrs: {name: SSO, title: Single sign-on, designation: authentication}}
`), blueprint.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, brand := range []executor.Brand{{}, {FlowAuthentication: "sso"}} {
		e, err := executor.New(s, executor.Options{Brand: brand})
		if err != nil {
			fmt.Println(err)
			return
		}
		slug, err := e.DefaultFlow(ctx, flow.DesignationAuthentication, executor.Request{})
		fmt.Println(slug, err)
		_, err = e.DefaultFlow(ctx, flow.DesignationInvalidation, executor.Request{})
		fmt.Println(errors.Is(err, executor.ErrNoDefaultFlow))
		e.Close()
	}
	// Output:
	// login <nil>
	// true
	// sso <nil>
	// true
}
