package flowui

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flow"
)

// Paths the UI serves besides FlowPath.
const (
	// FlowPath is the flow interface's page: FlowPath + "{slug}/", with
	// the page's query string (next, itoken, flow_token), as authentik's
	// /if/flow/{slug}/.
	FlowPath = executor.FlowInterfacePath
	// BackgroundPath is authentik's default flow background
	// (flow.DefaultBackground), which the UI serves with an image of its
	// own.
	BackgroundPath = flow.DefaultBackground
	// StartPath starts a flow for the logged-in visitor, as authentik's
	// user interface starts its settings flow (flows/instances/{slug}/execute/
	// before the flow's page): GET StartPath + "{slug}/" plans the flow
	// now with the visitor as its pending_user (executor.Executor.Execute),
	// replacing the session's execution of it, and sends the visitor on to
	// FlowPath + "{slug}/". The landing page's links to the settings and
	// password change flows go through it: those flows' user_write stages
	// write the pending user, so that opened without it they would try
	// to create a user of the visitor's own username.
	StartPath = "/if/user/flow/"
)

// Defaults of Options.
const (
	// DefaultMaxBody bounds a form's body (application/x-www-form-urlencoded).
	DefaultMaxBody = 64 << 10
	// DefaultMaxUpload bounds a form with files (multipart/form-data):
	// one file prompt's largest value (executor.MaxFileLength) and the
	// rest of the form.
	DefaultMaxUpload = executor.MaxFileLength + DefaultMaxBody
	// DefaultMaxFields bounds the number of keys of a form.
	DefaultMaxFields = 256
	// DefaultLang is the pages' lang attribute.
	DefaultLang = "en"
	// CSRFField is the name of every form's CSRF token.
	CSRFField = "csrf_token"
	// RememberCookie holds the username an identification page
	// remembers (its "Remember me" box).
	RememberCookie = "authflow_remember"
	// NoticeCookie tells the landing page, once, that the visitor's
	// settings flow ended there (Landing.Notice); it lives a minute.
	NoticeCookie = "authflow_notice"
	// MsgSettingsSaved is the landing page's notice after the settings
	// flow saved, authentik's user interface's words.
	MsgSettingsSaved = "Successfully updated details"
)

// Options configure a UI. Every zero field means its default.
type Options struct {
	// HTTP are the sessions' options: give the value given to the
	// executor's HTTPHandler, so that the pages and the API share one
	// session per client (the same cookie and SessionStore, or the
	// host's session).
	HTTP executor.HTTPOptions
	// Templates replaces templates by file name (page.html, style.css,
	// parts.html, landing.html, status.html, or a component's, as
	// "ak-stage-password.html"); files it does not hold are the
	// defaults. See the package doc.
	Templates fs.FS
	// Lang is the pages' lang attribute; "" means DefaultLang.
	Lang string
	// MaxBody and MaxUpload bound a POST's body, a form without and
	// with files; MaxFields its number of keys. Zero means
	// DefaultMaxBody, DefaultMaxUpload and DefaultMaxFields.
	MaxBody, MaxUpload int64
	MaxFields          int
	// CachePages bounds the rendered pages the UI keeps, to write a
	// page shown again without running its template; zero means
	// DefaultCachePages, a negative value none.
	CachePages int
	// CSRFKey is the key of the forms' CSRF tokens (an HMAC of the
	// session id); nil means a random key of the UI's own, so that
	// replicas behind one address must share one.
	CSRFKey []byte
}

// UI serves authentik's flows as web pages: an http.Handler.
type UI struct {
	e      *executor.Executor
	o      Options
	sess   *executor.HTTPSessions
	key    []byte
	views  views
	ph     placeholders
	cache  *pageCache
	shells *shells
	brand  executor.Brand // the executor's, fixed when it is made
	bg     []byte
	avatar []byte
	keyed  hash.Cloner // an HMAC under key, never written to
	tokens tokens
}

// ErrTemplate is a template that is missing, does not parse, or fails
// on a sample challenge of its component.
var ErrTemplate = errors.New("flowui: template")

