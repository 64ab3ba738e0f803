package expression

import (
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/plan"
	"github.com/google/uuid"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// unknownClientIP is ak_client_ip when the host could not tell the
// client's address: authentik's ClientIPMiddleware.default_ip.
var unknownClientIP = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// clientIPValue is ak_client_ip: ip_address of the request's client
// address, 255.255.255.255 when it is unknown (the zero Addr).
func clientIPValue(r *plan.HTTPRequest) starlark.Value {
	a := r.ClientIP
	if !a.IsValid() {
		a = unknownClientIP
	}
	return ipAddr{a.WithZone("")}
}

// httpParams are the values of the handler parameters ak_client_ip and
// http_request, and request.http_request: without an HTTP request the
// parameters are names authentik does not define (every use fails as
// its NameError does) and request.http_request is None.
func httpParams(r *plan.HTTPRequest) (clientIP, httpReq, reqField starlark.Value) {
	if r == nil {
		return undefinedName("ak_client_ip"), undefinedName("http_request"), starlark.None
	}
	hr := &httpRequest{r: r}
	return clientIPValue(r), hr, hr
}

// httpRequest is Django's HttpRequest as expressions read it:
// method, path, GET (a QueryDict), headers (case-insensitive), META
// (HTTP_* and the CGI names authflow knows), tenant and brand.
type httpRequest struct {
	r *plan.HTTPRequest
	// built on first use
	get     *queryDict
	headers *headerMap
	meta    *starlark.Dict
}

var _ starlark.HasAttrs = (*httpRequest)(nil)

func (h *httpRequest) String() string {
	return fmt.Sprintf("<HttpRequest: %s %s>", h.r.Method, pyQuote(h.r.Path))
}
func (h *httpRequest) Type() string          { return "HttpRequest" }
func (h *httpRequest) Freeze()               {}
func (h *httpRequest) Truth() starlark.Bool  { return true }
func (h *httpRequest) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: HttpRequest") }

// httpRequestAttrs are the attributes of an HttpRequest.
var httpRequestAttrs = []string{"GET", "META", "brand", "headers", "method", "path", "path_info", "tenant", "user"}

func (h *httpRequest) AttrNames() []string { return httpRequestAttrs }

func (h *httpRequest) Attr(name string) (starlark.Value, error) {
	switch name {
	case "method":
		return starlark.String(h.r.Method), nil
	case "path", "path_info":
		return starlark.String(h.r.Path), nil
	case "GET":
		if h.get == nil {
			h.get = newQueryDict(h.r.Query, false)
		}
		return h.get, nil
	case "headers":
		if h.headers == nil {
			h.headers = newHeaderMap(h.r.Header)
		}
		return h.headers, nil
	case "META":
		if h.meta == nil {
			h.meta = h.metaDict()
		}
		return h.meta, nil
	case "tenant":
		t := plan.DefaultTenant()
		if h.r.Tenant != nil {
			t = *h.r.Tenant
		}
		return starlarkstruct.FromStringDict(starlark.String("Tenant"), starlark.StringDict{
			"default_user_change_name":     starlark.Bool(t.DefaultUserChangeName),
			"default_user_change_email":    starlark.Bool(t.DefaultUserChangeEmail),
			"default_user_change_username": starlark.Bool(t.DefaultUserChangeUsername),
		}), nil
	case "brand":
		attrs, err := toValue(orEmpty(h.r.BrandAttributes), 0)
		if err != nil {
			return nil, err
		}
		return starlarkstruct.FromStringDict(starlark.String("Brand"), starlark.StringDict{"attributes": attrs}), nil
	case "user":
		return nil, fmt.Errorf("http_request.user is %w: use request.user", ErrNotYet)
	}
	return nil, nil
}

// metaDict is META: HTTP_<NAME> for each header (CONTENT_TYPE and
// CONTENT_LENGTH without the prefix, as in WSGI), values of one name
// joined with ",", as Django's ASGI handler does; REQUEST_METHOD,
// PATH_INFO, QUERY_STRING (re-encoded, keys sorted: the original order
// is not known) and REMOTE_ADDR, the client address as the host
// determined it (authentik's is the socket peer, a proxy's when there
// is one).
func (h *httpRequest) metaDict() *starlark.Dict {
	d := starlark.NewDict(len(h.r.Header) + 4)
	hm := newHeaderMap(h.r.Header)
	for _, k := range hm.names {
		name := strings.ToUpper(strings.ReplaceAll(k, "-", "_"))
		if name != "CONTENT_TYPE" && name != "CONTENT_LENGTH" {
			name = "HTTP_" + name
		}
		_ = d.SetKey(starlark.String(name), starlark.String(hm.vals[strings.ToLower(k)]))
	}
	_ = d.SetKey(starlark.String("REQUEST_METHOD"), starlark.String(h.r.Method))
	_ = d.SetKey(starlark.String("PATH_INFO"), starlark.String(h.r.Path))
	_ = d.SetKey(starlark.String("QUERY_STRING"), starlark.String(h.r.Query.Encode()))
	if h.r.ClientIP.IsValid() {
		_ = d.SetKey(starlark.String("REMOTE_ADDR"), starlark.String(h.r.ClientIP.WithZone("").String()))
	}
	d.Freeze()
	return d
}

// headerMap is Django's HttpHeaders: a case-insensitive mapping of
// header names (canonical form, "X-Forwarded-For") to their values,
// several values of one name joined with ",".
type headerMap struct {
	names []string          // canonical, sorted
	vals  map[string]string // by lower-case name
}

var (
	_ starlark.Mapping  = (*headerMap)(nil)
	_ starlark.HasAttrs = (*headerMap)(nil)
	_ starlark.Sequence = (*headerMap)(nil)
)

// newHeaderMap reads h, whose keys need not be canonical: keys that
// differ only in case are one header, their values joined in the
// order of the keys.
func newHeaderMap(h http.Header) *headerMap {
	m := &headerMap{vals: make(map[string]string, len(h))}
	keys := slices.Sorted(maps.Keys(h))
	for _, k := range keys {
		c, low := http.CanonicalHeaderKey(k), strings.ToLower(k)
		v := strings.Join(h[k], ",")
		if old, dup := m.vals[low]; dup {
			m.vals[low] = old + "," + v
			continue
		}
		m.names = append(m.names, c)
		m.vals[low] = v
	}
	slices.Sort(m.names)
	return m
}

func (m *headerMap) String() string {
	parts := make([]string, len(m.names))
	for i, n := range m.names {
		parts[i] = pyQuote(n) + ": " + pyQuote(m.vals[strings.ToLower(n)])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
func (m *headerMap) Type() string          { return "HttpHeaders" }
func (m *headerMap) Freeze()               {}
func (m *headerMap) Truth() starlark.Bool  { return len(m.names) > 0 }
func (m *headerMap) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: HttpHeaders") }
func (m *headerMap) Len() int              { return len(m.names) }
func (m *headerMap) Iterate() starlark.Iterator {
	return strs(m.names).Iterate()
}

func (m *headerMap) lookup(k starlark.Value) (string, bool) {
	s, ok := starlark.AsString(k)
	if !ok {
		return "", false
	}
	v, ok := m.vals[strings.ToLower(s)]
	return v, ok
}

// Get is headers[name], case-insensitive; a missing name fails as
// Python's KeyError, whose text is the lower-cased name quoted.
func (m *headerMap) Get(k starlark.Value) (starlark.Value, bool, error) {
	if v, ok := m.lookup(k); ok {
		return starlark.String(v), true, nil
	}
	if s, ok := starlark.AsString(k); ok {
		return nil, false, fmt.Errorf("%s", pyQuote(strings.ToLower(s)))
	}
	return nil, false, fmt.Errorf("%s", pyRepr(k))
}

func (m *headerMap) AttrNames() []string { return []string{"get", "items", "keys", "values"} }

func (m *headerMap) Attr(name string) (starlark.Value, error) {
	switch name {
	case "get":
		return starlark.NewBuiltin("get", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var k, def starlark.Value = nil, starlark.None
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &k, &def); err != nil {
				return nil, err
			}
			if v, ok := m.lookup(k); ok {
				return starlark.String(v), nil
			}
			return def, nil
		}), nil
	case "keys":
		return method("keys", func() starlark.Value { return starlark.NewList(strs(m.names).values()) }), nil
	case "values":
		return method("values", func() starlark.Value {
			out := make([]starlark.Value, len(m.names))
			for i, n := range m.names {
				out[i] = starlark.String(m.vals[strings.ToLower(n)])
			}
			return starlark.NewList(out)
		}), nil
	case "items":
		return method("items", func() starlark.Value {
			out := make([]starlark.Value, len(m.names))
			for i, n := range m.names {
				out[i] = starlark.Tuple{starlark.String(n), starlark.String(m.vals[strings.ToLower(n)])}
			}
			return starlark.NewList(out)
		}), nil
	}
	return nil, nil
}

// method is a method without arguments.
func method(name string, f func() starlark.Value) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 0); err != nil {
			return nil, err
		}
		return f(), nil
	})
}

