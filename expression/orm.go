package expression

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// The one use of Django's ORM that authflow translates: authentik's
// out-of-the-box flow marks itself used with
//
//	from authentik.flows.models import Flow, FlowAuthenticationRequirement
//	Flow.objects.filter(slug="initial-setup").update(
//	    authentication=FlowAuthenticationRequirement.REQUIRE_SUPERUSER,
//	)
//
// Flow.objects.filter(**filter).update(**set) asks the planner for a
// plan.Update of the flows (req.Update); the executor applies it once the
// step commits (plan.ApplyUpdates). checkORM refuses every other use of
// Flow when compiling, naming it.

// ormIdiom is how the problems name the supported form.
const ormIdiom = "Flow.objects.filter(<field>=<literal>, ...).update(<field>=<literal>, ...)"

// flowEnums are the TextChoices of authentik.flows.models that an
// expression may import, member → value (flows/models.py:30-73, with
// authentik's spelling UNRENOLLMENT).
var flowEnums = map[string]map[string]string{
	"FlowAuthenticationRequirement": {
		"NONE": "none", "REQUIRE_AUTHENTICATED": "require_authenticated",
		"REQUIRE_UNAUTHENTICATED": "require_unauthenticated", "REQUIRE_SUPERUSER": "require_superuser",
		"REQUIRE_REDIRECT": "require_redirect", "REQUIRE_OUTPOST": "require_outpost",
	},
	"FlowDesignation": {
		"AUTHENTICATION": "authentication", "AUTHORIZATION": "authorization", "INVALIDATION": "invalidation",
		"ENROLLMENT": "enrollment", "UNRENOLLMENT": "unenrollment", "RECOVERY": "recovery",
		"STAGE_CONFIGURATION": "stage_configuration",
	},
	"FlowDeniedAction": {
		"MESSAGE_CONTINUE": "message_continue", "MESSAGE": "message", "CONTINUE": "continue",
	},
}

// flowModels are the names 'from authentik.flows.models import' binds.
var flowModels = func() starlark.StringDict {
	d := starlark.StringDict{"Flow": flowModel{}}
	for name, members := range flowEnums {
		m := starlark.StringDict{}
		for k, v := range members {
			m[k] = starlark.String(v)
		}
		d[name] = starlarkstruct.FromStringDict(starlark.String(name), m)
	}
	d.Freeze()
	return d
}()

// Django's names of a flow's fields where the store's differ.
var djangoFlowFields = map[string]string{"flow_uuid": "pk"}

// flowField is the store's name of a flow field a filter (or, with set,
// an update) may name, or "" for none.
func flowField(name string, set bool) string {
	filter, writable := plan.UpdateFields(store.ModelFlow)
	if !set {
		if f, ok := djangoFlowFields[name]; ok {
			name = f
		}
	} else {
		filter = writable
	}
	if slices.Contains(filter, name) {
		return name
	}
	return ""
}

// boolFields are the flow fields whose values are True or False.
var boolFields = map[string]bool{"compatibility_mode": true}

// checkORM checks every use of the names the imports bind from
// authentik.flows.models: Flow only in the idiom above, with literal
// values, and an enum only by its members.
func checkORM(lines []logical, imports []imported) error {
	flows, enums := map[string]bool{}, map[string]string{}
	for _, imp := range imports {
		if imp.module != "authentik.flows.models" {
			continue
		}
		if imp.name == "Flow" {
			flows[imp.as] = true
		} else {
			enums[imp.as] = imp.name
		}
	}
	if len(flows)+len(enums) == 0 {
		return nil
	}
	for _, l := range lines {
		if l.toks[0].kind == tName && l.toks[0].text == "from" {
			continue
		}
		toks := l.toks
		for i := 0; i < len(toks); i++ {
			t := toks[i]
			if t.kind != tName || i > 0 && toks[i-1].text == "." {
				continue
			}
			if enum, ok := enums[t.text]; ok {
				if err := checkMember(toks, i, enum); err != nil {
					return err
				}
				continue
			}
			if !flows[t.text] {
				continue
			}
			end, err := checkIdiom(toks, i, enums)
			if err != nil {
				return err
			}
			i = end
		}
	}
	return nil
}

// checkMember checks that toks[i], an enum, is used as enum.MEMBER.
func checkMember(toks []token, i int, enum string) error {
	if i+2 < len(toks) && toks[i+1].text == "." && toks[i+2].kind == tName {
		if _, ok := flowEnums[enum][toks[i+2].text]; ok {
			return nil
		}
		return &Problem{Line: toks[i+2].line, Construct: enum + "." + toks[i+2].text,
			Msg: fmt.Sprintf("%s has no member %s", enum, toks[i+2].text)}
	}
	return &Problem{Line: toks[i].line, Construct: enum,
		Msg: fmt.Sprintf("%s is only supported as %s.<MEMBER>, a value of %s", enum, enum, ormIdiom)}
}

