package tmplexec

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"text/template/parse"
)

// errRerun stops a compiled template where text/template would fail or
// where this package does not know what it would do: the rendering is
// done again by html/template, which writes its own output or error.
var errRerun = errors.New("tmplexec: rerun by html/template")

// errUnsupported is a template this package does not compile.
var errUnsupported = errors.New("tmplexec: not compiled")

// ctl is how a node ends: normally, or by a break or a continue.
type ctl uint8

const (
	ctlNone ctl = iota
	ctlBreak
	ctlContinue
)

// state is one execution's: its output and variables, as text/template
// keeps them (a stack of names and values, popped at each end).
type state struct {
	w     *bytes.Buffer
	vars  []variable
	base  int // the first of the running template's variables
	depth int
	// unchecked are the derived templates' texts this rendering wrote
	// that no rendering has checked yet (see derived).
	unchecked []*derived
}

// derived is the text of a template html/template derived for another
// context, taken to be its template's text as it is; checked once a
// rendering that wrote it was the same as html/template's.
type derived struct {
	text    []byte
	checked atomic.Bool
}

type variable struct {
	name  string
	value reflect.Value
}

func (s *state) varValue(name string) reflect.Value {
	for i := len(s.vars) - 1; i >= s.base; i-- {
		if s.vars[i].name == name {
			return s.vars[i].value
		}
	}
	panic(errRerun)
}

func (s *state) setVar(name string, v reflect.Value) {
	for i := len(s.vars) - 1; i >= s.base; i-- {
		if s.vars[i].name == name {
			s.vars[i].value = v
			return
		}
	}
	panic(errRerun)
}

// maxDepth bounds the templates calling templates; deeper, html/template
// runs (and stops at its own bound).
const maxDepth = 10000

type (
	node func(s *state, dot reflect.Value) ctl
	expr func(s *state, dot reflect.Value) reflect.Value
	// cmd is a command given the value of the pipeline's command before
	// it (final), missing for the first.
	cmd func(s *state, dot, final reflect.Value) reflect.Value
)

// program is a template compiled.
type program struct {
	root node
}

// compiler compiles the trees of one template set; lookup returns a
// template's escaped tree by name.
type compiler struct {
	lookup func(name string) (*parse.Tree, bool)
	funcs  map[string]reflect.Value
	progs  map[string]*program
}

func (c *compiler) template(name string) (*program, error) {
	if p, ok := c.progs[name]; ok {
		return p, nil
	}
	tree, ok := c.lookup(name)
	if !ok || tree == nil || tree.Root == nil {
		return nil, fmt.Errorf("%w: no template %q", errUnsupported, name)
	}
	p := &program{}
	c.progs[name] = p // before its body: a template may call itself
	root, err := c.list(tree.Root)
	if err != nil {
		return nil, err
	}
	p.root = root
	return p, nil
}

func (c *compiler) list(l *parse.ListNode) (node, error) {
	if l == nil {
		return func(*state, reflect.Value) ctl { return ctlNone }, nil
	}
	var nodes []node
	var text []byte // consecutive text nodes, as one
	flush := func() {
		if text != nil {
			t := text
			nodes = append(nodes, func(s *state, _ reflect.Value) ctl { s.w.Write(t); return ctlNone })
			text = nil
		}
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			text = append(text, n.Text...)
			continue
		case *parse.CommentNode:
			continue
		}
		flush()
		f, err := c.node(n)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, f)
	}
	flush()
	switch len(nodes) {
	case 0:
		return func(*state, reflect.Value) ctl { return ctlNone }, nil
	case 1:
		return nodes[0], nil
	}
	return func(s *state, dot reflect.Value) ctl {
		for _, n := range nodes {
			if r := n(s, dot); r != ctlNone {
				return r
			}
		}
		return ctlNone
	}, nil
}

