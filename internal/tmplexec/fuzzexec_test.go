package tmplexec

import (
	"bytes"
	"errors"
	"html/template"
	"strings"
	"testing"
)

// fuzzData are the values of FuzzTemplates' data: each field of every
// kind this package compiles, nil and typed content among them.
type fuzzData struct {
	S  string
	H  template.HTML
	U  template.URL
	A  template.HTMLAttr
	N  int
	P  *item
	I  any
	M  map[string]any
	L  []any
	E  error
	St stringer
	B  bool
}

func fuzzPool() []any {
	full := &fuzzData{S: `<x "'&+>`, H: "<b>h</b>", U: "javascript:u", A: `title="a"`, N: 2, P: &item{Name: "p", On: true, Tags: []string{"t"}},
		I: template.HTML("<i>"), M: map[string]any{"k": template.URL("javascript:k"), "n": nil, "z": 0}, L: []any{"a", template.JS("j"), nil, &item{Name: "l"}, 3},
		E: errors.New("e<"), St: stringer{"s<"}, B: true}
	return []any{full, *full, &fuzzData{}, &fuzzData{S: "JAVASCRIPT:x", I: (*item)(nil), M: map[string]any{"k": map[string]any{"k": "deep"}},
		L: []any{}, N: -1, P: &item{}}, &fuzzData{I: []string{"x"}, L: []any{[]any{1}, map[string]int{"b": 1, "a": 2}}, E: (*errT)(nil)}, nil}
}

type errT struct{}

func (*errT) Error() string { return "errT" }

var (
	fuzzExprs = []string{`.S`, `.H`, `.U`, `.A`, `.N`, `.P`, `.P.Name`, `.P.Upper`, `.P.Checked`, `.I`, `.M.k`, `.M.missing`, `.M.k.k`, `.L`, `.E`,
		`.St`, `.B`, `$`, `.`, `(print .S .N)`, `(print .N .N)`, `(len .L)`, `(and .S .N)`, `(or .I .S)`, `(not .N)`, `(eq .N 2)`, `(eq .S "x" .S)`,
		`"lit"`, `1`, `$.S`, `$.I`, `(.P).Name`, `.I.Name`, `(ne .B true)`, `(len .M)`, `.L | len`, `.S | print`, `.S | upper`, `(boxed .S)`,
		`.P.Inner.Name`, `(twice .S 2)`, `(long .S)`, `(upper .P.Name)`, `.E.Error`, `.St.String`, `(print .P.Tags)`, `(eq .I nil)`,
		`(boxed "item").Name`, `(boxed "html")`, `(or .M.n .U)`, `(and .L .L)`, `(len .S)`, `.N | print "n"`, `(not .P)`, `(ne .N -1)`}
	fuzzContexts = []string{`<p>%</p>`, `<p title="%">`, `<a href="%">`, `<a href="/q?a=%">`, `<script>var s="%";</script>`,
		`<textarea>%</textarea>`, `<p %>`, `<a href='x/%'>`, `<p onclick="f('%')">`}
)

// FuzzTemplates renders templates made of the nodes and values this
// package compiles, three data each, compiled and by html/template: the
// same bytes and errors.
func FuzzTemplates(f *testing.F) {
	for _, s := range []string{"", "\x00\x01\x02", "\x10\x03\x04\x05", "\x21\x12\x13\x14\x15\x16", "\x30\x01\x02\x03\x07\x08\x09", "\x45\x99\x11\x23\x12"} {
		f.Add([]byte(s))
	}
	pool := fuzzPool()
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 64 {
			return
		}
		g := &gen{in: in}
		src := g.list(3)
		tm, err := template.New("t").Funcs(testFuncs).Parse(src)
		if err != nil {
			return
		}
		ds := []any{pool[g.next()%len(pool)], pool[g.next()%len(pool)], pool[g.next()%len(pool)], pool[g.next()%len(pool)]}
		ref := template.Must(template.New("t").Funcs(testFuncs).Parse(src))
		s := New(tm, testFuncs)
		for i, d := range ds {
			var want, got bytes.Buffer
			werr := ref.Execute(&want, d)
			gerr := s.Execute(&got, "t", d)
			if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() || want.String() != got.String() {
				t.Fatalf("%s\ndata %d: html/template %q %v\nExecute       %q %v", src, i, want.String(), werr, got.String(), gerr)
			}
		}
	})
}

// gen makes a template of the bytes it is given.
type gen struct {
	in    []byte
	i     int
	rng   int // ranges open
	scope int // variables declared
}

func (g *gen) next() int {
	if g.i >= len(g.in) {
		return 0
	}
	g.i++
	return int(g.in[g.i-1])
}

func (g *gen) expr() string {
	e := fuzzExprs[g.next()%len(fuzzExprs)]
	if g.scope > 0 && g.next()%4 == 0 {
		return "$v"
	}
	return e
}

func (g *gen) list(depth int) string {
	var b strings.Builder
	for n := g.next() % 4; n >= 0 && g.i < len(g.in); n-- {
		b.WriteString(g.node(depth))
	}
	return b.String()
}

func (g *gen) node(depth int) string {
	k := g.next() % 10
	if depth == 0 {
		k %= 2
	}
	switch k {
	case 0, 1:
		c := fuzzContexts[g.next()%len(fuzzContexts)]
		return strings.Replace(c, "%", "{{"+g.expr()+"}}", 1)
	case 2:
		return "{{if " + g.expr() + "}}" + g.list(depth-1) + "{{else}}" + g.list(depth-1) + "{{end}}"
	case 3:
		return "{{with " + g.expr() + "}}" + g.list(depth-1) + "{{end}}"
	case 4:
		g.rng++
		s := "{{range " + g.expr() + "}}" + g.list(depth-1) + "{{else}}" + g.list(depth-1) + "{{end}}"
		g.rng--
		return s
	case 5:
		g.rng++
		s := "{{range $i, $e := " + g.expr() + "}}{{$i}}:{{$e}}" + g.list(depth-1) + "{{end}}"
		g.rng--
		return s
	case 6:
		if g.rng > 0 {
			return []string{"{{break}}", "{{continue}}"}[g.next()%2]
		}
		return "x"
	case 7:
		g.scope++
		return "{{$v := " + g.expr() + "}}" + g.list(depth-1)
	case 8:
		if g.scope > 0 {
			return "{{$v = " + g.expr() + "}}"
		}
		return "{{" + g.expr() + "}}"
	}
	return "{{with $w := " + g.expr() + "}}{{$w}}" + g.list(depth-1) + "{{end}}"
}
