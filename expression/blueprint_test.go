package expression_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
	"go.yaml.in/yaml/v3"
)

// shippedEntry is one entry of a shipped blueprint, its tags dropped.
type shippedEntry struct {
	Model       string         `yaml:"model"`
	Identifiers map[string]any `yaml:"identifiers"`
	Attrs       map[string]any `yaml:"attrs"`
}

// shippedEntries reads the entries of model in the shipped blueprints.
func shippedEntries(t testing.TB, model string) []shippedEntry {
	t.Helper()
	files, err := filepath.Glob("../blueprint/testdata/authentik/*/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no blueprints: %v", err)
	}
	var out []shippedEntry
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Entries []shippedEntry `yaml:"entries"`
		}
		var n yaml.Node
		if err := yaml.Unmarshal(b, &n); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		stripTags(&n)
		if err := n.Decode(&doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range doc.Entries {
			if e.Model == model {
				out = append(out, e)
			}
		}
	}
	return out
}

// shippedPolicies reads the expression policies of the shipped
// blueprints: name → expression.
func shippedPolicies(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range shippedEntries(t, "authentik_policies_expression.expressionpolicy") {
		out[e.Identifiers["name"].(string)] = e.Attrs["expression"].(string)
	}
	return out
}

// stripTags drops the blueprint tags (!KeyOf, !Find, ...), which the
// expressions do not use.
func stripTags(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode || n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		if len(n.Tag) > 1 && n.Tag[0] == '!' && n.Tag[1] != '!' {
			n.Tag, n.Kind, n.Value, n.Content = "!!str", yaml.ScalarNode, "tag", nil
		}
	}
	for _, c := range n.Content {
		stripTags(c)
	}
}

// TestShippedPolicies evaluates every expression policy of the shipped
// blueprints against fixtures, with authentik's results (EXPRESSIONS.md
// §7.2). Those that need the directory fail without one, naming it.
func TestShippedPolicies(t *testing.T) {
	type fixture struct {
		ctx     map[string]any
		user    plan.User
		passing bool
		after   map[string]any // the plan context afterwards; nil: unchanged
		http    *plan.HTTPRequest
		err     error // the error wrapped instead of a result
	}
	backend := map[string]any{"pk": 1.0, "backend": "authentik.core.auth.InbuiltBackend"}
	cases := map[string][]fixture{
		"default-authentication-flow-password-stage": {
			{ctx: map[string]any{}, passing: true},
			{ctx: map[string]any{"pending_user": map[string]any{"pk": 1.0}}, passing: true},
			{ctx: map[string]any{"pending_user": backend}, passing: false},
		},
		"default-source-authentication-if-sso": {
			{ctx: map[string]any{}, passing: false},
			{ctx: map[string]any{"is_sso": true}, passing: true},
		},
		"default-source-enrollment-if-sso": {
			{ctx: map[string]any{}, passing: false},
			{ctx: map[string]any{"is_sso": true}, passing: true},
		},
		"default-source-enrollment-if-username": {
			{ctx: map[string]any{}, passing: true},
			{ctx: map[string]any{"prompt_data": map[string]any{"username": "u"}}, passing: false},
			{ctx: map[string]any{"prompt_data": map[string]any{"email": "e"}}, passing: true},
		},
		"default-recovery-skip-if-restored": {
			{ctx: map[string]any{}, passing: true},
			{ctx: map[string]any{"is_restored": "token"}, passing: true},
			{ctx: map[string]any{"is_restored": nil}, passing: false},
		},
		"test-not-app-password": {
			{ctx: map[string]any{}, passing: true},
			{ctx: map[string]any{"auth_method": "password"}, passing: true},
			{ctx: map[string]any{"auth_method": "app_password"}, passing: false},
		},
		// Without a directory (with one: TestShippedUserSettingsAuthorization):
		// request.user.email needs one.
		"default-user-settings-authorization": {
			{ctx: map[string]any{"prompt_data": map[string]any{}}, user: plan.User{PK: 1, Authenticated: true}, http: &plan.HTTPRequest{}, err: expression.ErrNoHost},
		},
		"default-oobe-prefill-user":    {{ctx: map[string]any{}, err: expression.ErrNoHost}},
		"default-oobe-password-usable": {{ctx: map[string]any{}, err: expression.ErrNoHost}},
		// Without a host that applies writes (with one: TestInitialSetup).
		"default-oobe-flow-set-authentication": {{ctx: map[string]any{}, err: expression.ErrNoHost}},
	}
	policies := shippedPolicies(t)
	for name := range policies {
		if _, ok := cases[name]; !ok {
			t.Errorf("shipped expression policy %q has no fixtures", name)
		}
	}
	for name, fixtures := range cases {
		src, ok := policies[name]
		if !ok {
			t.Errorf("no shipped expression policy %q", name)
			continue
		}
		for i, f := range fixtures {
			before := clone(f.ctx)
			res, err := eval(t, src, plan.PolicyRequest{User: f.user, Context: f.ctx, HTTP: f.http})
			if f.err != nil {
				if !errors.Is(err, f.err) {
					t.Errorf("%s #%d: error %v, want %v", name, i, err, f.err)
				}
				continue
			}
			if err != nil || res.Passing != f.passing || len(res.Messages) != 0 {
				t.Errorf("%s #%d: %v %q %v, want %v", name, i, res.Passing, res.Messages, err, f.passing)
			}
			want := f.after
			if want == nil {
				want = before
			}
			if !reflect.DeepEqual(f.ctx, want) {
				t.Errorf("%s #%d: context %v, want %v", name, i, f.ctx, want)
			}
		}
	}
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if mm, ok := v.(map[string]any); ok {
			v = clone(mm)
		}
		out[k] = v
	}
	return out
}

// TestShippedCheck: every shipped policy compiles, the one that updates
// the initial-setup flow through Django's ORM included (orm.go).
func TestShippedCheck(t *testing.T) {
	for name, src := range shippedPolicies(t) {
		probs := expression.Check(src)
		if len(probs) != 0 {
			t.Errorf("%s: %+v", name, probs)
		}
	}
}
