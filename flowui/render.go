package flowui

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/internal/jsonvalue"
	"github.com/authflow/authflow/internal/tmplexec"
	"github.com/authflow/authflow/stage"
)

//go:embed templates
var embedded embed.FS

// Template files: the page around every challenge, its style, the
// shared pieces, the landing and error pages; each component's is
// "{component}.html".
const (
	filePage     = "page.html"
	fileStyle    = "style.css"
	fileParts    = "parts.html"
	fileLanding  = "landing.html"
	fileStatus   = "status.html"
	templatePage = "page"
	// templateContent is each component's, the landing and status
	// pages' own part, which "page" calls.
	templateContent = "content"
)

// views are the parsed templates: one per component, and the landing
// and status pages, each a copy of the page with its "content".
type views struct {
	components      map[string]*tmplexec.Set
	landing, status *tmplexec.Set
	base            *template.Template // the page without a "content", never run
	// visitor are the components' templates whose pages may be kept
	// for every visitor with holes for the visitor's parts: copies
	// whose parts.html's "who" and "username" are placeholders. Only
	// the UI's own templates are (page.html, style.css, parts.html and
	// the component's): a host's may show the pending user anywhere.
	visitor map[string]*tmplexec.Set
	// own are the components whose templates are the UI's own (the
	// component's file, page.html, style.css and parts.html): their
	// forms post to the page's own URL without naming it, so that
	// their pages do not depend on its query.
	own map[string]bool
	// prompt is the prompt page's template whose pages may be kept for
	// every visitor with holes for what the visitor typed, the errors
	// and the choice selected (see fillable): a copy whose parts.html's
	// "errors" and "nonfield", and its own "options", are placeholders
	// too; nil when the templates are not the UI's own.
	prompt *tmplexec.Set
	// localeOptions are an ak-locale field's options (the prompt page's
	// "options") by the locale selected, "" for none, rendered once
	// with the UI's own templates (nil else), so that a prompt page
	// kept fills its hole without running a template for each of its
	// choices: they are the same for every visitor with that locale,
	// and all are made at once, so that none tells by its timing that a
	// visitor chose it.
	localeOptions map[string][]byte
}

// read returns a template file, from the host's overrides when they
// hold it; own says it is the UI's.
func read(over fs.FS, name string) (src string, own bool, err error) {
	if over != nil {
		b, err := fs.ReadFile(over, name)
		switch {
		case err == nil:
			return string(b), false, nil
		case !errors.Is(err, fs.ErrNotExist):
			return "", false, fmt.Errorf("%w: %s: %w", ErrTemplate, name, err)
		}
	}
	b, err := fs.ReadFile(embedded, "templates/"+name)
	if err != nil {
		return "", false, fmt.Errorf("%w: %s: %w", ErrTemplate, name, err)
	}
	return string(b), true, nil
}

// parseViews parses the page, then each component's content over a
// copy of it; ph are the placeholders of the visitor's parts.
func parseViews(over fs.FS, ph placeholders) (views, error) {
	base := template.New(templatePage).Funcs(funcs)
	ownBase := true
	for _, name := range []string{filePage, fileStyle, fileParts} {
		src, own, err := read(over, name)
		if err != nil {
			return views{}, err
		}
		ownBase = ownBase && own
		if _, err := base.New(name).Parse(src); err != nil {
			return views{}, fmt.Errorf("%w: %w", ErrTemplate, err)
		}
	}
	if base.Lookup(templatePage) == nil || base.Lookup(templatePage).Tree == nil {
		return views{}, fmt.Errorf("%w: %s defines no %q", ErrTemplate, filePage, templatePage)
	}
	// content is a copy of the page with src as its "content", and
	// with the visitor's parts holes as placeholders.
	content := func(src string, holes ...hole) (*tmplexec.Set, error) {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
		}
		if _, err := t.New(templateContent).Parse(src); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
		}
		for _, h := range holes {
			if _, err := t.New(holeTemplates[h]).Parse(ph.of(h)); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
			}
		}
		return tmplexec.New(t, funcs), nil
	}
	v := views{components: map[string]*tmplexec.Set{}, visitor: map[string]*tmplexec.Set{}, own: map[string]bool{}, base: base}
	for name, t := range map[string]**tmplexec.Set{fileLanding: &v.landing, fileStatus: &v.status} {
		src, _, err := read(over, name)
		if err != nil {
			return views{}, err
		}
		if *t, err = content(src); err != nil {
			return views{}, err
		}
	}
	for c := range components {
		if c == executor.ComponentRedirect {
			continue // an HTTP redirect
		}
		src, own, err := read(over, c+".html")
		if err != nil {
			return views{}, err
		}
		if v.components[c], err = content(src); err != nil {
			return views{}, err
		}
		if !own || !ownBase {
			continue
		}
		// A page that links to itself (access denied's "Try again")
		// depends on its query.
		v.own[c] = !readsAction.MatchString(src)
		holes := []hole{holeWho, holeUsername}
		if c == executor.ComponentAuthenticatorTOTP {
			holes = append(holes, holeLink) // its secret, rendered for each request
		}
		if v.visitor[c], err = content(src, holes...); err != nil {
			return views{}, err
		}
		if c == executor.ComponentPrompt {
			if v.prompt, err = content(src, holeWho, holeUsername, holeErrors, holeNonField, holeOptions); err != nil {
				return views{}, err
			}
			if v.localeOptions, err = localeOptions(v.components[c]); err != nil {
				return views{}, err
			}
		}
	}
	return v, nil
}

// localeOptions renders an ak-locale field's options with the prompt
// page's template t, for each locale selected and for none
// (views.localeOptions).
func localeOptions(t *tmplexec.Set) (map[string][]byte, error) {
	m := map[string][]byte{}
	for _, l := range append([]locale{{}}, locales...) {
		c := &executor.PromptChallenge{Fields: []executor.StagePrompt{{FieldKey: "locale", Type: "ak-locale", InitialValue: l.code}}}
		var b bytes.Buffer
		if err := t.Execute(&b, holeTemplates[holeOptions], &prompts(&Page{}, c, nil)[0]); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
		}
		m[l.code] = b.Bytes()
	}
	return m, nil
}