func (c *compiler) node(n parse.Node) (node, error) {
	switch n := n.(type) {
	case *parse.ActionNode:
		return c.action(n)
	case *parse.IfNode:
		return c.ifWith(&n.BranchNode, false)
	case *parse.WithNode:
		return c.ifWith(&n.BranchNode, true)
	case *parse.RangeNode:
		return c.rangeNode(n)
	case *parse.TemplateNode:
		return c.templateNode(n)
	case *parse.BreakNode:
		return func(*state, reflect.Value) ctl { return ctlBreak }, nil
	case *parse.ContinueNode:
		return func(*state, reflect.Value) ctl { return ctlContinue }, nil
	}
	return nil, fmt.Errorf("%w: node %s", errUnsupported, n)
}

// action is a value's action: its pipeline, then the escapers
// html/template appended, the last writing; or a variable's
// declaration or assignment, which writes nothing.
func (c *compiler) action(n *parse.ActionNode) (node, error) {
	if len(n.Pipe.Decl) > 0 {
		p, err := c.pipeline(n.Pipe)
		if err != nil {
			return nil, err
		}
		return func(s *state, dot reflect.Value) ctl { p(s, dot); return ctlNone }, nil
	}
	cmds := n.Pipe.Cmds
	k := len(cmds)
	for k > 0 && isEscaper(cmds[k-1]) {
		k--
	}
	if k == len(cmds) || k == 0 {
		return nil, fmt.Errorf("%w: an action without an escaper: %s", errUnsupported, n)
	}
	var escs []escaper
	for _, cmd := range cmds[k:] {
		e, ok := escapers[cmd.Args[0].(*parse.IdentifierNode).Ident]
		if !ok || len(cmd.Args) != 1 {
			return nil, fmt.Errorf("%w: escaper %s", errUnsupported, cmd)
		}
		escs = append(escs, e)
	}
	p, err := c.pipeline(&parse.PipeNode{Cmds: cmds[:k]})
	if err != nil {
		return nil, err
	}
	last := escs[len(escs)-1]
	if len(escs) == 1 {
		return func(s *state, dot reflect.Value) ctl {
			str, ct := stringifyValue(p(s, dot))
			last(s.w, str, ct)
			return ctlNone
		}, nil
	}
	var first []func(string, contentType) string
	for _, cmd := range cmds[k : len(cmds)-1] {
		first = append(first, stringEscaper(cmd.Args[0].(*parse.IdentifierNode).Ident))
	}
	return func(s *state, dot reflect.Value) ctl {
		str, ct := stringifyValue(p(s, dot))
		for _, e := range first {
			// Each returns a string to the next.
			str, ct = e(str, ct), contentPlain
		}
		last(s.w, str, ct)
		return ctlNone
	}, nil
}

// isEscaper says whether a command is a call of one of html/template's
// escapers.
func isEscaper(cmd *parse.CommandNode) bool {
	id, ok := cmd.Args[0].(*parse.IdentifierNode)
	return ok && strings.HasPrefix(id.Ident, "_html_template_")
}

// pipeline is text/template's evalPipeline: the commands in turn, each
// given the one before's value, then its declarations or assignments.
func (c *compiler) pipeline(p *parse.PipeNode) (expr, error) {
	if p == nil {
		return func(*state, reflect.Value) reflect.Value { return reflect.Value{} }, nil
	}
	var cmds []cmd
	for i, cn := range p.Cmds {
		f, err := c.command(cn, i > 0)
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, f)
	}
	var names []string
	for _, d := range p.Decl {
		if len(d.Ident) != 1 {
			return nil, fmt.Errorf("%w: declaration %s", errUnsupported, d)
		}
		names = append(names, d.Ident[0])
	}
	assign := p.IsAssign
	if len(cmds) == 1 && len(names) == 0 {
		f := cmds[0]
		return func(s *state, dot reflect.Value) reflect.Value {
			v := f(s, dot, missing)
			if v.Kind() == reflect.Interface && v.Type().NumMethod() == 0 {
				v = v.Elem()
			}
			return v
		}, nil
	}
	return func(s *state, dot reflect.Value) reflect.Value {
		v := missing
		for _, f := range cmds {
			v = f(s, dot, v)
			if v.Kind() == reflect.Interface && v.Type().NumMethod() == 0 {
				v = v.Elem()
			}
		}
		for _, name := range names {
			if assign {
				s.setVar(name, v)
			} else {
				s.vars = append(s.vars, variable{name, v})
			}
		}
		return v
	}, nil
}

