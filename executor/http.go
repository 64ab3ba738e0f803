package executor

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/authflow/authflow/internal/jsonresp"
	"github.com/authflow/authflow/plan"
)

// ExecutorPath is where HTTPHandler serves the executor:
// GET and POST ExecutorPath + "{slug}/?query=...".
const ExecutorPath = "/api/v3/flows/executor/"

// Defaults of HTTPOptions.
const (
	// DefaultCookie is the name of the session cookie HTTPHandler sets.
	DefaultCookie = "authflow_session"
	// DefaultMaxBody bounds a POST's body, in bytes.
	DefaultMaxBody = 64 << 10
)

// HTTPOptions configure HTTPHandler. Every zero field means its default.
type HTTPOptions struct {
	// Session returns the request's session id, from the host's own
	// session; "" means none, and the request is refused with
	// ak-stage-flow-error. Nil means HTTPHandler's own cookie (Cookie): a
	// random id, HttpOnly, SameSite=Lax, Path /, Secure under TLS (the
	// server's, or a proxy's that sends X-Forwarded-Proto: https).
	Session func(*http.Request) string
	// Cookie names HTTPHandler's session cookie; "" means DefaultCookie.
	Cookie string
	// User returns the request's user and its username. Nil means the
	// user HTTPHandler's own session is logged in as (SessionStore)
	// with its own cookie, and an anonymous user with the host's
	// Session.
	User func(*http.Request) (plan.User, string)
	// Login and Logout act on a login or logout (Response.Login,
	// Response.Logout) with the host's Session: the host makes the new
	// id the client's session, logged in or not. Nil with the host's
	// Session means the host is not told (a configuration_error event
	// says so). With HTTPHandler's own cookie they are not called: the
	// handler keeps the session (SessionStore) and sets the cookie.
	Login  func(http.ResponseWriter, *http.Request, Login) error
	Logout func(http.ResponseWriter, *http.Request, Logout) error
	// MaxBody bounds a POST's body; zero means DefaultMaxBody.
	MaxBody int64
	// CrossOrigin refuses a GET or POST from another origin (CSRF): nil means
	// net/http's zero CrossOriginProtection, which trusts no other origin.
	// A host whose pages are on another origin than the API (or behind a
	// proxy that rewrites Host) adds it with AddTrustedOrigin.
	CrossOrigin *http.CrossOriginProtection
}

// MsgCrossOrigin is the detail of the 403 answer to a request from another
// origin, in the shape of the message authentik's API (DRF's
// SessionAuthentication over Django's CSRF check) gives; %s is the
// request's Origin, or its Sec-Fetch-Site when it sends no Origin.
const MsgCrossOrigin = "CSRF Failed: Origin checking failed - %s does not match any trusted origins."

// HTTPHandler returns the executor's HTTP endpoint, authentik's
// GET and POST /api/v3/flows/executor/{slug}/?query=...: 200 with a
// challenge, or 302 to the identical URL (Response.Reload), and 404 for
// an unknown flow. A POST's body is a JSON object; a GET or POST from
// another origin is 403 with MsgCrossOrigin (HTTPOptions.CrossOrigin). Anything unexpected
// (a body too large or not JSON, an error) is 200 ak-stage-flow-error
// with a request id, whose event (system_exception) holds the error; the
// client never sees the error's text.
func (e *Executor) HTTPHandler(o HTTPOptions) http.Handler {
	return &handler{e.HTTPSessions(o)}
}

// HTTPSessions is how HTTPHandler finds and changes the session of an
// HTTP request, for a host that serves flows over HTTP in another shape
// (package flowui's pages): with the same HTTPOptions, it sees the same
// sessions (the same cookie and SessionStore, or the host's), so that
// the host's endpoints and HTTPHandler share one session per client.
type HTTPSessions struct {
	e *Executor
	o HTTPOptions
	// tokenName says o.Cookie is a token, a name net/http finds a
	// cookie by (sessionCookie).
	tokenName bool
}

