package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
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
//	writeonly  input only; never output (the field must be a [Secret])
//	nonempty   a list may not be empty (DRF's allow_empty=False)
//	jsondict   an object field that refuses anything else with authentik's
//	           JSONDictField message ([MsgJSONDict])
//	min=N      lower bound for an integer (default: the type's range, int32 for int32)
//	max=N      upper bound for an integer
//	ref=T      a reference to an object of T: a collection ("flow",
//	           "stage", or a model name such as "authentik_flows.flow"),
//	           or one stage kind by its model name. The store checks on
//	           write that it exists, and refuses at Open a T it does not
//	           know; see [Schema.Refs]. On an int64 (or *int64) field,
//	           the reference holds T's number, for a T whose pk is one (a
//	           Django AutoField, such as a user's)
//	on_delete=A  what deleting the target does to this object: cascade
//	           (delete it too), set_null, set_default (the field's default
//	           in the kind's New), or protect (refuse the delete). The
//	           default is set_null for a nullable field, cascade otherwise
//	related=N  the accessor name that authentik's used_by shows for this
//	           reference ("<model>_set" by default); "+" hides it
//
// The JSON name comes from the "json" tag. Supported Go types, with the
// Django REST framework field each one behaves like:
//
//	string, Secret        CharField (whitespace trimmed, numbers coerced)
//	*string               CharField(allow_null=True)
//	named string types    ChoiceField; pair with [Choice] in Validate
//	bool                  BooleanField
//	int, int32, int64     IntegerField
//	float64               FloatField (finite values only: JSON has no
//	                      others)
//	uuid.UUID             PrimaryKeyRelatedField
//	*uuid.UUID            PrimaryKeyRelatedField(allow_null=True)
//	[]uuid.UUID           PrimaryKeyRelatedField(many=True): with ref=, a
//	                      many-to-many reference; deleting a target removes
//	                      it from the list (on_delete=cascade_many, the
//	                      default) unless on_delete=protect
//	[]string, []T         ListField of CharField or ChoiceField (T a named
//	                      string type); an item's error is reported under
//	                      "field.index"
//	[]int32, []int64      ListField of IntegerField (each item in its type's
//	                      range), items' errors as for strings
//	map[string]any        JSONField holding an object (merged by a patch)
//	json.RawMessage       JSONField holding any JSON value (an object
//	                      merged by a patch onto an object)
//
// A readonly field may also be of any other type that encoding/json
// marshals (a list of structs, say): it is output with encoding/json (a
// nil slice as []) and stored, never decoded from a write.
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
	kUUIDList
	kStringList
	kIntList
	kFloat
	kJSON
	kAny // readonly only: encoding/json's
)

// list reports whether k is a list kind.
func (k kind) list() bool { return k == kUUIDList || k == kStringList || k == kIntList }

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
	nonEmpty  bool
	jsonDict  bool // JSONDictField: its own message for a non-object
	choice    bool // a list of a named string type
	ref       string
	onDelete  OnDelete
	related   string
}

// OnDelete is what deleting the target of a reference does to the object
// holding it, as Django's on_delete argument says.
type OnDelete string

// The on-delete actions.
const (
	Cascade    OnDelete = "cascade"
	SetNull    OnDelete = "set_null"
	SetDefault OnDelete = "set_default"
	Protect    OnDelete = "protect"
	// CascadeMany removes the deleted target from a many-to-many list:
	// the default for a []uuid.UUID reference.
	CascadeMany OnDelete = "cascade_many"
)

