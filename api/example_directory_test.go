package api_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/store"
)

// Users and groups through the API: a group, a user in it, a password
// set through set_password (then checked by the store), and a list
// filtered by group name without groups_obj.
func ExampleNewHandler_users() {
	dir, err := os.MkdirTemp("", "authflow-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// A cheap password policy keeps the example fast; the default is
	// authentik's (pbkdf2_sha256, 870,000 iterations).
	s, err := store.Open(filepath.Join(dir, "authflow.db"), &store.Options{Passwords: password.Policy{Iterations: 1000}})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(api.NewHandler(s, nil))
	defer srv.Close()

	send := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+api.Prefix+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	_, group := send("POST", "core/groups/", `{"name": "staff"}`)
	pk := group[strings.Index(group, `"pk":"`)+6:][:36]
	code, _ := send("POST", "core/users/", `{"username": "alice", "name": "Alice", "groups": ["`+pk+`"]}`)
	fmt.Println(code)
	code, _ = send("POST", "core/users/1/set_password/", `{"password": "correct horse"}`)
	fmt.Println(code)
	ok, err := s.CheckPassword(context.Background(), 1, "correct horse")
	fmt.Println(ok, err)
	_, list := send("GET", "core/users/?groups_by_name=staff&include_groups=false", "")
	fmt.Println(strings.Contains(list, `"username":"alice"`), strings.Contains(list, `"groups_obj":null`))
	fmt.Println(send("GET", "core/users/paths/", ""))
	// Output:
	// 201
	// 204
	// true <nil>
	// true true
	// 200 {"paths":["users"]}
}
