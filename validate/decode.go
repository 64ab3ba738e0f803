package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/authflow/authflow/internal/mergepatch"
	"github.com/google/uuid"
)

// Op says which kind of write a body is.
type Op int

const (
	// Create is a POST: required fields must be present, omitted optional
	// fields take their defaults (the value already in dst).
	Create Op = iota
	// Replace is a PUT: required fields must be present, omitted optional
	// fields keep their stored values.
	Replace
	// Patch is an RFC 7396 merge patch: nothing is required; a JSON object
	// value merges into an object field, anything else replaces.
	Patch
)

// ErrSyntax is wrapped by the error that [Schema.Decode] returns for a body
// that is not valid JSON. Such a body is not a field problem: the API
// adapter answers it with {"detail": "JSON parse error - ..."}.
var ErrSyntax = errors.New("validate: malformed JSON")

// Object parses body as a JSON object. A body that is valid JSON but not an
// object gives an [*Error] with authentik's non-field message, for example
// "Invalid data. Expected a dictionary, but got list."; invalid JSON gives an
// error wrapping [ErrSyntax].
func Object(body []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(body) {
		// encoding/json would replace the bad bytes silently.
		return nil, fmt.Errorf("%w: the body is not valid UTF-8", ErrSyntax)
	}
	if loneSurrogate(body) {
		// So would it a \ud800 escape that is not half of a pair; the
		// parser authentik uses rejects those too.
		return nil, fmt.Errorf("%w: lone surrogate in a \\u escape", ErrSyntax)
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		// The common case: json.Valid checks the syntax (trailing data
		// included) without allocating, then splitObject cuts the members
		// out without encoding/json's reflection.
		if !json.Valid(body) {
			var m map[string]json.RawMessage
			err := json.Unmarshal(body, &m) // for its message
			return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		return splitObject(t)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: unexpected data after the top-level value", ErrSyntax)
	}
	switch jsonKind(raw) {
	case '{':
	case '[':
		return nil, NonFieldError(NotObject("list"))
	case '"':
		return nil, NonFieldError(NotObject("str"))
	case 't', 'f':
		return nil, NonFieldError(NotObject("bool"))
	case 'n':
		return nil, NonFieldError(NotObject("NoneType"))
	default:
		if isIntLiteral(raw) {
			return nil, NonFieldError(NotObject("int"))
		}
		return nil, NonFieldError(NotObject("float"))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return m, nil
}

// Decode applies the fields of in to dst, a pointer to a value of the
// schema's struct type holding the current value (the defaults, for
// [Create]). Keys in ignore, and the schema's read-only fields, are skipped
// silently; any other key the schema does not have is an error
// ([MsgUnknownField]). Every problem is collected; the result is nil when
// there is none. Decode runs no rules beyond the field types: see [Check].
func (s *Schema) Decode(dst any, in map[string]json.RawMessage, op Op, ignore func(string) bool) *Error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Type() != s.typ {
		return &Error{Err: fmt.Errorf("validate: Decode: %T is not *%s", dst, s.typ)}
	}
	rv = rv.Elem()
	var errs Error
	for name, raw := range in {
		i, ok := s.byName[name]
		if !ok || s.fields[i].readOnly {
			if ok || (ignore != nil && ignore(name)) {
				continue
			}
			errs.Add(name, MsgUnknownField)
			continue
		}
		f := &s.fields[i]
		if f.kind.list() {
			decodeList(f, rv.Field(f.index), raw, &errs)
			continue
		}
		if msg := decodeField(f, rv.Field(f.index), raw, op); msg != "" {
			errs.Add(name, msg)
		}
	}
	if op != Patch {
		for i := range s.fields {
			f := &s.fields[i]
			if f.required && !f.readOnly {
				if _, ok := in[f.name]; !ok {
					errs.Add(f.name, MsgRequired)
				}
			}
		}
	}
	if errs.Empty() {
		return nil
	}
	return &errs
}

// loneSurrogate reports whether a JSON text has a \uXXXX escape of a
// UTF-16 surrogate that is not a high surrogate followed by a low one.
func loneSurrogate(b []byte) bool {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
		return rune(n), err == nil
	}
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\':
			r, ok := hex4(i)
			if !ok {
				i++ // skip the escaped character
				continue
			}
			switch {
			case r >= 0xD800 && r <= 0xDBFF:
				lo, ok := hex4(i + 6)
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return true
				}
				i += 11
			case r >= 0xDC00 && r <= 0xDFFF:
				return true
			default:
				i += 5
			}
		}
	}
	return false
}

