package tmplexec

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// The escapers html/template appends to an action's pipeline, by the
// name it calls them, as this package runs them: the first of a
// pipeline's escapers takes the action's value (any), the others the
// string the one before returned. Each is html/template's own
// (html/template's escape.go, html.go, url.go, js.go and content.go,
// Go 1.26), written into the output rather than returned; FuzzEscapers
// checks each against html/template for any string and typed content.
// A pipeline that calls any other escaper (a CSS or a JavaScript
// value's, an unquoted attribute's, a comment's, a srcset's) is not
// compiled.
type escaper func(w *bytes.Buffer, s string, ct contentType)

var escapers = map[string]escaper{
	"_html_template_htmlescaper":    htmlEscaper,
	"_html_template_attrescaper":    attrEscaper,
	"_html_template_rcdataescaper":  rcdataEscaper,
	"_html_template_htmlnamefilter": htmlNameFilter,
	"_html_template_urlfilter":      urlFilter,
	"_html_template_urlnormalizer":  func(w *bytes.Buffer, s string, ct contentType) { urlProcessor(w, s, ct, true) },
	"_html_template_urlescaper":     func(w *bytes.Buffer, s string, ct contentType) { urlProcessor(w, s, ct, false) },
	"_html_template_jsstrescaper":   jsStrEscaper,
}

// contentType is html/template's typed content, by the type of the
// value an escaper takes.
type contentType uint8

const (
	contentPlain contentType = iota
	contentCSS
	contentHTML
	contentHTMLAttr
	contentJS
	contentJSStr
	contentURL
	contentSrcset
)

// contentTypes are html/template's typed strings, by content type.
var contentTypes = [...]reflect.Type{
	contentPlain:    reflect.TypeFor[string](),
	contentCSS:      reflect.TypeFor[template.CSS](),
	contentHTML:     reflect.TypeFor[template.HTML](),
	contentHTMLAttr: reflect.TypeFor[template.HTMLAttr](),
	contentJS:       reflect.TypeFor[template.JS](),
	contentJSStr:    reflect.TypeFor[template.JSStr](),
	contentURL:      reflect.TypeFor[template.URL](),
	contentSrcset:   reflect.TypeFor[template.Srcset](),
}

// contentOf is the content type of a value of type t, and whether t is
// a typed string (or string).
func contentOf(t reflect.Type) (contentType, bool) {
	for ct, c := range contentTypes {
		if c == t {
			return contentType(ct), true
		}
	}
	return 0, false
}

// typed is s as a value of content type ct.
func typed(s string, ct contentType) any {
	return reflect.ValueOf(s).Convert(contentTypes[ct]).Interface()
}

var (
	errorType     = reflect.TypeFor[error]()
	stringerType  = reflect.TypeFor[fmt.Stringer]()
	formatterType = reflect.TypeFor[fmt.Formatter]()
)

// stringify is html/template's: the text of an escaper's argument a
// and its content type.
func stringify(a any) (string, contentType) {
	if x := indirect(a); x != nil {
		if ct, ok := contentOf(reflect.TypeOf(x)); ok {
			return reflect.ValueOf(x).String(), ct
		}
	}
	if a == nil {
		return "", contentPlain // an untyped nil is skipped
	}
	return fmt.Sprint(indirectToStringerOrError(a)), contentPlain
}

// stringifyValue is stringify of v's value (nil when v is the zero
// Value), without making it an interface when v is a string of a type
// that prints as it is.
func stringifyValue(v reflect.Value) (string, contentType) {
	if v.IsValid() && v.Kind() == reflect.String {
		t := v.Type()
		if ct, ok := contentOf(t); ok {
			return v.String(), ct
		}
		if plainString(t) {
			return v.String(), contentPlain
		}
	}
	if !v.IsValid() {
		return stringify(nil)
	}
	return stringify(v.Interface())
}

var plainStrings sync.Map // reflect.Type → bool

// plainString says whether fmt prints a value of t, a string type, as
// the string it is: t has no Format, Error or String method.
func plainString(t reflect.Type) bool {
	if p, ok := plainStrings.Load(t); ok {
		return p.(bool)
	}
	p := !t.Implements(formatterType) && !t.Implements(errorType) && !t.Implements(stringerType)
	plainStrings.Store(t, p)
	return p
}

