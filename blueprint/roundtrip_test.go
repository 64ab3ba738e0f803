package blueprint_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// export is one flow's export.
type export struct{ slug, doc string }

// exportAll exports every flow of s, in the order the flows were created
// (pk order), so that a flow that another's stage refers to comes first.
func exportAll(t *testing.T, s *store.Store) []export {
	t.Helper()
	var out []export
	err := s.View(context.Background(), func(tx *store.Tx) error {
		p, err := tx.List(store.ModelFlow, store.Query{PageSize: store.MaxPageSize})
		if err != nil {
			return err
		}
		slices.SortFunc(p.Results, func(a, b any) int { x, y := a.(flow.View).PK, b.(flow.View).PK; return bytes.Compare(x[:], y[:]) })
		for _, r := range p.Results {
			slug := r.(flow.View).Slug
			b, err := blueprint.Export(tx, slug, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
			if err != nil {
				return fmt.Errorf("export %s: %w", slug, err)
			}
			out = append(out, export{slug, string(b)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func revision(t *testing.T, s *store.Store) int64 {
	t.Helper()
	var rev int64
	err := s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		rev, err = tx.Revision()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// importAll imports the exports one after another, each of which must
// succeed; unchanged asks that every entry of every one is unchanged and
// that the store's revision does not move.
func importAll(t *testing.T, s *store.Store, exports []export, unchanged bool) {
	t.Helper()
	before := revision(t, s)
	for _, ex := range exports {
		res := apply(t, s, ex.doc, blueprint.Options{})
		if !res.Success {
			t.Fatalf("import of %s's export: %+v", ex.slug, res.Logs)
		}
		if !unchanged {
			continue
		}
		for _, l := range res.Logs {
			if l.Attributes["action"] != blueprint.ActionUnchanged {
				t.Errorf("import of %s's export: %s %s %v", ex.slug, l.Event, l.Attributes["entry"], l.Attributes["changes"])
			}
		}
		if res.Changed {
			t.Errorf("import of %s's export changed the store", ex.slug)
		}
	}
	if after := revision(t, s); unchanged && after != before {
		t.Errorf("revision %d -> %d", before, after)
	}
}

// captchaKey is the shipped captcha stage's private key, a secret, which
// exports leave out (as authentik's do) and a create requires.
const captchaKey = "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe"

// withSecrets is exports with the captcha stage's private key put back,
// for a store that does not have it yet.
func withSecrets(exports []export) []export {
	re := regexp.MustCompile(`\n( +)public_key: `)
	out := make([]export, len(exports))
	for i, ex := range exports {
		out[i] = export{ex.slug, re.ReplaceAllString(ex.doc, "\n${1}private_key: "+captchaKey+"$0")}
	}
	return out
}

// Every flow the 21 shipped blueprints create, exported: the exports
// import one after another into an empty store; imported again, into
// that store or into the one they came from, every entry is unchanged
// and nothing is written; and the copy exports as the original does.
func TestExportsImportAgain(t *testing.T) {
	files, err := filepath.Glob("testdata/authentik/*/*.yaml")
	if err != nil || len(files) != 21 {
		t.Fatalf("%d shipped blueprints: %v", len(files), err)
	}
	src := newStore(t)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := blueprint.Load(context.Background(), src, strings.NewReader(string(raw)),
			blueprint.Options{Dir: "testdata/authentik"})
		if err != nil || !res.Success {
			t.Fatalf("%s: %v %v", f, err, res.Logs)
		}
	}
	exports := exportAll(t, src)
	if len(exports) < 15 {
		t.Fatalf("%d flows", len(exports))
	}
	dst := newStore(t)
	importAll(t, dst, withSecrets(exports), false)
	importAll(t, dst, exports, true)
	importAll(t, src, exports, true)
	if copies := exportAll(t, dst); !slices.Equal(copies, exports) {
		for i := range min(len(copies), len(exports)) {
			if copies[i] != exports[i] {
				t.Errorf("%s exports differently from its copy:\n%s\n---\n%s", exports[i].slug, exports[i].doc, copies[i].doc)
			}
		}
	}
}

// The invitation enrollment example's three flows share their prompts,
// prompt stages and login stage: their exports import one after another
// into one store, and again, unchanged.
func TestSharedExports(t *testing.T) {
	src := newStore(t)
	doc := `version: 1
entries:
- {model: authentik_core.group, id: eng, identifiers: {name: engineering-team}}
- {model: authentik_stages_prompt.prompt, id: user, identifiers: {name: field-username}, attrs: {field_key: username, label: Username, type: username, required: true, order: 0}}
- {model: authentik_stages_prompt.prompt, id: pass, identifiers: {name: field-password}, attrs: {field_key: password, label: Password, type: password, required: true, order: 1}}
- {model: authentik_stages_prompt.prompt, id: email, identifiers: {name: field-email}, attrs: {field_key: email, label: Email, type: email, required: true, order: 1}}
- {model: authentik_stages_prompt.promptstage, id: creds, identifiers: {name: prompt-credentials}, attrs: {fields: [!KeyOf user, !KeyOf pass]}}
- {model: authentik_stages_prompt.promptstage, id: details, identifiers: {name: prompt-details}, attrs: {fields: [!KeyOf email]}}
- {model: authentik_stages_user_login.userloginstage, id: login, identifiers: {name: user-login}}
`
	for _, who := range []string{"external", "internal", "engineering"} {
		doc += fmt.Sprintf(`- {model: authentik_flows.flow, id: flow-%[1]s, identifiers: {slug: enroll-%[1]s}, attrs: {name: Enroll %[1]s, title: Welcome, designation: enrollment, authentication: require_unauthenticated}}
- {model: authentik_stages_invitation.invitationstage, id: inv-%[1]s, identifiers: {name: invitation-%[1]s}}
- {model: authentik_stages_user_write.userwritestage, id: write-%[1]s, identifiers: {name: write-%[1]s}, attrs: {user_creation_mode: always_create, user_path_template: users/%[1]s, create_users_group: !If [%[2]v, !KeyOf eng, null]}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf flow-%[1]s, stage: !KeyOf inv-%[1]s, order: 5}, attrs: {evaluate_on_plan: true, re_evaluate_policies: true}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf flow-%[1]s, stage: !KeyOf creds, order: 10}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf flow-%[1]s, stage: !KeyOf details, order: 15}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf flow-%[1]s, stage: !KeyOf write-%[1]s, order: 20}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf flow-%[1]s, stage: !KeyOf login, order: 100}}
`, who, who == "engineering")
	}
	if res := apply(t, src, doc, blueprint.Options{}); !res.Success {
		t.Fatalf("setup: %+v", res.Logs)
	}
	exports := exportAll(t, src)
	if len(exports) != 3 {
		t.Fatalf("%d exports", len(exports))
	}
	// A flow's export does not hold the groups its stages name (nor does
	// authentik's): the group the engineering flow's user_write stage
	// names is there before the import, with its pk.
	var eng string
	_ = src.View(context.Background(), func(tx *store.Tx) error {
		g, err := store.Groups.Get(tx, store.By("name", "engineering-team"))
		if err != nil {
			t.Fatal(err)
		}
		eng = g.PK.String()
		return nil
	})
	dst := newStore(t)
	if res := apply(t, dst, "version: 1\nentries:\n- {model: authentik_core.group, identifiers: {pk: "+eng+", name: engineering-team}}\n", blueprint.Options{}); !res.Success {
		t.Fatalf("the group: %+v", res.Logs)
	}
	importAll(t, dst, exports, false)
	importAll(t, dst, exports, true)
	if n := count(t, dst, store.ModelPrompt); n != 3 {
		t.Errorf("%d prompts", n)
	}
}

// A pk identifier that is not a UUID, or that an object of another
// collection or another kind holds, fails its entry, named, and nothing
// is written.
func TestEntryPKRefused(t *testing.T) {
	s := newStore(t)
	res := apply(t, s, `version: 1
entries:
- model: authentik_flows.flow
  identifiers: {pk: 11111111-2222-4333-8444-555555555555, slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication}
- model: authentik_stages_deny.denystage
  identifiers: {pk: 11111111-2222-4333-8444-666666666666, name: deny}
- model: authentik_policies_dummy.dummypolicy
  identifiers: {pk: 11111111-2222-4333-8444-777777777777, name: gate}
`, blueprint.Options{})
	if !res.Success {
		t.Fatal(res.Logs)
	}
	rev := revision(t, s)
	for name, tt := range map[string]struct {
		entry string
		msg   string
	}{
		"not a uuid": {"- model: authentik_stages_dummy.dummystage\n  identifiers: {pk: not-a-uuid, name: d}\n", validate.InvalidUUID("not-a-uuid")},
		"a flow's":   {"- model: authentik_stages_dummy.dummystage\n  identifiers: {pk: 11111111-2222-4333-8444-555555555555, name: d}\n", validate.PKHeld("flow")},
		"another stage kind's": {"- model: authentik_stages_dummy.dummystage\n  identifiers: {pk: 11111111-2222-4333-8444-666666666666, name: d}\n",
			validate.PKHeld("stage")},
		"another policy kind's": {"- model: authentik_policies_expression.expressionpolicy\n  identifiers: {pk: 11111111-2222-4333-8444-777777777777, name: e}\n  attrs: {expression: return True}\n",
			validate.PKHeld("policy")},
		"a stage's, for a prompt": {"- model: authentik_stages_prompt.prompt\n  identifiers: {pk: 11111111-2222-4333-8444-666666666666, name: p}\n  attrs: {field_key: p, label: P, type: text}\n",
			validate.PKHeld("stage")},
	} {
		t.Run(name, func(t *testing.T) {
			// A valid entry first, so that "nothing is written" means
			// something.
			res := apply(t, s, "version: 1\nentries:\n- model: authentik_stages_deny.denystage\n  identifiers: {name: other}\n"+tt.entry, blueprint.Options{})
			if res.Success {
				t.Fatalf("accepted: %v", actions(res))
			}
			var failed []any
			for _, l := range res.Logs {
				if l.LogLevel == "error" {
					failed = append(failed, l.Attributes["entry"].(map[string]any)["index"])
					if got := jsonOf(t, l.Attributes["errors"]); got != jsonOf(t, map[string][]string{"pk": {tt.msg}}) {
						t.Errorf("errors = %s", got)
					}
				}
			}
			if jsonOf(t, failed) != "[1]" {
				t.Errorf("failed entries %v: %+v", failed, res.Logs)
			}
			if got := revision(t, s); got != rev || count(t, s, store.ModelStage) != 1 {
				t.Errorf("revision %d -> %d, %d stages", rev, got, count(t, s, store.ModelStage))
			}
		})
	}
}

// A value with surrounding whitespace (the default symbol_charset ends
// with a space) exports as it is, and its export imports back into its
// store as unchanged, although the API trims what it is sent.
func TestExportKeepsWhitespace(t *testing.T) {
	s := newStore(t)
	raw, err := os.ReadFile("testdata/authentik/default/flow-password-change.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if res := apply(t, s, string(raw), blueprint.Options{}); !res.Success {
		t.Fatal(res.Logs)
	}
	ex := exportAll(t, s)
	i := slices.IndexFunc(ex, func(e export) bool { return e.slug == "default-password-change" })
	if i < 0 {
		t.Fatal("no default-password-change")
	}
	doc := ex[i].doc
	bp := parse(t, doc)
	found := false
	for _, e := range bp.Entries {
		if e.Model == "authentik_policies_password.passwordpolicy" {
			found = strings.Contains(doc, "~ '")
		}
	}
	if !found {
		t.Errorf("symbol_charset lost its trailing space:\n%s", doc)
	}
	importAll(t, s, ex[i:i+1], true)
}

// An entry whose pk identifier is not its object's pk (the object was
// matched by its other identifiers) has that identifier rewritten to the
// object's pk in later entries, as authentik's importer does: an export
// imports into a store whose objects were made apart from it.
func TestPKRewrittenToMatch(t *testing.T) {
	s := newStore(t)
	if res := apply(t, s, "version: 1\nentries:\n- model: authentik_stages_deny.denystage\n  identifiers: {name: deny}\n", blueprint.Options{}); !res.Success {
		t.Fatal(res.Logs)
	}
	res := apply(t, s, `version: 1
entries:
- model: authentik_flows.flow
  identifiers: {pk: 11111111-2222-4333-8444-555555555555, slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication}
- model: authentik_stages_deny.denystage
  identifiers: {pk: 11111111-2222-4333-8444-666666666666, name: deny}
- model: authentik_flows.flowstagebinding
  identifiers: {pk: 11111111-2222-4333-8444-777777777777, target: 11111111-2222-4333-8444-555555555555, stage: 11111111-2222-4333-8444-666666666666, order: 10}
`, blueprint.Options{})
	if got := strings.Join(actions(res), ","); !res.Success || got != "create,unchanged,create" {
		t.Fatalf("%s %+v", got, res.Logs)
	}
	err := s.View(context.Background(), func(tx *store.Tx) error {
		deny, _, err := tx.Find(store.ModelStage, map[string]any{"name": "deny"})
		if err != nil {
			return err
		}
		b, err := tx.Get(store.ModelBinding, uuid.MustParse("11111111-2222-4333-8444-777777777777"))
		if err != nil {
			return err
		}
		if got := jsonMap(t, b)["stage"]; got != deny.String() {
			t.Errorf("binding's stage %v, want the matched stage %s", got, deny)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
