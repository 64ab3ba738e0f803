package browsertest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/browsertest"
	"github.com/chromedp/chromedp"
)

func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.CloseShared()
	os.Exit(code)
}

// goodPage is a login form that breaks none of the rules: the cases of
// TestCheck each break one.
const goodPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in</title>
<meta name="viewport" content="width=device-width">
<style>
body { font: 16px sans-serif; background: #eef; color: #222; margin: 0 }
main { background: #fff; max-width: 24rem; margin: 2rem auto; padding: 1rem }
label { display: block }
.error { color: #a00 }
input { color: #111; background: #fff; border: 1px solid #555 }
button { color: #fff; background: #124; border: 0; padding: .5rem }
a { color: #035 }
</style></head>
<body><main>
<h1>Log in</h1>
<form method="post" action="/login">
<label for="user">Username</label>
<input id="user" name="username" autocomplete="username" autofocus>
<label for="pw">Password</label>
<input id="pw" name="password" type="password" autocomplete="current-password" aria-invalid="true" aria-describedby="pw-error">
<p id="pw-error" class="error">Invalid password</p>
<label><input type="checkbox" name="remember"> Remember me</label>
<fieldset><legend>Colour</legend>
<label><input type="radio" name="c" value="r"> Red</label>
<label><input type="radio" name="c" value="g"> Green</label>
</fieldset>
<button type="submit">Log in</button>
</form>
<p><a href="/recover">Forgot your password?</a></p>
</main></body></html>`

// page serves html at / (and the same page after a POST, through a
// redirect), with a Content-Security-Policy.
func page(t *testing.T, html string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			_ = r.ParseForm()
			http.Redirect(w, r, "/?user="+r.PostForm.Get("username"), http.StatusSeeOther)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, html)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A page that follows the rules passes them, with JavaScript on and off;
// each change that breaks one rule gives that rule's problem, and no
// other.
func TestCheck(t *testing.T) {
	b := browsertest.Shared(t)
	for _, noScript := range []bool{false, true} {
		p := b.NewPage(t, browsertest.Options{NoScript: noScript})
		p.Navigate(page(t, goodPage).URL)
		if problems := p.Check(); len(problems) != 0 {
			t.Errorf("NoScript %v: the good page: %v", noScript, problems)
		}
	}

	for _, c := range []struct {
		name  string
		edits []string // old, new, old, new, ...
		width int64
		rules []string // sorted, each once
		axe   string   // the axe-core rule that also fails, if it has one
	}{
		{"unlabeled input", []string{`<label for="user">Username</label>`, ``}, 0, []string{"label"}, "axe:label"},
		{"label for another id", []string{`<label for="user">`, `<label for="nobody">`}, 0, []string{"label"}, ""},
		{"blank aria-label", []string{`<label for="user">Username</label>`, ``, `<input id="user"`, `<input aria-label=" " id="user"`}, 0, []string{"label"}, ""},
		{"no lang", []string{`<html lang="en">`, `<html>`}, 0, []string{"lang"}, "axe:html-has-lang"},
		{"no title", []string{`<title>Log in</title>`, ``}, 0, []string{"title"}, ""},
		{"low contrast", []string{`.error { color: #a00 }`, `.error { color: #aaa }`}, 0, []string{"contrast"}, "axe:color-contrast"},
		{"large text at 3:1", []string{`.error { color: #a00 }`, `.error { color: #888; font-size: 24px }`}, 0, nil, ""},
		{"low contrast through opacity", []string{`.error { color: #a00 }`, `.error { color: #a00; opacity: .4 }`}, 0, []string{"contrast"}, ""},
		{"dark text through a translucent card on black", []string{`main { background: #fff;`, `main { background: rgba(0,0,0,.1);`, `body { font: 16px sans-serif; background: #eef; color: #222;`, `body { font: 16px sans-serif; background: #000; color: #222;`}, 0, []string{"contrast"}, ""},
		{"text over a background image is not judged", []string{`main { background: #fff;`, `main { background: url(data:,);`, `body { font: 16px sans-serif; background: #eef; color: #222;`, `body { font: 16px sans-serif; background: #000; color: #222;`}, 0, nil, ""},
		{"oklch colour", []string{`.error { color: #a00 }`, `.error { color: oklch(0.8 0 0) }`}, 0, []string{"contrast"}, ""},
		{"placeholder in the browser's colour", []string{`autocomplete="username"`, `autocomplete="username" placeholder="Username"`}, 0, nil, ""},
		{"light placeholder", []string{`autocomplete="username"`, `autocomplete="username" placeholder="Username"`, `input { color: #111;`, `input::placeholder { color: #ccc } input { color: #111;`}, 0, []string{"contrast"}, ""},
		{"password without autocomplete", []string{` autocomplete="current-password"`, ``}, 0, []string{"autocomplete"}, ""},
		{"username without autocomplete", []string{` autocomplete="username"`, ``}, 0, []string{"autocomplete"}, ""},
		{"invalid without its error", []string{` aria-describedby="pw-error"`, ``}, 0, []string{"error-described"}, ""},
		{"describedby a missing id", []string{`aria-describedby="pw-error"`, `aria-describedby="pw-err"`}, 0, []string{"aria-ref", "error-described"}, ""},
		{"duplicate id", []string{`<p id="pw-error"`, `<p id="user"`}, 0, []string{"aria-ref", "error-described", "unique-id"}, ""},
		{"empty button", []string{`<button type="submit">Log in</button>`, `<button type="submit"></button>`}, 0, []string{"name"}, "axe:button-name"},
		{"image without alt", []string{`<h1>Log in</h1>`, `<h1><img src="data:," width="8" height="8">Log in</h1>`}, 0, []string{"alt"}, "axe:image-alt"},
		{"positive tabindex", []string{`<button type="submit">`, `<button type="submit" tabindex="1">`}, 0, []string{"focus-order", "tabindex"}, ""},
		{"a word too long for its box", []string{`<label for="user">Username</label>`, `<label for="user">Username_with_a_name_far_too_long_to_fit_in_the_card_of_this_page</label>`}, 0, []string{"overflow"}, ""},
		{"a long word wrapped", []string{`<label for="user">Username</label>`, `<label for="user" style="overflow-wrap:anywhere">Username_with_a_name_far_too_long_to_fit_in_the_card_of_this_page</label>`}, 0, nil, ""},
		{"wide page at 320px", []string{`max-width: 24rem;`, `width: 40rem;`}, 320, []string{"reflow"}, ""},
		{"the good page at 320px", nil, 320, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			html := goodPage
			for i := 0; i < len(c.edits); i += 2 {
				if !strings.Contains(html, c.edits[i]) {
					t.Fatalf("%q is not in the page", c.edits[i])
				}
				html = strings.Replace(html, c.edits[i], c.edits[i+1], 1)
			}
			p := b.NewPage(t, browsertest.Options{Width: c.width})
			p.Navigate(page(t, html).URL)
			var rules, axe []string
			for _, pr := range p.Check() {
				t.Log(pr)
				if strings.HasPrefix(pr.Rule, "axe:") {
					axe = append(axe, pr.Rule)
				} else {
					rules = append(rules, pr.Rule)
				}
			}
			slices.Sort(rules)
			rules = slices.Compact(rules)
			if !slices.Equal(rules, c.rules) {
				t.Errorf("rules broken %q, want %q", rules, c.rules)
			}
			// axe-core finds the same problem (where it has a rule for
			// it), and no other.
			if browsertest.Axe() && c.axe != "" && !slices.Equal(slices.Compact(axe), []string{c.axe}) {
				t.Errorf("axe-core's rules broken %q, want %q", axe, c.axe)
			}
		})
	}
}

// Tab visits every control once, in document order, and one radio
// button of a group; the document itself is not in the order.
func TestFocusOrder(t *testing.T) {
	p := browsertest.Shared(t).NewPage(t, browsertest.Options{})
	srv := page(t, goodPage)
	p.Navigate(srv.URL)
	if got := p.Focused(); got != `input#user[name="username"][type="text"]` {
		t.Errorf("focus after the load on %q, want the autofocus field", got)
	}
	if got := p.URL(); got != srv.URL+"/" {
		t.Errorf("URL %q", got)
	}
	if got := p.HTML(); !strings.HasPrefix(got, `<html lang="en">`) || !strings.Contains(got, `<h1>Log in</h1>`) {
		t.Errorf("HTML %.80q", got)
	}
	want := []string{`input#user[name="username"][type="text"]`, `input#pw[name="password"][type="password"]`, `input[name="remember"][type="checkbox"]`, `input[name="c"][type="radio"]`, `button "Log in"`, `a "Forgot your password?"`}
	if got := p.FocusOrder(); !slices.Equal(got, want) {
		t.Errorf("focus order\n%q, want\n%q", got, want)
	}
}

// A person's session: type into fields, send the form with a click, land
// on the page the redirect names; the documents the page loaded are
// recorded with their headers, the redirect's end and not the 303.
func TestFormAndDocuments(t *testing.T) {
	p := browsertest.Shared(t).NewPage(t, browsertest.Options{})
	srv := page(t, goodPage)
	d := p.Navigate(srv.URL)
	if d.Status != http.StatusOK || d.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("first document %+v", d)
	}
	p.Type(p.Field("Username"), "ada")
	p.Type(p.Field("Password"), "secret")
	if got := p.Description(p.Field("Password")); got != "Invalid password" {
		t.Errorf("the password's description %q", got)
	}
	if got := p.Description(p.Field("Username")); got != "" {
		t.Errorf("the username's description %q", got)
	}
	p.Do(chromedp.Click(chromedp.CSS(p.Field("Green"))))
	if on := browsertest.Run(p, chromedp.Evaluate[bool](`document.querySelector("input[value=g]").checked`)); !on {
		t.Error("the radio button labelled Green is not checked")
	}
	d = p.Click(p.Button("Log in"))
	if d.URL != srv.URL+"/?user=ada" || d.Status != http.StatusOK {
		t.Errorf("after the form: %+v", d)
	}
	// Enter in a field sends the form too.
	p.Type("#user", "bob")
	if d := p.Press("\r"); d.URL != srv.URL+"/?user=bob" {
		t.Errorf("after Enter: %+v", d)
	}
	docs := p.Documents()
	if len(docs) != 3 {
		t.Fatalf("documents %+v, want 3", docs)
	}
	for _, d := range docs {
		if d.Status != http.StatusOK || d.Header.Get("Content-Security-Policy") != "default-src 'self'; style-src 'unsafe-inline'" {
			t.Errorf("document %+v", d)
		}
	}
	if got := p.Text("h1"); got != "Log in" {
		t.Errorf("Text(h1) = %q", got)
	}
	if n := p.Count("input"); n != 5 {
		t.Errorf("Count(input) = %d", n)
	}
	if v, ok := p.Attr("#pw", "autocomplete"); !ok || v != "current-password" {
		t.Errorf("Attr = %q %v", v, ok)
	}
	if _, ok := p.Attr("#nothing", "id"); ok {
		t.Error("Attr of a missing element")
	}
}

// Field and Button find controls by their labels and names; no match,
// or two, fail the test.
func TestFieldAndButton(t *testing.T) {
	p := browsertest.Shared(t).NewPage(t, browsertest.Options{})
	p.Navigate(page(t, goodPage).URL)
	if got := p.Button("Forgot your password?"); got == p.Button("Log in") {
		t.Errorf("one selector for two buttons: %s", got)
	}
	r := &recorder{TB: t}
	q := browsertest.Shared(t).NewPage(r, browsertest.Options{})
	q.Navigate(page(t, goodPage).URL)
	for _, f := range []func(){
		func() { q.Field("Nothing") },
		func() { q.Field("") },
		func() { q.Button("Username") },
	} {
		r.failed = ""
		r.run(f)
		if !strings.Contains(r.failed, "not one") {
			t.Errorf("a missing control: %q", r.failed)
		}
	}
}

// recorder is a testing.TB that records a skip or a failure instead of
// ending the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f on a goroutine of its own, which Skipf and Fatalf end.
func (r *recorder) run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// Without axe-core, Check runs the package's own rules alone, or fails
// the test when AUTHFLOW_BROWSER is set.
func TestCheckWithoutAxe(t *testing.T) {
	b := browsertest.Shared(t)
	srv := page(t, strings.Replace(goodPage, `<label for="user">Username</label>`, ``, 1))
	t.Cleanup(browsertest.SetAxePath("/nonexistent/axe.min.js"))
	if browsertest.Axe() {
		t.Fatal("Axe() with no axe-core")
	}
	for _, env := range []string{"", "1"} {
		t.Setenv(browsertest.RequireEnv, env)
		r := &recorder{TB: t}
		var problems []browsertest.Problem
		r.run(func() {
			p := b.NewPage(r, browsertest.Options{})
			p.Navigate(srv.URL)
			problems = p.Check()
		})
		switch {
		case env == "" && (r.failed != "" || len(problems) != 1 || problems[0].Rule != "label"):
			t.Errorf("without %s: failed %q, problems %v", browsertest.RequireEnv, r.failed, problems)
		case env != "" && !strings.Contains(r.failed, "axe-core is not installed"):
			t.Errorf("with %s: failed %q", browsertest.RequireEnv, r.failed)
		}
	}
}

// Without Chromium, Shared skips the test, or fails it when
// AUTHFLOW_BROWSER is set (as .ci/run sets it).
func TestSharedWithoutChromium(t *testing.T) {
	t.Cleanup(browsertest.SetExecPath("/nonexistent/chromium"))
	for _, env := range []string{"", "1"} {
		t.Setenv(browsertest.RequireEnv, env)
		r := &recorder{TB: t}
		r.run(func() { browsertest.Shared(r) })
		if env == "" && (r.skipped == "" || r.failed != "") || env != "" && (r.failed == "" || r.skipped != "") {
			t.Errorf("%s=%q: skipped %q, failed %q", browsertest.RequireEnv, env, r.skipped, r.failed)
		}
	}
}

// Pages are separate browsers: a cookie one gets is not sent by
// another; JavaScript is off in a NoScript page and on in the others.
func TestContextsAndScript(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			http.SetCookie(w, &http.Cookie{Name: "s", Value: "one", Path: "/"})
		}
		c, _ := r.Cookie("s")
		v := "none"
		if c != nil {
			v = c.Value
		}
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>c</title><p id="cookie">%s</p><p id="js">off</p><script>document.getElementById("js").textContent = "on"</script>`, v)
	}))
	t.Cleanup(srv.Close)
	b := browsertest.Shared(t)
	one := b.NewPage(t, browsertest.Options{})
	two := b.NewPage(t, browsertest.Options{NoScript: true})
	one.Navigate(srv.URL + "/set")
	one.Navigate(srv.URL + "/")
	two.Navigate(srv.URL + "/")
	if got := one.Text("#cookie"); got != "one" {
		t.Errorf("the page that got the cookie sends %q", got)
	}
	if got := two.Text("#cookie"); got != "none" {
		t.Errorf("another page sends %q", got)
	}
	if got := one.Text("#js"); got != "on" {
		t.Errorf("JavaScript in a page: %q", got)
	}
	if got := two.Text("#js"); got != "off" {
		t.Errorf("JavaScript in a NoScript page: %q", got)
	}
}

// A Dark page prefers the dark colour scheme; the contrast rule judges
// the colours that scheme gives.
func TestDark(t *testing.T) {
	const html = `<!doctype html><html lang="en"><title>d</title>
<style>p { color: #222; background: #fff } @media (prefers-color-scheme: dark) { p { color: #333; background: #000 } }</style>
<main><h1>Dark</h1><p>Some text</p></main>`
	b := browsertest.Shared(t)
	for _, dark := range []bool{false, true} {
		p := b.NewPage(t, browsertest.Options{Dark: dark})
		p.Navigate(page(t, html).URL)
		var problems []browsertest.Problem
		for _, pr := range p.Check() {
			if pr.Rule != "axe:color-contrast" { // the same, if axe-core is installed
				problems = append(problems, pr)
			}
		}
		if dark != (len(problems) == 1 && problems[0].Rule == "contrast") || !dark && len(problems) != 0 {
			t.Errorf("Dark %v: %v", dark, problems)
		}
	}
}

// A screenshot is a PNG in the test's artifact directory.
func TestScreenshot(t *testing.T) {
	p := browsertest.Shared(t).NewPage(t, browsertest.Options{Width: 320})
	p.Navigate(page(t, goodPage).URL)
	path := p.Screenshot("login page")
	if filepath.Dir(path) != t.ArtifactDir() || !strings.HasSuffix(path, "-login_page.png") {
		t.Errorf("path %s", path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("not a PNG: % x", raw[:min(8, len(raw))])
	}
}