// strs are strings as Starlark values.
type strs []string

func (s strs) values() []starlark.Value {
	out := make([]starlark.Value, len(s))
	for i, x := range s {
		out[i] = starlark.String(x)
	}
	return out
}

func (s strs) Iterate() starlark.Iterator { return starlark.Tuple(s.values()).Iterate() }

// queryDict is Django's QueryDict: keys in first-seen order, each with
// its list of values; [k], get and dict give the last value.
type queryDict struct {
	keys    []string
	vals    map[string][]string
	mutable bool
	frozen  bool
}

var (
	_ starlark.Mapping   = (*queryDict)(nil)
	_ starlark.HasAttrs  = (*queryDict)(nil)
	_ starlark.Sequence  = (*queryDict)(nil)
	_ starlark.HasSetKey = (*queryDict)(nil)

	_ starlark.IterableMapping = (*queryDict)(nil)
)

// newQueryDict is a QueryDict of v, whose keys (v has no order) are
// sorted.
func newQueryDict(v url.Values, mutable bool) *queryDict {
	q := &queryDict{vals: make(map[string][]string, len(v)), mutable: mutable}
	for k, vs := range v {
		q.keys = append(q.keys, k)
		q.vals[k] = slices.Clone(vs)
	}
	slices.Sort(q.keys)
	return q
}

