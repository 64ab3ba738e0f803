package expression

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math"
	"reflect"
	"slices"

	"go.starlark.net/starlark"
)

// ErrTooLarge: a value an expression built and handed back (a write to
// the plan context) has more than MaxValues elements, or is nested more
// than maxDepth deep.
var ErrTooLarge = errors.New("expression: value too large")

const maxDepth = 64

// toValue converts a plan-context value (JSON-like Go values) to
// Starlark. Maps become dicts, slices lists; a map under pending_user
// becomes a user whose attributes are its keys.
func toValue(v any, depth int) (starlark.Value, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested more than %d deep", ErrTooLarge, maxDepth)
	}
	switch v := v.(type) {
	case nil:
		return starlark.None, nil
	case starlark.Value:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil, fmt.Errorf("expression: cannot pass a nil %T to an expression", v)
		}
		return v, nil
	case bool:
		return starlark.Bool(v), nil
	case string:
		return starlark.String(v), nil
	case int:
		return starlark.MakeInt(v), nil
	case int32:
		return starlark.MakeInt64(int64(v)), nil
	case int64:
		return starlark.MakeInt64(v), nil
	case uint64:
		return starlark.MakeUint64(v), nil
	case float64:
		return starlark.Float(v), nil
	case float32:
		return starlark.Float(v), nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return starlark.MakeInt64(i), nil
		}
		f, err := v.Float64()
		if err != nil {
			return nil, err
		}
		return starlark.Float(f), nil
	case []any:
		l := make([]starlark.Value, len(v))
		for i, e := range v {
			x, err := toValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			l[i] = x
		}
		return starlark.NewList(l), nil
	case []string:
		l := make([]starlark.Value, len(v))
		for i, e := range v {
			l[i] = starlark.String(e)
		}
		return starlark.NewList(l), nil
	case map[string]any:
		return toDict(v, depth, nil, nil)
	}
	return nil, fmt.Errorf("expression: cannot pass a %T to an expression", v)
}

// passable reports, without converting, whether toValue(v, depth)
// converts v without an error (ok), and whether unchanged compares what
// it gives with v as unchanged (stable): it follows toValue case by
// case, for lazyContext, which converts a value only when it is looked
// up but must fail, or not, as converting them all would.
func passable(v any, depth int) (ok, stable bool) {
	if depth > maxDepth {
		return false, false
	}
	switch v := v.(type) {
	case nil:
		return true, true
	case starlark.Value:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return false, false
		}
		return true, false
	case bool, string, int, int64, []string:
		return true, true
	case int32, uint64, float32:
		return true, false
	case float64:
		return true, v == v // NaN is not equal to itself
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return true, false
		}
		_, err := v.Float64()
		return err == nil, false
	case []any:
		return passableAll(slices.Values(v), depth+1)
	case map[string]any:
		return passableAll(maps.Values(v), depth+1)
	}
	return false, false
}

// passableAll is passable of each of vs, at depth.
func passableAll(vs iter.Seq[any], depth int) (ok, stable bool) {
	stable = true
	for v := range vs {
		ok, s := passable(v, depth)
		if !ok {
			return false, false
		}
		stable = stable && s
	}
	return true, stable
}

