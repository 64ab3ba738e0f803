package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

// The cases of authentik 2025.6's stages/prompt/tests.py that run a
// stage (the model-level ones are package expression's).

// promptEntry is a prompt; attrs are more of its attributes.
func promptEntry(key, typ, placeholder, initial, attrs string) string {
	return fmt.Sprintf("- model: authentik_stages_prompt.prompt\n  id: p-%s\n  identifiers: {name: p-%s}\n"+
		"  attrs: {field_key: %s, label: %s_LABEL, type: %s, placeholder: %q, initial_value: %q%s}\n",
		key, key, key, strings.ToUpper(key), typ, placeholder, initial, attrs)
}

// promptStage is a prompt stage "prompt" with the prompts of keys, bound
// to flow f at order 0, then a dummy stage "after" at order 1 (so that
// the execution, and its context, stay after the prompt passes).
func promptStage(keys []string, stageAttrs string) string {
	var refs []string
	for _, k := range keys {
		refs = append(refs, "!KeyOf p-"+k)
	}
	return stageEntry("authentik_stages_prompt.promptstage", "f", "prompt", 0, "fields: ["+strings.Join(refs, ", ")+"]"+stageAttrs, "") +
		dummy("f", "after", 1, "")
}

// authentikPrompts are the prompts of authentik's setUp.
var authentikPrompts = promptEntry("username_prompt", "username", "USERNAME_PLACEHOLDER", "akuser", "") +
	promptEntry("text_prompt", "text", "TEXT_PLACEHOLDER", "some text", "") +
	promptEntry("text_area_prompt", "text_area", "TEXT_AREA_PLACEHOLDER", "some text", "") +
	promptEntry("email_prompt", "email", "EMAIL_PLACEHOLDER", "email@example.com", "") +
	promptEntry("password_prompt", "password", "PASSWORD_PLACEHOLDER", "supersecurepassword", "") +
	promptEntry("password2_prompt", "password", "PASSWORD_PLACEHOLDER", "supersecurepassword", "") +
	promptEntry("number_prompt", "number", "NUMBER_PLACEHOLDER", "42", "") +
	promptEntry("hidden_prompt", "hidden", "HIDDEN_PLACEHOLDER", "something idk", "") +
	promptEntry("static_prompt", "static", "static", "something idk", "") +
	promptEntry("radio_button_group", "radio-button-group", "test", "test", "") +
	promptEntry("dropdown", "dropdown", "", "", "")

var authentikStage = []string{"username_prompt", "text_prompt", "email_prompt", "password_prompt", "password2_prompt",
	"number_prompt", "hidden_prompt", "static_prompt", "radio_button_group", "dropdown"}

// authentikData is authentik's prompt_data answer.
func authentikData() map[string]any {
	return map[string]any{
		"component": ComponentPrompt, "username_prompt": "test-username", "text_prompt": "test-input",
		"text_area_prompt": "test-area-input", "email_prompt": "test@test.test", "password_prompt": "test",
		"password2_prompt": "test", "number_prompt": 3, "hidden_prompt": "something idk",
		"static_prompt": "something idk", "radio_button_group": "test", "dropdown": "",
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withExpressions evaluates expression policies, and seeds: dummy
// policies named "seed=<name>" run seeds[name] on the context and pass.
func withExpressions(seeds map[string]func(map[string]any)) harnessOpt {
	return func(o *Options) {
		inner := o.Plan.Evaluators[policy.ModelDummy]
		o.Plan.Evaluators[policy.ModelExpression] = expression.Evaluator(nil)
		o.Plan.Evaluators[policy.ModelDummy] = plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
			if name, ok := strings.CutPrefix(p.Name, "seed="); ok {
				seeds[name](req.Context)
				return plan.Result{Passing: true, Messages: []string{}}, nil
			}
			return inner.Evaluate(ctx, p, req)
		})
	}
}

// expressionPolicy is an expression policy entry, unbound.
func expressionPolicy(name, src string) string {
	return fmt.Sprintf("- model: authentik_policies_expression.expressionpolicy\n  id: %s\n  identifiers: {name: %s}\n  attrs: {expression: %q}\n", name, name, src)
}

