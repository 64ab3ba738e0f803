package tmplexec

import (
	"fmt"
	"html/template"
	"reflect"
	"text/template/parse"
)

var (
	reflectValueType = reflect.TypeFor[reflect.Value]()
	stringType       = reflect.TypeFor[string]()
	stringsType      = reflect.TypeFor[[]string]()
	anyType          = reflect.TypeFor[any]()
)

// function is a call of a function by name: the set's own (Set's
// funcs) first, then text/template's builtins that this package knows
// (and, or, not, eq, ne, len, print); any other is not compiled.
func (c *compiler) function(name string, args []parse.Node, piped bool) (cmd, error) {
	if fn, ok := c.funcs[name]; ok {
		return c.call(name, fn, args, piped)
	}
	switch name {
	case "and", "or":
		if piped || len(args) == 0 {
			return nil, fmt.Errorf("%w: %s piped", errUnsupported, name)
		}
		es, err := c.valueArgs(args)
		if err != nil {
			return nil, err
		}
		or := name == "or"
		return func(s *state, dot, _ reflect.Value) reflect.Value {
			var v reflect.Value
			for _, e := range es {
				if v = e(s, dot); truth(v) == or {
					return v
				}
			}
			return v
		}, nil
	case "not":
		if len(args)+btoi(piped) != 1 {
			return nil, fmt.Errorf("%w: not of %d arguments", errUnsupported, len(args))
		}
		if piped {
			return func(_ *state, _, final reflect.Value) reflect.Value { return reflect.ValueOf(!truth(final)) }, nil
		}
		es, err := c.valueArgs(args)
		if err != nil {
			return nil, err
		}
		return func(s *state, dot, _ reflect.Value) reflect.Value { return reflect.ValueOf(!truth(es[0](s, dot))) }, nil
	case "eq", "ne":
		if piped || len(args) < 2 || name == "ne" && len(args) != 2 {
			return nil, fmt.Errorf("%w: %s of %d arguments", errUnsupported, name, len(args))
		}
		es, err := c.valueArgs(args)
		if err != nil {
			return nil, err
		}
		ne := name == "ne"
		return func(s *state, dot, _ reflect.Value) reflect.Value {
			a := es[0](s, dot)
			vs := make([]reflect.Value, 0, 4)
			for _, e := range es[1:] {
				vs = append(vs, e(s, dot))
			}
			return reflect.ValueOf(eq(a, vs...) != ne)
		}, nil
	case "len":
		if len(args)+btoi(piped) != 1 {
			return nil, fmt.Errorf("%w: len of %d arguments", errUnsupported, len(args))
		}
		var e expr
		if !piped {
			es, err := c.valueArgs(args)
			if err != nil {
				return nil, err
			}
			e = es[0]
		}
		return func(s *state, dot, final reflect.Value) reflect.Value {
			item := final
			if e != nil {
				item = e(s, dot)
			}
			item, isNil := indirectValue(item)
			if isNil {
				panic(errRerun)
			}
			switch item.Kind() {
			case reflect.Array, reflect.Chan, reflect.Map, reflect.Slice, reflect.String:
				return reflect.ValueOf(item.Len())
			}
			panic(errRerun)
		}, nil
	case "print":
		fn := reflect.ValueOf(fmt.Sprint)
		return c.call(name, fn, args, piped)
	}
	return nil, fmt.Errorf("%w: function %q", errUnsupported, name)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// valueArgs are arguments of a builtin that takes reflect.Values (and,
// or, not, eq): each as text/template's evalArg gives it, unwrapped.
func (c *compiler) valueArgs(args []parse.Node) ([]expr, error) {
	var es []expr
	for _, a := range args {
		if _, ok := a.(*parse.NilNode); ok {
			es = append(es, func(*state, reflect.Value) reflect.Value { return reflect.Value{} })
			continue
		}
		e, err := c.expr(a)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, nil
}

// truth is text/template's.
func truth(v reflect.Value) bool {
	t, _ := isTrue(indirectInterface(v))
	return t
}

// call is text/template's evalCall of a function fn of its own (not a
// builtin): its arguments converted to its parameters' types, the
// pipeline's value last; an error it returns or a panic is
// html/template's to report.
func (c *compiler) call(name string, fn reflect.Value, args []parse.Node, piped bool) (cmd, error) {
	typ := fn.Type()
	numIn := len(args) + btoi(piped)
	numFixed := len(args)
	if typ.IsVariadic() {
		numFixed = typ.NumIn() - 1
		if numIn < numFixed {
			return nil, fmt.Errorf("%w: %s of %d arguments", errUnsupported, name, numIn)
		}
	} else if numIn != typ.NumIn() {
		return nil, fmt.Errorf("%w: %s of %d arguments", errUnsupported, name, numIn)
	}
	if !goodFunc(typ) {
		return nil, fmt.Errorf("%w: %s's results", errUnsupported, name)
	}
	var argv []func(s *state, dot reflect.Value) reflect.Value
	i := 0
	for ; i < numFixed && i < len(args); i++ {
		a, err := c.arg(typ.In(i), args[i])
		if err != nil {
			return nil, err
		}
		argv = append(argv, a)
	}
	if typ.IsVariadic() {
		et := typ.In(typ.NumIn() - 1).Elem()
		for ; i < len(args); i++ {
			a, err := c.arg(et, args[i])
			if err != nil {
				return nil, err
			}
			argv = append(argv, a)
		}
	}
	var finalType reflect.Type
	if piped {
		finalType = typ.In(typ.NumIn() - 1)
		if typ.IsVariadic() {
			if numIn-1 < numFixed {
				finalType = typ.In(numIn - 1)
			} else {
				finalType = finalType.Elem()
			}
		}
	}
	// The common shapes of a function of one string or list of strings,
	// called directly, not through reflect.Value.Call.
	if numIn == 1 && !typ.IsVariadic() && (typ.In(0) == stringType || typ.In(0) == stringsType) {
		in0 := typ.In(0)
		arg := func(s *state, dot, final reflect.Value) reflect.Value {
			var v reflect.Value
			if piped {
				v = final
			} else {
				v = argv[0](s, dot)
			}
			if !v.IsValid() || v.Type() != in0 {
				v = validateType(v, in0)
			}
			return v
		}
		str := func(s *state, dot, final reflect.Value) string { return arg(s, dot, final).String() }
		strs := func(s *state, dot, final reflect.Value) []string {
			v := arg(s, dot, final)
			if v.CanAddr() {
				return *v.Addr().Interface().(*[]string) // no copy of the slice's header to the heap
			}
			return v.Interface().([]string)
		}
		switch f := fn.Interface().(type) {
		case func(string) string:
			return func(s *state, dot, final reflect.Value) reflect.Value { return reflect.ValueOf(f(str(s, dot, final))) }, nil
		case func(string) bool:
			return func(s *state, dot, final reflect.Value) reflect.Value { return reflect.ValueOf(f(str(s, dot, final))) }, nil
		case func(string) any:
			// The interface's value rather than the interface: the same
			// wherever text/template takes a value (a pipeline's, an
			// argument's, a receiver's) takes it out.
			return func(s *state, dot, final reflect.Value) reflect.Value { return reflect.ValueOf(f(str(s, dot, final))) }, nil
		case func(string) template.HTMLAttr:
			return func(s *state, dot, final reflect.Value) reflect.Value { return reflect.ValueOf(f(str(s, dot, final))) }, nil
		case func(string) template.HTML:
			return func(s *state, dot, final reflect.Value) reflect.Value { return reflect.ValueOf(f(str(s, dot, final))) }, nil
		case func([]string) string:
			return func(s *state, dot, final reflect.Value) reflect.Value { return reflect.ValueOf(f(strs(s, dot, final))) }, nil
		}
	}
	return func(s *state, dot, final reflect.Value) reflect.Value {
		in := make([]reflect.Value, numIn)
		for k, a := range argv {
			in[k] = a(s, dot)
		}
		if piped {
			in[numIn-1] = validateType(final, finalType)
		}
		return safeCall(fn, in)
	}, nil
}

// goodFunc is text/template's: one result, or two of which the second
// is an error.
func goodFunc(typ reflect.Type) bool {
	switch n := typ.NumOut(); {
	case n == 1:
		return true
	case n == 2 && typ.Out(1) == errorType:
		return true
	}
	return false
}

// safeCall calls fn; an error it returns or a panic stops the
// execution, for html/template to report.
func safeCall(fn reflect.Value, in []reflect.Value) reflect.Value {
	var ret []reflect.Value
	func() {
		defer func() {
			if r := recover(); r != nil {
				panic(errRerun)
			}
		}()
		ret = fn.Call(in)
	}()
	if len(ret) == 2 && !ret[1].IsNil() {
		panic(errRerun)
	}
	v := ret[0]
	if v.Type() == reflectValueType {
		v = v.Interface().(reflect.Value)
	}
	return v
}

// callMethod is text/template's evalCall of a method of no argument.
func callMethod(m reflect.Value) reflect.Value {
	typ := m.Type()
	if typ.NumIn() != 0 || !goodFunc(typ) {
		panic(errRerun)
	}
	return safeCall(m, nil)
}

// arg is text/template's evalArg: an argument's value for a parameter
// of type typ.
func (c *compiler) arg(typ reflect.Type, n parse.Node) (func(s *state, dot reflect.Value) reflect.Value, error) {
	switch n := n.(type) {
	case *parse.NilNode:
		if !canBeNil(typ) {
			return nil, fmt.Errorf("%w: nil for %s", errUnsupported, typ)
		}
		z := reflect.Zero(typ)
		return func(*state, reflect.Value) reflect.Value { return z }, nil
	case *parse.DotNode, *parse.FieldNode, *parse.VariableNode, *parse.PipeNode, *parse.IdentifierNode, *parse.ChainNode:
		e, err := c.expr(n)
		if err != nil {
			return nil, err
		}
		return func(s *state, dot reflect.Value) reflect.Value { return validateType(e(s, dot), typ) }, nil
	}
	var v reflect.Value
	switch k := typ.Kind(); {
	case k == reflect.Bool:
		if b, ok := n.(*parse.BoolNode); ok {
			v = reflect.New(typ).Elem()
			v.SetBool(b.True)
		}
	case k == reflect.String:
		if s, ok := n.(*parse.StringNode); ok {
			v = reflect.New(typ).Elem()
			v.SetString(s.Text)
		}
	case k >= reflect.Int && k <= reflect.Int64:
		if num, ok := n.(*parse.NumberNode); ok && num.IsInt {
			v = reflect.New(typ).Elem()
			v.SetInt(num.Int64)
		}
	case k == reflect.Interface && typ.NumMethod() == 0:
		cv, err := constant(n)
		if err != nil {
			return nil, err
		}
		v = cv
	case typ == reflectValueType:
		cv, err := constant(n)
		if err != nil {
			return nil, err
		}
		v = reflect.ValueOf(cv)
	}
	if !v.IsValid() {
		return nil, fmt.Errorf("%w: %s for %s", errUnsupported, n, typ)
	}
	return func(*state, reflect.Value) reflect.Value { return v }, nil
}

// canBeNil is text/template's.
func canBeNil(typ reflect.Type) bool {
	switch typ.Kind() {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer, reflect.Slice:
		return true
	case reflect.Struct:
		return typ == reflectValueType
	}
	return false
}

// validateType is text/template's: value as a value of type typ.
func validateType(value reflect.Value, typ reflect.Type) reflect.Value {
	if !value.IsValid() {
		if typ == nil {
			return reflect.ValueOf(nil)
		}
		if canBeNil(typ) {
			return reflect.Zero(typ)
		}
		panic(errRerun)
	}
	if typ == reflectValueType && value.Type() != typ {
		return reflect.ValueOf(value)
	}
	if typ != nil && !value.Type().AssignableTo(typ) {
		if value.Kind() == reflect.Interface && !value.IsNil() {
			value = value.Elem()
			if value.Type().AssignableTo(typ) {
				return value
			}
		}
		switch {
		case value.Kind() == reflect.Pointer && value.Type().Elem().AssignableTo(typ):
			value = value.Elem()
			if !value.IsValid() {
				panic(errRerun)
			}
		case reflect.PointerTo(value.Type()).AssignableTo(typ) && value.CanAddr():
			value = value.Addr()
		default:
			panic(errRerun)
		}
	}
	return value
}

// eq is text/template's, an error of it html/template's to report.
func eq(arg1 reflect.Value, arg2 ...reflect.Value) bool {
	arg1 = indirectInterface(arg1)
	k1 := basicKind(arg1)
	for _, arg := range arg2 {
		arg = indirectInterface(arg)
		k2 := basicKind(arg)
		truth := false
		if k1 != k2 {
			switch {
			case k1 == intKind && k2 == uintKind:
				truth = arg1.Int() >= 0 && uint64(arg1.Int()) == arg.Uint()
			case k1 == uintKind && k2 == intKind:
				truth = arg.Int() >= 0 && arg1.Uint() == uint64(arg.Int())
			default:
				if arg1.IsValid() && arg.IsValid() {
					panic(errRerun)
				}
			}
		} else {
			switch k1 {
			case boolKind:
				truth = arg1.Bool() == arg.Bool()
			case complexKind:
				truth = arg1.Complex() == arg.Complex()
			case floatKind:
				truth = arg1.Float() == arg.Float()
			case intKind:
				truth = arg1.Int() == arg.Int()
			case stringKind:
				truth = arg1.String() == arg.String()
			case uintKind:
				truth = arg1.Uint() == arg.Uint()
			default:
				// Pointers, structs, nil: html/template compares them.
				panic(errRerun)
			}
		}
		if truth {
			return true
		}
	}
	return false
}

type kind int

const (
	invalidKind kind = iota
	boolKind
	complexKind
	intKind
	floatKind
	stringKind
	uintKind
)

func basicKind(v reflect.Value) kind {
	switch v.Kind() {
	case reflect.Bool:
		return boolKind
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intKind
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintKind
	case reflect.Float32, reflect.Float64:
		return floatKind
	case reflect.Complex64, reflect.Complex128:
		return complexKind
	case reflect.String:
		return stringKind
	}
	return invalidKind
}
