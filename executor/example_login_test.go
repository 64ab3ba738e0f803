package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/store"
)

// A host logs a user in through the Go API: identification, password,
// user_login. The login comes back in the Response, with the session's
// new id, which the host makes the client's.
func ExampleExecutor_login() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	s, _ := store.Open(filepath.Join(dir, "x.db"), &store.Options{NoSync: true, Passwords: password.Policy{Iterations: 1000}})
	defer s.Close()
	_, err := blueprint.Load(ctx, s, strings.NewReader(`version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: Login, designation: authentication}
- model: authentik_stages_identification.identificationstage
  id: ident
  identifiers: {name: ident}
  attrs: {user_fields: [username, email]}
- model: authentik_stages_password.passwordstage
  id: pw
  identifiers: {name: pw}
  attrs: {backends: [authentik.core.auth.InbuiltBackend]}
- model: authentik_stages_user_login.userloginstage
  id: login
  identifiers: {name: login}
  attrs: {session_duration: hours=8}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf ident, order: 10}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf pw, order: 20}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf login, order: 30}
`), blueprint.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	u := directory.DefaultUser()
	u.Username = "alice"
	u, _ = s.Directory().CreateUser(ctx, u)
	_ = s.Directory().SetPassword(ctx, u.PK, &[]string{"s3cret"}[0])

	e, err := executor.New(s, executor.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	req := executor.Request{Session: "anonymous-session"}
	show := func(r executor.Response) {
		if r.Reload {
			r, _ = e.Get(ctx, "login", req)
		}
		js, _ := json.Marshal(r.Challenge)
		var c struct {
			Component      string         `json:"component"`
			PendingUser    string         `json:"pending_user"`
			ResponseErrors map[string]any `json:"response_errors"`
		}
		_ = json.Unmarshal(js, &c)
		fmt.Println(c.Component, c.PendingUser, c.ResponseErrors)
	}
	r, _ := e.Get(ctx, "login", req)
	show(r)
	r, _ = e.Submit(ctx, "login", req, json.RawMessage(`{"uid_field":"alice"}`))
	show(r)
	r, _ = e.Submit(ctx, "login", req, json.RawMessage(`{"password":"wrong"}`))
	show(r)
	// The password passes; user_login logs alice in on the next Get.
	_, _ = e.Submit(ctx, "login", req, json.RawMessage(`{"password":"s3cret"}`))
	r, _ = e.Get(ctx, "login", req)
	fmt.Println(r.Login.Username, r.Login.Session != req.Session, !r.Login.Expires.IsZero())
	// Output:
	// ak-stage-identification  map[]
	// ak-stage-password alice map[]
	// ak-stage-password alice map[password:[map[code:invalid string:Invalid password]]]
	// alice true true
}