func (q *queryDict) appendList(k, v string) {
	if _, ok := q.vals[k]; !ok {
		q.keys = append(q.keys, k)
	}
	q.vals[k] = append(q.vals[k], v)
}

func (q *queryDict) String() string {
	parts := make([]string, len(q.keys))
	for i, k := range q.keys {
		parts[i] = pyQuote(k) + ": [" + strings.Join(quoteAll(q.vals[k]), ", ") + "]"
	}
	return "<QueryDict: {" + strings.Join(parts, ", ") + "}>"
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = pyQuote(s)
	}
	return out
}

func (q *queryDict) Type() string          { return "QueryDict" }
func (q *queryDict) Freeze()               { q.frozen = true }
func (q *queryDict) Truth() starlark.Bool  { return len(q.keys) > 0 }
func (q *queryDict) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: QueryDict") }
func (q *queryDict) Len() int              { return len(q.keys) }
func (q *queryDict) Iterate() starlark.Iterator {
	return strs(q.keys).Iterate()
}

// Items is (key, list of values) for each key: dict(q), which in
// Python copies a QueryDict's lists.
func (q *queryDict) Items() []starlark.Tuple {
	out := make([]starlark.Tuple, len(q.keys))
	for i, k := range q.keys {
		out[i] = starlark.Tuple{starlark.String(k), starlark.NewList(strs(q.vals[k]).values())}
	}
	return out
}

