package api_test

import (
	"net/http"
	"testing"
)

// Revisions over HTTP: objects carry an ETag, and a write with If-Match
// is refused with 412 when the object changed after it; no header, no
// check.
func TestIfMatch(t *testing.T) {
	c := newClient(t, nil)
	c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"A","slug":"a","title":"A","designation":"authentication"}`)
	get := func() string {
		t.Helper()
		res := c.do("GET", "/api/v3/flows/instances/a/", "")
		res.status(t, 200)
		return res.Header.Get("ETag")
	}
	tag := get()
	if tag == "" {
		t.Fatal("no ETag")
	}
	// Another writer's change in between: the stale tag is refused.
	other := c.do("PATCH", "/api/v3/flows/instances/a/", `{"title":"B"}`)
	other.status(t, 200)
	c.do("PATCH", "/api/v3/flows/instances/a/", `{"title":"C"}`, "If-Match", tag).status(t, 412)
	c.do("DELETE", "/api/v3/flows/instances/a/", "", "If-Match", tag).status(t, 412)
	if got := c.must(200, "GET", "/api/v3/flows/instances/a/", "")["title"]; got != "B" {
		t.Fatalf("a refused write changed the flow: %v", got)
	}
	// The tag of a write's response, and of a fresh read, match.
	tag = other.Header.Get("ETag")
	res := c.do("PATCH", "/api/v3/flows/instances/a/", `{"title":"C"}`, "If-Match", tag)
	res.status(t, 200)
	c.do("PUT", "/api/v3/flows/instances/a/", `{"name":"A","slug":"a","title":"D","designation":"authentication"}`, "If-Match", res.Header.Get("ETag")).status(t, 200)
	// An unrelated write does not move an object's tag out of date.
	tag = get()
	c.must(201, "POST", "/api/v3/stages/deny/", `{"name":"d"}`)
	c.do("PATCH", "/api/v3/flows/instances/a/", `{"title":"E"}`, "If-Match", tag).status(t, 200)
	// No header, "*": no check. A tag that is none of ours never matches.
	c.do("PATCH", "/api/v3/flows/instances/a/", `{"title":"F"}`).status(t, 200)
	c.do("PATCH", "/api/v3/flows/instances/a/", `{"title":"G"}`, "If-Match", "*").status(t, 200)
	c.do("PATCH", "/api/v3/flows/instances/a/", `{"title":"H"}`, "If-Match", "abc").status(t, 412)
	// A stage kind, and a delete that matches.
	st := c.must(201, "POST", "/api/v3/stages/dummy/", `{"name":"x"}`)
	path := "/api/v3/stages/dummy/" + st["pk"].(string) + "/"
	tag = c.do("GET", path, "").Header.Get("ETag")
	c.must(200, "PATCH", path, `{"name":"y"}`)
	c.do("DELETE", path, "", "If-Match", tag).status(t, 412)
	c.do("DELETE", path, "", "If-Match", c.do("GET", path, "").Header.Get("ETag")).status(t, 204)
	c.do("GET", "/api/v3/flows/instances/nope/", "").status(t, http.StatusNotFound)
}
