package tmplexec

import (
	"bytes"
	"errors"
	"html/template"
	"strings"
	"testing"
)

type item struct {
	Name  string
	N     int
	On    bool
	Tags  []string
	Inner *item
}

func (i item) Upper() string { return strings.ToUpper(i.Name) }

func (i *item) Checked() (string, error) {
	if i.Name == "fail" {
		return "", errors.New("refused")
	}
	return "checked " + i.Name, nil
}

type Embedded struct{ Promoted string }

type data struct {
	Embedded
	Title  string
	Items  []item
	Ptrs   []*item
	M      map[string]string
	Any    map[string]any
	ByInt  map[int]string
	Arr    [2]int
	P      *item
	I      any
	Count  int
	Float  float64
	U      uint8
	Safe   template.HTML
	Link   string
	Boxes  []string
	Nested struct{ Deep struct{ X string } }
}

// all is a template of every node kind and builtin this package
// compiles.
const all = `{{define "row"}}<li class="{{.Name}}">{{.Name}} {{.N}}{{if .On}} on{{else}} off{{end}}</li>{{end}}` +
	`{{define "css"}}p{color:red}{{end}}` +
	`<html><head><title>{{.Title}}</title><style>{{template "css" .}}</style></head><body>
{{/* a comment */}}<h1 title="{{.Title}}">{{.Title}} {{.Promoted}}</h1>
<ul>{{range .Items}}{{template "row" .}}{{else}}<li>none</li>{{end}}</ul>
<ol>{{range $i, $e := .Items}}{{if $i}}, {{end}}{{$i}}={{$e.Name}}{{with $e.Tags}}[{{range .}}{{.}};{{end}}]{{end}}{{end}}</ol>
{{range $k, $v := .M}}<p data-k="{{$k}}">{{$v}}</p>{{end}}
{{range $k, $v := .ByInt}}{{$k}}:{{$v}} {{end}}
{{range .Any}}<i>{{.}}</i>{{end}}
{{range .Arr}}{{.}},{{end}}
{{range $i, $p := .Ptrs}}{{if eq $i 2}}{{break}}{{end}}{{if not $p.On}}{{continue}}{{end}}<b>{{$p.Name}} {{$p.Upper}} {{$p.Checked}}</b>{{end}}
{{range $n := .Count}}{{$n}}{{end}}
{{$x := "start"}}{{if .Title}}{{$x = .Title}}{{end}}<em>{{$x}}</em>
{{with .P}}{{.Name}} {{.Inner.Name}}{{else}}no p{{end}}
{{with $y := .Any.key}}{{$y}}{{end}} {{.M.missing}} {{.Any.missing}} [{{.I}}]
{{if and .Title (or .Count .On) (not .Float)}}and{{end}} {{or .Link "/default"}} {{and .Title .Count}}
{{if eq .Count 1 2 3}}small{{end}} {{if ne .Title "x"}}not x{{end}} {{if eq .U 7}}u7{{end}} {{len .Items}} {{len .M}}
{{print .Count " " .Float " " .Title}} {{.Count | print}} {{print}}
{{upper .Title}} {{.Title | upper}} {{twice .Title 2}} {{long .Title}} {{(.Nested.Deep).X}} {{.Nested.Deep.X}}
<a href="{{.Link}}">{{.Safe}}</a><a href="/q?x={{.Title}}&amp;y={{.Count}}">{{.Float}} {{.U}} {{true}} {{3}} {{1.5}} {{"s"}}</a>
<script>var t = "{{.Title}}";</script><input {{if .Count}}checked{{end}} value="{{.Safe}}">
<textarea>{{.Safe}}</textarea>{{$}}{{$.Title}}
{{range $b := .Boxes}}{{with boxed .}}({{.}}){{else}}none{{end}}<a href="{{boxed $b}}" title="{{boxed $b}}">{{upper (boxed $b | print)}}</a>{{if eq (boxed "x") "x"}}x{{end}}{{(boxed "item").Name}}{{or (boxed $b) "empty"}}{{end}}
</body></html>`

var testFuncs = template.FuncMap{
	"upper": strings.ToUpper,
	"twice": func(s string, n int) string { return strings.Repeat(s, n) },
	"long":  func(s string) bool { return len(s) > 5 },
	"boxed": func(s string) any {
		switch s {
		case "":
			return nil
		case "html":
			return template.HTML("<b>" + s + "</b>")
		case "item":
			return &item{Name: s, On: true}
		}
		return s
	},
}

