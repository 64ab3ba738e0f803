package blueprint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// lookups is what tag resolution asks of the import: the objects made by
// earlier entries, the store, the context, the environment, files.
type lookups interface {
	keyOf(id string) (any, error)
	find(model string, conds map[string]any) (any, error)
	findObject(model string, conds map[string]any) (any, error)
	context(key string) (any, bool)
	env(name string) (string, bool, error)
	file(path string) (string, bool, error)
	rewrite(v string) string
}

// loop is one !Enumerate iteration: what !Index and !Value read.
type loop struct {
	index, value any
}

// resolver turns YAML nodes into plain values: map[string]any, []any,
// string, int64, float64, bool and nil, with the tags resolved.
type resolver struct {
	look   lookups
	budget *int // nodes left to expand
	depth  int
	max    int
	loops  []loop
}

func (r *resolver) errf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("line %d: %s", n.Line, fmt.Sprintf(format, args...))
}

func (r *resolver) value(n *yaml.Node) (any, error) {
	if err := r.spend(1); err != nil {
		return nil, err
	}
	if r.depth > r.max {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrLimit, r.max)
	}
	r.depth++
	defer func() { r.depth-- }()
	if n.Kind == yaml.AliasNode {
		return r.value(n.Alias)
	}
	if isTag(n) {
		return r.tag(n)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return r.scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := r.value(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := r.value(n.Content[i])
			if err != nil {
				return nil, err
			}
			v, err := r.value(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[str(k)] = v
		}
		return out, nil
	}
	return nil, r.errf(n, "unsupported YAML node")
}

func (r *resolver) scalar(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, r.badScalar(n)
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, r.badScalar(n)
		}
		return i, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, r.badScalar(n)
		}
		return f, nil
	}
	return r.look.rewrite(n.Value), nil
}

// badScalar is the error of a scalar its YAML type tag does not fit
// (!!int hunter2), without the decoder's message, which quotes the
// value: it may be a user entry's password.
func (r *resolver) badScalar(n *yaml.Node) error {
	return r.errf(n, "the %s scalar is not one", n.Tag)
}

// args resolves a tag's arguments: a sequence's items, or a lone scalar.
func (r *resolver) args(n *yaml.Node) ([]any, error) {
	if n.Kind == yaml.SequenceNode {
		v, err := r.value(&yaml.Node{Kind: yaml.SequenceNode, Content: n.Content, Line: n.Line})
		if err != nil {
			return nil, err
		}
		return v.([]any), nil
	}
	v, err := r.value(&yaml.Node{Kind: n.Kind, Tag: "!!str", Value: n.Value, Line: n.Line, Content: n.Content})
	if err != nil {
		return nil, err
	}
	return []any{v}, nil
}

// keyDefault reads a tag's "key" or "[key, default]".
func keyDefault(args []any) (key string, def any, hasDef bool) {
	key = str(args[0])
	if len(args) > 1 {
		return key, args[1], true
	}
	return key, nil, false
}

