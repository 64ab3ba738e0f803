package tmplexec

import (
	"bytes"
	"html/template"
	"reflect"
	"slices"
	"sync"
	"text/template/parse"
)

// Set runs the templates of an html/template set, each compiled once
// html/template has escaped it.
type Set struct {
	t     *template.Template
	funcs map[string]reflect.Value
	mu    sync.Mutex
	progs sync.Map // name → *entry
	pool  sync.Pool
	// notCompiled is why no template of the set is compiled (its
	// missingkey option is not the default), "" when they may be.
	notCompiled string
}

// entry is a template's by name: its program, or why it has none.
type entry struct {
	prog   *program
	reason string // why prog is nil: html/template runs it
}

// New is the Set of t, whose functions are funcs (as given to its
// Funcs); t's templates are not to be changed once it runs. It clones
// t once, to tell its missingkey option (see missingKeyDefault).
func New(t *template.Template, funcs template.FuncMap) *Set {
	s := &Set{t: t, funcs: map[string]reflect.Value{}}
	for name, fn := range funcs {
		v := reflect.ValueOf(fn)
		if v.Kind() != reflect.Func {
			continue // html/template refused it already
		}
		s.funcs[name] = v
	}
	s.pool.New = func() any { return &state{} }
	if !missingKeyDefault(t) {
		s.notCompiled = "missingkey option not the default, or not known"
	}
	return s
}

// missingKeyDefault says whether t's missingkey option is the default,
// which the compiled templates take it to be: a clone of t, given a
// template of a map's missing key, renders nothing (the zero value, or
// an error, else). A set already executed, which cannot be cloned, is
// taken not to be.
func missingKeyDefault(t *template.Template) bool {
	c, err := t.Clone()
	if err != nil {
		return false
	}
	p, err := c.New("tmplexec: missingkey probe").Delims("{{", "}}").Parse(`{{.k}}`)
	if err != nil {
		return false
	}
	var b bytes.Buffer
	return p.Execute(&b, map[string]int{}) == nil && b.Len() == 0
}

// Template is the html/template set s runs.
func (s *Set) Template() *template.Template { return s.t }

// Verify, when set (by a test), has every rendering of a compiled
// template run by html/template too, and is called with both outputs
// when they differ.
var Verify func(name string, html, compiled []byte)

// Execute renders the template name with data into b, as
// html/template's ExecuteTemplate does. Its first rendering is
// html/template's, which escapes the template; the template is then
// compiled and run again with the same data, and kept if it wrote the
// same bytes, else left to html/template for good. A compiled template
// that fails renders again by html/template, whose output or error is
// Execute's (b holds what it wrote; nothing else). So the set's
// functions and the data's methods may be called twice for one
// rendering. A first rendering holds the set's lock until it is
// compiled: a function of the set's that renders, through the set,
// a template not yet rendered, at the first rendering of the template
// calling it, waits forever.
func (s *Set) Execute(b *bytes.Buffer, name string, data any) error {
	start := b.Len()
	e, ok := s.progs.Load(name)
	if !ok {
		if done, err := s.first(b, name, data); done {
			return err
		}
		e, _ = s.progs.Load(name)
	}
	p := e.(*entry).prog
	if p == nil {
		return s.t.ExecuteTemplate(b, name, data)
	}
	unchecked, err := s.run(p, b, data)
	if err != nil {
		b.Truncate(start)
		err := s.t.ExecuteTemplate(b, name, data)
		if err == nil {
			// html/template rendered what the program could not.
			s.progs.Store(name, &entry{reason: "failed where html/template did not"})
		}
		return err
	}
	if len(unchecked) > 0 {
		// A derived template's text, not yet checked.
		var h bytes.Buffer
		err := s.t.ExecuteTemplate(&h, name, data)
		if err != nil || !bytes.Equal(h.Bytes(), b.Bytes()[start:]) {
			s.progs.Store(name, &entry{reason: "rendered otherwise than html/template"})
			b.Truncate(start)
			b.Write(h.Bytes())
			return err
		}
		for _, d := range unchecked {
			d.checked.Store(true)
		}
	}
	if Verify != nil {
		var h bytes.Buffer
		err := s.t.ExecuteTemplate(&h, name, data)
		if err != nil || !bytes.Equal(h.Bytes(), b.Bytes()[start:]) {
			Verify(name, h.Bytes(), b.Bytes()[start:])
		}
	}
	return nil
}

// Compiled says whether the template name runs compiled, and why not:
// not run yet, or what this package does not compile or did otherwise
// than html/template.
func (s *Set) Compiled(name string) (ok bool, why string) {
	e, found := s.progs.Load(name)
	if !found {
		return false, "not run yet"
	}
	return e.(*entry).prog != nil, e.(*entry).reason
}

// first is the first rendering of the template name: html/template's,
// which escapes it (and the templates it calls), then compile's, under
// s.mu, so that the trees it reads are not being escaped. done is false
// when another rendering came first.
func (s *Set) first(b *bytes.Buffer, name string, data any) (done bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.progs.Load(name); ok {
		return false, nil
	}
	start := b.Len()
	if err := s.t.ExecuteTemplate(b, name, data); err != nil {
		return true, err
	}
	s.compile(name, data, b.Bytes()[start:])
	return true, nil
}

// compile compiles the template name, escaped, and keeps it when it
// renders data as html/template did (want).
func (s *Set) compile(name string, data any, want []byte) {
	if s.notCompiled != "" {
		s.progs.Store(name, &entry{reason: s.notCompiled})
		return
	}
	c := &compiler{lookup: s.tree, funcs: s.funcs, progs: map[string]*program{}}
	p, err := c.template(name)
	if err != nil {
		s.progs.Store(name, &entry{reason: err.Error()})
		return
	}
	var got bytes.Buffer
	unchecked, err := s.run(p, &got, data)
	switch {
	case err != nil:
		s.progs.Store(name, &entry{reason: "failed where html/template did not"})
	case !bytes.Equal(got.Bytes(), want):
		s.progs.Store(name, &entry{reason: "rendered otherwise than html/template"})
		if Verify != nil {
			Verify(name, want, got.Bytes())
		}
	default:
		for _, d := range unchecked {
			d.checked.Store(true)
		}
		s.progs.Store(name, &entry{prog: p})
	}
}

// tree is a template's escaped tree, by name.
func (s *Set) tree(name string) (*parse.Tree, bool) {
	t := s.t.Lookup(name)
	if t == nil {
		return nil, false
	}
	return t.Tree, true
}

// run runs p with data into b; errRerun when it stopped. unchecked
// are the derived templates' texts it wrote that were not checked.
func (s *Set) run(p *program, b *bytes.Buffer, data any) (unchecked []*derived, err error) {
	st := s.pool.Get().(*state)
	defer func() {
		if r := recover(); r != nil {
			// errRerun, or a panic of reflect's where text/template
			// would have failed: html/template's to tell.
			err = errRerun
		}
		if len(st.unchecked) > 0 {
			unchecked = slices.Clone(st.unchecked)
		}
		st.w, st.vars, st.base, st.depth, st.unchecked = nil, st.vars[:0], 0, 0, st.unchecked[:0]
		s.pool.Put(st)
	}()
	v, ok := data.(reflect.Value)
	if !ok {
		v = reflect.ValueOf(data)
	}
	st.w = b
	st.vars = append(st.vars[:0], variable{"$", v})
	p.root(st, v)
	return nil, nil
}
