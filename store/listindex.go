package store

import (
	"fmt"
	"strings"

	"github.com/authflow/authflow/store/kv"
	"github.com/google/uuid"
)

// indexWalk is a list that an ordered index answers: the default
// ordering, with no search, and at most one filter, on the index's first
// field. Such a list reads the page's index keys and objects only, and
// takes its count from the counts the engine keeps.
type indexWalk struct {
	// filter is the one filter the walk serves ("" for none).
	filter string
	// bucket is the index; with a filter, its first field is the filter.
	bucket string
	// countKey is the count of the walk: the collection's bucket for an
	// unfiltered walk, or "" to use the index's per-prefix count.
	countKey string
	// pkAt is where the pk is in a key: 0 for a walk of the records
	// bucket itself, -16 for an ordered index (the pk ends every key).
	pkAt int
	// pkInValue says the pk is the value, as in a unique index.
	pkInValue bool
	// text, when set, says the index key ends in a text value (before the
	// pk): a value cut at maxIndexText makes the walk give up.
	text bool
	// uuidFilter says the filter value is a UUID (given as its canonical
	// text), indexed as its 16 bytes.
	uuidFilter bool
}

// walkOn declares an index walk of a collection's list by the field that
// leads its index: "pk" for the records bucket, a unique field for its
// index, or the first field of an ordered index. With filter, the walk
// serves a filter on that field, narrowed to the filter's value;
// without, it is the list's order. Everything else (the bucket, where
// the pk is, the count to use) is derived from the index declaration by
// resolveWalks.
type walkOn struct {
	field  string
	filter bool
}

// resolveWalks derives c's walks from their declarations (c.walkOn).
func (c *collection) resolveWalks() error {
	c.walks = nil
	kind := ""
	if kinds := c.codec.kindNames(); c.kindIndex != "" && len(kinds) > 0 {
		kind = kinds[0]
	}
	blank, err := c.codec.blank(kind)
	if err != nil && c.kindIndex == "" {
		return fmt.Errorf("%w: %s: %v", ErrSchema, c.model, err)
	}
	isText := func(field string) bool {
		if blank == nil {
			return true // no kind registered: a walk that may give up
		}
		v, _ := c.codec.value(blank, field)
		_, ok := v.(string)
		return ok
	}
	isUUID := func(field string) bool {
		if blank == nil {
			return false
		}
		switch v, _ := c.codec.value(blank, field); v.(type) {
		case uuid.UUID, *uuid.UUID:
			return true
		}
		return false
	}
	for _, on := range c.walkOn {
		w := indexWalk{countKey: c.bucket}
		ix, ordered := c.indexLedBy(on.field)
		u := c.uniqueOn(on.field)
		switch {
		case on.field == "pk":
			w.bucket = c.bucket
		case ordered:
			w.bucket, w.pkAt = ix.bucket, -16
			w.text = isText(ix.fields[len(ix.fields)-1])
		case u != nil && !u.hash: // a hashed index is in no useful order
			w.bucket, w.pkInValue = u.bucket, true
		default:
			return fmt.Errorf("%w: %s: a list walks %q, which leads no ordered index", ErrSchema, c.model, on.field)
		}
		if on.filter {
			if w.pkAt != -16 {
				return fmt.Errorf("%w: %s: a filter walk on %q needs an ordered index", ErrSchema, c.model, on.field)
			}
			w.filter, w.uuidFilter = on.field, isUUID(on.field)
		}
		c.walks = append(c.walks, w)
	}
	return nil
}

// uniqueOn is the unique field declaration of field, or nil.
func (c *collection) uniqueOn(field string) *uniqueField {
	for i := range c.unique {
		if c.unique[i].field == field {
			return &c.unique[i]
		}
	}
	return nil
}

// walked is the page an index walk found: the index, the page's keys
// and the pk each lists, and the page's envelope.
type walked struct {
	bucket string
	keys   [][]byte
	ids    []uuid.UUID
	p      Pagination
}

// pageIDs answers a list through one of walks, if one fits: ok is false
// when none does (the caller then sorts the objects). scope is a fixed
// key prefix (a kind), filters are the query's active filters, already
// checked. A page that reaches the count's end must be the index's end:
// an index holding more or fewer keys than the kept count is ErrCorrupt.
func (tx *Tx) pageIDs(walks []indexWalk, scope []byte, filters map[string]any, terms []string, ordered bool, q Query) (out walked, ok bool, err error) {
	if len(terms) > 0 || !ordered || len(filters) > 1 {
		return out, false, nil
	}
	ids, p, ok, err := tx.walkPage(walks, scope, filters, q, &out)
	out.ids, out.p = ids, p
	return out, ok, err
}

