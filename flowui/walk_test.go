package flowui_test

import (
	"context"
	"encoding/base32"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/flowui"
	"github.com/authflow/authflow/otp"
	"github.com/authflow/authflow/password/strength"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/store"
)

// serveLike gives the executor the policy evaluators of authflow serve
// (internal/cli's planOptions): the password policy's zxcvbn check
// among them, which the shipped password change flow runs.
func serveLike(o *executor.Options, _ string) {
	evs := plan.Builtin(nil)
	evs[policy.ModelExpression] = expression.Evaluator(nil)
	evs[policy.ModelPassword] = strength.Evaluator(strength.Options{})
	rep, _ := reputation.NewMem(reputation.Options{})
	evs[policy.ModelReputation] = reputation.Evaluator(rep)
	o.Plan.Evaluators = evs
}

// loginAs logs b in as username through the default authentication
// flow's pages.
func loginAs(t testing.TB, b *browser, username, pw string) {
	t.Helper()
	b.get("/").wantComponent(t, "ak-stage-identification")
	b.submit(map[string]string{"uid_field": username}).wantComponent(t, "ak-stage-password")
	b.submit(map[string]string{"password": pw}).want(t, 200, "/")
}

// setLocale sets a user's attributes.settings.locale, as authentik's
// API or an earlier list of languages may have.
func (sv *server) setLocale(username, l string) {
	sv.t.Helper()
	err := sv.s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := store.Users.Patch(tx, store.By("username", username), []byte(`{"attributes": {"settings": {"locale": "`+l+`"}}}`), nil)
		return err
	})
	if err != nil {
		sv.t.Fatal(err)
	}
}

// locale is a user's attributes.settings.locale.
func (sv *server) locale(username string) any {
	sv.t.Helper()
	u, err := sv.s.Directory().FindUser(context.Background(), directory.Find{Identifier: username, Fields: []directory.Field{directory.FieldUsername}})
	if err != nil {
		sv.t.Fatal(err)
	}
	s, _ := u.Attributes["settings"].(map[string]any)
	return s["locale"]
}

// The settings page's language choices are authentik 2025.6's, named
// as its select names them ("DE - German"; Taiwanese Mandarin, zh_TW,
// among them); a user's locale that is none of them stays selected, so
// that saving another field keeps it rather than blanking it.
func TestSettingsLocale(t *testing.T) {
	sv := newServer(t)
	sv.user("tw", "Tai", "tw@example.org", "tw Passw0rd")
	sv.user("br", "Bia", "br@example.org", "br Passw0rd")
	sv.setLocale("tw", "zh_TW")
	sv.setLocale("br", "pt-BR")

	b := sv.browser()
	loginAs(t, b, "tw", "tw Passw0rd")
	p := b.get(flowui.StartPath + "default-user-settings-flow/")
	sel := p.input("attributes.settings.locale")
	options := map[string]string{}
	selected := ""
	for _, o := range all(sel, "option") {
		options[attrOf(o, "value")] = text(o)
		if _, ok := attr(o, "selected"); ok {
			selected = attrOf(o, "value")
		}
	}
	if options["de"] != "DE - German" || options["zh_TW"] != "ZH_TW - Taiwanese Mandarin" || options["zh-Hans"] != "ZH-HANS - Chinese (simplified)" || len(options) != 14 {
		t.Errorf("the choices: %v", options)
	}
	if selected != "zh_TW" {
		t.Errorf("selected %q, want zh_TW", selected)
	}

	b = sv.browser()
	loginAs(t, b, "br", "br Passw0rd")
	b.get(flowui.StartPath + "default-user-settings-flow/")
	b.submit(map[string]string{"name": "Bia B."}).want(t, 200, "/")
	if l := sv.locale("br"); l != "pt-BR" {
		t.Errorf("saving the name changed the locale to %q", l)
	}
	if !strings.Contains(b.get(flowui.StartPath+"default-user-settings-flow/").body, `<option value="pt-BR" selected>pt-BR</option>`) {
		t.Errorf("the kept locale is not shown: %s", b.last.body)
	}
}

