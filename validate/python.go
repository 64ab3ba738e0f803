package validate

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// authentik renders rejected input with Python's str(). These helpers do the
// same for JSON values, so that messages such as `"5" is not a valid
// choice.` match.

// pyNumber renders a JSON number as Python's str() of what orjson parses:
// an int for integer literals, a float otherwise.
func pyNumber(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if isIntLiteral([]byte(s)) {
		if s == "-0" {
			return "0"
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return PyFloat(f)
}

// PyFloat is Python's str() (and repr) of a float: "1.0", "1e+16",
// "inf", "nan", so that a message quoting a number reads as authentik's.
func PyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	exp := 0
	if f != 0 {
		exp = int(math.Floor(math.Log10(math.Abs(f))))
	}
	if exp < -4 || exp >= 16 {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// pyStr renders any JSON value as Python's str() would.
func pyStr(raw []byte, k byte) string {
	switch k {
	case '"':
		var s string
		if unquote(raw, &s) {
			return s
		}
		return string(raw)
	case '{', '[':
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return string(raw)
		}
		var b strings.Builder
		pyRepr(&b, v)
		return b.String()
	case 't':
		return "True"
	case 'f':
		return "False"
	case 'n':
		return "None"
	default:
		return pyNumber(raw)
	}
}

func pyRepr(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case json.Number:
		b.WriteString(pyNumber([]byte(x)))
	case string:
		q := "'"
		if strings.Contains(x, "'") && !strings.Contains(x, `"`) {
			q = `"`
		}
		b.WriteString(q)
		if q == "'" {
			x = strings.ReplaceAll(strings.ReplaceAll(x, `\`, `\\`), "'", `\'`)
		}
		b.WriteString(x)
		b.WriteString(q)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		// Python keeps insertion order; Go's decoder does not, so keys are
		// sorted for a stable message.
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, k)
			b.WriteString(": ")
			pyRepr(b, x[k])
		}
		b.WriteByte('}')
	}
}

// pyIsSpace reports whether Python's str.isspace() holds for r, which is
// what str.strip() (and so DRF's whitespace trimming) removes. It is Go's
// unicode.IsSpace plus the separators U+001C to U+001F.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pyStrip is Python's str.strip() without arguments.
func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

// pyType is Python's type name for a JSON value.
func pyType(raw []byte, k byte) string {
	switch k {
	case '{':
		return "dict"
	case '[':
		return "list"
	case '"':
		return "str"
	case 't', 'f':
		return "bool"
	case 'n':
		return "NoneType"
	}
	if isIntLiteral(raw) {
		return "int"
	}
	return "float"
}

// unquote decodes a JSON string literal into s. A literal without
// escapes (the common case) is taken as it is; encoding/json does the
// rest. The body's UTF-8 was checked before any field is decoded.
func unquote(raw []byte, s *string) bool {
	raw = bytes.TrimSpace(raw)
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' {
		plain := true
		for _, c := range raw[1 : n-1] {
			if c == '\\' || c == '"' || c < 0x20 {
				plain = false
				break
			}
		}
		if plain {
			*s = string(raw[1 : n-1])
			return true
		}
	}
	return json.Unmarshal(raw, s) == nil
}