// New returns the flow interface of e. It fails with an error wrapping
// ErrTemplate when a template of Options.Templates does not parse or
// does not render its component's sample challenges, or when a
// component of executor.Components has no template or form decoder.
func New(e *executor.Executor, o Options) (*UI, error) {
	if o.Lang == "" {
		o.Lang = DefaultLang
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxUpload <= 0 {
		o.MaxUpload = DefaultMaxUpload
	}
	if o.MaxFields <= 0 {
		o.MaxFields = DefaultMaxFields
	}
	u := &UI{e: e, o: o, sess: e.HTTPSessions(o.HTTP), key: o.CSRFKey, ph: newPlaceholders(), brand: e.Brand()}
	switch {
	case o.CachePages == 0:
		u.cache = &pageCache{max: DefaultCachePages, m: map[string]*rendered{}}
	case o.CachePages > 0:
		u.cache = &pageCache{max: o.CachePages, m: map[string]*rendered{}}
	}
	if u.key == nil {
		u.key = make([]byte, 32)
		_, _ = rand.Read(u.key)
	}
	u.keyed, _ = hmac.New(sha256.New, u.key).(hash.Cloner)
	var err error
	if u.views, err = parseViews(o.Templates, u.ph); err != nil {
		return nil, err
	}
	if u.shells, err = newShells(u.views.base, u.ph); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	if err := u.check(); err != nil {
		return nil, err
	}
	u.bg, u.avatar = background(), avatar()
	return u, nil
}

// ServeHTTP serves the pages: FlowPath + "{slug}/" (GET and POST), "/"
// (GET: an anonymous visitor is sent to the default authentication
// flow, a logged-in one sees who they are), BackgroundPath and
// executor.DefaultAvatar; anything else is 404.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == BackgroundPath:
		serveImage(w, r, "image/jpeg", u.bg)
	case p == executor.DefaultAvatar:
		serveImage(w, r, "image/png", u.avatar)
	case p == "/":
		u.serveLanding(w, r)
	case strings.HasPrefix(p, StartPath):
		slug, ok := strings.CutSuffix(strings.TrimPrefix(p, StartPath), "/")
		if !ok || slug == "" || strings.Contains(slug, "/") {
			u.status(w, r, newNonce(), http.StatusNotFound, msgNotFound)
			return
		}
		u.serveStart(w, r, slug)
	case strings.HasPrefix(p, FlowPath):
		rest := strings.TrimPrefix(p, FlowPath)
		slug, ok := strings.CutSuffix(rest, "/")
		switch {
		case slug == "" || strings.Contains(slug, "/"):
			u.status(w, r, newNonce(), http.StatusNotFound, msgNotFound)
		case !ok:
			// The escaped path: a decoded "?" or space would change it.
			to := r.URL.EscapedPath() + "/"
			if r.URL.RawQuery != "" {
				to += "?" + r.URL.RawQuery
			}
			headers(w, newNonce(), cspExtra{})
			http.Redirect(w, r, to, http.StatusMovedPermanently)
		default:
			u.serveFlow(w, r, slug)
		}
	default:
		u.status(w, r, newNonce(), http.StatusNotFound, msgNotFound)
	}
}

// Messages of the UI's own error pages.
const (
	msgNotFound    = "Not found."
	msgNoLogin     = "No login flow applies here."
	msgMethod      = "This page answers GET and POST only."
	msgCrossOrigin = "This form was sent from another site, and was refused."
	msgCSRF        = "This form has expired or was not sent from this page. Load the page again and retry."
	msgCrossSite   = "Another site sent you to this page. Continue only if you meant to come here."
	msgOneTime     = "This link can be used once. Continue to use it."
	msgUnenroll    = "Continuing deletes your account. This cannot be undone."
)

// continueComponent is the component of confirmPost's form: no
// challenge's, it only goes on to the page.
const continueComponent = "af-continue"

// oneTimeKeys are the query's keys that a GET may use up: a flow
// token (executor.QueryFlowToken) and an invitation (itoken, or token,
// which the invitation stage reads too).
var oneTimeKeys = []string{executor.QueryFlowToken, "itoken", "token"}

func oneTimeKey(q url.Values) bool {
	for _, k := range oneTimeKeys {
		if q.Get(k) != "" {
			return true
		}
	}
	return false
}

// hasCookie says whether r carries the executor's session cookie.
func (u *UI) hasCookie(r *http.Request) bool {
	name := u.o.HTTP.Cookie
	if name == "" {
		name = executor.DefaultCookie
	}
	_, err := r.Cookie(name)
	return err == nil
}

