// Command readme is the program in the README's "Use it from Go".
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

func main() {
	s, err := store.Open("authflow.db", nil) // nil options: 1s lock timeout, fsync on
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	// One transaction: all three objects are written, or none.
	err = s.Update(ctx, func(tx *store.Tx) error {
		login, err := store.Flows.Create(tx, flow.New("Welcome", "default-authentication-flow",
			"Welcome to authentik!", flow.DesignationAuthentication), nil)
		if err != nil {
			return err // a second run stops here: Flow with this slug already exists.
		}
		write, err := store.Stages.Create(tx, stage.Stage{Name: "enroll-write", Config: stage.DefaultUserWrite()}, nil)
		if err != nil {
			return err
		}
		_, err = store.Bindings.Create(tx, binding.New(login.PK, write.PK, 10), nil)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	// authentik's JSON bodies work too: POST, PUT and RFC 7396 merge patches.
	patch := func(body string) error {
		return s.Update(ctx, func(tx *store.Tx) error {
			_, err := store.Flows.Patch(tx, store.By("slug", "default-authentication-flow"), []byte(body), nil)
			return err
		})
	}
	if err := patch(`{"title": "Sign in"}`); err != nil {
		log.Fatal(err)
	}
	// A rejected write is a *validate.Error that marshals to authentik's
	// 400 body, and nothing is written.
	body, _ := json.Marshal(patch(`{"slug": "Not A Slug"}`))
	fmt.Println(string(body))
	// {"slug":["Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens."]}
}
