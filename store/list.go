package store

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// LastPage as Query.Page asks for the last page (authentik's page=last).
const LastPage = -1

// Query selects, orders and pages a list, with authentik's list query
// parameters.
type Query struct {
	// Filters are exact-match filters by authentik's filter names, such as
	// "slug" or "designation" for flows and "target" for bindings. Names a
	// collection does not filter on are ignored, as authentik does. A bad
	// value for a choice, UUID or integer filter is a *validate.Error.
	Filters map[string]string
	// Search matches case-insensitively on the collection's search fields.
	Search string
	// Ordering is a comma-separated list of fields, "-" for descending.
	// Unknown fields are ignored; "" means the collection's default. Ties
	// are always broken by pk, so lists are deterministic.
	Ordering string
	// Page is 1-based; 0 means 1 and LastPage the last page. A page past
	// the last gives ErrInvalidPage.
	Page int
	// PageSize of 0 (or less) means DefaultPageSize; it is capped at the
	// store's maximum (Options.MaxPageSize).
	PageSize int
}

// QueryFromValues reads authentik's query parameters: page, page_size,
// ordering, search, and every other key as a filter. A page that is neither
// a positive integer nor "last" gives an error wrapping ErrInvalidPage; an
// invalid page_size falls back to the default, as in authentik.
func QueryFromValues(v url.Values) (Query, error) {
	q := Query{Filters: map[string]string{}}
	for k, vals := range v {
		if len(vals) == 0 {
			continue
		}
		val := vals[len(vals)-1]
		switch k {
		case "page":
			if val == "last" {
				q.Page = LastPage
				continue
			}
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return q, fmt.Errorf("store: page %q: %w", val, ErrInvalidPage)
			}
			q.Page = n
		case "page_size":
			if n, err := strconv.Atoi(val); err == nil && n > 0 {
				q.PageSize = n
			}
		case "ordering":
			q.Ordering = val
		case "search":
			q.Search = val
		default:
			q.Filters[k] = val
		}
	}
	return q, nil
}

// Pagination is the "pagination" member of a list response. Next and
// Previous are page numbers, 0 when there is none.
type Pagination struct {
	Next       int `json:"next"`
	Previous   int `json:"previous"`
	Count      int `json:"count"`
	Current    int `json:"current"`
	TotalPages int `json:"total_pages"`
	StartIndex int `json:"start_index"`
	EndIndex   int `json:"end_index"`
}

// Page is one page of a list, in authentik's envelope.
type Page[T any] struct {
	Pagination Pagination `json:"pagination"`
	Results    []T        `json:"results"`
}

// colKind says how a column filters and sorts.
type colKind int

const (
	colString colKind = iota
	colChoice
	colUUID
	colBool
	colInt
)

// column is one filterable, searchable or orderable field of a list.
type column struct {
	name    string
	kind    colKind
	choices []string
	filter  bool
	search  bool
	order   bool
}

// row holds a list item's column values: string (UUIDs canonical, null
// as ""), int64 or bool.
type row map[string]any

type listing[T any] struct {
	cols         []column
	defaultOrder string
}

type item[T any] struct {
	v   T
	row row
}

// filterValue checks one filter value against its column, with Django's
// form messages. ok is false for a value that should be ignored.
func (c column) filterValue(val string) (any, bool, string) {
	switch c.kind {
	case colChoice:
		if !slices.Contains(c.choices, val) {
			return nil, false, "Select a valid choice. " + val + " is not one of the available choices."
		}
		return val, true, ""
	case colUUID:
		if val == "" {
			return "", true, ""
		}
		id, err := uuid.Parse(strings.TrimSpace(val))
		if err != nil {
			return nil, false, "Enter a valid UUID."
		}
		return id.String(), true, ""
	case colBool:
		switch strings.ToLower(val) {
		case "true", "1":
			return true, true, ""
		case "false", "0":
			return false, true, ""
		}
		return nil, false, "" // django-filter ignores other values
	case colInt:
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil {
			return nil, false, "Enter a whole number."
		}
		return n, true, ""
	}
	return val, true, ""
}

// filters turns q.Filters into column predicates.
func (l listing[T]) filters(q Query) (map[string]any, error) {
	out := map[string]any{}
	errs := &validate.Error{}
	for _, c := range l.cols {
		val, ok := q.Filters[c.name]
		if !ok || !c.filter || val == "" {
			continue // django-filter ignores empty values
		}
		v, use, msg := c.filterValue(val)
		if msg != "" {
			errs.Add(c.name, msg)
			continue
		}
		if use {
			out[c.name] = v
		}
	}
	if !errs.Empty() {
		return nil, errs
	}
	return out, nil
}

func (l listing[T]) match(r row, filters map[string]any, search string) bool {
	for k, want := range filters {
		if r[k] != want {
			return false
		}
	}
	if search == "" {
		return true
	}
	s := strings.ToLower(search)
	for _, c := range l.cols {
		if !c.search {
			continue
		}
		if v, ok := r[c.name].(string); ok && strings.Contains(strings.ToLower(v), s) {
			return true
		}
	}
	return false
}

func compareAny(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return cmp.Compare(x, y)
	case int64:
		y, _ := b.(int64)
		return cmp.Compare(x, y)
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	return 0
}

// page filters, orders and pages items. Every row must have a "pk".
func (l listing[T]) page(items []item[T], q Query, maxPage int) (Page[T], error) {
	filters, err := l.filters(q)
	if err != nil {
		return Page[T]{}, err
	}
	kept := items[:0]
	for _, it := range items {
		if l.match(it.row, filters, q.Search) {
			kept = append(kept, it)
		}
	}
	ordering := q.Ordering
	var terms []string
	for _, t := range strings.Split(ordering, ",") {
		t = strings.TrimSpace(t)
		name := strings.TrimPrefix(t, "-")
		if l.orderable(name) {
			terms = append(terms, t)
		}
	}
	if len(terms) == 0 && l.defaultOrder != "" {
		terms = strings.Split(l.defaultOrder, ",")
	}
	terms = append(terms, "pk")
	slices.SortStableFunc(kept, func(a, b item[T]) int {
		for _, t := range terms {
			name, desc := strings.TrimPrefix(t, "-"), strings.HasPrefix(t, "-")
			if c := compareAny(a.row[name], b.row[name]); c != 0 {
				if desc {
					return -c
				}
				return c
			}
		}
		return 0
	})

	size := q.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, maxPage)
	count := len(kept)
	total := max(1, (count+size-1)/size)
	cur := q.Page
	switch {
	case cur == LastPage:
		cur = total
	case cur == 0:
		cur = 1
	case cur < 0 || cur > total:
		return Page[T]{}, fmt.Errorf("store: page %d of %d: %w", cur, total, ErrInvalidPage)
	}
	start := (cur - 1) * size
	end := min(start+size, count)
	p := Page[T]{Results: make([]T, 0, end-start)}
	for _, it := range kept[start:end] {
		p.Results = append(p.Results, it.v)
	}
	p.Pagination = Pagination{Count: count, Current: cur, TotalPages: total}
	if cur < total {
		p.Pagination.Next = cur + 1
	}
	if cur > 1 {
		p.Pagination.Previous = cur - 1
	}
	if count > 0 {
		p.Pagination.StartIndex = start + 1
		p.Pagination.EndIndex = end
	}
	return p, nil
}

func (l listing[T]) orderable(name string) bool {
	if name == "pk" {
		return true
	}
	for _, c := range l.cols {
		if c.name == name && c.order {
			return true
		}
	}
	return false
}
