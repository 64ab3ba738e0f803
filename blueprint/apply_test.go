package blueprint_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/store"
)

func apply(t *testing.T, s *store.Store, doc string, opts blueprint.Options) blueprint.Result {
	t.Helper()
	res, err := blueprint.Apply(context.Background(), s, parse(t, doc), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func count(t *testing.T, s *store.Store, model string) int {
	t.Helper()
	var n int
	err := s.View(context.Background(), func(tx *store.Tx) error {
		p, err := tx.List(model, store.Query{})
		n = p.Pagination.Count
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const flowEntry = `
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication}
`

// Every tag resolves as authentik's does.
func TestTags(t *testing.T) {
	t.Setenv("AUTHFLOW_TEST_TITLE", "From env")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "msg.txt"), []byte("  from a file \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	res := apply(t, s, `version: 1
context: {suffix: doc, n: 3}
entries:`+flowEntry+`
- model: authentik_stages_deny.denystage
  identifiers: {name: !Format ["deny-%s-%d%%", !Context suffix, !Context n]}
  attrs:
    deny_message: !If [!Condition [AND, true, !Context n], !AtIndex [[a, !File msg.txt], 1], no]
- model: authentik_stages_dummy.dummystage
  identifiers: {name: !Env [AUTHFLOW_TEST_TITLE, x]}
  attrs: {throw_error: !Condition [XOR, true, false, false]}
- model: authentik_policies_expression.expressionpolicy
  identifiers: {name: !Context [missing, fallback]}
  attrs:
    expression: !Format ["return %s", !AtIndex [!AtIndex [!ParseJSON '{"a": [1, "True"]}', a], 1]]
- model: authentik_stages_prompt.prompt
  identifiers: {name: !Format ["p-%s", !Value 0]}
  conditions: [!Condition [OR, false, !Context n]]
  attrs:
    field_key: !Index 0
    label: !Find [authentik_flows.flow, [slug, login]]
    type: text
    placeholder: !Enumerate [[x, y], SEQ, !Format ["%s=%s", !Index 0, !Value 0]]
`, blueprint.Options{Context: map[string]any{"suffix": "ctx"}, EnvPrefixes: []string{"AUTHFLOW_"}, FileDir: dir})
	if res.Success {
		t.Fatalf("an !Index outside !Enumerate was accepted: %v", actions(res))
	}
	last := res.Logs[len(res.Logs)-1]
	if last.LogLevel != "error" || !strings.Contains(last.Attributes["error"].(string), "outside any !Enumerate") {
		t.Errorf("last event = %+v", last)
	}
	if count(t, s, store.ModelFlow) != 0 {
		t.Error("a failed import wrote its flow")
	}
	res = apply(t, s, `version: 1
context: {suffix: doc, n: 3}
entries:`+flowEntry+`
- model: authentik_stages_deny.denystage
  identifiers: {name: !Format ["deny-%s-%d%%", !Context suffix, !Context n]}
  attrs:
    deny_message: !If [!Condition [AND, true, !Context n], !AtIndex [[a, !File msg.txt], 1], no]
- model: authentik_stages_dummy.dummystage
  identifiers: {name: !Env [AUTHFLOW_TEST_TITLE, x]}
  attrs: {throw_error: !Condition [XOR, true, false, false]}
- model: authentik_policies_expression.expressionpolicy
  identifiers: {name: !Context [missing, fallback]}
  attrs:
    expression: !Format ["return %s", !AtIndex [!AtIndex [!ParseJSON '{"a": [1, "True"]}', a], 1]]
- model: authentik_stages_prompt.prompt
  identifiers: {name: prompt}
  conditions: [!Condition [OR, false, !Context n]]
  attrs:
    field_key: !AtIndex [!Enumerate [{k: v}, MAP, {!Index 0: !Value 0}], k]
    label: !Find [authentik_flows.flow, [slug, login]]
    type: text
    placeholder: !AtIndex [!Enumerate [[x, y], SEQ, !Format ["%s=%s", !Index 0, !Value 0]], -1]
- model: authentik_stages_deny.denystage
  identifiers: {name: skipped}
  conditions: [!If [false]]
`, blueprint.Options{Context: map[string]any{"suffix": "ctx"}, EnvPrefixes: []string{"AUTHFLOW_"}, FileDir: dir})
	if got := strings.Join(actions(res), ","); !strings.HasSuffix(got, "skipped") || !res.Success {
		t.Fatalf("actions = %s; logs %+v", got, res.Logs)
	}
	_ = s.View(context.Background(), func(tx *store.Tx) error {
		for model, want := range map[string]map[string]any{
			"authentik_stages_deny.denystage":                {"name": "deny-ctx-3%", "deny_message": "from a file"},
			"authentik_stages_dummy.dummystage":              {"name": "From env", "throw_error": true},
			"authentik_policies_expression.expressionpolicy": {"name": "fallback", "expression": "return True"},
			"authentik_stages_prompt.prompt":                 {"name": "prompt", "field_key": "v", "placeholder": "1=y"},
		} {
			pk, ok, err := tx.Find(model, map[string]any{"name": want["name"]})
			if err != nil || !ok {
				t.Errorf("%s %v: %v, %v", model, want, ok, err)
				continue
			}
			v, _ := tx.Get(model, pk)
			got := jsonMap(t, v)
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s.%s = %v, want %v", model, k, got[k], w)
				}
			}
		}
		return nil
	})
}

// A field error of one entry fails the document, reported with the
// entry and its field, together with every other error; nothing is
// written, and a dry run reports without writing either.
func TestErrorsSayWhere(t *testing.T) {
	s := newStore(t)
	doc := `version: 1
entries:` + flowEntry + `
- model: authentik_stages_deny.denystage
  identifiers: {name: ""}
- model: authentik_stages_nope.nopestage
  identifiers: {name: x}
- model: authentik_flows.stage
  identifiers: {name: x}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf missing, order: 0}
`
	res := apply(t, s, doc, blueprint.Options{})
	var errs []string
	for _, l := range res.Logs {
		if l.LogLevel == "error" {
			e := l.Attributes["entry"].(map[string]any)
			msg, _ := l.Attributes["error"].(string)
			if ve, ok := l.Attributes["errors"]; ok {
				msg = jsonOf(t, ve)
			}
			errs = append(errs, jsonOf(t, e["index"])+" "+msg)
		}
	}
	want := []string{
		`1 {"name":["This field may not be blank."]}`,
		`2 model authentik_stages_nope.nopestage is not one authflow holds, and no handler is registered for it`,
		`3 model authentik_flows.stage is not allowed in a blueprint: name its kind`,
		"4 identifiers: KeyOf: failed to find entry with `id` of `missing` and a model instance",
	}
	if res.Success || strings.Join(errs, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
	}
	if count(t, s, store.ModelFlow) != 0 {
		t.Error("a failed import wrote")
	}
	res = apply(t, s, "version: 1\nentries:"+flowEntry, blueprint.Options{DryRun: true})
	if !res.Success || !res.Changed || count(t, s, store.ModelFlow) != 0 {
		t.Errorf("dry run: %v, wrote %d flows", actions(res), count(t, s, store.ModelFlow))
	}
}

// States, updates with their changes, unknown attrs (warning, or strict
// error), and a pk identifier that later entries refer to.
func TestStatesAndChanges(t *testing.T) {
	s := newStore(t)
	doc := `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {pk: 11111111-2222-4333-8444-555555555555, slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication, frobnicate: 1}
- model: authentik_stages_deny.denystage
  state: created
  identifiers: {name: deny}
- model: authentik_flows.flowstagebinding
  identifiers: {target: 11111111-2222-4333-8444-555555555555, stage: !Find [authentik_stages_deny.denystage, [name, deny]], order: 10}
`
	res := apply(t, s, doc, blueprint.Options{})
	if got := strings.Join(actions(res), ","); got != "warning:attribute ignored,create,create,create" {
		t.Fatalf("first import: %s %+v", got, res.Logs)
	}
	if res := apply(t, s, doc, blueprint.Options{Strict: true}); res.Success {
		t.Errorf("strict import accepted an unknown attr: %v", actions(res))
	}
	res = apply(t, s, strings.Replace(doc, "title: Welcome", "title: Hello", 1), blueprint.Options{})
	var changes any
	for _, l := range res.Logs {
		if l.Attributes["action"] == "update" {
			changes = l.Attributes["changes"]
		}
	}
	if jsonOf(t, changes) != `{"title":{"new":"Hello","old":"Welcome"}}` {
		t.Errorf("changes = %s (%v)", jsonOf(t, changes), actions(res))
	}
	res = apply(t, s, `version: 1
entries:
- model: authentik_stages_deny.denystage
  state: must_created
  identifiers: {name: deny}
`, blueprint.Options{})
	if res.Success {
		t.Error("must_created accepted an existing object")
	}
	res = apply(t, s, `version: 1
entries:
- model: authentik_stages_deny.denystage
  state: absent
  identifiers: {name: deny}
- model: authentik_stages_deny.denystage
  state: absent
  identifiers: {name: never-was}
`, blueprint.Options{})
	if got := strings.Join(actions(res), ","); got != "delete,unchanged" || count(t, s, store.ModelBinding) != 0 {
		t.Errorf("absent: %s, %d bindings left", got, count(t, s, store.ModelBinding))
	}
}

// Untrusted documents are bounded: size, depth, alias expansion and
// entries; !Env and !File are refused unless allowed, and !File stays in
// its directory.
func TestLimits(t *testing.T) {
	bomb := "version: 1\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := range 8 {
		name := string(rune('b' + i))
		bomb += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = name
	}
	for name, tt := range map[string]struct {
		doc    string
		limits blueprint.Limits
	}{
		"size":    {"version: 1\n# " + strings.Repeat("x", 100), blueprint.Limits{MaxBytes: 50}},
		"depth":   {"version: 1\nx: " + strings.Repeat("[", 100) + strings.Repeat("]", 100), blueprint.Limits{}},
		"aliases": {bomb, blueprint.Limits{}},
		"entries": {"version: 1\nentries:\n" + strings.Repeat("- model: authentik_flows.flow\n", 11), blueprint.Limits{MaxEntries: 10}},
	} {
		_, err := blueprint.Parse(strings.NewReader(tt.doc), tt.limits)
		if !errors.Is(err, blueprint.ErrLimit) || !errors.Is(err, blueprint.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, doc := range []string{"", "version: 2\n", "[1]", "version: 1\nentries: [{state: present}]", "version: 1\nentries: [{model: x, state: gone}]"} {
		if _, err := blueprint.Parse(strings.NewReader(doc), blueprint.Limits{}); !errors.Is(err, blueprint.ErrInvalid) {
			t.Errorf("Parse(%q) = %v", doc, err)
		}
	}
	s := newStore(t)
	dir := t.TempDir()
	for doc, want := range map[string]string{
		"!Env HOME":                        `!Env "HOME" is not allowed here`,
		"!File /etc/passwd":                "!File is not allowed here",
		"!Env [AUTHFLOW_X, d]":             `!Env "AUTHFLOW_X" is not allowed here`,
		"!Format ['%s %s', a]":             "not enough arguments",
		"!Condition [MAYBE, true]":         "MAYBE",
		"!Enumerate [[1], LOOP, x]":        "SEQ or MAP",
		"!AtIndex [[1], 5]":                "has no 5",
		"!ParseJSON '{'":                   "!ParseJSON",
		"!If [true, a]":                    "!If takes",
		"!Unknown x":                       "unknown tag",
		"!KeyOf nothing":                   "failed to find entry",
		"!Find [authentik_nope.x, [a, b]]": "not one authflow holds",
	} {
		res := apply(t, s, "version: 1\nentries:\n- model: authentik_stages_deny.denystage\n  identifiers: {name: x}\n  attrs: {deny_message: "+doc+"}\n", blueprint.Options{EnvPrefixes: []string{"SAFE_"}})
		if res.Success || len(res.Logs) == 0 || !strings.Contains(fmt.Sprint(res.Logs[len(res.Logs)-1].Attributes), want) {
			t.Errorf("%s: %+v, want %q", doc, res.Logs, want)
		}
	}
	res := apply(t, s, "version: 1\nentries:\n- model: authentik_stages_deny.denystage\n  identifiers: {name: x}\n  attrs: {deny_message: !File ../outside}\n", blueprint.Options{FileDir: dir})
	if res.Success || !strings.Contains(jsonOf(t, res.Logs), "stay inside") {
		t.Errorf("!File outside its directory: %+v", res.Logs)
	}
}

// A metaapplyblueprint entry applies another blueprint from the
// directory, by path or by name, in the same transaction; a missing one
// is an error unless it is not required.
func TestMetaApply(t *testing.T) {
	dir := t.TempDir()
	other := `version: 1
metadata: {name: Other flow}
entries:
- model: authentik_flows.flow
  identifiers: {slug: other}
  attrs: {name: Other, title: Other, designation: recovery}
`
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "other.yaml"), []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "junk.yaml"), []byte("{{{"), 0o600); err != nil {
		t.Fatal(err)
	}
	meta := func(ids string, required bool) string {
		return fmt.Sprintf("version: 1\nentries:\n- model: authentik_blueprints.metaapplyblueprint\n  attrs:\n    identifiers: %s\n    required: %v\n", ids, required)
	}
	for _, ids := range []string{"{name: Other flow}", "{path: sub/other.yaml}"} {
		s := newStore(t)
		res := apply(t, s, meta(ids, true), blueprint.Options{Dir: dir})
		if !res.Success || count(t, s, store.ModelFlow) != 1 {
			t.Errorf("%s: %v, %d flows", ids, actions(res), count(t, s, store.ModelFlow))
		}
	}
	s := newStore(t)
	if res := apply(t, s, meta("{name: Nowhere}", true), blueprint.Options{Dir: dir}); res.Success {
		t.Errorf("a required missing blueprint: %v", actions(res))
	}
	if res := apply(t, s, meta("{path: ../x.yaml}", true), blueprint.Options{Dir: dir}); res.Success || !strings.Contains(fmt.Sprint(res.Logs), "stay inside") {
		t.Errorf("a path outside the directory: %+v", res.Logs)
	}
	res := apply(t, s, meta("{name: Nowhere}", false)+"- model: authentik_stages_deny.denystage\n  identifiers: {name: d}\n", blueprint.Options{Dir: dir})
	if got := strings.Join(actions(res), ","); !res.Success || got != "skipped,create" {
		t.Errorf("not required: %s", got)
	}
	// A blueprint that applies itself ends at the depth bound.
	self := "version: 1\nmetadata: {name: Self}\nentries:\n- model: authentik_blueprints.metaapplyblueprint\n  attrs: {identifiers: {name: Self}}\n"
	if err := os.WriteFile(filepath.Join(dir, "self.yaml"), []byte(self), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := apply(t, s, self, blueprint.Options{Dir: dir}); res.Success || !strings.Contains(fmt.Sprint(res.Logs), "more than 8 deep") {
		t.Errorf("a cycle: %+v", res.Logs[len(res.Logs)-1])
	}
}

// A group entry creates a real group, which !KeyOf resolves to its pk; a
// registered handler takes the entries of a model authflow does not hold.
func TestGroupEntryAndHandler(t *testing.T) {
	doc := `version: 1
entries:
- model: authentik_core.group
  id: group
  identifiers: {name: Enrolled users}
- model: authentik_stages_user_write.userwritestage
  identifiers: {name: write}
  attrs: {create_users_group: !KeyOf group}
- model: authentik_brands.brand
  id: brand
  identifiers: {domain: example.com}
`
	s := newStore(t)
	if res := apply(t, s, doc, blueprint.Options{}); res.Success || !strings.Contains(fmt.Sprint(res.Logs), "authentik_brands.brand is not one authflow holds") {
		t.Errorf("without the handler: %+v", res.Logs)
	}
	brand := "7d3b3a43-6f1c-4b1a-9d2e-0c5f1f0e7a11"
	opts := blueprint.Options{Handlers: map[string]blueprint.Handler{"authentik_brands.brand": blueprint.HandlerFunc(
		func(*store.Tx, *blueprint.Entry, map[string]any, map[string]any) (string, string, error) {
			return brand, blueprint.ActionUnchanged, nil
		})}}
	res := apply(t, s, doc, opts)
	if got := strings.Join(actions(res), ","); !res.Success || got != "create,create,unchanged" {
		t.Fatalf("with it: %s %+v", got, res.Logs)
	}
	var group, stored string
	_ = s.View(context.Background(), func(tx *store.Tx) error {
		pk, _, _ := tx.Find("authentik_stages_user_write.userwritestage", map[string]any{"name": "write"})
		v, _ := tx.Get("authentik_stages_user_write.userwritestage", pk)
		group, _ = jsonMap(t, v)["create_users_group"].(string)
		g, err := store.Groups.Get(tx, store.By("name", "Enrolled users"))
		if err != nil {
			t.Error(err)
		}
		stored = g.PK.String()
		return nil
	})
	if group == "" || group != stored || res.Logs[0].Attributes["pk"] != stored {
		t.Errorf("create_users_group = %v, group pk %v, logged %v", group, stored, res.Logs[0].Attributes["pk"])
	}
	if again := apply(t, s, doc, opts); !again.Success || again.Changed {
		t.Errorf("re-import: %v", actions(again))
	}
}

// A re-import that changes nothing leaves the file byte for byte as it
// was: its transaction is rolled back.
func TestUnchangedWritesNothing(t *testing.T) {
	s := newStore(t)
	doc := "version: 1\nentries:" + flowEntry
	apply(t, s, doc, blueprint.Options{})
	backup := func() []byte {
		var b bytes.Buffer
		if _, err := s.Backup(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	before := backup()
	if res := apply(t, s, doc, blueprint.Options{}); !res.Success || res.Changed {
		t.Fatalf("re-import: %v", actions(res))
	}
	if !bytes.Equal(before, backup()) {
		t.Error("an unchanged re-import wrote to the file")
	}
}

// A mapping identifier matches by containment, as PostgreSQL's @> does,
// and the identifiers are merged into the attrs (authentik's test_v1).
func TestDictIdentifiers(t *testing.T) {
	s := newStore(t)
	doc := `version: 1
entries:
- model: authentik_stages_invitation.invitation
  identifiers: {name: team, fixed_data: {group: {name: a}}}
  attrs: {fixed_data: {email: x@example.com}, single_use: true}
`
	res := apply(t, s, doc, blueprint.Options{})
	if got := strings.Join(actions(res), ","); got != "create" {
		t.Fatalf("first: %s %+v", got, res.Logs)
	}
	var fixed any
	_ = s.View(context.Background(), func(tx *store.Tx) error {
		pk, ok, err := tx.Find(store.ModelInvite, map[string]any{"fixed_data": map[string]any{"group": map[string]any{"name": "a"}}})
		if err != nil || !ok {
			t.Fatalf("Find by containment: %v %v", ok, err)
		}
		v, _ := tx.Get(store.ModelInvite, pk)
		fixed = jsonMap(t, v)["fixed_data"]
		if _, ok, _ := tx.Find(store.ModelInvite, map[string]any{"fixed_data": map[string]any{"group": map[string]any{"name": "b"}}}); ok {
			t.Error("a mapping that is not contained matched")
		}
		return nil
	})
	if jsonOf(t, fixed) != `{"email":"x@example.com","group":{"name":"a"}}` {
		t.Errorf("fixed_data = %s", jsonOf(t, fixed))
	}
	if res := apply(t, s, doc, blueprint.Options{}); strings.Join(actions(res), ",") != "unchanged" {
		t.Errorf("re-import: %v", actions(res))
	}
}

// Progress is told every ProgressEvery entries.
func TestProgress(t *testing.T) {
	var calls []string
	res := apply(t, newStore(t), generated(2400), blueprint.Options{Progress: func(done, total int) {
		calls = append(calls, fmt.Sprintf("%d/%d", done, total))
	}})
	if !res.Success || strings.Join(calls, ",") != "1000/2400,2000/2400" {
		t.Errorf("progress %v (success %v)", calls, res.Success)
	}
}
