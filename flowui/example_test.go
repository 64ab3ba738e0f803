package flowui_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flowui"
	"github.com/authflow/authflow/store"
)

// The flow interface over authentik's default flows, beside the
// executor's API, sharing its sessions: "/" sends a visitor to the login
// page.
func Example() {
	dir, err := os.MkdirTemp("", "flowui")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "authflow.db"), &store.Options{Timeout: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	names, _ := fs.Glob(blueprint.Defaults(), "*.yaml")
	for _, n := range names {
		b, _ := fs.ReadFile(blueprint.Defaults(), n)
		if _, err := blueprint.Load(context.Background(), s, bytes.NewReader(b), blueprint.Options{}); err != nil {
			log.Fatal(err)
		}
	}
	e, err := executor.New(s, executor.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	sessions := executor.HTTPOptions{} // the same for the API and the pages
	ui, err := flowui.New(e, flowui.Options{HTTP: sessions})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(executor.ExecutorPath, e.HTTPHandler(sessions))
	mux.Handle(executor.DefaultFlowPath, e.DefaultFlowHandler(sessions))
	mux.Handle("/", ui)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Request.URL.Path)
	for _, m := range regexp.MustCompile(`<(h1|label|button)[^>]*>([^<]+)<`).FindAllStringSubmatch(string(body), -1) {
		fmt.Println(m[1]+":", m[2])
	}
	// Output:
	// 200 /if/flow/default-authentication-flow/
	// h1: Welcome to authentik!
	// label: Email or Username
	// button: Log in
}
