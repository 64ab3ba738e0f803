package flowui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flowui"
	"github.com/authflow/authflow/otp"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
)

// BenchmarkPage renders a flow's page through the UI (the session, the
// executor's Get, the page) and, alternately in the same loop, the
// executor's Get alone for the same execution, and its HTTPHandler's
// GET (the challenge as JSON, the session included), each written to a
// ResponseWriter that drops the body as a connection takes it, and
// reports each and the ratios page-x-get (issue 22 asks at most 2) and
// page-x-api; each of the three comes first in turn:
//
//	go test ./flowui -run '^$' -bench BenchmarkPage -benchtime 10000x -count 4
//
// The -uncached runs render every page with its template
// (Options.CachePages -1), as a page answering a form is.
func BenchmarkPage(b *testing.B) {
	sv := newServer(b, "flows-enrollment-2-stage.yaml")
	uncached, err := flowui.New(sv.e, flowui.Options{CachePages: -1})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, slug string
		ui         *flowui.UI
	}{
		{"login", "default-authentication-flow", sv.ui},
		{"enrollment", "default-enrollment-flow", sv.ui},
		{"login-uncached", "default-authentication-flow", uncached},
		{"enrollment-uncached", "default-enrollment-flow", uncached},
	} {
		slug := c.slug
		b.Run(c.name, func(b *testing.B) {
			path := "/if/flow/" + slug + "/"
			first := httptest.NewRecorder()
			c.ui.ServeHTTP(first, httptest.NewRequest("GET", path, nil))
			cookie := first.Result().Cookies()[0]
			req := executor.Request{Session: cookie.Value}
			ctx := context.Background()
			api := sv.e.HTTPHandler(executor.HTTPOptions{})
			var page, get, apiGet time.Duration
			for n := 0; b.Loop(); n++ {
				r := httptest.NewRequest("GET", path, nil)
				r.AddCookie(cookie)
				w := &discard{h: http.Header{}}
				ar := httptest.NewRequest("GET", executor.ExecutorPath+slug+"/", nil)
				ar.AddCookie(cookie)
				aw := &discard{h: http.Header{}}
				took := inTurn(b, n,
					func() error { c.ui.ServeHTTP(w, r); return nil },
					func() error { _, err := sv.e.Get(ctx, slug, req); return err },
					func() error { api.ServeHTTP(aw, ar); return nil })
				if w.Code != http.StatusOK || aw.Code != http.StatusOK {
					b.Fatalf("%d %d", w.Code, aw.Code)
				}
				page, get, apiGet = page+took[0], get+took[1], apiGet+took[2]
			}
			n := float64(b.N)
			b.ReportMetric(float64(page.Nanoseconds())/n, "ns/page")
			b.ReportMetric(float64(get.Nanoseconds())/n, "ns/get")
			b.ReportMetric(float64(apiGet.Nanoseconds())/n, "ns/api")
			b.ReportMetric(float64(page)/float64(get), "page-x-get")
			b.ReportMetric(float64(page)/float64(apiGet), "page-x-api")
		})
	}
}