// missing is the final value of a pipeline's first command: none.
var missing = reflect.ValueOf(missingType{})

type missingType struct{}

func isMissing(v reflect.Value) bool { return v.IsValid() && v.Type() == missing.Type() }

// command is text/template's evalCommand; piped says whether a value
// comes from the command before.
func (c *compiler) command(cn *parse.CommandNode, piped bool) (cmd, error) {
	args := cn.Args
	switch n := args[0].(type) {
	case *parse.FieldNode:
		return c.fieldChain(nil, n.Ident, args[1:], piped)
	case *parse.ChainNode:
		base, err := c.chainBase(n)
		if err != nil {
			return nil, err
		}
		return c.fieldChain(base, n.Field, args[1:], piped)
	case *parse.VariableNode:
		if len(n.Ident) == 1 {
			if len(args) > 1 || piped {
				return nil, fmt.Errorf("%w: arguments to %s", errUnsupported, n)
			}
			name := n.Ident[0]
			return func(s *state, _, _ reflect.Value) reflect.Value { return s.varValue(name) }, nil
		}
		name := n.Ident[0]
		return c.fieldChain(func(s *state, _ reflect.Value) reflect.Value { return s.varValue(name) }, n.Ident[1:], args[1:], piped)
	case *parse.IdentifierNode:
		return c.function(n.Ident, args[1:], piped)
	}
	if len(args) > 1 || piped {
		return nil, fmt.Errorf("%w: arguments to %s", errUnsupported, args[0])
	}
	switch n := args[0].(type) {
	case *parse.PipeNode:
		p, err := c.pipeline(n)
		if err != nil {
			return nil, err
		}
		return func(s *state, dot, _ reflect.Value) reflect.Value { return p(s, dot) }, nil
	case *parse.DotNode:
		return func(_ *state, dot, _ reflect.Value) reflect.Value { return dot }, nil
	case *parse.BoolNode, *parse.StringNode, *parse.NumberNode:
		v, err := constant(n)
		if err != nil {
			return nil, err
		}
		return func(*state, reflect.Value, reflect.Value) reflect.Value { return v }, nil
	}
	return nil, fmt.Errorf("%w: command %s", errUnsupported, args[0])
}

// chainBase is the value a chain's fields are read from ((pipe).X.Y),
// as text/template's evalArg of no type gives it.
func (c *compiler) chainBase(n *parse.ChainNode) (expr, error) {
	switch b := n.Node.(type) {
	case *parse.PipeNode:
		return c.pipeline(b)
	case *parse.FieldNode:
		f, err := c.fieldChain(nil, b.Ident, nil, false)
		if err != nil {
			return nil, err
		}
		return func(s *state, dot reflect.Value) reflect.Value { return f(s, dot, missing) }, nil
	case *parse.VariableNode:
		return c.expr(b)
	case *parse.DotNode:
		return func(_ *state, dot reflect.Value) reflect.Value { return dot }, nil
	}
	return nil, fmt.Errorf("%w: chain %s", errUnsupported, n)
}

// constant is a constant's value, as text/template's evalEmptyInterface
// (its idealConstant) gives it.
func constant(n parse.Node) (reflect.Value, error) {
	switch n := n.(type) {
	case *parse.BoolNode:
		return reflect.ValueOf(n.True), nil
	case *parse.StringNode:
		return reflect.ValueOf(n.Text), nil
	case *parse.NumberNode:
		switch {
		case n.IsComplex:
			return reflect.ValueOf(n.Complex128), nil
		case n.IsFloat && !isHexInt(n.Text) && !isRuneInt(n.Text) && strings.ContainsAny(n.Text, ".eEpP"):
			return reflect.ValueOf(n.Float64), nil
		case n.IsInt && int64(int(n.Int64)) == n.Int64:
			return reflect.ValueOf(int(n.Int64)), nil
		}
	}
	return reflect.Value{}, fmt.Errorf("%w: constant %s", errUnsupported, n)
}

func isRuneInt(s string) bool { return len(s) > 0 && s[0] == '\'' }

func isHexInt(s string) bool {
	return len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && !strings.ContainsAny(s, "pP")
}

