package expression

import (
	"fmt"
	"sort"
	"strings"
)

// token kinds of the rewrite's scanner.
const (
	tName = iota
	tString
	tNumber
	tOp
)

// token is one Python token: its kind, text, 1-based line and byte
// offsets in the source.
type token struct {
	kind       int
	text       string
	line       int
	start, end int
}

// logical is one logical line: its tokens, its indentation (the column of
// its first token) and its first and last physical lines.
type logical struct {
	toks        []token
	indent      int
	first, last int
}

// scan splits src into logical lines of tokens. Strings (with prefixes,
// triple quotes and escapes) and comments are never looked into, so that
// the rewrite cannot touch them. An unterminated string is an error.
func scan(src string) ([]logical, error) {
	var (
		lines []logical
		cur   logical
		depth int
		line  = 1
		col   = 0
	)
	flush := func() {
		if len(cur.toks) > 0 {
			lines = append(lines, cur)
		}
		cur = logical{}
	}
	add := func(t token) {
		if len(cur.toks) == 0 {
			cur.indent, cur.first = col, t.line
		}
		cur.last = t.line
		for _, c := range src[t.start:t.end] {
			if c == '\n' {
				cur.last++
			}
		}
		cur.toks = append(cur.toks, t)
	}
	lineStart := 0
	for i := 0; i < len(src); {
		c := src[i]
		col = i - lineStart
		switch {
		case c == '\n':
			line++
			i++
			lineStart = i
			if depth == 0 {
				flush()
			}
		case c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			line++
			i += 2
			lineStart = i
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case isStringStart(src, i):
			j := i
			for src[j] != '\'' && src[j] != '"' {
				j++
			}
			end, err := stringEnd(src, j)
			if err != nil {
				return nil, &Problem{Line: line, Construct: "string", Msg: err.Error()}
			}
			add(token{kind: tString, text: src[i:end], line: line, start: i, end: end})
			for _, ch := range src[i:end] {
				if ch == '\n' {
					line++
				}
			}
			if k := strings.LastIndexByte(src[i:end], '\n'); k >= 0 {
				lineStart = i + k + 1
			}
			i = end
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			add(token{kind: tName, text: src[i:j], line: line, start: i, end: j})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (isIdentPart(src[j]) || src[j] == '.') {
				j++
			}
			add(token{kind: tNumber, text: src[i:j], line: line, start: i, end: j})
			i = j
		default:
			switch c {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				if depth > 0 {
					depth--
				}
			}
			add(token{kind: tOp, text: src[i : i+1], line: line, start: i, end: i + 1})
			i++
		}
	}
	flush()
	return lines, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// isStringStart reports whether a string literal, with an optional
// prefix of up to two letters among r, b, u, f, starts at i.
func isStringStart(src string, i int) bool {
	for j := i; j < len(src) && j < i+3; j++ {
		switch src[j] {
		case '\'', '"':
			return true
		case 'r', 'R', 'b', 'B', 'u', 'U', 'f', 'F':
			continue
		}
		return false
	}
	return false
}

// stringEnd returns the offset after the string literal whose opening
// quote is at i.
func stringEnd(src string, i int) (int, error) {
	q := src[i]
	triple := strings.HasPrefix(src[i:], strings.Repeat(string(q), 3))
	j := i + 1
	if triple {
		j = i + 3
	}
	for j < len(src) {
		switch {
		case src[j] == '\\':
			j += 2
			continue
		case triple && strings.HasPrefix(src[j:], strings.Repeat(string(q), 3)):
			return j + 3, nil
		case !triple && src[j] == q:
			return j + 1, nil
		case !triple && src[j] == '\n':
			return 0, fmt.Errorf("unterminated string literal")
		}
		j++
	}
	return 0, fmt.Errorf("unterminated string literal")
}

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

func apply(src string, edits []edit) string {
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var b strings.Builder
	at := 0
	for _, e := range edits {
		if e.start < at {
			continue
		}
		b.WriteString(src[at:e.start])
		b.WriteString(e.text)
		at = e.end
	}
	b.WriteString(src[at:])
	return b.String()
}

// imported is a name bound by a from-import the rewrite removed.
type imported struct {
	module, name, as string
	line             int
}

// rewritten is the rewrite's output: the source Starlark compiles, with
// the same lines as the input, and the names its imports bind.
type rewritten struct {
	src     string
	imports []imported
}

// rewrite turns an authentik expression into the Starlark dialect, line
// for line (see the package documentation). It refuses, with a Problem
// naming the construct and line, what it cannot translate soundly.
func rewrite(src string) (rewritten, error) {
	lines, err := scan(src)
	if err != nil {
		return rewritten{}, err
	}
	// Pass 1: 'is' against None, True or False.
	var edits []edit
	for _, l := range lines {
		for i, t := range l.toks {
			if t.kind != tName || t.text != "is" {
				continue
			}
			not := i+1 < len(l.toks) && l.toks[i+1].kind == tName && l.toks[i+1].text == "not"
			r := i + 1
			if not {
				r++
			}
			if !singletonAt(l.toks, r, true) && !singletonAt(l.toks, i-1, false) {
				return rewritten{}, &Problem{Line: t.line, Construct: "is", Msg: "'is' is only supported against None, True or False"}
			}
			if not {
				edits = append(edits, edit{t.start, l.toks[i+1].end, "!="})
			} else {
				edits = append(edits, edit{t.start, t.end, "=="})
			}
		}
	}
	if len(edits) > 0 {
		src = apply(src, edits)
		if lines, err = scan(src); err != nil {
			return rewritten{}, err
		}
	}
	// Pass 2: string prefixes: u is dropped (u'x' is 'x' in Python 3);
	// f-strings are refused.
	edits = edits[:0]
	for _, l := range lines {
		for _, t := range l.toks {
			if t.kind != tString {
				continue
			}
			prefix := t.text[:strings.IndexAny(t.text, `'"`)]
			switch {
			case strings.ContainsAny(prefix, "fF"):
				return rewritten{}, &Problem{Line: t.line, Construct: "f-string", Msg: "f-strings are not supported by authflow's expression dialect (Starlark): use % or str.format"}
			case strings.ContainsAny(prefix, "uU"):
				edits = append(edits, edit{t.start, t.start + len(prefix), ""})
			}
		}
	}
	if len(edits) > 0 {
		src = apply(src, edits)
		if lines, err = scan(src); err != nil {
			return rewritten{}, err
		}
	}
	// Pass 3: statements: from-import, import, try.
	var out rewritten
	edits = edits[:0]
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch first := l.toks[0]; {
		case first.kind != tName:
		case first.text == "import":
			return rewritten{}, &Problem{Line: first.line, Construct: "import", Msg: "'import " + joinText(l.toks[1:]) + "' is not supported: only 'from <module> import <name>' of the modules authflow provides"}
		case first.text == "from":
			imps, err := parseFrom(l)
			if err != nil {
				return rewritten{}, err
			}
			out.imports = append(out.imports, imps...)
			edits = append(edits, edit{first.start, l.toks[len(l.toks)-1].end, "pass" + strings.Repeat("\n", l.last-l.first)})
		case first.text == "try":
			e, err := tryIdiom(src, lines, i)
			if err != nil {
				return rewritten{}, err
			}
			edits = append(edits, e)
			i += 3
		case first.text == "except" || first.text == "finally":
			return rewritten{}, &Problem{Line: first.line, Construct: "try", Msg: tryMsg}
		}
	}
	if err := checkORM(lines, out.imports); err != nil {
		return rewritten{}, err
	}
	out.src = apply(src, edits)
	return out, nil
}