// BenchmarkTOTPSetupPage is BenchmarkPage's measure for the TOTP setup
// page (the otpauth link as a QR code, drawn for every request: the page
// shows a secret, kept only with a hole for it): akadmin, logged in through
// initial-setup, has the shipped default-authenticator-totp-setup flow
// under way (its stage's configure endpoint), and each loop requests
// its page through the UI and, first in turn, the executor's Get for the
// same execution (again: the page shown again); first starts the flow
// anew before each, in the page's session and in one of the Go API's
// own, so that each Get is a first showing, which makes the device's
// key; the ratio is page-x-step (issue 22 asks at most 2):
//
//	go test ./flowui -run '^$' -bench BenchmarkTOTPSetupPage -benchtime 4000x -count 3
func BenchmarkTOTPSetupPage(b *testing.B) {
	sv := newServer(b)
	br := sv.browser()
	br.get("/if/flow/initial-setup/")
	if p := br.submit(map[string]string{"email": "root@example.org", "password": "admin Passw0rd", "password_repeat": "admin Passw0rd"}); p.status != http.StatusOK || p.url.Path != "/" {
		b.Fatalf("initial-setup: %d %s", p.status, p.url)
	}
	ctx := context.Background()
	admin, err := sv.s.Directory().FindUser(ctx, directory.Find{Identifier: "akadmin", Fields: []directory.Field{directory.FieldUsername}})
	if err != nil {
		b.Fatal(err)
	}
	const slug = "default-authenticator-totp-setup"
	var setupPK string
	if err := sv.s.View(ctx, func(tx *store.Tx) error {
		st, err := store.Stages.Get(tx, store.By("name", slug))
		setupPK = st.PK.String()
		return err
	}); err != nil {
		b.Fatal(err)
	}
	path := flowui.FlowPath + slug + "/"
	if p := br.get(executor.ConfigurePath + setupPK + "/"); p.url.Path != path || !strings.Contains(p.body, `<img class="qr" src="data:image/png`) {
		b.Fatalf("the TOTP page: %s %.300s", p.url, p.body)
	}
	cookie := &http.Cookie{Name: executor.DefaultCookie, Value: br.session()}
	req := executor.Request{Session: cookie.Value, User: plan.User{PK: admin.PK, Authenticated: true}, Username: admin.Username}
	for _, first := range []bool{false, true} {
		name := "again"
		if first {
			name = "first"
		}
		b.Run(name, func(b *testing.B) {
			var page, step time.Duration
			for n := 0; b.Loop(); n++ {
				r := httptest.NewRequest("GET", path, nil)
				r.AddCookie(cookie)
				w := &discard{h: http.Header{}}
				var resp executor.Response
				// A first showing: the flow started anew in the page's
				// session and in the Go API's own, so that each Get
				// makes the device's key.
				goReq := req
				if first {
					goReq.Session = "go-" + req.Session
					for _, q := range []executor.Request{req, goReq} {
						if err := sv.e.Execute(ctx, slug, q); err != nil {
							b.Fatal(err)
						}
					}
				}
				took := inTurn(b, n,
					func() error { sv.ui.ServeHTTP(w, r); return nil },
					func() (err error) { resp, err = sv.e.Get(ctx, slug, goReq); return err })
				if _, ok := resp.Challenge.(*executor.AuthenticatorTOTPChallenge); w.Code != http.StatusOK || !ok {
					b.Fatalf("%d %T", w.Code, resp.Challenge)
				}
				page, step = page+took[0], step+took[1]
			}
			n := float64(b.N)
			b.ReportMetric(float64(page.Nanoseconds())/n, "ns/page")
			b.ReportMetric(float64(step.Nanoseconds())/n, "ns/step")
			b.ReportMetric(float64(page)/float64(step), "page-x-step")
		})
	}
}

// inTurn runs each of runs once and returns the time each took, the
// nth time starting with runs[n%len(runs)], so that none gains by the
// caches another warms.
func inTurn(b *testing.B, n int, runs ...func() error) []time.Duration {
	took := make([]time.Duration, len(runs))
	for k := range runs {
		i := (n + k) % len(runs)
		t0 := time.Now()
		if err := runs[i](); err != nil {
			b.Fatal(err)
		}
		took[i] = time.Since(t0)
	}
	return took
}

// discard is a ResponseWriter that keeps the status and drops the body,
// as a server's connection takes it: the benchmark measures the
// handlers, not a recorder's buffer.
type discard struct {
	h    http.Header
	Code int
}

func (d *discard) Header() http.Header { return d.h }

func (d *discard) Write(b []byte) (int, error) {
	if d.Code == 0 {
		d.Code = http.StatusOK
	}
	return len(b), nil
}

func (d *discard) WriteHeader(code int) { d.Code = code }

// BenchmarkRender renders each sample challenge's page by its template
// (no cache): the cost of html/template for each component.
//
//	go test ./flowui -run '^$' -bench BenchmarkRender
func BenchmarkRender(b *testing.B) {
	u, err := newTestUI(b, flowui.Options{CachePages: -1})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", flowui.FlowPath+"sample/", nil)
	for _, ch := range flowui.Samples() {
		b.Run(flowui.EnvelopeOf(ch).Component, func(b *testing.B) {
			for b.Loop() {
				u.Render(&discard{h: http.Header{}}, r, "nonce", ch, "csrf", nil)
			}
		})
	}
}