// addUser stores a user.
func addUser(t *testing.T, s *store.Store, username string) directory.User {
	t.Helper()
	var out directory.User
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		u := directory.DefaultUser()
		u.Username, u.Name = username, username
		var err error
		out, err = store.Users.Create(tx, u, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fieldsOf indexes a prompt challenge's fields by key.
func fieldsOf(t *testing.T, r reply) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	fs, _ := r.body["fields"].([]any)
	for _, f := range fs {
		m := f.(map[string]any)
		out[m["field_key"].(string)] = m
	}
	return out
}

func responseErrors(r reply) string {
	b, _ := json.Marshal(r.body["response_errors"])
	return string(b)
}

// test_render: every prompt is in the challenge with its label and
// placeholder; choice prompts have choices and no placeholder.
func TestPromptRender(t *testing.T) {
	h := newHarness(t, flowDoc("f", "")+authentikPrompts+promptStage(authentikStage, ""))
	r := h.get("f", "")
	r.want(t, ComponentPrompt)
	fs := fieldsOf(t, r)
	if len(fs) != len(authentikStage) {
		t.Fatalf("%d fields, want %d: %s", len(fs), len(authentikStage), r.raw)
	}
	for _, k := range authentikStage {
		f := fs[k]
		if f == nil || f["label"] != strings.ToUpper(k)+"_LABEL" {
			t.Errorf("field %s: %v", k, f)
		}
	}
	if f := fs["username_prompt"]; f["placeholder"] != "USERNAME_PLACEHOLDER" || f["initial_value"] != "akuser" || f["choices"] != nil || f["required"] != true {
		t.Errorf("username_prompt %v", f)
	}
	if f := fs["radio_button_group"]; f["placeholder"] != "" || fmt.Sprint(f["choices"]) != "[test]" || f["initial_value"] != "test" {
		t.Errorf("radio_button_group %v", f)
	}
	// A dropdown whose placeholder is "" has one choice, "".
	if f := fs["dropdown"]; fmt.Sprint(f["choices"]) != "[]" || f["choices"] == nil {
		t.Errorf("dropdown %v", f)
	}
}

// test_valid_challenge_request and test_valid_challenge_with_policy: a
// valid answer passes the stage and its cleaned values are merged into
// prompt_data.
func TestPromptValidRequest(t *testing.T) {
	doc := flowDoc("f", "") + authentikPrompts +
		expressionPolicy("validate-form", "return request.context['prompt_data']['password_prompt'] == request.context['prompt_data']['password2_prompt']") +
		promptStage(authentikStage, ", validation_policies: [!KeyOf validate-form]")
	h := newHarness(t, doc, withExpressions(nil))
	h.get("f", "").want(t, ComponentPrompt)
	h.post("f", "", jsonOf(t, authentikData())).wantReload(t, h.url("f", ""))
	x := h.execution("f")
	if got := stageNames(x); !slices.Equal(got, []string{"after"}) {
		t.Fatalf("stages %v", got)
	}
	data := promptData(x.Context)
	want := authentikData()
	delete(want, "text_area_prompt") // not a prompt of the stage
	for k, v := range want {
		if fmt.Sprint(data[k]) != fmt.Sprint(v) {
			t.Errorf("prompt_data[%s] = %#v, want %#v", k, data[k], v)
		}
	}
	if _, ok := data["text_area_prompt"]; ok {
		t.Errorf("a key the stage has no prompt for is kept: %v", data)
	}
}

// test_invalid_challenge: a failing validation policy keeps the stage,
// with the policy's messages as non-field errors.
func TestPromptInvalidPolicy(t *testing.T) {
	doc := flowDoc("f", "") + authentikPrompts +
		expressionPolicy("validate-form", "ak_message('Not this one.')\nreturn False") +
		promptStage(authentikStage, ", validation_policies: [!KeyOf validate-form]")
	h := newHarness(t, doc, withExpressions(nil))
	h.get("f", "")
	r := h.post("f", "", jsonOf(t, authentikData()))
	r.want(t, ComponentPrompt)
	if got := responseErrors(r); got != `{"non_field_errors":[{"code":"invalid","string":"Not this one."}]}` {
		t.Errorf("response_errors %s", got)
	}
	if x := h.execution("f"); promptData(x.Context) != nil {
		t.Errorf("an invalid answer wrote prompt_data: %v", x.Context)
	}
}

// Passing validation policies' messages are the messages authentik
// shows the user: EventMessage events.
func TestPromptPolicyPassingMessages(t *testing.T) {
	doc := flowDoc("f", "") + authentikPrompts +
		expressionPolicy("validate-form", "ak_message('Looks fine.')\nreturn True") +
		expressionPolicy("second", "return request.context['prompt_data']['number_prompt'] == 3") +
		promptStage(authentikStage, ", validation_policies: [!KeyOf validate-form, !KeyOf second]")
	h := newHarness(t, doc, withExpressions(nil))
	h.get("f", "")
	h.post("f", "", jsonOf(t, authentikData())).wantReload(t, h.url("f", ""))
	h.mu.Lock()
	defer h.mu.Unlock()
	var msgs []string
	for _, ev := range h.events {
		if ev.Action == EventMessage {
			msgs = append(msgs, ev.Message)
		}
	}
	if !slices.Equal(msgs, []string{"Looks fine."}) {
		t.Errorf("messages %v (events %v)", msgs, h.events)
	}
}

// test_invalid_password: two password prompts must match.
func TestPromptInvalidPassword(t *testing.T) {
	h := newHarness(t, flowDoc("f", "")+authentikPrompts+promptStage(authentikStage, ""))
	h.get("f", "")
	d := authentikData()
	d["password2_prompt"] = "qwerqwerqr"
	r := h.post("f", "", jsonOf(t, d))
	r.want(t, ComponentPrompt)
	if got := responseErrors(r); got != `{"non_field_errors":[{"code":"invalid","string":"Passwords don't match."}]}` {
		t.Errorf("response_errors %s", got)
	}
	// The comparison is of the answers as sent: " test" is trimmed to
	// "test" but differs.
	d["password2_prompt"] = " test"
	if got := responseErrors(h.post("f", "", jsonOf(t, d))); !strings.Contains(got, MsgPasswordsMismatch) {
		t.Errorf("response_errors %s", got)
	}
}

// test_invalid_username: a username another user has is taken; the
// stored pending user's own is not.
func TestPromptInvalidUsername(t *testing.T) {
	var pending directory.User
	doc := flowDoc("f", "") + authentikPrompts + promptStage(authentikStage, "")
	h := newHarness(t, doc+policyOn("f", "seed=pending", true), withExpressions(map[string]func(map[string]any){
		"pending": func(c map[string]any) {
			if pending.PK != 0 {
				c[directory.ContextPendingUser] = directory.ContextUser(pending)
			}
		},
	}))
	other := addUser(t, h.s, "taken")
	h.get("f", "")
	d := authentikData()
	d["username_prompt"] = other.Username
	r := h.post("f", "", jsonOf(t, d))
	r.want(t, ComponentPrompt)
	if got := responseErrors(r); got != `{"username_prompt":[{"code":"invalid","string":"Username is already taken."}]}` {
		t.Errorf("response_errors %s", got)
	}
	// The pending user keeps its own username.
	pending = addUser(t, h.s, "mine")
	c := h.newClient()
	h.do(c, "GET", h.url("f", ""), "").want(t, ComponentPrompt)
	d["username_prompt"] = "mine"
	h.do(c, "POST", h.url("f", ""), jsonOf(t, d)).wantReload(t, h.url("f", ""))
}

// test_invalid_choice_field.
func TestPromptInvalidChoice(t *testing.T) {
	h := newHarness(t, flowDoc("f", "")+authentikPrompts+promptStage(authentikStage, ""))
	h.get("f", "")
	d := authentikData()
	d["radio_button_group"] = "some invalid choice"
	d["dropdown"] = "another invalid choice"
	r := h.post("f", "", jsonOf(t, d))
	want := `{"dropdown":[{"code":"invalid_choice","string":"\"another invalid choice\" is not a valid choice."}],` +
		`"radio_button_group":[{"code":"invalid_choice","string":"\"some invalid choice\" is not a valid choice."}]}`
	if got := responseErrors(r); got != want {
		t.Errorf("response_errors %s\nwant %s", got, want)
	}
}

// test_static_hidden_overwrite: hidden and static prompts ignore what is
// sent; a hidden one takes prompt_data's value as its initial value.
func TestPromptStaticHiddenOverwrite(t *testing.T) {
	doc := flowDoc("f", "") + authentikPrompts + promptStage(authentikStage, "") + policyOn("f", "seed=hidden", true)
	h := newHarness(t, doc, withExpressions(map[string]func(map[string]any){
		"hidden": func(c map[string]any) { c[ContextPromptData] = map[string]any{"hidden_prompt": "hidden"} },
	}))
	h.get("f", "")
	d := authentikData()
	d["hidden_prompt"], d["static_prompt"] = "foo", "foo"
	h.post("f", "", jsonOf(t, d)).wantReload(t, h.url("f", ""))
	data := promptData(h.execution("f").Context)
	if data["hidden_prompt"] != "hidden" || data["static_prompt"] != "something idk" {
		t.Errorf("prompt_data %v", data)
	}
}

// Placeholders and initial values are evaluated with the pending user
// (read from the directory) and the HTTP request; prompt_data wins over
// an initial value and is never evaluated.
func TestPromptExpressions(t *testing.T) {
	var pending directory.User
	doc := flowDoc("f", "") +
		promptEntry("who", "text", "return user.username + '/' + str(user.attributes.get('k'))", "return http_request.path", ", placeholder_expression: true, initial_value_expression: true") +
		promptEntry("kept", "text", "x", "return 'evaluated'", ", initial_value_expression: true") +
		promptEntry("pick", "dropdown", "return ['a', 'b', user.username]", "b", ", placeholder_expression: true") +
		promptStage([]string{"who", "kept", "pick"}, "") + policyOn("f", "seed=pending", true)
	h := newHarness(t, doc, withExpressions(map[string]func(map[string]any){
		"pending": func(c map[string]any) {
			c[directory.ContextPendingUser] = directory.ContextUser(pending)
			c[ContextPromptData] = map[string]any{"kept": "return 'no'"}
		},
	}))
	pending = addUser(t, h.s, "pend")
	// The directory's values win over the context's copy.
	err := h.s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := store.Users.Patch(tx, store.By("pk", fmt.Sprint(pending.PK)), []byte(`{"attributes":{"k":"v"}}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fs := fieldsOf(t, h.get("f", ""))
	if f := fs["who"]; f["placeholder"] != "pend/v" || f["initial_value"] != ExecutorPath+"f/" {
		t.Errorf("who %v", f)
	}
	if f := fs["kept"]; f["initial_value"] != "return 'no'" {
		t.Errorf("kept %v", f)
	}
	if f := fs["pick"]; fmt.Sprint(f["choices"]) != "[a b pend]" || f["initial_value"] != "b" || f["placeholder"] != "" {
		t.Errorf("pick %v", f)
	}
	// A choice the expression gives is accepted; another is not.
	r := h.post("f", "", `{"who":"w","kept":"k","pick":"c"}`)
	if got := responseErrors(r); got != `{"pick":[{"code":"invalid_choice","string":"\"c\" is not a valid choice."}]}` {
		t.Errorf("response_errors %s", got)
	}
	h.post("f", "", `{"who":"w","kept":"k","pick":"pend"}`).wantReload(t, h.url("f", ""))
}

// A prompt expression that fails shows its raw text and reports a
// property_mapping_exception event.
func TestPromptExpressionFailure(t *testing.T) {
	doc := flowDoc("f", "") + promptEntry("bad", "text", "return 1/0", "", ", placeholder_expression: true") + promptStage([]string{"bad"}, "")
	h := newHarness(t, doc)
	if f := fieldsOf(t, h.get("f", ""))["bad"]; f["placeholder"] != "return 1/0" {
		t.Errorf("bad %v", f)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) != 1 || h.events[0].Action != expression.EventPropertyMappingException {
		t.Errorf("events %+v", h.events)
	}
}

// The response is validated per prompt type, with DRF's messages.
func TestCleanPrompt(t *testing.T) {
	p := func(typ string, required bool, placeholder, initial string, choices ...string) evaluated {
		return evaluated{Prompt: stage.Prompt{FieldKey: "k", Type: stage.PromptType(typ), Required: required}, placeholder: placeholder, initial: initial, choices: choices}
	}
	const absent = "<absent>"
	for _, tt := range []struct {
		e    evaluated
		raw  string
		want any // the value, nil for none set, or []string of errors
	}{
		{p("text", true, "", ""), absent, []string{validate.MsgRequired}},
		{p("text", false, "", ""), absent, nil},
		{p("text", true, "", "init"), absent, "init"},
		{p("text", true, "", ""), `""`, []string{validate.MsgBlank}},
		{p("text", false, "", ""), `""`, ""},
		{p("text", true, "", ""), `"  a "`, "  a "},
		{p("text", true, "", ""), `null`, []string{validate.MsgNull}},
		{p("text", true, "", ""), `5`, "5"},
		{p("text", true, "", ""), `1.0`, "1.0"},
		{p("text", true, "", ""), `1e20`, "1e+20"},
		{p("text", true, "", ""), `true`, []string{validate.MsgNotString}},
		{p("text", true, "", ""), `["a"]`, []string{validate.MsgNotString}},
		{p("text", true, "", ""), `"a\u0000b"`, []string{validate.MsgNullCharacters}},
		{p("text_area", true, "", ""), `" x\n"`, " x\n"},
		{p("username", true, "", ""), `"  bob "`, "bob"},
		{p("username", true, "", ""), `"   "`, []string{validate.MsgBlank}},
		{p("password", true, "", ""), `" pw "`, "pw"},
		{p("email", true, "", ""), `"a@b.example"`, "a@b.example"},
		{p("email", true, "", ""), `"nope"`, []string{validate.MsgEmail}},
		{p("email", true, "", ""), `""`, []string{validate.MsgBlank}},
		{p("email", true, "", ""), `"a\u0000b@x.example"`, []string{validate.MsgNullCharacters, validate.MsgEmail}},
		{p("file", true, "", ""), `"data:a;base64,\u0000"`, []string{validate.MsgNullCharacters}},
		{p("email", false, "", ""), `""`, ""},
		{p("number", true, "", ""), `3`, int64(3)},
		{p("number", true, "", ""), `"12"`, int64(12)},
		{p("number", true, "", ""), `"12.000"`, int64(12)},
		{p("number", true, "", ""), `2.0`, int64(2)},
		{p("number", true, "", ""), `2.5`, []string{validate.MsgInteger}},
		{p("number", true, "", ""), `"1_000"`, int64(1000)},
		{p("number", true, "", ""), `""`, []string{validate.MsgInteger}},
		{p("number", true, "", ""), `true`, []string{validate.MsgInteger}},
		{p("number", true, "", ""), `"` + strings.Repeat("1", 1001) + `"`, []string{validate.MsgIntegerTooLarge}},
		{p("checkbox", true, "", ""), absent, nil},
		{p("checkbox", true, "", ""), `true`, true},
		{p("checkbox", true, "", ""), `"on"`, true},
		{p("checkbox", true, "", ""), `0`, false},
		{p("checkbox", true, "", ""), `"off"`, false},
		{p("checkbox", true, "", ""), `"maybe"`, []string{validate.MsgBoolean}},
		{p("checkbox", true, "", ""), `null`, []string{validate.MsgNull}},
		{p("date", true, "", ""), `"2024-02-29"`, "2024-02-29"},
		{p("date", true, "", ""), `"2024-2-9"`, "2024-02-09"},
		{p("date", true, "", ""), `"2023-02-29"`, []string{MsgDate}},
		{p("date", true, "", ""), `"2024-02-29T10:00"`, []string{MsgDate}},
		{p("date", true, "", ""), `20240229`, []string{MsgDate}},
		{p("date-time", true, "", ""), `"2024-02-29T10:00:00+01:00"`, "2024-02-29T09:00:00Z"},
		{p("date-time", true, "", ""), `"yesterday"`, []string{validate.MsgDateTime}},
		{p("file", true, "", ""), `"data:mine/type;base64,Zm9v"`, "data:mine/type;base64,Zm9v"},
		{p("file", true, "", ""), `"foo"`, []string{MsgInvalidScheme}},
		{p("file", true, "", ""), `"http://x/y"`, []string{MsgInvalidScheme}},
		{p("file", true, "", ""), `"data:foo/bar;foo,qwer"`, []string{MsgInvalidEncoding}},
		{p("file", true, "", ""), `"data:foo/bar;base64"`, []string{MsgInvalidEncoding}},
		{p("file", true, "", ""), `"data:a;base64,` + strings.Repeat("A", MaxFileLength) + `"`, []string{validate.MaxLength(MaxFileLength)}},
		{p("separator", true, "", ""), absent, nil},
		{p("separator", true, "", ""), `"x"`, "x"},
		{p("hidden", true, "ph", ""), `"sent"`, "ph"},
		{p("hidden", true, "ph", "init"), absent, "init"},
		{p("static", true, "ph", ""), absent, "ph"},
		{p("static", true, "ph", ""), `"sent"`, "sent"}, // then forced to "ph"
		{p("text_read_only", true, "", ""), absent, []string{validate.MsgRequired}},
		{p("ak-locale", true, "", ""), `""`, ""},
		{p("ak-locale", true, "", ""), `"de"`, "de"},
		{p("dropdown", true, "", "", "a", "b"), `"b"`, "b"},
		{p("dropdown", true, "", "", "a", "b"), `"c"`, []string{validate.InvalidChoice("c")}},
		{p("dropdown", true, "", "", "a", "b"), `""`, []string{validate.InvalidChoice("")}},
		{p("dropdown", true, "", "", "a", "b"), absent, []string{validate.MsgRequired}},
		{p("dropdown", true, "", "a", "a", "b"), absent, "a"},
		{p("radio-button-group", true, "", "", "1", "True"), `1`, "1"},
		{p("radio-button-group", true, "", "", "1", "True"), `true`, "True"},
		{p("radio-button-group", true, "", ""), `"x"`, []string{validate.InvalidChoice("x")}},
	} {
		name := string(tt.e.Type) + " " + tt.raw
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			var v any
			var set bool
			var msgs []string
			if tt.raw == absent {
				v, set, msgs = cleanPrompt(tt.e, nil, false)
			} else {
				v, set, msgs = cleanPrompt(tt.e, json.RawMessage(tt.raw), true)
			}
			switch w := tt.want.(type) {
			case []string:
				if !slices.Equal(msgs, w) || set {
					t.Errorf("got %v %v %v, want errors %v", v, set, msgs, w)
				}
			case nil:
				if set || msgs != nil {
					t.Errorf("got %v %v %v, want nothing", v, set, msgs)
				}
			default:
				if !set || msgs != nil || v != tt.want {
					t.Errorf("got %#v %v %v, want %#v", v, set, msgs, tt.want)
				}
			}
		})
	}
}

// test_inline_file_field, and a read-only prompt is forced to its
// initial value, or "".
func TestPromptReadOnlyForced(t *testing.T) {
	doc := flowDoc("f", "") + promptEntry("ro", "text_read_only", "", "fixed", "") +
		promptEntry("ro2", "text_area_read_only", "", "", ", required: false") +
		promptEntry("file", "file", "", "", "") +
		promptStage([]string{"ro", "ro2", "file"}, "")
	h := newHarness(t, doc)
	h.get("f", "")
	r := h.post("f", "", `{"ro":"changed","ro2":"changed","file":"data:foo/bar;foo,qwer"}`)
	if got := responseErrors(r); got != `{"file":[{"code":"invalid","string":"Invalid encoding"}]}` {
		t.Errorf("response_errors %s", got)
	}
	h.post("f", "", `{"ro":"changed","ro2":"changed","file":"data:mine/type;base64,Zm9vqwer"}`).wantReload(t, h.url("f", ""))
	data := promptData(h.execution("f").Context)
	if data["ro"] != "fixed" || data["ro2"] != "" || data["file"] != "data:mine/type;base64,Zm9vqwer" {
		t.Errorf("prompt_data %v", data)
	}
}

// A body that is not a JSON object is a non-field error.
func TestPromptNotObject(t *testing.T) {
	res, err := (promptHandler{}).Respond(context.Background(), nil, json.RawMessage(`[1]`))
	if err != nil || res.kind != resultRetry || !slices.Equal(res.errs.NonField, []string{validate.NotObject("list")}) {
		t.Fatalf("%+v %v", res, err)
	}
}
