package expression

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"unicode"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/stage"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// PromptField names the field of a prompt whose value PromptValue gives.
type PromptField string

// The fields of a prompt that may hold an expression.
const (
	// PromptPlaceholder is the placeholder, an expression when
	// PlaceholderExpression is set.
	PromptPlaceholder PromptField = "placeholder"
	// PromptInitialValue is the initial value, an expression when
	// InitialValueExpression is set.
	PromptInitialValue PromptField = "initial_value"
)

// EventPropertyMappingException is the action of the event a prompt
// expression that fails writes (authentik's EventAction
// PROPERTY_MAPPING_EXCEPTION).
const EventPropertyMappingException = "property_mapping_exception"

// Event is an event authentik writes while evaluating an expression,
// handed to Options.Event: Action is the event's action, App the module
// authentik records, Context its data. A failing prompt expression gives
// Action "property_mapping_exception" with Context "expression" (the
// source) and "message" (the error, with the line; authentik's is a
// Python traceback). ak_create_event gives Action "custom_<action>",
// App the policy's or prompt's name, and Context cleansed of secrets (see
// the package documentation). authentik attaches an event to the request
// and its user: the host, which has them, does so.
type Event struct {
	Action  string
	App     string
	Context map[string]any
}

// PromptVars are what authentik's PropertyMappingEvaluator gives a
// prompt's expressions besides the prompt (EXPRESSIONS.md §5).
type PromptVars struct {
	// User is the pending user as a map of its fields (username, name,
	// email, pk, attributes, ...), as the plan context holds a
	// pending_user; a missing attributes is {}. Only its fields are
	// known: group_attributes() and the other methods fail. When nil,
	// PendingUser is the user.
	User map[string]any
	// PendingUser is the pending user (the plan's pending_user, else the
	// request's user) as the planner reads users, when User is nil:
	// with a PK and a directory (Directory, else Options.Directory), the
	// directory's user numbered PK, as request.user is for a policy:
	// user.username, user.attributes, user.group_attributes(),
	// user.all_groups(), ..., all read from the directory (the other
	// fields of PendingUser are not used); ak_user_by and
	// ak_is_group_member read the same directory. Without a directory
	// only the fields PendingUser holds are known and the others fail
	// wrapping ErrNoHost. The zero User (no PK, not authenticated), with
	// User nil, means no user: the name user is then undefined, as in
	// authentik, and request.user an empty User.
	PendingUser plan.User
	// Directory is the directory the helpers and PendingUser read, as
	// plan.PolicyRequest.Directory: the store's read in the caller's own
	// transaction (store.Tx.Directory), so that no transaction is opened
	// inside it. Nil means Options.Directory.
	Directory directory.Directory
	// PromptContext is the plan's prompt_data: the expression's
	// prompt_context and request.context["prompt_context"]. What the
	// expression writes into it is written back into this map. Nil is
	// {} and keeps no writes.
	PromptContext map[string]any
	// DryRun is the API's preview: an expression's error is returned
	// and no event is written.
	DryRun bool
	// HTTP is the HTTP request the prompt is shown in: http_request and
	// request.http_request. Nil means none: http_request is then
	// undefined, as in authentik, and request.http_request None.
	HTTP *plan.HTTPRequest
}

// promptParams are the handler parameters of a prompt expression, in
// authentik's order (EXPRESSIONS.md §5). user and http_request are
// always parameters here; when authentik leaves them out (no user, no
// HTTP request), their value fails as Python's NameError would, so that
// a try/except around them behaves as in authentik.
var promptParams = []string{"user", "http_request", "request", "prompt_context"}

// choiceTypes are the prompt types whose placeholder holds the choices.
var choiceTypes = map[stage.PromptType]bool{"dropdown": true, "radio-button-group": true}

// ChoicesSuffix is appended to a prompt's field key to name the choices
// a policy or source put in prompt_data, which win over the placeholder.
const ChoicesSuffix = "__choices"

// CheckPrompt is Check for a prompt's placeholder or initial-value
// expression, which has a prompt's parameters (user, http_request,
// request, prompt_context) instead of a policy's.
func CheckPrompt(src string) []Problem {
	_, probs := compileKind(src, promptKind)
	return probs
}