// jsonKind returns the first byte of a JSON value: '{', '[', '"', 't', 'f',
// 'n', or a number's first byte.
func jsonKind(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func isIntLiteral(raw []byte) bool {
	return !bytes.ContainsAny(raw, ".eE")
}

func decodeField(f *field, v reflect.Value, raw json.RawMessage, op Op) string {
	k := jsonKind(raw)
	if f.kind == kUUID && string(bytes.TrimSpace(raw)) == `""` {
		k = 'n' // relational fields treat "" as null
	}
	if k == 'n' {
		if !f.nullable {
			return MsgNull
		}
		v.Set(reflect.Zero(v.Type()))
		return ""
	}
	if f.isPtr {
		// Always a fresh pointer: the current value's pointee may be
		// shared with the caller's copy, which must not change.
		v.Set(reflect.New(v.Type().Elem()))
		v = v.Elem()
	}
	switch f.kind {
	case kString, kSecret:
		s, msg := decodeString(raw, k, f.blank)
		if msg != "" {
			return msg
		}
		if f.kind == kSecret {
			v.Set(reflect.ValueOf(NewSecret(s)))
		} else {
			v.SetString(s)
		}
	case kChoice:
		v.SetString(pyStr(raw, k))
	case kBool:
		b, ok := decodeBool(raw, k)
		if !ok {
			return MsgBoolean
		}
		v.SetBool(b)
	case kInt:
		decode := decodeInt
		if f.ref != "" {
			decode = decodeRefNum
		}
		n, msg := decode(raw, k, f.min, f.max)
		if msg != "" {
			return msg
		}
		v.SetInt(n)
	case kFloat:
		n, msg := decodeFloat(raw, k)
		if msg != "" {
			return msg
		}
		v.SetFloat(n)
	case kUUID:
		id, msg := decodeUUID(raw, k)
		if msg != "" {
			return msg
		}
		v.Set(reflect.ValueOf(id))
	case kJSON:
		if op == Patch && k == '{' {
			cur := []byte("{}")
			if v.Len() > 0 {
				cur = v.Bytes()
			}
			merged, err := mergepatch.Apply(cur, raw)
			if err != nil {
				return MsgNotString
			}
			raw = merged
		}
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return MsgNotString
		}
		v.SetBytes(b.Bytes())
	case kObject:
		if k != '{' {
			if f.jsonDict {
				return MsgJSONDict
			}
			return `Expected a dictionary of items but got type "` + pyType(raw, k) + `".`
		}
		if op == Patch {
			cur, err := []byte("{}"), error(nil)
			if !v.IsNil() {
				cur, err = json.Marshal(v.Interface())
			}
			if err == nil {
				raw, err = mergepatch.Apply(cur, raw)
			}
			if err != nil {
				return MsgNotString
			}
		}
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return `Expected a dictionary of items but got type "` + pyType(raw, k) + `".`
		}
		v.Set(reflect.ValueOf(m))
	}
	return ""
}

// decodeString follows DRF's CharField: blank (after trimming) is checked
// first, booleans and containers are not strings, numbers are coerced to
// their Python str(), and surrounding whitespace is trimmed.
func decodeString(raw []byte, k byte, allowBlank bool) (string, string) {
	var s string
	switch k {
	case '"':
		if !unquote(raw, &s) {
			return "", MsgNotString
		}
	case 't', 'f', '{', '[':
		return "", MsgNotString
	default:
		s = pyNumber(raw)
	}
	s = pyStrip(s)
	if s == "" {
		if !allowBlank {
			return "", MsgBlank
		}
		return "", ""
	}
	if strings.ContainsRune(s, 0) {
		return "", MsgNullCharacters
	}
	return s, ""
}

var (
	trueStrings  = map[string]bool{"t": true, "T": true, "y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "true": true, "True": true, "TRUE": true, "on": true, "On": true, "ON": true, "1": true}
	falseStrings = map[string]bool{"f": true, "F": true, "n": true, "N": true, "no": true, "No": true, "NO": true, "false": true, "False": true, "FALSE": true, "off": true, "Off": true, "OFF": true, "0": true}
)

// decodeBool follows DRF's BooleanField and its accepted spellings.
func decodeBool(raw []byte, k byte) (bool, bool) {
	switch k {
	case 't':
		return true, true
	case 'f':
		return false, true
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return false, false
		}
		if trueStrings[s] {
			return true, true
		}
		if falseStrings[s] {
			return false, true
		}
	case '{', '[':
	default:
		f, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
		if err == nil && f == 1 {
			return true, true
		}
		if err == nil && f == 0 {
			return false, true
		}
	}
	return false, false
}

var (
	reDecimal = regexp.MustCompile(`\.0*\s*$`)
	rePyInt   = regexp.MustCompile(`^\s*[+-]?[0-9](_?[0-9])*\s*$`)
)

