package api_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/store"
)

// A host application mounts the API on its own mux; here, every
// permission except deleting flows is granted.
func ExampleNewHandler() {
	dir, err := os.MkdirTemp("", "authflow-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "authflow.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	authorize := func(r *http.Request, permission string) error {
		if permission == "authentik_flows.delete_flow" {
			return fmt.Errorf("%s may not delete flows", r.RemoteAddr)
		}
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle(api.Prefix, api.NewHandler(s, &api.Options{Authorize: authorize}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	send := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, _ := send("POST", "/api/v3/flows/instances/", `{"name": "Welcome", "slug": "welcome", "title": "Welcome!", "designation": "authentication"}`)
	fmt.Println(code)
	fmt.Println(send("PATCH", "/api/v3/flows/instances/welcome/", `{"designation": "nope", "layout": null}`))
	fmt.Println(send("DELETE", "/api/v3/flows/instances/welcome/", ""))
	fmt.Println(send("GET", "/api/v3/flows/instances/nope/", ""))
	// Output:
	// 201
	// 400 {"designation":["\"nope\" is not a valid choice."],"layout":["This field may not be null."]}
	// 403 {"detail":"You do not have permission to perform this action."}
	// 404 {"detail":"Not found."}
}