// readsAction finds a template's use of Page.Action.
var readsAction = regexp.MustCompile(`\.Action\b`)

// check makes sure that every component the executor answers with has
// a view and a form decoder, and that every view renders its samples.
func (u *UI) check() error {
	for _, c := range executor.Components() {
		if _, ok := components[c]; !ok {
			return fmt.Errorf("%w: no form decoder for component %s", ErrTemplate, c)
		}
		if _, ok := u.views.components[c]; !ok && c != executor.ComponentRedirect {
			return fmt.Errorf("%w: no template for component %s", ErrTemplate, c)
		}
	}
	// As a visitor's: the content alone in its shell, when it has one.
	run := func(t *tmplexec.Set, w io.Writer, p *Page) error {
		rd, release, err := u.execute(t, p, false)
		if err != nil {
			return err
		}
		defer release()
		return rd.writeTo(w, &fill{nonce: p.Nonce, csrf: p.CSRF})
	}
	for _, ch := range samples() {
		p := u.challengePage("nonce", ch, envelope(ch), userInfo(ch), "token", &http.Request{URL: &url.URL{Path: FlowPath + "sample/"}}, nil)
		if err := run(u.views.components[p.Component], io.Discard, p); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrTemplate, p.Component, err)
		}
	}
	p := u.page("nonce", "")
	p.Landing = &Landing{Username: "sample", Devices: []executor.UserDevice{{Class: directory.DeviceTOTP, Name: "phone"}}, Setup: []SetupLink{{Name: "TOTP", Link: executor.ConfigurePath}}}
	if err := run(u.views.landing, io.Discard, p); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrTemplate, fileLanding, err)
	}
	p = u.page("nonce", "")
	p.Status = &Status{Code: 404, Message: msgNotFound}
	if err := run(u.views.status, io.Discard, p); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrTemplate, fileStatus, err)
	}
	// The pages that ask to continue must let the visitor continue.
	p = u.page("nonce", "token")
	p.Action, p.Component = FlowPath+"sample/?itoken=x", continueComponent
	p.Status = &Status{Code: 200, Message: msgOneTime, Continue: FlowPath + "sample/", Post: true}
	var b bytes.Buffer
	if err := run(u.views.status, &b, p); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrTemplate, fileStatus, err)
	}
	for _, want := range []string{`href="` + p.Status.Continue + `"`, `value="` + continueComponent + `"`, `action="` + html.EscapeString(p.Action) + `"`} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			return fmt.Errorf("%w: %s does not show %s (Status.Continue, Status.Post)", ErrTemplate, fileStatus, want)
		}
	}
	return nil
}

// Page is what a template renders: the page's settings, the challenge
// (Challenge, one of executor's challenge types for its Component), its
// errors, and the landing or status page's own data.
type Page struct {
	// Lang is the page's lang attribute; Nonce its CSP nonce, for the
	// style element and the captcha's script.
	Lang, Nonce string
	// Title is the flow's title (flow_info.title), else the brand's;
	// Background the flow's background image URL, and Layout one of
	// stacked, content_left, content_right, sidebar_left, sidebar_right.
	Title, Background, Layout string
	// Action is the page's own URL, query included: where its forms
	// post (the UI's own forms name no action, so that they post to the
	// page's URL, and their pages do not depend on the query; a host's
	// may name it) and where access denied's "Try again" leads; CSRF
	// its token, in the hidden field CSRFField; CancelURL the flow's
	// cancel URL.
	Action, CSRF, CancelURL string
	// Back is where a page of a flow the landing page starts for the
	// visitor (their settings, a password change, an authenticator's
	// setup) leads back to without going on: "/", the landing page; ""
	// on any other page.
	Back string
	// Hidden is the form's hidden fields, as HTML made by the UI: the
	// CSRF token (CSRFField) and the component ("component"), values
	// of its own (parts.html's "hidden").
	Hidden template.HTML
	// Component is the challenge's component; Challenge the challenge.
	Component string
	Challenge executor.Challenge
	// User is the pending user shown with the challenge, when it has
	// one.
	User *executor.UserInfo
	// Captcha is the captcha the page shows: a captcha challenge, or an
	// identification's captcha stage; nil for none.
	Captcha *executor.CaptchaChallenge
	// Fields are the page's fields by name, as Field returns them
	// (without help text), but for a prompt page's (Prompts): a
	// template reads a map faster than it calls a method.
	Fields map[string]Field
	// Errors are the challenge's field errors by field, NonField its
	// errors about the whole form.
	Errors   map[string][]string
	NonField []string
	// Notice is a word that is no error: on the validation page, that a
	// code was sent (the executor's "Empty response" to a selection
	// alone, the only way the page's forms get it); on the email page,
	// that the email was sent again (executor.MsgEmailResent, for the
	// executor's MsgEmailSentError, its answer to every response).
	Notice string
	// Prompts are a prompt challenge's fields, ready to render;
	// Multipart says one is a file, so that the form is sent as
	// multipart/form-data.
	Prompts   []Prompt
	Multipart bool
	// Remembered is the username an identification page shows: the
	// one just sent, else the one the browser remembers (RememberCookie)
	// when the stage offers "Remember me".
	Remembered string
	// UserLabel and UserType are an identification page's user field's
	// label, as authentik words it, and input type: email when the
	// stage asks for an email address only, else text (the functions
	// userFieldLabel and userFieldType of the stage's user_fields).
	UserLabel, UserType string
	// Landing and Status are the landing and status pages' data.
	Landing *Landing
	Status  *Status

	fields []string
	// private says that the page's title shows its visitor: the page
	// around its content is rendered with it, not kept (shells).
	private bool
}

// Landing is the logged-in visitor's page.
type Landing struct {
	Username, Avatar                     string
	UserSettings, PasswordChange, Logout string
	// DeleteAccount is the page of the brand's unenrollment flow
	// (executor.Brand.FlowUnenrollment), as authentik's user settings
	// link it ("Delete account"); "" when the brand has none.
	DeleteAccount string
	// Devices are the user's authenticator devices; Setup the
	// authenticator setup stages they may run, each at its Link
	// (executor.Executor.Authenticators).
	Devices []executor.UserDevice
	Setup   []SetupLink
	// Notice is what the page says of the flow the visitor just ended
	// there: "" for nothing; MsgSettingsSaved after their settings flow,
	// as authentik's user interface says it.
	Notice string
}

