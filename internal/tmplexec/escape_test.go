package tmplexec

import (
	"bytes"
	"errors"
	"html/template"
	"strings"
	"testing"
)

// contexts are templates of one action, each in a context whose
// escapers this package runs, with the escapers html/template gives it.
var contexts = map[string]string{
	"text":     `<p>{{.}}</p>`,
	"attr":     `<p title="{{.}}">`,
	"attr1":    `<p title='{{.}}'>`,
	"rcdata":   `<textarea>{{.}}</textarea>`,
	"title":    `<title>{{.}}</title>`,
	"name":     `<p {{.}}>`,
	"url":      `<a href="{{.}}">`,
	"urlquery": `<a href="/x?q={{.}}">`,
	"urlpath":  `<a href="/x/{{.}}">`,
	"jsstr":    `<script>var x = "{{.}}";</script>`,
	"jsstr1":   `<script>var x = '{{.}}';</script>`,
	"jsattr":   `<p onclick="f('{{.}}')">`,
	// Pipelines of two escapers or more, and other elements and
	// attributes of the same escapers.
	"jsattr2":    `<p onclick='f("{{.}}")'>`,
	"srcdoc":     `<iframe srcdoc="{{.}}">`,
	"urlfrag":    `<a href="/x#{{.}}">`,
	"urlpart":    `<a href="{{.}}/{{.}}?{{.}}={{.}}#{{.}}">`,
	"refresh":    `<meta http-equiv="refresh" content="0;url={{.}}">`,
	"jsurl":      `<a href="javascript:'{{.}}'">`,
	"dynattr":    `<a {{.}}="{{.}}">`,
	"svgtitle":   `<svg><title>{{.}}</title></svg>`,
	"formaction": `<button formaction='{{.}}'>`,
}

// compiledContexts are contexts' templates with their programs,
// compiled once html/template escaped them.
func compiledContexts(t testing.TB) (map[string]*template.Template, map[string]*program) {
	ts, ps := map[string]*template.Template{}, map[string]*program{}
	for k, src := range contexts {
		tm := template.Must(template.New(k).Parse(src))
		var b bytes.Buffer
		if err := tm.Execute(&b, "x"); err != nil {
			t.Fatal(err)
		}
		s := New(tm, nil)
		c := &compiler{lookup: s.tree, progs: map[string]*program{}}
		p, err := c.template(k)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		ts[k], ps[k] = tm, p
	}
	return ts, ps
}

type stringer struct{ s string }

func (s stringer) String() string { return "S(" + s.s + ")" }

type named string

type namedStringer string

func (n namedStringer) String() string { return "N" + string(n) }

// values are the values of every kind an escaper takes that s makes:
// the string, each typed content, pointers, a named string, a
// Stringer, an error, numbers, nil.
func values(s string) []any {
	str := s
	var nilPtr *string
	return []any{s, &str, template.HTML(s), template.HTMLAttr(s), template.URL(s), template.CSS(s), template.JS(s),
		template.JSStr(s), template.Srcset(s), named(s), namedStringer(s), stringer{s}, &stringer{s}, errors.New(s),
		len(s), float64(len(s)) / 3, nil, nilPtr, []string{s, s}, struct{ A string }{s}, true}
}

// seeds are strings for the escapers.
var seeds = []string{"", "plain", `<a href="x">'+&</a>`, "\x00", "\xff\xfe", "héllo ☃", "\ufdd0\uffff",
	"javascript:alert(1)", "JavaScript:x", "http://example.com/a b?c=d&e=f#g", "mailto:a@b", "/rel/path?x=1", "%41%zz%",
	"a b\tc\nd\re\ff\vg", "\u2028\u2029", `\'"` + "`", "</script><!--", "&amp;&lt;", "onclick", "title", "ZgotmplZ",
	"data:image/png;base64,AAAA", "a,b c", "<b>bold</b> &iexcl;",
	" javascript:x", "JAVASCRIPT:x", "java\tscript:x", "\x00javascript:x", "ｊａｖａｓｃｒｉｐｔ:x", "&#x6a;avascript:x",
	"%2541", "a%4", "%4", "é%C3%A9%", "\u2028</script", "HREF", "srcdoc", "onLoad", "style", "xmlns:xlink", "data-x",
	"<a onclick=x>y</a><script>z</script>", "<!--x-->", "<", "a<b", "\xc3", "\xe2\x80", "\xe2\x80\xa8", "'\u00a0+\ufeff"}

// Each escaper writes what html/template's does, for any string in any
// of its types and for values of other kinds.
func FuzzEscapers(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	ts, ps := compiledContexts(f)
	s := New(template.New(""), nil)
	f.Fuzz(func(t *testing.T, str string) {
		for k, tm := range ts {
			for _, v := range values(str) {
				var want, got bytes.Buffer
				werr := tm.Execute(&want, v)
				_, gerr := s.run(ps[k], &got, v)
				if werr != nil || gerr != nil {
					t.Fatalf("%s %T %q: html/template %v, compiled %v", k, v, str, werr, gerr)
				}
				if want.String() != got.String() {
					t.Fatalf("%s %T %q:\nhtml/template %q\ncompiled      %q", k, v, str, want.String(), got.String())
				}
			}
		}
	})
}

// WriteHTML escapes as html/template does a string in HTML text, a
// quoted attribute's value and RCDATA.
func FuzzWriteHTML(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	tm := template.Must(template.New("").Parse(`<p title="{{.}}">{{.}}</p><textarea>{{.}}</textarea><input value='{{.}}'>`))
	f.Fuzz(func(t *testing.T, s string) {
		var want, e bytes.Buffer
		if err := tm.Execute(&want, s); err != nil {
			t.Fatal(err)
		}
		if err := WriteHTML(&e, s); err != nil {
			t.Fatal(err)
		}
		got := `<p title="` + e.String() + `">` + e.String() + `</p><textarea>` + e.String() + `</textarea><input value='` + e.String() + `'>`
		if got != want.String() {
			t.Fatalf("%q: html/template %q, WriteHTML %q", s, want.String(), got)
		}
	})
}

// The contexts whose escapers this package does not run are not
// compiled.
func TestEscapersNotCompiled(t *testing.T) {
	for _, src := range []string{`<script>var x = {{.}};</script>`, `<p class={{.}}>`, `<style>p{color:{{.}}}</style>`,
		`<!-- {{.}} -->`, `<img srcset="{{.}}">`, "<script>var x = `{{.}}`;</script>", `<script>var r = /{{.}}/;</script>`} {
		tm := template.Must(template.New("t").Parse(src))
		s := New(tm, nil)
		var b bytes.Buffer
		if err := s.Execute(&b, "t", "x"); err != nil {
			t.Fatal(err)
		}
		if ok, why := s.Compiled("t"); ok || !strings.Contains(why, "escaper") {
			t.Errorf("%s: compiled %v (%s)", src, ok, why)
		}
	}
}
