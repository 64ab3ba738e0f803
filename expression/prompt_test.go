package expression_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/stage"
)

// shippedPrompts reads the prompts of the shipped blueprints that hold
// an expression: name → prompt.
func shippedPrompts(t testing.TB) map[string]stage.Prompt {
	t.Helper()
	out := map[string]stage.Prompt{}
	for _, e := range shippedEntries(t, string(stage.ModelPrompt)) {
		str := func(k string) string { s, _ := e.Attrs[k].(string); return s }
		flag := func(k string) bool { b, _ := e.Attrs[k].(bool); return b }
		p := stage.Prompt{FieldKey: str("field_key"), Label: str("label"), Type: stage.PromptType(str("type")),
			Placeholder: str("placeholder"), InitialValue: str("initial_value"),
			PlaceholderExpression: flag("placeholder_expression"), InitialValueExpression: flag("initial_value_expression")}
		if !p.PlaceholderExpression && !p.InitialValueExpression {
			continue
		}
		if name, ok := e.Identifiers["name"].(string); ok {
			p.Name = name
		}
		out[p.Name] = p
	}
	return out
}

// events collects what PromptValue hands to Options.Event.
type events []expression.Event

func (ev *events) opts() *expression.Options {
	return &expression.Options{Event: func(_ context.Context, e expression.Event) { *ev = append(*ev, e) }}
}

// TestShippedPrompts evaluates every prompt expression of the shipped
// blueprints (the default user-settings flow's initial values) against
// fixtures, with the values authentik shows: the user's fields, ” when
// there is no user (user is then an undefined name, which the try
// catches), and the user's input from prompt_data, never evaluated.
func TestShippedPrompts(t *testing.T) {
	admin := map[string]any{
		"pk": 1, "username": "akadmin", "name": "authentik Default Admin", "email": "root@localhost",
		"attributes": map[string]any{"settings": map[string]any{"locale": "de"}},
	}
	plain := map[string]any{"pk": 2, "username": "jane", "name": "", "email": "jane@example.com", "attributes": map[string]any{}}
	odd := map[string]any{"pk": 3, "username": "odd", "attributes": map[string]any{"settings": "not a dict"}}
	type fixture struct {
		user map[string]any
		pc   map[string]any
		want string
	}
	cases := map[string][]fixture{
		"default-user-settings-field-username": {
			{admin, nil, "akadmin"}, {plain, nil, "jane"}, {nil, nil, ""},
			{admin, map[string]any{"username": "typed"}, "typed"},
		},
		"default-user-settings-field-name": {
			{admin, nil, "authentik Default Admin"}, {plain, nil, ""}, {nil, nil, ""},
			// odd has no name: an AttributeError, which the try catches.
			{odd, nil, ""},
		},
		"default-user-settings-field-email": {
			{admin, nil, "root@localhost"}, {plain, nil, "jane@example.com"}, {nil, nil, ""}, {odd, nil, ""},
			{plain, map[string]any{"email": "new@example.com"}, "new@example.com"},
		},
		"default-user-settings-field-locale": {
			{admin, nil, "de"}, {plain, nil, ""}, {nil, nil, ""}, {odd, nil, ""},
			{admin, map[string]any{"attributes.settings.locale": "fr"}, "fr"},
		},
	}
	prompts := shippedPrompts(t)
	if len(prompts) != len(cases) {
		t.Errorf("%d shipped prompt expressions, %d with fixtures", len(prompts), len(cases))
	}
	for name, p := range prompts {
		fixtures, ok := cases[name]
		if !ok {
			t.Errorf("prompt %s has no fixture", name)
			continue
		}
		if len(expression.CheckPrompt(p.InitialValue)) != 0 {
			t.Errorf("%s: %v", name, expression.CheckPrompt(p.InitialValue))
		}
		for i, f := range fixtures {
			var ev events
			got, err := expression.PromptValue(context.Background(), p, expression.PromptInitialValue,
				expression.PromptVars{User: f.user, PromptContext: f.pc}, ev.opts())
			if err != nil || got != f.want || len(ev) != 0 {
				t.Errorf("%s #%d: got %q, %v, events %v; want %q", name, i, got, err, ev, f.want)
			}
			// Their placeholders are not expressions: the text as is.
			ph, err := expression.PromptValue(context.Background(), p, expression.PromptPlaceholder,
				expression.PromptVars{User: f.user}, nil)
			if err != nil || ph != p.Placeholder || ph == "" {
				t.Errorf("%s placeholder: %q, %v; want %q", name, ph, err, p.Placeholder)
			}
		}
	}
}

