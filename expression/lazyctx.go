package expression

import (
	"fmt"

	"go.starlark.net/starlark"
)

// lazyContext is the plan context of an evaluation whose expression
// only looks values up in its context dicts (reach.lookups): instead of
// the two dicts (request.context, a copy of the plan context plus
// flow_plan, and flow_plan.context, the plan context itself) it gives
// the expression lookups into the plan context, which convert a value
// at its first lookup and keep it, so that both lookups and every
// later one give the same Starlark value, as the dicts, which share
// their values, would. The expression cannot tell: it cannot hold,
// print, compare, pass or write the dicts, only look values up. Go code
// that needs the dicts themselves (an event's flow_plan) gets them
// (dicts), made then from the values already given and the others
// converted, as they were at the start; from then on both lookups read
// the dicts. Evaluate has checked that every value converts (passable),
// so a lookup fails no more than the dicts' making would have.
type lazyContext struct {
	m map[string]any
	// flow is request.context's flow_plan, nil when there is no plan.
	flow *flowPlan
	// stable: each value of m not yet converted compares unchanged with
	// its conversion (passable), so that writeBack need compare only
	// the values given.
	stable bool
	// given are the values converted, by key, in buf while it has room.
	given []ctxEntry
	buf   [2]ctxEntry
	// pending is the pending_user given, when it is a map.
	pending userValue
	// plan and copy are the dicts, once made.
	plan, copy *starlark.Dict
	// req and planView are request.context and flow_plan.context.
	req, planView ctxView
}

// ctxEntry is a value converted for a key of the plan context.
type ctxEntry struct {
	k string
	v starlark.Value
}

// init makes lc the lazy context of m, with flow as request.context's
// flow_plan (nil for none).
func (lc *lazyContext) init(m map[string]any, flow *flowPlan, stable bool) {
	lc.m, lc.flow, lc.stable = m, flow, stable
	lc.given = lc.buf[:0]
	lc.req = ctxView{lc: lc, copy: true}
	lc.req.get.v = &lc.req
	lc.planView = ctxView{lc: lc}
	lc.planView.get.v = &lc.planView
}

// lookup is the value of key k of request.context (copy) or of the plan
// context, converted at its first lookup.
func (lc *lazyContext) lookup(k string, copy bool) (starlark.Value, bool, error) {
	if copy && k == "flow_plan" && lc.flow != nil {
		return lc.flow, true, nil
	}
	for _, e := range lc.given {
		if e.k == k {
			return e.v, true, nil
		}
	}
	x, ok := lc.m[k]
	if !ok {
		return nil, false, nil
	}
	var v starlark.Value
	if pd, ok := x.(map[string]any); ok && k == "pending_user" {
		lc.pending = userValue{raw: pd} // as ownValue, allocated with lc
		v = &lc.pending
	} else {
		var err error
		if v, err = toValue(x, 1); err != nil {
			return nil, false, err
		}
	}
	lc.given = append(lc.given, ctxEntry{k, v})
	return v, true, nil
}

// ownValue is the value of the plan context's key k that planContext
// does not convert: a pending_user map becomes a User converted at its
// first use. Nil for the others.
func ownValue(k string, x any) starlark.Value {
	if k == "pending_user" {
		if pd, ok := x.(map[string]any); ok {
			return &userValue{raw: pd}
		}
	}
	return nil
}

// dicts makes the two dicts, once: the plan context's, in key order,
// holding the values given and the others converted, and
// request.context's, its copy plus flow_plan, as Evaluate makes them
// when the expression can see the dicts.
func (lc *lazyContext) dicts() (plan, copy *starlark.Dict, err error) {
	if lc.plan != nil {
		return lc.plan, lc.copy, nil
	}
	c := starlark.NewDict(len(lc.m) + 1)
	p, err := toDict(lc.m, 0, func(k string) starlark.Value {
		for _, e := range lc.given {
			if e.k == k {
				return e.v
			}
		}
		return ownValue(k, lc.m[k])
	}, c)
	if err != nil {
		return nil, nil, err
	}
	if lc.flow != nil {
		if err := c.SetKey(starlark.String("flow_plan"), lc.flow); err != nil {
			return nil, nil, err
		}
	}
	lc.plan, lc.copy = p, c
	return p, c, nil
}

