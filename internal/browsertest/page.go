package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Options are the settings of one page. The zero value is a 1280×800
// window with JavaScript on.
type Options struct {
	// NoScript turns JavaScript off in the page
	// (Emulation.setScriptExecutionDisabled), as a person who disabled
	// it has it: the page's scripts do not run, <noscript> shows. The
	// package's own reads (Check, Text, ...) still run: they are the
	// DevTools', not the page's; Check turns JavaScript on for the
	// duration of axe-core's run, which waits on timers (the page's
	// scripts, blocked when it loaded, do not run then either).
	NoScript bool
	// Width and Height are the size of the viewport in CSS pixels; zero
	// is 1280 and 800.
	Width, Height int64
	// Dark makes the page see a person who prefers a dark colour scheme
	// (prefers-color-scheme: dark); by default it sees light.
	Dark bool
}

// Document is the HTTP response of a document the page loaded (not of
// its images or style sheets): the page that a person sees after a
// navigation, a click on a link or a form sent. A redirect is not one:
// the document is the response at its end.
type Document struct {
	URL    string
	Status int64
	Header http.Header
}

// Page is one tab in a browser context of its own (its own cookies and
// storage). Its methods fail the test when the browser reports an
// error; a page is not for use by two goroutines at once.
type Page struct {
	t      testing.TB
	ctx    context.Context
	cancel context.CancelFunc

	noScript bool // Options.NoScript

	mu   sync.Mutex
	docs []Document
}

// NewPage opens a page in a new browser context, closed when t ends.
func (b *Browser) NewPage(t testing.TB, o Options) *Page {
	t.Helper()
	life, cancelLife := context.WithTimeout(b.ctx, PageLifetime)
	ctx, cancelTab := chromedp.NewContext(life, chromedp.WithNewBrowserContext())
	p := &Page{t: t, ctx: ctx, cancel: func() { cancelTab(); cancelLife() }, noScript: o.NoScript}
	t.Cleanup(p.cancel)
	// The first run opens the tab and binds it to ctx (which must not
	// have the action's deadline), so it is bounded here.
	err := bounded(ActionTimeout, p.cancel, func() error {
		if err := chromedp.Do(ctx); err != nil {
			return err
		}
		return chromedp.Listen(ctx, p.record(chromedp.FromContext(ctx).Target.TargetID))
	})
	if err != nil {
		t.Fatalf("browsertest: opening a page: %v", err)
	}
	w, h := o.Width, o.Height
	if w == 0 {
		w = 1280
	}
	if h == 0 {
		h = 800
	}
	scheme := "light"
	if o.Dark {
		scheme = "dark"
	}
	p.Do(chromedp.EmulateViewport(w, h), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
	if o.NoScript {
		p.scriptDisabled(true)
	}
	return p
}

// scriptDisabled turns the page's JavaScript off or on.
func (p *Page) scriptDisabled(off bool) {
	p.t.Helper()
	p.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
		return err
	}))
}

// record returns the listener that keeps the responses of the documents
// of the page's main frame (whose id is the target's).
func (p *Page) record(target fmt.Stringer) func(any) {
	frame := cdp.FrameID(target.String())
	return func(ev any) {
		e, ok := ev.(*network.EventResponseReceived)
		if !ok || e.Type != network.ResourceTypeDocument || e.FrameID != frame || e.Response == nil {
			return
		}
		h := http.Header{}
		for k, v := range e.Response.Headers {
			// Chromium joins repeated headers with newlines.
			if s, ok := v.(string); ok {
				for _, line := range strings.Split(s, "\n") {
					h.Add(k, line)
				}
			}
		}
		p.mu.Lock()
		p.docs = append(p.docs, Document{URL: e.Response.URL, Status: e.Response.Status, Header: h})
		p.mu.Unlock()
	}
}

// Documents returns the responses of the documents the page has loaded,
// in order.
func (p *Page) Documents() []Document {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Document(nil), p.docs...)
}

// Run runs one chromedp action on p under [ActionTimeout] and returns
// its value; an error fails the test.
func Run[T any](p *Page, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("browsertest: on %s: %v", p.location(), err)
	}
	return v
}

// Do runs actions that return nothing, in order, as [Run] does.
func (p *Page) Do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	Run(p, chromedp.Steps(actions...))
}

// location is the page's URL for error messages, or "the page" when the
// browser cannot say.
func (p *Page) location() string {
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	if u, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		return u
	}
	return "the page"
}

// Navigate loads url and returns its document's response.
func (p *Page) Navigate(url string) Document {
	p.t.Helper()
	res := Run(p, chromedp.NavigateResponse(url))
	return p.document(res)
}

// Click clicks the first element that matches the CSS selector sel and
// waits for the page the click loads (a link followed, a form sent),
// whose response it returns.
func (p *Page) Click(sel string) Document {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("browsertest: clicking %s on %s: %v", sel, p.location(), err)
	}
	return p.document(res)
}

// Press sends the keys (see chromedp's kb package for named keys) to
// the element that has the focus and waits for the page they load, as
// Enter in a form field does; it returns that page's response.
func (p *Page) Press(keys string) Document {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.KeyEvent(keys))
	if err != nil {
		p.t.Fatalf("browsertest: pressing %q on %s: %v", keys, p.location(), err)
	}
	return p.document(res)
}