// headers sets the headers of every page: its Content-Security-Policy
// (with nonce for its style, and for script when script names the
// captcha's sources), no sniffing, no referrer across origins, no
// framing, no caching.
func headers(w http.ResponseWriter, nonce string, csp cspExtra) {
	policy := "default-src 'none'; style-src 'nonce-" + nonce + "'; img-src 'self' data:" + csp.img +
		"; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	switch {
	case csp.captcha:
		policy += "; script-src 'nonce-" + nonce + "' 'strict-dynamic'; frame-src https:; connect-src https:"
	case csp.script:
		policy += "; script-src 'nonce-" + nonce + "'"
	}
	// The keys are canonical: set without canonicalizing them again.
	h := w.Header()
	h["Content-Security-Policy"] = []string{policy}
	h["X-Content-Type-Options"] = nosniff
	h["Referrer-Policy"] = sameOrigin
	h["X-Frame-Options"] = deny
	h["Cache-Control"] = noStore
}

// Header values every page sends.
var (
	nosniff    = []string{"nosniff"}
	sameOrigin = []string{"same-origin"}
	deny       = []string{"DENY"}
	noStore    = []string{"no-store"}
	htmlType   = []string{"text/html; charset=utf-8"}
	// imagePolicy is the images': nothing loads, nothing frames them.
	imagePolicy = []string{"default-src 'none'; frame-ancestors 'none'"}
)

// cspExtra widens a page's policy: img adds the background's origin;
// script allows the page's nonce'd script (showing a password), captcha
// the captcha provider's script (and the scripts, frames and requests it
// makes, over HTTPS).
type cspExtra struct {
	img             string
	script, captcha bool
}

// newNonce returns a page's CSP nonce.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// csrf is the CSRF token of session: an HMAC of its id under the UI's
// key.
// A visitor's pages share the token, kept (u.tokens) by the session id.
func (u *UI) csrf(session string) string {
	u.tokens.mu.Lock()
	t, ok := u.tokens.m[session]
	u.tokens.mu.Unlock()
	if ok {
		return t
	}
	m := u.mac()
	m.Write([]byte("flowui csrf\x00"))
	m.Write([]byte(session))
	t = base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	u.tokens.mu.Lock()
	defer u.tokens.mu.Unlock()
	if len(u.tokens.m) >= maxTokens || u.tokens.m == nil {
		u.tokens.m = make(map[string]string)
	}
	u.tokens.m[session] = t
	return t
}

// tokens are the CSRF tokens last made, by session id: at most
// maxTokens; when full, it starts over.
type tokens struct {
	mu sync.Mutex
	m  map[string]string
}

const maxTokens = 4096

// mac is a new HMAC under the UI's key: a copy of one keyed once, which
// saves hashing the key's pads for each page.
func (u *UI) mac() hash.Hash {
	if u.keyed != nil {
		if m, err := u.keyed.Clone(); err == nil {
			return m
		}
	}
	return hmac.New(sha256.New, u.key)
}

func (u *UI) csrfOK(session, token string) bool {
	return token != "" && hmac.Equal([]byte(u.csrf(session)), []byte(token))
}

