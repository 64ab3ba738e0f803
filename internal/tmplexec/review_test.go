package tmplexec

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"sync"
	"testing"
)

type revStr struct{ S string }

func (r *revStr) String() string { return "ptr<" + r.S + ">" }

type revVal struct{ S string }

func (r revVal) String() string { return "val<" + r.S + ">" }

type revErr struct{ S string }

func (r *revErr) Error() string { return "err<" + r.S + ">" }

type revInner struct{ Name string }

func (r *revInner) PName() string { return "p" + r.Name }

type RevPub struct{ Name string }

type revOuter struct {
	*revInner
	RevPub
	X any
	S fmt.Stringer
	E error
	M map[string]any
	F func() string
}

type revCase struct {
	src   string
	funcs template.FuncMap
	data  []any
}

func TestReviewDifferential(t *testing.T) {
	var nilInner *revInner
	var nilStr *revStr
	cases := []revCase{
		{src: `<p>{{.X}}</p><a href="{{.X}}">x</a><a href="/?q={{.X}}">y</a><script>var a="{{.X}}"</script><p title="{{.X}}">`, data: []any{
			revOuter{X: "a"}, revOuter{X: template.HTML("<b>")}, revOuter{X: template.URL("javascript:x")}, revOuter{X: &revStr{"q"}},
			revOuter{X: revVal{"<"}}, revOuter{X: &revVal{"<"}}, revOuter{X: &revErr{"<"}}, revOuter{X: nilStr}, revOuter{X: nil},
			revOuter{X: template.JSStr(`a\"b`)}, revOuter{X: template.HTMLAttr(`a="b"`)}, revOuter{X: template.CSS(`x<`)},
			revOuter{X: []any{"a", nil, template.HTML("<i>")}}, revOuter{X: map[string]int{"b": 1}}, revOuter{X: 3.5}}},
		{src: `<p>{{.S}}|{{.E}}</p>`, data: []any{revOuter{S: revVal{"a"}, E: &revErr{"b"}}, revOuter{}, revOuter{S: nilStr}, revOuter{E: (*revErr)(nil)}}},
		{src: `{{with .X}}<p>{{.}}</p>{{else with .S}}s{{.}}{{else}}none{{end}}`, data: []any{revOuter{X: "a"}, revOuter{}, revOuter{S: revVal{"v"}}, revOuter{X: 0}}},
		{src: `{{.Name}}`, data: []any{revOuter{RevPub: RevPub{"n"}}}},
		{src: `{{.PName}}`, data: []any{revOuter{revInner: &revInner{"i"}}, revOuter{revInner: nilInner}}},
		{src: `{{.M.a}}{{.M.a.b}}`, data: []any{revOuter{M: map[string]any{"a": map[string]any{"b": 1}}}, revOuter{M: map[string]any{"a": nil}}, revOuter{}}},
		{src: `{{range $k, $v := .}}{{$k}}={{$v}};{{end}}`, data: []any{map[int]string{2: "b", -1: "a"}, map[string]int{"b": 1, "a": 2}, map[int8]int{3: 1, -3: 2}, map[uint]int{3: 1, 1: 2}, map[float64]int{1.5: 1, -2: 2}, map[bool]int{true: 1, false: 2}, []int{}, map[string]int(nil), 3, -2, (*[]int)(nil)}},
		{src: `{{range .}}{{.}}{{else}}empty{{end}}`, data: []any{[]int{}, 0, nil, map[string]int{}, [0]int{}, uint8(3), "s"}},
		{src: `{{if eq . 1}}one{{else}}other{{end}}`, data: []any{1, uint(1), "x", 1.0, nil, int8(-1), true}},
		{src: `{{if eq .X .Y}}eq{{else}}ne{{end}}`, data: []any{map[string]any{"X": 1, "Y": uint(1)}, map[string]any{"X": nil, "Y": nil}, map[string]any{"X": "a", "Y": nil}, map[string]any{"X": &revInner{}, "Y": &revInner{}}, map[string]any{"X": errors.New("a"), "Y": errors.New("a")}}},
		{src: `{{len .}}`, data: []any{"abc", []int{1}, map[string]int{}, nil, 3, (*[]int)(nil), &[]int{1, 2}}},
		{src: `{{print .}} {{print . .}} {{print 1 2}} {{print "a" "b"}} {{print "a" 1 "b"}} {{print nil}}`, data: []any{"s", 1, nil, template.HTML("<b>"), []int{1}, revVal{"v"}}},
		{src: `{{and . "x"}} {{or . "y"}} {{not .}}`, data: []any{"", "a", 0, nil, []int{}, &revInner{}, (*revInner)(nil), struct{}{}}},
		{src: `{{$x := 1}}{{range $i, $e := .}}{{$x = $e}}{{$i}}{{end}}{{$x}}`, data: []any{[]int{5, 6}, []int{}, map[string]int{"a": 9}}},
		{src: `{{range $i := .}}{{if eq $i 2}}{{break}}{{end}}{{if eq $i 0}}{{continue}}{{end}}{{$i}}{{end}}`, data: []any{5, 1, []int{0, 1, 2, 3}}},
		{src: `{{range .}}{{range .}}{{.}}{{else}}{{break}}{{end}}|{{end}}`, data: []any{[][]int{{1}, {}, {2}}}},
		{src: `{{range .}}{{range .}}{{.}}{{else}}{{continue}}{{end}}|{{end}}`, data: []any{[][]int{{1}, {}, {2}}}},
		{src: `{{.F}}`, data: []any{revOuter{F: func() string { return "f" }}}},
		{src: `{{(f .).Name}}`, funcs: template.FuncMap{"f": func(s string) any {
			if s == "" {
				return nil
			}
			return &revInner{s}
		}}, data: []any{"a", ""}},
		{src: `{{g (f .)}}`, funcs: template.FuncMap{"f": func(s string) any {
			if s == "" {
				return nil
			}
			return &revInner{s}
		}, "g": func(r *revInner) string {
			if r == nil {
				return "nil!"
			}
			return r.Name
		}}, data: []any{"a", ""}},
		{src: `{{f .}}`, funcs: template.FuncMap{"f": func(s string) string { return "<" + s }}, data: []any{"a", revVal{"x"}, nil, 3}},
		{src: `{{range $k, $v := .}}{{$k}}{{else}}[{{$k}}|{{$v}}]{{end}}{{with $w := .}}{{$w}}{{else}}{{$w}}{{end}}`, data: []any{map[string]int{}, map[string]int{"a": 1}, []int{}, 0, []string{"x"}}},
		{src: `{{define "r"}}{{if .}}({{template "r" slice . 1}}){{end}}{{end}}{{template "r" .}}`, data: []any{"abc", ""}},
		{src: `{{define "d"}}{{if .}}{{template "d" sub .}}{{else}}done{{end}}{{end}}{{template "d" .}}`, funcs: template.FuncMap{"sub": func(n int) int { return n - 1 }}, data: []any{3, 20000, 5}},
		{src: `{{$ := 1}}{{$}}{{range .}}{{$}}{{end}}`, data: []any{[]int{1, 2}}},
		{src: `{{.A}}{{.B.C}}{{.A.X}}`, data: []any{map[string]any{"A": "a", "B": map[string]string{"C": "c"}}, map[string]any{}, map[string]any{"A": 1}}},
		{src: `{{range .}}<p title="{{.}}">{{.String}}</p>{{end}}`, data: []any{[]revStr{{"a<"}}, []revVal{{"b<"}}, []*revStr{{"c"}}, [1]revStr{{"d"}}, []*revStr{nil}, []fmt.Stringer{revVal{"e"}, &revStr{"f"}, nil}}},
		{src: `{{.}} {{print .}} {{.String}}`, data: []any{revStr{"a"}, &revStr{"b"}, revVal{"c"}, &revVal{"d"}}},
		{src: `{{.Error}} {{.}}`, data: []any{&revErr{"a"}, revErr{"b"}, (*revErr)(nil)}},
		{src: `<a href="{{.}}">`, data: []any{"http://x", " javascript:x", "JAVASCRIPT:x", "java\tscript:x", "data:x", "/a:b", "a/b:c", "\x00javascript:x", "ｊavascript:x"}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			tm := template.Must(template.New("t").Funcs(c.funcs).Parse(c.src))
			s := compare(t, tm, c.funcs, "t", c.data...)
			ok, why := s.Compiled("t")
			t.Logf("%s: compiled %v %s", c.src, ok, why)
		})
	}
}