// PromptValue is the value authentik shows for a prompt's placeholder
// or initial value (its get_placeholder and get_initial_value, then
// str()), for the planner and the executor, per prompt and challenge:
//
//   - placeholder: "" for a choice prompt (dropdown, radio-button-group,
//     whose placeholder holds the choices, see PromptChoices); the
//     expression's value when PlaceholderExpression is set; else the
//     text.
//   - initial value: prompt_context[field_key] when present (user input,
//     never evaluated); else the expression's value when
//     InitialValueExpression is set; else the text. For a choice prompt,
//     a value that is not among PromptChoices gives the first choice, or
//     "" when there are none.
//
// The value is Python's str() of the result: None is "None", True
// "True", a list "['a', 'b']". An expression that does not compile,
// raises, or is stopped by Limits.MaxSteps gives the field's raw text,
// as in authentik, and an Event "property_mapping_exception" to
// opts.Event; with vars.DryRun the error is returned instead and no
// event written. The only other errors are ctx's (the request is gone)
// and an unknown field.
func PromptValue(ctx context.Context, p stage.Prompt, field PromptField, vars PromptVars, opts *Options) (string, error) {
	e := promptEvaluator(opts)
	switch field {
	case PromptPlaceholder:
		if choiceTypes[p.Type] {
			return "", nil
		}
		if !p.PlaceholderExpression {
			return p.Placeholder, nil
		}
		v, err := e.evalPrompt(ctx, p, field, vars)
		if err != nil {
			return "", err
		}
		return pyStr(v), nil
	case PromptInitialValue:
		var v starlark.Value
		if in, ok := vars.PromptContext[p.FieldKey]; ok {
			x, err := toValue(in, 0)
			if err != nil {
				return "", fmt.Errorf("expression: prompt %q: prompt_context[%q]: %w", p.Name, p.FieldKey, err)
			}
			v = x
		} else if p.InitialValueExpression {
			x, err := e.evalPrompt(ctx, p, field, vars)
			if err != nil {
				return "", err
			}
			v = x
		} else {
			v = starlark.String(p.InitialValue)
		}
		if choiceTypes[p.Type] {
			// authentik evaluates the choices here without its dry run.
			cvars := vars
			cvars.DryRun = false
			choices, err := e.choices(ctx, p, cvars)
			if err != nil {
				return "", err
			}
			if len(choices) == 0 {
				return "", nil
			}
			found := false
			for _, c := range choices {
				if eq, err := starlark.Equal(c, v); err == nil && eq {
					found = true
					break
				}
			}
			if !found {
				v = choices[0]
			}
		}
		return pyStr(v), nil
	}
	return "", fmt.Errorf("expression: prompt %q: unknown field %q (want %q or %q)", p.Name, field, PromptPlaceholder, PromptInitialValue)
}

// PromptChoices are the choices of a choice prompt (dropdown,
// radio-button-group), each as str() gives it, as authentik's
// get_choices: prompt_context[field_key + "__choices"] when present,
// else the placeholder's value when PlaceholderExpression is set, else
// the placeholder's text; a list, tuple or set gives its elements, any
// other value one choice. Errors are PromptValue's: a failing expression
// gives its raw text as the one choice, and an event. A prompt of
// another type has no choices (nil).
func PromptChoices(ctx context.Context, p stage.Prompt, vars PromptVars, opts *Options) ([]string, error) {
	cs, err := promptEvaluator(opts).choices(ctx, p, vars)
	if err != nil || cs == nil {
		return nil, err
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = pyStr(c)
	}
	return out, nil
}

func promptEvaluator(opts *Options) evaluator {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Cache == nil {
		o.Cache = defaultCache
	}
	if o.Limits.MaxValues == 0 {
		o.Limits.MaxValues = DefaultMaxValues
	}
	return evaluator{opts: o}
}

// choices is get_choices, with the values unconverted.
func (e evaluator) choices(ctx context.Context, p stage.Prompt, vars PromptVars) ([]starlark.Value, error) {
	if !choiceTypes[p.Type] {
		return nil, nil
	}
	var raw starlark.Value = starlark.String(p.Placeholder)
	if in, ok := vars.PromptContext[p.FieldKey+ChoicesSuffix]; ok {
		x, err := toValue(in, 0)
		if err != nil {
			return nil, fmt.Errorf("expression: prompt %q: prompt_context[%q]: %w", p.Name, p.FieldKey+ChoicesSuffix, err)
		}
		raw = x
	} else if p.PlaceholderExpression {
		x, err := e.evalPrompt(ctx, p, PromptPlaceholder, vars)
		if err != nil {
			return nil, err
		}
		raw = x
	}
	switch raw.(type) {
	case *starlark.List, starlark.Tuple, *starlark.Set:
		out := []starlark.Value{}
		it := raw.(starlark.Iterable).Iterate()
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			out = append(out, x)
		}
		return out, nil
	}
	return []starlark.Value{raw}, nil
}

