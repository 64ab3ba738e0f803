package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/store"
)

// A host with its own UI runs a flow through the Go API: the current
// challenge, a response, and the end of the flow at the query's next.
func ExampleExecutor() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	s, _ := store.Open(filepath.Join(dir, "x.db"), &store.Options{NoSync: true})
	defer s.Close()
	_, err := blueprint.Load(ctx, s, strings.NewReader(`version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: hello}
  attrs: {name: Hello, title: Hello, designation: authentication}
- model: authentik_stages_dummy.dummystage
  id: d
  identifiers: {name: say-hello}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf d, order: 0}
`), blueprint.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := executor.New(s, executor.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	req := executor.Request{Session: "session-1", Query: "next=%2Fhome%2F"}
	r, _ := e.Get(ctx, "hello", req)
	js, _ := json.Marshal(r.Challenge)
	fmt.Printf("%s\n", js)
	r, _ = e.Submit(ctx, "hello", req, json.RawMessage(`{"component":"ak-stage-dummy"}`))
	js, _ = json.Marshal(r.Challenge)
	fmt.Printf("%s\n", js)
	// Output:
	// {"flow_info":{"title":"Hello","background":"/static/dist/assets/images/flow_background.jpg","cancel_url":"/flows/-/cancel/","layout":"stacked"},"component":"ak-stage-dummy","name":"say-hello"}
	// {"component":"xak-flow-redirect","to":"/home/"}
}
