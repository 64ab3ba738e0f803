package store

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// LastPage as Query.Page asks for the last page (authentik's page=last).
const LastPage = -1

// Caps on a list query, so that a few KB of query string cannot make a
// list cost more than a plain one. A value beyond a cap is refused with a
// *validate.Error on its parameter ("search", or the filter's name), which
// the API answers with 400.
const (
	// MaxSearchTerms is the most distinct search terms a Query may have:
	// "Ensure this value has at most 32 search terms (it has N)."
	MaxSearchTerms = 32
	// MaxSearchLength is the longest Query.Search, in characters:
	// "Ensure this value has at most 4096 characters (it has N)."
	MaxSearchLength = 4096
	// MaxNumberLength is the longest value of a number filter, in
	// characters, as Django REST framework's IntegerField caps a string:
	// "Ensure this value has at most 1000 characters (it has N)."
	MaxNumberLength = 1000
)

// Query selects, orders and pages a list, with authentik's list query
// parameters. Values are read as authentik's seed era (Django REST
// framework 3.14 with django-filter) reads them.
type Query struct {
	// Filters are exact-match filters by authentik's filter names, such as
	// "slug" or "designation" for flows and "target" for bindings. Names a
	// collection does not filter on are ignored, as authentik does, and so
	// are empty values. Each value is read as Django's form field for the
	// filter reads it:
	//   - text: surrounding whitespace is trimmed (whitespace alone is no
	//     filter); a NUL character is an error;
	//   - choice: taken as is; a value that is not a choice is an error;
	//   - UUID: any spelling Python's uuid.UUID accepts (upper case, braces,
	//     "urn:uuid:", no hyphens) matches; anything else is an error;
	//   - boolean: "true", "True", "1", "false", "False" or "0"; any other
	//     value is ignored;
	//   - number: a decimal number ("10", "1e1", "10.7" all match 10: the
	//     fraction is dropped, as Django does); anything else is an error,
	//     and so is a value of more than MaxNumberLength characters;
	//   - prefix (a user list's path_startswith): text, matching the
	//     values that start with it, case-sensitively;
	//   - JSON (the attributes filter of users and groups): a JSON object
	//     whose every key, "__" separating nested keys, must find an equal
	//     value in the object's attributes ({"settings__locale": "de"}).
	// A filter on a list-valued field (a user's groups_by_pk) matches an
	// object whose list holds the value. A filter whose values name
	// objects (groups_by_name, members_by_pk) refuses a value that names
	// none, as django-filter's ModelMultipleChoiceFilter does. An error is
	// a *validate.Error holding Django's message per filter, except an
	// attributes filter that is not a JSON object, which is a
	// *FilterError, checked once every other filter passed, as authentik
	// does.
	Filters map[string]string
	// Search is split into terms at commas and whitespace (NUL characters
	// are removed first). Every term must occur, case-insensitively, in at
	// least one of the collection's search fields; no terms means no
	// search. A term repeated (in any case) counts once. A search of more
	// than MaxSearchLength characters, or of more than MaxSearchTerms
	// distinct terms, is an error on "search".
	Search string
	// Ordering is a comma-separated list of fields, "-" for descending.
	// Unknown fields are ignored; "" means the collection's default. A
	// field named again (in either direction) is ignored too, as it can
	// no longer change the order, so however long the list, at most the
	// collection's orderable fields are compared. Ties are always broken
	// by pk, so lists are deterministic. Null values sort last (first
	// when descending), as in PostgreSQL.
	Ordering string
	// Page is 1-based; 0 means 1 and LastPage the last page. A page past
	// the last gives ErrInvalidPage.
	Page int
	// PageSize of 0 (or less) means DefaultPageSize; it is capped at the
	// store's maximum (Options.MaxPageSize).
	PageSize int
	// Multi holds the values of a filter that takes several, such as a
	// policy binding list's target_in or a user list's type (the filter
	// matches an object that has any of them), when it is given more than
	// once; one value may be in Filters instead. At most MaxFilterValues
	// count. QueryFromValues fills it for every key given more than once;
	// a filter that takes one value reads Filters only, so for it a key
	// given twice counts once, its last value.
	Multi map[string][]string
}