// evalPrompt evaluates field's text as an expression. A failure gives
// the raw text and an event, or with vars.DryRun the error; ctx's end is
// an error.
func (e evaluator) evalPrompt(ctx context.Context, p stage.Prompt, field PromptField, vars PromptVars) (starlark.Value, error) {
	src := p.Placeholder
	if field == PromptInitialValue {
		src = p.InitialValue
	}
	v, err := e.runPrompt(ctx, p, src, vars)
	if err == nil {
		return v, nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("expression: prompt %q %s: %w", p.Name, field, err)
	}
	msg := failureText(err)
	if vars.DryRun {
		return nil, &PromptError{Prompt: p.Name, Field: field, Msg: msg, Err: err}
	}
	if e.opts.Event != nil {
		e.opts.Event(ctx, Event{
			Action: EventPropertyMappingException,
			App:    "authentik.core.expression.evaluator",
			Context: map[string]any{
				"expression": src,
				"message":    msg,
			},
		})
	}
	return starlark.String(src), nil
}

// PromptError is the error of a prompt expression in a dry run (the
// API's preview, which authentik answers with 400 and the message as a
// non-field error): Msg names the line and the error; Err is the error
// underneath (a *RunError, ErrCompile, ErrSteps, ...).
type PromptError struct {
	Prompt string
	Field  PromptField
	Msg    string
	Err    error
}

// Error is the prompt, the field and Msg.
func (e *PromptError) Error() string {
	return fmt.Sprintf("expression: prompt %q %s: %s", e.Prompt, e.Field, e.Msg)
}

// Unwrap returns Err.
func (e *PromptError) Unwrap() error { return e.Err }

// failureText is an evaluation error as an event's message: the line
// and the exception's text.
func failureText(err error) string {
	var re *RunError
	if errors.As(err, &re) && re.Line > 0 {
		return fmt.Sprintf("line %d: %s", re.Line, re.Msg)
	}
	return strings.TrimPrefix(err.Error(), "expression: ")
}

// runPrompt runs src with a prompt's parameters, writing prompt_context
// back.
func (e evaluator) runPrompt(ctx context.Context, p stage.Prompt, src string, vars PromptVars) (starlark.Value, error) {
	prog, err := e.opts.Cache.compile(src, promptKind)
	if err != nil {
		return nil, err
	}
	pc, err := toValue(orEmpty(vars.PromptContext), 0)
	if err != nil {
		return nil, err
	}
	dir := vars.Directory
	if dir == nil {
		dir = e.opts.Directory
	}
	h := &host{ctx: ctx, dir: dir}
	// authentik's request.user is the user when there is one, else an
	// unsaved User().
	var user starlark.Value = undefinedName("user")
	var reqUser starlark.Value
	switch pu := vars.PendingUser; {
	case vars.User != nil:
		reqUser, err = promptUser(vars.User)
		user = reqUser
	case pu.PK != 0 && h.dir != nil:
		// The directory's facts win over the caller's, as the
		// planner's do.
		reqUser = &dirUser{h: h, pk: pu.PK}
		user = reqUser
	case pu.PK != 0 || pu.Authenticated:
		reqUser, err = requestUser(pu, h)
		user = reqUser
	default:
		reqUser, err = promptUser(nil)
	}
	if err != nil {
		return nil, err
	}
	rc := starlark.NewDict(1)
	_ = rc.SetKey(starlark.String("prompt_context"), pc)
	_, httpReq, reqHTTP := httpParams(vars.HTTP)
	request := policyRequest(reqUser, reqHTTP, promptObject(p), rc)
	var before any
	if vars.PromptContext != nil {
		budget := e.opts.Limits.MaxValues
		if before, err = fromValue(pc, 0, &budget); err != nil {
			return nil, err
		}
	}
	args := starlark.Tuple{user, httpReq, request, pc}
	// No policies to call; events and the network as the host gives them.
	h.own = hooks{opts: e.opts, app: p.Name, names: promptKind.params(), args: args, request: request}
	h.hooks = &h.own
	v, runErr := prog.run(ctx, h, e.opts.Limits, args)
	if vars.PromptContext != nil {
		// authentik's prompt_context is the plan's prompt_data itself,
		// so its writes are kept, even when the expression then fails.
		budget := e.opts.Limits.MaxValues
		after, err := fromValue(pc, 0, &budget)
		switch {
		case err != nil:
			if runErr == nil {
				runErr = err
			}
		case !reflect.DeepEqual(before, after):
			// Only when written, so that the caller's values keep
			// their Go types otherwise.
			clear(vars.PromptContext)
			maps.Copy(vars.PromptContext, after.(map[string]any))
		}
	}
	return v, runErr
}

