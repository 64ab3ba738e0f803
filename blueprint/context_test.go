package blueprint_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/store"
)

// denyMessage is the deny_message of the deny stage named name, and
// whether there is one.
func denyMessage(t *testing.T, s *store.Store, name string) (any, bool) {
	t.Helper()
	var msg any
	var found bool
	err := s.View(context.Background(), func(tx *store.Tx) error {
		pk, ok, err := tx.Find("authentik_stages_deny.denystage", map[string]any{"name": name})
		if err != nil || !ok {
			return err
		}
		v, err := tx.Get("authentik_stages_deny.denystage", pk)
		if err != nil {
			return err
		}
		msg, found = jsonMap(t, v)["deny_message"], true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return msg, found
}

// contextEvent is the import's "context failed" event, if any.
func contextEvent(res blueprint.Result) (blueprint.LogEvent, bool) {
	for _, l := range res.Logs {
		if l.Event == "context failed" {
			return l, true
		}
	}
	return blueprint.LogEvent{}, false
}

// A context value may be an !Env: unset it gives its default, set and
// allowed its value, and refused (set or not) it is an error that names
// the tag, the variable and the line, runs no entry and writes nothing.
func TestContextEnv(t *testing.T) {
	const doc = `version: 1
context:
  uri: !Env [AUTHFLOW_CTX_URI, null]
entries:
- model: authentik_stages_deny.denystage
  identifiers: {name: deny}
  attrs: {deny_message: !Format ["uri=%s", !Context uri]}
`
	allowed := blueprint.Options{EnvPrefixes: []string{"AUTHFLOW_CTX_"}}
	t.Run("unset", func(t *testing.T) {
		s := newStore(t)
		if res := apply(t, s, doc, allowed); !res.Success {
			t.Fatalf("%+v", res.Logs)
		}
		if msg, _ := denyMessage(t, s, "deny"); msg != "uri=None" {
			t.Errorf("deny_message = %v, want the default (None)", msg)
		}
	})
	t.Run("set and allowed", func(t *testing.T) {
		t.Setenv("AUTHFLOW_CTX_URI", "https://idp.example.com")
		s := newStore(t)
		if res := apply(t, s, doc, allowed); !res.Success {
			t.Fatalf("%+v", res.Logs)
		}
		if msg, _ := denyMessage(t, s, "deny"); msg != "uri=https://idp.example.com" {
			t.Errorf("deny_message = %v", msg)
		}
	})
	for name, opts := range map[string]blueprint.Options{
		"set, other prefix": {EnvPrefixes: []string{"SAFE_"}},
		"set, no prefix":    {},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("AUTHFLOW_CTX_URI", "https://idp.example.com")
			s := newStore(t)
			res, err := blueprint.Load(context.Background(), s, strings.NewReader(doc), opts)
			if !errors.Is(err, blueprint.ErrFailed) || res.Success {
				t.Fatalf("a refused !Env in the context: %v, %+v", err, res.Logs)
			}
			ev, ok := contextEvent(res)
			if !ok || ev.LogLevel != "error" || len(res.Logs) != 1 {
				t.Fatalf("logs = %+v, want one context event and no entry", res.Logs)
			}
			msg, _ := ev.Attributes["error"].(string)
			for _, want := range []string{"line 3", `!Env "AUTHFLOW_CTX_URI"`, "not allowed", "uri"} {
				if !strings.Contains(msg, want) || !strings.Contains(err.Error(), want) {
					t.Errorf("error %q (and %q) does not say %q", msg, err, want)
				}
			}
			if strings.Contains(msg+err.Error(), "idp.example.com") {
				t.Errorf("the refused variable's value is shown: %s", msg)
			}
			if ev.Attributes["key"] != "uri" {
				t.Errorf("key = %v", ev.Attributes["key"])
			}
			if n := count(t, s, "authentik_stages_deny.denystage"); n != 0 {
				t.Errorf("%d stages written", n)
			}
		})
	}
	t.Run("unset, not allowed", func(t *testing.T) {
		// The host refuses the name, whatever the environment holds.
		if res := apply(t, newStore(t), doc, blueprint.Options{}); res.Success {
			t.Fatalf("%+v", res.Logs)
		}
	})
}