// MaxFilterValues bounds the values of a filter that takes several; more
// are an error on the filter. It bounds the keys of an attributes filter
// too, whose error is then "filter: at most 100 keys (it has N)".
const MaxFilterValues = 100

// QueryFromValues reads authentik's query parameters: page, page_size,
// ordering, search, and every other key as a filter. A page that is neither
// a positive integer nor "last" gives an error wrapping ErrInvalidPage; an
// invalid page_size falls back to the default, as in authentik. An
// ordering that names a field twice keeps only the first (see
// Query.Ordering); the caps on search and filters are checked by the list
// the Query is given to.
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
			q.Ordering = dedupOrdering(val)
		case "search":
			q.Search = val
		default:
			q.Filters[k] = val
			if len(vals) > 1 {
				if q.Multi == nil {
					q.Multi = map[string][]string{}
				}
				q.Multi[k] = vals
			}
		}
	}
	return q, nil
}

// dedupOrdering drops from an ordering every field named before (in
// either direction): the first occurrence alone decides the order. It
// leaves an ordering without repeats as it is.
func dedupOrdering(ordering string) string {
	terms := strings.Split(ordering, ",")
	seen := make(map[string]bool, min(len(terms), 64))
	kept := terms[:0]
	for _, t := range terms {
		name := strings.TrimPrefix(pyStrip(t), "-")
		if !seen[name] {
			seen[name] = true
			kept = append(kept, t)
		}
	}
	if len(kept) == strings.Count(ordering, ",")+1 {
		return ordering
	}
	return strings.Join(kept, ",")
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
	colString colKind = iota // CharFilter
	colChoice                // ChoiceFilter
	colUUID                  // UUIDFilter (and, here, foreign keys)
	colBool                  // BooleanFilter
	colInt                   // NumberFilter
	colTime                  // DateTimeFilter: the row holds UnixMicro, or nil
	// colJSON is a JSON object field that authentik's attributes filter
	// reads (see jsonFilter): the row holds the object's JSON text.
	colJSON
)

// column is one filterable, searchable or orderable field of a list.
type column struct {
	name string
	kind colKind
	// choices are a colChoice column's values; when nil, valid decides.
	choices []string
	valid   func(string) bool
	filter  bool
	search  bool
	order   bool
	// field is the stored field the column reads, when it is not the
	// column's name (flow_uuid reads pk); get computes a column that is
	// no stored field (a binding's stage__name).
	field string
	get   func(obj any) (any, error)
	// multi makes the column a filter that takes several values
	// (Query.Multi) and matches any of them, as django-filter's
	// ModelMultipleChoiceFilter does: it never orders or searches. On a
	// column whose row value is a list (see many), it matches a row whose
	// list holds any of them.
	multi bool
	// prefix makes a text filter match the values that start with the
	// filter's value (Django's startswith, case-sensitive), not only the
	// value itself.
	prefix bool
	// known, on a multi column, makes it django-filter's
	// ModelMultipleChoiceFilter: every value must name an object, or the
	// filter is refused with Django's invalid choice message. A value of
	// the wrong form (not a UUID, not an integer) is refused with its
	// invalid_pk_value message. known is given each value as the column
	// reads it, and reads the transaction (see listing.with).
	known func(v any) (bool, error)
}

// msgFilterPK is the invalid_pk_value message of Django's
// ModelMultipleChoiceField.
func msgFilterPK(v string) string { return "“" + v + "” is not a valid value." }

// startsWith is the filter value of a prefix column.
type startsWith string

// FilterError is a list query's error that concerns no one filter field:
// authentik answers it with 400 and a bare JSON list of the messages as
// the body, such as ["filter: failed to parse JSON"] for an attributes
// filter that is not JSON. It matches validate.ErrInvalid.
type FilterError struct {
	Messages []string
}

func (e *FilterError) Error() string {
	return "store: list filter: " + strings.Join(e.Messages, "; ")
}

// Is makes a FilterError match validate.ErrInvalid.
func (e *FilterError) Is(target error) bool { return target == validate.ErrInvalid }

