package blueprint_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/store"
)

// A test suite loads a realistic configuration in one call.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "authflow.db"), nil)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	doc := `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication}
- model: authentik_stages_user_login.userloginstage
  id: login
  identifiers: {name: login}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf login, order: 10}
`
	res, err := blueprint.Load(context.Background(), s, strings.NewReader(doc), blueprint.Options{})
	if err != nil {
		panic(err)
	}
	for _, l := range res.Logs {
		e := l.Attributes["entry"].(map[string]any)
		fmt.Println(l.Attributes["action"], e["model"])
	}
	var f flow.View
	_ = s.View(context.Background(), func(tx *store.Tx) error {
		f, err = store.Flows.View(tx, store.By("slug", "login"))
		return err
	})
	fmt.Println(len(f.Stages), "stage")

	_, err = blueprint.Load(context.Background(), s, strings.NewReader("version: 1\nentries:\n- model: authentik_flows.flow\n  identifiers: {slug: \"no slug\"}\n"), blueprint.Options{})
	fmt.Println(err)
	// Output:
	// create authentik_flows.flow
	// create authentik_stages_user_login.userloginstage
	// create authentik_flows.flowstagebinding
	// 1 stage
	// blueprint: import failed: entry 0 (authentik_flows.flow): validation failed; designation: This field is required.; name: This field is required.; slug: Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.; title: This field is required.
}