// items is (key, last value) for each key.
func (q *queryDict) items() []starlark.Tuple {
	out := make([]starlark.Tuple, len(q.keys))
	for i, k := range q.keys {
		out[i] = starlark.Tuple{starlark.String(k), q.last(k)}
	}
	return out
}

// last is MultiValueDict's q[k] once k is known: the last value, or []
// for an empty list.
func (q *queryDict) last(k string) starlark.Value {
	vs := q.vals[k]
	if len(vs) == 0 {
		return starlark.NewList(nil)
	}
	return starlark.String(vs[len(vs)-1])
}

// Get is q[k]: the last value; a missing key fails as Django's
// MultiValueDictKeyError, whose text is the key quoted.
func (q *queryDict) Get(k starlark.Value) (starlark.Value, bool, error) {
	if s, ok := starlark.AsString(k); ok {
		if _, ok := q.vals[s]; ok {
			return q.last(s), true, nil
		}
	}
	return nil, false, fmt.Errorf("%s", pyRepr(k))
}

// SetKey is q[k] = v on a mutable QueryDict: v becomes the key's only
// value.
func (q *queryDict) SetKey(k, v starlark.Value) error {
	if !q.mutable {
		return fmt.Errorf("This QueryDict instance is immutable")
	}
	if q.frozen {
		return fmt.Errorf("cannot insert into frozen QueryDict")
	}
	ks, ok1 := starlark.AsString(k)
	vs, ok2 := starlark.AsString(v)
	if !ok1 || !ok2 {
		return fmt.Errorf("QueryDict keys and values are strings in authflow, not %s and %s", k.Type(), v.Type())
	}
	if _, ok := q.vals[ks]; !ok {
		q.keys = append(q.keys, ks)
	}
	q.vals[ks] = []string{vs}
	return nil
}

func (q *queryDict) AttrNames() []string {
	return []string{"dict", "get", "getlist", "items", "keys", "lists", "urlencode", "values"}
}

func (q *queryDict) Attr(name string) (starlark.Value, error) {
	switch name {
	case "get":
		return starlark.NewBuiltin("get", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var k, def starlark.Value = nil, starlark.None
			if err := starlark.UnpackArgs(b.Name(), args, kw, "key", &k, "default?", &def); err != nil {
				return nil, err
			}
			s, ok := starlark.AsString(k)
			if !ok {
				return def, nil
			}
			if vs, ok := q.vals[s]; ok && len(vs) > 0 {
				return starlark.String(vs[len(vs)-1]), nil
			}
			return def, nil
		}), nil
	case "getlist":
		return starlark.NewBuiltin("getlist", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var k, def starlark.Value = nil, starlark.None
			if err := starlark.UnpackArgs(b.Name(), args, kw, "key", &k, "default?", &def); err != nil {
				return nil, err
			}
			if s, ok := starlark.AsString(k); ok {
				if vs, ok := q.vals[s]; ok {
					return starlark.NewList(strs(vs).values()), nil
				}
			}
			if def == starlark.None {
				return starlark.NewList(nil), nil
			}
			return def, nil
		}), nil
	case "dict":
		return method("dict", func() starlark.Value {
			d := starlark.NewDict(len(q.keys))
			for _, kv := range q.items() {
				_ = d.SetKey(kv[0], kv[1])
			}
			return d
		}), nil
	case "keys":
		return method("keys", func() starlark.Value { return starlark.NewList(strs(q.keys).values()) }), nil
	case "values":
		return method("values", func() starlark.Value {
			out := make([]starlark.Value, len(q.keys))
			for i, k := range q.keys {
				out[i] = q.last(k)
			}
			return starlark.NewList(out)
		}), nil
	case "items":
		return method("items", func() starlark.Value {
			out := make([]starlark.Value, len(q.keys))
			for i, kv := range q.items() {
				out[i] = kv
			}
			return starlark.NewList(out)
		}), nil
	case "lists":
		return method("lists", func() starlark.Value {
			out := make([]starlark.Value, len(q.keys))
			for i, k := range q.keys {
				out[i] = starlark.Tuple{starlark.String(k), starlark.NewList(strs(q.vals[k]).values())}
			}
			return starlark.NewList(out)
		}), nil
	case "urlencode":
		return method("urlencode", func() starlark.Value {
			var parts []string
			for _, k := range q.keys {
				for _, v := range q.vals[k] {
					parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
				}
			}
			return starlark.String(strings.Join(parts, "&"))
		}), nil
	}
	return nil, nil
}

