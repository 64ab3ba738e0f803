package executor

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
)

// fakeDuo is a local Duo Auth API for the integration ("DIKEY",
// "duo-secret") at host "api-test.duosecurity.com": it checks each
// request's signature and answers enroll, enroll_status (status) and
// auth (result).
type fakeDuo struct {
	srv    *httptest.Server
	mu     sync.Mutex
	calls  []map[string]string
	paths  []string
	status string
	result string
}

const duoHost = "api-test.duosecurity.com"

func newFakeDuo(t *testing.T) *fakeDuo {
	f := &fakeDuo{status: "success", result: "allow"}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != DuoSign("DIKEY", "duo-secret", r.Method, duoHost, r.URL.Path, r.Header.Get("Date"), body) {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"stat": "FAIL", "code": 40103, "message": "Invalid signature in request credentials"}`)
			return
		}
		var params map[string]string
		_ = json.Unmarshal(body, &params)
		f.mu.Lock()
		f.calls, f.paths = append(f.calls, params), append(f.paths, r.URL.Path)
		status, result := f.status, f.result
		f.mu.Unlock()
		var resp any
		switch r.URL.Path {
		case "/auth/v2/enroll":
			resp = map[string]any{"activation_barcode": "https://" + duoHost + "/frame/qr?value=x", "activation_code": "duo://act",
				"user_id": "DU1", "username": params["username"], "valid_secs": 86400}
		case "/auth/v2/enroll_status":
			resp = status
		case "/auth/v2/auth":
			resp = map[string]any{"result": result, "status": result, "status_msg": "msg"}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"stat": "OK", "response": resp})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeDuo) last() (string, map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return "", nil
	}
	return f.paths[len(f.paths)-1], f.calls[len(f.calls)-1]
}

func withDuo(f *fakeDuo) harnessOpt {
	return func(o *Options) { o.Duo = HTTPDuo{Client: f.srv.Client(), BaseURL: f.srv.URL} }
}

func duoStage() string {
	return stageEntry("authentik_stages_authenticator_duo.authenticatorduostage", "f", "duo", 0,
		"client_id: DIKEY, client_secret: duo-secret, api_hostname: "+duoHost, "")
}

// Duo setup: the user is enrolled once (signed requests), the
// activation shown; a response before Duo reports success is denied
// with Duo's status; then the device is saved.
func TestAuthDuoSetup(t *testing.T) {
	f := newFakeDuo(t)
	h, dir := setupHarness(t, duoStage(), withDuo(f))
	r := h.get("f", "")
	r.want(t, ComponentAuthenticatorDuo, "activation_code", "duo://act", "activation_barcode", "https://"+duoHost+"/frame/qr?value=x", "pending_user", "one")
	if r.body["stage_uuid"] == "" {
		t.Fatal(r.raw)
	}
	if p, params := f.last(); p != "/auth/v2/enroll" || params["username"] != "one" {
		t.Fatal(p, params)
	}
	h.get("f", "")
	if f.mu.Lock(); len(f.calls) != 1 {
		t.Fatalf("enrolled %d times", len(f.calls))
	}
	f.mu.Unlock()
	h.post("f", "", `{"component": "ak-stage-authenticator-duo"}`).want(t, ComponentRedirect)
	if p, params := f.last(); p != "/auth/v2/enroll_status" || params["user_id"] != "DU1" || params["activation_code"] != "duo://act" {
		t.Fatal(p, params)
	}
	devs := userDevices(t, dir)
	if len(devs) != 1 || devs[0].Duo == nil || devs[0].Duo.DuoUserID != "DU1" || devs[0].Name != "Duo Authenticator" || !devs[0].Confirmed {
		t.Fatalf("devices %+v", devs)
	}
	// Enrolled again by Duo as the same Duo user: refused.
	h.client = h.newClient()
	h.get("f", "")
	h.post("f", "", `{}`).want(t, ComponentAccessDenied, "error_message", MsgDuoDeviceExists)

	f.status = "waiting"
	h.client = h.newClient()
	h.get("f", "")
	h.post("f", "", `{}`).want(t, ComponentAccessDenied, "error_message", "Invalid enrollment status: waiting.")
}

// A failed enrollment (here a wrong secret) is a configuration_error
// naming Duo's message, never the secret, and an access denied; without
// Options.Duo the flow is denied.
func TestAuthDuoErrors(t *testing.T) {
	f := newFakeDuo(t)
	doc := stageEntry("authentik_stages_authenticator_duo.authenticatorduostage", "f", "duo", 0,
		"client_id: DIKEY, client_secret: wrong-secret, api_hostname: "+duoHost, "")
	h, _ := setupHarness(t, doc, withDuo(f))
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", "Received 401 Invalid signature in request credentials")
	ev := h.lastEvent(t, EventConfigurationError)
	if ev.Message != "Failed to enroll user: Received 401 Invalid signature in request credentials" || strings.Contains(ev.Message, "wrong-secret") {
		t.Fatal(ev)
	}
	h, _ = setupHarness(t, duoStage())
	h.get("f", "").want(t, ComponentAccessDenied, "error_message", MsgNoDuo)
}

// HTTPDuo's auth: factor auto, synchronous, the request's details; an
// unreachable API's error holds no secret; a bad answer is a DuoError.
func TestHTTPDuoAuth(t *testing.T) {
	f := newFakeDuo(t)
	ctx := context.Background()
	cfg := stage.AuthenticatorDuo{ClientID: "DIKEY", ClientSecret: validate.NewSecret("duo-secret"), APIHostname: duoHost}
	d := HTTPDuo{Client: f.srv.Client(), BaseURL: f.srv.URL}
	res, err := d.Auth(ctx, cfg, DuoAuthRequest{UserID: "DU1", IPAddr: "192.0.2.1", Type: "authentik Login request", DisplayUsername: "one", PushInfo: "Domain=x"})
	if err != nil || res.Result != "allow" {
		t.Fatal(res, err)
	}
	_, p := f.last()
	want := map[string]string{"factor": "auto", "async": "0", "user_id": "DU1", "device": "auto", "ipaddr": "192.0.2.1",
		"type": "authentik Login request", "display_username": "one", "pushinfo": "Domain=x"}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q", k, p[k], v)
		}
	}
	f.srv.Close()
	_, err = d.Auth(ctx, cfg, DuoAuthRequest{UserID: "DU1"})
	if err == nil || strings.Contains(err.Error(), "duo-secret") {
		t.Fatal(err)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"stat": "OK"`) }))
	defer bad.Close()
	var derr *DuoError
	if _, err := (HTTPDuo{BaseURL: bad.URL}).EnrollStatus(ctx, cfg, "DU1", "x"); !errors.As(err, &derr) || derr.Message != "Received bad response" {
		t.Fatal(err)
	}
}