// The messages of authentik's attributes filter.
const (
	MsgFilterJSON    = "filter: failed to parse JSON"
	MsgFilterMapping = "filter: value must be key:value mapping"
)

// oneOf is the filter value of a multi column: the row value must be one
// of them.
type oneOf []any

// row holds a list item's column values: string (UUIDs canonical), int64,
// bool, or nil for null.
type row map[string]any

type listing[T any] struct {
	cols         []column
	defaultOrder string
	// pkFixed makes pk only the final tie-break, not an ordering field a
	// query may name.
	pkFixed bool
}

type item[T any] struct {
	v   T
	row row
}

// noMatch is a filter value that no row value equals: a well-formed
// number outside every column's range.
type noMatch struct{}

// Messages of Django's form fields, as django-filter reports them.
const (
	msgFilterUUID   = "Enter a valid UUID."
	msgFilterNumber = "Enter a number."
	msgFilterNull   = "Null characters are not allowed."
	msgFilterTime   = "Enter a valid date/time."
)

// msgMaxLength is Django's MaxLengthValidator message.
func msgMaxLength(limit, has int) string {
	return fmt.Sprintf("Ensure this value has at most %d characters (it has %d).", limit, has)
}

// msgMaxValues is the message, in the same words, for too many values of
// one filter.
func msgMaxValues(limit, has int) string {
	return fmt.Sprintf("Ensure this value has at most %d values (it has %d).", limit, has)
}

// msgMaxTerms is the message, in the same words, for too many search terms.
func msgMaxTerms(limit, has int) string {
	return fmt.Sprintf("Ensure this value has at most %d search terms (it has %d).", limit, has)
}

func msgFilterChoice(v string) string {
	return "Select a valid choice. " + v + " is not one of the available choices."
}

// filterValue reads one non-empty filter value as the column's Django form
// field does. use is false for a value that django-filter ignores; msg is
// the error for an invalid one.
func (c column) filterValue(val string) (v any, use bool, msg string) {
	switch c.kind {
	case colChoice:
		ok := slices.Contains(c.choices, val)
		if c.choices == nil && c.valid != nil {
			ok = c.valid(val)
		}
		if !ok {
			return nil, false, msgFilterChoice(val)
		}
		return val, true, ""
	case colUUID:
		s := pyStrip(val)
		if s == "" {
			return nil, false, ""
		}
		id, ok := parsePyUUID(s)
		if !ok {
			return nil, false, msgFilterUUID
		}
		return id.String(), true, ""
	case colBool:
		switch val {
		case "true", "True", "1":
			return true, true, ""
		case "false", "False", "0":
			return false, true, ""
		}
		return nil, false, "" // NullBooleanField: anything else is no value
	case colTime:
		s := pyStrip(val)
		if s == "" {
			return nil, false, ""
		}
		t, ok := validate.ParseDateTime(s)
		if !ok {
			return nil, false, msgFilterTime
		}
		return t.UnixMicro(), true, ""
	case colJSON:
		s := pyStrip(val)
		if s == "" {
			return nil, false, ""
		}
		f, msg := parseJSONFilter(s)
		if msg != "" {
			return nil, false, msg
		}
		return f, true, ""
	case colInt:
		if n := utf8.RuneCountInString(val); n > MaxNumberLength {
			return nil, false, msgMaxLength(MaxNumberLength, n)
		}
		n, ok := parseDecimalInt(val)
		if !ok {
			return nil, false, msgFilterNumber
		}
		return n, true, ""
	}
	s := pyStrip(val)
	if s == "" {
		return nil, false, ""
	}
	if strings.ContainsRune(s, 0) {
		return nil, false, msgFilterNull
	}
	if c.prefix {
		return startsWith(s), true, ""
	}
	return s, true, ""
}

