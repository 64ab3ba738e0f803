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

	login, err := s.CreateFlow(ctx, flow.New("Welcome", "default-authentication-flow",
		"Welcome to authentik!", flow.DesignationAuthentication))
	if err != nil {
		log.Fatal(err) // a second run stops here: Flow with this slug already exists.
	}
	write, err := s.CreateStage(ctx, stage.Stage{Name: "enroll-write", Config: stage.DefaultUserWrite()})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s.CreateBinding(ctx, binding.New(login.PK, write.PK, 10)); err != nil {
		log.Fatal(err)
	}
	// authentik's JSON bodies work too: POST, PUT and RFC 7396 merge patches.
	if _, err := s.PatchFlow(ctx, "default-authentication-flow", []byte(`{"title": "Sign in"}`)); err != nil {
		log.Fatal(err)
	}
	// A rejected write is a *validate.Error that marshals to authentik's
	// 400 body, and nothing is written.
	_, err = s.PatchFlow(ctx, "default-authentication-flow", []byte(`{"slug": "Not A Slug"}`))
	body, _ := json.Marshal(err)
	fmt.Println(string(body))
	// {"slug":["Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens."]}
}