// promptUser is the user of a prompt expression: m's fields, or
// authentik's unsaved User() when m is nil.
func promptUser(m map[string]any) (*userValue, error) {
	if m == nil {
		m = map[string]any{"pk": nil, "username": "", "name": "", "email": "", "is_active": true}
	}
	v, err := toValue(m, 0)
	if err != nil {
		return nil, err
	}
	d := v.(*starlark.Dict)
	if _, ok, _ := d.Get(starlark.String("attributes")); !ok {
		_ = d.SetKey(starlark.String("attributes"), starlark.NewDict(0))
	}
	return &userValue{fields: d}, nil
}

// promptObject is request.obj: the prompt.
func promptObject(p stage.Prompt) starlark.Value {
	return starlarkstruct.FromStringDict(starlark.String("Prompt"), starlark.StringDict{
		"pk": starlark.String(p.PK.String()), "name": starlark.String(p.Name), "field_key": starlark.String(p.FieldKey),
		"label": starlark.String(p.Label), "type": starlark.String(string(p.Type)), "required": starlark.Bool(p.Required),
		"placeholder": starlark.String(p.Placeholder), "initial_value": starlark.String(p.InitialValue),
		"order": starlark.MakeInt64(int64(p.Order)), "sub_text": starlark.String(p.SubText),
		"placeholder_expression": starlark.Bool(p.PlaceholderExpression), "initial_value_expression": starlark.Bool(p.InitialValueExpression),
	})
}

// undefinedName is a parameter authentik does not pass: every use fails
// as Python's NameError does. Its truth is False (Python raises there
// too, which Starlark cannot).
type undefinedName string

var (
	_ starlark.HasAttrs = undefinedName("")
	_ starlark.Callable = undefinedName("")
)

func (n undefinedName) fail() error                         { return fmt.Errorf("name '%s' is not defined", string(n)) }
func (n undefinedName) String() string                      { return "<undefined " + string(n) + ">" }
func (n undefinedName) Type() string                        { return "undefined" }
func (n undefinedName) Freeze()                             {}
func (n undefinedName) Truth() starlark.Bool                { return false }
func (n undefinedName) Hash() (uint32, error)               { return 0, n.fail() }
func (n undefinedName) Name() string                        { return string(n) }
func (n undefinedName) AttrNames() []string                 { return nil }
func (n undefinedName) Attr(string) (starlark.Value, error) { return nil, n.fail() }
func (n undefinedName) CallInternal(*starlark.Thread, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return nil, n.fail()
}

// pyStr is Python's str() of v.
func pyStr(v starlark.Value) string {
	switch v := v.(type) {
	case starlark.String:
		return string(v)
	case *dirUser:
		// Django's User.__str__ is the username.
		if u, err := v.load(); err == nil {
			return u.Username
		}
	case *userValue:
		// Django's User.__str__ is the username.
		if d, err := v.dict(); err != nil {
			break
		} else if u, ok, _ := d.Get(starlark.String("username")); ok {
			if s, ok := starlark.AsString(u); ok {
				return s
			}
		}
	}
	return pyRepr(v)
}

// pyRepr is Python's repr() of v, for the values an expression builds.
func pyRepr(v starlark.Value) string {
	switch v := v.(type) {
	case starlark.NoneType:
		return "None"
	case starlark.Bool:
		if v {
			return "True"
		}
		return "False"
	case starlark.String:
		return pyQuote(string(v))
	case *starlark.List:
		return "[" + reprItems(v) + "]"
	case starlark.Tuple:
		if len(v) == 1 {
			return "(" + pyRepr(v[0]) + ",)"
		}
		return "(" + reprItems(v) + ")"
	case *starlark.Set:
		if v.Len() == 0 {
			return "set()"
		}
		return "{" + reprItems(v) + "}"
	case *starlark.Dict:
		var b strings.Builder
		b.WriteByte('{')
		for i, kv := range v.Items() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyRepr(kv[0]) + ": " + pyRepr(kv[1]))
		}
		b.WriteByte('}')
		return b.String()
	}
	return v.String()
}

func reprItems(v starlark.Iterable) string {
	it := v.Iterate()
	defer it.Done()
	var parts []string
	var x starlark.Value
	for it.Next(&x) {
		parts = append(parts, pyRepr(x))
	}
	return strings.Join(parts, ", ")
}

// pyQuote is Python's repr() of a str: single quotes unless the text
// has one and no double quote.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteByte(q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r > 0x7f && !unicode.IsPrint(r):
			if r <= 0xff {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else if r <= 0xffff {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
