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
// the bindings listed in order, a merge patch, and a rejected patch,
// each in one transaction through the store's typed handles.
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

	// One transaction creates a flow and two stages and binds them out of
	// order: the write stage at 20, the invitation at 10.
	var login flow.Flow
	err = s.Update(ctx, func(tx *store.Tx) error {
		var err error
		login, err = store.Flows.Create(tx, flow.New("Welcome", "default-authentication-flow", "Welcome to authentik!", flow.DesignationAuthentication), nil)
		if err != nil {
			return err
		}
		write, err := store.Stages.Create(tx, stage.Stage{Name: "default-source-enrollment-write", Config: stage.DefaultUserWrite()}, nil)
		if err != nil {
			return err
		}
		invite, err := store.Stages.Kind(string(stage.ModelInvitation)).CreateJSON(tx, []byte(`{"name": "invitation", "continue_flow_without_invitation": true}`), nil)
		if err != nil {
			return err
		}
		for _, b := range []binding.Binding{binding.New(login.PK, write.PK, 20), binding.New(login.PK, invite.PK, 10)} {
			if _, err := store.Bindings.Create(tx, b, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		panic(err)
	}

	// The flow's bindings in order, each with its stage as the API shows it.
	err = s.View(ctx, func(tx *store.Tx) error {
		bindings, err := store.Bindings.ByRef(tx, "target", login.PK)
		if err != nil {
			return err
		}
		for _, b := range bindings {
			st, err := store.Stages.View(tx, store.PK(b.Stage))
			if err != nil {
				return err
			}
			fmt.Printf("%d %s (%s)\n", b.Order, st.Name, st.Kind.VerboseName)
		}
		return nil
	})
	if err != nil {
		panic(err)
	}

	// A merge patch changes only what it names.
	slug := store.By("slug", "default-authentication-flow")
	var patched flow.Flow
	err = s.Update(ctx, func(tx *store.Tx) error {
		patched, err = store.Flows.Patch(tx, slug, []byte(`{"title": "Sign in", "layout": "sidebar_left"}`), nil)
		return err
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(patched.Name, "|", patched.Title, "|", patched.Layout)

	// A bad patch is rejected with authentik's 400 body, and nothing is written.
	err = s.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Flows.Patch(tx, slug, []byte(`{"slug": "Not A Slug", "designation": "nope", "title": null}`), nil)
		return err
	})
	body, _ := json.Marshal(err)
	fmt.Println(string(body))

	err = s.View(ctx, func(tx *store.Tx) error {
		_, err := store.Flows.Get(tx, store.By("slug", "missing"))
		return err
	})
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// 10 invitation (Invitation Stage)
	// 20 default-source-enrollment-write (User Write Stage)
	// Welcome | Sign in | sidebar_left
	// {"designation":["\"nope\" is not a valid choice."],"slug":["Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens."],"title":["This field may not be null."]}
	// true
}