// Saving the settings ends on the landing page, which says so once, as
// authentik's user interface does; a refused answer, or the landing
// page loaded again, says nothing of it.
func TestSettingsSavedNotice(t *testing.T) {
	sv := newServerWith(t, serveLike)
	b := sv.browser()
	setup(t, b, "admin Passw0rd")
	b.get(flowui.StartPath + "default-user-settings-flow/")
	p := b.submit(map[string]string{"email": "other@example.org"})
	if !strings.Contains(text(p.doc), "Not allowed to change email address.") || strings.Contains(p.body, flowui.MsgSettingsSaved) {
		t.Fatalf("the email change refused: %s", p.body)
	}
	if attrOf(p.input("email"), "value") != "other@example.org" {
		t.Errorf("the email sent is not shown again: %s", p.body)
	}
	p = b.submit(map[string]string{"email": "root@example.org", "name": "Ada"})
	p.want(t, 200, "/")
	var notice string
	for _, e := range all(p.doc, "p") {
		if attrOf(e, "role") == "status" {
			notice = text(e)
		}
	}
	if notice != flowui.MsgSettingsSaved {
		t.Fatalf("the landing page after saving: %q: %s", notice, p.body)
	}
	if p = b.get("/"); strings.Contains(p.body, flowui.MsgSettingsSaved) {
		t.Errorf("the notice is shown again: %s", p.body)
	}
	// Another flow's end says nothing.
	b.get(flowui.StartPath + "default-password-change/")
	if p = b.submit(map[string]string{"password": "a new Passw0rd 1", "password_repeat": "a new Passw0rd 1"}); p.url.Path != "/" || strings.Contains(p.body, flowui.MsgSettingsSaved) {
		t.Errorf("after the password change: %s %s", p.url, p.body)
	}
}

// The settings and password change pages, which the landing page
// opens, lead back to it without saving: a person who opened them to
// look is not left with the browser's back button alone (the only other
// link of a flow page, "Not you?", logs out). Other flows' prompt
// pages have no such link.
func TestSettingsBackLink(t *testing.T) {
	sv := newServerWith(t, serveLike, "flows-enrollment-2-stage.yaml")
	b := sv.browser()
	setup(t, b, "admin Passw0rd")
	for _, slug := range []string{"default-user-settings-flow", "default-password-change"} {
		p := b.get(flowui.StartPath + slug + "/")
		p.wantComponent(t, "ak-stage-prompt")
		if links(p)["Back to your account"] != "/" {
			t.Fatalf("%s: no way back: %s", slug, p.body)
		}
		// After a refused answer too.
		set := map[string]string{"email": "other@example.org"}
		if slug == "default-password-change" {
			set = map[string]string{"password": "short", "password_repeat": "short"}
		}
		if p = b.submit(set); !strings.Contains(p.body, `role="alert"`) || links(p)["Back to your account"] != "/" {
			t.Fatalf("%s, refused: %s", slug, p.body)
		}
		p = b.get(links(p)["Back to your account"])
		p.want(t, 200, "/")
		if !strings.Contains(p.body, "You are logged in as <strong>akadmin</strong>") || strings.Contains(p.body, flowui.MsgSettingsSaved) {
			t.Fatalf("%s: back at %s", slug, p.body)
		}
	}
	u, err := sv.s.Directory().FindUser(context.Background(), directory.Find{Identifier: "akadmin", Fields: []directory.Field{directory.FieldUsername}})
	if err != nil || u.Email != "root@example.org" {
		t.Fatalf("changed: %+v %v", u, err)
	}
	p := sv.browser().get("/if/flow/default-enrollment-flow/")
	if _, ok := links(p)["Back to your account"]; ok {
		t.Errorf("the enrollment page links back: %s", p.body)
	}
}

// links are a page's links by their text.
func links(p *page) map[string]string {
	m := map[string]string{}
	for _, a := range all(p.doc, "a") {
		m[strings.TrimSpace(text(a))] = attrOf(a, "href")
	}
	return m
}

// The settings form sent again after it saved (the browser's back
// button, a second click) saves again: the flow, ended, is started for
// the visitor as the landing page's link starts it, rather than shown
// anew, without the pending user, to answer "Username is already
// taken." at the next try.
func TestSettingsSentAgain(t *testing.T) {
	sv := newServer(t)
	b := sv.browser()
	setup(t, b, "admin Passw0rd")
	form := b.get(flowui.StartPath + "default-user-settings-flow/")
	b.submit(map[string]string{"name": "First"}).want(t, 200, "/")
	b.last = form // back
	b.submit(map[string]string{"name": "Second"}).want(t, 200, "/")
	u, err := sv.s.Directory().FindUser(context.Background(), directory.Find{Identifier: "akadmin", Fields: []directory.Field{directory.FieldUsername}})
	if err != nil || u.Name != "Second" {
		t.Fatalf("the form sent again: %+v %v: %s", u, err, b.last.body)
	}
	if !strings.Contains(b.last.body, flowui.MsgSettingsSaved) {
		t.Errorf("no notice: %s", b.last.body)
	}
}