// filters turns q.Filters into column predicates. It also checks q.Search
// against its caps, so that every list, sorted or walked through an index,
// refuses a hostile search before it reads anything.
func (l listing[T]) filters(q Query) (map[string]any, error) {
	out := map[string]any{}
	errs := &validate.Error{}
	var bare []string
	for _, c := range l.cols {
		val, ok := q.Filters[c.name]
		if c.multi && c.filter {
			vals := q.Multi[c.name]
			if len(vals) == 0 && ok {
				vals = []string{val}
			}
			if len(vals) > MaxFilterValues {
				errs.Add(c.name, msgMaxValues(MaxFilterValues, len(vals)))
				continue
			}
			set, msg, err := c.multiValues(vals)
			if err != nil {
				return nil, err
			}
			if msg != "" {
				// Django reports the first bad value of a list only.
				errs.Add(c.name, msg)
				continue
			}
			if len(set) > 0 {
				out[c.name] = set
			}
			continue
		}
		if !ok || !c.filter || val == "" {
			continue // django-filter ignores empty values
		}
		v, use, msg := c.filterValue(val)
		if msg != "" && c.kind == colJSON {
			bare = append(bare, msg)
			continue
		}
		if msg != "" {
			errs.Add(c.name, msg)
			continue
		}
		if use {
			out[c.name] = v
		}
	}
	if _, msg := parseSearch(q.Search); msg != "" {
		errs.Add("search", msg)
	}
	if !errs.Empty() {
		return nil, errs
	}
	if len(bare) > 0 {
		// authentik's attributes filter raises its error while filtering,
		// after the form's fields all passed.
		return nil, &FilterError{Messages: bare}
	}
	return out, nil
}

// multiValues reads the values of a multi column, or returns the message
// for the first bad one: a malformed value, then (for a column that
// names objects, see column.known) one that names none.
func (c column) multiValues(vals []string) (oneOf, string, error) {
	var set oneOf
	var raw []string
	for _, v := range vals {
		fv, use, msg := c.filterValue(v)
		if c.known != nil && c.kind == colInt {
			// A pk is an integer, not any number.
			n, err := strconv.ParseInt(pyStrip(v), 10, 64)
			fv, use, msg = n, pyStrip(v) != "", ""
			if err != nil && use {
				msg = msgFilterPK(v)
			}
		}
		if msg != "" && c.known != nil {
			msg = msgFilterPK(v)
		}
		if msg != "" {
			return nil, msg, nil
		}
		if use {
			set, raw = append(set, fv), append(raw, v)
		}
	}
	if c.known != nil {
		for i, fv := range set {
			ok, err := c.known(fv)
			if err != nil {
				return nil, "", err
			}
			if !ok {
				return nil, msgFilterChoice(raw[i]), nil
			}
		}
	}
	return set, "", nil
}

// searchTerms splits a search as Django REST framework 3.14's SearchFilter
// does: NULs removed, commas made spaces, split on (Python's) whitespace.
// A term that repeats an earlier one case-insensitively is dropped: it
// cannot change which rows match. The caps are parseSearch's business.
func searchTerms(search string) []string {
	terms, _ := parseSearch(search)
	return terms
}

// parseSearch is searchTerms, with the message for a search beyond
// MaxSearchLength or MaxSearchTerms ("" when within both). Past a cap the
// terms are nil.
func parseSearch(search string) (terms []string, msg string) {
	if len(search) > MaxSearchLength { // bytes: a cheap first look
		if n := utf8.RuneCountInString(search); n > MaxSearchLength {
			return nil, msgMaxLength(MaxSearchLength, n)
		}
	}
	search = strings.ReplaceAll(search, "\x00", "")
	search = strings.ReplaceAll(search, ",", " ")
	seen := map[string]bool{}
	for _, t := range strings.FieldsFunc(search, pySpace) {
		if k := strings.ToUpper(t); !seen[k] {
			seen[k] = true
			terms = append(terms, t)
		}
	}
	if len(terms) > MaxSearchTerms {
		return nil, msgMaxTerms(MaxSearchTerms, len(terms))
	}
	return terms, ""
}