const tryMsg = "try/except is only supported as 'try: return A / except: return B'"

// singletonAt reports whether toks[i] is the literal None, True or False
// standing alone as the operand of 'is' (after is, nothing binds tighter
// than the comparison: no '.', '(' or '[' follows it).
func singletonAt(toks []token, i int, right bool) bool {
	if i < 0 || i >= len(toks) || toks[i].kind != tName {
		return false
	}
	switch toks[i].text {
	case "None", "True", "False":
	default:
		return false
	}
	if right && i+1 < len(toks) && strings.Contains(".([", toks[i+1].text) {
		return false
	}
	if !right && i > 0 && toks[i-1].text == "." {
		return false
	}
	return true
}

func joinText(toks []token) string {
	var s []string
	for _, t := range toks {
		s = append(s, t.text)
	}
	return strings.Join(s, " ")
}

// parseFrom reads 'from M import a, b as c' or its parenthesised form,
// refusing a module or name authflow does not provide and 'import *'.
func parseFrom(l logical) ([]imported, error) {
	toks := l.toks
	k := 1
	var mod []string
	for k < len(toks) && toks[k].text != "import" {
		mod = append(mod, toks[k].text)
		k++
	}
	module := strings.Join(mod, "")
	line := toks[0].line
	if k == len(toks) || module == "" {
		return nil, &Problem{Line: line, Construct: "from", Msg: "malformed import"}
	}
	names, ok := modules[module]
	if !ok {
		return nil, &Problem{Line: line, Construct: "import " + module, Msg: moduleMsg(module)}
	}
	var out []imported
	rest := toks[k+1:]
	for len(rest) > 0 && (rest[0].text == "(" || rest[len(rest)-1].text == ")") {
		if rest[0].text == "(" {
			rest = rest[1:]
		}
		if len(rest) > 0 && rest[len(rest)-1].text == ")" {
			rest = rest[:len(rest)-1]
		}
	}
	for len(rest) > 0 {
		if rest[0].text == "*" {
			return nil, &Problem{Line: line, Construct: "import *", Msg: "'from " + module + " import *' is not supported: name the imported names"}
		}
		if rest[0].kind != tName {
			return nil, &Problem{Line: rest[0].line, Construct: "from", Msg: "malformed import"}
		}
		imp := imported{module: module, name: rest[0].text, as: rest[0].text, line: rest[0].line}
		rest = rest[1:]
		if len(rest) >= 2 && rest[0].text == "as" && rest[1].kind == tName {
			imp.as = rest[1].text
			rest = rest[2:]
		}
		if _, ok := names[imp.name]; !ok {
			return nil, &Problem{Line: imp.line, Construct: "import " + module + "." + imp.name, Msg: fmt.Sprintf("%s is not available in authflow: %s", module+"."+imp.name, notProvided(module))}
		}
		out = append(out, imp)
		if len(rest) > 0 {
			if rest[0].text != "," {
				return nil, &Problem{Line: rest[0].line, Construct: "from", Msg: "malformed import"}
			}
			rest = rest[1:]
		}
	}
	if len(out) == 0 {
		return nil, &Problem{Line: line, Construct: "from", Msg: "malformed import"}
	}
	return out, nil
}