// SetupLink is an authenticator setup stage on the landing page: its
// name and the URL that starts its configure flow.
type SetupLink struct {
	Name, Link string
}

// Status is an error page of the UI's own: its HTTP status and
// message; Continue, when set, is the URL of the page a visitor sent
// from another site may go on to (a logged-in visitor's flow page);
// Post, a form that posts to the page's Action to go on (an emailed
// link's one-time key, opened without the session cookie).
type Status struct {
	Code     int
	Message  string
	Continue string
	Post     bool
}

// Field is what a page shows of one of its fields besides its input.
type Field struct {
	// ID is the input's element id; the field's errors are in the
	// element ID + "-error", its help text in ID + "-help".
	ID string
	// Errors are the field's errors; Describe the input's
	// aria-describedby (its errors' and help text's ids, as shown);
	// Autofocus whether it takes the focus.
	Errors    []string
	Describe  string
	Autofocus bool
	// Attrs are the input's attributes that say so: id, and
	// aria-describedby, aria-invalid and autofocus as they apply.
	Attrs template.HTMLAttr
}

// Field returns the page's field name; help says whether the page
// shows its help text.
func (p *Page) Field(name string, help ...bool) Field {
	id := "f-" + name
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		id = "f-" + strings.Join(strings.Fields(name), "_")
	}
	f := Field{ID: id, Errors: p.Errors[name]}
	errs, helps := len(f.Errors) > 0, len(help) > 0 && help[0]
	switch {
	case errs && helps:
		f.Describe = f.ID + "-error " + f.ID + "-help"
	case errs:
		f.Describe = f.ID + "-error"
	case helps:
		f.Describe = f.ID + "-help"
	}
	f.Autofocus = p.autofocus(name)
	// Built here, escaped, as one value: a template's attributes cost an
	// action each.
	var describe, invalid, autofocus string
	if f.Describe != "" {
		describe = ` aria-describedby="` + html.EscapeString(f.Describe) + `"`
	}
	if errs {
		invalid = ` aria-invalid="true"`
	}
	if f.Autofocus {
		autofocus = ` autofocus`
	}
	f.Attrs = template.HTMLAttr(`id="` + html.EscapeString(f.ID) + `"` + describe + invalid + autofocus)
	return f
}

// autofocus says whether field's input takes the focus: the first field
// with an error, else the page's first field.
func (p *Page) autofocus(field string) bool {
	for _, f := range p.fields {
		if len(p.Errors[f]) > 0 {
			return f == field
		}
	}
	return len(p.fields) > 0 && p.fields[0] == field
}

// page is a page's common part.
func (u *UI) page(nonce, csrf string) *Page {
	return &Page{Lang: u.o.Lang, Nonce: nonce, CSRF: csrf, Layout: "stacked", Background: BackgroundPath}
}

// challengePage is the page of a challenge.
// posted is the form answered with the challenge, nil for none: its
// values are shown again (never a password or a file).
// env and user are ch's envelope and userInfo.
func (u *UI) challengePage(nonce string, ch executor.Challenge, env executor.Envelope, user *executor.UserInfo, csrf string, r *http.Request, posted *form) *Page {
	p := u.page(nonce, csrf)
	p.Action = r.URL.RequestURI()
	if slug := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, FlowPath), "/"); slug == u.settingsFlow() || slug == defaultPasswordChange {
		// The page's path is in the key of the page kept: every
		// visitor's page of the flow has the link.
		p.Back = "/"
	}
	p.Challenge = ch
	p.Component = env.Component
	if fi := env.FlowInfo; fi != nil {
		p.Title, p.CancelURL = fi.Title, fi.CancelURL
		if fi.Background != "" {
			p.Background = fi.Background
		}
		if slices.Contains(layouts, fi.Layout) {
			p.Layout = fi.Layout
		}
	}
	if p.Title == "" {
		p.Title = u.brand.Title
	}
	for k, ds := range env.ResponseErrors {
		for _, d := range ds {
			if k == "non_field_errors" {
				p.NonField = append(p.NonField, d.String)
				continue
			}
			if p.Errors == nil {
				p.Errors = map[string][]string{}
			}
			p.Errors[k] = append(p.Errors[k], d.String)
		}
	}
	p.User = user
	p.Captcha = captchaOf(ch)
	if c := components[p.Component]; c.fields != nil {
		p.fields = c.fields(ch)
	}
	// Errors of a field the page has no input for are the form's.
	var other []string
	for k := range p.Errors {
		if !slices.Contains(p.fields, k) {
			other = append(other, k)
		}
	}
	slices.Sort(other)
	for _, k := range other {
		p.NonField = append(p.NonField, p.Errors[k]...)
		delete(p.Errors, k)
	}
	switch {
	case p.Component == executor.ComponentAuthenticatorValidate && slices.Equal(p.NonField, []string{executor.MsgEmptyResponse}):
		p.NonField, p.Notice = nil, msgCodeSent
	case p.Component == executor.ComponentEmail && slices.Equal(p.NonField, []string{executor.MsgEmailSentError}):
		// Every answer to the email page is this code, which
		// authentik's page does not show: it tells of the email sent
		// again, in authentik's words.
		p.NonField, p.Notice = nil, executor.MsgEmailResent
	}
	if pc, ok := ch.(*executor.PromptChallenge); ok {
		p.Prompts = prompts(p, pc, posted)
	} else if len(p.fields) > 0 {
		p.Fields = make(map[string]Field, len(p.fields))
		for _, f := range p.fields {
			p.Fields[f] = p.Field(f)
		}
	}
	if ic, ok := ch.(*executor.IdentificationChallenge); ok {
		p.UserLabel, p.UserType = userFieldLabel(ic.UserFields), userFieldType(ic.UserFields)
	}
	if p.Component == executor.ComponentIdentification {
		if showsRemembered(ch, r) {
			p.Remembered = remembered(r)
		}
		if posted != nil && posted.component == p.Component {
			p.Remembered = posted.get("uid_field")
		}
	}
	return p
}

