package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// fuzzStage is a flow whose current stage, after prep, is a built-in
// stage that takes a response.
type fuzzStage struct {
	name      string
	component string
	seed      string // a body the stage accepts
	uid       string // the identifier the flow's identification stage takes
	h         *harness
	mails     *testMailer
	captcha   *fakeCaptcha
	// prep brings the session's execution to the stage's challenge.
	prep func(t testing.TB, h *harness, req Request)
}

// mustSubmit submits body and wants no error.
func mustSubmit(t testing.TB, h *harness, req Request, body string) {
	t.Helper()
	if _, err := h.e.Submit(context.Background(), "f", req, json.RawMessage(body)); err != nil {
		t.Fatal(err)
	}
}

// wantShown gets the current challenge, which must be component.
func wantShown(t testing.TB, h *harness, req Request, component string) {
	t.Helper()
	for range 5 {
		resp, err := h.e.Get(context.Background(), "f", req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Reload {
			continue
		}
		if resp.Challenge == nil || resp.Challenge.envelope().Component != component {
			t.Fatalf("challenge %#v, want %s", resp.Challenge, component)
		}
		return
	}
	t.Fatalf("reloads without end, want %s", component)
}

// fuzzStages sets up every built-in stage kind that takes a response,
// but prompt (FuzzPromptResponse).
func fuzzStages(t testing.TB) []*fuzzStage {
	login := func(attrs string) string {
		return flowDoc("f", "",
			stageEntry("authentik_stages_identification.identificationstage", "f", "ident", 0, "user_fields: [username], pretend_user_exists: false", ""),
			stageEntry("authentik_stages_password.passwordstage", "f", "pw", 10, "backends: [authentik.core.auth.InbuiltBackend], failed_attempts_before_cancel: 1000000", ""),
			stageEntry("authentik_stages_user_login.userloginstage", "f", "login", 100, attrs, ""))
	}
	ident := func(t testing.TB, h *harness, req Request) {
		wantShown(t, h, req, ComponentIdentification)
		mustSubmit(t, h, req, `{"uid_field":"alice"}`)
	}
	stages := []*fuzzStage{
		{name: "identification", component: ComponentIdentification, seed: `{"uid_field":"alice@example.com","password":"secret"}`, uid: "alice@example.com",
			h:    newHarness(t, identFlow("authentication", ", pretend_user_exists: true, password_stage: !KeyOf pw")),
			prep: func(t testing.TB, h *harness, req Request) { wantShown(t, h, req, ComponentIdentification) }},
		{name: "password", component: ComponentPassword, seed: `{"password":"secret"}`, h: newHarness(t, login("")),
			prep: func(t testing.TB, h *harness, req Request) { ident(t, h, req); wantShown(t, h, req, ComponentPassword) }},
		{name: "user_login", component: ComponentUserLogin, seed: `{"remember_me":true}`, h: newHarness(t, login("remember_me_offset: days=1")),
			prep: func(t testing.TB, h *harness, req Request) {
				ident(t, h, req)
				wantShown(t, h, req, ComponentPassword)
				mustSubmit(t, h, req, `{"password":"secret"}`)
				wantShown(t, h, req, ComponentUserLogin)
			}},
		{name: "consent", component: ComponentConsent, seed: `{"token":"x"}`,
			h:    newConsent(t, "mode: always_require").harness,
			prep: func(t testing.TB, h *harness, req Request) { wantShown(t, h, req, ComponentConsent) }},
		{name: "authenticator_validate", component: ComponentAuthenticatorValidate, seed: `{"selected_stage":"x","code":"123456"}`, uid: "alice@example.com",
			h: newHarness(t, mfaFlow("authentication", "not_configured_action: configure, configuration_stages: [!KeyOf setup1, !KeyOf setup2]",
				unbound(staticModel, "setup1", "friendly_name: Backup codes"), unbound(totpModel, "setup2", "digits: 6")),
				withHandler(staticModel, namedDummy{}), withHandler(totpModel, namedDummy{})),
			prep: func(t testing.TB, h *harness, req Request) {
				wantShown(t, h, req, ComponentIdentification)
				mustSubmit(t, h, req, `{"uid_field":"alice@example.com"}`)
				wantShown(t, h, req, ComponentAuthenticatorValidate)
			}},
	}
	cs := &fuzzStage{name: "captcha", component: ComponentCaptcha, seed: `{"token":"PASSED"}`, captcha: &fakeCaptcha{},
		prep: func(t testing.TB, h *harness, req Request) { wantShown(t, h, req, ComponentCaptcha) }}
	cs.h = newHarness(t, captchaFlow("https://test.goauthentik.io/test", ""), withCaptcha(cs.captcha))
	es := &fuzzStage{name: "email", component: ComponentEmail, seed: `{}`, mails: &testMailer{},
		prep: func(t testing.TB, h *harness, req Request) {
			wantShown(t, h, req, ComponentIdentification)
			mustSubmit(t, h, req, `{"uid_field":"alice"}`)
			wantShown(t, h, req, ComponentEmail)
		}}
	es.h = emailFlowTB(t, es.mails)
	stages = append(stages, cs, es)
	for _, s := range stages {
		if s.uid == "" {
			s.uid = "alice"
		}
		s.h.userWith("alice", "alice@example.com", ptr("secret"), true)
	}
	return stages
}

// emailFlowTB is emailFlow for a testing.TB.
func emailFlowTB(t testing.TB, m *testMailer) *harness {
	return newHarness(t, flowDoc("f", "",
		stageEntry("authentik_stages_identification.identificationstage", "f", "ident", 1, "user_fields: [username], pretend_user_exists: true", ""),
		stageEntry("authentik_stages_email.emailstage", "f", "email", 2, "", ""),
		dummy("f", "after", 10, "")), withMailer(m))
}

// submitStage brings a new session to s's challenge and submits body,
// checking that the answer is clean and the work bounded: at most one
// mail, one captcha verification and a few events.
func submitStage(t testing.TB, s *fuzzStage, n *atomic.Int64, body []byte) {
	req := Request{Session: fmt.Sprint("s", n.Add(1))}
	s.prep(t, s.h, req)
	s.h.settle()
	s.h.mu.Lock()
	events := len(s.h.events)
	s.h.mu.Unlock()
	var mails int
	if s.mails != nil {
		s.mails.mu.Lock()
		mails = len(s.mails.sent)
		s.mails.sent = s.mails.sent[:0]
		s.mails.mu.Unlock()
	}
	var calls int64
	if s.captcha != nil {
		calls = s.captcha.calls.Load()
	}
	resp, err := s.h.e.Submit(context.Background(), "f", req, body)
	checkAnswer(t, body, resp, err)
	s.h.settle()
	s.h.mu.Lock()
	events = len(s.h.events) - events
	s.h.events = s.h.events[:0]
	s.h.mu.Unlock()
	if events > 4 {
		t.Errorf("%s: %q: %d events", s.name, truncate(body), events)
	}
	if s.mails != nil {
		s.mails.mu.Lock()
		sent := len(s.mails.sent)
		s.mails.mu.Unlock()
		if sent > 1 {
			t.Errorf("%s: %q: %d mails (%d before)", s.name, truncate(body), sent, mails)
		}
	}
	if s.captcha != nil && s.captcha.calls.Load()-calls > 1 {
		t.Errorf("%s: %q: %d verifications", s.name, truncate(body), s.captcha.calls.Load()-calls)
	}
}

// FuzzStageResponse submits arbitrary bodies to the challenge of each
// built-in stage kind that takes a response (prompt has
// FuzzPromptResponse): kind picks the stage. The answer is a challenge
// (with errors), a pass or a flow's end, never a panic nor an error but
// for a body that is not JSON. Each input runs a few requests, so that
// minimizing one takes long; bound it:
//
//	go test ./executor -run '^$' -fuzz FuzzStageResponse -fuzztime 60s -fuzzminimizetime 3s
func FuzzStageResponse(f *testing.F) {
	stages := fuzzStages(f)
	var n atomic.Int64
	for i, s := range stages {
		for _, b := range []string{s.seed, `{}`, `[]`, `null`, `"x"`, `{"component":"` + s.component + `"}`, `{"component":"ak-stage-dummy"}`,
			`{"uid_field":{"a":1},"password":[1],"remember_me":"yes","token":1e999,"selected_stage":null,"selected_challenge":{"device_class":1}}`,
			`{"code":"` + strings.Repeat("9", 1000) + `","webauthn":{"id":[]},"duo":-1}`} {
			f.Add(uint8(i), []byte(b))
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		submitStage(t, stages[int(kind)%len(stages)], &n, body)
	})
}

// hostileBodies are bodies no stage expects: thousands of keys, deep
// JSON, huge strings.
func hostileBodies(component string, size int) map[string]string {
	var many strings.Builder
	many.WriteString(`{`)
	for i := 0; many.Len() < size; i++ {
		fmt.Fprintf(&many, `"k%d":%d,`, i, i)
	}
	many.WriteString(`"component":"` + component + `"}`)
	depth := min(size/2, 5000) // encoding/json refuses more than 10,000 levels
	deep := `{"component":"` + component + `","token":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`
	long := strings.Repeat("a", size)
	huge := `{"component":"` + component + `","uid_field":"` + long + `","password":"` + long + `","token":"` + long +
		`","code":"` + long + `","remember_me":"` + long + `","selected_stage":"` + long + `"}`
	return map[string]string{"many keys": many.String(), "deep": deep, "huge": huge}
}

// Hostile bodies get a clean answer from every stage through the Go API
// (bodies of HTTPHandler's default bound: a larger identifier is kept in
// the execution, past the run state's record bound), and over HTTP, where a body over
// HTTPOptions.MaxBody is ak-stage-flow-error and one within it the
// stage's answer.
func TestStageHostileBodies(t *testing.T) {
	var n atomic.Int64
	for _, s := range fuzzStages(t) {
		t.Run(s.name, func(t *testing.T) {
			for name, body := range hostileBodies(s.component, DefaultMaxBody) {
				t.Run("go "+name, func(t *testing.T) { submitStage(t, s, &n, []byte(body)) })
			}
			for _, size := range []int{DefaultMaxBody / 4, 2 << 20} {
				for name, body := range hostileBodies(s.component, size) {
					t.Run(fmt.Sprintf("http %s %d", name, size), func(t *testing.T) {
						c := s.h.newClient()
						s.h.client = c
						r := s.h.get("f", "")
						for i := 0; i < 5 && r.body["component"] != s.component; i++ {
							switch r.body["component"] {
							case ComponentIdentification:
								r = s.h.post("f", "", `{"uid_field":"`+s.uid+`"}`)
							case ComponentPassword:
								r = s.h.post("f", "", `{"password":"secret"}`)
							}
							if r.status == http.StatusFound {
								r = s.h.finish("f", "")
							}
						}
						if r.body["component"] != s.component {
							t.Fatalf("challenge %v, want %s", r.body, s.component)
						}
						r = s.h.post("f", "", body)
						want := s.component
						if len(body) > DefaultMaxBody {
							want = ComponentFlowError
						}
						if r.status == http.StatusFound {
							return // passed
						}
						if r.status != http.StatusOK || r.body["component"] == nil {
							t.Fatalf("%d %v", r.status, r.body)
						}
						if got := r.body["component"]; got != want && got != ComponentRedirect && got != ComponentAccessDenied {
							t.Errorf("component %v, want %s", got, want)
						}
					})
				}
			}
		})
	}
}