// maxQueryFields is Django's DATA_UPLOAD_MAX_NUMBER_FIELDS default.
const maxQueryFields = 1000

// errTooManyFields is Django's TooManyFieldsSent text.
const errTooManyFields = "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."

// newQueryDictBuiltin is django.http.QueryDict(query_string=None,
// mutable=False, encoding=None): query_string parsed as Python's
// parse_qsl(keep_blank_values=True) parses it (fields split on "&",
// empty ones skipped, a field without "=" a key with the value "", "+"
// a space, %XX decoded and invalid UTF-8 replaced by U+FFFD), at most
// 1000 fields as Django's default allows.
var newQueryDictBuiltin = starlark.NewBuiltin("QueryDict", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var qs, enc starlark.Value = starlark.None, starlark.None
	mutable := false
	if err := starlark.UnpackArgs(b.Name(), args, kw, "query_string?", &qs, "mutable?", &mutable, "encoding?", &enc); err != nil {
		return nil, err
	}
	if enc != starlark.None {
		if s, ok := starlark.AsString(enc); !ok || !strings.EqualFold(strings.ReplaceAll(s, "-", ""), "utf8") {
			return nil, fmt.Errorf("QueryDict: authflow decodes UTF-8 only, not %s", enc)
		}
	}
	var s string
	switch v := qs.(type) {
	case starlark.NoneType:
	case starlark.String:
		s = string(v)
	case starlark.Bytes:
		s = string(v)
	default:
		return nil, fmt.Errorf("QueryDict: query_string must be a str, not %s", qs.Type())
	}
	if err := charge(th, len(s)); err != nil {
		return nil, err
	}
	q := &queryDict{vals: map[string][]string{}, mutable: true}
	if s != "" && strings.Count(s, "&")+1 > maxQueryFields {
		return nil, fmt.Errorf("%s", errTooManyFields)
	}
	for _, field := range strings.Split(s, "&") {
		if field == "" {
			continue
		}
		k, v, _ := strings.Cut(field, "=")
		q.appendList(unquotePlus(k), unquotePlus(v))
	}
	q.mutable = mutable
	return q, nil
})

// unquotePlus is Python's unquote(s.replace("+", " ")) with
// errors="replace": a malformed %-escape is kept as it is.
func unquotePlus(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// brandOf is the brand's attributes of the argument of
// user.group_attributes(request): an HttpRequest's brand (an empty one
// when the request has none), nothing for None or any other value, as
// authentik merges request.brand only when the request has one.
func brandOf(v starlark.Value) (map[string]any, bool) {
	if h, ok := v.(*httpRequest); ok {
		return orEmpty(h.r.BrandAttributes), true
	}
	return nil, false
}

// underBrand is group attributes (the groups' and the user's, merged)
// with the brand's merged under them, through the directory's merge
// (deepmerge's always_merger). authentik merges the brand first and
// then each group and the user in turn; merging the brand under the
// result instead gives the same but for a key whose value changes type
// from one group to the next and back (a list, then a string, then a
// list): authentik's result then drops the brand's items, this one
// keeps them.
func underBrand(brand, gattrs map[string]any) (map[string]any, error) {
	none := func(uuid.UUID) (directory.Group, bool) { return directory.Group{}, false }
	return directory.User{Attributes: gattrs}.GroupAttributes(none, brand)
}
