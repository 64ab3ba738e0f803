package validate

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// The struct tag "af" describes how a field is written through the API. Its
// comma-separated options are:
//
//	required   must be present on create and replace
//	blank      an empty (or all-whitespace) string is allowed
//	readonly   output only; ignored on input
//	writeonly  input only; never output (use it with [Secret])
//	min=N      lower bound for an integer (default: the type's range, int32 for int32)
//	max=N      upper bound for an integer
//	ref=flow   a reference to a flow, which the store checks on write and
//	           clears (nullable) or cascades (not nullable) when the flow
//	           is deleted; see [Schema.Refs]
//
// The JSON name comes from the "json" tag. Supported Go types, with the
// Django REST framework field each one behaves like:
//
//	string, Secret        CharField (whitespace trimmed, numbers coerced)
//	*string               CharField(allow_null=True)
//	named string types    ChoiceField; pair with [Choice] in Validate
//	bool                  BooleanField
//	int, int32, int64     IntegerField
//	uuid.UUID             PrimaryKeyRelatedField
//	*uuid.UUID            PrimaryKeyRelatedField(allow_null=True)
//	map[string]any        JSONField holding an object (merged by a patch)
const tagName = "af"

type kind int

const (
	kString kind = iota
	kSecret
	kChoice
	kBool
	kInt
	kUUID
	kObject
)

type field struct {
	name      string
	index     int
	kind      kind
	nullable  bool // pointer type
	required  bool
	blank     bool
	readOnly  bool
	writeOnly bool
	min, max  int64
	typ       reflect.Type
	hasMinMax bool
	isPtr     bool
	ref       string
}

// Schema describes the API fields of one struct type. Obtain it with
// [SchemaOf]; it is immutable and safe for concurrent use.
type Schema struct {
	typ    reflect.Type
	fields []field
	byName map[string]int
}

var schemas sync.Map // reflect.Type -> *Schema

var (
	secretType = reflect.TypeOf(Secret{})
	uuidType   = reflect.TypeOf(uuid.UUID{})
	objectType = reflect.TypeOf(map[string]any(nil))
)

// SchemaOf returns the schema of v's type, which must be a struct or a
// pointer to one. It returns an error for a field type it cannot handle;
// that is a programming error in the type's declaration, which registries
// report by panicking.
func SchemaOf(v any) (*Schema, error) {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("validate: %T is not a struct", v)
	}
	if s, ok := schemas.Load(t); ok {
		return s.(*Schema), nil
	}
	s, err := buildSchema(t)
	if err != nil {
		return nil, err
	}
	actual, _ := schemas.LoadOrStore(t, s)
	return actual.(*Schema), nil
}

func buildSchema(t reflect.Type) (*Schema, error) {
	s := &Schema{typ: t, byName: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			return nil, fmt.Errorf("validate: %s.%s has no json name", t, sf.Name)
		}
		f := field{name: name, index: i, typ: sf.Type}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			f.nullable, f.isPtr = true, true
			ft = ft.Elem()
		}
		switch {
		case ft == secretType:
			f.kind = kSecret
		case ft == uuidType:
			f.kind = kUUID
		case ft == objectType:
			f.kind = kObject
		case ft.Kind() == reflect.String && ft.PkgPath() == "":
			f.kind = kString
		case ft.Kind() == reflect.String:
			f.kind = kChoice
		case ft.Kind() == reflect.Bool:
			f.kind = kBool
		case ft.Kind() == reflect.Int32:
			f.kind, f.min, f.max = kInt, math.MinInt32, math.MaxInt32
		case ft.Kind() == reflect.Int, ft.Kind() == reflect.Int64:
			f.kind, f.min, f.max = kInt, math.MinInt64, math.MaxInt64
		default:
			return nil, fmt.Errorf("validate: %s.%s: unsupported type %s", t, sf.Name, sf.Type)
		}
		for _, opt := range strings.Split(sf.Tag.Get(tagName), ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(opt), "=")
			switch k {
			case "":
			case "required":
				f.required = true
			case "blank":
				f.blank = true
			case "readonly":
				f.readOnly = true
			case "writeonly":
				f.writeOnly = true
			case "ref":
				if f.kind != kUUID || v != "flow" {
					return nil, fmt.Errorf("validate: %s.%s: ref needs a uuid field and the target flow (the only one the store enforces)", t, sf.Name)
				}
				f.ref = v
			case "min", "max":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || f.kind != kInt {
					return nil, fmt.Errorf("validate: %s.%s: bad option %q", t, sf.Name, opt)
				}
				if k == "min" {
					f.min = n
				} else {
					f.max = n
				}
			default:
				return nil, fmt.Errorf("validate: %s.%s: unknown option %q", t, sf.Name, opt)
			}
		}
		if _, dup := s.byName[name]; dup {
			return nil, fmt.Errorf("validate: %s: duplicate field %q", t, name)
		}
		s.byName[name] = len(s.fields)
		s.fields = append(s.fields, f)
	}
	return s, nil
}