// serveFlow serves a flow's page: the current challenge, or the
// answer to a posted form.
func (u *UI) serveFlow(w http.ResponseWriter, r *http.Request, slug string) {
	nonce := newNonce()
	post := r.Method == http.MethodPost
	if !post && r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, POST")
		u.status(w, r, nonce, http.StatusMethodNotAllowed, msgMethod)
		return
	}
	// A GET is a navigation, which another site may start (a link, an
	// application sending its user to log in, an email's link), as with
	// authentik's interface; a POST is checked twice: its origin, and
	// the form's CSRF token.
	if post {
		if err := u.sess.CheckOrigin(r); err != nil {
			u.status(w, r, nonce, http.StatusForbidden, msgCrossOrigin)
			return
		}
	}
	fresh := u.o.HTTP.Session == nil && !u.hasCookie(r)
	req, err := u.sess.Request(w, r)
	if err != nil {
		u.flowError(w, r, nonce, slug, err)
		return
	}
	if !post && fresh && oneTimeKey(r.URL.Query()) {
		// An emailed link's one-time key, opened by a client without
		// the session cookie: perhaps a mail system's link scanner,
		// whose GET would use the key up (a single-use invitation, a
		// flow token) in a session no one continues. A person goes on
		// with a button, a POST, which scanners do not send.
		u.confirmPost(w, r, nonce, req.Session, msgOneTime)
		return
	}
	if !post && req.User.Authenticated && u.sess.CheckOrigin(r) != nil {
		// A link on another site: its navigation carries the session
		// cookie (SameSite=Lax), and a GET runs the stages before the
		// next challenge (user_logout, user_delete, user_write, email).
		// A logged-in visitor continues by their own click.
		u.confirm(w, r, nonce)
		return
	}
	req.Query = r.URL.RawQuery
	// A POST's form is read, its CSRF token checked and it is decoded
	// before anything runs: a form refused starts no flow (the settings
	// flow, below).
	var (
		resp      executor.Response
		posted    *form
		body      json.RawMessage
		confirmed bool // the unenrollment's confirmation was posted
	)
	if post {
		f, ferr := u.readForm(w, r)
		switch {
		case ferr != nil:
			u.status(w, r, nonce, ferr.status(), ferr.Error())
			return
		case !u.csrfOK(req.Session, f.get(CSRFField)):
			u.status(w, r, nonce, http.StatusForbidden, msgCSRF)
			return
		case f.component == continueComponent && req.User.Authenticated && u.startOf(r, slug) == startConfirmed:
			// The button of the unenrollment's confirmation (below):
			// the visitor's own click starts the flow.
			confirmed = true
		case f.component == continueComponent:
			// The button of confirmPost: the page, now with the cookie.
			headers(w, nonce, cspExtra{})
			http.Redirect(w, r, r.URL.RequestURI(), http.StatusSeeOther)
			return
		}
		if !confirmed {
			var derr *formError
			if body, derr = u.decode(f); derr != nil {
				u.status(w, r, nonce, derr.status(), derr.Error())
				return
			}
			posted = f
		}
	}
	if req.User.Authenticated && !confirmed {
		// A flow that does not simply start at a logged-in visitor's
		// request when their session has none of it under way (startOf):
		// reached by a bookmark, a login's next, a redirect, the back
		// button to a page whose flow ended, a form sent twice.
		if how := u.startOf(r, slug); how != startAtRequest {
			running, err := u.e.Running(r.Context(), slug, req.Session)
			switch {
			case err != nil, running:
			case how == startExecuted:
				err = u.e.Execute(r.Context(), slug, req)
			case !post:
				u.confirmPost(w, r, nonce, req.Session, msgUnenroll)
				return
			}
			if !u.started(w, r, nonce, slug, err) {
				return
			}
		}
	}
	if post && !confirmed {
		if posted.component == executor.ComponentIdentification {
			u.remember(w, r, posted)
		}
		resp, err = u.e.Submit(r.Context(), slug, req, body)
	} else {
		resp, err = u.e.Get(r.Context(), slug, req)
	}
	if err == nil {
		err = u.sess.Apply(w, r, resp)
	}
	see := http.StatusFound
	if post {
		see = http.StatusSeeOther
	}
	switch {
	case errors.Is(err, executor.ErrUnknownFlow):
		u.status(w, r, nonce, http.StatusNotFound, msgNotFound)
	case err != nil:
		u.flowError(w, r, nonce, slug, err)
	case resp.Reload:
		headers(w, nonce, cspExtra{})
		http.Redirect(w, r, r.URL.RequestURI(), see)
	default:
		if rd, ok := resp.Challenge.(*executor.Redirect); ok {
			headers(w, nonce, cspExtra{})
			if rd.To == "/" && slug == u.settingsFlow() {
				// The settings flow ended (the stage after its form
				// saved): the landing page says so.
				http.SetCookie(w, &http.Cookie{Name: NoticeCookie, Value: noticeSettings, Path: "/", MaxAge: 60,
					HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: u.sess.Secure(r)})
			}
			http.Redirect(w, r, rd.To, see)
			return
		}
		// visitor is the logged-in visitor's name, which their pages
		// kept for everyone must not show (render).
		session, visitor := req.Session, ""
		if req.User.Authenticated {
			visitor = req.Username
		}
		switch {
		case resp.Login != nil:
			session, visitor = resp.Login.Session, resp.Login.Username
		case resp.Logout != nil:
			session = resp.Logout.Session
		}
		u.render(w, r, nonce, http.StatusOK, resp.Challenge, u.csrf(session), posted, visitor)
	}
}