func (p *Page) document(res *network.Response) Document {
	p.t.Helper()
	if res == nil {
		p.t.Fatalf("browsertest: %s loaded no document", p.location())
	}
	// The listener saw the same response; take its copy, whose headers
	// are parsed.
	docs := p.Documents()
	for i := len(docs) - 1; i >= 0; i-- {
		if docs[i].URL == res.URL {
			return docs[i]
		}
	}
	return Document{URL: res.URL, Status: res.Status}
}

// Type focuses the form field that matches the CSS selector sel, clears
// it and types text into it with key events, as a person does.
func (p *Page) Type(sel, text string) {
	p.t.Helper()
	p.Do(chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](script(`document.querySelector(args).value = ""`, sel)),
		chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
}

// Text returns the visible text of the first element that matches the
// CSS selector sel, waiting for it to appear.
func (p *Page) Text(sel string) string {
	p.t.Helper()
	return Run(p, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}

// Count returns how many elements match the CSS selector sel now,
// without waiting.
func (p *Page) Count(sel string) int {
	p.t.Helper()
	return Run(p, chromedp.Evaluate[int](`document.querySelectorAll(`+jsValue(sel)+`).length`))
}

// Attr returns the attribute name of the first element that matches the
// CSS selector sel now, and whether both exist.
func (p *Page) Attr(sel, name string) (string, bool) {
	p.t.Helper()
	v := Run(p, chromedp.Evaluate[*string](`(() => { const e = document.querySelector(`+jsValue(sel)+`); return e ? e.getAttribute(`+jsValue(name)+`) : null })()`))
	if v == nil {
		return "", false
	}
	return *v, true
}

// Focused describes the element that has the focus, as [Problem.Element]
// does ("body" for none). The browser gives a loaded page's autofocus
// element the focus when it next renders, so an answer of "body" is
// asked again, for up to a second.
func (p *Page) Focused() string {
	p.t.Helper()
	expr := script(`return describe(document.activeElement || document.body)`, nil)
	for range 50 {
		if d := Run(p, chromedp.Evaluate[string](expr)); d != "body" {
			return d
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "body"
}

// URL returns the page's address.
func (p *Page) URL() string {
	p.t.Helper()
	return Run(p, chromedp.Location())
}

// HTML returns the page's markup as the browser holds it now.
func (p *Page) HTML() string {
	p.t.Helper()
	return Run(p, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
}

// Screenshot writes a PNG of the whole page into the test's artifact
// directory, named with a sequence number (in the test binary) and
// name, and returns its path.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	png := Run(p, chromedp.FullScreenshot(100))
	n := shots.Add(1)
	path := filepath.Join(p.t.ArtifactDir(), fmt.Sprintf("%03d-%s.png", n, fileName.ReplaceAllString(name, "_")))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// shots numbers the screenshots of the test binary, so that those of
// two pages of one test sort in the order they were taken.
var shots atomic.Int64

var fileName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// jsValue writes v as a JavaScript literal (JSON is one).
func jsValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Field returns a CSS selector for the one form control whose label (as
// a screen reader reads it: aria-labelledby, aria-label or <label>) is
// label, ignoring a trailing "*" and spacing; no such control, or two,
// fail the test. The selector is an attribute the call puts on the
// element (data-browsertest).
func (p *Page) Field(label string) string {
	p.t.Helper()
	return p.find("field", label, `document.querySelectorAll("input:not([type=hidden]), select, textarea")`, `accessibleName(el)`)
}

// Button returns a CSS selector for the one button or link whose name
// (its label, else its text or value) is name, as [Page.Field] does.
func (p *Page) Button(name string) string {
	p.t.Helper()
	return p.find("button or link", name, `document.querySelectorAll("button, input[type=submit], input[type=button], a[href], [role=button]")`,
		`accessibleName(el) || text(el) || (el.tagName === "INPUT" ? el.value : "")`)
}

// marks numbers the elements that Field and Button mark.
var marks atomic.Int64

// find marks the one element among candidates (an expression) whose
// name (an expression of el) is want, normalized, and returns a selector
// for it.
func (p *Page) find(what, want, candidates, name string) string {
	p.t.Helper()
	mark := fmt.Sprint(marks.Add(1))
	got := Run(p, chromedp.Evaluate[[]string](script(`
		const norm = (s) => s.replace(/\s+/g, " ").replace(/\s*\*$/, "").trim();
		const found = [], names = [];
		for (const el of `+candidates+`) {
			if (!rendered(el)) continue;
			const n = norm(`+name+`);
			names.push(n);
			if (n === norm(args.want)) found.push(el);
		}
		if (found.length !== 1) return names;
		found[0].setAttribute("data-browsertest", args.mark);
		return [];`, map[string]string{"want": want, "mark": mark})))
	if len(got) > 0 || !p.marked(mark) {
		p.t.Fatalf("browsertest: on %s: not one %s named %q among %q", p.location(), what, want, got)
	}
	return `[data-browsertest="` + mark + `"]`
}

func (p *Page) marked(mark string) bool {
	return Run(p, chromedp.Evaluate[bool](`document.querySelector('[data-browsertest="`+mark+`"]') !== null`))
}

// Description returns the text of the elements that the aria-describedby
// of the element sel names (an error tied to its field), "" when none.
func (p *Page) Description(sel string) string {
	p.t.Helper()
	return Run(p, chromedp.Evaluate[string](script(`
		const el = document.querySelector(args.sel);
		if (!el) return "";
		return (el.getAttribute("aria-describedby") || "").split(/\s+/).map(byId).filter(Boolean).map(text).join(" ");`,
		map[string]string{"sel": sel})))
}