// expr is an argument's value, as text/template's evalArg of no type
// (an empty interface's) gives it.
func (c *compiler) expr(n parse.Node) (expr, error) {
	switch n := n.(type) {
	case *parse.DotNode:
		return func(_ *state, dot reflect.Value) reflect.Value { return dot }, nil
	case *parse.FieldNode:
		f, err := c.fieldChain(nil, n.Ident, nil, false)
		if err != nil {
			return nil, err
		}
		return func(s *state, dot reflect.Value) reflect.Value { return f(s, dot, missing) }, nil
	case *parse.ChainNode:
		base, err := c.chainBase(n)
		if err != nil {
			return nil, err
		}
		f, err := c.fieldChain(base, n.Field, nil, false)
		if err != nil {
			return nil, err
		}
		return func(s *state, dot reflect.Value) reflect.Value { return f(s, dot, missing) }, nil
	case *parse.VariableNode:
		name := n.Ident[0]
		if len(n.Ident) == 1 {
			return func(s *state, _ reflect.Value) reflect.Value { return s.varValue(name) }, nil
		}
		f, err := c.fieldChain(func(s *state, _ reflect.Value) reflect.Value { return s.varValue(name) }, n.Ident[1:], nil, false)
		if err != nil {
			return nil, err
		}
		return func(s *state, dot reflect.Value) reflect.Value { return f(s, dot, missing) }, nil
	case *parse.PipeNode:
		return c.pipeline(n)
	case *parse.IdentifierNode:
		f, err := c.function(n.Ident, nil, false)
		if err != nil {
			return nil, err
		}
		return func(s *state, dot reflect.Value) reflect.Value { return f(s, dot, missing) }, nil
	case *parse.BoolNode, *parse.StringNode, *parse.NumberNode:
		v, err := constant(n)
		if err != nil {
			return nil, err
		}
		return func(*state, reflect.Value) reflect.Value { return v }, nil
	}
	return nil, fmt.Errorf("%w: argument %s", errUnsupported, n)
}

// branch is an if's, a with's or a range's pipeline, list and else
// list (nil for none).
func (c *compiler) branch(b *parse.BranchNode) (p expr, list, elseList node, err error) {
	if p, err = c.pipeline(b.Pipe); err != nil {
		return nil, nil, nil, err
	}
	if list, err = c.list(b.List); err != nil {
		return nil, nil, nil, err
	}
	if b.ElseList != nil {
		if elseList, err = c.list(b.ElseList); err != nil {
			return nil, nil, nil, err
		}
	}
	return p, list, elseList, nil
}

// ifWith is text/template's walkIfOrWith.
func (c *compiler) ifWith(b *parse.BranchNode, with bool) (node, error) {
	p, list, elseList, err := c.branch(b)
	if err != nil {
		return nil, err
	}
	return func(s *state, dot reflect.Value) ctl {
		mark := len(s.vars)
		v := p(s, dot)
		t, ok := isTrue(indirectInterface(v))
		if !ok {
			panic(errRerun)
		}
		r := ctlNone
		switch {
		case t && with:
			r = list(s, v)
		case t:
			r = list(s, dot)
		case elseList != nil:
			r = elseList(s, dot)
		}
		s.vars = s.vars[:mark]
		return r
	}, nil
}

