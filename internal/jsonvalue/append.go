package jsonvalue

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Append appends the JSON encoding of v to b, byte for byte as
// json.Marshal writes it: the values encoding/json decodes into an any,
// and ints, int64s and []strings, are written here; any other value
// through json.Marshal. It fails where json.Marshal does (a NaN, an
// infinity, a value json.Marshal refuses).
func Append(b []byte, v any) ([]byte, error) {
	b, _, _, _, err := appendValue(b, v, 0, false)
	return b, err
}

// AppendNormalize is Append and Normalize in one walk of v: it appends
// v's encoding to b, as Append does, and makes v, in place, what
// decoding that encoding makes of it, as Normalize does; d and ok are
// Normalize's. Its encoding is v's as it was: a value Normalize changes
// encodes as it did.
func AppendNormalize(b []byte, v any) (out []byte, d any, ok bool, err error) {
	out, d, _, ok, err = appendValue(b, v, 0, true)
	if !ok {
		d = nil
	}
	return out, d, ok, err
}

// appendValue appends v's encoding, at depth, to b, and is normalize of
// v (d, same, ok); it changes v in place only when norm is true.
func appendValue(b []byte, v any, depth int, norm bool) (out []byte, d any, same, ok bool, err error) {
	ok = depth <= MaxDecodedDepth
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), v, true, ok, nil
	case bool:
		return strconv.AppendBool(b, x), v, true, ok, nil
	case string:
		b, valid := appendString(b, x, true)
		return b, v, true, ok && valid, nil
	case float64:
		b, err := appendFloat(b, x)
		return b, v, true, ok, err
	case int:
		d, same, dok := intDecoded(int64(x))
		return strconv.AppendInt(b, int64(x), 10), d, same, ok && dok, nil
	case int64:
		d, same, dok := intDecoded(x)
		return strconv.AppendInt(b, x, 10), d, same, ok && dok, nil
	case []string:
		if x == nil {
			return append(b, "null"...), nil, false, ok, nil
		}
		var l []any
		if norm {
			l = make([]any, len(x))
		}
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var valid bool
			b, valid = appendString(b, s, true)
			ok = ok && valid
			if norm {
				l[i] = s
			}
		}
		return append(b, ']'), l, false, ok, nil
	case []any:
		if x == nil {
			return append(b, "null"...), nil, false, ok, nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var ed any
			var esame, eok bool
			if b, ed, esame, eok, err = appendValue(b, e, depth+1, norm); err != nil {
				return nil, nil, false, false, err
			}
			if ok = ok && eok; norm && eok && !esame {
				x[i] = ed
			}
		}
		return append(b, ']'), v, true, ok, nil
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil, false, ok, nil
		}
		// The entries of a small map, the usual case, are sorted on the
		// stack, each read once.
		var small [16]entry
		es := small[:0]
		if len(x) > len(small) {
			es = make([]entry, 0, len(x))
		}
		for k, v := range x {
			es = append(es, entry{k, v})
		}
		sortEntries(es)
		b = append(b, '{')
		for i, e := range es {
			if i > 0 {
				b = append(b, ',')
			}
			var valid, esame, eok bool
			var ed any
			b, valid = appendString(b, e.k, true)
			b = append(b, ':')
			if b, ed, esame, eok, err = appendValue(b, e.v, depth+1, norm); err != nil {
				return nil, nil, false, false, err
			}
			if ok = ok && valid && eok; norm && eok && !esame {
				x[e.k] = ed
			}
		}
		return append(b, '}'), v, true, ok, nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, nil, false, false, err
	}
	return append(b, j...), nil, false, false, nil
}

// entry is a map's key and value.
type entry struct {
	k string
	v any
}

// sortEntries sorts es by key: by insertion for a few, the usual case.
func sortEntries(es []entry) {
	if len(es) > 12 {
		slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.k, b.k) })
		return
	}
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && keyLess(es[j].k, es[j-1].k); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// keyLess is a < b, by their first bytes alone when those differ, as
// a map's keys usually do.
func keyLess(a, b string) bool {
	if a != "" && b != "" && a[0] != b[0] {
		return a[0] < b[0]
	}
	return a < b
}

// appendFloat writes f as encoding/json does.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if i := int64(f); float64(i) == f && -1<<53 <= i && i <= 1<<53 && (i != 0 || !math.Signbit(f)) {
		// An integer a float64 holds exactly, the usual number, is
		// written as its digits.
		return strconv.AppendInt(b, i, 10), nil
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("jsonvalue: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 is written e-9.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// htmlSafe says which ASCII bytes a string holds as they are: not the
// control characters, the quote, the backslash, nor <, > and &.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := byte(0x20); c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// asciiEscapes is how encoding/json writes each ASCII byte that htmlSafe
// says a string does not hold as it is.
var asciiEscapes = func() (t [utf8.RuneSelf]string) {
	for c := range byte(utf8.RuneSelf) {
		switch c {
		case '\\', '"':
			t[c] = string([]byte{'\\', c})
		case '\b':
			t[c] = `\b`
		case '\f':
			t[c] = `\f`
		case '\n':
			t[c] = `\n`
		case '\r':
			t[c] = `\r`
		case '\t':
			t[c] = `\t`
		default:
			if !htmlSafe[c] {
				t[c] = string([]byte{'\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF]})
			}
		}
	}
	return t
}()

// Bytes repeated over a word, for plainLen.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainLen is the length of the longest prefix of s that a string holds
// as it is: bytes htmlSafe, and '<', '>' and '&' when not escapeHTML. It
// reads eight bytes at a time.
func plainLen[S string | []byte](s S, escapeHTML bool) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		t := s[i : i+8]
		w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		// The high bit of a byte of at least 0x80, below 0x20, or one
		// of the others; of a byte after one of those too, maybe (a
		// borrow), never before.
		bad := w | (w - 0x20*ones) | hasByte(w, '"') | hasByte(w, '\\')
		if escapeHTML {
			bad |= hasByte(w, '<') | hasByte(w, '>') | hasByte(w, '&')
		}
		if bad &= highs; bad != 0 {
			return i + bits.TrailingZeros64(bad)/8
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || !htmlSafe[c] && (escapeHTML || c != '<' && c != '>' && c != '&') {
			return i
		}
	}
	return i
}

// hasByte has the high bit set of the bytes of w that are c, if only
// those of w that are below 0x80 (the caller checks the others).
func hasByte(w uint64, c byte) uint64 {
	x := w ^ (ones * uint64(c))
	return x - ones
}

// AppendString appends s as a JSON string, byte for byte as
// encoding/json writes it; escapeHTML says whether '<', '>' and '&' are
// escaped, as json.Marshal escapes them and an Encoder told
// SetEscapeHTML(false) does not.
func AppendString(b []byte, s string, escapeHTML bool) []byte {
	b, _ = appendString(b, s, escapeHTML)
	return b
}

// appendString is AppendString, and says whether s is valid UTF-8.
func appendString(b []byte, s string, escapeHTML bool) (out []byte, valid bool) {
	valid = true
	b = append(b, '"')
	start := 0
	for i := 0; ; {
		if i += plainLen(s[i:], escapeHTML); i == len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			b = append(b, asciiEscapes[c]...)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			valid = false
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"'), valid
}