// With the brand's unenrollment flow, the landing page links to it as
// authentik's user settings do ("Delete account"), and the account is
// deleted there (authentik's example flow: a user_delete stage alone),
// the browser back at the login page; without one, no link.
func TestLandingDeleteAccount(t *testing.T) {
	sv := newServer(t, "flows-unenrollment.yaml")
	sv.user("gone", "Gone", "gone@example.org", "gone Passw0rd")
	b := sv.browser()
	loginAs(t, b, "gone", "gone Passw0rd")
	if _, ok := links(b.last)["Delete account"]; ok {
		t.Fatalf("a link without the brand's flow: %s", b.last.body)
	}
	sv = newServerWith(t, func(o *executor.Options, _ string) { o.Brand.FlowUnenrollment = "default-unenrollment-flow" }, "flows-unenrollment.yaml")
	sv.user("gone", "Gone", "gone@example.org", "gone Passw0rd")
	b = sv.browser()
	loginAs(t, b, "gone", "gone Passw0rd")
	link := links(b.last)["Delete account"]
	if link != flowui.FlowPath+"default-unenrollment-flow/" {
		t.Fatalf("Delete account: %q: %s", link, b.last.body)
	}
	// The deletion asks first (a POST, which no other site can send).
	b.get(link).wantComponent(t, "af-continue")
	if _, err := sv.s.Directory().FindUser(context.Background(), directory.Find{Identifier: "gone", Fields: []directory.Field{directory.FieldUsername}}); err != nil {
		t.Fatal("the account went before the confirmation")
	}
	b.submit(nil).wantComponent(t, "ak-stage-identification")
	if _, err := sv.s.Directory().FindUser(context.Background(), directory.Find{Identifier: "gone", Fields: []directory.Field{directory.FieldUsername}}); err == nil {
		t.Fatal("the account is still there")
	}
}

// A person's whole walk through serve's pages, each flow to its end and
// back to the landing page, with a browser's form checks (page.form):
// initial setup; the settings saved; a password change, weak then
// strong; static codes and TOTP set up from the landing page's links;
// a logout and a login that asks for a code, wrong then a static one;
// enrollment through the login page's link, as a new user who logs in
// again; a recovery through the emailed link; the account deleted.
func TestWalkEveryFlow(t *testing.T) { walkEveryFlow(t, nil) }

// walkEveryFlow is TestWalkEveryFlow's walk, on a server of its own;
// onPage, when set, is called with its browser and each page the
// browser lands on.
func walkEveryFlow(t testing.TB, onPage func(*browser, *page)) {
	sv := newServerWith(t, func(o *executor.Options, h string) {
		serveLike(o, h)
		o.Brand.FlowUnenrollment = "default-unenrollment-flow"
	}, "flows-enrollment-2-stage.yaml", "flows-recovery-email-verification.yaml", "flows-unenrollment.yaml")
	sv.load(`version: 1
entries:
  - model: authentik_stages_identification.identificationstage
    identifiers: {name: default-authentication-identification}
    attrs:
      enrollment_flow: !Find [authentik_flows.flow, [slug, default-enrollment-flow]]
      recovery_flow: !Find [authentik_flows.flow, [slug, default-recovery-flow]]
`)
	b := sv.browser()
	if onPage != nil {
		b.onPage = func(p *page) { onPage(b, p) }
	}
	setup(t, b, "admin Passw0rd")
	follow := func(text string) *page {
		t.Helper()
		href, ok := links(b.last)[text]
		if !ok {
			t.Fatalf("%s: no link %q: %s", b.last.url, text, b.last.body)
		}
		return b.get(href)
	}
	says := func(p *page, want string) {
		t.Helper()
		if !strings.Contains(text(p.doc), want) {
			t.Fatalf("%s does not say %q: %s", p.url, want, p.body)
		}
	}

	follow("Your settings").wantComponent(t, "ak-stage-prompt")
	says(b.submit(map[string]string{"name": "Ada Admin", "attributes.settings.locale": "fr"}), flowui.MsgSettingsSaved)
	follow("Change your password").wantComponent(t, "ak-stage-prompt")
	says(b.submit(map[string]string{"password": "password", "password_repeat": "password"}), "Password is too weak.")
	b.submit(map[string]string{"password": "a new Passw0rd 1", "password_repeat": "a new Passw0rd 1"}).want(t, 200, "/")

	p := follow("Set up: Static tokens")
	p.wantComponent(t, "ak-stage-authenticator-static")
	var codes []string
	for _, li := range all(p.doc, "li") {
		codes = append(codes, text(li))
	}
	b.submit(nil).want(t, 200, "/")
	p = follow("Set up: TOTP Device")
	p.wantComponent(t, "ak-stage-authenticator-totp")
	says(b.submit(map[string]string{"code": "000000"}), "Code does not match")
	var secret string
	for _, el := range all(p.doc, "p") {
		if u, err := url.Parse(text(el)); err == nil && u.Scheme == "otpauth" {
			secret = u.Query().Get("secret")
		}
	}
	key, _ := base32.StdEncoding.DecodeString(secret)
	b.submit(map[string]string{"code": otp.TOTP{Key: key}.Code(time.Now())}).want(t, 200, "/")
	says(b.last, "Your authenticators")

	follow("Log out").wantComponent(t, "ak-stage-identification")
	b.submit(map[string]string{"uid_field": "akadmin"})
	says(b.submit(map[string]string{"password": "admin Passw0rd"}), "Invalid password")
	b.submit(map[string]string{"password": "a new Passw0rd 1"}).wantComponent(t, "ak-stage-authenticator-validate")
	says(b.submit(map[string]string{"code": "nope"}), executor.MsgInvalidToken)
	b.submit(map[string]string{"code": codes[0]}).want(t, 200, "/")
	follow("Log out")

	follow("Sign up.").wantComponent(t, "ak-stage-prompt")
	b.submit(map[string]string{"username": "newt", "password": "newt Passw0rd", "password_repeat": "newt Passw0rd"})
	b.submit(map[string]string{"name": "Newt", "email": "newt@example.org"}).want(t, 200, "/")
	says(b.last, "You are logged in as newt.")
	follow("Log out")
	loginAs(t, b, "newt", "newt Passw0rd")
	follow("Log out")

	follow("Forgot username or password?").wantComponent(t, "ak-stage-identification")
	b.submit(map[string]string{"uid_field": "newt@example.org"}).wantComponent(t, "ak-stage-email")
	link := regexp.MustCompile(`/if/flow/[^\s"<>]+`).FindString(sv.firstMail(t))
	b.get(link).wantComponent(t, "ak-stage-consent")
	b.submit(nil).wantComponent(t, "ak-stage-prompt")
	b.submit(map[string]string{"password": "newt recovered 1", "password_repeat": "newt recovered 1"}).want(t, 200, "/")
	says(b.last, "You are logged in as newt.")

	follow("Delete account").wantComponent(t, "af-continue")
	b.submit(nil).wantComponent(t, "ak-stage-identification")
	b.submit(map[string]string{"uid_field": "newt"})
	says(b.submit(map[string]string{"password": "newt recovered 1"}), "Invalid password")
}

