package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/flow"
)

// POST /flows/instances/{slug}/set_background_url/ sets the background
// that the flow's GET shows, as authentik 2025.6 does (its test_api_background):
// 200 {}, a write like a PATCH (ETag, If-Match, a revision only when it
// changes something); a missing url is 400 and writes nothing.
func TestSetBackgroundURL(t *testing.T) {
	c := newClient(t, nil)
	c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"A","slug":"a","title":"A","designation":"authentication"}`)
	path := "/api/v3/flows/instances/a/set_background_url/"
	background := func() any {
		t.Helper()
		return c.must(200, "GET", "/api/v3/flows/instances/a/", "")["background"]
	}
	if got := background(); got != flow.DefaultBackground {
		t.Fatalf("default background = %v", got)
	}
	const icon = "https://goauthentik.io/img/icon.png"
	res := c.do("POST", path, `{"url":"`+icon+`"}`)
	res.expect(t, 200, `{}`)
	if got := background(); got != icon {
		t.Errorf("background = %v, want %s", got, icon)
	}
	tag := res.Header.Get("ETag")
	if tag == "" || c.do("GET", "/api/v3/flows/instances/a/", "").Header.Get("ETag") != tag {
		t.Errorf("the write's ETag %q is not the flow's", tag)
	}
	// The same url again changes nothing and takes no revision.
	if again := c.do("POST", path, `{"url":"`+icon+`"}`); again.Code != 200 || again.Header.Get("ETag") != tag {
		t.Errorf("an unchanged background: %d, ETag %q, want %q", again.Code, again.Header.Get("ETag"), tag)
	}

	for _, tt := range []struct{ body, want string }{
		{`{}`, `{"url":["This field is required."]}`},
		{``, `{"url":["This field is required."]}`},
		{`{"uri":"x"}`, `{"uri":["Unknown field."],"url":["This field is required."]}`},
		{`{"url":null}`, `{"url":["This field may not be null."]}`},
		{`{"url":["x"]}`, `{"url":["Not a valid string."]}`},
		{`{"url":"` + strings.Repeat("x", flow.MaxBackgroundLength+1) + `"}`, `{"url":["Ensure this field has no more than 500 characters."]}`},
		{`[]`, `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
	} {
		c.do("POST", path, tt.body).expect(t, 400, tt.want)
	}
	c.do("POST", path, `{"url":`).status(t, 400)
	if got := background(); got != icon {
		t.Errorf("a refused write changed the background to %v", got)
	}
	// If-Match: a stale tag is refused and writes nothing.
	c.must(200, "PATCH", "/api/v3/flows/instances/a/", `{"title":"B"}`)
	c.do("POST", path, `{"url":"/static/x.png"}`, "If-Match", tag).status(t, 412)
	if got := background(); got != icon {
		t.Errorf("a refused If-Match changed the background to %v", got)
	}
	fresh := c.do("GET", "/api/v3/flows/instances/a/", "").Header.Get("ETag")
	c.do("POST", path, `{"url":"/static/x.png"}`, "If-Match", fresh).expect(t, 200, `{}`)
	if got := background(); got != "/static/x.png" {
		t.Errorf("background = %v", got)
	}
	// "" restores the default.
	c.do("POST", path, `{"url":""}`).expect(t, 200, `{}`)
	if got := background(); got != flow.DefaultBackground {
		t.Errorf("background after \"\" = %v", got)
	}

	c.do("POST", "/api/v3/flows/instances/nope/set_background_url/", `{"url":"x"}`).expect(t, 404, `{"detail":"Not found."}`)
	if r := c.do("GET", path, ""); r.Code != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d, Allow %q", r.Code, r.Header.Get("Allow"))
	}
	c.do("POST", path, "url=x", "Content-Type", "application/x-www-form-urlencoded").status(t, 415)
}

// set_background_url needs view_flow (404 without it) and change_flow
// (403, or 404 for a flow that does not exist); set_background the same.
func TestSetBackgroundPermissions(t *testing.T) {
	p := denying()
	c := newClient(t, &api.Options{Authorize: p.authorize})
	c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"A","slug":"a","title":"A","designation":"authentication"}`)
	for _, action := range []string{"set_background_url", "set_background"} {
		path := "/api/v3/flows/instances/a/" + action + "/"
		p.take()
		c.do("POST", path, `{"url":"https://example.com/x.png"}`).status(t, map[string]int{"set_background_url": 200, "set_background": 400}[action])
		if got := strings.Join(p.take(), ","); got != "authentik_flows.view_flow,authentik_flows.change_flow" {
			t.Errorf("%s asked %s", action, got)
		}
		p.set("authentik_flows.change_flow")
		c.do("POST", path, `{"url":"x"}`).expect(t, 403, `{"detail":"You do not have permission to perform this action."}`)
		c.do("POST", "/api/v3/flows/instances/nope/"+action+"/", `{"url":"x"}`).status(t, 404)
		p.set("authentik_flows.view_flow")
		c.do("POST", path, `{"url":"x"}`).expect(t, 404, `{"detail":"Not found."}`)
		p.set()
	}
	if got := c.must(200, "GET", "/api/v3/flows/instances/a/", "")["background"]; got != "https://example.com/x.png" {
		t.Errorf("a denied write changed the background to %v", got)
	}
}

// set_background (a multipart image upload) is refused with a 400 that
// names set_background_url: authflow keeps no files. An unknown slug is
// 404 first.
func TestSetBackgroundRefused(t *testing.T) {
	c := newClient(t, nil)
	c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"A","slug":"a","title":"A","designation":"authentication"}`)
	body := "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bg.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--b--\r\n"
	res := c.do("POST", "/api/v3/flows/instances/a/set_background/", body, "Content-Type", "multipart/form-data; boundary=b")
	res.status(t, 400)
	if !strings.Contains(string(res.Body), "set_background_url") {
		t.Errorf("the refusal does not name set_background_url: %s", res.Body)
	}
	c.do("POST", "/api/v3/flows/instances/nope/set_background/", body, "Content-Type", "multipart/form-data; boundary=b").status(t, 404)
	if got := c.must(200, "GET", "/api/v3/flows/instances/a/", "")["background"]; got != flow.DefaultBackground {
		t.Errorf("background = %v", got)
	}
}