// layouts are flow_info's layouts.
var layouts = []string{"stacked", "content_left", "content_right", "sidebar_left", "sidebar_right"}

// envelope is a challenge's Envelope, which every challenge embeds
// (executor.Challenge); the zero Envelope for one that does not.
func envelope(ch executor.Challenge) executor.Envelope {
	if e, ok := embeddedField[executor.Envelope](ch); ok {
		return *e
	}
	return executor.Envelope{}
}

// userInfo is the pending user of a challenge that embeds
// executor.UserInfo, nil for one without or without a pending user.
func userInfo(ch executor.Challenge) *executor.UserInfo {
	if ui, ok := embeddedField[executor.UserInfo](ch); ok && ui.PendingUser != "" {
		u := *ui
		return &u
	}
	return nil
}

// embeddedField is the field of type T that the struct ch points to
// embeds (found once per challenge type: fieldIndexes).
func embeddedField[T any](ch executor.Challenge) (*T, bool) {
	v := reflect.ValueOf(ch)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	ft := reflect.TypeFor[T]()
	k := [2]reflect.Type{v.Type(), ft}
	idx, ok := fieldIndexes.Load(k)
	if !ok {
		var found []int
		if f, ok := v.Elem().Type().FieldByName(ft.Name()); ok && f.Anonymous && f.Type == ft {
			found = f.Index
		}
		idx, _ = fieldIndexes.LoadOrStore(k, found)
	}
	if idx.([]int) == nil {
		return nil, false
	}
	f, err := v.Elem().FieldByIndexErr(idx.([]int))
	if err != nil || !f.CanAddr() {
		return nil, false
	}
	t, ok := f.Addr().Interface().(*T)
	return t, ok
}

// fieldIndexes are the indexes of the fields embeddedField finds, by the
// challenge's type and the field's; nil for none.
var fieldIndexes sync.Map

