package flowui

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"io"
	"io/fs"
	"strconv"
	"sync"
	"text/template/parse"

	"github.com/authflow/authflow/internal/tmplexec"
)

// DefaultCachePages bounds the rendered pages a UI keeps (Options.CachePages).
const DefaultCachePages = 256

// MaxCacheBytes bounds the size of the rendered pages a UI keeps, their
// keys included, whatever Options.CachePages; a page over a 64th of it
// (a long text of the configuration's) is not kept.
const MaxCacheBytes = 8 << 20

// A page is rendered with placeholders for its nonce and CSRF token,
// which change with every answer and every session, and for the
// visitor's own parts (the pending user: parts.html's "who" and
// "username"; a prompt page's values, errors and selects' options), and
// filled in as it is written; a challenge's page shown again (the login
// page, which is the same for every visitor; the password page, the
// same but for who is logging in; a prompt page, the same but for what
// was typed into it or the user's own values, the user settings') is
// then written without running its template, but for the visitor's
// parts that are rendered by a template of their own.

// holes is what a rendered page's placeholders stand for.
type hole uint8

const (
	holeNone     hole = iota // nothing: where two renderings are joined
	holeNonce                // the CSP nonce
	holeCSRF                 // the CSRF token
	holeWho                  // the pending user, as parts.html's "who" shows them
	holeUsername             // the pending user's hidden username input (parts.html's "username")
	holeValue                // a prompt field's value, by its index (see valueProbe)
	holeAttrs                // a prompt field's Field.Attrs, by its index
	holeErrors               // a prompt field's errors (parts.html's "errors"), in order
	holeNonField             // the page's non-field errors (parts.html's "nonfield")
	holeOptions              // a select's options, its choice selected (the prompt page's "options"), in order
	holeLink                 // the TOTP setup page's secret: its otpauth link and the link's QR code ("totp-link")
)

// holeLetters are the letters that end each hole's placeholder, after
// the placeholders' common prefix; the placeholders of holeValue and
// holeAttrs go on with their index's digits. holeSuffixes is its
// inverse.
var holeLetters = [...]byte{holeNonce: 'n', holeCSRF: 'c', holeWho: 'w', holeUsername: 'u',
	holeValue: 'v', holeAttrs: 'a', holeErrors: 'e', holeNonField: 'f', holeOptions: 'o', holeLink: 'l'}

var holeSuffixes = func() map[byte]hole {
	m := map[byte]hole{}
	for h, c := range holeLetters {
		if c != 0 {
			m[c] = hole(h)
		}
	}
	return m
}()

// holeTemplates are the templates (parts.html's, and the prompt page's
// "options") a page kept for every visitor renders as placeholders, by
// hole: what they show is one visitor's.
var holeTemplates = map[hole]string{holeWho: "who", holeUsername: "username", holeErrors: "errors", holeNonField: "nonfield", holeOptions: "options",
	holeLink: "totp-link"}

// probeTail ends a value's placeholder: html/template escapes it as
// probeEscaped in HTML text, a quoted attribute's value and RCDATA,
// the contexts whose escaping (tmplexec.WriteHTML) fills the hole, and
// otherwise in any other (a URL's, a script's, an unquoted
// attribute's), which then holds no hole that cut knows.
const (
	probeTail    = `"<+ `
	probeEscaped = "&#34;&lt;&#43; "
)

// rendered is a page's text cut at its placeholders: parts[i] is
// followed by holes[i] (the last part by none), of index index[i] (a
// field's, for the holes that have one; the count of the same holes
// before it, for holeErrors and holeOptions).
type rendered struct {
	parts [][]byte
	holes []hole
	index []int
	set   uint16 // the holes the page has, a bit each (1 << hole)
}

// size is the page's length without its holes.
func (rd *rendered) size() int {
	n := 0
	for _, p := range rd.parts {
		n += len(p)
	}
	return n
}

// has says whether the page has a hole of any of hs.
func (rd *rendered) has(hs ...hole) bool {
	for _, h := range hs {
		if rd.set&(1<<h) != 0 {
			return true
		}
	}
	return false
}

// promptHoles says whether the page has holes of a prompt page's.
func (rd *rendered) promptHoles() bool {
	return rd.has(holeValue, holeAttrs, holeErrors, holeNonField, holeOptions)
}

// count is the number of holes h of the page.
func (rd *rendered) count(h hole) int {
	n := 0
	for _, x := range rd.holes {
		if x == h {
			n++
		}
	}
	return n
}

// maxIndex is the highest index of the holes h, -1 for none.
func (rd *rendered) maxIndex(h hole) int {
	m := -1
	for i, x := range rd.holes {
		if x == h {
			m = max(m, rd.index[i])
		}
	}
	return m
}

