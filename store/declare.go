package store

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Declaration declares a collection of one Go type, T, that a host adds to
// its stores (see Options.Collections), as it registers a stage kind.
// Everything the store does for a built-in collection follows from it:
// validated writes in Django REST framework's order, unique fields,
// references with their on-delete actions (af tags on T), deletes,
// used_by, the change feed, Check, a typed handle ([NewColl]), lists with
// filters, search, ordering and pagination, the generic form for
// blueprints, and a route in package api when Path is set.
//
// T is a struct whose fields carry json and af tags (see package
// validate), with a read-only uuid.UUID field named "pk"; V is its API
// representation (T itself when View is nil). Its records live in the
// bucket named Model, its indexes in buckets named after the model and
// their fields ("acme_notes.note:unique:title": no slash, which the
// storage seam's backends refuse in a bucket name).
type Declaration[T, V any] struct {
	// Model is the "<app>.<model>" name, such as "acme_notes.note": what
	// references (ref=), used_by, blueprints and permission codenames
	// (acme_notes.view_note) name it by: lowercase letters, digits and
	// underscores. It must be new to the store, and no kind's.
	Model string
	// Verbose is the name uniqueness messages use ("Note with this name
	// already exists."); Model's model part when empty.
	Verbose string
	// Path, when set, is where package api serves the collection, under
	// its prefix and without slashes at the ends ("acme/notes"):
	// lowercase segments, outside the built-in collections' first
	// segments (flows, stages, policies) and any other collection's path.
	Path string
	// Sequence, when set, is T's read-only int64 field that the store
	// numbers at create, 1, 2, 3..., never giving a number twice (a
	// Django AutoField), up to 2^31-1; By(Sequence, "7") names the
	// object numbered 7. A sequence named "pk" makes the number T's pk,
	// as a user's is: the store keys its records by an id derived from
	// the number (so a reference by number needs no lookup), and the API
	// path names an object by it. Declare it with the collection:
	// objects stored before it was declared have no number.
	Sequence string
	// Defaults returns a new object holding the defaults (required).
	Defaults func() T
	// Decode applies a write body to cur as op and runs the field rules;
	// nil means validate.Apply with no computed keys.
	Decode func(cur T, body []byte, op validate.Op) (T, error)
	// View adds the computed fields of the representation, reading the
	// transaction; nil when V is T.
	View func(tx *Tx, t T) (V, error)
	// String is authentik's str() of an object, as used_by shows it; nil
	// means the verbose name and the pk.
	String func(T) string
	// Unique are fields unique across the collection (string fields,
	// compared as stored); Together is a set of fields unique together
	// (of the types Ordered takes).
	Unique   []string
	Together []string
	// Ordered are ordered indexes, each by its fields (text, booleans,
	// UUIDs, integers of at most 32 bits); a list whose ordering is the
	// first one's fields walks it instead of sorting.
	Ordered [][]string
	// Filters are the fields a list filters on (nil: every field that
	// is not write-only), Search those it searches, and Ordering its
	// default ordering ("name" or "-name,pk"; pk order when empty).
	Filters  []string
	Search   []string
	Ordering string
}

// Declarer is a collection declaration of any types: a [Declaration].
type Declarer interface {
	declaration() (*collection, error)
}