// Tags in the context resolve before the entries, and a !Context inside
// the context sees the merged context, the caller's values included;
// entries are conditioned on the values.
func TestContextTags(t *testing.T) {
	const doc = `version: 1
context:
  env: !Env [AUTHFLOW_CTX_ENV, dev]
  name: !Format ["%s-deny", !Context env]
  enabled: !If [!Condition [OR, !Context on, !Context [force, false]], true, false]
  on: false
  refused: !Env SECRET_KEY
entries:
- model: authentik_stages_deny.denystage
  identifiers: {name: !Context name}
  attrs: {deny_message: !Format ["enabled=%s", !Context enabled]}
- model: authentik_stages_deny.denystage
  identifiers: {name: by-if}
  conditions: [!If [!Context enabled, true, false]]
- model: authentik_stages_deny.denystage
  identifiers: {name: by-context}
  conditions: [!Context on]
`
	// refused is the caller's, so its !Env is not read.
	base := map[string]any{"refused": "given"}
	for _, tt := range []struct {
		name    string
		ctx     map[string]any
		env     string
		stage   string
		message string
		applied bool
	}{
		{"defaults", nil, "", "dev-deny", "enabled=False", false},
		{"environment", nil, "prod", "prod-deny", "enabled=False", false},
		{"caller's env", map[string]any{"env": "test"}, "prod", "test-deny", "enabled=False", false},
		{"caller's on", map[string]any{"on": true}, "", "dev-deny", "enabled=True", true},
		{"caller's force", map[string]any{"force": 1}, "", "dev-deny", "enabled=True", false},
		{"caller's enabled", map[string]any{"enabled": "yes"}, "", "dev-deny", "enabled=yes", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AUTHFLOW_CTX_ENV", tt.env)
			ctx := map[string]any{}
			for k, v := range base {
				ctx[k] = v
			}
			for k, v := range tt.ctx {
				ctx[k] = v
			}
			s := newStore(t)
			res := apply(t, s, doc, blueprint.Options{Context: ctx, EnvPrefixes: []string{"AUTHFLOW_"}})
			if !res.Success {
				t.Fatalf("%+v", res.Logs)
			}
			if msg, ok := denyMessage(t, s, tt.stage); !ok || msg != tt.message {
				t.Errorf("stage %s: %v, %v; want %q (actions %v)", tt.stage, ok, msg, tt.message, actions(res))
			}
			_, byIf := denyMessage(t, s, "by-if")
			_, byCtx := denyMessage(t, s, "by-context")
			if enabled := tt.message != "enabled=False"; byIf != enabled || byCtx != tt.applied {
				t.Errorf("by-if applied %v, by-context applied %v; want %v, %v: %v", byIf, byCtx,
					enabled, tt.applied, actions(res))
			}
		})
	}
	// Without the caller's value the refused !Env is read, and fails.
	res := apply(t, newStore(t), doc, blueprint.Options{EnvPrefixes: []string{"AUTHFLOW_"}})
	ev, ok := contextEvent(res)
	if res.Success || !ok || !strings.Contains(ev.Attributes["error"].(string), `line 7: !Env "SECRET_KEY" is not allowed`) {
		t.Errorf("%+v", res.Logs)
	}
}

// The caller's context merges into the document's as authentik's does:
// mappings merge (the caller's values win, and the document's values the
// caller replaces are not resolved), lists append.
func TestContextMerge(t *testing.T) {
	const doc = `version: 1
context:
  m: {keep: !Format ["k-%s", 1], over: !Env NOT_ALLOWED, deep: {a: 1}}
  l: [x, !Format ["%s", y]]
  s: !Format ["%s", doc]
entries:
- model: authentik_stages_deny.denystage
  identifiers: {name: merged}
  attrs:
    deny_message: !Format ["%s %s %s %s %s %s %s", !AtIndex [!Context m, keep], !AtIndex [!Context m, over],
      !AtIndex [!AtIndex [!Context m, deep], a], !AtIndex [!AtIndex [!Context m, deep], b], !Context l, !Context s,
      !AtIndex [!Context m, new]]
`
	s := newStore(t)
	res := apply(t, s, doc, blueprint.Options{Context: map[string]any{
		"m": map[string]any{"over": "caller", "deep": map[string]any{"b": 2}, "new": "n"},
		"l": []any{"z"},
		"s": map[string]any{"a": 1}, // replaces a tag
	}})
	if !res.Success {
		t.Fatalf("%+v", res.Logs)
	}
	if msg, _ := denyMessage(t, s, "merged"); msg != `k-1 caller 1 2 ["x","y","z"] {"a":1} n` {
		t.Errorf("deny_message = %v", msg)
	}
}