// rangeNode is text/template's walkRange over a slice, an array, a map
// of string or integer keys, or an integer; any other value is
// html/template's to range over.
func (c *compiler) rangeNode(r *parse.RangeNode) (node, error) {
	p, body, elseList, err := c.branch(&r.BranchNode)
	if err != nil {
		return nil, err
	}
	rg := &ranger{body: body, decl: len(r.Pipe.Decl), assign: r.Pipe.IsAssign}
	for _, d := range r.Pipe.Decl {
		rg.names = append(rg.names, d.Ident[0])
	}
	return func(s *state, dot reflect.Value) ctl {
		mark0 := len(s.vars)
		val, _ := indirectValue(p(s, dot))
		mark := len(s.vars)
		ran := false
		switch val.Kind() {
		case reflect.Array, reflect.Slice:
			for i := 0; i < val.Len(); i++ {
				ran = true
				if !rg.one(s, mark, reflect.ValueOf(i), val.Index(i)) {
					break
				}
			}
		case reflect.Map:
			if val.Len() == 0 {
				break
			}
			for _, k := range sortedKeys(val) {
				ran = true
				if !rg.one(s, mark, k, val.MapIndex(k)) {
					break
				}
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if rg.decl > 1 {
				panic(errRerun)
			}
			for v := range val.Seq() {
				ran = true
				if !rg.one(s, mark, reflect.Value{}, v) {
					break
				}
			}
		case reflect.Invalid:
			// A nil map's, as empty.
		default:
			panic(errRerun)
		}
		r := ctlNone
		if !ran && elseList != nil {
			// text/template's range takes a break in its else too.
			if r = elseList(s, dot); r == ctlBreak {
				r = ctlNone
			}
		}
		s.vars = s.vars[:mark0]
		return r
	}, nil
}

// ranger is a range's body and variables.
type ranger struct {
	body   node
	decl   int
	assign bool
	names  []string
}

// one runs the body once, its variables set as text/template's
// oneIteration sets them; false on a break.
func (rg *ranger) one(s *state, mark int, index, elem reflect.Value) bool {
	if rg.decl > 0 {
		switch {
		case rg.assign && rg.decl > 1:
			s.setVar(rg.names[0], index)
		case rg.assign:
			s.setVar(rg.names[0], elem)
		default:
			s.vars[len(s.vars)-1].value = elem
		}
	}
	if rg.decl > 1 {
		if rg.assign {
			s.setVar(rg.names[1], elem)
		} else {
			s.vars[len(s.vars)-2].value = index
		}
	}
	r := rg.body(s, elem)
	s.vars = s.vars[:mark]
	return r != ctlBreak
}

// sortedKeys are a map's keys in text/template's order (its fmtsort's)
// for string and integer keys; html/template ranges over any other.
func sortedKeys(m reflect.Value) []reflect.Value {
	keys := m.MapKeys()
	switch m.Type().Key().Kind() {
	case reflect.String:
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmpOrdered(a.Int(), b.Int()) })
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmpOrdered(a.Uint(), b.Uint()) })
	default:
		panic(errRerun)
	}
	return keys
}

func cmpOrdered[T int64 | uint64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// templateNode is text/template's walkTemplate: the called template
// with dot the pipeline's value and no variables but $. A template that
// html/template derived for another context (name$htmltemplate_...),
// which only text/template's set holds, is compiled when its template
// is text alone: its text, which html/template may have changed (it
// drops a CSS comment), so that a rendering that writes it is checked
// until one is the same as html/template's (Set.Execute).
func (c *compiler) templateNode(n *parse.TemplateNode) (node, error) {
	p, err := c.pipeline(n.Pipe)
	if err != nil {
		return nil, err
	}
	if base, _, ok := strings.Cut(n.Name, "$htmltemplate_"); ok {
		tree, found := c.lookup(base)
		if !found || tree == nil || tree.Root == nil {
			return nil, fmt.Errorf("%w: derived template %q", errUnsupported, n.Name)
		}
		d := &derived{}
		for _, t := range tree.Root.Nodes {
			tn, ok := t.(*parse.TextNode)
			if !ok {
				return nil, fmt.Errorf("%w: derived template %q with actions", errUnsupported, n.Name)
			}
			d.text = append(d.text, tn.Text...)
		}
		return func(s *state, dot reflect.Value) ctl {
			p(s, dot)
			s.w.Write(d.text)
			if !d.checked.Load() {
				s.unchecked = append(s.unchecked, d)
			}
			return ctlNone
		}, nil
	}
	callee, err := c.template(n.Name)
	if err != nil {
		return nil, err
	}
	return func(s *state, dot reflect.Value) ctl {
		v := p(s, dot)
		if s.depth >= maxDepth {
			panic(errRerun)
		}
		base, mark := s.base, len(s.vars)
		s.vars = append(s.vars, variable{"$", v})
		s.base = mark
		s.depth++
		callee.root(s, v)
		s.depth--
		s.vars, s.base = s.vars[:mark], base
		return ctlNone
	}, nil
}

// isTrue is text/template's.
func isTrue(val reflect.Value) (truth, ok bool) {
	if !val.IsValid() {
		return false, true
	}
	switch val.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		truth = val.Len() > 0
	case reflect.Bool:
		truth = val.Bool()
	case reflect.Complex64, reflect.Complex128:
		truth = val.Complex() != 0
	case reflect.Chan, reflect.Func, reflect.Pointer, reflect.UnsafePointer, reflect.Interface:
		truth = !val.IsNil()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		truth = val.Int() != 0
	case reflect.Float32, reflect.Float64:
		truth = val.Float() != 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		truth = val.Uint() != 0
	case reflect.Struct:
		truth = true
	default:
		return
	}
	return truth, true
}