// placeholders are a UI's: random, so that no configuration or input
// holds them by chance, and letters and digits only, which every
// escaper leaves as they are. They share their prefix, so that a page is
// cut in one pass. marker is no hole's: a page that shows it read
// something it should not have (see cut).
type placeholders struct{ prefix, nonce, csrf, content, marker string }

func newPlaceholders() placeholders {
	var b [16]byte
	_, _ = rand.Read(b[:])
	p := "ZQ" + hex.EncodeToString(b[:]) // a rare first byte: a fast search
	return placeholders{prefix: p, nonce: p + "n", csrf: p + "c", content: p + "b", marker: p + "x"}
}

// of is the placeholder of h.
func (ph placeholders) of(h hole) string {
	return ph.prefix + string(holeLetters[h])
}

// valueProbe is the placeholder of field i's value, attrsProbe its
// attributes'.
func (ph placeholders) valueProbe(i int) string {
	return ph.of(holeValue) + strconv.Itoa(i) + probeTail
}
func (ph placeholders) attrsProbe(i int) string { return ph.of(holeAttrs) + strconv.Itoa(i) }

// cut cuts a page rendered with ph; ok is false when the page holds
// the prefix of ph's placeholders in any other way (ph.marker, or a
// value's placeholder escaped otherwise than in HTML text or a quoted
// attribute).
func (ph placeholders) cut(b []byte) (rd *rendered, ok bool) {
	prefix := []byte(ph.prefix)
	n := bytes.Count(b, prefix)
	rd = &rendered{parts: make([][]byte, 0, n+1), holes: make([]hole, 0, n), index: make([]int, 0, n)}
	var counts [len(holeLetters)]int // of holeErrors and holeOptions
	for {
		at := bytes.Index(b, prefix)
		if at < 0 {
			rd.parts = append(rd.parts, b)
			return rd, true
		}
		end := at + len(prefix)
		if end >= len(b) {
			return nil, false
		}
		h, known := holeSuffixes[b[end]]
		if !known {
			return nil, false
		}
		end++
		idx := 0
		switch h {
		case holeValue, holeAttrs:
			digits := end
			for end < len(b) && b[end] >= '0' && b[end] <= '9' && end-digits < 6 {
				end++
			}
			n, err := strconv.Atoi(string(b[digits:end]))
			if err != nil {
				return nil, false
			}
			if h == holeValue {
				if !bytes.HasPrefix(b[end:], []byte(probeEscaped)) {
					return nil, false
				}
				end += len(probeEscaped)
			}
			idx = n
		case holeErrors, holeOptions:
			idx = counts[h]
			counts[h]++
		}
		rd.parts, rd.holes, rd.index = append(rd.parts, b[:at]), append(rd.holes, h), append(rd.index, idx)
		rd.set |= 1 << h
		b = b[end:]
	}
}

// join is the page of the renderings rds one after the other.
func join(rds ...*rendered) *rendered {
	n := 0
	for _, rd := range rds {
		n += len(rd.parts)
	}
	out := &rendered{parts: make([][]byte, 0, n), holes: make([]hole, 0, n), index: make([]int, 0, n)}
	for i, rd := range rds {
		if i > 0 {
			out.holes, out.index = append(out.holes, holeNone), append(out.index, 0)
		}
		out.parts, out.holes, out.index = append(out.parts, rd.parts...), append(out.holes, rd.holes...), append(out.index, rd.index...)
		out.set |= rd.set
	}
	return out
}

// fill is what a page's holes are filled with: the nonce and CSRF
// token, and the visitor's parts, rendered (a prompt page's values
// as typed, escaped as they are written).
type fill struct {
	nonce, csrf     string
	who, username   []byte
	values          []string
	attrs           []template.HTMLAttr
	errors, options [][]byte
	nonfield        []byte
	link            []byte // the TOTP setup page's link and QR code, rendered for this request only
}