// render writes a challenge's page. visitor is the username of the
// visitor logged in (the one a login of this request logged in
// included), "" for one who is not. A page of a challenge with status
// 200 is kept (Options.CachePages) by everything its template reads,
// with holes for what is one visitor's, unless it shows the name the
// browser remembers, is an authenticator's or a consent's
// (secretComponents; but a validation page of code-only devices, kept
// by their classes alone: codeOnly, and the TOTP setup page, kept with
// a hole for its link: linkless), or shows its own URL and has a
// query: what is
// kept is the same for every visitor, logged in or not, so that it
// holds no one's data, and a page served from the cache (faster) tells
// a visitor who could time it no more than that someone saw the same
// page of the flow. Hence:
//
//   - A page that shows a pending user is kept with holes for the user
//     (parts.html's "who" and "username", rendered for each visitor)
//     when its templates are the UI's own (views.visitor), and never
//     else: a host's may show the user anywhere.
//   - The TOTP setup page's link (the otpauth URI, which holds the
//     device's key) and its QR code are a hole ("totp-link", rendered
//     at each request; neither the page kept nor its key holds them)
//     when its templates are the UI's own, and it is never kept else.
//   - A prompt page's values (typed, or initial values, which may be the
//     visitor's: the user settings' name and email), its errors and its
//     selects' options are holes (views.prompt); a prompt page with
//     values or choices (which may be the visitor's too) whose fields
//     are not all fillable is rendered whole.
//   - A challenge that shows the visitor outside the holes is rendered
//     whole: the pending user's or the logged-in visitor's name (a flow
//     title's "%(user)s", a policy's message), or one of the page's
//     initial values or selects' choices of minShown bytes or more (an
//     expression's placeholder of the user's email).
//
// A page that shows something else of a user's that is neither (an
// expression's placeholder of the user's group, a policy's message of
// their attributes) is kept as the challenge shows it, under a key that
// holds it: only the visitors who see the same text share it, as do
// those of a page an expression of what a visitor typed fills
// (prompt_context); the UI cannot tell an expression's text from the
// configuration's.
func (u *UI) render(w http.ResponseWriter, r *http.Request, nonce string, code int, ch executor.Challenge, csrf string, posted *form, visitor string) {
	env := envelope(ch)
	t, ok := u.views.components[env.Component]
	if !ok {
		// A host's handler's component: the UI cannot show it.
		u.flowError(w, r, nonce, "", fmt.Errorf("flowui: no template for component %q", env.Component))
		return
	}
	var (
		key   []byte             // the page's key in the cache, nil for none (in a pooled buffer)
		keep  *tmplexec.Set      // the templates of the page kept
		show  executor.Challenge // the challenge the page kept shows
		probe bool               // whether the page kept has a prompt page's holes
	)
	user := userInfo(ch)
	// shape is the challenge as a page kept shows it: ch, but a
	// validation page's of code-only devices (codeOnly), kept only when
	// its templates are the UI's own (a host's may show a device's uid);
	// nil for a page never kept.
	shape := ch
	if slices.Contains(secretComponents, env.Component) {
		shape = nil
	}
	vc, validation := ch.(*executor.AuthenticatorValidationChallenge)
	if validation && u.views.visitor[env.Component] != nil {
		shape = codeOnly(vc)
	}
	// A TOTP setup page kept (with a hole for its link) is keyed by
	// its shape's JSON written directly (appendTOTPShape), the shape
	// made (linkless) only when the page is not found: totpUser is the
	// user it shows.
	tc, totp := ch.(*executor.AuthenticatorTOTPChallenge)
	totp = totp && u.views.visitor[env.Component] != nil
	var totpUser executor.UserInfo
	if totp {
		shape = ch // as linkless(tc, totpUser), made when needed
	}
	// A logged-in visitor's authenticator setup (from the landing
	// page's links) leads back to it; its "Not you?" logs out.
	back := visitor != "" && slices.Contains(setupComponents, env.Component)
	if code == http.StatusOK && u.cache != nil && !showsRemembered(ch, r) && shape != nil {
		pc, isPrompt := ch.(*executor.PromptChallenge)
		initial := isPrompt && initialValues(pc)
		switch {
		case isPrompt && (posted != nil || len(pc.ResponseErrors) > 0 || initial) && u.views.prompt != nil && fillable(pc):
			// An answered page, or one with initial values (which may be
			// the visitor's), kept for every visitor: the values and
			// errors are holes. (A page shown without values is kept as
			// it is, below, written without filling anything.)
			keep, show, probe = u.views.prompt, promptShape(pc), true
		case posted != nil && !validation, initial:
			// Rendered whole: no page kept holds a visitor's value. (A
			// validation page shows nothing of the form answered: its
			// code is not shown again.)
		case user != nil:
			// Rendered for every visitor: the user is a marker, which
			// only the holes may show (see cut).
			marker := executor.UserInfo{PendingUser: u.ph.marker, PendingUserAvatar: u.ph.marker}
			if keep = u.views.visitor[env.Component]; totp {
				totpUser = marker
			} else {
				show = withUser(shape, marker)
			}
		case totp:
			keep, totpUser = u.views.visitor[env.Component], tc.UserInfo // the link a hole
		default:
			keep, show = t, shape
		}
		if keep != nil {
			// The key: what the page's template reads but the challenge,
			// then the challenge's JSON, as json.Marshal writes it (an
			// Encoder's, without its newline), in a pooled buffer, so
			// that a page found costs no key's allocation.
			// A page with holes for a prompt's values is not the page
			// shown of the same challenge. The UI's own forms post to
			// the page's URL without naming it: their pages are the
			// same whatever the query (an application's state, a login
			// hint), which a host's may show.
			uri := r.URL.Path
			if !u.views.own[env.Component] {
				uri = r.URL.RequestURI()
			}
			kb := buffers.Get().(*bytes.Buffer)
			defer putBuffer(kb)
			kb.Reset()
			kb.WriteString(env.Component)
			kb.WriteString("\x00")
			kb.WriteString(strconv.FormatBool(probe))
			kb.WriteString("\x00")
			kb.WriteString(strconv.FormatBool(back))
			kb.WriteString("\x00")
			kb.WriteString(uri)
			kb.WriteString("\x00")
			head := kb.Len()
			var err error
			written := false
			if show == nil { // a TOTP setup page's
				var tb []byte
				if tb, written = appendTOTPShape(kb.AvailableBuffer(), tc, totpUser); written {
					kb.Write(tb)
					kb.WriteByte('\n') // as the Encoder's
				} else {
					show = linkless(tc, totpUser)
				}
			}
			if !written {
				err = json.NewEncoder(kb).Encode(show)
			}
			var b []byte
			if err == nil {
				b = kb.Bytes()[head : kb.Len()-1] // without the newline
			}
			switch {
			case err != nil:
			case bytes.Contains(b, []byte(`\ufffd`)):
				// json.Marshal writes each byte that is not UTF-8 as
				// \ufffd, which html/template writes as it is: two
				// challenges that differ only there would share a key.
			case showsVisitor(b, user, visitor, pc):
				// The visitor elsewhere in the challenge (a flow title's
				// "%(user)s") would be kept: rendered whole.
			case !u.views.own[env.Component] && r.URL.RawQuery != "":
				// A page that shows its URL (access denied's "Try again",
				// a host's template), kept by its query, would let anyone
				// add pages at will, a new query each, and so drop the
				// pages others share: whether a page is then from the
				// cache would tell that someone saw it since. Rendered
				// whole.
			default:
				key = kb.Bytes()[:kb.Len()-1]
			}
		}
	}
	rd := u.cache.get(key)
	extra := cspExtra{captcha: captchaOf(ch) != nil}
	switch c := ch.(type) {
	case *executor.PasswordChallenge:
		extra.script = c.AllowShowPassword
	case *executor.AuthenticatorWebAuthnChallenge:
		extra.script = true
	case *executor.AuthenticatorValidationChallenge:
		extra.script = webauthnOptions(c.DeviceChallenges) != nil
	}
	if rd == nil && key != nil {
		if show == nil {
			show = linkless(tc, totpUser)
		}
		p := u.challengePage(nonce, show, envelope(show), userInfo(show), csrf, r, nil)
		if back {
			p.Back = "/"
		}
		if probe {
			u.probePrompts(p)
		}
		if kept, _, err := u.execute(keep, p, true); err == nil && (!probe || promptHoles(kept, p.Prompts)) {
			rd = kept
			u.cache.put(string(key), rd)
		}
		// Else rendered whole, below: a page that does not render, or
		// that shows the visitor's parts outside the holes.
	}
	var p *Page // the visitor's page, once made
	if rd != nil && rd.promptHoles() {
		if p = u.challengePage(nonce, ch, env, user, csrf, r, posted); !promptHoles(rd, p.Prompts) {
			rd = nil
		}
	}
	if rd == nil {
		if p == nil {
			p = u.challengePage(nonce, ch, env, user, csrf, r, posted)
		}
		p.private = titleShows(p.Title, user, visitor)
		if back {
			p.Back = "/"
		}
		var (
			err     error
			release func()
		)
		if rd, release, err = u.execute(t, p, false); err != nil {
			u.fail(w, nonce, err)
			return
		}
		defer release()
	}
	f := &fill{nonce: nonce, csrf: csrf}
	if rd.has(holeWho, holeUsername, holeLink) || rd.promptHoles() {
		b := buffers.Get().(*bytes.Buffer)
		defer putBuffer(b)
		b.Reset()
		if err := u.fillVisitor(b, t, rd, f, user, p); err != nil {
			u.fail(w, nonce, err)
			return
		}
		if rd.has(holeLink) {
			// The TOTP setup's link and its QR code, this request's
			// alone (after the parts above, which b's growing leaves
			// where they are).
			start := b.Len()
			if err := t.Execute(b, holeTemplates[holeLink], ch); err != nil {
				u.fail(w, nonce, err)
				return
			}
			f.link = b.Bytes()[start:]
		}
	}
	extra.img = imgSource(backgroundOf(env))
	if user != nil {
		if a := imgSource(user.PendingUserAvatar); a != extra.img {
			extra.img += a // a host's avatars on another origin (Options.Avatar)
		}
	}
	u.send(w, r, code, rd, f, extra)
}

