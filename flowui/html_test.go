package flowui_test

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// walk calls fn on n and its descendants in document order.
func walk(n *html.Node, fn func(*html.Node)) {
	if n == nil {
		return
	}
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

// attr is n's attribute k, and whether it has it.
func attr(n *html.Node, k string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == k {
			return a.Val, true
		}
	}
	return "", false
}

func attrOf(n *html.Node, k string) string { v, _ := attr(n, k); return v }

// text is n's text content.
func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

// all are the elements of n with tag (any tag for "").
func all(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	walk(n, func(c *html.Node) {
		if c.Type == html.ElementNode && (tag == "" || c.Data == tag) {
			out = append(out, c)
		}
	})
	return out
}

// byID is n's element with id, nil for none.
func byID(n *html.Node, id string) *html.Node {
	for _, e := range all(n, "") {
		if attrOf(e, "id") == id {
			return e
		}
	}
	return nil
}

// input is the page's input, select or textarea named name.
func (p *page) input(name string) *html.Node {
	for _, e := range all(p.doc, "") {
		if (e.Data == "input" || e.Data == "select" || e.Data == "textarea") && attrOf(e, "name") == name {
			return e
		}
	}
	return nil
}

// form returns what the page's form sends with set: set[name] fills a
// field (a checkbox is checked by "on" and left unchecked by ""), a
// "file:"+name key a file's content, a "+"+name key adds a field as a
// script would (a captcha widget's), and the "@button" key presses the
// submit button of that value (or text); the form is the one of that
// button, else the first. As a browser, it refuses to send a form whose
// fields fail their HTML constraints (required, type, pattern, lengths,
// min, max, step: checkValidity), failing the test, unless set has the
// "@novalidate" key (a test of the server's own checks, sent as a
// script would).
func (p *page) form(t testing.TB, set map[string]string) (vals [][2]string, files map[string]string, action string, multi bool) {
	t.Helper()
	if p.doc == nil {
		t.Fatalf("%s: not HTML: %d %s", p.url, p.status, p.body)
	}
	forms := all(p.doc, "form")
	if len(forms) == 0 {
		t.Fatalf("%s: no form: %s", p.url, p.body)
	}
	form, button := forms[0], (*html.Node)(nil)
	if want, ok := set["@button"]; ok {
		for _, f := range forms {
			for _, b := range all(f, "button") {
				if attrOf(b, "value") == want || strings.TrimSpace(text(b)) == want {
					form, button = f, b
				}
			}
		}
		if button == nil {
			t.Fatalf("%s: no button %q", p.url, want)
		}
	}
	files = map[string]string{}
	used := map[string]bool{}
	_, novalidate := set["@novalidate"]
	_, formNoValidate := attr(form, "novalidate")
	if button != nil {
		_, bnv := attr(button, "formnovalidate")
		formNoValidate = formNoValidate || bnv
	}
	if !novalidate && !formNoValidate {
		if bad := invalid(form, set); len(bad) > 0 {
			t.Fatalf("%s: the browser refuses the form: %s\n%s", p.url, strings.Join(bad, "; "), p.body)
		}
	}
	for _, e := range all(form, "") {
		name := attrOf(e, "name")
		if name == "" {
			continue
		}
		switch e.Data {
		case "input":
			typ := attrOf(e, "type")
			v, has := set[name]
			switch typ {
			case "checkbox":
				_, checked := attr(e, "checked")
				if has {
					checked = v != ""
				}
				if checked {
					vals = append(vals, [2]string{name, attrOf(e, "value")})
				}
			case "radio":
				_, checked := attr(e, "checked")
				if has {
					checked = v == attrOf(e, "value")
				}
				if checked {
					vals = append(vals, [2]string{name, attrOf(e, "value")})
				}
			case "file":
				multi = true
				if c, ok := set["file:"+name]; ok {
					files[name] = c
				}
			default:
				if !has {
					v = attrOf(e, "value")
				}
				vals = append(vals, [2]string{name, v})
			}
			used[name] = true
		case "textarea":
			v, has := set[name]
			if !has {
				v = text(e)
			}
			vals = append(vals, [2]string{name, v})
			used[name] = true
		case "select":
			v, has := set[name]
			if !has {
				for _, o := range all(e, "option") {
					if _, sel := attr(o, "selected"); sel {
						v = attrOf(o, "value")
					}
				}
			}
			vals = append(vals, [2]string{name, v})
			used[name] = true
		}
	}
	for k, v := range set {
		if name, ok := strings.CutPrefix(k, "+"); ok {
			vals = append(vals, [2]string{name, v}) // as a script adds it
		}
	}
	if button != nil && attrOf(button, "name") != "" {
		vals = append(vals, [2]string{attrOf(button, "name"), attrOf(button, "value")})
	}
	for k := range set {
		if !used[k] && k != "@button" && k != "@novalidate" && !strings.HasPrefix(k, "file:") && !strings.HasPrefix(k, "+") {
			t.Fatalf("%s: no field %q in the form", p.url, k)
		}
	}
	if enc := attrOf(form, "enctype"); enc == "multipart/form-data" {
		multi = true
	}
	return vals, files, attrOf(form, "action"), multi
}