func (r *resolver) tag(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!Enumerate":
		return r.enumerate(n)
	case "!If":
		return r.ifTag(n)
	}
	args, err := r.args(n)
	if err != nil {
		return nil, err
	}
	if len(args) == 0 {
		return nil, r.errf(n, "%s needs arguments", n.Tag)
	}
	switch n.Tag {
	case "!KeyOf":
		return r.look.keyOf(str(args[0]))
	case "!Find", "!FindObject":
		model := str(args[0])
		conds := map[string]any{}
		for _, a := range args[1:] {
			pair, ok := a.([]any)
			if !ok || len(pair) != 2 {
				return nil, r.errf(n, "%s conditions are [field, value] pairs", n.Tag)
			}
			conds[str(pair[0])] = pair[1]
		}
		if n.Tag == "!Find" {
			return r.look.find(model, conds)
		}
		return r.look.findObject(model, conds)
	case "!Context":
		key, def, _ := keyDefault(args)
		v, ok := r.look.context(key)
		if !ok {
			return def, nil
		}
		if s, ok := v.(*ctxSlot); ok {
			return r.slot(n, key, s)
		}
		return v, nil
	case "!Env":
		key, def, _ := keyDefault(args)
		v, ok, err := r.look.env(key)
		if err != nil {
			return nil, r.errf(n, "%v", err)
		}
		if !ok || v == "" {
			return def, nil
		}
		return v, nil
	case "!File":
		key, def, _ := keyDefault(args)
		v, ok, err := r.look.file(key)
		if err != nil {
			return nil, r.errf(n, "%v", err)
		}
		if !ok {
			return def, nil
		}
		return v, nil
	case "!Format":
		s, err := pyFormat(str(args[0]), args[1:])
		if err != nil {
			return nil, r.errf(n, "!Format: %v", err)
		}
		return s, nil
	case "!Condition":
		return condition(str(args[0]), args[1:])
	case "!AtIndex":
		if len(args) < 2 {
			return nil, r.errf(n, "!AtIndex needs an object and a key")
		}
		v, ok := atIndex(args[0], args[1])
		if !ok {
			if len(args) > 2 {
				return args[2], nil
			}
			if i, ok := args[1].(int64); ok {
				return nil, r.errf(n, "!AtIndex: the %s has no %d", pyType(args[0]), i)
			}
			return nil, r.errf(n, "!AtIndex: the %s has no such key", pyType(args[0]))
		}
		return v, nil
	case "!ParseJSON":
		var v any
		if err := json.Unmarshal([]byte(str(args[0])), &v); err != nil {
			// Go's message quotes the offending character, and the text
			// may be a secret (a password in a user entry): say where,
			// not what.
			return nil, r.errf(n, "!ParseJSON: not JSON (%s)", jsonErrorPlace(err))
		}
		return normalize(v), nil
	case "!Index", "!Value":
		depth := 0
		if d, ok := args[0].(int64); ok {
			depth = int(d)
		} else if s, ok := args[0].(string); ok && s != "" {
			d, err := strconv.Atoi(s)
			if err != nil {
				return nil, r.errf(n, "%s takes a depth", n.Tag)
			}
			depth = d
		}
		if depth < 0 || depth >= len(r.loops) {
			return nil, r.errf(n, "%s %d is outside any !Enumerate", n.Tag, depth)
		}
		l := r.loops[len(r.loops)-1-depth]
		if n.Tag == "!Index" {
			return l.index, nil
		}
		return l.value, nil
	}
	return nil, r.errf(n, "unknown tag %s", n.Tag)
}

// ifTag: [cond, a, b] gives a or b; [cond] gives true or false. Only the
// branch taken is resolved.
func (r *resolver) ifTag(n *yaml.Node) (any, error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 || len(n.Content) == 2 || len(n.Content) > 3 {
		return nil, r.errf(n, "!If takes [condition] or [condition, when true, when false]")
	}
	c, err := r.value(n.Content[0])
	if err != nil {
		return nil, err
	}
	if len(n.Content) == 1 {
		return truthy(c), nil
	}
	if truthy(c) {
		return r.value(n.Content[1])
	}
	return r.value(n.Content[2])
}

// enumerate: [iterable, SEQ|MAP, body], the body resolved once per item
// with !Index and !Value reading it.
func (r *resolver) enumerate(n *yaml.Node) (any, error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) != 3 {
		return nil, r.errf(n, "!Enumerate takes [iterable, SEQ or MAP, body]")
	}
	it, err := r.value(n.Content[0])
	if err != nil {
		return nil, err
	}
	mode := n.Content[1].Value
	if mode != "SEQ" && mode != "MAP" {
		return nil, r.errf(n, "!Enumerate mode must be SEQ or MAP, not %q", mode)
	}
	var items []loop
	switch x := it.(type) {
	case []any:
		for i, v := range x {
			items = append(items, loop{int64(i), v})
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			items = append(items, loop{k, x[k]})
		}
	case nil:
	default:
		return nil, r.errf(n, "!Enumerate needs a list or a mapping, not %s", pyType(it))
	}
	seq, mp := []any{}, map[string]any{}
	for _, l := range items {
		r.loops = append(r.loops, l)
		v, err := r.value(n.Content[2])
		r.loops = r.loops[:len(r.loops)-1]
		if err != nil {
			return nil, err
		}
		if mode == "SEQ" {
			seq = append(seq, v)
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, r.errf(n, "!Enumerate MAP needs a mapping body")
		}
		for k, x := range m {
			mp[k] = x
		}
	}
	if mode == "SEQ" {
		return seq, nil
	}
	return mp, nil
}

// truthy is Python's bool().
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

