package flowui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authflow/authflow/executor"
)

// component is the component the page renders (its form's hidden
// component field), "" for none.
func (p *page) component() string {
	if p.doc == nil {
		return ""
	}
	if in := p.input("component"); in != nil {
		return attrOf(in, "value")
	}
	return ""
}

func (p *page) want(t testing.TB, status int, path string) {
	t.Helper()
	if p.status != status || p.url.Path != path {
		t.Fatalf("got %d %s, want %d %s:\n%s", p.status, p.url, status, path, p.body)
	}
}

// Set akadmin's password through initial-setup, log out, log in
// through the default authentication flow, see the landing page.
func TestLoginThroughPages(t *testing.T) {
	sv := newServer(t)
	b := sv.browser()
	p := b.get("/if/flow/initial-setup/")
	p.want(t, 200, "/if/flow/initial-setup/")
	if p.component() != executor.ComponentPrompt {
		t.Fatalf("initial-setup: %s", p.body)
	}
	p = b.submit(map[string]string{"email": "root@example.org", "password": "admin Passw0rd", "password_repeat": "admin Passw0rd"})
	p.want(t, 200, "/")
	if !strings.Contains(p.body, "akadmin") {
		t.Fatalf("landing: %s", p.body)
	}
	p = b.get(executor.InvalidationURL)
	p.want(t, 200, "/if/flow/default-authentication-flow/")
	if p.component() != executor.ComponentIdentification {
		t.Fatalf("after logout: %s", p.body)
	}
	p = b.submit(map[string]string{"uid_field": "akadmin"})
	p.want(t, 200, "/if/flow/default-authentication-flow/")
	if p.component() != executor.ComponentPassword {
		t.Fatalf("password page: %s", p.body)
	}
	p = b.submit(map[string]string{"password": "wrong"})
	if p.component() != executor.ComponentPassword || !strings.Contains(p.body, "Invalid password") {
		t.Fatalf("wrong password: %s", p.body)
	}
	p = b.submit(map[string]string{"password": "admin Passw0rd"})
	p.want(t, 200, "/")
	if !strings.Contains(p.body, "You are logged in as") {
		t.Fatalf("landing: %s", p.body)
	}
	_ = http.StatusOK
}
