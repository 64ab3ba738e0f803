package authflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

// Example walks through the model: a flow, two stages bound out of order,
// the bindings listed in order, a merge patch, and a rejected patch.
func Example() {
	dir, err := os.MkdirTemp("", "authflow-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	s, err := store.Open(filepath.Join(dir, "authflow.db"), &store.Options{Timeout: time.Second})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()

	login, err := s.CreateFlow(ctx, flow.New("Welcome", "default-authentication-flow", "Welcome to authentik!", flow.DesignationAuthentication))
	if err != nil {
		panic(err)
	}
	write, err := s.CreateStage(ctx, stage.Stage{Name: "default-source-enrollment-write", Config: stage.DefaultUserWrite()})
	if err != nil {
		panic(err)
	}
	invite, err := s.CreateStageJSON(ctx, stage.ModelInvitation, []byte(`{"name": "invitation", "continue_flow_without_invitation": true}`))
	if err != nil {
		panic(err)
	}

	// Bind them out of order: the write stage at 20, the invitation at 10.
	for _, b := range []binding.Binding{binding.New(login.PK, write.PK, 20), binding.New(login.PK, invite.PK, 10)} {
		if _, err := s.CreateBinding(ctx, b); err != nil {
			panic(err)
		}
	}
	bindings, err := s.FlowBindings(ctx, login.PK)
	if err != nil {
		panic(err)
	}
	for _, b := range bindings {
		fmt.Printf("%d %s (%s)\n", b.Order, b.StageObj.Name, b.StageObj.Kind.VerboseName)
	}

	// A merge patch changes only what it names.
	patched, err := s.PatchFlow(ctx, "default-authentication-flow", []byte(`{"title": "Sign in", "layout": "sidebar_left"}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(patched.Name, "|", patched.Title, "|", patched.Layout)

	// A bad patch is rejected with authentik's 400 body, and nothing is written.
	_, err = s.PatchFlow(ctx, "default-authentication-flow", []byte(`{"slug": "Not A Slug", "designation": "nope", "title": null}`))
	body, _ := json.Marshal(err)
	fmt.Println(string(body))

	_, err = s.GetFlowBySlug(ctx, "missing")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// 10 invitation (Invitation Stage)
	// 20 default-source-enrollment-write (User Write Stage)
	// Welcome | Sign in | sidebar_left
	// {"designation":["\"nope\" is not a valid choice."],"slug":["Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens."],"title":["This field may not be null."]}
	// true
}
