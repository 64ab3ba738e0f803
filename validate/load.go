package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Load reads a JSON object that [Schema.AppendJSON] wrote (between braces)
// into dst, a pointer to a value of the schema's struct type. It is
// json.Unmarshal for stored records, faster: it reads each field by its
// kind without reflection on the JSON side, and runs no field rules
// (stored values were validated when they were written). Members the
// schema does not name are ignored and fields the object lacks keep
// their value in dst, as with json.Unmarshal.
//
// The input need not be trusted: anything that is not a JSON object whose
// members have the fields' types is an error, never a panic.
func (s *Schema) Load(dst any, raw []byte) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Type() != s.typ {
		return fmt.Errorf("validate: Load: %T is not *%s", dst, s.typ)
	}
	if !json.Valid(raw) {
		return fmt.Errorf("validate: Load: %w", ErrSyntax)
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] != '{' {
		return fmt.Errorf("validate: Load: a stored %s is a JSON object, not %s", s.typ, pyType(raw, jsonKind(raw)))
	}
	rv = rv.Elem()
	return eachMember(raw, func(key []byte, val []byte) error {
		i, ok := s.byName[string(key)]
		if !ok {
			return nil
		}
		f := &s.fields[i]
		if err := loadField(f, rv.Field(f.index), val); err != nil {
			return fmt.Errorf("validate: Load: %s.%s: %w", s.typ, f.name, err)
		}
		return nil
	})
}

// LoadMember reads one member of a stored object (key and its value's
// bytes, as [Members] gives them) into dst, a pointer to a value of the
// schema's struct type, as [Schema.Load] reads each member. known is false
// for a key the schema does not name, which is left alone.
func (s *Schema) LoadMember(dst any, key string, val []byte) (known bool, err error) {
	i, ok := s.byName[key]
	if !ok {
		return false, nil
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Type() != s.typ {
		return true, fmt.Errorf("validate: LoadMember: %T is not *%s", dst, s.typ)
	}
	f := &s.fields[i]
	if err := loadField(f, rv.Elem().Field(f.index), val); err != nil {
		return true, fmt.Errorf("validate: Load: %s.%s: %w", s.typ, f.name, err)
	}
	return true, nil
}

// Members calls fn with each member of the JSON object raw, in order: the
// key decoded and the value's bytes (sharing raw's memory). Anything but
// a JSON object is an error; so is an error from fn, which stops the walk.
func Members(raw []byte, fn func(key string, val []byte) error) error {
	if !json.Valid(raw) {
		return ErrSyntax
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrSyntax)
	}
	return eachMember(raw, func(k, v []byte) error { return fn(string(k), v) })
}

// eachMember calls fn with each member of the valid JSON object b, the
// key still escaped as written (a key with an escape is decoded first).
func eachMember(b []byte, fn func(key, val []byte) error) error {
	i := skipSpace(b, 1) // past '{'
	for i < len(b) && b[i] != '}' {
		end := stringEnd(b, i)
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var k string
			if err := json.Unmarshal(b[i:end], &k); err != nil {
				return fmt.Errorf("%w: %v", ErrSyntax, err)
			}
			key = []byte(k)
		}
		i = skipSpace(b, skipSpace(b, end)+1) // past ':'
		vEnd := valueEnd(b, i)
		if err := fn(key, b[i:vEnd]); err != nil {
			return err
		}
		i = skipSpace(b, vEnd)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return nil
}

// loadField sets v from the stored JSON value raw.
func loadField(f *field, v reflect.Value, raw []byte) error {
	if string(raw) == "null" {
		v.Set(reflect.Zero(v.Type()))
		return nil
	}
	if f.isPtr {
		v.Set(reflect.New(v.Type().Elem()))
		v = v.Elem()
	}
	bad := func() error { return fmt.Errorf("%w: %.40s is not a stored %s", ErrSyntax, raw, v.Type()) }
	switch f.kind {
	case kString, kChoice, kSecret:
		if raw[0] != '"' {
			return bad()
		}
		s, err := loadString(raw)
		if err != nil {
			return err
		}
		if f.kind == kSecret {
			v.Set(reflect.ValueOf(NewSecret(s)))
		} else {
			v.SetString(s)
		}
	case kBool:
		switch string(raw) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return bad()
		}
	case kInt:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || n < f.min || n > f.max {
			return bad()
		}
		v.SetInt(n)
	case kFloat:
		if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
			return bad()
		}
		n, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return bad()
		}
		v.SetFloat(n)
	case kJSON:
		v.SetBytes(append([]byte(nil), raw...))
	case kUUID:
		if raw[0] != '"' {
			return bad()
		}
		id, err := uuid.ParseBytes(raw[1 : len(raw)-1])
		if err != nil {
			return bad()
		}
		v.Set(reflect.ValueOf(id))
	default: // lists and objects: rare, and json.Unmarshal does them right
		return json.Unmarshal(raw, v.Addr().Interface())
	}
	return nil
}

// loadString decodes a valid JSON string literal as json.Unmarshal does,
// copying it once when it holds no escape and is valid UTF-8.
func loadString(raw []byte) (string, error) {
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}