// fillVisitor renders into b, with t, the visitor's parts that rd has
// holes for, and sets them in f: the pending user's (user), and a
// prompt page's (p).
func (u *UI) fillVisitor(b *bytes.Buffer, t *tmplexec.Set, rd *rendered, f *fill, user *executor.UserInfo, p *Page) error {
	// The parts' ends in b, kept until b no longer grows. A part is
	// rendered when the page has its hole and want says so: parts.html's
	// "nonfield" and "errors" show nothing without errors (the UI's
	// own: views.prompt), so that only those with errors are rendered.
	var ends []int
	part := func(h hole, data any, want bool) error {
		if want && rd.has(h) {
			if err := t.Execute(b, holeTemplates[h], data); err != nil {
				return err
			}
		}
		ends = append(ends, b.Len())
		return nil
	}
	if err := part(holeWho, user, true); err != nil {
		return err
	}
	if err := part(holeUsername, user, true); err != nil {
		return err
	}
	if p == nil {
		f.who, f.username = b.Bytes()[:ends[0]], b.Bytes()[ends[0]:ends[1]]
		return nil
	}
	if err := part(holeNonField, p, len(p.NonField) > 0); err != nil {
		return err
	}
	for i := range p.Prompts {
		if !p.Prompts[i].Is.Labelled {
			continue
		}
		if err := part(holeErrors, p.Prompts[i].Field, len(p.Prompts[i].Field.Errors) > 0); err != nil {
			return err
		}
	}
	errs := len(ends)
	for i := range p.Prompts {
		v := &p.Prompts[i]
		if !v.Is.Select {
			continue
		}
		if v.Type == "ak-locale" && u.views.localeOptions != nil {
			// A locale of no choice is rendered: its own option.
			if o, ok := u.views.localeOptions[v.Value]; ok {
				b.Write(o)
				ends = append(ends, b.Len())
				continue
			}
		}
		if err := part(holeOptions, v, true); err != nil {
			return err
		}
	}
	all := b.Bytes()
	f.who, f.username, f.nonfield = all[:ends[0]], all[ends[0]:ends[1]], all[ends[1]:ends[2]]
	for k := 3; k < len(ends); k++ {
		if k < errs {
			f.errors = append(f.errors, all[ends[k-1]:ends[k]])
		} else {
			f.options = append(f.options, all[ends[k-1]:ends[k]])
		}
	}
	for i := range p.Prompts {
		f.values, f.attrs = append(f.values, p.Prompts[i].Value), append(f.attrs, p.Prompts[i].Field.Attrs)
	}
	return nil
}

// fillableTypes are the prompt types whose fields a prompt page kept
// for every visitor shows with holes: each shows its value as a whole
// value (an input's or a text area's, a paragraph's) or its options
// whole (a select's: the prompt page's "options", the choice selected
// and the choices, which may be the visitor's), its Field.Attrs and its
// errors; no radio button, checkbox or file, whose state is in their
// markup.
var fillableTypes = []stage.PromptType{"text", "text_area", "text_read_only", "text_area_read_only", "username", "email",
	"password", "number", "date", "date-time", "hidden", "static", "separator", "dropdown", "ak-locale"}

// fillable says whether every field of c is of a fillable type.
func fillable(c *executor.PromptChallenge) bool {
	for _, f := range c.Fields {
		if !slices.Contains(fillableTypes, f.Type) {
			return false
		}
	}
	return true
}

// initialValues says whether a field of c has an initial value or
// choices, which may be the visitor's: what they typed at an earlier
// stage (prompt_context), an expression's of the pending user, a
// source's choices (prompt_data's "__choices"). The executor gives a
// choice field with choices its first choice as its initial value when
// it has none of them; a first choice "" does not.
func initialValues(c *executor.PromptChallenge) bool {
	return slices.ContainsFunc(c.Fields, func(f executor.StagePrompt) bool { return f.InitialValue != "" || len(f.Choices) > 0 })
}

// promptShape is c without what a visitor's answer or the request
// changes in its page: its errors, its fields' initial values, and a
// select's choices (an expression's, perhaps of the visitor), which the
// page kept for every visitor shows as holes.
func promptShape(c *executor.PromptChallenge) *executor.PromptChallenge {
	out := &executor.PromptChallenge{Envelope: c.Envelope, Fields: slices.Clone(c.Fields)}
	out.ResponseErrors = nil
	for i := range out.Fields {
		out.Fields[i].InitialValue = ""
		if shown(out.Fields[i].Type).Select {
			out.Fields[i].Choices = nil
		}
	}
	return out
}

// probePrompts sets each of p's fields' value and attributes to their
// placeholders.
func (u *UI) probePrompts(p *Page) {
	for i := range p.Prompts {
		p.Prompts[i].Value = u.ph.valueProbe(i)
		p.Prompts[i].Field.Attrs = template.HTMLAttr(u.ph.attrsProbe(i))
	}
}

// promptHoles says whether rd's holes fit a prompt page of prompts: a
// value and attributes of known fields only, and the errors of each
// labelled field and the options of each select, once.
func promptHoles(rd *rendered, prompts []Prompt) bool {
	labelled, selects := 0, 0
	for _, v := range prompts {
		if v.Is.Labelled {
			labelled++
		}
		if v.Is.Select {
			selects++
		}
	}
	return rd.maxIndex(holeValue) < len(prompts) && rd.maxIndex(holeAttrs) < len(prompts) && rd.count(holeErrors) == labelled &&
		rd.count(holeOptions) == selects
}

// minShown is the length under which an initial value of a prompt page
// is not looked for outside its hole (showsVisitor): a short value (a
// locale, a number) is in most challenges' JSON by chance, and tells
// little of anyone.
const minShown = 4