// searchText returns r's search columns (booleans as "true" and
// "false"), upper case, one after another
// with a newline before each: as no search term holds whitespace, a term
// occurs in the result exactly when it occurs in one of the columns.
func (l listing[T]) searchText(r row) string {
	var b strings.Builder
	for _, c := range l.cols {
		if !c.search {
			continue
		}
		v, ok := r[c.name].(string)
		if bv, isBool := r[c.name].(bool); isBool {
			// PostgreSQL's boolean as text, which Django's icontains
			// compares with: a search for "true" finds active users.
			v, ok = strconv.FormatBool(bv), true
		}
		if !ok {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(v) * 4)
		}
		b.WriteByte('\n')
		ascii := true
		for i := 0; i < len(v); i++ {
			if v[i] >= utf8.RuneSelf {
				ascii = false
				break
			}
		}
		if !ascii {
			b.WriteString(strings.ToUpper(v))
			continue
		}
		for i := 0; i < len(v); i++ {
			c := v[i]
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// match reports whether r passes every filter and holds every term (upper
// case) in one of the search columns: Django's icontains is
// UPPER(field) LIKE UPPER('%term%'). A row costs one upper-casing of its
// search columns and, per term, one pass over them.
func (l listing[T]) match(r row, filters map[string]any, terms []string) bool {
	for k, want := range filters {
		have := r[k]
		m, isMany := have.(many)
		switch w := want.(type) {
		case oneOf:
			if isMany && !slices.ContainsFunc(m, func(x any) bool { return slices.Contains(w, x) }) ||
				!isMany && !slices.Contains(w, have) {
				return false
			}
		case startsWith:
			if s, ok := have.(string); !ok || !strings.HasPrefix(s, string(w)) {
				return false
			}
		case jsonFilter:
			if !w.matches(have) {
				return false
			}
		default:
			if isMany && !slices.Contains(m, want) || !isMany && have != want {
				return false
			}
		}
	}
	if len(terms) == 0 {
		return true
	}
	text := l.searchText(r)
	for _, term := range terms {
		if !strings.Contains(text, term) {
			return false
		}
	}
	return true
}

// orderFields returns the ordering a page sorts by, before the final pk:
// q.Ordering's orderable fields, each field once (its first occurrence
// decides its direction), or else the default ordering.
func (l listing[T]) orderFields(q Query) []string {
	var order []string
	if q.Ordering != "" {
		for t := range strings.SplitSeq(q.Ordering, ",") {
			t = pyStrip(t)
			name := strings.TrimPrefix(t, "-")
			if !l.orderable(name) || slices.ContainsFunc(order, func(o string) bool { return strings.TrimPrefix(o, "-") == name }) {
				continue
			}
			order = append(order, t)
		}
	}
	if len(order) == 0 && l.defaultOrder != "" {
		order = strings.Split(l.defaultOrder, ",")
	}
	return order
}

// compareAny orders two values of one column; nil (null) comes after
// everything else, as PostgreSQL sorts NULLs last in ascending order.
func compareAny(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return cmp.Compare(x, y)
	case int64:
		y, _ := b.(int64)
		return cmp.Compare(x, y)
	case float64:
		y, _ := b.(float64)
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

// orderable reports whether a query may order by name.
func (l listing[T]) orderable(name string) bool {
	if name == "pk" {
		return !l.pkFixed
	}
	for _, c := range l.cols {
		if c.name == name && c.order {
			return true
		}
	}
	return false
}

// pySpace reports whether Python's str.isspace holds for r: Go's
// unicode.IsSpace plus the separators U+001C..U+001F.
func pySpace(r rune) bool { return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f }

// pyStrip is Python's str.strip().
func pyStrip(s string) string { return strings.TrimFunc(s, pySpace) }

// digitValue returns the value of a Unicode decimal digit (category Nd),
// or -1. Nd digits come in contiguous runs of ten that start at zero.
func digitValue(r rune) int {
	if r >= '0' && r <= '9' {
		return int(r - '0')
	}
	if r < 0x80 || !unicode.Is(unicode.Nd, r) {
		return -1
	}
	z := r
	for z > 0 && unicode.Is(unicode.Nd, z-1) {
		z--
	}
	return int(r-z) % 10
}

// parsePyUUID reads s (already stripped) as Python's uuid.UUID(s) does:
// "urn:" and "uuid:" removed, braces stripped from the ends, hyphens
// removed; what is left must be 32 characters that int(x, 16) reads.
func parsePyUUID(s string) (uuid.UUID, bool) {
	s = strings.ReplaceAll(s, "urn:", "")
	s = strings.ReplaceAll(s, "uuid:", "")
	s = strings.ReplaceAll(strings.Trim(s, "{}"), "-", "")
	if utf8.RuneCountInString(s) != 32 {
		return uuid.UUID{}, false
	}
	// int(s, 16): Unicode digits and whitespace become ASCII first.
	b := make([]byte, 0, 32)
	for _, r := range s {
		switch {
		case r < 0x7f:
			b = append(b, byte(r))
		case pySpace(r):
			b = append(b, ' ')
		case digitValue(r) >= 0:
			b = append(b, byte('0'+digitValue(r)))
		default:
			return uuid.UUID{}, false
		}
	}
	t := strings.Trim(string(b), " \t\n\v\f\r")
	if t != "" && t[0] == '+' { // a "-" sign was removed with the hyphens
		t = t[1:]
	}
	underscoreOK := false // an underscore may follow a digit or the 0x prefix
	if len(t) >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		t = t[2:]
		underscoreOK = true
	}
	hex := make([]byte, 0, 32)
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '_' && underscoreOK && i+1 < len(t) && t[i+1] != '_':
			underscoreOK = false
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
			hex = append(hex, c)
			underscoreOK = true
		default:
			return uuid.UUID{}, false
		}
	}
	if len(hex) == 0 {
		return uuid.UUID{}, false
	}
	padded := strings.Repeat("0", 32-len(hex)) + string(hex)
	id, err := uuid.Parse(padded)
	return id, err == nil
}

