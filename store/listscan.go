package store

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"strings"
)

// The lists that no index answers (a search, another ordering, a filter
// with no index) scan their collection. They keep memory to the page: a
// bounded heap holds the first page×size items in the listing's order,
// and only items that pass the filters and search are decoded into rows;
// a cheap test on the stored bytes (prefilter) skips most of the rest
// without decoding them.

// sorter is a max-heap of the best keep items by order: its root is the
// worst item kept, replaced when a better one comes.
type sorter[T any] struct {
	items []item[T]
	order []string
}

func (s *sorter[T]) Len() int { return len(s.items) }
func (s *sorter[T]) Less(i, j int) bool {
	return compareRows(s.order, s.items[j].row, s.items[i].row) < 0
}
func (s *sorter[T]) Swap(i, j int) { s.items[i], s.items[j] = s.items[j], s.items[i] }
func (s *sorter[T]) Push(x any)    { s.items = append(s.items, x.(item[T])) }
func (s *sorter[T]) Pop() any {
	it := s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	return it
}

// compareRows orders two rows by the ordering terms ("name" or "-name"),
// the last of which is always pk.
func compareRows(order []string, a, b row) int {
	for _, t := range order {
		name, desc := strings.TrimPrefix(t, "-"), strings.HasPrefix(t, "-")
		if c := compareAny(a[name], b[name]); c != 0 {
			if desc {
				return -c
			}
			return c
		}
	}
	return 0
}

// stream is a source of list items: it calls yield for every candidate,
// in any order, and stops when yield returns an error.
type stream[T any] func(yield func(item[T]) error) error

// scanPage pages a stream: it counts the items that match, keeps the best
// page×size of them, and returns the page. A last-page query reads the
// stream twice, first to count.
func (l listing[T]) scanPage(q Query, maxPage int, filters map[string]any, terms, order []string, each stream[T]) (Page[T], error) {
	if q.Page == LastPage {
		n := 0
		err := each(func(it item[T]) error {
			if l.match(it.row, filters, terms) {
				n++
			}
			return nil
		})
		if err != nil {
			return Page[T]{}, err
		}
		_, _, p, err := paginate(n, q, maxPage)
		if err != nil {
			return Page[T]{}, err
		}
		q.Page = p.Current
	}
	size := q.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, maxPage)
	keep := max(q.Page, 1) * size
	h := &sorter[T]{order: order}
	n := 0
	err := each(func(it item[T]) error {
		if !l.match(it.row, filters, terms) {
			return nil
		}
		n++
		switch {
		case h.Len() < keep:
			heap.Push(h, it)
		case compareRows(order, it.row, h.items[0].row) < 0:
			h.items[0] = it
			heap.Fix(h, 0)
		}
		return nil
	})
	if err != nil {
		return Page[T]{}, err
	}
	start, end, p, err := paginate(n, q, maxPage)
	if err != nil {
		return Page[T]{}, err
	}
	sorted := make([]item[T], h.Len())
	for i := len(sorted) - 1; i >= 0; i-- {
		sorted[i] = heap.Pop(h).(item[T])
	}
	out := Page[T]{Pagination: p, Results: make([]T, 0, end-start)}
	for _, it := range sorted[start:end] {
		out.Results = append(out.Results, it.v)
	}
	return out, nil
}

// prefilter returns a test on an object's stored JSON that every object
// matching filters and terms passes: each text filter value occurs in it,
// JSON-encoded, and each search term occurs in it, ignoring ASCII case.
// It is used only where every filtered and searched column is stored in
// the record itself. A term it cannot judge on the bytes (one holding
// characters JSON escapes, or non-ASCII ones) is left to the full check,
// as is any record holding non-ASCII bytes (Unicode upper-casing can turn
// those into ASCII).
func prefilter(filters map[string]any, terms []string) func(raw []byte) bool {
	var needles [][]byte
	for _, v := range filters {
		if s, ok := v.(string); ok {
			b, err := json.Marshal(s)
			if err == nil {
				needles = append(needles, b)
			}
		}
	}
	// The longest plain term alone: one pass over each record's bytes
	// skips nearly all non-matches, and the full check does the rest.
	var upper [][]byte
	for _, t := range terms {
		if plainASCII(t) && (len(upper) == 0 || len(t) > len(upper[0])) {
			upper = [][]byte{[]byte(t)} // terms are upper case already
		}
	}
	if len(needles) == 0 && len(upper) == 0 {
		return func([]byte) bool { return true }
	}
	var buf []byte
	return func(raw []byte) bool {
		for _, n := range needles {
			if !bytesContains(raw, n) {
				return false
			}
		}
		if len(upper) == 0 {
			return true
		}
		buf = buf[:0]
		for _, c := range raw {
			if c >= 0x80 {
				return true
			}
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			buf = append(buf, c)
		}
		for _, t := range upper {
			if !bytesContains(buf, t) {
				return false
			}
		}
		return true
	}
}

// plainASCII reports whether s is printable ASCII that JSON never
// escapes.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return s != ""
}

func bytesContains(b, sub []byte) bool { return bytes.Contains(b, sub) }