// checkIdiom checks the idiom at toks[i] (the name bound to Flow) and
// returns the index of its last token.
func checkIdiom(toks []token, i int, enums map[string]string) (int, error) {
	at := func(k int, text string) bool { return k < len(toks) && toks[k].text == text }
	line := toks[i].line
	refuse := func(construct string) (int, error) {
		return 0, &Problem{Line: line, Construct: construct,
			Msg: fmt.Sprintf("%s is not supported: authflow translates one use of Django's ORM, %s", construct, ormIdiom)}
	}
	if !at(i+1, ".") || !at(i+2, "objects") {
		return refuse("Flow")
	}
	if !at(i+3, ".") || !at(i+4, "filter") || !at(i+5, "(") {
		if at(i+3, ".") && i+4 < len(toks) {
			return refuse("Flow.objects." + toks[i+4].text)
		}
		return refuse("Flow.objects")
	}
	k, err := checkKwargs(toks, i+6, "Flow.objects.filter", false, enums)
	if err != nil {
		return 0, err
	}
	if !at(k+1, ".") || !at(k+2, "update") || !at(k+3, "(") {
		if at(k+1, ".") && k+2 < len(toks) {
			return refuse("Flow.objects.filter(...)." + toks[k+2].text)
		}
		return refuse("Flow.objects.filter(...)")
	}
	return checkKwargs(toks, k+4, "Flow.objects.filter(...).update", true, enums)
}

// checkKwargs checks 'field=literal, ...)' from toks[k] and returns the
// index of the closing parenthesis.
func checkKwargs(toks []token, k int, call string, set bool, enums map[string]string) (int, error) {
	n := 0
	for {
		if k >= len(toks) {
			return 0, &Problem{Line: toks[len(toks)-1].line, Construct: call, Msg: "malformed " + call + "(...)"}
		}
		if toks[k].text == ")" {
			break
		}
		name := toks[k]
		if name.kind != tName || k+2 >= len(toks) || toks[k+1].text != "=" {
			return 0, &Problem{Line: name.line, Construct: call, Msg: fmt.Sprintf("%s takes only <field>=<literal> arguments: %s", call, ormIdiom)}
		}
		construct := call + "(" + name.text + ")"
		field := flowField(name.text, set)
		if field == "" {
			filter, fields := plan.UpdateFields(store.ModelFlow)
			what := "an update sets only the fields a flow's PATCH sets"
			if !set {
				what = "a filter matches, exactly, only the flow fields"
				fields = append(slices.Clone(filter), "flow_uuid")
				sort.Strings(fields)
			}
			return 0, &Problem{Line: name.line, Construct: construct,
				Msg: fmt.Sprintf("%s is not supported: %s: %s", construct, what, strings.Join(fields, ", "))}
		}
		v := k + 2
		if enum := enums[toks[v].text]; enum != "" && toks[v].kind == tName {
			if err := checkMember(toks, v, enum); err != nil {
				return 0, err
			}
		}
		end, ok := literalAt(toks, v, boolFields[field], enums)
		if !ok {
			want := "a literal string or a member of FlowAuthenticationRequirement, FlowDesignation or FlowDeniedAction"
			if boolFields[field] {
				want = "True or False"
			}
			return 0, &Problem{Line: toks[v].line, Construct: construct, Msg: fmt.Sprintf("%s(%s=...) takes %s", call, name.text, want)}
		}
		n++
		k = end + 1
		if k < len(toks) && toks[k].text == "," {
			k++
		}
	}
	if n == 0 {
		return 0, &Problem{Line: toks[k].line, Construct: call + "()", Msg: fmt.Sprintf("%s() needs at least one <field>=<literal>: %s", call, ormIdiom)}
	}
	return k, nil
}

// literalAt reports whether a literal value, followed by ',' or ')',
// starts at toks[k], and returns the index of its last token.
func literalAt(toks []token, k int, boolean bool, enums map[string]string) (int, bool) {
	end := -1
	switch t := toks[k]; {
	case boolean:
		if t.kind == tName && (t.text == "True" || t.text == "False") {
			end = k
		}
	case t.kind == tString:
		if !strings.ContainsAny(t.text[:strings.IndexAny(t.text, `'"`)], "bB") {
			end = k
		}
	case t.kind == tName && enums[t.text] != "":
		if k+2 < len(toks) && toks[k+1].text == "." {
			end = k + 2 // the member, which checkMember checked
		}
	}
	if end < 0 || end+1 >= len(toks) || toks[end+1].text != "," && toks[end+1].text != ")" {
		return 0, false
	}
	return end, true
}

