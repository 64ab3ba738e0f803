// Package pysyntax finds the Python syntax errors of an expression that
// CPython's tokenizer reports, without a Python parser: the store's
// default check of an expression policy (store.Options.CheckExpression),
// so that a text authentik refuses with "Expression Syntax Error: …" is
// refused here too.
//
// It is sound, not complete: it refuses only a text that CPython refuses,
// and accepts every text it cannot judge. It finds unbalanced and
// mismatched brackets, unterminated strings, an unexpected indent, an
// unindent that matches no outer level, and a block header (the wrapper's
// def, if, elif, else, for, while, try) with no indented body; its message
// is CPython 3.13's str() of the SyntaxError when that is the text's first
// error (with an earlier error of another kind, CPython names that one
// instead). Any other syntax error, such as a misspelled keyword or
// "return a b", is accepted: the evaluator's own check (expression.Check)
// then names it as a construct it cannot run. It gives no verdict on a
// text with an f-string (whose tokenizing changed in Python 3.12), a tab
// in an indentation, invalid UTF-8, a carriage return or another character
// Python's str.splitlines splits on, a form feed, \x1f (which Python's
// str.strip strips and Go's strings.TrimSpace does not), a NUL, or a
// backslash that is not at the end of a line.
package pysyntax

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Create is the file name authentik compiles a new policy's expression
// under, so it appears in the message of its syntax error.
const Create = "temp-policy"

// ErrSyntax is wrapped by every error of Check.
var ErrSyntax = errors.New("python syntax error")

// Error is a syntax error: Msg and Line as CPython reports them, Line
// counting authentik's def line (one more than the expression's own).
type Error struct {
	Msg      string
	Filename string
	Line     int
}

// Error is CPython's str() of the SyntaxError: "msg (filename, line N)".
func (e *Error) Error() string { return fmt.Sprintf("%s (%s, line %d)", e.Msg, e.Filename, e.Line) }

// Unwrap gives ErrSyntax.
func (e *Error) Unwrap() error { return ErrSyntax }

// Check wraps src as authentik does (the body of "def handler(...):",
// indented by four spaces, then a call) and returns an *Error for the first
// syntax error it finds, or nil. filename is what authentik compiles under:
// Create for a new policy, the stored policy's name for an update.
func Check(filename, src string) error {
	if !utf8.ValidString(src) || strings.ContainsAny(src, "\r\v\f\x00\x1c\x1d\x1e\x1f\u0085\u2028\u2029") {
		return nil
	}
	var b strings.Builder
	b.WriteString("def handler(request,context):\n")
	for _, l := range strings.SplitAfter(src, "\n") {
		if strings.TrimSpace(l) != "" {
			b.WriteString("    ")
		}
		b.WriteString(l)
	}
	b.WriteString("\nresult = handler(request,context)")
	msg, line := scan(b.String())
	if msg == "" {
		return nil
	}
	return &Error{Msg: msg, Filename: filename, Line: line}
}

type bracket struct {
	ch   byte
	line int
}

var closer = map[byte]byte{')': '(', ']': '[', '}': '{'}

// headers names the block headers whose missing body has a known message.
var headers = map[string]string{
	"def": "function definition", "if": "'if' statement", "elif": "'elif' statement",
	"else": "'else' statement", "for": "'for' statement", "while": "'while' statement",
	"try": "'try' statement",
}