// parseDecimalInt reads val as Django's DecimalField (Python's Decimal:
// whitespace around it and underscores anywhere ignored, Unicode digits
// allowed; only finite values) and returns the integer an IntegerField
// lookup compares with: the value truncated toward zero. A value too large
// for int64 is noMatch.
func parseDecimalInt(val string) (any, bool) {
	var b strings.Builder
	for _, r := range pyStrip(val) {
		switch {
		case r == '_':
		case r > 0 && r < 0x80:
			b.WriteRune(r)
		default:
			d := digitValue(r)
			if d < 0 {
				return nil, false
			}
			b.WriteByte(byte('0' + d))
		}
	}
	s := b.String()
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	mant, exp, hasExp := strings.Cut(s, "e")
	if !hasExp {
		mant, exp, hasExp = strings.Cut(s, "E")
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart+frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return nil, false
	}
	e := int64(0)
	if hasExp {
		es := exp
		if es != "" && (es[0] == '+' || es[0] == '-') {
			es = es[1:]
		}
		if es == "" || !allDigits(es) {
			return nil, false
		}
		if es = strings.TrimLeft(es, "0"); len(es) > 18 {
			es = "999999999999999999" // beyond any value's digits either way
		}
		e, _ = strconv.ParseInt(es, 10, 64)
		if exp[0] == '-' {
			e = -e
		}
	}
	// value = digits × 10^(e - len(frac)); keep the integer part.
	digits := intPart + frac
	shift := e - int64(len(frac))
	var whole string
	switch {
	case shift >= 0:
		if strings.Trim(digits, "0") == "" {
			return int64(0), true
		}
		if shift > 19 {
			return noMatch{}, true
		}
		whole = digits + strings.Repeat("0", int(shift))
	case -shift >= int64(len(digits)):
		return int64(0), true
	default:
		whole = digits[:int64(len(digits))+shift]
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		return int64(0), true
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return noMatch{}, true
	}
	if neg {
		n = -n
	}
	return n, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// jsonFilter is the filter value of a colJSON column, authentik's
// attributes filter: a JSON object whose every key is a lookup into the
// row's object, "__" separating the keys of nested objects
// ({"settings__locale": "de"} looks up settings, then locale in it) and
// a decimal key indexing an array. A row matches when every lookup finds
// a value equal, as JSON, to the key's value (numbers compare by value, a
// JSON null matches null, a missing key matches nothing). A key's last
// segment "exact" is Django's default lookup and is dropped; other
// Django lookups (icontains, isnull, ...) are not read as lookups, they
// are keys.
type jsonFilter []jsonLookup

// jsonLookup is one key of a jsonFilter.
type jsonLookup struct {
	path []string
	want any
}

// parseJSONFilter reads an attributes filter's value, or returns
// authentik's message for one that is not JSON or not an object.
func parseJSONFilter(s string) (jsonFilter, string) {
	v, ok := decodeJSONNumbers([]byte(s))
	if !ok {
		return nil, MsgFilterJSON
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, MsgFilterMapping
	}
	if len(obj) > MaxFilterValues {
		// Each key is a lookup into every row: bounded, as the values
		// of a filter that takes several are (authentik has no bound).
		return nil, fmt.Sprintf("filter: at most %d keys (it has %d)", MaxFilterValues, len(obj))
	}
	out := make(jsonFilter, 0, len(obj))
	for k, want := range obj {
		path := strings.Split(k, "__")
		if len(path) > 1 && path[len(path)-1] == "exact" {
			path = path[:len(path)-1]
		}
		out = append(out, jsonLookup{path: path, want: want})
	}
	return out, ""
}

// matches reports whether a row's value (an object's JSON text, or nil)
// passes every lookup of f.
func (f jsonFilter) matches(have any) bool {
	if len(f) == 0 {
		return true
	}
	text, ok := have.(string)
	if !ok {
		return false
	}
	obj, ok := decodeJSONNumbers([]byte(text))
	if !ok {
		return false
	}
	for _, l := range f {
		cur, found := obj, true
		for _, key := range l.path {
			switch x := cur.(type) {
			case map[string]any:
				cur, found = x[key]
			case []any:
				i, err := strconv.Atoi(key)
				found = err == nil && allDigits(key) && i < len(x)
				if found {
					cur = x[i]
				}
			default:
				found = false
			}
			if !found {
				break
			}
		}
		if !found || !jsonEqual(cur, l.want) {
			return false
		}
	}
	return true
}

// decodeJSONNumbers decodes one JSON value, numbers as json.Number (their
// text), so that they compare exactly (see jsonEqual); ok is false for
// text that is not one JSON value.
func decodeJSONNumbers(b []byte) (v any, ok bool) {
	if !json.Valid(b) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return v, dec.Decode(&v) == nil
}

// jsonEqual reports whether two values decoded by decodeJSONNumbers are
// equal as PostgreSQL's jsonb compares them: objects key by key, arrays
// item by item, numbers by their exact decimal value (1 and 1.0 are
// equal; 2^53 and 2^53+1 are not, though a float64 cannot tell them
// apart), anything else by value.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		return ok && decimalOf(x) == decimalOf(y)
	}
	return a == b
}