func (d Declaration[T, V]) declaration() (*collection, error) {
	if !reModel.MatchString(d.Model) {
		return nil, fmt.Errorf("%w: collection %q: the model must be <app>.<model>, each lowercase letters, digits and underscores", ErrSchema, d.Model)
	}
	_, model, _ := strings.Cut(d.Model, ".")
	if d.Path != "" && !rePath.MatchString(d.Path) {
		return nil, fmt.Errorf("%w: collection %s: path %q must be lowercase segments separated by single slashes", ErrSchema, d.Model, d.Path)
	}
	if d.Defaults == nil {
		return nil, fmt.Errorf("%w: collection %s: no Defaults", ErrSchema, d.Model)
	}
	view := d.View
	if view == nil {
		if _, same := any(*new(T)).(V); !same {
			return nil, fmt.Errorf("%w: collection %s: no View, but its representation %T is not %T", ErrSchema, d.Model, *new(V), *new(T))
		}
		view = func(_ *Tx, t T) (V, error) { return any(t).(V), nil }
	}
	numbered := d.Sequence == "pk"
	pkType := reflect.TypeOf(uuid.UUID{})
	if numbered {
		pkType = reflect.TypeOf(int64(0))
	}
	pkAt, err := fieldIndex[T]("pk", pkType)
	if err != nil {
		return nil, fmt.Errorf("%w: collection %s: %v", ErrSchema, d.Model, err)
	}
	sc, err := validate.SchemaOf(new(T))
	if err != nil {
		return nil, fmt.Errorf("%w: collection %s: %v", ErrSchema, d.Model, err)
	}
	if !sc.ReadOnly("pk") {
		return nil, fmt.Errorf("%w: collection %s: its pk field must be read-only (af:\"readonly\")", ErrSchema, d.Model)
	}
	seqAt := -1
	if d.Sequence != "" {
		if seqAt, err = fieldIndex[T](d.Sequence, reflect.TypeOf(int64(0))); err != nil {
			return nil, fmt.Errorf("%w: collection %s: its sequence: %v", ErrSchema, d.Model, err)
		}
		if !sc.ReadOnly(d.Sequence) {
			return nil, fmt.Errorf("%w: collection %s: its sequence %q must be read-only", ErrSchema, d.Model, d.Sequence)
		}
	}
	if err := d.checkFields(); err != nil {
		return nil, fmt.Errorf("%w: collection %s: %v", ErrSchema, d.Model, err)
	}
	verbose := d.Verbose
	if verbose == "" {
		verbose = model
	}
	decode := d.Decode
	if decode == nil {
		decode = func(cur T, body []byte, op validate.Op) (T, error) { return validate.Apply(cur, body, op, nil) }
	}
	str := d.String
	if str == nil {
		str = func(t T) string {
			return fmt.Sprintf("%s %s", verbose, reflect.ValueOf(t).Field(pkAt).Interface())
		}
	}
	cd := plain[T]{
		defaults: d.Defaults,
		apply: func(cur T, body []byte, op validate.Op) (T, error) {
			next, err := decode(cur, body, op)
			reflect.ValueOf(&next).Elem().Field(pkAt).Set(reflect.ValueOf(&cur).Elem().Field(pkAt))
			return next, err
		},
		getIDs: func(t T) (uuid.UUID, uuid.UUID) {
			return reflect.ValueOf(t).Field(pkAt).Interface().(uuid.UUID), uuid.Nil
		},
		setIDs: func(t *T, pk, _ uuid.UUID) { reflect.ValueOf(t).Elem().Field(pkAt).Set(reflect.ValueOf(pk)) },
		strOf:  str,
		sc:     sc,
	}
	if seqAt >= 0 {
		cd.setSeq = func(t *T, n int64) { reflect.ValueOf(t).Elem().Field(seqAt).SetInt(n) }
		cd.apply = func(cur T, body []byte, op validate.Op) (T, error) {
			next, err := decode(cur, body, op)
			for _, i := range []int{pkAt, seqAt} {
				reflect.ValueOf(&next).Elem().Field(i).Set(reflect.ValueOf(&cur).Elem().Field(i))
			}
			return next, err
		}
	}
	if numbered {
		// The record's id is derived from its number (see seqID).
		bucket := d.Model
		cd.getIDs = func(t T) (uuid.UUID, uuid.UUID) {
			return seqID(bucket, reflect.ValueOf(t).Field(pkAt).Int()), uuid.Nil
		}
		cd.setIDs = func(*T, uuid.UUID, uuid.UUID) {}
	}
	c := &collection{
		bucket: d.Model, model: d.Model, alias: model, verbose: verbose, codec: cd,
		together: slices.Clone(d.Together), path: d.Path, seq: d.Sequence,
		view: viewBy(view), typedView: view,
	}
	for _, f := range d.Unique {
		c.unique = append(c.unique, uniqueField{field: f, bucket: d.Model + ":unique:" + f, hash: true})
	}
	switch {
	case numbered:
		c.key = "pk" // the API's path names an object by its number
	case d.Sequence != "":
		c.unique = append(c.unique, uniqueField{field: d.Sequence, bucket: d.Model + ":seq:" + d.Sequence})
	}
	for _, fields := range d.Ordered {
		if len(fields) == 0 {
			return nil, fmt.Errorf("%w: collection %s: an ordered index without fields", ErrSchema, d.Model)
		}
		c.indexes = append(c.indexes, index{bucket: d.Model + ":by:" + strings.Join(fields, ","), fields: slices.Clone(fields)})
	}
	l := listing[T]{
		cols:         fieldColumns(cd.sc, func() any { t := d.Defaults(); return &t }, d.Filters, d.Search),
		defaultOrder: d.Ordering,
	}
	if len(d.Ordered) > 0 && d.Ordering == strings.Join(d.Ordered[0], ",") {
		c.walkOn = []walkOn{{field: d.Ordered[0][0]}}
	} else if d.Ordering == "" {
		c.walkOn = []walkOn{{field: "pk"}}
	}
	for _, term := range strings.Split(d.Ordering, ",") {
		if name := strings.TrimPrefix(term, "-"); d.Ordering != "" && !l.orderable(name) {
			return nil, fmt.Errorf("%w: collection %s: ordering on %q, which is no field a list orders by", ErrSchema, d.Model, name)
		}
	}
	c.list = func(tx *Tx, _ string, q Query) (Page[any], error) {
		return listOf(tx, c, l, c.walks, nil, q,
			func(_ map[string]any, pre func([]byte) bool, yield func(obj any) error) error {
				return tx.scanRecords(c, pre, yield)
			})
	}
	return c, nil
}