// indirect is html/template's: a's value through any pointers.
func indirect(a any) any {
	if a == nil {
		return nil
	}
	if t := reflect.TypeOf(a); t.Kind() != reflect.Pointer {
		return a
	}
	v := reflect.ValueOf(a)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	return v.Interface()
}

// indirectToStringerOrError is html/template's: a through pointers
// until a Stringer or an error.
func indirectToStringerOrError(a any) any {
	if a == nil {
		return nil
	}
	v := reflect.ValueOf(a)
	for !v.Type().Implements(stringerType) && !v.Type().Implements(errorType) && v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	return v.Interface()
}

// filterFailsafe is what html/template writes for a value it refuses.
const filterFailsafe = "ZgotmplZ"

// htmlTable are the bytes html/template escapes in HTML text, a quoted
// attribute's value and RCDATA (its htmlReplacementTable); htmlNorm
// leaves '&' (an entity of HTML content) as it is.
var htmlTable, htmlNormTable = func() (t, n [128]string) {
	t = [128]string{0: "\uFFFD", '"': "&#34;", '&': "&amp;", '\'': "&#39;", '+': "&#43;", '<': "&lt;", '>': "&gt;"}
	n = t
	n['&'] = ""
	return t, n
}()

// WriteHTML writes s to w escaped as html/template escapes a string in
// HTML text, a quoted attribute's value and RCDATA (its htmlEscaper,
// attrEscaper and rcdataEscaper of a string).
func WriteHTML(w io.Writer, s string) error {
	return writeTable(w, s, &htmlTable)
}

// writeTable is html/template's htmlReplacer that lets runes above the
// table through (its badRunes): each byte below 0x80 replaced by its
// table's entry; a byte of a multi-byte or an invalid sequence is never
// one of them.
func writeTable(w io.Writer, s string, table *[128]string) error {
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || table[c] == "" {
			continue
		}
		if _, err := io.WriteString(w, s[written:i]); err != nil {
			return err
		}
		if _, err := io.WriteString(w, table[c]); err != nil {
			return err
		}
		written = i + 1
	}
	_, err := io.WriteString(w, s[written:])
	return err
}

func htmlEscaper(w *bytes.Buffer, s string, ct contentType) {
	if ct == contentHTML {
		w.WriteString(s)
		return
	}
	_ = writeTable(w, s, &htmlTable)
}

func attrEscaper(w *bytes.Buffer, s string, ct contentType) {
	if ct == contentHTML {
		// html/template strips the tags first (its stripTags, which
		// parses the HTML): run it.
		delegate(w, delegateAttr, template.HTML(s))
		return
	}
	_ = writeTable(w, s, &htmlTable)
}

func rcdataEscaper(w *bytes.Buffer, s string, ct contentType) {
	if ct == contentHTML {
		_ = writeTable(w, s, &htmlNormTable)
		return
	}
	_ = writeTable(w, s, &htmlTable)
}

func htmlNameFilter(w *bytes.Buffer, s string, ct contentType) {
	switch {
	case ct == contentHTMLAttr:
		w.WriteString(s)
	case s == "":
		w.WriteString(filterFailsafe)
	default:
		// Attribute names by their content type (html/template's
		// attrType): run html/template.
		delegate(w, delegateName, typed(s, ct))
	}
}

func urlFilter(w *bytes.Buffer, s string, ct contentType) {
	if ct != contentURL && !isSafeURL(s) {
		w.WriteString("#" + filterFailsafe)
		return
	}
	w.WriteString(s)
}

// isSafeURL is html/template's: a relative URL, or one of http, https
// or mailto.
func isSafeURL(s string) bool {
	if protocol, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(protocol, "/") {
		if !strings.EqualFold(protocol, "http") && !strings.EqualFold(protocol, "https") && !strings.EqualFold(protocol, "mailto") {
			return false
		}
	}
	return true
}

// urlProcessor is html/template's: s normalized (norm) or escaped as a
// URL's part.
func urlProcessor(w *bytes.Buffer, s string, ct contentType, norm bool) {
	if ct == contentURL {
		norm = true
	}
	const hex = "0123456789abcdef"
	written := 0
	for i := 0; i < len(s); i++ {
		if urlKeeps(s, i, norm) {
			continue
		}
		c := s[i]
		w.WriteString(s[written:i])
		w.Write([]byte{'%', hex[c>>4], hex[c&15]})
		written = i + 1
	}
	w.WriteString(s[written:])
}