// flowModel is authentik.flows.models.Flow: its manager, objects.
type flowModel struct{}

func (flowModel) String() string        { return "<class 'authentik.flows.models.Flow'>" }
func (flowModel) Type() string          { return "ModelBase" }
func (flowModel) Freeze()               {}
func (flowModel) Truth() starlark.Bool  { return true }
func (flowModel) Hash() (uint32, error) { return starlark.String("Flow").Hash() }
func (flowModel) AttrNames() []string   { return []string{"objects"} }

func (flowModel) Attr(name string) (starlark.Value, error) {
	if name == "objects" {
		return flowManager{}, nil
	}
	return nil, ormRefused("Flow." + name)
}

// ormRefused is the run-time error of an ORM construct that checkORM
// refuses when compiling.
func ormRefused(construct string) error {
	return fmt.Errorf("%s is %w: authflow translates one use of Django's ORM, %s", construct, ErrNotYet, ormIdiom)
}

// flowManager is Flow.objects: filter only.
type flowManager struct{}

func (flowManager) String() string        { return "<Manager>" }
func (flowManager) Type() string          { return "Manager" }
func (flowManager) Freeze()               {}
func (flowManager) Truth() starlark.Bool  { return true }
func (flowManager) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: Manager") }
func (flowManager) AttrNames() []string   { return []string{"filter"} }

func (flowManager) Attr(name string) (starlark.Value, error) {
	if name != "filter" {
		return nil, ormRefused("Flow.objects." + name)
	}
	return starlark.NewBuiltin("filter", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		m, err := ormKwargs("Flow.objects.filter", args, kw, false)
		if err != nil {
			return nil, err
		}
		return flowQuery{filter: m}, nil
	}), nil
}

// flowQuery is Flow.objects.filter(...): update only.
type flowQuery struct{ filter map[string]any }

func (flowQuery) String() string        { return "<QuerySet>" }
func (flowQuery) Type() string          { return "QuerySet" }
func (flowQuery) Freeze()               {}
func (flowQuery) Truth() starlark.Bool  { return true }
func (flowQuery) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: QuerySet") }
func (flowQuery) AttrNames() []string   { return []string{"update"} }

// Attr is update: it asks the planner for the write (the host's
// plan.PolicyRequest.Update) and returns None, where Django returns the
// number of rows written: a plan cannot know it before the write.
func (q flowQuery) Attr(name string) (starlark.Value, error) {
	if name != "update" {
		return nil, ormRefused("Flow.objects.filter(...)." + name)
	}
	return starlark.NewBuiltin("update", func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		set, err := ormKwargs("Flow.objects.filter(...).update", args, kw, true)
		if err != nil {
			return nil, err
		}
		h := hostOf(th)
		if h == nil || h.update == nil {
			return nil, fmt.Errorf("Flow.objects.filter(...).update(...) is %w (a host that applies the writes a policy asks for: plan.PolicyRequest.Update)", ErrNoHost)
		}
		h.used = true // a cached plan would not ask again
		h.update(plan.Update{Model: store.ModelFlow, Filter: q.filter, Set: set})
		return starlark.None, nil
	}), nil
}

// ormKwargs reads the keyword arguments of a filter or an update: the
// fields checkORM allows, a string or (compatibility_mode) a bool each,
// by the store's names.
func ormKwargs(call string, args starlark.Tuple, kw []starlark.Tuple, set bool) (map[string]any, error) {
	if len(args) > 0 {
		return nil, ormRefused(call + "(<positional>)")
	}
	if len(kw) == 0 {
		return nil, ormRefused(call + "()")
	}
	m := make(map[string]any, len(kw))
	for _, kv := range kw {
		name := string(kv[0].(starlark.String))
		field := flowField(name, set)
		if field == "" {
			return nil, ormRefused(call + "(" + name + ")")
		}
		switch v := kv[1].(type) {
		case starlark.Bool:
			if !boolFields[field] {
				return nil, ormRefused(fmt.Sprintf("%s(%s=%s)", call, name, v))
			}
			m[field] = bool(v)
		case starlark.String:
			if boolFields[field] {
				return nil, ormRefused(fmt.Sprintf("%s(%s=%s)", call, name, v))
			}
			if field == "pk" {
				id, err := uuid.Parse(string(v))
				if err != nil {
					return nil, fmt.Errorf("“%s” is not a valid UUID.", string(v))
				}
				m[field] = id.String()
				continue
			}
			m[field] = string(v)
		default:
			return nil, ormRefused(fmt.Sprintf("%s(%s=<%s>)", call, name, v.Type()))
		}
	}
	return m, nil
}
