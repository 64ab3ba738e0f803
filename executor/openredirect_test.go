package executor

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
)

// hostileNext are next URLs that a browser would follow off-site, each
// through a different parser trick.
var hostileNext = []string{
	"https://evil.example/", "http:/evil.example", "https:evil.example", "//evil.example", "///evil.example",
	`/\evil.example`, `\\evil.example`, `\/evil.example`, " //evil.example", "\t//evil.example", "/\t/evil.example",
	"/\n/evil.example", "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
	"data:text/html,<script>alert(1)</script>", "vbscript:x",
}

// offSite says whether a browser on https://authflow.example/if/flow/f/
// following to would leave the site, as the WHATWG URL parser reads it:
// leading and trailing C0 controls and spaces stripped, tabs and
// newlines removed, a backslash a slash in special schemes, any number
// of slashes before a host.
func offSite(to string) bool {
	s := strings.Trim(to, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	s = strings.ReplaceAll(s, `\`, "/")
	for strings.HasPrefix(s, "///") { // any number of slashes before a host
		s = s[1:]
	}
	base, _ := url.Parse("https://authflow.example/if/flow/f/")
	u, err := base.Parse(s)
	return err != nil || u.Scheme != "https" || u.Host != "authflow.example"
}

func TestOffSite(t *testing.T) {
	for _, s := range hostileNext {
		if !offSite(s) {
			t.Errorf("offSite(%q) = false", s)
		}
	}
	for _, s := range []string{"/", "/if/user/", "rel", "/a?b=//c", "%2F%2Fevil.example", "/%5Cevil.example"} {
		if offSite(s) {
			t.Errorf("offSite(%q) = true", s)
		}
	}
}

// No next sends a browser off-site, in any way a flow ends: a flow that
// ends (the hostile next is "Invalid next URL"), a denied flow with
// denied_action continue or message_continue (to / and the message), a
// redirect stage to another flow (which carries the query to the target's
// page, on this site, and whose end refuses the next in turn), a static
// redirect stage (the administrator's target, whatever the next), and the
// shipped default-invalidation-flow.
func TestNoOpenRedirect(t *testing.T) {
	doc := flowDoc("end", "", dummy("end", "d", 0, "")) +
		strings.TrimPrefix(flowDoc("cont", ", denied_action: continue", policyOn("cont", "no-c", false)), "version: 1\nentries:\n") +
		strings.TrimPrefix(flowDoc("msg", ", denied_action: message_continue", policyOn("msg", "no-m", false)), "version: 1\nentries:\n") +
		strings.TrimPrefix(flowDoc("target", "", dummy("target", "t", 0, "")), "version: 1\nentries:\n") +
		strings.TrimPrefix(flowDoc("a", ""), "version: 1\nentries:\n") +
		stageEntry("authentik_stages_redirect.redirectstage", "a", "to-target", 0, "keep_context: false, mode: flow, target_flow: !KeyOf target", "") +
		strings.TrimPrefix(flowDoc("static", ""), "version: 1\nentries:\n") +
		stageEntry("authentik_stages_redirect.redirectstage", "static", "to-app", 0, "mode: static, target_static: /app/", "")
	h := newHarness(t, doc)
	raw, err := os.ReadFile(filepath.Join("..", "blueprint", "testdata", "authentik", "default", "flow-default-invalidation-flow.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blueprint.Load(context.Background(), h.s, strings.NewReader(string(raw)), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	// walk answers each challenge of slug (dummies) until the flow ends,
	// and returns the last challenge.
	walk := func(c *http.Client, slug, q string) reply {
		t.Helper()
		r := h.do(c, "GET", h.url(slug, q), "")
		for range 10 {
			switch {
			case r.status == http.StatusFound:
				r = h.do(c, "GET", h.url(slug, q), "")
			case r.body["component"] == ComponentDummy:
				r = h.do(c, "POST", h.url(slug, q), `{"component":"ak-stage-dummy"}`)
			default:
				return r
			}
		}
		t.Fatalf("%s: no end", slug)
		return r
	}
	for _, next := range hostileNext {
		q := "next=" + url.QueryEscape(next)
		c := h.newClient()
		for slug, want := range map[string][2]string{
			"end":                       {ComponentAccessDenied, MsgInvalidNext},
			"cont":                      {ComponentRedirect, "/"},
			"msg":                       {ComponentAccessDenied, "dummy"},
			"static":                    {ComponentRedirect, "/app/"},
			"a":                         {ComponentRedirect, "/if/flow/target/?" + q},
			"target":                    {ComponentAccessDenied, MsgInvalidNext},
			"default-invalidation-flow": {ComponentAccessDenied, MsgInvalidNext},
		} {
			r := walk(c, slug, q)
			key := "to"
			if want[0] == ComponentAccessDenied {
				key = "error_message"
			}
			r.want(t, want[0], key, want[1])
			if to, ok := r.body["to"].(string); ok && offSite(to) {
				t.Errorf("%s with next %q: to %q leaves the site", slug, next, to)
			}
		}
	}
	// A relative next is followed.
	walk(h.newClient(), "end", "next="+url.QueryEscape("/if/user/#/settings")).want(t, ComponentRedirect, "to", "/if/user/#/settings")
}

// What a user types cannot become a redirect: prompt answers named
// redirect, redirect_stage_target and next stay in prompt_data, so a
// static redirect stage goes to its own target and the flow's end to /.
func TestPromptCannotRedirect(t *testing.T) {
	var keys []string
	var entries string
	for _, k := range []string{"redirect", "redirect_stage_target", "next"} {
		keys = append(keys, k)
		entries += promptEntry(k, "text", "", "", "")
	}
	refs := "!KeyOf p-" + strings.Join(keys, ", !KeyOf p-")
	h := newHarness(t, flowDoc("f", "", entries,
		stageEntry("authentik_stages_prompt.promptstage", "f", "prompt", 0, "fields: ["+refs+"]", ""),
		stageEntry("authentik_stages_redirect.redirectstage", "f", "to-app", 1, "mode: static, target_static: /app/", "")))
	h.get("f", "").want(t, ComponentPrompt)
	r := h.post("f", "", `{"component":"ak-stage-prompt","redirect":"https://evil.example/","redirect_stage_target":"https://evil.example/","next":"//evil.example"}`)
	if r.status == http.StatusFound {
		r = h.get("f", "")
	}
	r.want(t, ComponentRedirect, "to", "/app/")
	r = h.post("f", "", `{"component":"xak-flow-redirect","to":"https://evil.example/"}`)
	if r.status == http.StatusFound {
		r = h.get("f", "")
	}
	r.want(t, ComponentRedirect, "to", "/")
}