// BenchmarkFlowPages runs flows through their pages and, alternately
// in the same loop, through the executor's Go API in a session of its
// own at the same point, step by step: each page's request (the UI's
// ServeHTTP, the executor's step behind it included) beside that step
// alone. login is the shipped default-authentication-flow (the login
// page, the password page with the pending user, a wrong password's
// page, the right password, the reloads to the flow's end);
// enrollment the two-stage enrollment example (its first page, an
// answer whose passwords differ, the right one, the second page, its
// answer: the user written and logged in); login-app the login as an
// application sends its users to it, with a query of its own each time
// (an OAuth state). The logged-in user's flows: settings is the shipped
// default-user-settings-flow (its page, with the user's values; an
// answer refused, an email that is no address; the answer saved; the
// reload that writes the user, to the flow's end), password-change the
// shipped default-password-change (its page; passwords that differ;
// the same password set again). mfa is the shipped login of a user
// with a TOTP device and static codes (identification, password, the
// authenticator_validate page, a wrong code's page, the right code, the
// reloads to the end), a user of its own for the pages and for the Go
// API. The metrics are each request's ratio
// (NAME-x-step) and the whole flow's (all-x-step). Each flow runs
// again as NAME-uncached through a UI that keeps no page, so that every
// page is rendered by its template (issue 22's bound holds for those
// too):
//
//	go test ./flowui -run '^$' -bench BenchmarkFlowPages -benchtime 2000x
//
// The store's hasher is pbkdf2 of 1,000 iterations (newServer), so a
// POST that checks or sets a password is mostly that, as in a real
// flow.
func BenchmarkFlowPages(b *testing.B) {
	// The clock moves a TOTP step before each MFA login (a code is
	// accepted once per step and device).
	var clock atomic.Int64
	clock.Store(time.Now().Truncate(time.Second).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	sv := newServerWith(b, func(o *executor.Options, _ string) { o.Now = now }, "flows-enrollment-2-stage.yaml")
	ctx := context.Background()
	const secret = "correct horse battery staple"
	u := sv.user("bench", "Bench", "bench@example.com", secret)
	// The MFA login's users, one for the pages and one for the Go API,
	// each with a TOTP device of the same key and static codes (the
	// page offers both).
	totp := otp.TOTP{Key: []byte("bench-totp-key-of-twenty")}
	for _, name := range []string{"mfa-page", "mfa-go"} {
		m := sv.user(name, "MFA", name+"@example.com", secret)
		for _, d := range []directory.Device{
			{Class: directory.DeviceTOTP, TOTP: &directory.TOTPDevice{Key: totp.Key, Digits: 6, Step: 30, Tolerance: 1, LastT: -1}},
			{Class: directory.DeviceStatic, Static: &directory.StaticDevice{TokenHashes: []string{directory.HashStaticToken("unused-code")}}},
		} {
			d.User, d.Name, d.Confirmed = m.PK, "bench", true
			if _, err := sv.s.Directory().CreateDevice(ctx, d); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The password change's zxcvbn and Have I Been Pwned checks need an
	// evaluator from the host: its static rules alone.
	if err := sv.s.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Policies.Patch(tx, store.By("name", "default-password-change-password-policy"), []byte(`{"check_zxcvbn": false, "check_have_i_been_pwned": false}`), nil)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	// A step is a GET (no answer) or the answer of a component; the
	// value "$user" is a name of the run's own, "$mfa" the MFA user
	// (mfa-page or mfa-go), "$code" the TOTP code of the clock's step; a
	// key "type:…" is the form's alone (a prompt page's field types).
	type step struct {
		name      string
		component string
		answer    map[string]string
		status    int // the page's
	}
	const prompt = executor.ComponentPrompt
	runs := 0
	loginSteps := []step{
		{"ident", "", nil, http.StatusOK},
		{"uid", executor.ComponentIdentification, map[string]string{"uid_field": "bench"}, http.StatusSeeOther},
		{"password", "", nil, http.StatusOK},
		{"wrong", executor.ComponentPassword, map[string]string{"password": "wrong"}, http.StatusOK},
		{"right", executor.ComponentPassword, map[string]string{"password": secret}, http.StatusSeeOther},
	}
	// login logs bench in through the pages and returns the session's
	// cookie.
	login := func(b *testing.B, ui *flowui.UI) *http.Cookie {
		var cookie *http.Cookie
		path := flowui.FlowPath + "default-authentication-flow/"
		for _, s := range append(loginSteps, step{"end", "", nil, http.StatusFound}) {
			r := httptest.NewRequest("GET", path, nil)
			if s.component != "" && s.name != "wrong" {
				form := url.Values{"component": {s.component}, flowui.CSRFField: {ui.CSRF(cookie.Value)}}
				for k, v := range s.answer {
					form.Set(k, v)
				}
				r = httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.Header.Set("Origin", "http://example.com")
			} else if s.component != "" {
				continue
			}
			if cookie != nil {
				r.AddCookie(cookie)
			}
			w := httptest.NewRecorder()
			ui.ServeHTTP(w, r)
			if w.Code != s.status {
				b.Fatalf("login: %s: %d %s", s.name, w.Code, w.Body)
			}
			if cs := w.Result().Cookies(); len(cs) > 0 {
				cookie = cs[0]
			}
		}
		return cookie
	}
	// Each flow runs through the UI's cached pages and, as -uncached,
	// through a UI that renders every page by its template
	// (Options.CachePages -1), as a page shown once is.
	uncached, err := flowui.New(sv.e, flowui.Options{CachePages: -1})
	if err != nil {
		b.Fatal(err)
	}
	variants := []struct {
		suffix string
		ui     *flowui.UI
	}{{"", sv.ui}, {"-uncached", uncached}}
	const settingsForm = "type:username=username&type:name=text&type:email=email&type:attributes.settings.locale=ak-locale"
	settings := func(email string) map[string]string {
		m := map[string]string{"username": "bench", "name": "Bench", "email": email, "attributes.settings.locale": "de"}
		for _, kv := range strings.Split(settingsForm, "&") {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		return m
	}
	for _, f := range []struct {
		name, slug string
		steps      []step
		app        bool // a login from an application: a query of its own each time
		loggedIn   bool // the flow of bench logged in
		mfa        bool // the MFA login: the clock moves a TOTP step first
	}{
		{"login", "default-authentication-flow", loginSteps, false, false, false},
		{"login-app", "default-authentication-flow", loginSteps, true, false, false},
		{"enrollment", "default-enrollment-flow", []step{
			{"first", "", nil, http.StatusOK},
			{"differ", prompt, map[string]string{"username": "$user", "password": secret, "password_repeat": "other", "type:username": "username", "type:password": "password", "type:password_repeat": "password"}, http.StatusOK},
			{"answer", prompt, map[string]string{"username": "$user", "password": secret, "password_repeat": secret, "type:username": "username", "type:password": "password", "type:password_repeat": "password"}, http.StatusSeeOther},
			{"second", "", nil, http.StatusOK},
			{"written", prompt, map[string]string{"name": "Bench", "email": "bench@example.com", "type:name": "text", "type:email": "email"}, http.StatusSeeOther},
		}, false, false, false},
		{"settings", "default-user-settings-flow", []step{
			{"settings", "", nil, http.StatusOK},
			{"refused", prompt, settings("not-an-address"), http.StatusOK},
			{"saved", prompt, settings("bench@example.com"), http.StatusSeeOther},
		}, false, true, false},
		{"password-change", "default-password-change", []step{
			{"change", "", nil, http.StatusOK},
			{"differ", prompt, map[string]string{"password": secret, "password_repeat": "other", "type:password": "password", "type:password_repeat": "password"}, http.StatusOK},
			{"changed", prompt, map[string]string{"password": secret, "password_repeat": secret, "type:password": "password", "type:password_repeat": "password"}, http.StatusSeeOther},
		}, false, true, false},
		{"mfa", "default-authentication-flow", []step{
			{"ident", "", nil, http.StatusOK},
			{"uid", executor.ComponentIdentification, map[string]string{"uid_field": "$mfa"}, http.StatusSeeOther},
			{"password", "", nil, http.StatusOK},
			{"right", executor.ComponentPassword, map[string]string{"password": secret}, http.StatusSeeOther},
			{"code", "", nil, http.StatusOK},
			{"wrong", executor.ComponentAuthenticatorValidate, map[string]string{"code": "000000"}, http.StatusOK},
			{"valid", executor.ComponentAuthenticatorValidate, map[string]string{"code": "$code"}, http.StatusSeeOther},
		}, false, false, true},
	} {
		for _, v := range variants {
			ui := v.ui
			b.Run(f.name+v.suffix, func(b *testing.B) {
				path := flowui.FlowPath + f.slug + "/"
				pageT := make([]time.Duration, len(f.steps)+1)
				stepT := make([]time.Duration, len(f.steps)+1)
				// measure times request i's page and step, in run n: the
				// page first in even runs, the step first in odd ones, so
				// that neither gains by the caches the other warms.
				measure := func(i, n int, page func(), step func() error) {
					took := inTurn(b, n, func() error { page(); return nil }, step)
					pageT[i], stepT[i] = pageT[i]+took[0], stepT[i]+took[1]
				}
				var loggedIn *http.Cookie
				if f.loggedIn {
					loggedIn = login(b, ui)
				}
				for b.Loop() {
					runs++ // across the function's runs: each enrolls a new user
					n := runs
					cookie := loggedIn
					if f.mfa {
						clock.Add(int64(30 * time.Second))
					}
					req := executor.Request{Session: "bench-" + f.name + strconv.Itoa(n)}
					if f.loggedIn {
						// Started as authentik's user interface starts them
						// (Execute: the user is the pending user, whose own
						// username the settings' username field takes), in
						// both sessions.
						req.User, req.Username = plan.User{PK: u.PK, Authenticated: true}, u.Username
						ui := req
						ui.Session = cookie.Value
						if err := sv.e.Execute(ctx, f.slug, ui); err != nil {
							b.Fatal(err)
						}
						if err := sv.e.Execute(ctx, f.slug, req); err != nil {
							b.Fatal(err)
						}
					}
					uri := path
					if f.app {
						req.Query = "next=" + url.QueryEscape("/application/o/authorize/?client_id=app&state="+strconv.Itoa(n))
						uri += "?" + req.Query
					}
					for i, s := range f.steps {
						var r *http.Request
						var body []byte
						if s.component == "" {
							r = httptest.NewRequest("GET", uri, nil)
						} else {
							form := url.Values{"component": {s.component}, flowui.CSRFField: {ui.CSRF(cookie.Value)}}
							answer := map[string]string{"component": s.component}
							for k, v := range s.answer {
								if strings.HasPrefix(k, "type:") {
									form.Set(k, v)
									continue
								}
								switch v {
								case "$user":
									form.Set(k, "page"+strconv.Itoa(n))
									v = "go" + strconv.Itoa(n)
								case "$mfa":
									form.Set(k, "mfa-page")
									v = "mfa-go"
								case "$code":
									v = totp.Code(now())
									form.Set(k, v)
								default:
									form.Set(k, v)
								}
								answer[k] = v
							}
							body, _ = json.Marshal(answer)
							r = httptest.NewRequest("POST", uri, strings.NewReader(form.Encode()))
							r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
							r.Header.Set("Origin", "http://example.com")
						}
						if cookie != nil {
							r.AddCookie(cookie)
						}
						w := &discard{h: http.Header{}}
						measure(i, n, func() { ui.ServeHTTP(w, r) }, func() (err error) {
							if body == nil {
								_, err = sv.e.Get(ctx, f.slug, req)
							} else {
								_, err = sv.e.Submit(ctx, f.slug, req, body)
							}
							return err
						})
						if w.Code != s.status {
							b.Fatalf("%s: %d", s.name, w.Code)
						}
						if cookie == nil {
							cookie = (&http.Response{Header: w.h}).Cookies()[0]
						}
					}
					// The reloads to the flow's end, a redirect.
					for range 5 {
						r := httptest.NewRequest("GET", uri, nil)
						r.AddCookie(cookie)
						w := &discard{h: http.Header{}}
						var resp executor.Response
						measure(len(f.steps), n, func() { ui.ServeHTTP(w, r) }, func() (err error) {
							resp, err = sv.e.Get(ctx, f.slug, req)
							return err
						})
						_, end := resp.Challenge.(*executor.Redirect)
						if w.Code == http.StatusFound && (resp.Login != nil || end && !resp.Reload) {
							break
						}
					}
				}
				var page, stp time.Duration
				for i := range pageT {
					name := "end"
					if i < len(f.steps) {
						name = f.steps[i].name
					}
					b.ReportMetric(float64(pageT[i])/float64(stepT[i]), name+"-x-step")
					page, stp = page+pageT[i], stp+stepT[i]
				}
				b.ReportMetric(float64(page)/float64(stp), "all-x-step")
			})
		}
	}
}

// BenchmarkEveryPage walks every shipped flow as TestWalkEveryFlow does
// (initial setup, settings, password change, static codes and TOTP set
// up, a login with a code, enrollment, recovery through the emailed
// link with its consent, the account deleted) and, at each flow page it
// lands on, shows that page again b.N times three ways in turn: through
// the UI's page cache, through a UI that keeps no page (each rendered
// by its template), and the executor's step behind it alone (its Get
// for the same session and query). A GET of a challenge shown does not
// move its flow, so the walk goes on from the same point. The metrics are
// each page's ratios by flow and component (SLUG/COMPONENT-x-step for
// the cached page, -uncached-x-step for the template's), and over all
// pages (all-x-step, all-uncached-x-step):
//
//	go test ./flowui -run '^$' -bench BenchmarkEveryPage -benchtime 200x
func BenchmarkEveryPage(b *testing.B) {
	type totals struct{ cached, uncached, step time.Duration }
	var all totals
	byPage := map[string]*totals{}
	var names []string
	ctx := context.Background()
	var uncached *flowui.UI // the walk's server's, made at its first page
	walkEveryFlow(b, func(br *browser, p *page) {
		sv := br.sv
		slug, ok := strings.CutPrefix(p.url.Path, flowui.FlowPath)
		slug, _, _ = strings.Cut(slug, "/")
		c := p.component()
		if !ok || p.status != http.StatusOK || c == "" || c == "af-continue" {
			return // not a challenge's page: the landing page, a confirmation
		}
		if uncached == nil {
			var err error
			if uncached, err = flowui.New(sv.e, flowui.Options{CachePages: -1}); err != nil {
				b.Fatal(err)
			}
		}
		newReq := func() *http.Request {
			r := httptest.NewRequest("GET", p.url.RequestURI(), nil)
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			u, _ := url.Parse(sv.srv.URL)
			for _, c := range br.c.Jar.Cookies(u) {
				r.AddCookie(c)
			}
			return r
		}
		req, err := sv.e.HTTPSessions(executor.HTTPOptions{}).Request(httptest.NewRecorder(), newReq())
		if err != nil {
			b.Fatal(err)
		}
		req.Query = p.url.RawQuery
		key := slug + "/" + strings.TrimPrefix(c, "ak-stage-")
		t := byPage[key]
		if t == nil {
			t = &totals{}
			byPage[key] = t
			names = append(names, key)
		}
		showPage(b, sv.ui, newReq(), c)
		showPage(b, uncached, newReq(), c)
		for n := range b.N {
			cr, ur := newReq(), newReq()
			took := inTurn(b, n,
				func() error { showPage(b, sv.ui, cr, ""); return nil },
				func() error { showPage(b, uncached, ur, ""); return nil },
				func() error {
					resp, err := sv.e.Get(ctx, slug, req)
					if err == nil && (resp.Challenge == nil || flowui.EnvelopeOf(resp.Challenge).Component != c) {
						err = fmt.Errorf("%s: %+v", key, resp)
					}
					return err
				})
			t.cached, t.uncached, t.step = t.cached+took[0], t.uncached+took[1], t.step+took[2]
			all.cached, all.uncached, all.step = all.cached+took[0], all.uncached+took[1], all.step+took[2]
		}
		// The walk goes on from the page as shown last: a consent's
		// token is new at each showing, and the one before is refused.
		on := br.onPage
		br.onPage = nil
		br.get(p.url.RequestURI())
		br.onPage = on
	})
	for _, k := range names {
		t := byPage[k]
		b.ReportMetric(float64(t.cached)/float64(t.step), k+"-x-step")
		b.ReportMetric(float64(t.uncached)/float64(t.step), k+"-uncached-x-step")
	}
	b.ReportMetric(float64(all.cached)/float64(all.step), "all-x-step")
	b.ReportMetric(float64(all.uncached)/float64(all.step), "all-uncached-x-step")
}

// showPage serves r through ui, which must answer 200 with component c's
// page; with c "", its body is dropped, as a connection takes it.
func showPage(b *testing.B, ui *flowui.UI, r *http.Request, c string) {
	if c == "" {
		w := &discard{h: http.Header{}}
		if ui.ServeHTTP(w, r); w.Code != http.StatusOK {
			b.Fatalf("%s: %d", r.URL, w.Code)
		}
		return
	}
	w := httptest.NewRecorder()
	ui.ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="component" value="`+c+`"`) {
		b.Fatalf("%s: %d %s", r.URL, w.Code, w.Body)
	}
}