func textPrompt(placeholder string, phExpr bool, initial string, ivExpr bool) stage.Prompt {
	return stage.Prompt{Name: "p", FieldKey: "text_prompt_expression", Label: "TEXT_LABEL", Type: "text",
		Placeholder: placeholder, PlaceholderExpression: phExpr, InitialValue: initial, InitialValueExpression: ivExpr}
}

func choicePrompt(typ stage.PromptType, placeholder string, phExpr bool, initial string, ivExpr bool) stage.Prompt {
	p := textPrompt(placeholder, phExpr, initial, ivExpr)
	p.FieldKey, p.Type = "fixed_choice_prompt_expression", typ
	return p
}

func value(t *testing.T, p stage.Prompt, f expression.PromptField, pc map[string]any) string {
	t.Helper()
	got, err := expression.PromptValue(context.Background(), p, f, expression.PromptVars{PromptContext: pc}, nil)
	if err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return got
}

func choices(t *testing.T, p stage.Prompt, pc map[string]any) []string {
	t.Helper()
	got, err := expression.PromptChoices(context.Background(), p, expression.PromptVars{PromptContext: pc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestPromptUpstream ports authentik's prompt tests
// (stages/prompt/tests.py, test_prompt_placeholder to
// test_prompt_placeholder_disabled).
func TestPromptUpstream(t *testing.T) {
	ph, iv := expression.PromptPlaceholder, expression.PromptInitialValue
	t.Run("placeholder", func(t *testing.T) {
		pc := map[string]any{"foo": "id1"}
		p := textPrompt("return prompt_context['foo']", true, "", false)
		if got := value(t, p, ph, pc); got != "id1" {
			t.Errorf("got %q", got)
		}
		// The placeholder does not take the value from the context.
		pc["text_prompt_expression"] = "id2"
		if got := value(t, p, ph, pc); got != "id1" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("initial value", func(t *testing.T) {
		pc := map[string]any{"foo": "id1"}
		p := textPrompt("", false, "return prompt_context['foo']", true)
		if got := value(t, p, iv, pc); got != "id1" {
			t.Errorf("got %q", got)
		}
		pc["text_prompt_expression"] = "id2"
		if got := value(t, p, iv, pc); got != "id2" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("no choices", func(t *testing.T) {
		p := choicePrompt("radio-button-group", "return []", true, "Invalid choice", false)
		if a, b, c := value(t, p, ph, nil), value(t, p, iv, nil), choices(t, p, nil); a != "" || b != "" || len(c) != 0 || c == nil {
			t.Errorf("got %q %q %#v", a, b, c)
		}
	})
	t.Run("single choice", func(t *testing.T) {
		pc := map[string]any{"foo": "id1"}
		for _, p := range []stage.Prompt{
			choicePrompt("dropdown", "id1", false, "id1", false),
			choicePrompt("dropdown", "return [prompt_context['foo']]", true, "return prompt_context['foo']", true),
		} {
			if a, b, c := value(t, p, ph, pc), value(t, p, iv, pc), choices(t, p, pc); a != "" || b != "id1" || !reflect.DeepEqual(c, []string{"id1"}) {
				t.Errorf("got %q %q %q", a, b, c)
			}
		}
	})
	t.Run("multiple choices", func(t *testing.T) {
		p := choicePrompt("radio-button-group", "return ['test', True, 42]", true, "", false)
		if a, b, c := value(t, p, ph, nil), value(t, p, iv, nil), choices(t, p, nil); a != "" || b != "test" || !reflect.DeepEqual(c, []string{"test", "True", "42"}) {
			t.Errorf("got %q %q %q", a, b, c)
		}
		p.InitialValue, p.InitialValueExpression = "return True", true
		if b := value(t, p, iv, nil); b != "True" {
			t.Errorf("got %q", b)
		}
	})
	t.Run("choices from context", func(t *testing.T) {
		pc := map[string]any{"fixed_choice_prompt_expression": "id3", "fixed_choice_prompt_expression__choices": []any{"test", 42, "id3"}}
		p := choicePrompt("radio-button-group", "", false, "", false)
		if a, b, c := value(t, p, ph, pc), value(t, p, iv, pc), choices(t, p, pc); a != "" || b != "id3" || !reflect.DeepEqual(c, []string{"test", "42", "id3"}) {
			t.Errorf("got %q %q %q", a, b, c)
		}
	})
	t.Run("initial value not a valid choice", func(t *testing.T) {
		p := choicePrompt("dropdown", "choice", false, "another_choice", false)
		if b, c := value(t, p, iv, nil), choices(t, p, nil); b != "choice" || !reflect.DeepEqual(c, []string{"choice"}) {
			t.Errorf("got %q %q", b, c)
		}
	})
	t.Run("no choices for other types", func(t *testing.T) {
		if c := choices(t, textPrompt("choice", false, "", false), nil); c != nil {
			t.Errorf("got %q", c)
		}
	})
	t.Run("placeholder error", func(t *testing.T) {
		if got := value(t, textPrompt("something invalid dunno", true, "", false), ph, nil); got != "something invalid dunno" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("placeholder disabled", func(t *testing.T) {
		p := textPrompt("return prompt_context['foo']", false, "", false)
		if got := value(t, p, ph, nil); got != p.Placeholder {
			t.Errorf("got %q", got)
		}
	})
	t.Run("preview", func(t *testing.T) {
		p := textPrompt(`return "Hello world"`, true, `return "Hello Hello world"`, true)
		vars := expression.PromptVars{DryRun: true}
		a, err1 := expression.PromptValue(context.Background(), p, ph, vars, nil)
		b, err2 := expression.PromptValue(context.Background(), p, iv, vars, nil)
		if a != "Hello world" || b != "Hello Hello world" || err1 != nil || err2 != nil {
			t.Errorf("got %q %v, %q %v", a, err1, b, err2)
		}
	})
	t.Run("preview invalid expression", func(t *testing.T) {
		var ev events
		o := ev.opts()
		_, err := expression.PromptValue(context.Background(), textPrompt("return [", true, "", false), ph, expression.PromptVars{DryRun: true}, o)
		var pe *expression.PromptError
		if !errors.As(err, &pe) || !errors.Is(err, expression.ErrCompile) || pe.Field != ph || len(ev) != 0 {
			t.Errorf("error %v, events %v; want a PromptError wrapping ErrCompile and no event", err, ev)
		}
	})
}

// TestPromptError: an expression that raises, does not compile, uses a
// name prompts do not have, or runs away gives the raw text of its
// field and a property_mapping_exception event with the expression and
// the error; in a dry run the error instead, and no event.
func TestPromptError(t *testing.T) {
	user := map[string]any{"username": "jane"}
	cases := []struct {
		name, src string
		lim       expression.Limits
		msg       string // in the event's message
		is        error  // wrapped by the dry run's error
	}{
		{"raises", "x = 1\nreturn user.nosuch", expression.Limits{}, "line 2: User has no .nosuch field or method", nil},
		{"missing key", "return prompt_context['nope']", expression.Limits{}, `line 1: key "nope" not in dict`, nil},
		{"syntax", "return [", expression.Limits{}, "line 1:", expression.ErrCompile},
		// Policies' parameters are undefined names in a prompt
		// (EXPRESSIONS.md §4, §5).
		{"ak_message", "ak_message('x')\nreturn 1", expression.Limits{}, "name 'ak_message' is not defined", expression.ErrCompile},
		{"context", "return context['x']", expression.Limits{}, "name 'context' is not defined", expression.ErrCompile},
		{"http_request", "return http_request.path", expression.Limits{}, "name 'http_request' is not defined", nil},
		{"runaway", "while True:\n    pass", expression.Limits{MaxSteps: 10_000}, "step limit", expression.ErrSteps},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []expression.PromptField{expression.PromptPlaceholder, expression.PromptInitialValue} {
				p := textPrompt(tt.src, true, tt.src, true)
				var ev events
				o := ev.opts()
				o.Limits = tt.lim
				got, err := expression.PromptValue(context.Background(), p, f, expression.PromptVars{User: user}, o)
				if err != nil || got != tt.src {
					t.Fatalf("%s: got %q, %v; want the raw text", f, got, err)
				}
				if len(ev) != 1 {
					t.Fatalf("%s: events %v, want one", f, ev)
				}
				e := ev[0]
				if e.Action != "property_mapping_exception" || e.App != "authentik.core.expression.evaluator" ||
					e.Context["expression"] != tt.src || !strings.Contains(e.Context["message"].(string), tt.msg) {
					t.Errorf("%s: event %+v, want message containing %q", f, e, tt.msg)
				}
				ev = nil
				_, err = expression.PromptValue(context.Background(), p, f, expression.PromptVars{User: user, DryRun: true}, o)
				var pe *expression.PromptError
				if !errors.As(err, &pe) || pe.Prompt != "p" || pe.Field != f || !strings.Contains(err.Error(), tt.msg) || len(ev) != 0 {
					t.Errorf("%s dry run: %v, events %v", f, err, ev)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("%s dry run: %v, want %v", f, err, tt.is)
				}
			}
		})
	}
}

// TestPromptValues: the result is Python's str() of the value, the
// parameters are authentik's, writes to prompt_context reach the plan's
// prompt_data, and a program is compiled once per kind and text.
func TestPromptValues(t *testing.T) {
	user := map[string]any{"pk": 7, "username": "jane", "attributes": map[string]any{"a": 1}}
	cases := []struct{ src, want string }{
		{"return None", "None"},
		{"pass", "None"},
		{"return True", "True"},
		{"return 42", "42"},
		{"return ['a', 'b']", "['a', 'b']"},
		{"return ('a',)", "('a',)"},
		{`return {'k': "it's"}`, `{'k': "it's"}`},
		{`return ['a\nb', 1, None, False]`, `['a\nb', 1, None, False]`},
		{"return user", "jane"},
		{"return user.pk", "7"},
		{"return user.attributes['a']", "1"},
		{"return request.user.username", "jane"},
		{"return request.obj.name + ' ' + request.obj.field_key", "p text_prompt_expression"},
		{"return request.http_request", "None"},
		{"return request.context['prompt_context']['in']", "x"},
		{"return regex_replace(prompt_context['in'], 'x', 'y')", "y"},
	}
	for _, tt := range cases {
		got, err := expression.PromptValue(context.Background(), textPrompt("", false, tt.src, true), expression.PromptInitialValue,
			expression.PromptVars{User: user, PromptContext: map[string]any{"in": "x"}, DryRun: true}, nil)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.src, got, err, tt.want)
		}
	}

	t.Run("no user", func(t *testing.T) {
		for src, want := range map[string]string{
			"return request.user.username":     "",
			"return request.user.pk":           "None",
			"return user.username":             "return user.username", // NameError: the raw text
			"if user:\n    return 1\nreturn 2": "2",
		} {
			got, err := expression.PromptValue(context.Background(), textPrompt("", false, src, true), expression.PromptInitialValue,
				expression.PromptVars{}, nil)
			if err != nil || got != want {
				t.Errorf("%s: got %q, %v; want %q", src, got, err, want)
			}
		}
	})

	t.Run("writes", func(t *testing.T) {
		pc := map[string]any{"in": "x"}
		src := "prompt_context['out'] = 'y'\nrequest.context['prompt_context']['n'] = 2\nreturn ''"
		if _, err := expression.PromptValue(context.Background(), textPrompt(src, true, "", false), expression.PromptPlaceholder,
			expression.PromptVars{PromptContext: pc}, nil); err != nil {
			t.Fatal(err)
		}
		if want := map[string]any{"in": "x", "out": "y", "n": int64(2)}; !reflect.DeepEqual(pc, want) {
			t.Errorf("prompt_data %v, want %v", pc, want)
		}
		// Nothing written: the values keep their Go types.
		pc = map[string]any{"i": 1, "l": []string{"a"}}
		if _, err := expression.PromptValue(context.Background(), textPrompt("return prompt_context['i']", true, "", false), expression.PromptPlaceholder,
			expression.PromptVars{PromptContext: pc}, nil); err != nil {
			t.Fatal(err)
		}
		if want := map[string]any{"i": 1, "l": []string{"a"}}; !reflect.DeepEqual(pc, want) {
			t.Errorf("prompt_data %#v, want %#v", pc, want)
		}
		// A write before an error is kept, as in authentik.
		src = "prompt_context['w'] = 1\nreturn prompt_context['nope']"
		if got, err := expression.PromptValue(context.Background(), textPrompt(src, true, "", false), expression.PromptPlaceholder,
			expression.PromptVars{PromptContext: pc}, nil); err != nil || got != src || pc["w"] != int64(1) {
			t.Errorf("got %q, %v, prompt_data %v", got, err, pc)
		}
	})

	t.Run("kinds", func(t *testing.T) {
		c := expression.NewCache(8)
		src := "return user.username"
		if _, err := c.Compile(src); !errors.Is(err, expression.ErrCompile) {
			t.Errorf("as a policy: %v, want ErrCompile (no user parameter)", err)
		}
		if len(expression.Check(src)) == 0 || len(expression.CheckPrompt(src)) != 0 {
			t.Errorf("Check %v, CheckPrompt %v", expression.Check(src), expression.CheckPrompt(src))
		}
		o := &expression.Options{Cache: c}
		for range 3 {
			got, err := expression.PromptValue(context.Background(), textPrompt("", false, src, true), expression.PromptInitialValue,
				expression.PromptVars{User: user}, o)
			if err != nil || got != "jane" {
				t.Fatalf("got %q, %v", got, err)
			}
		}
		if c.Len() != 2 {
			t.Errorf("cache holds %d programs, want 2 (one per kind)", c.Len())
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var ev events
		_, err := expression.PromptValue(ctx, textPrompt("return 1", true, "", false), expression.PromptPlaceholder, expression.PromptVars{}, ev.opts())
		if !errors.Is(err, context.Canceled) || len(ev) != 0 {
			t.Errorf("error %v, events %v; want context.Canceled and no event", err, ev)
		}
	})

	t.Run("unknown field", func(t *testing.T) {
		if _, err := expression.PromptValue(context.Background(), textPrompt("", false, "", false), "label", expression.PromptVars{}, nil); err == nil {
			t.Error("no error")
		}
	})
}

// FuzzPromptValue: a prompt expression of any text never panics and
// never hangs, and outside a dry run gives a value, its raw text with
// exactly one event when it fails.
func FuzzPromptValue(f *testing.F) {
	for _, src := range []string{
		"return user.username", "return prompt_context['x']", "while True:\n    pass", "return [", "pass",
		"prompt_context['y'] = [1, {'a': None}]\nreturn ('a',)", "return http_request", "ak_message(1)",
	} {
		f.Add(src)
	}
	for _, p := range shippedPrompts(f) {
		f.Add(p.InitialValue)
	}
	o := &expression.Options{Cache: expression.NewCache(16), Limits: expression.Limits{MaxSteps: 10000, MaxValues: 1000}}
	f.Fuzz(func(t *testing.T, src string) {
		var n int
		opts := *o
		opts.Event = func(context.Context, expression.Event) { n++ }
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		vars := expression.PromptVars{User: map[string]any{"username": "u"}, PromptContext: map[string]any{"x": "1"}}
		got, err := expression.PromptValue(ctx, textPrompt(src, true, "", false), expression.PromptPlaceholder, vars, &opts)
		if err != nil || n > 1 || n == 1 && got != src {
			t.Fatalf("got %q, %v, %d events", got, err, n)
		}
		vars.DryRun = true
		n = 0
		if _, err := expression.PromptValue(ctx, textPrompt(src, true, "", false), expression.PromptPlaceholder, vars, &opts); n != 0 {
			t.Fatalf("dry run: %v, %d events", err, n)
		}
	})
}

// A prompt stage's challenge shows each prompt's placeholder and initial
// value; a failing expression is shown as its text and reported.
func ExamplePromptValue() {
	p := stage.Prompt{Name: "default-user-settings-field-email", FieldKey: "email", Label: "Email", Type: "email",
		Placeholder: "Email", InitialValue: "try:\n    return user.email\nexcept:\n    return ''", InitialValueExpression: true}
	opts := &expression.Options{Event: func(_ context.Context, ev expression.Event) { fmt.Println("event:", ev.Action) }}
	vars := expression.PromptVars{
		User:          map[string]any{"username": "jane", "email": "jane@example.com"},
		PromptContext: map[string]any{},
	}
	for _, f := range []expression.PromptField{expression.PromptPlaceholder, expression.PromptInitialValue} {
		v, _ := expression.PromptValue(context.Background(), p, f, vars, opts)
		fmt.Printf("%s: %q\n", f, v)
	}
	p.InitialValue = "return user.phone"
	v, _ := expression.PromptValue(context.Background(), p, expression.PromptInitialValue, vars, opts)
	fmt.Printf("%q\n", v)
	// Output:
	// placeholder: "Email"
	// initial_value: "jane@example.com"
	// event: property_mapping_exception
	// "return user.phone"
}

// TestPromptPendingUser: with PromptVars.PendingUser and a directory,
// user and request.user are the directory's user, as request.user is
// for a policy, and the helpers read the same directory; without a
// directory only what PendingUser holds is known; the map form's
// methods fail.
func TestPromptPendingUser(t *testing.T) {
	f := newDirFixture(t)
	bob := plan.User{PK: f.bob.PK, Authenticated: true}
	value := func(src string, vars expression.PromptVars, opts *expression.Options) (string, error) {
		vars.DryRun = true
		return expression.PromptValue(context.Background(), textPrompt("", false, src, true), expression.PromptInitialValue, vars, opts)
	}
	for _, tt := range []struct{ src, want string }{
		{"return user", "bob"},
		{"return user.username + ' ' + user.name + ' ' + user.email", "bob Bob Bob@Example.com"},
		{"return request.user.username", "bob"},
		{"return user.pk == request.user.pk", "True"},
		{"return user.attributes['own']", "bob"},
		{"return user.group_attributes()['team'] + ' ' + user.group_attributes()['own']", "backend bob"},
		{"return user.group_attributes().get('goauthentik.io/user/can-change-email', True)", "False"},
		{"return [g.name for g in user.all_groups()]", "['eng-backend', 'eng']"},
		{"return ak_is_group_member(user, name='eng')", "True"},
		{"return ak_user_by(username='ann').email", "ann@example.com"},
		{"return user.is_superuser", "False"},
	} {
		// The directory of the vars (the caller's transaction's), else
		// Options.Directory.
		for name, run := range map[string]func() (string, error){
			"vars": func() (string, error) {
				return value(tt.src, expression.PromptVars{PendingUser: bob, Directory: f.dir}, nil)
			},
			"options": func() (string, error) {
				return value(tt.src, expression.PromptVars{PendingUser: bob}, &expression.Options{Directory: f.dir})
			},
		} {
			if got, err := run(); err != nil || got != tt.want {
				t.Errorf("%s (%s): %q, %v; want %q", tt.src, name, got, err, tt.want)
			}
		}
	}
	// The directory's facts win over the caller's.
	stale := plan.User{PK: f.akadmin.PK, Authenticated: true, Attributes: map[string]any{"own": "stale"}}
	if got, err := value("return [user.attributes['own'], user.is_superuser]", expression.PromptVars{PendingUser: stale, Directory: f.dir}, nil); err != nil || got != "['akadmin', True]" {
		t.Errorf("stale facts: %q, %v", got, err)
	}
	// Without a directory: what PendingUser holds, and ErrNoHost for the
	// rest.
	if got, err := value("return user.pk", expression.PromptVars{PendingUser: bob}, nil); err != nil || got != itoa(f.bob.PK) {
		t.Errorf("no directory, pk: %q, %v", got, err)
	}
	if _, err := value("return user.username", expression.PromptVars{PendingUser: bob}, nil); !errors.Is(err, expression.ErrNoHost) {
		t.Errorf("no directory, username: %v, want ErrNoHost", err)
	}
	// The map form (a pending_user the plan context holds) is its fields,
	// even with a directory; its methods fail.
	m := expression.PromptVars{User: map[string]any{"pk": f.bob.PK, "username": "from-map"}, PendingUser: bob, Directory: f.dir}
	if got, err := value("return user.username", m, nil); err != nil || got != "from-map" {
		t.Errorf("map: %q, %v", got, err)
	}
	if _, err := value("return user.group_attributes()", m, nil); !errors.Is(err, expression.ErrNotYet) {
		t.Errorf("map, group_attributes: %v, want ErrNotYet", err)
	}
}
