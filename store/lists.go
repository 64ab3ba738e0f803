package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/authflow/authflow/internal/kind"
	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// listOf answers a list query on collection c: through an index walk when
// one fits (pages of pks, then get), or by scanning (each yields every
// candidate object; pre is the byte test on stored JSON it may apply) into
// a bounded sort. The results are the records; the caller renders them. A scanned object's row holds only the
// columns the query filters, searches or orders on.
func listOf[T any](tx *Tx, c *collection, l listing[T], walks []indexWalk, scope []byte, q Query,
	each func(filters map[string]any, pre func([]byte) bool, yield func(obj any) error) error,

) (Page[any], error) {
	filters, terms, order, ordered, err := l.plan(q)
	if err != nil {
		return Page[any]{}, err
	}
	w, ok, err := tx.pageIDs(walks, scope, filters, terms, ordered, q)
	if err != nil {
		return Page[any]{}, err
	}
	if ok {
		return pageOf(tx, c, w)
	}
	pre := prefilter(l.storedOnly(filters, terms))
	need := l.needed(filters, terms, order)
	p, err := l.scanPage(q, tx.s.maxPage, filters, terms, order, func(yield func(item[T]) error) error {
		return each(filters, pre, func(obj any) error {
			r, err := rowOf(c, need, obj)
			if err != nil {
				return err
			}
			return yield(item[T]{v: obj.(T), row: r})
		})
	})
	if err != nil {
		return Page[any]{}, err
	}
	if len(filters) == 0 && len(terms) == 0 {
		// The scan covered the whole collection (or kind): it must have
		// seen what the kept count says.
		key := c.bucket
		if scope != nil && len(walks) > 0 {
			key = countKey(walks[0].bucket, scope)
		}
		n, err := tx.counted([]byte(key))
		if err != nil {
			return Page[any]{}, err
		}
		if n != int64(p.Pagination.Count) {
			return Page[any]{}, fmt.Errorf("store: %s: %w: the count says %d objects, a scan found %d", c.bucket, ErrCorrupt, n, p.Pagination.Count)
		}
	}
	return mapPage(p, func(t T) (any, error) { return t, nil })
}