func condition(mode string, args []any) (bool, error) {
	n := 0
	for _, a := range args {
		if truthy(a) {
			n++
		}
	}
	switch mode {
	case "AND":
		return n == len(args), nil
	case "NAND":
		return n != len(args), nil
	case "OR":
		return n > 0, nil
	case "NOR":
		return n == 0, nil
	case "XOR":
		return n%2 == 1, nil
	case "XNOR":
		return n%2 == 0, nil
	}
	return false, fmt.Errorf("!Condition mode %q is none of AND, NAND, OR, NOR, XOR, XNOR", mode)
}

// pyType names the kind of a resolved value as Python does (str, int,
// dict, …): a tag's error names it instead of the value, which may come
// from an !Env and hold a secret.
func pyType(v any) string {
	switch v.(type) {
	case string:
		return "str"
	case int64:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case nil:
		return "NoneType"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

func atIndex(obj, key any) (any, bool) {
	switch x := obj.(type) {
	case []any:
		i, ok := key.(int64)
		if !ok {
			return nil, false
		}
		if i < 0 {
			i += int64(len(x))
		}
		if i < 0 || i >= int64(len(x)) {
			return nil, false
		}
		return x[i], true
	case map[string]any:
		v, ok := x[str(key)]
		return v, ok
	}
	return nil, false
}

// normalize turns encoding/json's numbers into the resolver's.
func normalize(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
		return x
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalize(x[k])
		}
	}
	return v
}

// str is Python's str() of a resolved value.
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// pyFormat is Python's "%" operator on format with args, for the
// conversions blueprints use: %s, %d, %i, %f, %r and %%.
func pyFormat(format string, args []any) (string, error) {
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(format) {
			return "", fmt.Errorf("incomplete format")
		}
		i++
		verb := format[i]
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if next >= len(args) {
			return "", fmt.Errorf("not enough arguments for format string")
		}
		a := args[next]
		next++
		switch verb {
		case 's':
			b.WriteString(str(a))
		case 'r':
			if s, ok := a.(string); ok {
				b.WriteString("'" + s + "'")
			} else {
				b.WriteString(str(a))
			}
		case 'd', 'i':
			switch x := a.(type) {
			case int64:
				b.WriteString(strconv.FormatInt(x, 10))
			case float64:
				b.WriteString(strconv.FormatInt(int64(x), 10))
			case bool:
				b.WriteString(map[bool]string{true: "1", false: "0"}[x])
			default:
				return "", fmt.Errorf("%%%c format: a real number is required, not %s", verb, pyType(a))
			}
		case 'f':
			switch x := a.(type) {
			case int64:
				b.WriteString(strconv.FormatFloat(float64(x), 'f', 6, 64))
			case float64:
				b.WriteString(strconv.FormatFloat(x, 'f', 6, 64))
			default:
				return "", fmt.Errorf("%%f format: a real number is required, not %s", pyType(a))
			}
		default:
			return "", fmt.Errorf("unsupported format character %q", verb)
		}
	}
	if next < len(args) {
		return "", fmt.Errorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

// readFile reads path within dir, refusing a path that leaves it.
func readFile(dir, path string) (string, bool, error) {
	if dir == "" {
		return "", false, fmt.Errorf("!File is not allowed here")
	}
	if filepath.IsAbs(path) || !filepath.IsLocal(path) {
		return "", false, fmt.Errorf("!File %q: the path must be relative and stay inside the blueprint directory", path)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", false, err
	}
	defer root.Close()
	f, err := root.Open(path)
	if err != nil {
		return "", false, nil
	}
	defer f.Close()
	const max = 1 << 20
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return "", false, err
	}
	if len(b) > max {
		return "", false, fmt.Errorf("!File %q is larger than %d bytes", path, max)
	}
	return strings.TrimSpace(string(b)), true, nil
}

// spend takes n from the node budget that bounds a document's expansion.
func (r *resolver) spend(n int) error {
	if *r.budget -= n; *r.budget < 0 {
		return fmt.Errorf("%w: the document expands to too many values", ErrLimit)
	}
	return nil
}

// jsonErrorPlace says where a JSON decoding error is, without quoting the
// input: the byte offset of a syntax error, or the kind of error.
func jsonErrorPlace(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("a syntax error at byte %d", se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends early"
	}
	return "it cannot be decoded"
}