func (tx *Tx) walkPage(walks []indexWalk, scope []byte, filters map[string]any, q Query, out *walked) (ids []uuid.UUID, p Pagination, ok bool, err error) {
	var w indexWalk
	var filterVal any
	found := false
	for _, cand := range walks {
		v, has := filters[cand.filter]
		if cand.filter == "" && len(filters) == 0 || cand.filter != "" && has {
			w, filterVal, found = cand, v, true
			break
		}
	}
	if !found {
		return nil, p, false, nil
	}
	prefix := scope
	key := w.countKey
	if w.filter != "" || scope != nil {
		key = countKey(w.bucket, scope)
	}
	if w.filter != "" {
		if w.uuidFilter {
			id, err := uuid.Parse(fmt.Sprint(filterVal))
			if err != nil {
				return nil, p, false, nil
			}
			filterVal = id
		}
		if s, isText := filterVal.(string); isText && len(s) > maxIndexText {
			return nil, p, false, nil
		}
		prefix = appendValue(prefix, filterVal)
		key = countKey(w.bucket, prefix)
	}
	n, err := tx.counted([]byte(key))
	if err != nil {
		return nil, p, false, err
	}
	start, end, p, err := paginate(int(n), q, tx.s.maxPage)
	if err != nil {
		return nil, p, false, err
	}
	out.bucket = w.bucket
	i := 0
	cut, extra := false, false
	err = kvScan(tx.kv, w.bucket, kv.Range{Prefix: prefix}, func(k, v []byte) (bool, error) {
		if i >= end {
			extra = end == int(n)
			return false, nil
		}
		if err := tx.ctxErr(); err != nil {
			return false, err
		}
		if i++; i <= start {
			return true, nil
		}
		if w.pkInValue {
			if len(v) != 16 {
				return false, fmt.Errorf("store: %s: %w: malformed value", w.bucket, ErrCorrupt)
			}
			ids = append(ids, idFrom(v))
			out.keys = append(out.keys, k)
			return true, nil
		}
		pk, err := pkAt(w.bucket, k, w.pkAt)
		if err != nil {
			return false, err
		}
		if w.text && len(k)-len(prefix)-16-1 >= maxIndexText {
			cut = true
			return false, nil
		}
		ids = append(ids, idFrom(pk))
		out.keys = append(out.keys, k)
		return true, nil
	})
	if err != nil || cut {
		return nil, p, false, err
	}
	if len(ids) != end-start {
		return nil, p, false, fmt.Errorf("store: %s: %w: the count says %d, the index holds fewer", w.bucket, ErrCorrupt, n)
	}
	if extra {
		return nil, p, false, fmt.Errorf("store: %s: %w: the count says %d, the index holds more", w.bucket, ErrCorrupt, n)
	}
	return ids, p, true, nil
}

// paginate turns a count and a query into the page's bounds and envelope.
func paginate(count int, q Query, maxPage int) (start, end int, p Pagination, err error) {
	size := q.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, maxPage)
	total := max(1, (count+size-1)/size)
	cur := q.Page
	switch {
	case cur == LastPage:
		cur = total
	case cur == 0:
		cur = 1
	case cur < 0 || cur > total:
		return 0, 0, p, fmt.Errorf("store: page %d of %d: %w", cur, total, ErrInvalidPage)
	}
	start = (cur - 1) * size
	end = min(start+size, count)
	p = Pagination{Count: count, Current: cur, TotalPages: total}
	if cur < total {
		p.Next = cur + 1
	}
	if cur > 1 {
		p.Previous = cur - 1
	}
	if count > 0 {
		p.StartIndex = start + 1
		p.EndIndex = end
	}
	return start, end, p, nil
}

// plan reads a query as the listing does: its active filters, its search
// terms (upper case, as Django's icontains compares), its ordering terms
// (the default when it names none; pk last, as the tie-break), and whether
// that ordering is the default one.
func (l listing[T]) plan(q Query) (filters map[string]any, terms, order []string, isDefault bool, err error) {
	filters, err = l.filters(q)
	if err != nil {
		return nil, nil, nil, false, err
	}
	terms = searchTerms(q.Search)
	for i, t := range terms {
		terms[i] = strings.ToUpper(t)
	}
	order = l.orderFields(q)
	isDefault = strings.Join(order, ",") == l.defaultOrder
	return filters, terms, append(order, "pk"), isDefault, nil
}