// MaxIntegerLength is the most characters an integer field reads, as a
// string or as a JSON number: DRF's IntegerField.MAX_STRING_LENGTH. Beyond
// it the field's error is [MsgIntegerTooLarge], before any parsing, so a
// huge number costs no more than its bytes.
const MaxIntegerLength = 1000

// decodeInt follows DRF's IntegerField: strings and integral floats are
// accepted, and the range is checked with DRF's messages. DRF caps only
// strings at MaxIntegerLength; authflow caps number literals too (Python's
// own int parsing refuses more than 4300 digits, so authentik never
// accepted such a number either).
func decodeInt(raw []byte, k byte, min, max int64) (int64, string) {
	var s string
	switch k {
	case '"':
		if json.Unmarshal(raw, &s) != nil {
			return 0, MsgInteger
		}
		if utf8.RuneCountInString(s) > MaxIntegerLength {
			return 0, MsgIntegerTooLarge
		}
	case 't', 'f', '{', '[':
		return 0, MsgInteger
	default:
		if len(bytes.TrimSpace(raw)) > MaxIntegerLength {
			return 0, MsgIntegerTooLarge
		}
		s = pyNumber(raw)
	}
	s = reDecimal.ReplaceAllString(pyStrip(s), "")
	if !rePyInt.MatchString(s) {
		return 0, MsgInteger
	}
	n, ok := new(big.Int).SetString(strings.ReplaceAll(strings.TrimSpace(s), "_", ""), 10)
	if !ok {
		return 0, MsgInteger
	}
	if n.Cmp(big.NewInt(min)) < 0 {
		return 0, MinValue(min)
	}
	if n.Cmp(big.NewInt(max)) > 0 {
		return 0, MaxValue(max)
	}
	return n.Int64(), ""
}

// decodeRefNum reads a reference by number as DRF's related field over an
// integer pk does (the value goes to the database lookup, not to an
// IntegerField): a boolean, a list or an object is the related field's
// "Incorrect type" message; a string Python's int() reads, a JSON integer
// or an integral number is the pk; any other string or number is
// "Incorrect type" too; a number beyond int64 names no object. min and max
// are not checked: a number no object holds is the store's "does not
// exist".
func decodeRefNum(raw []byte, k byte, _, _ int64) (int64, string) {
	lit := string(bytes.TrimSpace(raw))
	switch k {
	case 't', 'f':
		return 0, MsgPKBool
	case '{':
		return 0, pkIncorrectType("dict")
	case '[':
		return 0, pkIncorrectType("list")
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil || len(s) > MaxIntegerLength || !rePyInt.MatchString(s) {
			return 0, pkIncorrectType("str")
		}
		lit = strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	}
	if len(lit) > MaxIntegerLength {
		return 0, DoesNotExist(lit)
	}
	if !strings.ContainsAny(lit, ".eE") {
		n, err := strconv.ParseInt(lit, 10, 64)
		if err != nil {
			return 0, DoesNotExist(lit) // beyond int64
		}
		return n, ""
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
		return 0, pkIncorrectType("float")
	}
	return int64(f), ""
}

// PKNumber reads one JSON value as DRF's related field over an integer pk
// reads it (see a reference by number): the pk, or the message that
// refuses the value ("Incorrect type. Expected pk value, received str.",
// or "does not exist" for a number beyond int64). A null is not a pk
// here: the caller says what null means.
func PKNumber(raw []byte) (int64, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, MsgNull
	}
	return decodeRefNum(raw, raw[0], 0, 0)
}

// PyTypeName is Python's name of the type of a JSON value ("dict",
// "list", "str", "bool", "NoneType", "int" or "float"), as DRF's messages
// name what they were given.
func PyTypeName(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "NoneType"
	}
	return pyType(raw, raw[0])
}

// pkIncorrectType is DRF's related-field message for a pk of the wrong
// type; typ is Python's name of the type given.
func pkIncorrectType(typ string) string {
	return "Incorrect type. Expected pk value, received " + typ + "."
}

