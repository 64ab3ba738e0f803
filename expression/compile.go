package expression

import (
	"container/list"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Problem is a construct of an expression that authflow cannot run: a
// syntax error, a Python construct outside the Starlark dialect, an
// import, a name that is not defined. Line is the line of the
// expression's own text, from 1 (authentik's Python tracebacks count one
// more, for the def line it adds).
type Problem struct {
	Line int
	// Construct names what is refused: "import os", "while", "open",
	// "is", "try", "syntax", ...
	Construct string
	Msg       string
}

// Error is "line N: msg".
func (p *Problem) Error() string { return fmt.Sprintf("line %d: %s", p.Line, p.Msg) }

// ErrCompile is wrapped by every error of Compile: the expression has
// problems (see Check), the first of which the error states.
var ErrCompile = errors.New("expression: cannot compile")

// compileError is Compile's error: the problems, the first stated.
type compileError struct{ problems []Problem }

func (e *compileError) Error() string {
	return "expression: " + e.problems[0].Error()
}

func (e *compileError) Unwrap() []error {
	return []error{ErrCompile, &e.problems[0]}
}

// params are a policy handler's parameters, in authentik's order
// (EXPRESSIONS.md §3). ak_client_ip and http_request are always
// parameters here; without an HTTP request, which authentik leaves them
// out for, their value fails as Python's NameError would.
var params = []string{"ak_message", "ak_user_has_authenticator", "ak_is_sso_flow", "ak_client_ip", "http_request", "request", "context"}

// kind is the handler an expression is the body of: a policy's or a
// prompt's (PropertyMappingEvaluator's), each with its parameters.
type kind uint8

const (
	policyKind kind = iota
	promptKind
)

// params are the handler's parameters.
func (k kind) params() []string {
	if k == promptKind {
		return promptParams
	}
	return params
}

// fileOptions is the dialect: Python's while loops and set literals,
// bounded by the step limit; no recursion.
var fileOptions = &syntax.FileOptions{While: true, Set: true}

// Program is a compiled expression policy. It is immutable and safe for
// concurrent use; each run has its own interpreter thread.
type Program struct {
	src string
	// handler is the module's handler function, defined once when
	// compiling (the module's top level only defines it) and frozen:
	// each run calls it with its own arguments, locals and thread, so
	// runs share nothing mutable.
	handler *starlark.Function
	// initSteps are the steps the module's top level took, which each
	// run starts from, as when each run defined the handler itself.
	initSteps uint64
	// reach is what the body can read of its parameters.
	reach reach
}

// Source is the expression's text as given to Compile.
func (p *Program) Source() string { return p.src }

// Check returns the problems that keep src from running in authflow,
// each naming the construct and its line; none means it compiles. It
// does not run src.
func Check(src string) []Problem {
	_, probs := compile(src)
	return probs
}

// compile rewrites, wraps and compiles src.
func compile(src string) (*Program, []Problem) { return compileKind(src, policyKind) }

// compileKind rewrites, wraps and compiles src as the body of k's
// handler.
func compileKind(src string, k kind) (*Program, []Problem) {
	rw, err := rewrite(src)
	if err != nil {
		var p *Problem
		if errors.As(err, &p) {
			return nil, []Problem{*p}
		}
		return nil, []Problem{{Line: 1, Construct: "syntax", Msg: err.Error()}}
	}
	globals := make(starlark.StringDict, len(builtins)+len(rw.imports))
	for k, v := range builtins {
		globals[k] = v
	}
	for _, imp := range rw.imports {
		globals[imp.as] = modules[imp.module][imp.name]
	}
	wrapped := wrap(rw.src, k.params())
	f, prog, err := starlark.SourceProgramOptions(fileOptions, "expression", wrapped, globals.Has)
	if err != nil {
		return nil, problems(src, err)
	}
	// The top level is the one def: it cannot fail, refer to a
	// parameter or run an expression's code.
	th := &starlark.Thread{Name: "expression"}
	g, err := prog.Init(th, globals)
	handler, ok := g["handler"].(*starlark.Function)
	if err != nil || !ok {
		return nil, []Problem{{Line: 1, Construct: "syntax", Msg: fmt.Sprintf("defining the handler: %v", err)}}
	}
	g.Freeze()
	return &Program{src: src, handler: handler, initSteps: th.ExecutionSteps(), reach: reachOf(f)}, nil
}

// wrap makes src the body of handler, as authentik does: every line
// that is not blank indented by four spaces.
func wrap(src string, params []string) string {
	var b strings.Builder
	b.WriteString("def handler(" + strings.Join(params, ", ") + "):\n")
	for _, l := range strings.SplitAfter(src, "\n") {
		if strings.TrimSpace(l) != "" {
			b.WriteString("    ")
		}
		b.WriteString(l)
	}
	return b.String()
}

// problems turns Starlark's compile errors into Problems on the lines of
// the expression's text.
func problems(src string, err error) []Problem {
	lines := strings.Split(src, "\n")
	line := func(pos syntax.Position) int {
		n := int(pos.Line) - 1
		if n < 1 {
			n = 1
		}
		return n
	}
	word := func(n int) string {
		if n < 1 || n > len(lines) {
			return ""
		}
		f := strings.FieldsFunc(lines[n-1], func(r rune) bool { return !isIdentPart(byte(r)) || r > 0x7f })
		if len(f) == 0 {
			return ""
		}
		return f[0]
	}
	var out []Problem
	switch e := err.(type) {
	case syntax.Error:
		n := line(e.Pos)
		if kw := word(n); unsupportedKeywords[kw] {
			out = append(out, Problem{Line: n, Construct: kw, Msg: fmt.Sprintf("'%s' is not supported by authflow's expression dialect (Starlark)", kw)})
		} else if strings.Contains(e.Msg, "does not associate with") {
			out = append(out, Problem{Line: n, Construct: "chained comparison", Msg: "chained comparisons (a < b < c) are not supported by authflow's expression dialect (Starlark): write a < b and b < c"})
		} else {
			out = append(out, Problem{Line: n, Construct: "syntax", Msg: e.Msg})
		}
	case resolve.ErrorList:
		for _, re := range e {
			n := line(re.Pos)
			if name, ok := strings.CutPrefix(re.Msg, "undefined: "); ok {
				out = append(out, undefined(n, name))
				continue
			}
			construct := "syntax"
			if kw := word(n); unsupportedKeywords[kw] {
				construct = kw
			}
			out = append(out, Problem{Line: n, Construct: construct, Msg: re.Msg})
		}
	default:
		out = append(out, Problem{Line: 1, Construct: "syntax", Msg: err.Error()})
	}
	return out
}

// unsupportedKeywords are Python statements the Starlark dialect lacks.
var unsupportedKeywords = map[string]bool{
	"class": true, "with": true, "raise": true, "assert": true, "del": true, "global": true,
	"nonlocal": true, "yield": true, "async": true, "await": true, "try": true, "except": true,
	"finally": true, "import": true,
}

// denied are Python builtins that reach the host: never available.
var denied = map[string]string{
	"open":       "no file access",
	"__import__": "no imports",
	"eval":       "no dynamic code",
	"exec":       "no dynamic code",
	"compile":    "no dynamic code",
	"input":      "no console",
	"globals":    "no interpreter internals",
	"locals":     "no interpreter internals",
	"vars":       "no interpreter internals",
	"breakpoint": "no debugger",
	"memoryview": "no raw memory",
}

// undefined is the problem of a name that is neither a parameter, a
// global nor imported.
func undefined(line int, name string) Problem {
	if why, ok := denied[name]; ok {
		return Problem{Line: line, Construct: name, Msg: fmt.Sprintf("'%s' is not available to expressions in authflow (%s)", name, why)}
	}
	if pythonBuiltins[name] {
		return Problem{Line: line, Construct: name, Msg: fmt.Sprintf("'%s', a Python builtin, is not supported by authflow's expression dialect (Starlark)", name)}
	}
	if djangoNames[name] {
		return Problem{Line: line, Construct: name, Msg: fmt.Sprintf("'%s' is part of authentik's Django server (models, ORM, database), which authflow does not have", name)}
	}
	// authentik raises NameError only if the line runs.
	return Problem{Line: line, Construct: name, Msg: fmt.Sprintf("name '%s' is not defined", name)}
}

// pythonBuiltins are Python builtins Starlark does not have.
var pythonBuiltins = map[string]bool{
	"isinstance": true, "issubclass": true, "callable": true, "iter": true, "next": true, "map": true,
	"filter": true, "sum": true, "abs": true, "round": true, "divmod": true, "pow": true, "format": true,
	"id": true, "object": true, "super": true, "property": true, "setattr": true, "delattr": true,
	"frozenset": true, "bytearray": true, "complex": true, "ascii": true, "bin": true, "hex": true, "oct": true,
	"Exception": true, "ValueError": true, "KeyError": true, "TypeError": true, "AttributeError": true,
}

// djangoNames are models an expression might use without importing
// them in authentik's shell-like examples.
var djangoNames = map[string]bool{"User": true, "Group": true, "Flow": true, "Application": true, "Event": true, "Token": true}

// DefaultCacheSize is the number of expression texts the package's
// cache keeps compiled.
const DefaultCacheSize = 1024

// Cache keeps compiled programs by expression text, the least recently
// used dropped beyond its size. It is safe for concurrent use.
type Cache struct {
	mu    sync.Mutex
	max   int
	byKey map[cacheKey]*list.Element
	lru   list.List
	// last is the entry compiled or found last: a text evaluated again
	// and again (a re-evaluated binding's) is found without hashing it.
	last atomic.Pointer[cacheEntry]
}

// cacheKey is a text compiled as the body of a kind of handler.
type cacheKey struct {
	kind kind
	src  string
}

type cacheEntry struct {
	key  cacheKey
	prog *Program
	err  error
}

// NewCache returns a cache of at most size texts; size < 1 means
// DefaultCacheSize.
func NewCache(size int) *Cache {
	if size < 1 {
		size = DefaultCacheSize
	}
	return &Cache{max: size, byKey: map[cacheKey]*list.Element{}}
}

var defaultCache = NewCache(DefaultCacheSize)

// Compile compiles src, a policy's expression (a Python function body),
// through the package's cache. The error wraps ErrCompile and states the
// first Problem (errors.As finds it).
func Compile(src string) (*Program, error) { return defaultCache.Compile(src) }

// Compile compiles src once per text: a text compiled before, and still
// in the cache, returns the same Program (or error).
func (c *Cache) Compile(src string) (*Program, error) { return c.compile(src, policyKind) }

// compile compiles src as the body of k's handler once per kind and
// text.
func (c *Cache) compile(src string, k kind) (*Program, error) {
	key := cacheKey{k, src}
	if e := c.last.Load(); e != nil && e.key == key {
		return e.prog, e.err
	}
	c.mu.Lock()
	if el, ok := c.byKey[key]; ok {
		c.lru.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		c.mu.Unlock()
		c.last.Store(e)
		return e.prog, e.err
	}
	c.mu.Unlock()
	prog, probs := compileKind(src, k)
	e := &cacheEntry{key: key, prog: prog}
	if len(probs) > 0 {
		e.err = &compileError{problems: probs}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok { // compiled meanwhile
		e := el.Value.(*cacheEntry)
		return e.prog, e.err
	}
	c.byKey[key] = c.lru.PushFront(e)
	c.last.Store(e)
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.byKey, old.Value.(*cacheEntry).key)
	}
	return e.prog, e.err
}

// Len is the number of texts cached.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