// Names returns the JSON names of the fields, in declaration order.
func (s *Schema) Names() []string {
	out := make([]string, len(s.fields))
	for i, f := range s.fields {
		out[i] = f.name
	}
	return out
}

// Has reports whether the schema has a field called name.
func (s *Schema) Has(name string) bool { _, ok := s.byName[name]; return ok }

// ReadOnly reports whether name is a read-only field of the schema.
func (s *Schema) ReadOnly(name string) bool {
	i, ok := s.byName[name]
	return ok && s.fields[i].readOnly
}

// WriteOnly reports whether name is a write-only field of the schema.
func (s *Schema) WriteOnly(name string) bool {
	i, ok := s.byName[name]
	return ok && s.fields[i].writeOnly
}

// Required returns the names of the required fields.
func (s *Schema) Required() []string {
	var out []string
	for _, f := range s.fields {
		if f.required {
			out = append(out, f.name)
		}
	}
	return out
}

// Ref is one reference field of a value, as reported by [Schema.Refs].
type Ref struct {
	Field    string    // JSON name
	Target   string    // the ref= tag value, e.g. "flow"
	Nullable bool      // whether the field may be null (SET_NULL on delete)
	ID       uuid.UUID // uuid.Nil when null
	Null     bool      // the field is null (a nil pointer), not a reference to uuid.Nil
}

// Refs returns the reference fields of v (tagged ref=...), with their
// current values, in declaration order.
func (s *Schema) Refs(v any) []Ref {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	var out []Ref
	for i := range s.fields {
		f := &s.fields[i]
		if f.ref == "" {
			continue
		}
		r := Ref{Field: f.name, Target: f.ref, Nullable: f.nullable}
		fv := rv.Field(f.index)
		if f.isPtr {
			if fv.IsNil() {
				r.Null = true
			} else {
				r.ID = fv.Elem().Interface().(uuid.UUID)
			}
		} else {
			r.ID = fv.Interface().(uuid.UUID)
		}
		out = append(out, r)
	}
	return out
}

// HasRefs reports whether any field of the schema is a reference.
func (s *Schema) HasRefs() bool {
	for i := range s.fields {
		if s.fields[i].ref != "" {
			return true
		}
	}
	return false
}

// AppendJSON appends the fields of v (a value of the schema's struct type,
// or a pointer to one) to dst as `"name":value` pairs separated by commas,
// without braces, in declaration order. Write-only fields are included only
// when withSecrets is true, which is for persistence, never for output.
func (s *Schema) AppendJSON(dst []byte, v any, withSecrets bool) ([]byte, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Type() != s.typ {
		return nil, fmt.Errorf("validate: AppendJSON: %s is not %s", rv.Type(), s.typ)
	}
	first := true
	for i := range s.fields {
		f := &s.fields[i]
		if f.writeOnly && !withSecrets {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		var err error
		if dst, err = appendJSONString(dst, f.name); err != nil {
			return nil, err
		}
		dst = append(dst, ':')
		fv := rv.Field(f.index)
		if f.isPtr {
			if fv.IsNil() {
				dst = append(dst, "null"...)
				continue
			}
			fv = fv.Elem()
		}
		switch f.kind {
		case kSecret:
			dst, err = appendJSONString(dst, fv.Interface().(Secret).Reveal())
		case kString, kChoice:
			dst, err = appendJSONString(dst, fv.String())
		case kBool:
			dst = strconv.AppendBool(dst, fv.Bool())
		case kInt:
			dst = strconv.AppendInt(dst, fv.Int(), 10)
		case kUUID:
			dst = append(dst, '"')
			dst = append(dst, fv.Interface().(uuid.UUID).String()...)
			dst = append(dst, '"')
		default:
			var b []byte
			b, err = json.Marshal(fv.Interface())
			dst = append(dst, b...)
		}
		if err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func appendJSONString(dst []byte, s string) ([]byte, error) {
	b, err := json.Marshal(s)
	return append(dst, b...), err
}
