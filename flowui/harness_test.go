package flowui_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flowui"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"golang.org/x/net/html"
)

// server is authflow serve's handlers over a store with authentik's
// bootstrap and default blueprints (and the examples named), on an
// httptest.Server.
type server struct {
	t   testing.TB
	s   *store.Store
	e   *executor.Executor
	ui  *flowui.UI
	srv *httptest.Server

	mu     sync.Mutex
	events []executor.Event
	mails  []executor.Mail
}

// VerifyCaptcha accepts the token "good": the server's captcha
// verifier.
func (sv *server) VerifyCaptcha(_ context.Context, _ stage.Captcha, token, _ string) (map[string]any, error) {
	if token != "good" {
		return nil, &validate.Error{NonField: []string{"Invalid captcha response"}}
	}
	return map[string]any{"success": true}, nil
}

// SendMail keeps the mail: the server's mailer.
func (sv *server) SendMail(_ context.Context, m executor.Mail) error {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	sv.mails = append(sv.mails, m)
	return nil
}

// firstMail waits for the first mail (the executor sends in the
// background), at most 10 s, and returns its text.
func (sv *server) firstMail(t testing.TB) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		sv.mu.Lock()
		if len(sv.mails) > 0 {
			text := sv.mails[0].Text
			sv.mu.Unlock()
			return text
		}
		sv.mu.Unlock()
	}
	t.Fatal("no mail")
	return ""
}

func newServer(t testing.TB, examples ...string) *server { return newServerWith(t, nil, examples...) }

// newServerWith is newServer whose executor options configure changes,
// when not nil; host is the server's URL with the host name localhost
// (a WebAuthn relying party's origin: an IP address is no RP id).
func newServerWith(t testing.TB, configure func(o *executor.Options, host string), examples ...string) *server {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "x.db"), &store.Options{NoSync: true, Passwords: password.Policy{Iterations: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	load := func(name string, doc []byte, o blueprint.Options) {
		t.Helper()
		if res, err := blueprint.Load(ctx, s, bytes.NewReader(doc), o); err != nil || !res.Success {
			t.Fatalf("%s: %v %+v", name, err, res.Logs)
		}
	}
	load("bootstrap", blueprint.Bootstrap(), blueprint.Options{EnvPrefixes: []string{"AUTHENTIK_BOOTSTRAP_"}})
	names, _ := fs.Glob(blueprint.Defaults(), "*.yaml")
	slices.Sort(names)
	for _, n := range names {
		b, _ := fs.ReadFile(blueprint.Defaults(), n)
		load(n, b, blueprint.Options{})
	}
	for _, n := range examples {
		b, err := fs.ReadFile(blueprintExamples, n)
		if err != nil {
			t.Fatal(err)
		}
		load(n, b, blueprint.Options{})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sv := &server{t: t, s: s}
	o := executor.Options{Passwords: password.Policy{Iterations: 1000}, Mailer: sv, Captcha: sv, BaseURL: "http://flowui.test",
		Sleep:  func(context.Context, time.Duration) {},
		Events: func(ev executor.Event) { sv.mu.Lock(); sv.events = append(sv.events, ev); sv.mu.Unlock() }}
	if configure != nil {
		configure(&o, "http://localhost:"+strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:"))
	}
	sv.e, err = executor.New(s, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sv.e.Close)
	sv.ui, err = flowui.New(sv.e, flowui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sv.srv = httptest.NewUnstartedServer(mux(sv.e, sv.ui))
	sv.srv.Listener.Close()
	sv.srv.Listener = ln
	sv.srv.Start()
	t.Cleanup(sv.srv.Close)
	return sv
}

// user creates a user of the store with a password.
func (sv *server) user(username, name, email, pw string) directory.User {
	sv.t.Helper()
	ctx := context.Background()
	u := directory.DefaultUser()
	u.Username, u.Name, u.Email = username, name, email
	if err := sv.s.Update(ctx, func(tx *store.Tx) error {
		var err error
		u, err = store.Users.Create(tx, u, nil)
		return err
	}); err != nil {
		sv.t.Fatal(err)
	}
	if err := sv.s.SetPassword(ctx, u.PK, &pw); err != nil {
		sv.t.Fatal(err)
	}
	return u
}

// mux mounts the executor's endpoints and the UI as authflow serve does.
func mux(e *executor.Executor, ui *flowui.UI) http.Handler {
	m := http.NewServeMux()
	o := executor.HTTPOptions{}
	m.Handle(executor.ExecutorPath, e.HTTPHandler(o))
	m.Handle(executor.CancelURL, e.CancelHandler(o))
	m.Handle(executor.DefaultFlowPath, e.DefaultFlowHandler(o))
	m.Handle(executor.ConfigurePath, e.ConfigureHandler(o))
	m.Handle("/", ui)
	return m
}

// blueprintExamples are authentik's example blueprints.
var blueprintExamples = os.DirFS(filepath.Join("..", "blueprint", "testdata", "authentik", "example"))

// browser is a client with a cookie jar that follows redirects.
type browser struct {
	sv *server
	c  *http.Client
	// last is the last page: its URL, status, headers and document.
	last *page
	// onPage, when set, is called with each page the browser lands on
	// (BenchmarkEveryPage measures it there).
	onPage func(*page)
}

func (sv *server) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{sv: sv, c: &http.Client{Jar: jar}}
}

// page is an answer.
type page struct {
	url    *url.URL
	status int
	header http.Header
	body   string
	doc    *html.Node
}

func (b *browser) do(req *http.Request) *page {
	b.sv.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.sv.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := &page{url: resp.Request.URL, status: resp.StatusCode, header: resp.Header, body: string(body)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if p.doc, err = html.Parse(bytes.NewReader(body)); err != nil {
			b.sv.t.Fatalf("%s: %v", p.url, err)
		}
	}
	b.last = p
	if b.onPage != nil {
		b.onPage(p)
	}
	return p
}

// get loads path.
func (b *browser) get(path string) *page {
	b.sv.t.Helper()
	req, _ := http.NewRequest("GET", b.sv.srv.URL+path, nil)
	return b.do(req)
}

// submit fills the last page's form (the first, or the one whose
// submit button named by set's "" key is pressed) with set and posts
// it, as a browser does: its hidden and shown values, a checkbox sent
// when checked, a submit button's name and value.
func (b *browser) submit(set map[string]string) *page {
	b.sv.t.Helper()
	vals, files, action, multi := b.last.form(b.sv.t, set)
	var body bytes.Buffer
	ctype := "application/x-www-form-urlencoded"
	if multi {
		mw := multipart.NewWriter(&body)
		for _, kv := range vals {
			_ = mw.WriteField(kv[0], kv[1])
		}
		for k, v := range files {
			h := make(map[string][]string)
			h["Content-Disposition"] = []string{`form-data; name="` + k + `"; filename="f.bin"`}
			h["Content-Type"] = []string{"image/png"}
			w, _ := mw.CreatePart(h)
			w.Write([]byte(v))
		}
		mw.Close()
		ctype = mw.FormDataContentType()
	} else {
		q := url.Values{}
		for _, kv := range vals {
			q.Add(kv[0], kv[1])
		}
		body.WriteString(q.Encode())
	}
	u := b.last.url.ResolveReference(&url.URL{}).String()
	if action != "" {
		ref, _ := url.Parse(action)
		u = b.last.url.ResolveReference(ref).String()
	}
	req, _ := http.NewRequest("POST", u, &body)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Origin", b.sv.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}