// An authenticator's setup started from the landing page leads back to
// it ("Back to your account"), where leaving adds no device; the same
// setup inside a login (the validation stage's configure action), of a
// visitor not yet logged in, has no such link.
func TestSetupBackLink(t *testing.T) {
	sv := newServer(t)
	sv.load(`version: 1
entries:
  - model: authentik_stages_authenticator_validate.authenticatorvalidatestage
    identifiers: {name: default-authentication-mfa-validation}
    attrs:
      not_configured_action: configure
      configuration_stages:
        - !Find [authentik_stages_authenticator_totp.authenticatortotpstage, [name, default-authenticator-totp-setup]]
`)
	b := sv.browser()
	setup(t, b, "admin Passw0rd")
	for _, name := range []string{"Set up: TOTP Device", "Set up: Static tokens"} {
		p := b.get(links(b.last)[name])
		if links(p)["Back to your account"] != "/" {
			t.Fatalf("%s: no way back: %s", name, p.body)
		}
		p = b.get("/")
		if strings.Contains(text(p.doc), "Your authenticators") {
			t.Fatalf("%s: a device after going back: %s", name, p.body)
		}
	}
	// The only configuration stage is the next one.
	c := sv.browser()
	c.get("/").wantComponent(t, "ak-stage-identification")
	c.submit(map[string]string{"uid_field": "akadmin"})
	p := c.submit(map[string]string{"password": "admin Passw0rd"})
	p.wantComponent(t, "ak-stage-authenticator-totp")
	if _, ok := links(p)["Back to your account"]; ok {
		t.Errorf("the setup inside a login links back: %s", p.body)
	}
}

// A settings form refused (no CSRF token, or one that does not decode)
// starts no execution of the settings flow: the page reached without
// its start is started for the visitor only for a request that goes on
// to it.
func TestSettingsRefusedFormStartsNothing(t *testing.T) {
	sv := newServer(t)
	b := sv.browser()
	setup(t, b, "admin Passw0rd")
	base, _ := url.Parse(sv.srv.URL)
	session := ""
	for _, c := range b.c.Jar.Cookies(base) {
		if c.Name == executor.DefaultCookie {
			session = c.Value
		}
	}
	const slug = "default-user-settings-flow"
	for _, body := range []string{
		"component=ak-stage-prompt&name=Evil",
		"component=no-such-component&" + flowui.CSRFField + "=" + sv.ui.CSRF(session),
	} {
		req, _ := http.NewRequest("POST", sv.srv.URL+flowui.FlowPath+slug+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if p := b.do(req); p.status < 400 {
			t.Fatalf("%s: %d %s", body, p.status, p.body)
		}
		if running, err := sv.e.Running(context.Background(), slug, session); err != nil || running {
			t.Fatalf("%s: the refused form started the flow (%v, %v)", body, running, err)
		}
	}
}