// writeTo writes the page with its holes filled.
func (rd *rendered) writeTo(w io.Writer, f *fill) error {
	for i, p := range rd.parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
		if i >= len(rd.holes) {
			continue
		}
		var err error
		k := rd.index[i]
		switch rd.holes[i] {
		case holeNonce:
			_, err = io.WriteString(w, f.nonce)
		case holeCSRF:
			_, err = io.WriteString(w, f.csrf)
		case holeWho:
			_, err = w.Write(f.who)
		case holeUsername:
			_, err = w.Write(f.username)
		case holeValue:
			if k < len(f.values) { // else a fill for another page: render checks
				err = tmplexec.WriteHTML(w, f.values[k])
			}
		case holeAttrs:
			if k < len(f.attrs) {
				_, err = io.WriteString(w, string(f.attrs[k]))
			}
		case holeErrors:
			if k < len(f.errors) {
				_, err = w.Write(f.errors[k])
			}
		case holeNonField:
			_, err = w.Write(f.nonfield)
		case holeLink:
			_, err = w.Write(f.link)
		case holeOptions:
			if k < len(f.options) {
				_, err = w.Write(f.options[k])
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pageCache keeps rendered pages by everything their template reads
// but the placeholders, at most max of them and MaxCacheBytes (bytes,
// keys included); a full cache drops arbitrary pages for a new one.
type pageCache struct {
	mu    sync.Mutex
	max   int
	bytes int
	m     map[string]*rendered
}

func (c *pageCache) get(key []byte) *rendered {
	if c == nil || key == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[string(key)] // no copy of the key: a lookup
}

func (c *pageCache) put(key string, rd *rendered) {
	if c == nil {
		return
	}
	size := len(key) + rd.size()
	if size > MaxCacheBytes/64 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok {
		c.bytes -= len(key) + old.size()
		delete(c.m, key)
	}
	for k, v := range c.m {
		if len(c.m) < c.max && c.bytes+size <= MaxCacheBytes {
			break
		}
		c.bytes -= len(k) + v.size()
		delete(c.m, k)
	}
	c.m[key], c.bytes = rd, c.bytes+size
}

// The page around the content (page.html: the head, the style, the
// layout) is the same for every challenge of a flow; with the UI's own
// page.html and a style.css without actions, it is rendered once for
// each of the values it reads (shellKey), with a placeholder for the
// content, and each page renders its "content" template alone into it.
// A host's page.html may read anything of a Page: its pages are
// rendered whole.

// shellKey is what the UI's page.html reads of a Page besides its
// nonce (a placeholder) and its content.
type shellKey struct{ lang, title, background, layout string }

// shell is a page's text before and after its content.
type shell struct{ head, tail *rendered }

// maxShells bounds the shells a UI keeps; a full set is dropped for a
// new one (a shell is a title and a background: few per flow).
const maxShells = 256

// shells renders and keeps shells.
type shells struct {
	t  *tmplexec.Set // page.html with the content placeholder as "content"
	ph placeholders
	mu sync.Mutex
	m  map[shellKey]*shell
}

// get is the shell of p, nil when it cannot be rendered alone or is
// not to be kept (Page.private: a title that shows the visitor).
func (s *shells) get(p *Page) *shell {
	if s == nil || p.private {
		return nil
	}
	k := shellKey{p.Lang, p.Title, p.Background, p.Layout}
	s.mu.Lock()
	sh := s.m[k]
	s.mu.Unlock()
	if sh != nil {
		return sh
	}
	var b bytes.Buffer
	q := Page{Lang: p.Lang, Title: p.Title, Background: p.Background, Layout: p.Layout, Nonce: s.ph.nonce}
	if err := s.t.Execute(&b, templatePage, &q); err != nil {
		return nil
	}
	head, tail, ok := bytes.Cut(b.Bytes(), []byte(s.ph.content))
	if !ok || bytes.Contains(tail, []byte(s.ph.content)) {
		return nil
	}
	hd, ok1 := s.ph.cut(head)
	tl, ok2 := s.ph.cut(tail)
	if !ok1 || !ok2 {
		return nil
	}
	sh = &shell{head: hd, tail: tl}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxShells {
		clear(s.m)
	}
	s.m[k] = sh
	return sh
}

// newShells are the shells of base, the page's templates, nil when its
// page.html is not the UI's own or its style.css has actions.
func newShells(base *template.Template, ph placeholders) (*shells, error) {
	own, err := fs.ReadFile(embedded, "templates/"+filePage)
	if err != nil {
		return nil, err
	}
	def, err := template.New(templatePage).Funcs(funcs).Parse(string(own))
	if err != nil {
		return nil, err
	}
	page, style := base.Lookup(templatePage), base.Lookup(fileStyle)
	if page == nil || page.Tree == nil || def.Lookup(templatePage).Tree.Root.String() != page.Tree.Root.String() ||
		style == nil || style.Tree == nil || !textOnly(style.Tree.Root) {
		return nil, nil
	}
	t, err := base.Clone()
	if err != nil {
		return nil, err
	}
	if _, err := t.New(templateContent).Parse(ph.content); err != nil {
		return nil, err
	}
	return &shells{t: tmplexec.New(t, funcs), ph: ph, m: map[shellKey]*shell{}}, nil
}

// textOnly says whether a template is text, without actions.
func textOnly(root *parse.ListNode) bool {
	for _, n := range root.Nodes {
		if n.Type() != parse.NodeText {
			return false
		}
	}
	return true
}