// fieldIndex is the index of T's exported field named name in JSON,
// which must be of type want.
func fieldIndex[T any](name string, want reflect.Type) (int, error) {
	rt := reflect.TypeOf(*new(T))
	if rt == nil || rt.Kind() != reflect.Struct {
		return 0, fmt.Errorf("%v is not a struct", rt)
	}
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		if n, _, _ := strings.Cut(f.Tag.Get("json"), ","); n == name && f.IsExported() {
			if f.Type != want {
				return 0, fmt.Errorf("its %s field is a %v, not a %v", name, f.Type, want)
			}
			return i, nil
		}
	}
	return 0, fmt.Errorf("%v has no field named %s in JSON", rt, name)
}

var (
	// reModel is a declared model name: Django's app label and model
	// name, as permission codenames and blueprints spell them.
	reModel = regexp.MustCompile(`^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$`)
	// rePath is a declared API path, as a kind's (see kind.Kind.Path).
	rePath = regexp.MustCompile(`^[a-z0-9_]+(/[a-z0-9_]+)*$`)
	// int32Type is the widest integer an ordered index holds (see
	// orderKey).
	int32Type = reflect.TypeOf(int32(0))
)

// checkFields checks that the fields the declaration names are T's and of
// a type their use can hold: a unique field is text (its index holds a
// hash of the text; a null is no value); an ordered index's fields and a
// unique-together set's are text, a boolean, an integer of at most 32
// bits (or an int64 reference by number: a sequence stays below 2^31) or
// a UUID (what an index key encodes in order, each value apart);
// a filter or search field exists.
func (d Declaration[T, V]) checkFields() error {
	rt := reflect.TypeOf(*new(T))
	numRef := map[string]bool{} // int64 references by number
	field := func(name string) (reflect.Type, error) {
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			if n, _, _ := strings.Cut(f.Tag.Get("json"), ","); n == name && f.IsExported() {
				numRef[name] = f.Type.Kind() == reflect.Int64 && strings.Contains(f.Tag.Get("af"), "ref=")
				return f.Type, nil
			}
		}
		return nil, fmt.Errorf("%q is not a field", name)
	}
	for _, name := range d.Unique {
		ft, err := field(name)
		if err != nil {
			return fmt.Errorf("unique field %w", err)
		}
		if ft.Kind() != reflect.String {
			return fmt.Errorf("unique field %q is a %v, not text", name, ft)
		}
	}
	// An index key encodes these in order, each value apart (see
	// appendValue and orderKey); a longer integer would be cut, and a list
	// or an object written as text.
	keyed := func(what string, fields []string) error {
		for _, name := range fields {
			ft, err := field(name)
			if err != nil {
				return fmt.Errorf("%s on %w", what, err)
			}
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft == reflect.TypeOf(uuid.UUID{}), ft.Kind() == reflect.String, ft.Kind() == reflect.Bool:
			case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Int64 && ft.Size() <= int32Type.Size():
			case numRef[name]: // a numbered collection's pk, at most 2^31-1
			default:
				return fmt.Errorf("%s on %q, a %v: an index holds text, booleans, UUIDs and integers of at most 32 bits", what, name, ft)
			}
		}
		return nil
	}
	for _, fields := range d.Ordered {
		if err := keyed("ordered index", fields); err != nil {
			return err
		}
	}
	if err := keyed("unique-together set", d.Together); err != nil {
		return err
	}
	for _, name := range slices.Concat(d.Filters, d.Search) {
		if _, err := field(name); err != nil {
			return fmt.Errorf("list on %w", err)
		}
	}
	return nil
}