// showsVisitor says whether b, the JSON of a challenge's page to keep
// for every visitor, shows the visitor outside the holes: the pending
// user's name (user), the logged-in visitor's username (visitor), or an
// initial value or a select's choice of c's (nil for a challenge of
// another component) of minShown bytes or more.
func showsVisitor(b []byte, user *executor.UserInfo, visitor string, c *executor.PromptChallenge) bool {
	in := func(s string) bool {
		// s as json.Marshal writes it (jsonvalue.AppendString, byte for
		// byte), without its quotes.
		var buf [128]byte
		q := jsonvalue.AppendString(buf[:0], s, true)
		return bytes.Contains(b, q[1:len(q)-1])
	}
	// A logged-in visitor is most often the pending user: looked for once.
	if user != nil && in(user.PendingUser) || visitor != "" && (user == nil || visitor != user.PendingUser) && in(visitor) {
		return true
	}
	if c != nil {
		for _, f := range c.Fields {
			if len(f.InitialValue) >= minShown && in(f.InitialValue) {
				return true
			}
			if shown(f.Type).Select && slices.ContainsFunc(f.Choices, func(s string) bool { return len(s) >= minShown && in(s) }) {
				return true
			}
		}
	}
	return false
}

// titleShows says whether a page's title shows the pending user (user)
// or the logged-in visitor (visitor): a flow title's "%(user)s".
func titleShows(title string, user *executor.UserInfo, visitor string) bool {
	return user != nil && strings.Contains(title, user.PendingUser) || visitor != "" && strings.Contains(title, visitor)
}

// secretComponents are the components whose pages show a secret or a
// one-time challenge (a TOTP key, static codes, a WebAuthn challenge,
// Duo's activation, a code's destination, a consent's token, new at
// each showing): their pages are never kept, but a validation page of
// code-only devices (codeOnly) and the TOTP setup page with a hole for
// its link (linkless).
var secretComponents = []string{executor.ComponentAuthenticatorTOTP, executor.ComponentAuthenticatorStatic,
	executor.ComponentAuthenticatorWebAuthn, executor.ComponentAuthenticatorValidate, executor.ComponentAuthenticatorDuo,
	executor.ComponentAuthenticatorSMS, executor.ComponentAuthenticatorEmail, executor.ComponentConsent}

// keptClasses are the device classes whose validation page may be
// kept: answered with a code the user holds, nothing sent, their
// challenges empty.
var keptClasses = []string{"totp", "static"}

// codeOnly is the challenge a kept page of c shows, when each of c's
// device challenges is of keptClasses and carries nothing: c with each
// device's class alone, without its uid and last use (the user's, which
// the page does not show), so that the page kept is keyed by the
// classes, never by a user's devices. nil for any other (a WebAuthn
// assertion, a code sent, a Duo push, no device): never kept.
func codeOnly(c *executor.AuthenticatorValidationChallenge) executor.Challenge {
	if len(c.DeviceChallenges) == 0 {
		return nil
	}
	s := *c
	s.DeviceChallenges = make([]executor.DeviceChallenge, len(c.DeviceChallenges))
	for i, d := range c.DeviceChallenges {
		if !slices.Contains(keptClasses, d.DeviceClass) || len(d.Challenge) > 0 {
			return nil
		}
		s.DeviceChallenges[i] = executor.DeviceChallenge{DeviceClass: d.DeviceClass}
	}
	return &s
}

// setupComponents are the authenticator setup stages' components, whose
// pages link a logged-in visitor back to the landing page (Page.Back).
var setupComponents = []string{executor.ComponentAuthenticatorTOTP, executor.ComponentAuthenticatorStatic,
	executor.ComponentAuthenticatorWebAuthn, executor.ComponentAuthenticatorDuo, executor.ComponentAuthenticatorSMS,
	executor.ComponentAuthenticatorEmail}

// linkless is a copy of c without its link, the secret of the TOTP
// device being set up (the page kept for it has a hole there: holeLink),
// that shows user.
func linkless(c *executor.AuthenticatorTOTPChallenge, user executor.UserInfo) executor.Challenge {
	k := *c
	k.ConfigURL = ""
	k.UserInfo = user
	return &k
}

// appendTOTPShape appends linkless(c, user)'s JSON, byte for byte as
// json.Marshal writes it, to b; false (b as it was) when c has
// response errors, which only json.Marshal writes.
func appendTOTPShape(b []byte, c *executor.AuthenticatorTOTPChallenge, user executor.UserInfo) ([]byte, bool) {
	if c == nil || len(c.ResponseErrors) > 0 {
		return b, false
	}
	b = append(b, '{')
	if f := c.FlowInfo; f != nil {
		b = append(b, `"flow_info":{"title":`...)
		b = jsonvalue.AppendString(b, f.Title, true)
		b = append(b, `,"background":`...)
		b = jsonvalue.AppendString(b, f.Background, true)
		b = append(b, `,"cancel_url":`...)
		b = jsonvalue.AppendString(b, f.CancelURL, true)
		b = append(b, `,"layout":`...)
		b = jsonvalue.AppendString(b, f.Layout, true)
		b = append(b, "},"...)
	}
	b = append(b, `"component":`...)
	b = jsonvalue.AppendString(b, c.Component, true)
	b = append(b, `,"pending_user":`...)
	b = jsonvalue.AppendString(b, user.PendingUser, true)
	b = append(b, `,"pending_user_avatar":`...)
	b = jsonvalue.AppendString(b, user.PendingUserAvatar, true)
	return append(b, `,"config_url":""}`...), true
}

// withUser is a copy of ch (a pointer to a struct that embeds
// executor.UserInfo) that shows user; ch itself when it embeds none.
func withUser(ch executor.Challenge, user executor.UserInfo) executor.Challenge {
	v := reflect.ValueOf(ch)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return ch
	}
	c := reflect.New(v.Elem().Type())
	c.Elem().Set(v.Elem())
	cp, ok := c.Interface().(executor.Challenge)
	if !ok {
		return ch
	}
	ui, ok := embeddedField[executor.UserInfo](cp)
	if !ok {
		return ch
	}
	*ui = user
	return cp
}

// showsRemembered says whether ch's page shows the name r's browser
// remembers.
func showsRemembered(ch executor.Challenge, r *http.Request) bool {
	ic, ok := ch.(*executor.IdentificationChallenge)
	return ok && ic.EnableRememberMe && remembered(r) != ""
}

// backgroundOf is the background a challenge's page shows.
func backgroundOf(env executor.Envelope) string {
	if env.FlowInfo != nil && env.FlowInfo.Background != "" {
		return env.FlowInfo.Background
	}
	return BackgroundPath
}