var reRefTarget = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$`)

// Schema describes the API fields of one struct type. Obtain it with
// [SchemaOf]; it is immutable and safe for concurrent use.
type Schema struct {
	typ    reflect.Type
	fields []field
	byName map[string]int
}

var schemas sync.Map // reflect.Type -> *Schema

var (
	secretType   = reflect.TypeOf(Secret{})
	uuidType     = reflect.TypeOf(uuid.UUID{})
	objectType   = reflect.TypeOf(map[string]any(nil))
	uuidListType = reflect.TypeOf([]uuid.UUID(nil))
	rawJSONType  = reflect.TypeOf(json.RawMessage(nil))
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
		case ft == uuidListType:
			f.kind = kUUIDList
		case ft == rawJSONType && !f.isPtr:
			f.kind = kJSON
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
			f.kind, f.choice = kStringList, ft.Elem().PkgPath() != ""
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Int32:
			f.kind, f.min, f.max = kIntList, math.MinInt32, math.MaxInt32
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Int64:
			f.kind, f.min, f.max = kIntList, math.MinInt64, math.MaxInt64
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
		case ft.Kind() == reflect.Float64 && ft.PkgPath() == "":
			f.kind = kFloat
		default:
			f.kind = kAny // allowed for readonly fields only: checked below
		}
		for _, opt := range strings.Split(sf.Tag.Get(tagName), ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(opt), "=")
			switch k {
			case "":
			case "required":
				f.required = true
			case "blank":
				f.blank = true
			case "nonempty":
				if !f.kind.list() {
					return nil, fmt.Errorf("validate: %s.%s: nonempty needs a list field", t, sf.Name)
				}
				f.nonEmpty = true
			case "jsondict":
				if f.kind != kObject {
					return nil, fmt.Errorf("validate: %s.%s: jsondict needs a map[string]any field", t, sf.Name)
				}
				f.jsonDict = true
			case "readonly":
				f.readOnly = true
			case "writeonly":
				f.writeOnly = true
			case "ref":
				numbered := f.kind == kInt && f.max == math.MaxInt64
				if (f.kind != kUUID && f.kind != kUUIDList && !numbered) || !reRefTarget.MatchString(v) {
					return nil, fmt.Errorf("validate: %s.%s: ref needs a uuid, []uuid.UUID or int64 field and a target such as flow or app.model", t, sf.Name)
				}
				f.ref = v
			case "on_delete":
				switch OnDelete(v) {
				case Cascade, SetNull, SetDefault, Protect, CascadeMany:
					f.onDelete = OnDelete(v)
				default:
					return nil, fmt.Errorf("validate: %s.%s: on_delete must be cascade, set_null, set_default, protect or cascade_many, not %q", t, sf.Name, v)
				}
			case "related":
				if v == "" {
					return nil, fmt.Errorf("validate: %s.%s: related needs a name or +", t, sf.Name)
				}
				f.related = v
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
		if f.writeOnly && f.kind != kSecret {
			return nil, fmt.Errorf("validate: %s.%s: a writeonly field must be a validate.Secret", t, sf.Name)
		}
		if f.kind == kAny && !f.readOnly {
			return nil, fmt.Errorf("validate: %s.%s: unsupported type %s", t, sf.Name, sf.Type)
		}
		if f.ref == "" && (f.onDelete != "" || f.related != "") {
			return nil, fmt.Errorf("validate: %s.%s: on_delete and related need ref", t, sf.Name)
		}
		if f.ref != "" && f.onDelete == "" {
			switch {
			case f.kind == kUUIDList:
				f.onDelete = CascadeMany
			case f.nullable:
				f.onDelete = SetNull
			default:
				f.onDelete = Cascade
			}
		}
		if many := f.kind == kUUIDList; f.ref != "" && (many && f.onDelete != CascadeMany && f.onDelete != Protect || !many && f.onDelete == CascadeMany) {
			return nil, fmt.Errorf("validate: %s.%s: a many-to-many reference takes on_delete=cascade_many or protect, and only it takes cascade_many", t, sf.Name)
		}
		if f.onDelete == SetNull && !f.nullable {
			return nil, fmt.Errorf("validate: %s.%s: on_delete=set_null needs a pointer field", t, sf.Name)
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

// Secrets returns the names of the [Secret] fields (every write-only
// field is one), in declaration order: what a store seals at rest and an
// export leaves out.
func (s *Schema) Secrets() []string {
	var out []string
	for _, f := range s.fields {
		if f.kind == kSecret {
			out = append(out, f.name)
		}
	}
	return out
}

// MapSecrets returns a copy of v (a value of the schema's struct type, or
// a pointer to one, which gives a pointer to the copy) with each [Secret]
// field replaced by what fn returns for it, given its name and value; v is
// left alone. A nil *Secret field is passed over. The first error of fn
// is returned.
func (s *Schema) MapSecrets(v any, fn func(name string, val Secret) (Secret, error)) (any, error) {
	rv := reflect.ValueOf(v)
	ptr := rv.Kind() == reflect.Pointer
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Type() != s.typ {
		return nil, fmt.Errorf("validate: MapSecrets: %s is not %s", rv.Type(), s.typ)
	}
	cp := reflect.New(s.typ).Elem()
	cp.Set(rv)
	for i := range s.fields {
		f := &s.fields[i]
		if f.kind != kSecret {
			continue
		}
		fv := cp.Field(f.index)
		if f.isPtr {
			if fv.IsNil() {
				continue
			}
			nv := reflect.New(secretType)
			nv.Elem().Set(fv.Elem())
			fv.Set(nv)
			fv = nv.Elem()
		}
		p := fv.Addr().Interface().(*Secret) // no copy of the value through an interface
		out, err := fn(f.name, *p)
		if err != nil {
			return nil, err
		}
		*p = out
	}
	if ptr {
		return cp.Addr().Interface(), nil
	}
	return cp.Interface(), nil
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
	OnDelete OnDelete  // the on_delete action, never empty
	Related  string    // the related= tag value; "" means the default accessor
	Nullable bool      // whether the field may be null
	ID       uuid.UUID // uuid.Nil when null
	Null     bool      // the field is null (a nil pointer), not a reference to uuid.Nil
	// Many marks a many-to-many field: Refs reports one Ref per item.
	Many bool
	// Numbered marks a field that holds its target's number (an int64:
	// a Django AutoField pk, such as a user's) rather than its UUID: Num
	// is the number (0 when null) and ID is left for the store, which
	// knows the target's id for a number.
	Numbered bool
	Num      int64
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
		r := Ref{Field: f.name, Target: f.ref, OnDelete: f.onDelete, Related: f.related, Nullable: f.nullable}
		fv := rv.Field(f.index)
		if f.kind == kInt {
			r.Numbered = true
			switch {
			case !f.isPtr:
				r.Num = fv.Int()
			case fv.IsNil():
				r.Null = true
			default:
				r.Num = fv.Elem().Int()
			}
			out = append(out, r)
			continue
		}
		if f.kind == kUUIDList {
			r.Many = true
			for _, id := range fv.Interface().([]uuid.UUID) {
				r.ID = id
				out = append(out, r)
			}
			continue
		}
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

// RefFields returns the reference fields of the schema, with a zero ID,
// in declaration order: what [Schema.Refs] reports, without a value.
func (s *Schema) RefFields() []Ref {
	var out []Ref
	for i := range s.fields {
		if f := &s.fields[i]; f.ref != "" {
			out = append(out, Ref{Field: f.name, Target: f.ref, OnDelete: f.onDelete, Related: f.related, Nullable: f.nullable, Many: f.kind == kUUIDList, Numbered: f.kind == kInt})
		}
	}
	return out
}

// Without returns a copy of v (a value of the schema's struct type) with
// id removed from the many-to-many field name: what deleting a target does
// to the lists that hold it. The copy runs no rules (a list may become
// empty, as a database row's many-to-many set may).
func (s *Schema) Without(v any, name string, id uuid.UUID) (any, error) {
	i, ok := s.byName[name]
	if !ok || s.fields[i].kind != kUUIDList {
		return nil, fmt.Errorf("validate: %s has no many-to-many field %q", s.typ, name)
	}
	rv := reflect.ValueOf(v)
	ptr := rv.Kind() == reflect.Pointer
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	cp := reflect.New(s.typ).Elem()
	cp.Set(rv)
	fv := cp.Field(s.fields[i].index)
	kept := []uuid.UUID{}
	for _, x := range fv.Interface().([]uuid.UUID) {
		if x != id {
			kept = append(kept, x)
		}
	}
	fv.Set(reflect.ValueOf(kept))
	if ptr {
		return cp.Addr().Interface(), nil
	}
	return cp.Interface(), nil
}

// Value returns the value of field name of v (a value of the schema's
// struct type, or a pointer to one): a string, Secret, bool, int64,
// float64, uuid.UUID, map[string]any, json.RawMessage, a list, or nil for
// a null pointer. ok is false when
// the schema has no such field.
func (s *Schema) Value(v any, name string) (val any, ok bool) {
	i, ok := s.byName[name]
	if !ok {
		return nil, false
	}
	f := &s.fields[i]
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	fv := rv.Field(f.index)
	if f.isPtr {
		if fv.IsNil() {
			return nil, true
		}
		fv = fv.Elem()
	}
	switch f.kind {
	case kString, kChoice:
		return fv.String(), true
	case kBool:
		return fv.Bool(), true
	case kInt:
		return fv.Int(), true
	case kFloat:
		return fv.Float(), true
	}
	return fv.Interface(), true
}

// FieldJSON returns the JSON text of field name's value in v, as a write
// body would send it: what set_default restores. ok is false when the
// schema has no such field.
func (s *Schema) FieldJSON(v any, name string) (raw []byte, ok bool) {
	i, ok := s.byName[name]
	if !ok {
		return nil, false
	}
	one := &Schema{typ: s.typ, fields: []field{s.fields[i]}}
	b, err := one.AppendJSON(nil, v, true)
	if err != nil {
		return nil, false
	}
	_, val, _ := strings.Cut(string(b), ":")
	return []byte(val), true
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
		if f.kind.list() && fv.Len() == 0 {
			dst = append(dst, "[]"...)
			continue
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
		case kFloat:
			dst, err = appendFloat(dst, fv.Float())
		case kJSON:
			if fv.Len() == 0 {
				dst = append(dst, "null"...)
				break
			}
			var b bytes.Buffer
			if err = json.Compact(&b, fv.Bytes()); err == nil {
				dst = append(dst, b.Bytes()...)
			}
		case kAny:
			if fv.Kind() == reflect.Slice && fv.Len() == 0 {
				dst = append(dst, "[]"...)
				break
			}
			var b []byte
			b, err = json.Marshal(fv.Interface())
			dst = append(dst, b...)
		case kUUID:
			dst = appendUUID(dst, fv.Interface().(uuid.UUID))
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

// appendFloat appends f as Python's repr() writes it ("1.0", "0.5",
// "1e+16"), which is also how authentik's JSON shows it. NaN and the
// infinities have no JSON form: they are an error.
func appendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, fmt.Errorf("validate: %v has no JSON form", f)
	}
	return append(dst, PyFloat(f)...), nil
}

// appendUUID appends id as a quoted JSON string in its canonical form.
func appendUUID(dst []byte, id uuid.UUID) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i, b := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[b>>4], hexDigits[b&15])
	}
	return append(dst, '"')
}

// appendJSONString appends s as a JSON string, as encoding/json writes it
// (HTML characters escaped too). Text that needs no escape is copied.
func appendJSONString(dst []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, err := json.Marshal(s)
			return append(dst, b...), err
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"'), nil
}
