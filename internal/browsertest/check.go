package browsertest

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Problem is one accessibility rule that a page breaks.
type Problem struct {
	// Rule names the rule: one of [Rules], or "axe:" and the id of an
	// axe-core rule.
	Rule string `json:"rule"`
	// Element describes the element (tag#id[name][type] or its text),
	// empty for the document.
	Element string `json:"element"`
	// Detail says what is wrong.
	Detail string `json:"detail"`
}

func (p Problem) String() string {
	if p.Element == "" {
		return p.Rule + ": " + p.Detail
	}
	return p.Rule + ": " + p.Element + ": " + p.Detail
}

// Rules are the package's own rules that [Page.Check] applies, by the
// name a [Problem] gives (axe-core's come beside them). The package doc
// says what each asks.
var Rules = []string{
	"lang", "title", "unique-id", "aria-ref", "label", "name", "alt",
	"autocomplete", "error-described", "contrast", "overflow", "reflow", "tabindex",
	"focus-order",
}

//go:embed a11y.js
var a11yJS string

//go:embed lib.js
var libJS string

// script makes an expression of a function body that may use lib.js's
// helpers and args (args as a JSON value), and calls it.
func script(body string, args any) string {
	return "(() => {\n" + libJS + "const args = " + jsValue(args) + ";\n" + body + "\n})()"
}

// focusTarget is an element that Tab should visit, as a11y.js gives it.
type focusTarget struct {
	Index   int    `json:"index"`
	Element string `json:"element"`
}

// Check applies [Rules] to the page as it is now and returns the
// problems found (none: nil). It tabs through the page, so the focus
// is somewhere else afterwards.
func (p *Page) Check() []Problem {
	p.t.Helper()
	type result struct {
		Problems  []Problem     `json:"problems"`
		Focusable []focusTarget `json:"focusable"`
	}
	r := Run(p, chromedp.Evaluate[result](script(a11yJS, nil)))
	problems := append(r.Problems, p.axeProblems()...)
	got := p.focusCycle(len(r.Focusable))
	if !slices.EqualFunc(got, r.Focusable, func(a, b focusTarget) bool { return a.Index == b.Index }) {
		problems = append(problems, Problem{Rule: "focus-order", Detail: fmt.Sprintf("Tab visits %s; want %s (every focusable element, in document order)", names(got), names(r.Focusable))})
	}
	return problems
}

// Accessible fails the test with every problem that [Page.Check] finds,
// naming the page.
func (p *Page) Accessible() {
	p.t.Helper()
	if problems := p.Check(); len(problems) > 0 {
		lines := make([]string, len(problems))
		for i, pr := range problems {
			lines[i] = pr.String()
		}
		p.t.Errorf("accessibility of %s:\n\t%s", p.URL(), strings.Join(lines, "\n\t"))
	}
}

// FocusOrder tabs through the page from where the focus is and returns
// the elements that get it, one cycle of them, starting with the first
// in document order; the document itself (between the last element and
// the first) is left out.
func (p *Page) FocusOrder() []string {
	p.t.Helper()
	n := Run(p, chromedp.Evaluate[int](`document.getElementsByTagName("*").length`))
	var order []string
	for _, f := range p.focusCycle(n) {
		order = append(order, f.Element)
	}
	return order
}

// focusCycle presses Tab until the focus comes back to an element it
// visited before another (at most 8n+8 times, for a page with n
// focusable elements: Tab also steps through the parts of a date or
// time field, which keeps the focus on it), and returns the cycle,
// rotated to start at the element first in document order.
func (p *Page) focusCycle(n int) []focusTarget {
	p.t.Helper()
	active := script(`const e = document.activeElement;
		if (!e || e === document.body || e === document.documentElement) return {index: -1, element: ""};
		return {index: Array.prototype.indexOf.call(document.getElementsByTagName("*"), e), element: describe(e)};`, nil)
	var seen []focusTarget
	for range 8*n + 8 {
		p.Do(chromedp.KeyEvent(kb.Tab))
		f := Run(p, chromedp.Evaluate[focusTarget](active))
		if f.Index < 0 || len(seen) > 0 && seen[len(seen)-1].Index == f.Index {
			continue
		}
		if slices.ContainsFunc(seen, func(s focusTarget) bool { return s.Index == f.Index }) {
			break
		}
		seen = append(seen, f)
	}
	if len(seen) == 0 {
		return nil
	}
	first := 0
	for i, s := range seen {
		if s.Index < seen[first].Index {
			first = i
		}
	}
	return append(seen[first:], seen[:first]...)
}

func names(ts []focusTarget) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.Element
	}
	return "[" + strings.Join(s, ", ") + "]"
}