// status writes one of the UI's error pages.
func (u *UI) status(w http.ResponseWriter, r *http.Request, nonce string, code int, msg string) {
	p := u.page(nonce, "")
	p.Title, p.Background = http.StatusText(code), u.brand.DefaultFlowBackground
	p.Status = &Status{Code: code, Message: msg}
	u.write(w, r, code, u.views.status, p, cspExtra{})
}

// write renders p with t and writes it.
func (u *UI) write(w http.ResponseWriter, r *http.Request, code int, t *tmplexec.Set, p *Page, extra cspExtra) {
	rd, release, err := u.execute(t, p, false)
	if err != nil {
		u.fail(w, p.Nonce, err)
		return
	}
	defer release()
	extra.img = imgSource(p.Background)
	u.send(w, r, code, rd, &fill{nonce: p.Nonce, csrf: p.CSRF}, extra)
}

// execute renders p with t, with the placeholders for its nonce and
// CSRF token, whole before anything is sent, so that a template that
// fails answers a clean error: its "content" alone into its shell when
// it has one, else the whole page. A page to keep (in the cache) is its
// own copy; any other is cut from the pooled buffer it was rendered
// into, which release gives back once the page is written.
func (u *UI) execute(t *tmplexec.Set, p *Page, keep bool) (rd *rendered, release func(), err error) {
	// p with the placeholders while it renders (not a copy: a Page is
	// large), as it was after.
	nonce, csrf, hidden := p.Nonce, p.CSRF, p.Hidden
	p.Nonce, p.CSRF = u.ph.nonce, u.ph.csrf
	p.Hidden = hiddenFields(p.CSRF, p.Component)
	defer func() { p.Nonce, p.CSRF, p.Hidden = nonce, csrf, hidden }()
	b := buffers.Get().(*bytes.Buffer)
	release = func() {
		if b.Cap() <= maxPooled {
			buffers.Put(b)
		}
	}
	b.Reset()
	name := templatePage
	sh := u.shells.get(p)
	if sh != nil {
		name = templateContent
	}
	if err := t.Execute(b, name, p); err != nil {
		release()
		return nil, nil, err
	}
	content := b.Bytes()
	if keep {
		content = bytes.Clone(content)
		release()
		release = func() {}
	}
	rd, ok := u.ph.cut(content)
	if !ok {
		release()
		return nil, nil, errShowsVisitor
	}
	if sh != nil {
		rd = join(sh.head, rd, sh.tail)
	}
	return rd, release, nil
}

// hiddenFields are a form's hidden fields (Page.Hidden), one action of
// a template rather than two: the CSRF token is the UI's (base64url, or
// its placeholder), the component one of its names; both are escaped
// all the same.
func hiddenFields(csrf, component string) template.HTML {
	return template.HTML(`<input type="hidden" name="` + CSRFField + `" value="` + html.EscapeString(csrf) +
		`"><input type="hidden" name="component" value="` + html.EscapeString(component) + `">`)
}

// buffers are the buffers pages are rendered into, reused so that a
// page is one allocation of its size; one that grew past maxPooled is
// not kept.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooled = 64 << 10

// putBuffer gives b back to buffers, unless it grew past maxPooled.
func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooled {
		buffers.Put(b)
	}
}

// fail answers a template that failed: its event, and a plain page
// with the request id.
func (u *UI) fail(w http.ResponseWriter, nonce string, err error) {
	id := u.sess.FlowError("", err).RequestID
	headers(w, nonce, cspExtra{})
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, "The page could not be shown (request %s).\n", id)
}

// send writes a page with its holes filled.
func (u *UI) send(w http.ResponseWriter, r *http.Request, code int, rd *rendered, f *fill, extra cspExtra) {
	headers(w, f.nonce, extra)
	w.Header()["Content-Type"] = htmlType
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_ = rd.writeTo(w, f)
	}
}

// errShowsVisitor is a page kept for every visitor that shows the
// visitor outside its holes: it is rendered whole instead.
var errShowsVisitor = errors.New("flowui: the page shows its pending user outside parts.html's who and username")

// imgSource is the CSP source of a background on another origin, with
// its leading space; "" for the UI's own.
func imgSource(bg string) string {
	// url.Parse's scheme is what comes before the first ':', lower-cased
	// (none when that is not a scheme's characters): a URL with none,
	// or another than http(s) (an avatar's data: URI of a kilobyte or
	// more), is not parsed.
	scheme, _, ok := strings.Cut(bg, ":")
	if !ok || !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "http") {
		return ""
	}
	if src, ok := plainSource(bg); ok {
		return src
	}
	u, err := url.Parse(bg)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || !hostSource(u.Host) {
		return ""
	}
	return " " + u.Scheme + "://" + u.Host
}

// plainSource is imgSource of an https URL (an avatar's, at each page
// of a user's) whose host is lower-case letters, digits, dots and dashes
// and whose rest is unreserved characters, '/', '?', '#', '=', '&' and
// '+' only: url.Parse takes it as it is, so it is not parsed. False for
// any other URL.
func plainSource(bg string) (string, bool) {
	const scheme = "https://"
	rest, ok := strings.CutPrefix(bg, scheme)
	if !ok {
		return "", false
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if end == 0 {
		return "", false
	}
	for i := range len(rest) {
		c := rest[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '-':
		case i >= end && (c >= 'A' && c <= 'Z' || strings.IndexByte("_~/?#=&+", c) >= 0):
		default:
			return "", false
		}
	}
	return " " + bg[:len(scheme)+end], true
}

// hostSource says whether a URL's host is a host name or address and
// port only, so that it cannot end the CSP's source list (url.Parse
// lets ";", "," and quotes through); an IPv6 address is left out.
func hostSource(h string) bool {
	for _, c := range []byte(h) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':') {
			return false
		}
	}
	return true
}

func captchaOf(ch executor.Challenge) *executor.CaptchaChallenge {
	switch c := ch.(type) {
	case *executor.CaptchaChallenge:
		return c
	case *executor.IdentificationChallenge:
		return c.CaptchaStage
	}
	return nil
}

// msgCodeSent is the validation page's notice after a code was sent.
const msgCodeSent = "A code is on its way: enter it below."