// DuoSign is duo_client 5.5's signature version 5 (a vector computed
// with duo_client.client.sign).
func TestDuoSign(t *testing.T) {
	got := DuoSign("DIXXXXXXXXXXXXXXXXXX", "deadbeef", "POST", "API-XXX.duosecurity.com", "/auth/v2/enroll",
		"Tue, 21 Aug 2012 17:29:18 -0000", []byte(`{"username":"alice"}`))
	if got != duoSignVector {
		t.Fatalf("DuoSign = %s", got)
	}
}

// duoSignVector is duo_client.client.sign(..., sig_version=5, params={},
// body='{"username":"alice"}') of TestDuoSign's request.
const duoSignVector = "Basic RElYWFhYWFhYWFhYWFhYWFhYWFg6ZDRkNWM4NDdlYTc2MzM4OTMxYTFmN2FmZDE0Yzc4MzE5MTRhNDI3MDExNzU0ODcyNjM5OGQ0NzE3NWFiYWZjODUzMDMyY2Q2OWQ2MWY0NGJmOGRhNGI4MjQ1YjgzZGU1ZTA2YWI0OWVjYjA3ZjlhNDEwNzQ5N2QyOGE5Njg1MTE="

// enrollment_status: Duo's status of the session's enrollment, 400
// without one, 404 for a stage that is not a Duo stage.
func TestDuoEnrollmentStatusHandler(t *testing.T) {
	f := newFakeDuo(t)
	h, _ := setupHarness(t, duoStage(), withDuo(f))
	srv := httptest.NewServer(h.e.DuoEnrollmentStatusHandler(HTTPOptions{}))
	defer srv.Close()
	pk := h.stagePK("duo")
	post := func(c *http.Client, id string) (int, string) {
		resp, err := c.Post(srv.URL+DuoEnrollmentPath+id+"/enrollment_status/", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	h.get("f", "").want(t, ComponentAuthenticatorDuo)
	f.status = "waiting"
	if code, body := post(h.client, pk); code != http.StatusOK || strings.TrimSpace(body) != `{"duo_response":"waiting"}` {
		t.Fatal(code, body)
	}
	if code, _ := post(h.newClient(), pk); code != http.StatusBadRequest {
		t.Fatal(code)
	}
	if code, _ := post(h.client, "6e1d8c5e-8e0b-4a5e-9a4e-3c1f2b3a4d5e"); code != http.StatusNotFound {
		t.Fatal(code)
	}
	if !IsDuoEnrollmentPath(DuoEnrollmentPath+pk+"/enrollment_status/") || IsDuoEnrollmentPath(DuoEnrollmentPath+pk+"/") {
		t.Fatal("IsDuoEnrollmentPath")
	}
}