// scan tokenizes s as CPython does, as far as brackets, strings and
// indentation go: it gives the first error's message and line, or ""
// (also when it cannot judge).
func scan(s string) (string, int) {
	indents := []int{0}
	var parens []bracket
	line := 1
	i := 0
	lineStart := true
	// The logical line: its first word and line, its last significant
	// character; the previous logical line's, for indentation.
	var first string
	firstLine, lastOf := 0, byte(0)
	prevColon, prevFirst, prevLine := false, "", 0
	for i < len(s) {
		if lineStart && len(parens) == 0 {
			lineStart = false
			col := 0
			for i < len(s) && s[i] == ' ' {
				col++
				i++
			}
			if i < len(s) && s[i] == '\t' {
				return "", 0
			}
			if i >= len(s) || s[i] == '\n' || s[i] == '#' {
				// A blank or comment line: no indentation, no logical line.
				for i < len(s) && s[i] != '\n' {
					i++
				}
				if i < len(s) {
					i++
					line++
					lineStart = true
				}
				continue
			}
			top := indents[len(indents)-1]
			switch {
			case col > top:
				if !prevColon {
					return "unexpected indent", line
				}
				indents = append(indents, col)
			case prevColon:
				h, ok := headers[prevFirst]
				if !ok {
					return "", 0
				}
				return fmt.Sprintf("expected an indented block after %s on line %d", h, prevLine), line
			case col < top:
				for col < indents[len(indents)-1] {
					indents = indents[:len(indents)-1]
				}
				if col != indents[len(indents)-1] {
					return "unindent does not match any outer indentation level", line
				}
			}
			first, firstLine, lastOf = "", line, 0
		}
		c := s[i]
		switch {
		case c == '\n':
			i++
			line++
			if len(parens) == 0 {
				lineStart = true
				prevColon, prevFirst, prevLine = lastOf == ':', first, firstLine
			}
		case c == ' ' || c == '\t':
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '\\':
			if i+1 >= len(s) || s[i+1] != '\n' {
				return "", 0
			}
			i += 2
			line++
		case c == '\'' || c == '"':
			msg, at := str(s, &i, &line)
			if msg != "" {
				return msg, at
			}
			lastOf = c
		case c == '(' || c == '[' || c == '{':
			parens = append(parens, bracket{c, line})
			lastOf = c
			i++
		case c == ')' || c == ']' || c == '}':
			if len(parens) == 0 {
				return fmt.Sprintf("unmatched '%c'", c), line
			}
			o := parens[len(parens)-1]
			if o.ch != closer[c] {
				m := fmt.Sprintf("closing parenthesis '%c' does not match opening parenthesis '%c'", c, o.ch)
				if o.line != line {
					m += fmt.Sprintf(" on line %d", o.line)
				}
				return m, line
			}
			parens = parens[:len(parens)-1]
			lastOf = c
			i++
		case isName(c):
			j := i
			for j < len(s) && isName(s[j]) {
				j++
			}
			w := s[i:j]
			if j < len(s) && (s[j] == '\'' || s[j] == '"') && isPrefix(w) {
				if strings.ContainsAny(w, "fF") {
					return "", 0
				}
				i = j
				msg, at := str(s, &i, &line)
				if msg != "" {
					return msg, at
				}
				lastOf = '"'
				continue
			}
			if first == "" && lastOf == 0 {
				first = w
			}
			lastOf = s[j-1]
			i = j
		default:
			lastOf = c
			i++
		}
	}
	if len(parens) > 0 {
		o := parens[len(parens)-1]
		return fmt.Sprintf("'%c' was never closed", o.ch), o.line
	}
	return "", 0
}

// str scans the string literal whose quote is at s[*i], advancing *i past
// it and *line over its lines; it gives CPython's message for an
// unterminated one.
func str(s string, i *int, line *int) (string, int) {
	q := s[*i]
	start := *line
	triple := strings.HasPrefix(s[*i:], strings.Repeat(string(q), 3))
	if triple {
		*i += 3
	} else {
		*i++
	}
	for *i < len(s) {
		c := s[*i]
		switch {
		case c == '\\':
			if *i+1 < len(s) && s[*i+1] == '\n' {
				*line++
			}
			*i += 2
			continue
		case c == '\n':
			if !triple {
				return fmt.Sprintf("unterminated string literal (detected at line %d)", *line), start
			}
			*line++
		case c == q:
			if !triple {
				*i++
				return "", 0
			}
			if strings.HasPrefix(s[*i:], strings.Repeat(string(q), 3)) {
				*i += 3
				return "", 0
			}
		}
		*i++
	}
	if triple {
		return fmt.Sprintf("unterminated triple-quoted string literal (detected at line %d)", *line), start
	}
	return fmt.Sprintf("unterminated string literal (detected at line %d)", *line), start
}

func isName(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// isPrefix reports whether w is a string prefix (r, u, b, f and their
// combinations, in any case).
func isPrefix(w string) bool {
	switch strings.ToLower(w) {
	case "r", "u", "b", "f", "br", "rb", "fr", "rf":
		return true
	}
	return false
}