func sampleData() []any {
	full := data{Embedded: Embedded{"promoted"}, Title: `T<"&'+>`, Items: []item{{Name: "a", N: 1, On: true, Tags: []string{"x", "<y>"}}, {Name: "b&c"}},
		Ptrs:  []*item{{Name: "p0", On: true}, {Name: "p1"}, {Name: "p2", On: true}, {Name: "p3", On: true}},
		M:     map[string]string{"z": "last", "a": "first", "m": `"mid"`},
		Any:   map[string]any{"key": template.HTML("<b>html</b>"), "n": 42, "u": template.URL("javascript:x"), "s": stringer{"x"}},
		ByInt: map[int]string{3: "c", -1: "neg", 10: "ten"}, Arr: [2]int{7, 8},
		P: &item{Name: "pp", Inner: &item{Name: "inner"}}, I: errors.New("an error <e>"), Count: 3, Float: 0, U: 7,
		Safe: template.HTML(`<i>safe</i> & "q"`), Link: "javascript:alert(1)", Boxes: []string{"", "html", "item", "plain<"}}
	full.Nested.Deep.X = "deep"
	other := full
	other.Title, other.Items, other.Count, other.Float, other.Link, other.I = "", nil, 0, 2.5, "https://example.com/a b", nil
	other.P = &item{Name: "solo", Inner: &item{}}
	return []any{&full, full, &other}
}

// run renders name of tm both ways, the first data escaping it, and
// compares them.
func compare(t *testing.T, tm *template.Template, funcs template.FuncMap, name string, ds ...any) *Set {
	t.Helper()
	s := New(tm, funcs)
	for i, d := range ds {
		var want, got bytes.Buffer
		werr := tm.ExecuteTemplate(&want, name, d)
		gerr := s.Execute(&got, name, d)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("data %d: html/template %v, Execute %v", i, werr, gerr)
		}
		if want.String() != got.String() {
			t.Fatalf("data %d:\nhtml/template %q\nExecute       %q", i, want.String(), got.String())
		}
	}
	return s
}

// The compiled template of every node kind renders what html/template
// does, for every data.
func TestCompiledAsHTMLTemplate(t *testing.T) {
	tm := template.Must(template.New("all").Funcs(testFuncs).Parse(all))
	ds := sampleData()
	s := compare(t, tm, testFuncs, "all", append(ds, ds...)...)
	if ok, why := s.Compiled("all"); !ok {
		t.Fatalf("not compiled: %s", why)
	}
}

// A template that fails fails compiled as by html/template, with its
// error; a rendering that fails does not make the template run by
// html/template from then on.
func TestErrors(t *testing.T) {
	tm := template.Must(template.New("t").Parse(`<p>{{.Name}}</p>{{with .Inner}}{{.Inner.Name}}{{end}}{{.Checked}}`))
	s := compare(t, tm, nil, "t", &item{Name: "ok", Inner: &item{Inner: &item{}}}, &item{Name: "nil inner", Inner: &item{}},
		&item{Name: "fail"}, &item{Name: "ok again"})
	if ok, why := s.Compiled("t"); !ok {
		t.Fatalf("not compiled: %s", why)
	}
	var b bytes.Buffer
	if err := s.Execute(&b, "t", &item{Name: "fail"}); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("%v %q", err, b.String())
	}
}

// What this package does not know runs by html/template: builtins it
// does not have, methods given arguments, nodes in other contexts.
func TestNotCompiled(t *testing.T) {
	for _, src := range []string{`{{printf "%d" .N}}`, `{{index .Tags 0}}`, `{{.Name | html}}`, `{{slice .Name 1}}`,
		`{{call .F}}`, `<a onclick="{{.Name}}">`, `{{.N | printf "%03d"}}`} {
		tm := template.Must(template.New("t").Parse(src))
		s := compare(t, tm, nil, "t", map[string]any{"N": 3, "Tags": []string{"a"}, "Name": "<n>", "F": func() string { return "f" }})
		if ok, why := s.Compiled("t"); ok {
			t.Errorf("%s: compiled", src)
		} else {
			t.Logf("%s: %s", src, why)
		}
	}
}