// HTTPSessions returns the session mechanism of HTTPHandler(o).
func (e *Executor) HTTPSessions(o HTTPOptions) *HTTPSessions {
	if o.Cookie == "" {
		o.Cookie = DefaultCookie
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.CrossOrigin == nil {
		o.CrossOrigin = http.NewCrossOriginProtection()
	}
	return &HTTPSessions{e: e, o: o, tokenName: (&http.Cookie{Name: o.Cookie}).String() != ""}
}

// ErrCrossOrigin is a request refused by HTTPOptions.CrossOrigin.
var ErrCrossOrigin = errors.New("executor: a request from another origin")

// CheckOrigin refuses a request from another origin
// (HTTPOptions.CrossOrigin), whatever its method, with an error wrapping
// ErrCrossOrigin; see HTTPHandler.
func (s *HTTPSessions) CheckOrigin(r *http.Request) error {
	if err := s.crossOrigin(r); err != nil {
		return fmt.Errorf("%w: %w", ErrCrossOrigin, err)
	}
	return nil
}

// Request returns the Request of r without its Query, which the caller
// sets: its session (the host's, or the cookie's, set on w when missing
// or malformed), its user, and its HTTP request for policies. It fails
// with ErrNoSession when the host's Session gives none, or with the
// SessionStore's error.
func (s *HTTPSessions) Request(w http.ResponseWriter, r *http.Request) (Request, error) {
	session, fresh := s.session(w, r)
	if session == "" {
		return Request{}, ErrNoSession
	}
	req := Request{Session: session, HTTP: httpRequest(r)}
	if mayHaveCookie(r, CookieMFA) {
		if c, err := r.Cookie(CookieMFA); err == nil {
			req.MFA = c.Value
		}
	}
	// A session id made for this request is in no SessionStore: it is
	// anonymous without looking.
	if fresh {
		return req, nil
	}
	if err := s.user(r, &req); err != nil {
		return Request{}, err
	}
	return req, nil
}

// Apply carries out resp's login or logout (Response.Login,
// Response.Logout), if any: with HTTPHandler's own cookie, it keeps the
// session in the SessionStore and sets the cookie to the new id on w;
// with the host's Session, it calls HTTPOptions.Login or Logout. It sets
// the remembered-MFA cookie resp asks for (Response.MFA), whoever keeps
// the session.
func (s *HTTPSessions) Apply(w http.ResponseWriter, r *http.Request, resp Response) error {
	if m := resp.MFA; m != nil {
		http.SetCookie(w, &http.Cookie{Name: CookieMFA, Value: m.Value, Path: "/", Expires: m.Expires,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r)})
	}
	return s.sessionChange(w, r, resp)
}

// User returns the user r's session is logged in as: HTTPOptions.User's,
// else that of the session its cookie names. Unlike Request it starts no
// session and sets no cookie: a request without one, or with one the
// SessionStore does not hold, is anonymous (a zero plan.User). It is
// how a host's API knows who calls it from the flow pages' session (for
// api.Options.RequestUser, as authflow serve does).
func (s *HTTPSessions) User(r *http.Request) (plan.User, error) {
	req := Request{}
	if s.o.Session != nil {
		req.Session = s.o.Session(r)
	} else if v, ok := s.sessionCookie(r); ok && validSessionID(v) {
		req.Session = v
	}
	if s.o.User == nil && req.Session == "" {
		return plan.User{}, nil
	}
	if err := s.user(r, &req); err != nil {
		return plan.User{}, err
	}
	return req.User, nil
}

// Secure says whether r came over TLS, its own or a proxy's
// (X-Forwarded-Proto: https): whether cookies set on its answer are
// Secure, as the session cookie is.
func (s *HTTPSessions) Secure(r *http.Request) bool { return secure(r) }

// FlowError reports an unexpected error of a request in flow slug as
// HTTPHandler does: a system_exception event holding err under a new
// request id, and the ak-stage-flow-error challenge that shows the id
// only.
func (s *HTTPSessions) FlowError(slug string, err error) *FlowError {
	id := newRequestID()
	s.e.event(Event{Action: EventSystemException, Message: err.Error(), Flow: slug, RequestID: id})
	return &FlowError{Envelope: Envelope{Component: ComponentFlowError}, RequestID: id}
}

type handler struct{ *HTTPSessions }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, ExecutorPath)
	slug, ok2 := strings.CutSuffix(rest, "/")
	if !ok || !ok2 || slug == "" || strings.Contains(slug, "/") {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": `Method "` + r.Method + `" not allowed.`})
		return
	}
	w.Header()["X-Frame-Options"] = sameOrigin
	if err := h.CheckOrigin(r); err != nil {
		origin := r.Header.Get("Origin")
		if origin == "" {
			origin = r.Header.Get("Sec-Fetch-Site")
		}
		writeJSON(w, http.StatusForbidden, map[string]string{"detail": fmt.Sprintf(MsgCrossOrigin, origin)})
		return
	}
	req, err := h.Request(w, r)
	if req.HTTP != nil {
		req.Query = req.HTTP.Query.Get("query") // parsed once, by Request
	} else {
		req.Query = r.URL.Query().Get("query")
	}
	var resp Response
	switch {
	case err != nil:
	case r.Method == http.MethodGet:
		resp, err = h.e.Get(r.Context(), slug, req)
	default:
		var body json.RawMessage
		if body, err = readBody(w, r, h.o.MaxBody); err == nil {
			resp, err = h.e.Submit(r.Context(), slug, req, body)
		}
	}
	if err == nil {
		err = h.Apply(w, r, resp)
	}
	switch {
	case errors.Is(err, ErrUnknownFlow):
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
	case err != nil:
		fe := h.FlowError(slug, err)
		w.Header().Set("X-authentik-id", fe.RequestID)
		writeChallenge(w, fe)
	case resp.Reload:
		w.Header()["Location"] = []string{requestURI(r)}
		w.WriteHeader(http.StatusFound)
	default:
		writeChallenge(w, resp.Challenge)
	}
}

