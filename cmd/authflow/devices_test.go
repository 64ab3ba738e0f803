package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// own GETs path under /api/v3/ with the session's cookie and no token,
// as the flow pages' user calls the API, and returns the status and the
// body.
func (b *browser) own(path string, header http.Header) (int, []byte) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.host+"/api/v3/"+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

// serve answers a user's own device paths for the user its session
// cookie is logged in as: after a static device's setup through the
// shipped flow, /authenticators/all/ lists it, with no code in it; an
// anonymous request, and one from another origin, are 403.
func TestServeOwnDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv := start(t, buildBinary(t), filepath.Join(t.TempDir(), "x.db"))
	admin := newBrowser(t, srv)
	want(t, admin.challenge("initial-setup", ""), "ak-stage-prompt")
	want(t, admin.challenge("initial-setup", `{"component":"ak-stage-prompt","email":"admin@example.org","password":"correct horse","password_repeat":"correct horse"}`),
		"xak-flow-redirect", "to", "/")
	if code, _ := admin.own("authenticators/all/", nil); code != http.StatusOK {
		t.Fatalf("own devices of a logged-in user: %d", code)
	}
	ch := admin.challenge("default-authenticator-static-setup", "")
	want(t, ch, "ak-stage-authenticator-static")
	codes, _ := ch["codes"].([]any)
	if len(codes) == 0 {
		t.Fatalf("static setup: %v", ch)
	}
	want(t, admin.challenge("default-authenticator-static-setup", `{"component":"ak-stage-authenticator-static"}`), "xak-flow-redirect")
	code, raw := admin.own("authenticators/all/", nil)
	var all []map[string]any
	if err := json.Unmarshal(raw, &all); code != http.StatusOK || err != nil || len(all) != 1 || all[0]["meta_model_name"] != "authentik_stages_authenticator_static.staticdevice" {
		t.Fatalf("own devices: %d %s", code, raw)
	}
	code, raw = admin.own("authenticators/static/", nil)
	var statics struct{ Results []map[string]any }
	if err := json.Unmarshal(raw, &statics); code != http.StatusOK || err != nil || len(statics.Results) != 1 {
		t.Fatalf("own static devices: %d %s", code, raw)
	}
	for _, c := range codes {
		if strings.Contains(string(raw), c.(string)) {
			t.Errorf("a static code in the API: %s", raw)
		}
	}
	if code, _ := newBrowser(t, srv).own("authenticators/static/", nil); code != http.StatusForbidden {
		t.Errorf("anonymous: %d, want 403", code)
	}
	if code, _ := admin.own("authenticators/static/", http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}); code != http.StatusForbidden {
		t.Errorf("another origin: %d, want 403", code)
	}
}