// decodeFloat follows DRF's FloatField, which takes what Python's float()
// takes: a JSON number, a string as float() reads it ("1e3", " 2 ",
// "1_0.5"), and a boolean (float(True) is 1.0). Anything else is
// [MsgNumber]; a string longer than MaxIntegerLength (DRF's
// MAX_STRING_LENGTH) is [MsgIntegerTooLarge], and authflow caps number
// literals the same way. NaN and the infinities ("nan", "1e400") are
// refused with MsgNumber: authentik stores them but cannot answer them in
// JSON.
func decodeFloat(raw []byte, k byte) (float64, string) {
	var f float64
	switch k {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, MsgNumber
		}
		if utf8.RuneCountInString(s) > MaxIntegerLength {
			return 0, MsgIntegerTooLarge
		}
		v, ok := parsePyFloat(s)
		if !ok {
			return 0, MsgNumber
		}
		f = v
	case 't':
		return 1, ""
	case 'f':
		return 0, ""
	case '{', '[':
		return 0, MsgNumber
	default:
		lit := bytes.TrimSpace(raw)
		if len(lit) > MaxIntegerLength {
			return 0, MsgIntegerTooLarge
		}
		v, err := strconv.ParseFloat(string(lit), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, MsgNumber
		}
		f = v
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, MsgNumber
	}
	return f, ""
}

// maxUUIDDigits is the length of 2^128-1 in decimal. A JSON number has no
// leading zeros, so a longer integer literal is out of a UUID's range.
const maxUUIDDigits = 39

// decodeUUID follows DRF's PrimaryKeyRelatedField over a UUID key. Whether
// the object exists is the store's question.
func decodeUUID(raw []byte, k byte) (uuid.UUID, string) {
	switch k {
	case 't', 'f':
		return uuid.Nil, MsgPKBool
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return uuid.Nil, InvalidUUID(string(raw))
		}
		id, err := uuid.Parse(s)
		if err != nil {
			return uuid.Nil, InvalidUUID(s)
		}
		return id, ""
	case '{', '[':
		return uuid.Nil, InvalidUUID(pyStr(raw, k))
	default:
		// Django builds UUID(int=n) from an integer.
		if !isIntLiteral(raw) {
			return uuid.Nil, InvalidUUID(pyNumber(raw))
		}
		lit := strings.TrimSpace(string(raw))
		if len(lit) > maxUUIDDigits {
			// Beyond 128 bits, whatever the digits: not worth parsing.
			return uuid.Nil, InvalidUUID(lit)
		}
		n, ok := new(big.Int).SetString(lit, 10)
		if !ok || n.Sign() < 0 || n.BitLen() > 128 {
			return uuid.Nil, InvalidUUID(strings.TrimSpace(string(raw)))
		}
		var id uuid.UUID
		n.FillBytes(id[:])
		return id, ""
	}
}

// decodeList decodes a list field: DRF's ManyRelatedField for
// []uuid.UUID (the first bad item is the field's error, as DRF stops
// there) and ListField for strings (each bad item is reported under
// "field.index").
func decodeList(f *field, v reflect.Value, raw json.RawMessage, errs *Error) {
	k := jsonKind(raw)
	if k == 'n' {
		errs.Add(f.name, MsgNull)
		return
	}
	if k != '[' {
		errs.Add(f.name, NotAList(pyType(raw, k)))
		return
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		errs.Add(f.name, NotAList(pyType(raw, k)))
		return
	}
	if len(items) == 0 && f.nonEmpty {
		errs.Add(f.name, MsgEmptyList)
		return
	}
	out := reflect.MakeSlice(f.typ, len(items), len(items))
	bad := false
	for i, item := range items {
		ik := jsonKind(item)
		if f.kind == kUUIDList {
			if ik == 'n' {
				errs.Add(f.name, MsgNull)
				return
			}
			id, msg := decodeUUID(item, ik)
			if msg != "" {
				errs.Add(f.name, msg)
				return
			}
			out.Index(i).Set(reflect.ValueOf(id))
			continue
		}
		if f.kind == kIntList {
			msg := MsgNull
			if ik != 'n' {
				var x int64
				if x, msg = decodeInt(item, ik, f.min, f.max); msg == "" {
					out.Index(i).SetInt(x)
				}
			}
			if msg != "" {
				errs.Add(f.name+"."+strconv.Itoa(i), msg)
				bad = true
			}
			continue
		}
		var str, msg string
		switch {
		case ik == 'n':
			msg = MsgNull
		case f.choice:
			str = pyStr(item, ik)
		default:
			str, msg = decodeString(item, ik, f.blank)
		}
		if msg != "" {
			errs.Add(f.name+"."+strconv.Itoa(i), msg)
			bad = true
			continue
		}
		out.Index(i).SetString(str)
	}
	if !bad {
		v.Set(out)
	}
}

// splitObject returns the members of a JSON object that json.Valid has
// accepted, as json.Unmarshal into map[string]json.RawMessage would: keys
// decoded, values as their bytes (sharing b's memory), the last of
// repeated keys winning.
func splitObject(b []byte) (map[string]json.RawMessage, error) {
	m := make(map[string]json.RawMessage, 8)
	err := eachMember(b, func(key, val []byte) error {
		m[string(key)] = json.RawMessage(val)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string literal at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the (valid) JSON value at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}