// crossOrigin checks a request as HTTPOptions.CrossOrigin checks a
// POST, a GET included: a GET reaches stages with side effects
// (user_delete, user_logout, user_write, the email stage), and a
// cross-site navigation carries the SameSite=Lax cookie. Browsers tell
// (Sec-Fetch-Site) on every request, and send Origin on a CORS fetch,
// so a trusted origin's page and a program (neither header) are
// answered.
func (h *HTTPSessions) crossOrigin(r *http.Request) error {
	if r.Method != http.MethodPost {
		asPost := *r
		asPost.Method = http.MethodPost
		r = &asPost
	}
	return h.o.CrossOrigin.Check(r)
}

// user sets req's user: the host's (HTTPOptions.User), else the one
// the handler's own session is logged in as.
func (h *HTTPSessions) user(r *http.Request, req *Request) error {
	switch {
	case h.o.User != nil:
		req.User, req.Username = h.o.User(r)
	case h.o.Session == nil && req.Session != "":
		u, ok, err := h.e.sessions.User(r.Context(), req.Session)
		if err != nil {
			return err
		}
		if ok {
			req.User, req.Username = plan.User{PK: u.PK, Authenticated: true}, u.Username
		}
	}
	return nil
}

// errBody is a POST body that is not a JSON object within the bound.
var errBody = errors.New("executor: the body is not a JSON object within the size bound")

// readBody reads a POST's body: a JSON object, or empty (taken as {}).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (json.RawMessage, error) {
	b, err := readAll(w, r, limit)
	if err != nil {
		return nil, errBody
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return json.RawMessage("{}"), nil
	}
	if b[0] != '{' || !json.Valid(b) {
		return nil, errBody
	}
	return b, nil
}

// readAll reads r's body as io.ReadAll(http.MaxBytesReader(w, r.Body,
// limit)) does (MaxBytesReader tells the server to close the connection
// after a body too large). A body whose ContentLength is within the
// bound is read into a slice one byte longer than it says, at once, as
// net/http's body ends there and MaxBytesReader has nothing to bound;
// one that turns out longer than it said goes on through
// MaxBytesReader, from its first byte.
func readAll(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	n := r.ContentLength
	if n < 0 || n > limit {
		return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	}
	b := make([]byte, 0, n+1)
	for len(b) < cap(b) {
		k, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+k]
		if err == io.EOF && len(b) <= int(n) {
			return b, nil
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	rest := io.MultiReader(bytes.NewReader(b), r.Body)
	return io.ReadAll(http.MaxBytesReader(w, io.NopCloser(rest), limit))
}

// session returns the request's session id, from the host or from the
// cookie, which it sets when missing or malformed; fresh says the id was
// made for this request (a new random id, in no SessionStore).
func (h *HTTPSessions) session(w http.ResponseWriter, r *http.Request) (id string, fresh bool) {
	if h.o.Session != nil {
		return h.o.Session(r), false
	}
	if v, ok := h.sessionCookie(r); ok && validSessionID(v) {
		return v, false
	}
	id = newSessionID()
	h.setCookie(w, r, id, time.Time{})
	return id, true
}

// sessionCookie returns the value of r's session cookie, as
// r.Cookie(name) finds it. A request that carries one cookie only (one
// Cookie header, no ';'), as a client of the executor alone does, has it
// read in place, without the slice and the Cookie r.Cookie allocates.
func (h *HTTPSessions) sessionCookie(r *http.Request) (string, bool) {
	if lines := r.Header["Cookie"]; len(lines) == 1 && h.tokenName && oneCookieRead() && strings.IndexByte(lines[0], ';') < 0 {
		name, v, _ := strings.Cut(textproto.TrimString(lines[0]), "=")
		if textproto.TrimString(name) != h.o.Cookie {
			return "", false
		}
		if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		for i := range len(v) {
			if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' {
				return "", false
			}
		}
		return v, true
	}
	c, err := r.Cookie(h.o.Cookie)
	if err != nil {
		return "", false
	}
	return c.Value, true
}

// oneCookieRead says net/http reads a request's only cookie, as it does
// unless GODEBUG's httpcookiemaxnum is set below one.
var oneCookieRead = sync.OnceValue(func() bool {
	_, err := http.ParseCookie("a=b")
	return err == nil
})