// A set whose missingkey option is not the default renders a missing
// key as html/template does (by html/template): the zero value, or an
// error, also when the first rendering met no missing key.
func TestMissingKeyOption(t *testing.T) {
	for _, opt := range []string{"missingkey=zero", "missingkey=error", "missingkey=default"} {
		tm := template.Must(template.New("t").Option(opt).Parse(`<p>{{.a}}</p>`))
		s := compare(t, tm, nil, "t", map[string]int{"a": 1}, map[string]int{})
		if ok, _ := s.Compiled("t"); ok != (opt == "missingkey=default") {
			t.Errorf("%s: compiled %v", opt, ok)
		}
	}
	// Other delimiters do not hide the option.
	tm := template.Must(template.New("t").Delims("[[", "]]").Parse(`<p>[[.a]]</p>`))
	if s := compare(t, tm, nil, "t", map[string]int{"a": 1}, map[string]int{}); s.notCompiled != "" {
		t.Errorf("delimiters [[ ]]: %s", s.notCompiled)
	}
	tm = template.Must(template.New("t").Delims("[[", "]]").Option("missingkey=zero").Parse(`<p>[[.a]]</p>`))
	compare(t, tm, nil, "t", map[string]int{"a": 1}, map[string]int{})
	// Executed before New: its option cannot be told.
	tm = template.Must(template.New("t").Option("missingkey=zero").Parse(`<p>{{.a}}</p>`))
	if err := tm.Execute(&bytes.Buffer{}, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if s := compare(t, tm, nil, "t", map[string]int{"a": 1}, map[string]int{}); s.notCompiled == "" {
		t.Error("compiled a set executed before New")
	}
}

// Many goroutines rendering a set's templates for the first time, each
// template calling others, render what html/template does (run with
// -race).
func TestConcurrentFirstRenderings(t *testing.T) {
	src := all + `{{define "a"}}<p>{{.Title}}{{range .Items}}{{template "row" .}}{{end}}</p>{{end}}{{define "b"}}{{template "row" .P}}{{template "a" .}}{{end}}`
	want := map[string][]string{}
	ref := template.Must(template.New("all").Funcs(testFuncs).Parse(src))
	ds := sampleData()
	data := map[string][]any{"all": ds, "a": ds, "b": ds, "row": {item{Name: "r<"}, &item{Name: "p", On: true}}}
	for name, ds := range data {
		for _, d := range ds {
			var b bytes.Buffer
			if err := ref.ExecuteTemplate(&b, name, d); err != nil {
				t.Fatal(err)
			}
			want[name] = append(want[name], b.String())
		}
	}
	for range 20 {
		s := New(template.Must(template.New("all").Funcs(testFuncs).Parse(src)), testFuncs)
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Go(func() {
				for i := range 4 {
					name := []string{"all", "a", "b", "row"}[(g+i)%4]
					for k, d := range data[name] {
						var b bytes.Buffer
						if err := s.Execute(&b, name, d); err != nil {
							t.Error(err)
						} else if b.String() != want[name][k] {
							t.Errorf("%s: %q, want %q", name, b.String(), want[name][k])
						}
					}
				}
			})
		}
		wg.Wait()
	}
}