// serveStart serves StartPath + slug + "/": the flow planned for the
// logged-in visitor (executor.Executor.Execute), then its page. An
// anonymous visitor is sent to "/" (the login), a link on another site
// gets the confirm page, an unknown flow 404, and a flow whose policies
// refuse the visitor the executor's message (400, as its execute
// endpoint answers).
func (u *UI) serveStart(w http.ResponseWriter, r *http.Request, slug string) {
	nonce := newNonce()
	if u.getOnly(w, r, nonce) {
		return
	}
	req, err := u.sess.Request(w, r)
	if err != nil {
		u.flowError(w, r, nonce, slug, err)
		return
	}
	if !req.User.Authenticated {
		headers(w, nonce, cspExtra{})
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	if u.sess.CheckOrigin(r) != nil {
		// It replaces the session's execution of the flow: by the
		// visitor's own click only.
		u.confirm(w, r, nonce)
		return
	}
	if u.started(w, r, nonce, slug, u.e.Execute(r.Context(), slug, req)) {
		headers(w, nonce, cspExtra{})
		http.Redirect(w, r, FlowPath+url.PathEscape(slug)+"/", http.StatusFound)
	}
}

// started answers err, the error of starting the flow with slug for the
// visitor (executor.Executor.Execute, or Running before it), and says
// whether there was none:
// an unknown flow is 404, a flow whose policies refuse the visitor the
// executor's message (400, as its execute endpoint answers), anything
// else the flow error page.
func (u *UI) started(w http.ResponseWriter, r *http.Request, nonce, slug string, err error) bool {
	var na *executor.NotApplicableError
	switch {
	case err == nil:
		return true
	case errors.Is(err, executor.ErrUnknownFlow):
		u.status(w, r, nonce, http.StatusNotFound, msgNotFound)
	case errors.As(err, &na):
		u.status(w, r, nonce, http.StatusBadRequest, na.Error())
	default:
		u.flowError(w, r, nonce, slug, err)
	}
	return false
}

// How a flow starts for a logged-in visitor whose session has none of it
// under way (startOf).
const (
	// startAtRequest: at the request, as for anyone.
	startAtRequest = iota
	// startExecuted: planned for the visitor first, as StartPath plans
	// it (the settings flow: its user_write writes the pending user, and
	// without one would take the visitor's own username for a new
	// user's).
	startExecuted
	// startConfirmed: at the POST of a page that asks first, which no
	// other site can send (the CSRF token): a flow of the unenrollment
	// designation, whose user_delete deletes the visitor at its first
	// GET (authentik runs it at the GET).
	startConfirmed
)

// startOf is how the flow with slug starts for a logged-in visitor
// without an execution of it: startAtRequest for an unknown flow, which
// the executor answers.
func (u *UI) startOf(r *http.Request, slug string) int {
	if slug == u.settingsFlow() {
		return startExecuted
	}
	if d, err := u.e.Designation(r.Context(), slug); err == nil && d == flow.DesignationUnenrollment {
		return startConfirmed
	}
	return startAtRequest
}

// getOnly answers a request of another method than GET or HEAD (405),
// saying whether it did.
func (u *UI) getOnly(w http.ResponseWriter, r *http.Request, nonce string) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return false
	}
	w.Header().Set("Allow", "GET, HEAD")
	u.status(w, r, nonce, http.StatusMethodNotAllowed, msgMethod)
	return true
}

// confirm answers a logged-in visitor's GET of a flow page from
// another site: a page with a link to the same URL, which the
// visitor's click follows from this origin.
func (u *UI) confirm(w http.ResponseWriter, r *http.Request, nonce string) {
	p := u.page(nonce, "")
	p.Title, p.Background = u.brand.Title, u.brand.DefaultFlowBackground
	p.Status = &Status{Code: http.StatusOK, Message: msgCrossSite, Continue: r.URL.RequestURI()}
	u.write(w, r, http.StatusOK, u.views.status, p, cspExtra{})
}

// confirmPost answers a GET with a page that says msg and has a button
// that posts back (with the session's CSRF token): for an emailed link's
// one-time key opened without the session cookie (the POST goes on to
// the page) and for an unenrollment flow (the POST starts it).
func (u *UI) confirmPost(w http.ResponseWriter, r *http.Request, nonce, session, msg string) {
	p := u.page(nonce, u.csrf(session))
	p.Title, p.Background = u.brand.Title, u.brand.DefaultFlowBackground
	p.Action, p.Component = r.URL.RequestURI(), continueComponent
	p.Status = &Status{Code: http.StatusOK, Message: msg, Post: true}
	u.write(w, r, http.StatusOK, u.views.status, p, cspExtra{})
}