// decimal is a JSON number's exact value: its significant digits
// (without leading or trailing zeros; none for zero), its sign, and the
// power of ten of the last digit. The exponent is kept as text past
// int64, where no two different numbers meet.
type decimal struct {
	neg    bool
	digits string
	exp    string
}

// decimalOf reads a JSON number's text (which encoding/json has checked)
// as a decimal, in time linear in its length whatever its exponent.
func decimalOf(n json.Number) decimal {
	s := string(n)
	var d decimal
	if strings.HasPrefix(s, "-") {
		d.neg, s = true, s[1:]
	}
	mant, expText, _ := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	trimmed := strings.TrimRight(digits, "0")
	if trimmed == "" {
		return decimal{} // zero, of any sign
	}
	shift := int64(len(digits)-len(trimmed)) - int64(len(frac))
	d.digits = trimmed
	exp, err := strconv.ParseInt(strings.TrimPrefix(expText, "+"), 10, 64)
	switch {
	case expText == "":
		d.exp = strconv.FormatInt(shift, 10)
	case err != nil || exp > math.MaxInt64/2 || exp < math.MinInt64/2:
		d.exp = "huge:" + expText + "+" + strconv.FormatInt(shift, 10)
	default:
		d.exp = strconv.FormatInt(exp+shift, 10)
	}
	return d
}