// toDict converts m at depth, in key order; own, when not nil, gives
// the value of a key it does not return nil for, instead of converting
// it; also, when not nil, gets each entry too.
func toDict(m map[string]any, depth int, own func(k string) starlark.Value, also *starlark.Dict) (*starlark.Dict, error) {
	d := starlark.NewDict(len(m))
	var buf [16]string // most maps are small: their keys sorted on the stack
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		var x starlark.Value
		if own != nil {
			x = own(k)
		}
		if x == nil {
			var err error
			if x, err = toValue(m[k], depth+1); err != nil {
				return nil, err
			}
		}
		key := starlark.Value(starlark.String(k))
		if err := d.SetKey(key, x); err != nil {
			return nil, err
		}
		if also != nil {
			if err := also.SetKey(key, x); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

// fromValue converts a Starlark value back to a plan-context value,
// counting elements against *budget.
func fromValue(v starlark.Value, depth int, budget *int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested more than %d deep", ErrTooLarge, maxDepth)
	}
	if *budget--; *budget < 0 {
		return nil, fmt.Errorf("%w: more than MaxValues elements", ErrTooLarge)
	}
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Bool:
		return bool(v), nil
	case starlark.String:
		return string(v), nil
	case starlark.Int:
		if i, ok := v.Int64(); ok {
			return i, nil
		}
		f := v.Float()
		if math.IsInf(float64(f), 0) {
			return nil, fmt.Errorf("%w: integer out of range", ErrTooLarge)
		}
		return float64(f), nil
	case starlark.Float:
		return float64(v), nil
	case *starlark.List, starlark.Tuple, *starlark.Set:
		it := v.(starlark.Iterable).Iterate()
		defer it.Done()
		out := []any{}
		var e starlark.Value
		for it.Next(&e) {
			x, err := fromValue(e, depth+1, budget)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	case *starlark.Dict:
		out := make(map[string]any, v.Len())
		for _, kv := range v.Items() {
			k, ok := starlark.AsString(kv[0])
			if !ok {
				k = kv[0].String()
			}
			x, err := fromValue(kv[1], depth+1, budget)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	case *userValue:
		d, err := v.dict()
		if err != nil {
			return nil, err
		}
		return fromValue(d, depth, budget)
	case *ctxView:
		d, err := v.dict()
		if err != nil {
			return nil, err
		}
		return fromValue(d, depth, budget)
	case *dirUser:
		m, err := v.asMap()
		if err != nil {
			return nil, err
		}
		return fromValue(m, depth, budget)
	}
	return nil, fmt.Errorf("expression: a %s cannot be kept in the plan context", v.Type())
}

// canonical is v as toValue and then fromValue give it back: the Go
// types a plan context may hold ([]string, int, float32, json.Number)
// as the ones an evaluation writes ([]any, int64, float64), so that an
// unchanged context compares equal to what the evaluation hands back.
// A value of another type is returned as it is.
func canonical(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = canonical(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = canonical(x)
		}
		return out
	case []string:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = x
		}
		return out
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v)
		}
		return float64(v)
	case float32:
		return float64(v)
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		if f, err := v.Float64(); err == nil {
			return f
		}
	}
	return v
}

// unchanged reports whether the Starlark value s is what toValue made of
// the plan-context value g and nothing has written to it since: the same
// shape and the same scalars, compared without converting. It answers
// false when unsure (a value of another type, too deep), and the caller
// then converts and compares in full.
func unchanged(s starlark.Value, g any, depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch g := g.(type) {
	case nil:
		return s == starlark.None
	case bool:
		b, ok := s.(starlark.Bool)
		return ok && bool(b) == g
	case string:
		str, ok := s.(starlark.String)
		return ok && string(str) == g
	case int64:
		i, ok := s.(starlark.Int)
		if !ok {
			return false
		}
		n, ok := i.Int64()
		return ok && n == g
	case int:
		i, ok := s.(starlark.Int)
		if !ok {
			return false
		}
		n, ok := i.Int64()
		return ok && n == int64(g)
	case float64:
		f, ok := s.(starlark.Float)
		return ok && float64(f) == g
	case []any:
		l, ok := s.(*starlark.List)
		if !ok || l.Len() != len(g) {
			return false
		}
		for i, e := range g {
			if !unchanged(l.Index(i), e, depth+1) {
				return false
			}
		}
		return true
	case []string:
		l, ok := s.(*starlark.List)
		if !ok || l.Len() != len(g) {
			return false
		}
		for i, e := range g {
			if str, ok := l.Index(i).(starlark.String); !ok || string(str) != e {
				return false
			}
		}
		return true
	case map[string]any:
		var d *starlark.Dict
		switch s := s.(type) {
		case *starlark.Dict:
			d = s
		case *userValue:
			if !s.converted() && reflect.ValueOf(s.raw).UnsafePointer() == reflect.ValueOf(g).UnsafePointer() {
				return true // the very map, not converted, so not written
			}
			d, _ = s.dict()
		default:
			return false
		}
		if d == nil || d.Len() != len(g) {
			return false
		}
		// As many entries: each of d's must be one of g's, unchanged.
		// Items only reads d, which an expression may have taken from
		// a value of the host's that other evaluations share.
		for _, kv := range d.Items() {
			ks, ok := kv[0].(starlark.String)
			if !ok {
				return false
			}
			if e, found := g[string(ks)]; !found || !unchanged(kv[1], e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}