// unchanged reports, without converting, whether the plan context is
// as the expression found it: no dicts made (which the expression could
// then have written through Go code's hands), the values given
// unchanged, and the others comparing unchanged with their conversion.
// False means unsure: compare the dicts.
func (lc *lazyContext) unchanged() bool {
	if lc.plan != nil || !lc.stable {
		return false
	}
	for _, e := range lc.given {
		if !unchanged(e.v, lc.m[e.k], 1) {
			return false
		}
	}
	return true
}

// ctxView is request.context (copy) or flow_plan.context as an
// expression that only looks values up sees them: a dict it can read
// with d.get(k[, default]) and d[k], and nothing else (reach.lookups).
// Any other use, and any lookup once the dicts are made, is the dict's
// own.
type ctxView struct {
	lc   *lazyContext
	copy bool
	get  ctxGet
}

var (
	_ starlark.Mapping  = (*ctxView)(nil)
	_ starlark.HasAttrs = (*ctxView)(nil)
)

// dict is the dict the view stands for, made if need be.
func (v *ctxView) dict() (*starlark.Dict, error) {
	p, c, err := v.lc.dicts()
	if v.copy {
		return c, err
	}
	return p, err
}

// must is dict for the methods that cannot fail: the dicts' values
// were checked when the evaluation began (passable).
func (v *ctxView) must() *starlark.Dict {
	d, err := v.dict()
	if err != nil {
		panic(err) // recovered by run as ErrPanic
	}
	return d
}

func (v *ctxView) String() string        { return v.must().String() }
func (v *ctxView) Type() string          { return "dict" }
func (v *ctxView) Freeze()               { v.must().Freeze() }
func (v *ctxView) Truth() starlark.Bool  { return v.must().Truth() }
func (v *ctxView) Hash() (uint32, error) { return v.must().Hash() }
func (v *ctxView) AttrNames() []string   { return v.must().AttrNames() }

// Attr is get without making the dicts; any other the dict's.
func (v *ctxView) Attr(name string) (starlark.Value, error) {
	if name == "get" && v.lc.plan == nil {
		return &v.get, nil
	}
	d, err := v.dict()
	if err != nil {
		return nil, err
	}
	return d.Attr(name)
}

// Get is d[k]: a string key is looked up, without making the dicts.
func (v *ctxView) Get(k starlark.Value) (starlark.Value, bool, error) {
	if s, ok := k.(starlark.String); ok && v.lc.plan == nil {
		return v.lc.lookup(string(s), v.copy)
	}
	d, err := v.dict()
	if err != nil {
		return nil, false, err
	}
	return d.Get(k)
}

// ctxGet is a view's get method: get(k) and get(k, default) of a
// string k look it up; any other call is the dict's get's.
type ctxGet struct{ v *ctxView }

var _ starlark.Callable = (*ctxGet)(nil)

func (g *ctxGet) Name() string         { return "get" }
func (g *ctxGet) String() string       { return "<built-in method get of dict value>" }
func (g *ctxGet) Type() string         { return "builtin_function_or_method" }
func (g *ctxGet) Freeze()              {}
func (g *ctxGet) Truth() starlark.Bool { return true }
func (g *ctxGet) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: builtin_function_or_method")
}

func (g *ctxGet) CallInternal(th *starlark.Thread, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if s, ok := firstString(args); ok && len(kw) == 0 && len(args) <= 2 && g.v.lc.plan == nil {
		x, found, err := g.v.lc.lookup(string(s), g.v.copy)
		switch {
		case err != nil:
			return nil, err
		case found:
			return x, nil
		case len(args) == 2:
			return args[1], nil
		}
		return starlark.None, nil
	}
	d, err := g.v.dict()
	if err != nil {
		return nil, err
	}
	m, err := d.Attr("get")
	if err != nil {
		return nil, err
	}
	return m.(*starlark.Builtin).CallInternal(th, args, kw)
}

func firstString(args starlark.Tuple) (starlark.String, bool) {
	if len(args) == 0 {
		return "", false
	}
	s, ok := args[0].(starlark.String)
	return s, ok
}