// setCookie sets the session cookie to id, lasting until expires (zero:
// until the browser closes).
func (h *HTTPSessions) setCookie(w http.ResponseWriter, r *http.Request, id string, expires time.Time) {
	c := &http.Cookie{Name: h.o.Cookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r)}
	if !expires.IsZero() {
		c.MaxAge = max(1, int(expires.Sub(h.e.now()).Seconds()))
	}
	http.SetCookie(w, c)
}

// secure says whether r came over TLS: its own, or a proxy's that says
// so (X-Forwarded-Proto: https, Django's SECURE_PROXY_SSL_HEADER as
// authentik sets it). Believing a client that claims so is harmless: it
// only keeps the client's own cookie off plain HTTP.
func secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// sessionChange carries out a login or logout: with the handler's own
// cookie, it keeps the session in the SessionStore and sets the cookie
// to the new id; with the host's session, it calls the host.
func (h *HTTPSessions) sessionChange(w http.ResponseWriter, r *http.Request, resp Response) error {
	switch {
	case resp.Login == nil && resp.Logout == nil:
		return nil
	case h.o.Session != nil && resp.Login != nil:
		if h.o.Login == nil {
			h.e.event(Event{Action: EventConfigurationError, Message: "a user logged in, and HTTPOptions.Login is nil: the host's session does not know", User: resp.Login.Username})
			return nil
		}
		return h.o.Login(w, r, *resp.Login)
	case h.o.Session != nil:
		if h.o.Logout == nil {
			h.e.event(Event{Action: EventConfigurationError, Message: "a session logged out, and HTTPOptions.Logout is nil: the host's session does not know"})
			return nil
		}
		return h.o.Logout(w, r, *resp.Logout)
	case resp.Login != nil:
		if err := h.e.sessions.Start(r.Context(), *resp.Login); err != nil {
			return err
		}
		h.setCookie(w, r, resp.Login.Session, resp.Login.Expires)
		return nil
	}
	if err := h.e.sessions.End(r.Context(), resp.Logout.Previous); err != nil {
		return err
	}
	h.setCookie(w, r, resp.Logout.Session, time.Time{})
	return nil
}

// validSessionID says whether s is an id the handler could have made.
func validSessionID(s string) bool {
	if len(s) != 43 {
		return false
	}
	var b [32]byte
	n, err := base64.RawURLEncoding.Decode(b[:], []byte(s))
	return err == nil && n == len(b)
}

// httpRequest is what policies see of r.
func httpRequest(r *http.Request) *plan.HTTPRequest {
	// The session id is the session's key: policies do not see it.
	hr := &plan.HTTPRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: cloneWithout(r.Header, "Cookie")}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		hr.ClientIP = ap.Addr().Unmap()
	}
	return hr
}

// cloneWithout is h.Clone() without the header named key (canonical):
// the values in one allocation, as Clone has them.
func cloneWithout(h http.Header, key string) http.Header {
	n := 0
	for k, vv := range h {
		if k != key {
			n += len(vv)
		}
	}
	sv := make([]string, n)
	c := make(http.Header, len(h))
	for k, vv := range h {
		switch {
		case k == key:
		case vv == nil:
			c[k] = nil
		default:
			n := copy(sv, vv)
			c[k] = sv[:n:n]
			sv = sv[n:]
		}
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	jsonresp.Write(w, status, "application/json", v, internalError)
}

// internalError is writeJSON's answer to a value it cannot encode.
var internalError = map[string]string{"detail": "internal error"}

// sameOrigin is the value of the X-Frame-Options header of the
// executor's answers, shared by them all (Header.Set would allocate it
// at each): it is never changed in place, and an append to it (Add)
// copies it, as its capacity is its length.
var sameOrigin = []string{"SAMEORIGIN"}

// mayHaveCookie says whether r may carry a cookie named name: false when
// no Cookie header holds the name at all, so that r.Cookie, which parses
// every cookie, need not look.
func mayHaveCookie(r *http.Request, name string) bool {
	for _, line := range r.Header["Cookie"] {
		if strings.Contains(line, name) {
			return true
		}
	}
	return false
}

// requestURI is r.URL.RequestURI(): the request line's own target when
// it is the same string (the common case), which it need not build.
func requestURI(r *http.Request) string {
	u := r.URL
	if u.Opaque == "" && (u.RawQuery != "" || u.ForceQuery) {
		p := u.EscapedPath()
		if t := r.RequestURI; p != "" && len(t) == len(p)+1+len(u.RawQuery) && t[:len(p)] == p && t[len(p)] == '?' && t[len(p)+1:] == u.RawQuery {
			return t
		}
	}
	return u.RequestURI()
}