// A context that refers to itself, a !KeyOf (no entry precedes the
// context), and a context that expands past the node budget are errors
// of the context, not crashes; a context that is no mapping is a parse
// error.
func TestContextErrors(t *testing.T) {
	for doc, want := range map[string]string{
		"context: {a: !Context a}":                             "line 2: !Context a: the context value refers to itself",
		"context: {a: !Context b, b: !Format [x, !Context a]}": "refers to itself",
		"context: {a: !KeyOf flow}":                            "failed to find entry",
		"context: {a: !Enumerate [[1,2,3,4,5,6,7,8,9,10], SEQ, !Enumerate [[1,2,3,4,5,6,7,8,9,10], SEQ, !Enumerate [[1,2,3,4,5,6,7,8,9,10], SEQ, !Enumerate [[1,2,3,4,5,6,7,8,9,10], SEQ, x]]]]}": "too many values",
	} {
		bp, err := blueprint.Parse(strings.NewReader("version: 1\n"+doc+"\nentries:"+flowEntry), blueprint.Limits{MaxNodes: 2000})
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		s := newStore(t)
		res, err := blueprint.Apply(context.Background(), s, bp, blueprint.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ev, ok := contextEvent(res)
		if res.Success || !ok || !strings.Contains(ev.Attributes["error"].(string), want) {
			t.Errorf("%s: %+v, want %q", doc, res.Logs, want)
		}
		if count(t, s, store.ModelFlow) != 0 {
			t.Errorf("%s: the flow was written", doc)
		}
	}
	// A value that reads one that failed names it, without repeating its
	// error.
	res := apply(t, newStore(t), "version: 1\ncontext: {a: !Env X, b: !Context a}\n", blueprint.Options{})
	if got := jsonOf(t, res.Logs); res.Success || len(res.Logs) != 2 ||
		!strings.Contains(got, `key a: line 2: !Env \"X\" is not allowed here`) ||
		!strings.Contains(got, "key b: line 2: !Context a: the context value failed (see its own error)") {
		t.Errorf("%s", got)
	}
	for doc, want := range map[string]string{
		"context: [a]":         "context must be a mapping",
		"context: !Env X":      "context must be a mapping",
		"context: {!Env X: 1}": "a context key must be plain text",
		"context: {[a]: 1}":    "a context key must be plain text",
		"context: &c {a: *c}":  "",
	} {
		_, err := blueprint.Parse(strings.NewReader("version: 1\n"+doc+"\n"), blueprint.Limits{})
		if !errors.Is(err, blueprint.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", doc, err, want)
		}
	}
	for _, doc := range []string{"context:", "context: null", "context: {}", "context: &c {a: 1}\nx: {b: *c}"} {
		if _, err := blueprint.Parse(strings.NewReader("version: 1\n"+doc+"\n"), blueprint.Limits{}); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
}

// A context value read through !Context costs what it cost to resolve,
// each time it is read: values that each read the one before ten times
// stand for 10^9 strings, which must fail on the node budget rather than
// be built or written.
func TestContextReadsCharged(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\ncontext:\n  c0: [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		r := fmt.Sprintf("!Context c%d", i-1)
		fmt.Fprintf(&b, "  c%d: [%s, %s, %s, %s, %s, %s, %s, %s, %s, %s]\n", i, r, r, r, r, r, r, r, r, r, r)
	}
	b.WriteString("entries:\n- model: authentik_stages_deny.denystage\n  identifiers: {name: big}\n" +
		"  attrs: {deny_message: !Format [\"%s\", !Context c9]}\n")
	bp, err := blueprint.Parse(strings.NewReader(b.String()), blueprint.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	res, err := blueprint.Apply(context.Background(), s, bp, blueprint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Success || !strings.Contains(jsonOf(t, res.Logs), "too many values") {
		t.Errorf("%s", jsonOf(t, res.Logs))
	}
	if _, found := denyMessage(t, s, "big"); found {
		t.Error("the stage was written")
	}
}

// A tag that fails on a value an !Env gave names the kind of value, never
// the value: an allowed variable may hold a secret, and the error is an
// event of the import's result (in the context or in an entry alike).
func TestTagErrorsHideValues(t *testing.T) {
	const secret = "hunter2-not-for-logs"
	t.Setenv("AUTHFLOW_SEC_X", secret)
	opts := blueprint.Options{EnvPrefixes: []string{"AUTHFLOW_SEC_"}}
	for _, tag := range []string{
		`!Format ["%d", !Env AUTHFLOW_SEC_X]`,
		`!Format ["%f", !Env AUTHFLOW_SEC_X]`,
		`!AtIndex [[!Env AUTHFLOW_SEC_X], 5]`,
		`!AtIndex [{k: !Env AUTHFLOW_SEC_X}, !Env AUTHFLOW_SEC_X]`,
		`!Enumerate [!Env AUTHFLOW_SEC_X, SEQ, x]`,
	} {
		for _, doc := range []string{
			"version: 1\ncontext: {a: " + tag + "}\n",
			"version: 1\nentries:\n- model: authentik_stages_deny.denystage\n  identifiers: {name: d}\n  attrs: {deny_message: " + tag + "}\n",
		} {
			res := apply(t, newStore(t), doc, opts)
			if got := jsonOf(t, res.Logs); res.Success || strings.Contains(got, secret) {
				t.Errorf("%s: %s", doc, got)
			}
		}
	}
}

// A !ParseJSON failure says where, never what: its text may be a secret
// (a user entry's password), and Go's JSON errors quote the character
// they stop at.
func TestParseJSONErrorQuotesNothing(t *testing.T) {
	s := newStore(t)
	for _, text := range []string{"Zq9-secret", "{Zq9", `"Zq9`} {
		doc := "version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {username: u}\n  attrs: {name: U, password: !ParseJSON '" + text + "'}\n"
		res := apply(t, s, doc, blueprint.Options{})
		got := jsonOf(t, res.Logs)
		if res.Success || !strings.Contains(got, "!ParseJSON: not JSON") || strings.Contains(got, "Zq9") || strings.Contains(got, "'Z'") {
			t.Errorf("%s: %s", text, got)
		}
	}
}