// A template of html/template's derived for another context (a template
// called inside <style>) is compiled when it is text alone, as its
// text: a CSS comment, which html/template drops, is caught by the
// first rendering that writes it, the first rendering or a later one.
func TestDerived(t *testing.T) {
	for css, compiled := range map[string]bool{"p{color:red}": true, "p{color:red} /* a comment */": false} {
		tm := template.Must(template.New("t").Parse(`{{define "css"}}` + css + `{{end}}<style>{{template "css" .}}</style>{{.}}`))
		s := compare(t, tm, nil, "t", "a", "b")
		if ok, why := s.Compiled("t"); ok != compiled {
			t.Errorf("%s: compiled %v (%s)", css, ok, why)
		}
		tm = template.Must(template.New("t").Parse(`{{define "css"}}` + css + `{{end}}{{if .}}<style>{{template "css" .}}</style>{{end}}`))
		s = compare(t, tm, nil, "t", false, false, true, true, false)
		if ok, why := s.Compiled("t"); ok != compiled {
			t.Errorf("%s in an if: compiled %v (%s)", css, ok, why)
		}
	}
}

// A compiled template that renders otherwise than html/template at its
// first rendering is dropped, and Verify told.
func TestSelfCheck(t *testing.T) {
	tm := template.Must(template.New("t").Funcs(template.FuncMap{"f": func(string) string { return "a" }}).Parse(`{{f .}}`))
	var told []string
	Verify = func(name string, html, compiled []byte) {
		told = append(told, name+": "+string(html)+" "+string(compiled))
	}
	defer func() { Verify = nil }()
	s := compare(t, tm, template.FuncMap{"f": func(string) string { return "b" }}, "t", "x", "y")
	if ok, why := s.Compiled("t"); ok || why != "rendered otherwise than html/template" {
		t.Errorf("compiled %v (%s)", ok, why)
	}
	if len(told) != 1 || told[0] != "t: a b" {
		t.Errorf("Verify told %q", told)
	}
}

// A function of one string or list of strings whose result is a string,
// a bool, any, template.HTMLAttr or template.HTML is called directly,
// not through reflect.Value.Call: what html/template renders, with fewer
// allocations than a function of another shape (here of an int) doing
// the same.
func TestDirectCalls(t *testing.T) {
	funcs := template.FuncMap{
		"attr":   func(s string) template.HTMLAttr { return template.HTMLAttr(s) },
		"bold":   func(s string) template.HTML { return template.HTML(s) },
		"join":   func(l []string) string { return strings.Join(l, "+") },
		"byInt":  func(n int) string { return "x" },
		"byStr":  func(s string) string { return s },
		"strLen": func(l []string) int { return len(l) },
	}
	src := `<p {{attr .Attr}}>{{bold .Title}} {{join .Tags}} {{.Tags | join}} {{join nil}} {{strLen .Tags}}</p>`
	tm := template.Must(template.New("t").Funcs(funcs).Parse(src))
	type titled struct {
		Attr  string
		Title string
		Tags  []string
	}
	ds := []any{&titled{Attr: `title="a"`, Title: `a"<b`, Tags: []string{"x", "<y>"}}, titled{}, &titled{Tags: []string{}}}
	s := compare(t, tm, funcs, "t", ds...)
	if ok, why := s.Compiled("t"); !ok {
		t.Fatalf("not compiled: %s", why)
	}
	// A list that is not a []string: html/template's error.
	compare(t, template.Must(template.New("u").Funcs(funcs).Parse(`{{join .}}`)), funcs, "u", 3, []any{"a"})

	allocs := func(src string) float64 {
		tm := template.Must(template.New("a").Funcs(funcs).Parse(src))
		s := New(tm, funcs)
		d := &struct {
			N    int
			S    string
			Tags []string
		}{N: 1, S: "x", Tags: []string{"x"}}
		var b bytes.Buffer
		return testing.AllocsPerRun(50, func() {
			b.Reset()
			if err := s.Execute(&b, "a", d); err != nil {
				t.Fatal(err)
			}
		})
	}
	generic := allocs(`{{byInt .N}}`)
	for _, src := range []string{`<p {{attr .S}}>`, `{{bold .S}}`, `{{join .Tags}}`, `{{byStr .S}}`} {
		if n := allocs(src); n >= generic {
			t.Errorf("%s: %v allocations, a function called through reflect %v", src, n, generic)
		}
	}
}