// tryIdiom translates lines[i:i+4], 'try:' / 'return A' / 'except:' or
// 'except Exception:' / 'return B', each body one line deeper, into
// 'return __ak_try(lambda: (A), lambda: (B))' on the try's line.
func tryIdiom(src string, lines []logical, i int) (edit, error) {
	try := lines[i]
	bad := &Problem{Line: try.first, Construct: "try", Msg: tryMsg}
	if i+3 >= len(lines) || len(try.toks) != 2 || try.toks[1].text != ":" {
		return edit{}, bad
	}
	a, exc, b := lines[i+1], lines[i+2], lines[i+3]
	if a.indent <= try.indent || b.indent <= try.indent || exc.indent != try.indent {
		return edit{}, bad
	}
	if a.toks[0].text != "return" || len(a.toks) < 2 || b.toks[0].text != "return" || len(b.toks) < 2 {
		return edit{}, bad
	}
	switch t := exc.toks; {
	case len(t) == 2 && t[0].text == "except" && t[1].text == ":":
	case len(t) == 3 && t[0].text == "except" && t[1].text == "Exception" && t[2].text == ":":
	default:
		return edit{}, bad
	}
	if i+4 < len(lines) && lines[i+4].indent > try.indent {
		return edit{}, bad
	}
	if a.first != a.last || b.first != b.last {
		return edit{}, bad
	}
	ta, tb := a.toks[1:], b.toks[1:]
	A := src[ta[0].start:ta[len(ta)-1].end]
	B := src[tb[0].start:tb[len(tb)-1].end]
	text := "return __ak_try(lambda: (" + A + "), lambda: (" + B + "))"
	text += strings.Repeat("\n", b.last-try.first)
	return edit{try.toks[0].start, b.toks[len(b.toks)-1].end, text}, nil
}
