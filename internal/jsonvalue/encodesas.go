package jsonvalue

import (
	"strings"
	"unicode/utf8"
)

// EncodesAs says whether v is a value as encoding/json decodes JSON into
// an any (maps, slices, strings valid UTF-8, finite float64s, bools and
// nil, nested at most MaxDecodedDepth deep, no nil map or slice) that
// Append encodes as exactly b. It walks v and b together: each member of
// an object of b, in order, is looked up in v's map, and numbers,
// strings and their escapes are compared as Append writes them; it
// neither encodes nor sorts, and allocates nothing but for a key of b
// that holds an escape. Where it is true, Append(nil, v) is b and
// Normalize(v) returns v, unchanged. It is false for a value Append
// encodes as b that is not such a value (an int, a []string, a string
// that is not valid UTF-8), so that a caller may take the one for the
// other.
func EncodesAs(v any, b []byte) bool {
	rest, ok := encodesAs(v, b, 0)
	return ok && len(rest) == 0
}

// encodesAs is EncodesAs of v and the start of b, and the rest of b.
func encodesAs(v any, b []byte, depth int) ([]byte, bool) {
	if depth > MaxDecodedDepth {
		return nil, false
	}
	switch x := v.(type) {
	case nil:
		return cutPrefix(b, "null")
	case bool:
		if x {
			return cutPrefix(b, "true")
		}
		return cutPrefix(b, "false")
	case string:
		return stringAs(x, b)
	case float64:
		var buf [32]byte
		f, err := appendFloat(buf[:0], x)
		if err != nil {
			return nil, false
		}
		return cutPrefix(b, f)
	case []any:
		if x == nil {
			return nil, false
		}
		b, ok := cutPrefix(b, "[")
		for i, e := range x {
			if i > 0 {
				if b, ok = cutPrefix(b, ","); !ok {
					return nil, false
				}
			}
			if b, ok = encodesAs(e, b, depth+1); !ok {
				return nil, false
			}
		}
		return cutPrefix(b, "]")
	case map[string]any:
		if x == nil {
			return nil, false
		}
		return objectAs(x, b, depth)
	}
	return nil, false
}

// objectAs is encodesAs of a map: b's members, their keys in increasing
// order, are the map's, each looked up in it.
func objectAs(m map[string]any, b []byte, depth int) ([]byte, bool) {
	b, ok := cutPrefix(b, "{")
	if !ok {
		return nil, false
	}
	if b, ok = cutPrefix(b, "}"); ok {
		return b, len(m) == 0
	}
	var prev []byte
	for n := 1; ; n++ {
		var k []byte
		if k, b, ok = keyOf(b); !ok || n > 1 && string(k) <= string(prev) {
			return nil, false
		}
		v, found := m[string(k)]
		if !found {
			return nil, false
		}
		if b, ok = cutPrefix(b, ":"); !ok {
			return nil, false
		}
		if b, ok = encodesAs(v, b, depth+1); !ok || len(b) == 0 {
			return nil, false
		}
		switch b[0] {
		case ',':
			b, prev = b[1:], k
		case '}':
			return b[1:], n == len(m)
		default:
			return nil, false
		}
	}
}

// cutPrefix is b without prefix, when b starts with it, else b.
func cutPrefix[P string | []byte](b []byte, prefix P) ([]byte, bool) {
	if len(b) < len(prefix) || string(b[:len(prefix)]) != string(prefix) {
		return b, false
	}
	return b[len(prefix):], true
}

// stringAs is encodesAs of a string.
func stringAs(s string, b []byte) ([]byte, bool) {
	b, ok := cutPrefix(b, `"`)
	if !ok {
		return nil, false
	}
	if n := len(s); n < len(b) && b[n] == '"' && string(b[:n]) == s && plainLen(s, true) == n {
		return b[n+1:], true
	}
	for {
		part, rest, end, ok := stringPart(b)
		switch {
		case !ok:
			return nil, false
		case end:
			return rest, len(s) == 0
		case len(part) > len(s) || string(part) != s[:len(part)]:
			return nil, false
		}
		s, b = s[len(part):], rest
	}
}

// keyOf reads a string at b's start, as Append writes one, and returns
// it unquoted: a part of b when it holds no escape.
func keyOf(b []byte) (k, rest []byte, ok bool) {
	if b, ok = cutPrefix(b, `"`); !ok {
		return nil, nil, false
	}
	if n := plainLen(b, true); n < len(b) && b[n] == '"' {
		return b[:n], b[n+1:], true
	}
	for {
		part, rest, end, ok := stringPart(b)
		switch {
		case !ok:
			return nil, nil, false
		case end:
			return k, rest, true
		case k == nil:
			k = part
		default:
			k = append(k[:len(k):len(k)], part...)
		}
		b = rest
	}
}

// Characters a string escapes, unescaped: each ASCII byte, U+2028 and
// U+2029.
var (
	asciiBytes = func() (t [utf8.RuneSelf]byte) {
		for c := range t {
			t[c] = byte(c)
		}
		return t
	}()
	lineSep, paraSep = []byte("\u2028"), []byte("\u2029")
)

// stringPart reads the next part of a string, from b just after its
// opening quote or a part before: a run of bytes the string holds as
// they are, or one escaped character, unescaped. end is true, and rest
// what follows, at the closing quote. ok is false where b is not what
// AppendString, escaping HTML, writes of the string: a byte it escapes,
// an escape it would not write, a byte not valid UTF-8.
func stringPart(b []byte) (part, rest []byte, end, ok bool) {
	if len(b) == 0 {
		return nil, nil, false, false
	}
	switch b[0] {
	case '"':
		return nil, b[1:], true, true
	case '\\':
		if len(b) >= 6 && b[1] == 'u' {
			switch string(b[:6]) {
			case `\u2028`:
				return lineSep, b[6:], false, true
			case `\u2029`:
				return paraSep, b[6:], false, true
			}
			if b[2] == '0' && b[3] == '0' {
				if c, ok := unhex(b[4], b[5]); ok && asciiEscapes[c] == string(b[:6]) {
					return asciiBytes[c : c+1], b[6:], false, true
				}
			}
			return nil, nil, false, false
		}
		if len(b) >= 2 {
			if c := unescapeShort(b[1]); c != 0 && asciiEscapes[c] == string(b[:2]) {
				return asciiBytes[c : c+1], b[2:], false, true
			}
		}
		return nil, nil, false, false
	}
	i := 0
	for {
		if i += plainLen(b[i:], true); i == len(b) || b[i] < utf8.RuneSelf {
			break
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return nil, nil, false, false
		}
		i += size
	}
	if i == 0 || i < len(b) && b[i] != '"' && b[i] != '\\' {
		return nil, nil, false, false
	}
	return b[:i], b[i:], false, true
}

// unescapeShort is the byte a two-byte escape \c stands for, or 0.
func unescapeShort(c byte) byte {
	switch c {
	case '"', '\\':
		return c
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return 0
}

// unhex is the byte below 0x80 of two hex digits as Append writes them
// (lower case).
func unhex(h, l byte) (byte, bool) {
	x, y := strings.IndexByte(hexDigits, h), strings.IndexByte(hexDigits, l)
	if x < 0 || y < 0 || x > 7 {
		return 0, false
	}
	return byte(x<<4 | y), true
}
