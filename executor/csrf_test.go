package executor

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A POST from another origin is refused with 403 and DRF's CSRF detail
// before anything is read or written (no session cookie, the execution
// does not move); a POST from the same origin, or from a client that
// sends neither Origin nor Sec-Fetch-Site (Node, Go, curl: not a
// browser), is answered, and a GET is checked as a POST; a trusted
// origin is allowed. The session cookie is HttpOnly and SameSite=Lax.
func TestCrossOrigin(t *testing.T) {
	h := newHarness(t, flowDoc("f", "", dummy("f", "one", 0, ""), dummy("f", "two", 1, "")))
	r := h.get("f", "")
	r.want(t, ComponentDummy, "name", "one")
	if sc := r.header.Get("Set-Cookie"); !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Errorf("session cookie %q", sc)
	}
	post := func(c *http.Client, base string, header map[string]string) reply {
		t.Helper()
		req, _ := http.NewRequest("POST", base+ExecutorPath+"f/", strings.NewReader(`{"component":"ak-stage-dummy"}`))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return reply{status: res.StatusCode, location: res.Header.Get("Location"), raw: raw, header: res.Header}
	}
	for _, c := range []struct {
		header map[string]string
		detail string
	}{
		{map[string]string{"Origin": "https://evil.example"}, "https://evil.example"},
		{map[string]string{"Origin": "null"}, "null"},
		{map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, "https://evil.example"},
		{map[string]string{"Sec-Fetch-Site": "cross-site"}, "cross-site"},
		{map[string]string{"Sec-Fetch-Site": "same-site", "Referer": h.srv.URL + "/"}, "same-site"},
	} {
		r := post(h.client, h.srv.URL, c.header)
		want := `{"detail":"` + fmt.Sprintf(MsgCrossOrigin, c.detail) + `"}`
		if r.status != http.StatusForbidden || string(r.raw) != want || r.header.Get("Set-Cookie") != "" {
			t.Errorf("POST with %v: %d %s (Set-Cookie %q), want 403 %s", c.header, r.status, r.raw, r.header.Get("Set-Cookie"), want)
		}
	}
	if x := h.execution("f"); len(x.Stages) != 2 {
		t.Errorf("a refused POST moved the execution: %v", stageNames(x))
	}
	// A cross-origin POST carries no session of its own either: a fresh
	// client is refused without a cookie being set.
	if r := post(h.newClient(), h.srv.URL, map[string]string{"Origin": "https://evil.example"}); r.status != http.StatusForbidden || r.header.Get("Set-Cookie") != "" {
		t.Errorf("cross-origin POST without a session: %d %q", r.status, r.header.Get("Set-Cookie"))
	}
	// Same origin (a browser's fetch from the page), then no Origin at all
	// (a program), move the flow on.
	if r := post(h.client, h.srv.URL, map[string]string{"Origin": h.srv.URL, "Sec-Fetch-Site": "same-origin"}); r.status != http.StatusFound {
		t.Fatalf("same-origin POST: %d %s", r.status, r.raw)
	}
	h.get("f", "").want(t, ComponentDummy, "name", "two")
	if r := post(h.client, h.srv.URL, nil); r.status != http.StatusOK || !strings.Contains(string(r.raw), `"component":"xak-flow-redirect"`) {
		t.Fatalf("POST without Origin: %d %s", r.status, r.raw)
	}
	// GET is not safe (it reaches stages with side effects): a GET from
	// another origin is refused too (TestCrossSiteGET).
	req, _ := http.NewRequest("GET", h.url("f", ""), nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res, err := h.client.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin GET: %v %v", res.StatusCode, err)
	} else {
		res.Body.Close()
	}

	// A host trusts its pages' origin.
	cop := http.NewCrossOriginProtection()
	if err := cop.AddTrustedOrigin("https://app.example"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.e.HTTPHandler(HTTPOptions{CrossOrigin: cop}))
	t.Cleanup(srv.Close)
	c := h.newClient()
	if r := post(c, srv.URL, map[string]string{"Origin": "https://app.example", "Sec-Fetch-Site": "cross-site"}); r.status != http.StatusOK {
		t.Errorf("trusted origin: %d %s", r.status, r.raw)
	}
	if r := post(c, srv.URL, map[string]string{"Origin": "https://evil.example"}); r.status != http.StatusForbidden {
		t.Errorf("untrusted origin with a host's protection: %d %s", r.status, r.raw)
	}
}

// Policies see the request's headers, every value, but not its cookies:
// the session id is the session's key. The request keeps its own.
func TestHTTPRequestHeaders(t *testing.T) {
	r := httptest.NewRequest("GET", ExecutorPath+"f/?query=a%3Db", nil)
	r.Header["Cookie"] = []string{DefaultCookie + "=secret"}
	r.Header["Accept"] = []string{"a", "b"}
	r.Header["X-Empty"] = nil
	hr := httpRequest(r)
	if _, ok := hr.Header["Cookie"]; ok || len(hr.Header) != 2 || strings.Join(hr.Header["Accept"], ",") != "a,b" || hr.Header["X-Empty"] != nil {
		t.Errorf("policies see %v", hr.Header)
	}
	if _, ok := hr.Header["X-Empty"]; !ok {
		t.Error("a header without values is gone")
	}
	hr.Header["Accept"][0] = "changed"
	if r.Header.Get("Cookie") == "" || r.Header["Accept"][0] != "a" || hr.Query.Get("query") != "a=b" {
		t.Errorf("the request's own: %v, query %v", r.Header, hr.Query)
	}
}