// urlKeeps says whether urlProcessor keeps s[i] as it is.
func urlKeeps(s string, i int, norm bool) bool {
	if c := s[i]; c != '%' {
		return urlKeep[btoi(norm)][c]
	}
	return norm && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2])
}

// urlKeep are the bytes but '%' that urlProcessor keeps, when it
// escapes ([0]) and when it normalizes ([1]).
var urlKeep = func() (t [2][256]bool) {
	for c := range 256 {
		b := byte(c)
		unreserved := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("-._~", b) >= 0
		t[0][c] = unreserved
		t[1][c] = unreserved || strings.IndexByte("!#$&*+,/:;=?@[]", b) >= 0
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// jsLow are html/template's escapes of the runes below U+0020 in a
// JavaScript string (its lowUnicodeReplacementTable); jsStr and jsStrNorm
// of the others below U+0080 (its jsStrReplacementTable and
// jsStrNormReplacementTable, for a JSStr).
var jsLow = func() (t [0x20]string) {
	for i := range t {
		t[i] = fmt.Sprintf(`\u%04x`, i)
	}
	t['\t'], t['\n'], t['\f'], t['\r'] = `\t`, `\n`, `\f`, `\r`
	return t
}()

var jsStr, jsStrNorm = func() (t, n [128]string) {
	t = [128]string{'"': `\u0022`, '`': `\u0060`, '&': `\u0026`, '\'': `\u0027`, '+': `\u002b`, '/': `\/`,
		'<': `\u003c`, '>': `\u003e`, '\\': `\\`}
	n = t
	n['\\'] = ""
	return t, n
}()

func jsStrEscaper(w *bytes.Buffer, s string, ct contentType) {
	table := &jsStr
	if ct == contentJSStr {
		table = &jsStrNorm
	}
	written := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		var repl string
		switch {
		case r < 0x20:
			repl = jsLow[r]
		case r < 0x80:
			repl = table[r]
		case r == '\u2028':
			repl = `\u2028`
		case r == '\u2029':
			repl = `\u2029`
		}
		if repl != "" {
			w.WriteString(s[written:i])
			w.WriteString(repl)
			written = i + n
		}
		i += n
	}
	w.WriteString(s[written:])
}

// The escapers this package leaves to html/template for rare values (an
// attribute's HTML content; a name filtered by its attribute type) run
// a template of one action in their context, and write the action's
// text.
type delegated struct {
	t              *template.Template
	prefix, suffix string
}

var (
	delegateAttr = newDelegated(`<p title="`, `">`)
	delegateName = newDelegated(`<p `, `>`)
)

func newDelegated(prefix, suffix string) *delegated {
	return &delegated{t: template.Must(template.New("").Parse(prefix + "{{.}}" + suffix)), prefix: prefix, suffix: suffix}
}

func delegate(w *bytes.Buffer, d *delegated, v any) {
	var b bytes.Buffer
	if err := d.t.Execute(&b, v); err != nil {
		panic(errRerun) // never: the template is fixed and v a string
	}
	out := b.String()
	if !strings.HasPrefix(out, d.prefix) || !strings.HasSuffix(out, d.suffix) {
		panic(errRerun)
	}
	w.WriteString(out[len(d.prefix) : len(out)-len(d.suffix)])
}

// stringEscaper is the escaper of name returning its text, for the
// next escaper of a pipeline: the string it was given when it changes
// nothing.
func stringEscaper(name string) func(string, contentType) string {
	e := escapers[name]
	return func(s string, ct contentType) string {
		switch name {
		case "_html_template_urlfilter":
			if ct == contentURL || isSafeURL(s) {
				return s
			}
		case "_html_template_urlnormalizer":
			if !urlChanges(s, true) {
				return s
			}
		}
		var b bytes.Buffer
		e(&b, s, ct)
		return b.String()
	}
}

// urlChanges says whether urlProcessor changes s.
func urlChanges(s string, norm bool) bool {
	for i := 0; i < len(s); i++ {
		if !urlKeeps(s, i, norm) {
			return true
		}
	}
	return false
}