// indirect is text/template's: v through pointers and interfaces, and
// whether it ends at a nil.
func indirectValue(v reflect.Value) (rv reflect.Value, isNil bool) {
	for ; v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface; v = v.Elem() {
		if v.IsNil() {
			return v, true
		}
	}
	return v, false
}

// indirectInterface is text/template's.
func indirectInterface(v reflect.Value) reflect.Value {
	if v.Kind() != reflect.Interface {
		return v
	}
	if v.IsNil() {
		return reflect.Value{}
	}
	return v.Elem()
}

// resolved is how a field name reads a receiver of one type (after
// pointers) and addressability: a method, a struct's field or a map's
// key.
type resolved struct {
	typ    reflect.Type
	addr   bool
	kind   uint8 // resMethod, resField, resMap
	method int   // the method's index, of *typ when addr
	field  []int
}

const (
	resMethod uint8 = iota + 1
	resField
	resMap
)

// step is one name of a field chain, with the last resolution it met.
type step struct {
	name string
	key  reflect.Value // name, a map's key
	last atomic.Pointer[resolved]
}

func (st *step) resolve(typ reflect.Type, addr bool) *resolved {
	if r := st.last.Load(); r != nil && r.typ == typ && r.addr == addr {
		return r
	}
	r := &resolved{typ: typ, addr: addr}
	mt := typ
	if addr {
		mt = reflect.PointerTo(typ)
	}
	if m, ok := mt.MethodByName(st.name); ok && (typ.Kind() != reflect.Interface) {
		r.kind, r.method = resMethod, m.Index
	} else {
		switch typ.Kind() {
		case reflect.Struct:
			if f, ok := typ.FieldByName(st.name); ok && f.IsExported() {
				r.kind, r.field = resField, f.Index
			}
		case reflect.Map:
			if typ.Key() == reflect.TypeFor[string]() {
				r.kind = resMap
			}
		}
	}
	st.last.Store(r)
	return r
}

// fieldChain is text/template's evalFieldChain: base's value (dot's
// when nil) through each name. A chain given arguments (a method's) is
// not compiled.
func (c *compiler) fieldChain(base expr, names []string, args []parse.Node, piped bool) (cmd, error) {
	if len(args) > 0 || piped {
		return nil, fmt.Errorf("%w: arguments to .%s", errUnsupported, strings.Join(names, "."))
	}
	steps := make([]*step, len(names))
	for i, n := range names {
		steps[i] = &step{name: n, key: reflect.ValueOf(n)}
	}
	return func(s *state, dot, _ reflect.Value) reflect.Value {
		v := dot
		if base != nil {
			v = base(s, dot)
		}
		for _, st := range steps {
			if !v.IsValid() {
				return reflect.Value{}
			}
			rv, isNil := indirectValue(v)
			if isNil {
				// A nil pointer or interface: html/template says which.
				panic(errRerun)
			}
			addr := rv.CanAddr()
			r := st.resolve(rv.Type(), addr)
			switch r.kind {
			case resMethod:
				if addr {
					rv = rv.Addr()
				}
				v = callMethod(rv.Method(r.method))
			case resField:
				if len(r.field) == 1 {
					v = rv.Field(r.field[0])
					continue
				}
				f, err := rv.FieldByIndexErr(r.field)
				if err != nil {
					panic(errRerun)
				}
				v = f
			case resMap:
				v = rv.MapIndex(st.key)
			default:
				panic(errRerun)
			}
		}
		return v
	}, nil
}
