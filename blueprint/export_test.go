package blueprint_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/store"
)

// A flow with a login stage and a binding exports as 3 entries in
// authentik's order and form, and the export re-imports without
// duplicating anything, into the same store and into an empty one.
func TestExport(t *testing.T) {
	s := newStore(t)
	res := apply(t, s, `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication}
- model: authentik_stages_user_login.userloginstage
  id: login
  identifiers: {name: login}
  attrs: {session_duration: "hours=1"}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf login, order: 10}
- model: authentik_policies_dummy.dummypolicy
  id: p
  identifiers: {name: gate}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf flow, policy: !KeyOf p, order: 0}
`, blueprint.Options{})
	if !res.Success {
		t.Fatal(actions(res))
	}
	var out []byte
	err := s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = blueprint.Export(tx, "login", time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	doc := string(out)
	bp := parse(t, doc)
	var models []string
	for _, e := range bp.Entries {
		models = append(models, e.Model)
	}
	want := "authentik_flows.flow,authentik_policies_dummy.dummypolicy,authentik_stages_user_login.userloginstage,authentik_flows.flowstagebinding,authentik_policies.policybinding"
	if strings.Join(models, ",") != want {
		t.Errorf("entries = %v", models)
	}
	for _, w := range []string{"name: authentik Export - 2026-12-02 10:00:00.000000+00:00", "blueprints.goauthentik.io/generated: \"true\"",
		"session_duration: hours=1", "state: present", "conditions: []", "permissions: []"} {
		if !strings.Contains(doc, w) {
			t.Errorf("export lacks %q:\n%s", w, doc)
		}
	}
	if strings.Contains(doc, "compatibility_mode") || strings.Contains(doc, "terminate_other_sessions") || strings.Contains(doc, "&") {
		t.Errorf("export holds default-valued attrs or anchors:\n%s", doc)
	}
	again := apply(t, s, doc, blueprint.Options{})
	if !again.Success || again.Changed {
		t.Errorf("re-import into the same store: %v", actions(again))
	}
	empty := newStore(t)
	res = apply(t, empty, doc, blueprint.Options{})
	if !res.Success || count(t, empty, store.ModelBinding) != 1 || count(t, empty, store.ModelPolicyBinding) != 1 {
		t.Fatalf("import into an empty store: %v", res.Logs)
	}
	// The 3-entry export of authentik's test: a flow, a login stage, a
	// binding.
	three := newStore(t)
	apply(t, three, strings.Join(strings.SplitAfter(`version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication}
- model: authentik_stages_user_login.userloginstage
  id: login
  identifiers: {name: login}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf login, order: 10}
`, "\n"), ""), blueprint.Options{})
	_ = three.View(context.Background(), func(tx *store.Tx) error {
		b, err := blueprint.Export(tx, "login", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(parse(t, string(b)).Entries); n != 3 {
			t.Errorf("%d entries", n)
		}
		if !bytes.HasPrefix(b, []byte("context: {}\n")) {
			t.Errorf("export starts %q", b[:20])
		}
		return nil
	})
}

// The portable export holds no pk and no secret; it imports on its own
// into an empty store (with its !Env variables set), and exporting that
// gives the same document but for metadata.name.
func TestExportPortable(t *testing.T) {
	src := newStore(t)
	setup := `version: 1
entries:
- model: authentik_flows.flow
  id: other
  identifiers: {slug: recovery}
  attrs: {name: Recovery, title: Recover, designation: recovery}
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication}
- model: authentik_stages_authenticator_duo.authenticatorduostage
  id: duo
  identifiers: {name: duo}
  attrs: {client_id: DI1, client_secret: s3cret-client, api_hostname: api.example.com, admin_secret_key: s3cret-admin, configure_flow: !KeyOf other}
- model: authentik_stages_prompt.prompt
  id: p
  identifiers: {name: username}
  attrs: {field_key: username, label: Username, type: username}
- model: authentik_policies_password.passwordpolicy
  id: strong
  identifiers: {name: strong}
- model: authentik_stages_prompt.promptstage
  id: ask
  identifiers: {name: ask}
  attrs: {fields: [!KeyOf p], validation_policies: [!KeyOf strong]}
- model: authentik_flows.flowstagebinding
  id: b1
  identifiers: {target: !KeyOf flow, stage: !KeyOf ask, order: 10}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf duo, order: 20}
- model: authentik_policies_expression.expressionpolicy
  id: gate
  identifiers: {name: gate}
  attrs: {expression: return True}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf b1, policy: !KeyOf gate, order: 0}
`
	if res := apply(t, src, setup, blueprint.Options{}); !res.Success {
		t.Fatalf("setup: %+v", res.Logs)
	}
	export := func(s *store.Store) string {
		var out []byte
		err := s.View(context.Background(), func(tx *store.Tx) error {
			var err error
			out, err = blueprint.ExportPortable(tx, "login", time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	first := export(src)
	for _, bad := range []string{"s3cret", "pk:"} {
		if strings.Contains(first, bad) {
			t.Errorf("portable export holds %q:\n%s", bad, first)
		}
	}
	_ = src.View(context.Background(), func(tx *store.Tx) error {
		for _, model := range []string{store.ModelFlow, store.ModelStage, store.ModelBinding, store.ModelPrompt, store.ModelPolicy, store.ModelPolicyBinding} {
			p, _ := tx.List(model, store.Query{})
			for _, r := range p.Results {
				if pk := jsonMap(t, r)["pk"]; pk != nil && strings.Contains(first, fmt.Sprint(pk)) {
					t.Errorf("portable export holds the pk of a %s", model)
				}
			}
		}
		return nil
	})
	for _, w := range []string{"client_secret: !Env AUTHFLOW_STAGE_DUO_CLIENT_SECRET", "configure_flow: !Find [authentik_flows.flow, [slug, recovery]]", "target: !KeyOf binding-stage-ask-10"} {
		if !strings.Contains(first, w) {
			t.Errorf("portable export lacks %q:\n%s", w, first)
		}
	}
	t.Setenv("AUTHFLOW_STAGE_DUO_CLIENT_SECRET", "s3cret-client")
	t.Setenv("AUTHFLOW_STAGE_DUO_ADMIN_SECRET_KEY", "s3cret-admin")
	dst := newStore(t)
	apply(t, dst, "version: 1\nentries:\n- model: authentik_flows.flow\n  identifiers: {slug: recovery}\n  attrs: {name: Recovery, title: Recover, designation: recovery}\n", blueprint.Options{})
	res := apply(t, dst, first, blueprint.Options{EnvPrefixes: []string{"AUTHFLOW_"}})
	if !res.Success {
		t.Fatalf("import into an empty store: %+v", res.Logs)
	}
	if second := export(dst); second != first {
		t.Errorf("export → import → export differs:\n%s\n---\n%s", first, second)
	}
	if res := apply(t, dst, first, blueprint.Options{EnvPrefixes: []string{"AUTHFLOW_"}}); !res.Success || res.Changed {
		t.Errorf("re-import: %v", actions(res))
	}
}

// Re-importing a flow's export with its prompt stage duplicates no
// prompt (authentik's test_v1).
func TestExportPromptsNoDuplicate(t *testing.T) {
	s := newStore(t)
	apply(t, s, `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: enroll}
  attrs: {name: Enroll, title: Enroll, designation: enrollment}
- model: authentik_stages_prompt.prompt
  id: p
  identifiers: {name: username}
  attrs: {field_key: username, label: Username, type: username}
- model: authentik_stages_prompt.promptstage
  id: ask
  identifiers: {name: ask}
  attrs: {fields: [!KeyOf p]}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf ask, order: 10}
`, blueprint.Options{})
	var doc []byte
	_ = s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		doc, err = blueprint.Export(tx, "enroll", time.Now())
		return err
	})
	for range 2 {
		if res := apply(t, s, string(doc), blueprint.Options{}); !res.Success || res.Changed {
			t.Errorf("re-import: %v", actions(res))
		}
	}
	if n := count(t, s, store.ModelPrompt); n != 1 {
		t.Errorf("%d prompts", n)
	}
}

// A required field keeps its empty value in both exports, so that they
// import again: a GeoIP policy that checks ASNs only has countries [].
func TestExportKeepsRequiredEmpty(t *testing.T) {
	src := newStore(t)
	setup := `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication}
- model: authentik_policies_geoip.geoippolicy
  id: geo
  identifiers: {name: geo}
  attrs: {asns: [64512], countries: []}
- model: authentik_policies.policybinding
  identifiers: {target: !KeyOf flow, policy: !KeyOf geo, order: 0}
`
	if res := apply(t, src, setup, blueprint.Options{}); !res.Success {
		t.Fatalf("setup: %+v", res.Logs)
	}
	for name, export := range map[string]func(*store.Tx, string, time.Time) ([]byte, error){
		"seed": blueprint.Export, "portable": blueprint.ExportPortable,
	} {
		var out []byte
		err := src.View(context.Background(), func(tx *store.Tx) error {
			var err error
			out, err = export(tx, "login", time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "countries: []") {
			t.Errorf("%s export lacks the empty countries:\n%s", name, out)
		}
		dst := newStore(t)
		if res := apply(t, dst, string(out), blueprint.Options{}); !res.Success || count(t, dst, store.ModelPolicyBinding) != 1 {
			t.Errorf("%s export into an empty store: %+v", name, res.Logs)
		}
	}
}