// flowError answers an unexpected error: its event, and the flow error
// page with the request id.
func (u *UI) flowError(w http.ResponseWriter, r *http.Request, nonce, slug string, err error) {
	fe := u.sess.FlowError(slug, err)
	w.Header().Set("X-authentik-id", fe.RequestID)
	u.render(w, r, nonce, http.StatusInternalServerError, fe, "", nil, "")
}

// remember keeps or forgets the identification's username for the
// browser, as its "Remember me" box says.
func (u *UI) remember(w http.ResponseWriter, r *http.Request, f *form) {
	c := &http.Cookie{Name: RememberCookie, Path: FlowPath, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: u.sess.Secure(r)}
	switch {
	case f.get("remember_me") != "" && f.get("uid_field") != "":
		c.Value, c.MaxAge = url.QueryEscape(f.get("uid_field")), 90*24*3600
	default:
		if _, err := r.Cookie(RememberCookie); err != nil {
			return
		}
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// remembered is the username the browser's identification page
// remembers, "" for none.
func remembered(r *http.Request) string {
	c, err := r.Cookie(RememberCookie)
	if err != nil {
		return ""
	}
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return ""
	}
	return v
}

// Flows the landing page links to when the brand names none:
// authentik's default blueprints' slugs.
const (
	defaultUserSettings   = "default-user-settings-flow"
	defaultPasswordChange = "default-password-change"
)

// serveLanding serves "/": an anonymous visitor goes to the default
// authentication flow (executor.Executor.DefaultFlow); a logged-in one
// sees their username, their authenticator devices, links to set one up
// (the setup stages with a configure flow), and links to change their
// settings and password and to log out.
func (u *UI) serveLanding(w http.ResponseWriter, r *http.Request) {
	nonce := newNonce()
	if u.getOnly(w, r, nonce) {
		return
	}
	req, err := u.sess.Request(w, r)
	if err != nil {
		u.flowError(w, r, nonce, "", err)
		return
	}
	if !req.User.Authenticated {
		slug, err := u.e.DefaultFlow(r.Context(), flow.DesignationAuthentication, req)
		switch {
		case errors.Is(err, executor.ErrNoDefaultFlow):
			u.status(w, r, nonce, http.StatusNotFound, msgNoLogin)
		case err != nil:
			u.flowError(w, r, nonce, "", err)
		default:
			headers(w, nonce, cspExtra{})
			http.Redirect(w, r, FlowPath+url.PathEscape(slug)+"/", http.StatusFound)
		}
		return
	}
	b := u.brand
	settings := u.settingsFlow()
	p := u.page(nonce, "")
	p.Title, p.Background = b.Title, b.DefaultFlowBackground
	devs, setup, err := u.e.Authenticators(r.Context(), req.User.PK)
	if err != nil {
		u.flowError(w, r, nonce, "", err)
		return
	}
	p.Landing = &Landing{
		Username:       req.Username,
		Avatar:         executor.DefaultAvatar,
		UserSettings:   StartPath + url.PathEscape(settings) + "/",
		PasswordChange: StartPath + defaultPasswordChange + "/",
		Logout:         executor.InvalidationURL,
		Devices:        devs,
	}
	if b.FlowUnenrollment != "" {
		p.Landing.DeleteAccount = FlowPath + url.PathEscape(b.FlowUnenrollment) + "/"
	}
	for _, st := range setup {
		p.Landing.Setup = append(p.Landing.Setup, SetupLink{Name: st.Name, Link: executor.ConfigurePath + st.PK.String() + "/"})
	}
	if c, err := r.Cookie(NoticeCookie); err == nil {
		if c.Value == noticeSettings {
			p.Landing.Notice = MsgSettingsSaved
		}
		http.SetCookie(w, &http.Cookie{Name: NoticeCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: u.sess.Secure(r)})
	}
	u.write(w, r, http.StatusOK, u.views.landing, p, cspExtra{})
}

// noticeSettings is NoticeCookie's value after the settings flow.
const noticeSettings = "settings"

// settingsFlow is the slug of the user settings flow: the brand's, else
// authentik's default.
func (u *UI) settingsFlow() string {
	if s := u.brand.FlowUserSettings; s != "" {
		return s
	}
	return defaultUserSettings
}

// serveImage serves one of the UI's images.
// Its 405 has the same headers.
func serveImage(w http.ResponseWriter, r *http.Request, ctype string, b []byte) {
	h := w.Header()
	h["X-Content-Type-Options"] = nosniff
	h["Content-Security-Policy"] = imagePolicy
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, msgMethod, http.StatusMethodNotAllowed)
		return
	}
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}