// distinctOf returns the distinct values of the text column name among
// the objects of c that q's filters and search select, sorted; q's
// ordering and page are not read. each is as for listOf. It scans, and
// holds the distinct values only.
func distinctOf[T any](tx *Tx, c *collection, l listing[T], name string, q Query,
	each func(filters map[string]any, pre func([]byte) bool, yield func(obj any) error) error,
) ([]string, error) {
	filters, terms, _, _, err := l.plan(q)
	if err != nil {
		return nil, err
	}
	need := l.needed(filters, terms, []string{name})
	if !slices.ContainsFunc(need, func(col column) bool { return col.name == name }) {
		return nil, fmt.Errorf("store: %s: %w: no column %q", c.model, ErrSchema, name)
	}
	seen := map[string]bool{}
	err = each(filters, prefilter(l.storedOnly(filters, terms)), func(obj any) error {
		r, err := rowOf(c, need, obj)
		if err != nil {
			return err
		}
		if s, ok := r[name].(string); ok && l.match(r, filters, terms) {
			seen[s] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

// storedOnly returns the filters and search terms that a byte test on an
// object's stored JSON (prefilter) may judge: the filters of columns that
// read a stored field, and the terms when every search column does. A
// computed column's value (a user's group names) is not in the record.
func (l listing[T]) storedOnly(filters map[string]any, terms []string) (map[string]any, []string) {
	stored := make(map[string]any, len(filters))
	for _, c := range l.cols {
		if v, ok := filters[c.name]; ok && c.get == nil {
			stored[c.name] = v
		}
		if c.search && c.get != nil {
			terms = nil
		}
	}
	return stored, terms
}

// needed are the columns a scan must read for a query: those it filters
// on, the search columns when it searches, and those it orders by.
func (l listing[T]) needed(filters map[string]any, terms, order []string) []column {
	var out []column
	for _, c := range l.cols {
		_, filtered := filters[c.name]
		if filtered || c.search && len(terms) > 0 || slices.ContainsFunc(order, func(t string) bool { return strings.TrimPrefix(t, "-") == c.name }) {
			out = append(out, c)
		}
	}
	return out
}

// rowOf reads the columns cols of obj, and its pk (the last tie-break),
// as list rows hold them: strings (UUIDs in canonical form), int64, bool,
// nil for null, and lists and objects as their JSON text.
func rowOf(c *collection, cols []column, obj any) (row, error) {
	pk, _ := c.codec.ids(obj)
	r := make(row, len(cols)+1)
	r["pk"] = pk.String()
	for _, col := range cols {
		var v any
		if col.get != nil {
			var err error
			if v, err = col.get(obj); err != nil {
				return nil, err
			}
		} else {
			field := col.field
			if field == "" {
				field = col.name
			}
			v, _ = c.codec.value(obj, field)
		}
		r[col.name] = cell(v)
	}
	return r, nil
}

// many is a list column's value (a many-to-many field's pks, or what a
// computed column lists): a filter on it matches a row whose list holds
// the filter's value (any of them, for a multi column). Its items are
// row values: strings (UUIDs canonical) or int64.
type many []any

// manyOf is the many value of ids.
func manyOf(ids []uuid.UUID) many {
	out := make(many, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// cell is a field value as a row holds it.
func cell(v any) any {
	switch x := v.(type) {
	case nil, string, int64, float64, bool, many:
		return v
	case []uuid.UUID:
		return manyOf(x)
	case uuid.UUID:
		return x.String()
	case map[string]any:
		if x == nil {
			return nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return string(b)
}

// pageOf loads the objects of a page of pks.
func pageOf(tx *Tx, c *collection, w walked) (Page[any], error) {
	out := Page[any]{Pagination: w.p, Results: make([]any, 0, len(w.ids))}
	for i, id := range w.ids {
		obj, ok, err := tx.get(c, id)
		if err != nil {
			return Page[any]{}, err
		}
		if !ok {
			// The index lists what is not stored: damage, not a 404.
			return Page[any]{}, fmt.Errorf("store: %s: %w: it lists %s %s, which is not stored", w.bucket, ErrCorrupt, c.alias, id)
		}
		if w.bucket != c.bucket && !c.implies(obj, w.bucket, w.keys[i]) {
			return Page[any]{}, fmt.Errorf("store: %s: %w: key %x lists %s %s, which implies another key", w.bucket, ErrCorrupt, w.keys[i], c.alias, id)
		}
		out.Results = append(out.Results, obj)
	}
	return out, nil
}

// with returns l with the get functions of the named columns set: the
// computed columns that read the transaction.
func (l listing[T]) with(gets map[string]func(obj any) (any, error)) listing[T] {
	l.cols = slices.Clone(l.cols)
	for i := range l.cols {
		if g, ok := gets[l.cols[i].name]; ok {
			l.cols[i].get = g
		}
	}
	return l
}

// withKnown returns l with the known functions of the named multi
// columns set (see column.known).
func (l listing[T]) withKnown(known map[string]func(v any) (bool, error)) listing[T] {
	l.cols = slices.Clone(l.cols)
	for i := range l.cols {
		if k, ok := known[l.cols[i].name]; ok {
			l.cols[i].known = k
		}
	}
	return l
}

// scanWalk decodes the objects that a list's walks reach: through the
// first walk after walks[0] whose UUID filter is active, narrowed to its
// value, or else through walks[0] within scope. pre is as for
// scanIndexed.
func (tx *Tx) scanWalk(c *collection, walks []indexWalk, scope []byte, filters map[string]any, pre func([]byte) bool, yield func(obj any) error) error {
	walk := walks[0]
	for _, w := range walks[1:] {
		if v, ok := filters[w.filter].(string); ok && w.filter != "" && w.uuidFilter {
			id, _ := uuid.Parse(v)
			walk, scope = w, id[:]
			break
		}
	}
	return tx.scanIndexed(c, walk.bucket, scope, walk.pkAt, pre, yield)
}

// scanIndexed decodes the objects of c that an index scan of bucket
// (within prefix; the pk at offset at, as pkAt reads it, 0 for the
// records bucket itself)
// finds and whose stored JSON passes pre (nil: all of them).
func (tx *Tx) scanIndexed(c *collection, bucket string, prefix []byte, at int, pre func([]byte) bool, fn func(obj any) error) error {
	if bucket == c.bucket {
		if pre == nil {
			pre = func([]byte) bool { return true }
		}
		return tx.scanRecords(c, pre, fn)
	}
	return kvScan(tx.kv, bucket, kv.Range{Prefix: prefix}, func(k, _ []byte) (bool, error) {
		if err := tx.ctxErr(); err != nil {
			return false, err
		}
		id, err := pkAt(bucket, k, at)
		if err != nil {
			return false, err
		}
		raw, err := kvGet(tx.kv, c.bucket, id)
		if err != nil {
			return false, err
		}
		if raw == nil {
			return false, fmt.Errorf("store: %s: %w: the index points at missing %s", bucket, ErrCorrupt, idFrom(id))
		}
		if pre != nil && len(raw) > 5 && !pre(raw[5:]) {
			return true, nil
		}
		obj, err := tx.decodeRecord(c, id, raw)
		if err != nil {
			return false, err
		}
		return true, fn(obj)
	})
}

// scanRecords decodes the objects of c whose stored JSON passes pre, in
// pk order, checking the context as it goes. Records that pre skips are
// not decoded, so their checksums are not verified either.
func (tx *Tx) scanRecords(c *collection, pre func([]byte) bool, fn func(obj any) error) error {
	return kvScan(tx.kv, c.bucket, kv.Range{}, func(k, v []byte) (bool, error) {
		if err := tx.ctxErr(); err != nil {
			return false, err
		}
		if len(v) > 5 && !pre(v[5:]) {
			return true, nil
		}
		obj, err := tx.decodeRecord(c, k, v)
		if err != nil {
			return false, err
		}
		return true, fn(obj)
	})
}

// ctxErr is the transaction context's error: a scan stops when the
// caller has gone.
func (tx *Tx) ctxErr() error {
	if tx.ctx == nil {
		return nil
	}
	return tx.ctx.Err()
}

// mapPage turns a page of stored values into a page of views.
func mapPage[A, B any](p Page[A], fn func(A) (B, error)) (Page[B], error) {
	out := Page[B]{Pagination: p.Pagination, Results: make([]B, 0, len(p.Results))}
	for _, a := range p.Results {
		b, err := fn(a)
		if err != nil {
			return Page[B]{}, err
		}
		out.Results = append(out.Results, b)
	}
	return out, nil
}

// familyListing declares the lists of a collection with kinds: the list
// of every kind (walks[0], in allOrder) and each kind's (walks[1], by
// kind then name).
type familyListing struct {
	c *collection
	// pkName is the pk's filter name in a kind's list (stage_uuid).
	pkName string
	walks  []indexWalk
	// allOrder is the default ordering of the list of every kind ("" is
	// pk order); allCols are its filters besides name.
	allOrder string
	allCols  []column
	// commonCols are a kind's list columns besides name and pkName;
	// computed are the columns a kind's Filters may name.
	commonCols []column
	computed   []column
}

// listFamily lists the objects of kind k (model), or of every kind when k
// is nil.
func listFamily[O any, C kind.Config](tx *Tx, f familyListing, k *kind.Kind[C], model string, q Query) (Page[any], error) {
	l := listing[O]{cols: []column{
		{name: "name", filter: true, search: true, order: true},
	}}
	walks, scope := f.walks[:1], []byte(nil)
	if k == nil {
		l.defaultOrder = f.allOrder
		l.cols = append(l.cols, f.allCols...)
	} else {
		l.defaultOrder = "name"
		l.cols = append(l.cols, column{name: f.pkName, kind: colUUID, filter: true, field: "pk"})
		l.cols = append(l.cols, f.commonCols...)
		l.cols = append(l.cols, configColumns(*k)...)
		for _, c := range f.computed {
			if !k.Schema().Has(c.name) && slices.Contains(k.Filters, c.name) {
				l.cols = append(l.cols, c)
			}
		}
		walks, scope = f.walks[1:], appendValue(nil, model)
	}
	return listOf(tx, f.c, l, walks, scope, q,
		func(_ map[string]any, pre func([]byte) bool, yield func(obj any) error) error {
			return tx.scanWalk(f.c, walks[:1], scope, nil, pre, yield)
		})
}

var (
	configUUIDType     = reflect.TypeOf(uuid.UUID{})
	configUUIDListType = reflect.TypeOf([]uuid.UUID(nil))
)

// configColumns returns the columns of k's config: every field that is
// not write-only orders; those that k.Filters names (all of them when it
// is nil) filter too, each as its Go type says.
func configColumns[C kind.Config](k kind.Kind[C]) []column {
	return fieldColumns(k.Schema(), func() any { return k.New() }, k.Filters, k.Search)
}

// fieldColumns returns the list columns of the fields of a struct type:
// newObj returns a pointer to a new one. Every field that is not
// write-only orders; those that filters names (all of them when it is
// nil) filter too, each as its Go type says, and those search names
// search.
func fieldColumns(sc *validate.Schema, newObj func() any, filters, search []string) []column {
	rt := reflect.TypeOf(newObj())
	for rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	var out []column
	for i := 0; i < rt.NumField(); i++ {
		sf := rt.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || !sc.Has(name) || sc.WriteOnly(name) {
			continue
		}
		col := column{name: name, order: true, search: slices.Contains(search, name)}
		col.filter = filters == nil || slices.Contains(filters, name)
		t := sf.Type
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t == configUUIDType:
			col.kind = colUUID
		case t == configUUIDListType:
			// A many-to-many list filters on one of its pks (see many);
			// it does not order.
			col.kind, col.order = colUUID, false
		case t.Kind() == reflect.Bool:
			col.kind = colBool
		case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
			col.kind = colInt
		case t.Kind() == reflect.String && t.PkgPath() != "":
			col.kind = colChoice
			col.valid = choiceCheck(newObj, i, name)
		case t.Kind() == reflect.String:
		default:
			col.filter = false // a JSON object: orders by its JSON text only
		}
		out = append(out, col)
	}
	return out
}

// choiceCheck returns a function that reports whether the type's field
// rules (validate.FieldValidator) accept val in the field at index i, as
// far as a choice rule goes: only validate.CodeChoice on the field counts.
func choiceCheck(newObj func() any, i int, name string) func(string) bool {
	return func(val string) bool {
		c := newObj()
		fv := reflect.ValueOf(c).Elem().Field(i)
		if fv.Kind() == reflect.Pointer {
			p := reflect.New(fv.Type().Elem())
			p.Elem().SetString(val)
			fv.Set(p)
		} else {
			fv.SetString(val)
		}
		v, ok := c.(validate.FieldValidator)
		if !ok {
			return true
		}
		var errs validation.Errors
		if !errors.As(v.Validate(), &errs) {
			return true
		}
		var e validation.Error
		return !(errors.As(errs[name], &e) && e.Code() == validate.CodeChoice)
	}
}
